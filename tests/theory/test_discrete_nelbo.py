"""Theory note 70: the MDLM NELBO of the true conditionals, by exact enumeration."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from sciddm.discrete import LogLinearSchedule, exact_nelbo, nelbo
from sciddm.reproduce import mean_ci

V, L = 3, 4  # symbols 0..2, [MASK] = 3


class TrueConditional:
    """p(x0^l | visible tokens of x_t) of a known joint p over {0,1,2}^4, by enumeration."""

    vocab_size = V + 1
    mask_id = V
    length = L
    time_conditioned = False

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.states = np.array(list(itertools.product(range(V), repeat=L)))
        self.p = rng.dirichlet(np.full(len(self.states), 0.7))

    def log_p(self, x):
        idx = int(np.ravel_multi_index(tuple(x), (V,) * L))
        return math.log(self.p[idx])

    def __call__(self, x_t, t=None):
        # every x_t in {0,1,2,[M]}^4 has its row of the precomputed table
        if not hasattr(self, "_table"):
            all_xt = np.array(list(itertools.product(range(V + 1), repeat=L)))
            self._table = torch.from_numpy(self._conditionals(all_xt))
        idx = torch.zeros(x_t.shape[0], dtype=torch.long)
        for pos in range(L):
            idx = idx * (V + 1) + x_t[:, pos]
        return self._table[idx]

    def _conditionals(self, x):
        out = np.full((x.shape[0], L, V + 1), -np.inf)
        for r, row in enumerate(x):
            vis = row != self.mask_id
            ok = np.all(self.states[:, vis] == row[vis], axis=1)
            w = self.p * ok
            for pos in range(L):
                marg = np.bincount(self.states[:, pos], weights=w, minlength=V)
                with np.errstate(divide="ignore"):  # visible positions: one-hot
                    out[r, pos, :V] = np.log(marg / w.sum())
        return out


@pytest.fixture(scope="module")
def toy():
    return TrueConditional(seed=3)


def test_true_conditional_nelbo_equals_nll(toy):
    # the bound (the default: the whole masking range, i.e. eps = 0) of the exact
    # conditionals is -log p(x0) exactly
    x0 = torch.from_numpy(toy.states[::7].copy())
    want = np.array([-toy.log_p(x) for x in x0.numpy()])
    np.testing.assert_allclose(exact_nelbo(toy, x0), want, rtol=1e-10, atol=1e-12)
    got = exact_nelbo(toy, x0, schedule=LogLinearSchedule(eps=0.0))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_truncated_training_objective_is_below_nll_by_the_dropped_term(toy):
    # MDLM's training objective (eps > 0) truncates the integral at m = 1 - eps: it falls
    # below -log p(x0), so it is not a bound; the missing term is the integral over
    # m in [1 - eps, 1], computed here independently by quadrature
    from scipy.integrate import quad

    x0 = torch.from_numpy(toy.states[::9].copy())
    got = exact_nelbo(toy, x0, schedule=LogLinearSchedule(eps=1e-3))
    want = np.array([-toy.log_p(x) for x in x0.numpy()])
    assert np.all(got < want) and np.all(want - got < 5e-3)
    masks = np.array(list(itertools.product([0, 1], repeat=L)), dtype=bool)
    k = masks.sum(1)
    for r, x in enumerate(x0.numpy()):
        xt = np.where(masks, toy.mask_id, x)
        lp = toy(torch.from_numpy(xt)).numpy()
        cost = np.array([-lp[s, np.arange(L), x][m].sum() for s, m in enumerate(masks)])
        tail, _ = quad(
            lambda m, c=cost: float(np.sum(m ** (k - 1.0) * (1 - m) ** (L - k) * c * (k > 0))),
            1 - 1e-3,
            1.0,
            epsabs=1e-15,
        )
        assert got[r] + tail == pytest.approx(want[r], rel=1e-9)


def test_bound_of_a_wrong_model_is_above_its_sampled_nll():
    # any model: the bound is >= -log of the law FHS samples (exact enumeration of that law)
    from sciddm.discrete.toys import exact_law, toy_problem

    prob = toy_problem(length=3, n_tokens=3, rng=4, consistent=False)
    model = prob.model()
    law = exact_law(prob, "fhs")
    seqs = torch.tensor(list(itertools.product(range(3), repeat=3)))
    bound = exact_nelbo(model, seqs)
    assert np.all(bound >= -np.log(law) - 1e-10)
    assert float(law @ bound) > float(-(law * np.log(law)).sum())  # strictly, a wrong model


def test_exact_nelbo_matches_time_quadrature(toy):
    # independent check of the closed-form time integral: quadrature over t of
    # (1/t) * E_{mask ~ Bernoulli(m_t)^L} [ sum_masked -log p(x0^l | x_t) ]
    sched = LogLinearSchedule(eps=1e-3)
    x0 = toy.states[40]
    masks = np.array(list(itertools.product([0, 1], repeat=L)), dtype=bool)
    xt = np.where(masks, toy.mask_id, x0)
    logp = toy(torch.from_numpy(xt)).numpy()
    cost = np.array([-logp[s, np.arange(L), x0][m].sum() for s, m in enumerate(masks)])
    k = masks.sum(1)

    def integrand(t):
        m = sched.mask_prob(t)
        return float(np.sum(m**k * (1 - m) ** (L - k) * cost)) / t

    want, _ = quad(integrand, 0.0, 1.0, epsabs=1e-13, epsrel=1e-12)
    got = exact_nelbo(toy, torch.from_numpy(x0[None].copy()), schedule=sched)[0]
    assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("antithetic", [False, True])
@pytest.mark.parametrize("sched", [None, LogLinearSchedule()], ids=["bound", "training"])
def test_monte_carlo_nelbo_is_unbiased(toy, antithetic, sched):
    # the estimator averages to the exact value (the bound, or the training objective);
    # 99.99 % interval (false-alarm rate 1e-4 per case) over 200 independent batch means
    x0 = torch.from_numpy(toy.states[[5, 60]].copy())
    exact = exact_nelbo(toy, x0, schedule=sched)
    gen = torch.Generator().manual_seed(11)
    for r in range(2):
        xr = x0[r].expand(100, L).contiguous()
        means = [
            float(nelbo(toy, xr, rng=gen, antithetic=antithetic, schedule=sched).mean())
            for _ in range(200)
        ]
        _, lo, hi = mean_ci(means, level=0.9999)
        assert lo <= exact[r] <= hi, (lo, exact[r], hi)


# -- note 71: the true conditionals minimise the expected NELBO ----------------


class Perturbed(TrueConditional):
    """The true conditionals mixed with random distributions (a wrong denoiser)."""

    def __init__(self, base, strength, seed):
        self.states, self.p = base.states, base.p
        self._base, self._strength, self._seed = base, strength, seed

    def _conditionals(self, x):
        good = self._base._conditionals(x)
        rng = np.random.default_rng(self._seed)
        noise = rng.dirichlet(np.ones(V), size=good.shape[:2])
        mix = (1 - self._strength) * np.exp(good[..., :V]) + self._strength * noise
        out = np.full_like(good, -np.inf)
        out[..., :V] = np.log(mix)
        return out


def test_true_conditionals_minimise_expected_nelbo_with_exact_gap(toy):
    sched = LogLinearSchedule(eps=0.0)
    x0 = torch.from_numpy(toy.states.copy())
    entropy = float(-(toy.p * np.log(toy.p)).sum())
    truth = float(toy.p @ exact_nelbo(toy, x0, schedule=sched))
    assert truth == pytest.approx(entropy, rel=1e-12)
    masks = np.array(list(itertools.product([0, 1], repeat=L)), dtype=bool)
    k = masks.sum(1)
    w = np.array([0.0 if kk == 0 else 1.0 / (kk * math.comb(L, kk)) for kk in k])  # B(k, L-k+1)
    for strength, seed in [(0.05, 1), (0.3, 2), (0.9, 3)]:
        q = Perturbed(toy, strength, seed)
        got = float(toy.p @ exact_nelbo(q, x0, schedule=sched))
        # independent value of the gap: sum_S w_S E_p sum_{l in S} KL(p(.|x_S) || q(.|x_S))
        gap = 0.0
        for s, m in enumerate(masks):
            if not m.any():
                continue
            xt = np.where(m, V, toy.states)  # every x0, with S masked
            lp = toy(torch.from_numpy(xt)).numpy()
            lq = q(torch.from_numpy(xt)).numpy()
            pl, ql = np.exp(lp[:, m, :V]), lq[:, m, :V]
            kl = (pl * (lp[:, m, :V] - ql)).sum(-1).sum(-1)
            gap += w[s] * float(toy.p @ kl)
        assert got > entropy
        assert got - entropy == pytest.approx(gap, rel=1e-9)


# -- note 72: antithetic (systematic) time sampling ----------------------------


def _systematic_mean(g, u0, n):
    t = 1.0 - np.remainder(u0 + np.arange(n) / n, 1.0)
    return float(np.mean(g(t)))


@pytest.mark.parametrize("n", [1, 3, 8])
def test_antithetic_times_unbiased_and_bounded_for_monotone_integrands(n):
    fns = [lambda t: t**3, lambda t: np.log1p(9 * t), lambda t: np.exp(-4 * t)]
    for g in fns:
        exact, _ = quad(g, 0, 1, epsabs=1e-14)
        # unbiased: the average over the single uniform u0 is the integral
        mean, _ = quad(
            lambda u, g=g: _systematic_mean(g, u, n),
            0,
            1,
            limit=200,
            points=[j / n for j in range(1, n)],
            epsabs=1e-12,
        )
        assert mean == pytest.approx(exact, abs=1e-9)
        # deterministic error bound |estimate - integral| <= |g(1) - g(0)| / n for every u0
        spread = abs(g(1.0) - g(0.0))
        errs = [abs(_systematic_mean(g, u, n) - exact) for u in np.linspace(0, 1, 401)[:-1]]
        assert max(errs) <= spread / n + 1e-12


# -- the NELBO is computed under the law the samplers sample (SUBS, declared output) --


@pytest.mark.parametrize("output", ["probs", "log_probs", "logits"])
def test_declared_output_is_honoured(output):
    # p(x0 | all masked) = (1/2, 1/2, 0) with id 2 the mask: one token costs log 2
    from sciddm.discrete import FunctionModel

    probs = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    val = {"probs": probs, "log_probs": probs.log(), "logits": probs.log() + 3.0}[output]
    m = FunctionModel(lambda x: val.expand(*x.shape, 3), vocab_size=3, mask_id=2, output=output)
    assert exact_nelbo(m, torch.tensor([[0], [1]])) == pytest.approx([math.log(2)] * 2, rel=1e-12)
    est = nelbo(m, torch.zeros(20000, 1, dtype=torch.long), rng=1, antithetic=False)
    # each draw is (1/t) log 2 w.p. t, else 0: mean log 2, sd sqrt(E[1/t] - 1) log 2 is
    # infinite in theory; the antithetic-free mean of 20000 is still within 10 %
    assert float(est.mean()) == pytest.approx(math.log(2), rel=0.1)


def test_subs_projection_of_forbidden_ids_is_applied():
    # the model puts mass 1/2 on a forbidden id: the samplers renormalise it away, so
    # the law is (1/2, 1/2) on the two allowed tokens and the bound is log 2
    from sciddm.discrete import FunctionModel, sample

    probs = torch.tensor([0.25, 0.25, 0.5, 0.0])
    m = FunctionModel(lambda x: probs.expand(*x.shape, 4), vocab_size=4, mask_id=3,
                      output="probs", forbidden_ids=[2])  # fmt: skip
    assert exact_nelbo(m, [[0], [1]]) == pytest.approx([math.log(2)] * 2, rel=1e-12)
    r = sample(m, 2000, length=1, seeds=range(2000))
    assert set(np.unique(r.tokens)) == {0, 1}
    with pytest.raises(ValueError, match="`x0` contains id 2, which the model forbids"):
        exact_nelbo(m, [[2]])


@pytest.mark.parametrize(
    ("bad", "exc", "match"),
    [
        ([[0, 7, 1, 2]], ValueError, r"`x0` must hold ids in \[0, 4\)"),
        ([[0, -1, 1, 2]], ValueError, r"`x0` must hold ids in \[0, 4\)"),
        ([[0.5, 1, 1, 2]], TypeError, "`x0` must hold integer token ids"),
        ([0, 1, 1, 2], ValueError, r"`x0` must have shape \(n, L\)"),
        ("ACGT", TypeError, "`x0` must be an array of token ids"),
    ],
)
def test_out_of_range_tokens_are_a_clear_error(toy, bad, exc, match):
    with pytest.raises(exc, match=match):
        nelbo(toy, bad)
    with pytest.raises(exc, match=match):
        exact_nelbo(toy, bad)
