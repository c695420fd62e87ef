"""Checks of theory/52_equitable_adaptive.md."""

import numpy as np
from sklearn.base import BaseEstimator

from sciddm.equitable import AdaptiveCollector, allocate, power_law

TRUE = {0: dict(a=1.0, b=0.5, e=0.05), 1: dict(a=3.0, b=0.6, e=0.1), 2: dict(a=2.0, b=0.4, e=0.0)}


class SizeEcho(BaseEstimator):
    def fit(self, X, y):
        self.group_ = int(X[0, 0])
        self.n_ = len(y)
        return self


def exact_score(est, X, y):
    return 1.0 - float(power_law(est.n_, **TRUE[est.group_]))


def source(group, k, rng):
    return np.full((k, 1), float(group)), np.zeros(k)


def test_exact_curves_reach_the_oracle_allocation():
    # group-specific exponents: each curve is fitted alone (shared_exponent=False)
    costs, B, w = np.array([1.0, 2.0, 1.5]), 3000.0, np.array([0.5, 0.3, 0.2])
    for objective in ("utilitarian", "maxmin"):
        col = AdaptiveCollector(SizeEcho(), costs=costs, budget=B, metric=exact_score,
                                objective=objective, weights=w, pilot=10, n_rounds=6,
                                exploration=0.05, shared_exponent=False)  # fmt: skip
        res = col.run(source, groups=[0, 1, 2], rng=0)
        oracle = allocate(TRUE, costs, B, objective=objective, weights=w)
        assert np.all(np.abs(res.counts - oracle.n) <= 1), (objective, res.counts, oracle.n)


def test_budget_and_floor_invariants_under_noise():
    # noisy scores: the loop still never exceeds the budget and every round respects the floor
    rng_noise = np.random.default_rng(0)

    def noisy_score(est, X, y):
        return exact_score(est, X, y) + rng_noise.normal(0, 0.05)

    costs, B = np.array([1.0, 3.0, 2.0]), 900.0
    for objective in ("utilitarian", "maxmin", "disparity-cap"):
        col = AdaptiveCollector(SizeEcho(), costs=costs, budget=B, metric=noisy_score,
                                objective=objective, cap=0.05, pilot=10, n_rounds=5,
                                exploration=0.2)  # fmt: skip
        res = col.run(source, groups=[0, 1, 2], rng=1)
        assert costs @ res.counts <= B
        assert B - costs @ res.counts < costs.min()  # nothing affordable is left unspent
        step = (B - 10 * costs.sum()) / 5
        floor = np.floor(0.2 * step / (3 * costs))
        for r in res.rounds[1:5]:
            assert np.all(r.batch >= floor)
