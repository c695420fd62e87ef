"""Property-based tests of sciddm.equitable (issue 17): every public name, bad inputs.

Each name of ``sciddm.equitable.__all__`` has a case: valid arguments (a finite
result, a property) and argument kinds from which hypothesis draws one bad value at
a time. The call must return a finite result or raise ValueError/TypeError naming
the argument. Further tests check properties of valid generated inputs: budgets
respected, bounds kept, the objectives' orderings and the power-law fit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

import sciddm.equitable as E
from tests.leastsquares._props import Case, corrupt_one, fresh

COVERED = frozenset(E.__all__)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 2))
G = np.repeat([0, 1], 60)
Y = X @ np.array([1.0, -1.0]) + RNG.normal(size=120) * np.where(G == 0, 0.5, 1.5)
CURVES = [dict(a=1.0, b=0.5, e=0.05), dict(a=3.0, b=0.5, e=0.1)]
SIZES = np.array([10.0, 20, 40, 80, 160])
ERR = E.power_law(SIZES, 2.0, 0.5, 0.1) + 0.001 * np.cos(SIZES)
PRS = E.simulate_prs([60, 60], n_snps=10, n_causal=3, rng=0)
PRS_MODEL = E.prs_estimator().fit(PRS.X, PRS.y)
BAD_CURVES = [
    {"a": 1.0, "b": 0.5, "e": 0.0},
    [dict(a=1.0, b=-0.5, e=0.0)],
    [dict(a=np.nan, b=0.5, e=0.0)],
    [dict(a=1.0, b=0.5)],
    [None],
    [],
    "curves",
]


def _is(cls):
    def check(out):
        assert isinstance(out, cls), type(out)

    return check


def _collector(costs, budget, pilot, n_rounds, exploration, objective):
    col = E.AdaptiveCollector(
        LinearRegression(), costs=costs, budget=budget, objective=objective, cap=0.2,
        metric="r2", pilot=pilot, n_rounds=n_rounds, exploration=exploration, n_sizes=3,
        n_repeats=1,
    )  # fmt: skip
    return col.run(E.PoolSource(X, Y, G), rng=0)


def _curve(n, err, model, sigma, exponent):
    c = E.fit_learning_curve(n, err, model=model, sigma=sigma, exponent=exponent, group="g")
    return c.predict([50.0, 500.0]), c.predict_interval([50.0])


def _predict(n):
    c = E.fit_learning_curve(SIZES, ERR)
    return c.predict(n), c.predict_std(n), c.derivative(n)


CASES: dict[str, Case] = {
    "AdaptiveCollector": Case(
        _collector,
        {
            "costs": [1.0, 2.0],
            "budget": 60.0,
            "pilot": 8,
            "n_rounds": 2,
            "exploration": 0.1,
            "objective": "utilitarian",
        },  # fmt: skip
        {
            "costs": "vector",
            "budget": "pos",
            "pilot": "int",
            "n_rounds": "int",
            "exploration": "unit",
            "objective": "choice",
        },  # fmt: skip
        blame={"pilot": ("pilot", "budget"), "costs": ("costs", "budget")},
        skip=frozenset({"curves", "rounds"}),
    ),
    "CollectionResult": Case(
        lambda: _collector([1, 1], 40.0, 8, 1, 0.0, "maxmin"),
        {},
        {},
        check=_is(E.CollectionResult),
        skip=frozenset({"curves", "rounds"}),
    ),  # fmt: skip
    "RoundLog": Case(
        lambda: _collector([1, 1], 40.0, 8, 1, 0.0, "utilitarian").rounds[-1],
        {},
        {},
        check=_is(E.RoundLog),
    ),  # fmt: skip
    "PoolSource": Case(
        lambda X, y, groups: E.PoolSource(X, y, groups)(groups[0], 3, np.random.default_rng(0)),
        {"X": X[:6], "y": Y[:6], "groups": G[:6]},
        {"X": "array", "y": "vector", "groups": "vector"},
        blame={k: ("X", "y", "groups") for k in ("X", "y", "groups")},
    ),
    "Allocation": Case(lambda: E.allocate(CURVES, [1, 2], 100), {}, {}, check=_is(E.Allocation)),
    "allocate": Case(
        E.allocate,
        {
            "curves": CURVES,
            "costs": [1.0, 2.0],
            "budget": 100.0,
            "objective": "disparity-cap",
            "weights": [0.3, 0.7],
            "cap": 0.05,
            "lower": [2, 2],
            "upper": [80, 80],
        },  # fmt: skip
        {
            "curves": "object",
            "costs": "vector",
            "budget": "pos",
            "objective": "choice",
            "weights": "vector",
            "cap": "nonneg",
            "lower": "vector",
            "upper": "vector",
        },  # fmt: skip
        args=("curves", "costs", "budget"),
        bad={"curves": BAD_CURVES, "lower": [[100, 100]], "upper": [[1, 1]]},
        blame={
            "curves": ("curves", "a", "b", "e"),
            "lower": ("lower", "budget"),
            "upper": ("upper", "lower"),
            "costs": ("costs", "budget"),
        },  # fmt: skip
    ),
    "greedy_allocate": Case(
        E.greedy_allocate,
        {
            "curves": CURVES,
            "costs": [1.0, 2.0],
            "budget": 100.0,
            "weights": None,
            "lower": None,
            "upper": [90, 90],
        },  # fmt: skip
        {
            "curves": "object",
            "costs": "vector",
            "budget": "pos",
            "weights": "vector",
            "lower": "vector",
            "upper": "vector",
        },  # fmt: skip
        args=("curves", "costs", "budget"),
        bad={"curves": BAD_CURVES + [[lambda n: np.nan, lambda n: 1.0 / n]]},
        blame={
            "curves": ("curves", "a", "b", "e"),
            "lower": ("lower", "budget"),
            "upper": ("upper", "lower"),
            "costs": ("costs", "budget"),
        },  # fmt: skip
    ),
    "equal_allocation": Case(
        E.equal_allocation,
        {"costs": [1.0, 3.0], "budget": 50.0, "curves": CURVES, "objective": "maxmin"},
        {"costs": "vector", "budget": "pos", "curves": "object", "objective": "choice"},
        args=("costs", "budget"),
        bad={"curves": BAD_CURVES},
        blame={"curves": ("curves", "a", "b", "e"), "costs": ("costs", "budget")},
        # without curves the predicted errors are documented as NaN (not computed)
        skip=frozenset({"predicted_error", "value", "value_continuous"}),
        check=lambda out: np.isfinite(out.predicted_error).all(),
    ),
    "proportional_allocation": Case(
        E.proportional_allocation,
        {"costs": [1.0, 1.0], "budget": 50.0, "shares": [0.7, 0.3]},
        {"costs": "vector", "budget": "pos", "shares": "vector"},
        args=("costs", "budget", "shares"),
        blame={"costs": ("costs", "budget"), "shares": ("shares", "budget")},
        skip=frozenset({"predicted_error", "value", "value_continuous"}),  # no curves: NaN
    ),
    "oracle_allocation": Case(
        E.oracle_allocation,
        {"true_curves": CURVES, "costs": [1.0, 1.0], "budget": 50.0},
        {"true_curves": "object", "costs": "vector", "budget": "pos"},
        args=("true_curves", "costs", "budget"),
        bad={"true_curves": BAD_CURVES},
        blame={"true_curves": ("curves", "a", "b", "e"), "costs": ("costs", "budget")},
    ),
    "evaluate_objective": Case(
        E.evaluate_objective,
        {
            "errors": np.array([0.1, 0.3]),
            "objective": "disparity-cap",
            "weights": [1.0, 2.0],
            "cap": 0.1,
            "penalty": 2.0,
        },  # fmt: skip
        {
            "errors": "vector",
            "objective": "choice",
            "weights": "vector",
            "cap": "nonneg",
            "penalty": "nonneg",
        },  # fmt: skip
        blame={"weights": ("weights",), "errors": ("errors", "weights")},
    ),
    "power_law": Case(
        E.power_law,
        {"n": SIZES, "a": 2.0, "b": 0.5, "e": 0.1},
        {"n": "vector", "a": "real", "b": "real", "e": "real"},
        blame={"a": ("a", "power_law"), "b": ("b", "power_law"), "n": ("n", "power_law")},
    ),
    "LearningCurve": Case(_predict, {"n": [5.0, 50.0]}, {"n": "vector"}),
    "fit_learning_curve": Case(
        _curve,
        {
            "n": SIZES,
            "err": ERR,
            "model": "power-law",
            "sigma": np.full(5, 0.01),
            "exponent": None,
        },  # fmt: skip
        {"n": "vector", "err": "vector", "model": "choice", "sigma": "vector", "exponent": "pos"},
        blame={"n": ("n", "err", "sizes"), "err": ("err", "n"), "sigma": ("sigma",)},
    ),
    "fit_learning_curves": Case(
        E.fit_learning_curves,
        {"data": {"A": (SIZES, ERR), "B": (SIZES, 2 * ERR)}, "shared_exponent": True},
        {"data": "object"},
        bad={"data": [{"A": (SIZES, ERR[:3])}, {"A": (SIZES[:1], ERR[:1])}, {"A": 3}, {}]},
        blame={"data": ("data", "n", "err", "sizes")},
    ),
    "GroupLearningCurves": Case(
        lambda: E.learning_curve_by_group(
            LinearRegression(), X, Y, G, [5, 10, 20], metric="r2", n_repeats=2, rng=0
        ),
        {},
        {},
        check=_is(E.GroupLearningCurves),
    ),  # fmt: skip
    "learning_curve_by_group": Case(
        E.learning_curve_by_group,
        {
            "estimator": LinearRegression(),
            "X": X,
            "y": Y,
            "groups": G,
            "sizes": [5, 10, 0.5],
            "metric": "r2",
            "n_repeats": 2,
            "test_size": 0.25,
            "rng": 0,
        },  # fmt: skip
        {
            "X": "array",
            "y": "vector",
            "groups": "vector",
            "sizes": "vector",
            "metric": "choice",
            "n_repeats": "int",
            "test_size": "unit",
            "rng": "rng",
        },  # fmt: skip
        args=("estimator", "X", "y", "groups", "sizes"),
        bad={"sizes": [[500], [0], [5, -2]]},
        blame={k: ("X", "y", "groups") for k in ("X", "y", "groups")}
        | {"sizes": ("sizes", "size"), "test_size": ("test_size",)},
    ),
    "group_errors": Case(
        E.group_errors,
        {
            "estimator": LinearRegression(),
            "X_train": X[::2],
            "y_train": Y[::2],
            "g_train": G[::2],
            "X_test": X[1::2],
            "y_test": Y[1::2],
            "g_test": G[1::2],
            "metric": "r2",
        },  # fmt: skip
        {
            "X_train": "array",
            "y_train": "vector",
            "g_train": "vector",
            "X_test": "array",
            "y_test": "vector",
            "g_test": "vector",
            "metric": "choice",
        },  # fmt: skip
        args=("estimator", "X_train", "y_train", "g_train", "X_test", "y_test", "g_test"),
        blame={
            k: ("X_train", "y_train", "g_train", "X_test", "y_test", "g_test", "group")
            for k in ("X_train", "y_train", "g_train", "X_test", "y_test", "g_test")
        },
    ),  # fmt: skip
    "PRSData": Case(lambda: PRS, {}, {}, check=_is(E.PRSData), skip=frozenset({"threshold"})),
    "simulate_prs": Case(
        E.simulate_prs,
        {
            "n_per_group": [20, 30],
            "n_snps": 8,
            "n_causal": 3,
            "fst": 0.1,
            "h2": [0.5, 0.3],
            "rho": 0.8,
            "block_size": 4,
            "ld": 0.5,
            "prevalence": None,
            "rng": 0,
        },  # fmt: skip
        {
            "n_per_group": "vector",
            "n_snps": "int",
            "n_causal": "int",
            "fst": "unit",
            "h2": "vector",
            "rho": "unit",
            "block_size": "int",
            "ld": "unit",
            "prevalence": "unit",
            "rng": "rng",
        },  # fmt: skip
        args=("n_per_group",),
        blame={"n_snps": ("n_snps", "n_causal"), "h2": ("h2",)},
        skip=frozenset({"threshold"}),  # NaN for a quantitative trait, as documented
    ),
    "PRSEvaluation": Case(
        lambda: E.evaluate_prs(PRS_MODEL, PRS),
        {},
        {},
        check=_is(E.PRSEvaluation),
        skip=frozenset({"auc"}),
    ),  # fmt: skip
    "evaluate_prs": Case(
        E.evaluate_prs,
        {"model": PRS_MODEL, "data": PRS, "rows": np.arange(0, 120, 2)},
        {"model": "object", "data": "object", "rows": "vector"},
        args=("model", "data"),
        bad={"rows": [np.array([0, 500]), np.zeros(3, dtype=bool)]},
        skip=frozenset({"auc"}),  # NaN for a quantitative trait, as documented
    ),
    "prs_estimator": Case(
        E.prs_estimator,
        {"method": "lasso", "alpha": 0.1},
        {"method": "choice", "alpha": "pos"},
        skip=frozenset(),
    ),
}


def test_covered_is_the_public_api():
    assert frozenset(CASES) == COVERED


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_input_gives_a_finite_valid_result(name):
    case = CASES[name]
    case.run({k: fresh(v) for k, v in case.kwargs.items()})


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n].kinds or CASES[n].bad))
@given(data=st.data())
def test_bad_input_gives_a_named_error_or_a_valid_result(name, data):
    case = CASES[name]
    slot, bad = data.draw(corrupt_one(case))
    kw = {k: fresh(v) for k, v in case.kwargs.items()}
    kw[slot] = bad
    case.run(kw, slot)


# --- properties of valid, generated inputs -------------------------------------------

CURVE = st.builds(dict, a=st.floats(0.05, 10), b=st.floats(0.05, 2.0), e=st.floats(0.0, 0.5))


@given(
    curves=st.lists(CURVE, min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    objective=st.sampled_from(["utilitarian", "maxmin"]),
)
def test_allocations_respect_budget_and_bounds(curves, seed, objective):
    rng = np.random.default_rng(seed)
    k = len(curves)
    c = rng.uniform(0.5, 3, size=k)
    lo = rng.integers(1, 5, size=k)
    B = float(c @ lo) + float(rng.uniform(1, 500))
    res = E.allocate(curves, c, B, objective=objective, lower=lo)
    assert res.cost <= B + 1e-9 and np.all(res.n >= lo)
    # nothing affordable is left on the table for the utilitarian objective
    if objective == "utilitarian":
        assert np.all(c > B - res.cost - 1e-9)
    g = E.greedy_allocate(curves, c, B, lower=lo)
    assert g.cost <= B + 1e-9 and np.all(g.n >= lo)
    if objective == "utilitarian":  # the exact optimum is never worse than the greedy
        assert res.value <= g.value + 1e-12


@given(curves=st.lists(CURVE, min_size=2, max_size=4), B=st.floats(20, 1000))
def test_maxmin_is_no_worse_than_utilitarian_on_the_worst_group(curves, B):
    k = len(curves)
    u = E.allocate(curves, np.ones(k), B)
    m = E.allocate(curves, np.ones(k), B, objective="maxmin")
    assert m.predicted_error.max() <= u.predicted_error.max() + 1e-12
    assert u.value <= E.evaluate_objective(m.predicted_error) + 1e-12


@given(a=st.floats(0.1, 10), b=st.floats(0.1, 2), e=st.floats(0, 1))
def test_power_law_fit_recovers_exact_curves(a, b, e):
    n = np.array([10.0, 30, 100, 300, 1000, 3000])
    c = E.fit_learning_curve(n, E.power_law(n, a, b, e))
    np.testing.assert_allclose(c.predict(n), E.power_law(n, a, b, e), rtol=1e-6, atol=1e-9)
    assert np.all(c.derivative(n) <= 0)


@given(
    sizes=st.lists(st.integers(2, 40), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    binary=st.booleans(),
)
def test_simulated_genotypes_are_allele_counts(sizes, seed, binary):
    d = E.simulate_prs(sizes, n_snps=6, n_causal=2, prevalence=0.2 if binary else None, rng=seed)
    assert d.X.shape == (sum(sizes), 6) and set(np.unique(d.X)) <= {0.0, 1.0, 2.0}
    assert np.bincount(d.groups).tolist() == sizes
    if binary:
        assert set(np.unique(d.y)) <= {0.0, 1.0}
