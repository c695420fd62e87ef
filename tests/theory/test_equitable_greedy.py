"""Checks of theory/51_equitable_greedy.md (exhaustive enumeration)."""

import numpy as np

from sciddm.equitable import greedy_allocate, power_law


def _all_allocations(G, n_max):
    grids = np.meshgrid(*[np.arange(1, n_max + 1)] * G, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def test_greedy_is_optimal_for_equal_costs():
    rng = np.random.default_rng(1966)
    N = _all_allocations(3, 25)
    for _ in range(30):
        curves = [dict(a=rng.uniform(0.2, 5), b=rng.uniform(0.1, 2), e=rng.uniform(0, 0.5))
                  for _ in range(3)]  # fmt: skip
        w = rng.dirichlet(np.ones(3))
        c = rng.uniform(0.5, 3)
        B = c * rng.integers(3, 26)
        res = greedy_allocate(curves, [c] * 3, B, weights=w)
        ok = N.sum(1) * c <= B + 1e-9
        val = sum(w[i] * power_law(N[ok, i], **curves[i]) for i in range(3))
        assert res.value <= val.min() + 1e-12


def test_greedy_within_one_step_for_unequal_costs():
    rng = np.random.default_rng(88)
    N = _all_allocations(3, 30)
    gaps = []
    for _ in range(30):
        curves = [dict(a=rng.uniform(0.2, 5), b=rng.uniform(0.1, 2), e=0.0) for _ in range(3)]
        w = rng.dirichlet(np.ones(3))
        c = rng.integers(1, 5, size=3).astype(float)
        B = float(rng.integers(int(c.sum()), 40))
        res = greedy_allocate(curves, c, B, weights=w)
        ok = N @ c <= B
        val = sum(w[i] * power_law(N[ok, i], **curves[i]) for i in range(3))
        # largest single-step gain available from the start (the gains only decrease)
        step = max(w[i] * (power_law(1, **curves[i]) - power_law(2, **curves[i]))
                   for i in range(3))  # fmt: skip
        assert res.value <= val.min() + step + 1e-12
        gaps.append(res.value - val.min())
    assert max(gaps) > 0  # unequal costs: greedy is not always exactly optimal


def test_greedy_can_fail_without_concavity():
    # a curve that is flat before it drops (not convex) defeats marginal analysis
    def stepped(n):
        return 1.0 if n < 5 else 0.0

    res = greedy_allocate([stepped, lambda n: 1.0 / n], [1, 1], 7)
    # optimum: 5 samples to the stepped group (error 0) + 2 to the other (0.5)
    assert res.value > 0.5 * (0.0 + 0.5) + 1e-9
