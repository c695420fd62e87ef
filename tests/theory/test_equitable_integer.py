"""Checks of theory/53_equitable_integer.md (exhaustive enumeration, exact comparisons)."""

import numpy as np
import pytest

from sciddm.equitable import allocate, greedy_allocate, power_law
from sciddm.equitable._integer import _Utilitarian, greedy_steps


def _instance(rng, G, span):
    wa = rng.uniform(0.1, 3, size=G)
    b = rng.uniform(0.1, 2.0, size=G)
    c = rng.uniform(0.5, 4, size=G)
    lo = rng.integers(1, 4, size=G).astype(float)
    B = float(c @ lo) + float(rng.uniform(2, span))
    hi = lo + np.floor((B - c @ lo) / c)
    return wa, b, c, lo, hi, B


def _enumerate(lo, hi, c, B):
    axes = [np.arange(int(lo[i]), int(hi[i]) + 1) for i in range(lo.size)]
    N = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    return N[N @ c <= B + 1e-9]


def test_decomposition_and_bound():
    rng = np.random.default_rng(53)
    for _ in range(20):
        G = int(rng.integers(2, 4))
        wa, b, c, lo, hi, B = _instance(rng, G, 40)
        prob = _Utilitarian(wa, b, c, B, lo, hi)
        lam = prob.best_lambda()
        L, h = prob.dual(lam)
        N = _enumerate(lo, hi, c, B)
        F = (wa * N.astype(float) ** (-b)).sum(axis=1)
        x = wa * N.astype(float) ** (-b) + lam * c * N - h
        assert np.all(x >= -1e-12)
        np.testing.assert_allclose(F, L + x.sum(axis=1) + lam * (B - N @ c), rtol=1e-12)
        assert L <= F.min() + 1e-12


@pytest.mark.parametrize("seed", range(60))
def test_exact_allocation_matches_enumeration(seed):
    rng = np.random.default_rng(1000 + seed)
    G = int(rng.integers(2, 5))
    curves = [dict(a=float(rng.uniform(0.1, 4)), b=float(rng.uniform(0.1, 2.0)),
                   e=float(rng.uniform(0, 0.2))) for _ in range(G)]  # fmt: skip
    w = rng.dirichlet(np.ones(G))
    c = rng.uniform(0.5, 5, size=G)
    lo = rng.integers(1, 4, size=G)
    upper = np.where(rng.random(G) < 0.25, lo + rng.integers(0, 15, size=G), np.inf)
    B = float(c @ lo) + float(rng.uniform(2, {2: 120, 3: 50, 4: 25}[G]))
    hi = np.minimum(upper, lo + np.floor((B - c @ lo) / c))
    N = _enumerate(lo, hi, c, B)
    best = min(sum(w[i] * power_law(N[:, i], **curves[i]) for i in range(G)))
    res = allocate(curves, c, B, weights=w, lower=lo, upper=upper)
    assert res.cost <= B + 1e-9 and np.all(res.n >= lo) and np.all(res.n <= upper)
    assert res.value == pytest.approx(best, rel=1e-12, abs=0)


@pytest.mark.parametrize("seed", range(40))
def test_threshold_jump_equals_stepwise_greedy(seed):
    rng = np.random.default_rng(3000 + seed)
    G = int(rng.integers(1, 5))
    curves = [dict(a=float(rng.uniform(0.1, 4)), b=float(rng.uniform(0.05, 2.0)), e=0.0)
              for _ in range(G)]  # fmt: skip
    if G > 2 and seed % 3 == 0:
        curves[2] = dict(curves[0])  # exact ties between groups
    c = rng.choice([1.0, 1.5, 2.0, 4.0], size=G)
    lo = rng.integers(1, 6, size=G)
    B = float(c @ lo) + float(rng.uniform(0, 3000))
    res = greedy_allocate(curves, c, B, lower=lo)

    def gain(j, k):
        kk = k.astype(float)
        a, bb = curves[j]["a"], curves[j]["b"]
        return a * kk ** (-bb) * -np.expm1(-bb * np.log1p(1.0 / kk)) / (G * c[j])

    ref = greedy_steps(lo.astype(np.int64).copy(), gain, c, B, np.full(G, np.inf))
    np.testing.assert_array_equal(res.n, ref)
