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
    # eps = 0: the continuous-time NELBO of the exact conditionals is -log p(x0) exactly
    x0 = torch.from_numpy(toy.states[::7].copy())
    got = exact_nelbo(toy, x0, schedule=LogLinearSchedule(eps=0.0))
    want = np.array([-toy.log_p(x) for x in x0.numpy()])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_true_conditional_nelbo_with_eps_is_below_nll(toy):
    # eps > 0 truncates the time integral at m = 1 - eps: slightly smaller, never larger
    x0 = torch.from_numpy(toy.states[::9].copy())
    got = exact_nelbo(toy, x0, schedule=LogLinearSchedule(eps=1e-3))
    want = np.array([-toy.log_p(x) for x in x0.numpy()])
    assert np.all(got <= want + 1e-12)
    assert np.all(want - got < 0.01 * want)


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
def test_monte_carlo_nelbo_is_unbiased(toy, antithetic):
    # the training estimator averages to the exact NELBO; 99.99 % interval
    # (false-alarm rate 1e-4 per case) over 200 independent batch means
    sched = LogLinearSchedule()
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
