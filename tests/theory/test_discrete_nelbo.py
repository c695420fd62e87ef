"""Theory note 70: the MDLM NELBO of the true conditionals, by exact enumeration."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from sciddm._core.stats import mean_ci
from sciddm.discrete import LogLinearSchedule, exact_nelbo, nelbo

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
            float(nelbo(toy, xr, generator=gen, antithetic=antithetic, schedule=sched).mean())
            for _ in range(200)
        ]
        _, lo, hi = mean_ci(means, level=0.9999)
        assert lo <= exact[r] <= hi, (lo, exact[r], hi)
