import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge

from sciddm.equitable import AdaptiveCollector, PoolSource, group_errors, power_law

TRUE = {0: dict(a=1.0, b=0.5, e=0.05), 1: dict(a=3.0, b=0.5, e=0.1)}


class SizeEcho(BaseEstimator):
    """Remembers its group and training size; `exact_score` is 1 - err_g(n) exactly."""

    def fit(self, X, y):
        self.group_ = int(X[0, 0])
        self.n_ = len(y)
        return self


def exact_score(est, X, y):
    return 1.0 - float(power_law(est.n_, **TRUE[est.group_]))


def synthetic_source(group, k, rng):
    return np.full((k, 1), float(group)), rng.normal(size=k)


def test_runs_with_a_callable_source_and_logs_rounds():
    logs = []
    col = AdaptiveCollector(SizeEcho(), costs=[1, 2], budget=400, metric=exact_score,
                            pilot=10, n_rounds=4, exploration=0.1)  # fmt: skip
    res = col.run(synthetic_source, groups=[0, 1], rng=0, callback=logs.append)
    assert res.spent <= 400 and res.spent > 400 - 2
    assert res.counts.tolist() == np.bincount(res.group_of.astype(int)).tolist()
    assert len(res.rounds) == len(logs) >= 5
    assert logs[0].round == 0 and logs[0].batch.tolist() == [10, 10]
    floor = np.floor(0.1 * ((400 - 30) / 4) / (2 * np.array([1.0, 2.0])))
    for r in res.rounds[1:-1]:
        assert np.all(r.batch >= floor)  # the exploration floor
        assert set(r.curves) == {0, 1}
    # exact curves are recovered from the sub-samples
    assert res.curves[1].a == pytest.approx(3.0, rel=1e-6)
    assert res.curves[0].b == pytest.approx(0.5, rel=1e-6)


def test_reproducible_with_a_seed():
    X = np.random.default_rng(0).normal(size=(400, 3))
    y = X @ [1.0, 2.0, 3.0] + np.random.default_rng(1).normal(size=400)
    g = np.repeat([0, 1], 200)
    kw = dict(costs=[1, 1], budget=150, metric="r2", pilot=15, n_rounds=2)
    a = AdaptiveCollector(Ridge(), **kw).run((X, y, g), rng=3)
    b = AdaptiveCollector(Ridge(), **kw).run((X, y, g), rng=3)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.counts.sum() == 150


def test_pool_exhaustion_is_respected():
    X = np.arange(200.0)[:, None] % 2
    y = np.random.default_rng(0).normal(size=200)
    g = np.r_[np.zeros(170), np.ones(30)].astype(int)
    X[:, 0] = g
    col = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=150, metric=exact_score,
                            objective="maxmin", pilot=10, n_rounds=3)  # fmt: skip
    res = col.run(PoolSource(X, y, g), rng=0)
    assert res.counts[1] <= 30
    assert res.counts.sum() == 150  # the budget goes to group 0 once group 1 is exhausted


def test_maxmin_gives_more_to_the_harder_group():
    col = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=600, metric=exact_score,
                            objective="maxmin", pilot=10, n_rounds=5)  # fmt: skip
    res = col.run(synthetic_source, groups=[0, 1], rng=0)
    assert res.counts[1] > 3 * res.counts[0]


def test_bad_inputs_name_the_group():
    X = np.zeros((20, 1))
    y = np.zeros(20)
    g = np.r_[np.zeros(10), np.ones(10)]
    col = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=100, metric=exact_score, pilot=5)
    col3 = AdaptiveCollector(SizeEcho(), costs=[1, 1, 1], budget=100, metric=exact_score, pilot=5)
    with pytest.raises(ValueError, match="group 2 has no data in the pool"):
        col3.run(PoolSource(X, y, g), groups=[0, 1, 2])
    with pytest.raises(ValueError, match="`groups` is required"):
        col.run(synthetic_source)
    bad = AdaptiveCollector(SizeEcho(), costs=[1, 0], budget=100, metric=exact_score, pilot=5)
    with pytest.raises(ValueError, match="group 1 has cost 0"):
        bad.run(synthetic_source, groups=[0, 1])
    poor = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=7, metric=exact_score, pilot=5)
    with pytest.raises(ValueError, match="below the pilot's cost"):
        poor.run(synthetic_source, groups=[0, 1])
    with pytest.raises(ValueError, match="`pilot` must be an integer >= 4"):
        AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=100, pilot=2).run(
            synthetic_source, groups=[0, 1]
        )

    def empty_source(group, k, rng):
        if group == "b":
            return np.zeros((0, 1)), np.zeros(0)
        return synthetic_source(0, k, rng)

    col2 = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=100, metric=exact_score, pilot=5)
    with pytest.raises(ValueError, match="group 'b' has no data"):
        col2.run(empty_source, groups=["a", "b"])


def test_too_few_samples_for_a_curve_names_the_group():
    col = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=100, metric=exact_score, pilot=4,
                            holdout=0.5)  # fmt: skip
    with pytest.raises(ValueError, match="group 0: 4 samples are too few"):
        col.run(synthetic_source, groups=[0, 1], rng=0)


def test_group_errors_pooled_and_missing_group():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=300)
    g = np.repeat([0, 1, 2], 100)
    e1 = group_errors(Ridge(), X[::2], y[::2], g[::2], X[1::2], y[1::2], g[1::2], metric="r2")
    e2 = group_errors(Ridge(), X[::2], y[::2], g[::2], X[1::2], y[1::2], g[1::2], metric="r2",
                      pooled=True)  # fmt: skip
    assert np.all(e1 < 0.05) and np.all(e2 < 0.05)
    with pytest.raises(ValueError, match="group 3 has no training data"):
        group_errors(Ridge(), X, y, g, X, y, g, metric="r2", groups=[0, 3])


def test_batch_plan_and_bad_plan():
    col = AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=300, metric=exact_score,
                            plan="batch", pilot=10, n_rounds=3)  # fmt: skip
    res = col.run(synthetic_source, groups=[0, 1], rng=0)
    assert res.counts.sum() == 300
    assert res.counts[1] > res.counts[0]  # group 1 has the larger curve (a = 3 vs 1)
    with pytest.raises(ValueError, match="`plan` must be one of"):
        AdaptiveCollector(SizeEcho(), costs=[1, 1], budget=300, plan="greedy").run(
            synthetic_source, groups=[0, 1]
        )
