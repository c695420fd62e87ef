"""Property-based tests of sciddm.leastsquares (issue 17): every public name, bad inputs.

Each name of ``sciddm.leastsquares.__all__`` has a case: valid arguments (a finite
result, a property) and argument kinds from which hypothesis draws one bad value at
a time. The call must return a finite result or raise ValueError/TypeError naming
the argument. Further tests check properties of valid generated inputs.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sciddm.leastsquares as L
from tests.leastsquares._props import Case, corrupt_one, fresh

matplotlib.use("Agg")

COVERED = frozenset(L.__all__)

B1 = L.TensorBasis(L.Legendre(), L.total_degree(1, 3))  # m = 4 on [-1, 1]
B2 = L.TensorBasis([L.Legendre(), L.Hermite()], L.total_degree(2, 2))  # m = 6
MU = L.DiscreteMeasure(np.linspace(-1, 1, 9))
X1 = np.array([[-0.5], [0.1], [0.9]])


def _f(x):
    return np.cos(x[:, 0])


def _is(cls):
    def check(out):
        assert isinstance(out, cls), type(out)

    return check


def _closing(fn):
    def run(*args, **kw):
        import matplotlib.pyplot as plt

        try:
            ax = fn(*args, **kw)
            return ax.get_xlabel()
        finally:
            plt.close("all")

    return run


def _wls_estimator(X, y, sample_weight, degree, weighting):
    est = L.WeightedLeastSquares(degree=degree, weighting=weighting).fit(
        X, y, sample_weight=sample_weight
    )
    return est.predict(X), est.coef_


def _measure(cls):
    def run(*args):
        mu = cls(*args)
        return mu.sample(3, rng=0), mu.quadrature(3), mu.check_points(mu.sample(2, rng=1))

    return run


def _family(cls):
    def run(*args):
        fam = cls(*args)
        x = fam.measure.sample(3, rng=0)[:, 0]
        return fam(x, 3), fam.sample_squared(2, 4, rng=0), fam.measure.quadrature(4)

    return run


def _family_methods(k, size, ks, x, K):
    fam = L.Legendre()
    return (
        fam.sample_squared(k, size, rng=0),
        fam.sample_squared_many(ks, rng=0),
        fam(x, K),
        fam.eval_std(x, K),
    )


def _budget_error():
    basis = L.TensorBasis(L.Legendre(), L.total_degree(1, 20))
    try:
        L.sample_projection_dpp(basis, rng=0, max_proposals=21)
    except L.ProposalBudgetError as exc:
        return str(exc)
    raise AssertionError("a budget of m proposals should not suffice for m = 21")


def _budget_message(msg):
    assert "increase `max_proposals`" in msg


def _basis_methods(x):
    return B1(x), B1.christoffel(x), B1.weight(x)


CASES: dict[str, Case] = {
    "plot_design": Case(
        _closing(L.plot_design),
        {"design": L.sample_optimal(B1, 30, rng=0), "basis": B1},
        {"design": "array"},
        args=("design", "basis"),
    ),
    "plot_error_curves": Case(
        _closing(L.plot_error_curves),
        {"curves": {"iid": ([1, 2], [3.0, 1.5])}},
        {"curves": "object"},
        args=("curves",),
        bad={"curves": [{"iid": ([1, 2], [3.0])}, {"iid": 3}]},
    ),
    "LeastSquaresResult": Case(
        lambda: L.weighted_least_squares(_f, B1, 8, rng=0, error_quadrature=10),
        {},
        {},
        check=_is(L.LeastSquaresResult),
        skip=frozenset({"basis"}),
    ),
    "WeightedLeastSquares": Case(
        _wls_estimator,
        {
            "X": np.random.default_rng(0).normal(size=(12, 2)),
            "y": np.linspace(0, 1, 12),
            "sample_weight": np.ones(12),
            "degree": 1,
            "weighting": "christoffel",
        },
        {
            "X": "array",
            "y": "vector",
            "sample_weight": "vector",
            "degree": "int",
            "weighting": "choice",
        },  # fmt: skip
        blame={"X": ("X", "y"), "y": ("y", "X"), "sample_weight": ("sample_weight",)},
    ),
    "l2_errors": Case(
        L.l2_errors,
        {"f": _f, "basis": B1, "coefficients": np.zeros(4), "quadrature": 6},
        {"f": "callable", "basis": "object", "coefficients": "vector", "quadrature": "int"},
        args=("f", "basis", "coefficients"),
        blame={"basis": ("basis", "coefficients")},
    ),
    "weighted_least_squares": Case(
        L.weighted_least_squares,
        {
            "f": _f,
            "basis": B1,
            "n": 8,
            "method": "iid",
            "rng": 0,
            "delta": None,
            "best_of": 1,
            "error_quadrature": 8,
            "max_proposals": None,
        },  # fmt: skip
        {
            "f": "callable",
            "basis": "object",
            "n": "int",
            "method": "choice",
            "rng": "rng",
            "delta": "unit",
            "best_of": "int",
            "error_quadrature": "int",
            "max_proposals": "posint",
        },  # fmt: skip
        args=("f", "basis", "n"),
        skip=frozenset({"basis"}),
    ),
    "Design": Case(lambda: L.sample_optimal(B2, 10, rng=0), {}, {}, check=_is(L.Design)),
    "gram_matrix": Case(
        L.gram_matrix,
        {"features": np.eye(3), "weights": np.ones(3)},
        {"features": "array", "weights": "vector"},
        # a complex array is cast to real by the shared check_array (a request to the lead)
        blame={"weights": ("weights", "features"), "features": ("features", "weights")},
    ),
    "sample_best_of": Case(
        L.sample_best_of,
        {"basis": B1, "n": 8, "method": "volume", "n_draws": 3, "rng": 0},
        {"basis": "object", "n": "int", "method": "choice", "n_draws": "int", "rng": "rng"},
        args=("basis", "n"),
    ),
    "sample_conditioned": Case(
        L.sample_conditioned,
        {"basis": B1, "n": 40, "method": "iid", "delta": 0.9, "max_draws": 50, "rng": 0},
        {
            "basis": "object",
            "n": "int",
            "method": "choice",
            "delta": "unit",
            "max_draws": "int",
            "rng": "rng",
        },  # fmt: skip
        args=("basis", "n"),
        bad={"n": [4]},  # too few points to be conditioned: the budget error names max_draws
        blame={"n": ("n", "max_draws")},
    ),
    "sample_design": Case(
        L.sample_design,
        {"basis": B2, "n": 12, "method": "repeated_dpp", "rng": 0, "max_proposals": None},
        {
            "basis": "object",
            "n": "int",
            "method": "choice",
            "rng": "rng",
            "max_proposals": "posint",
        },  # fmt: skip
        args=("basis", "n"),
        bad={"n": [7, 5]},
    ),
    "sample_generalized_volume": Case(
        L.sample_generalized_volume,
        {"basis": B1, "n": 6, "base": "measure", "rng": 0, "max_proposals": None},
        {
            "basis": "object",
            "n": "int",
            "base": "choice",
            "rng": "rng",
            "max_proposals": "posint",
        },  # fmt: skip
        args=("basis", "n"),
        bad={"base": [B2]},
    ),
    "sample_optimal": Case(
        L.sample_optimal,
        {"basis": B2, "n": 5, "rng": 0},
        {"basis": "object", "n": "int", "rng": "rng"},
        args=("basis", "n"),
    ),
    "sample_projection_dpp": Case(
        L.sample_projection_dpp,
        {"basis": B2, "rng": 0, "max_proposals": None, "batch_size": None},
        {"basis": "object", "rng": "rng", "max_proposals": "posint", "batch_size": "posint"},
        args=("basis",),
    ),
    "sample_repeated_dpp": Case(
        L.sample_repeated_dpp,
        {"basis": B1, "r": 2, "rng": 0, "max_proposals": None},
        {"basis": "object", "r": "int", "rng": "rng", "max_proposals": "posint"},
        args=("basis", "r"),
    ),
    "sample_volume": Case(
        L.sample_volume,
        {"basis": B1, "n": 6, "rng": 0, "max_proposals": None},
        {"basis": "object", "n": "int", "rng": "rng", "max_proposals": "posint"},
        args=("basis", "n"),
    ),
    "Basis": Case(_basis_methods, {"x": X1}, {"x": "array"}),
    "TensorBasis": Case(
        lambda families, index_set, dim: L.TensorBasis(families, index_set, dim=dim)(
            np.zeros((2, 1 if dim is None else dim))
        ),
        {"families": "legendre", "index_set": [[0], [1], [2]], "dim": None},
        {"families": "object", "index_set": "array", "dim": "int"},
        blame={"dim": ("dim", "index_set"), "index_set": ("index_set",)},
        bad={"index_set": [[[0, 0], [1, 1]], [[0], [0]], [[-1]], [[0.5]]]},
    ),
    "DiscreteBasis": Case(
        lambda features, measure: L.DiscreteBasis(features, measure).christoffel(MU.nodes[:2]),
        {"features": lambda x: np.ones((len(x), 1)), "measure": MU},
        {"features": "callable", "measure": "object"},
        bad={"features": [lambda x: np.full((len(x), 1), np.nan), lambda x: 3 * np.ones(len(x))]},
    ),
    "orthonormalize": Case(
        lambda features, measure, rtol: (
            L.orthonormalize(features, measure, rtol=rtol).node_features
        ),
        {
            "features": lambda x: np.column_stack([x[:, 0] ** j for j in range(3)]),
            "measure": MU,
            "rtol": 1e-10,
        },  # fmt: skip
        {"features": "callable", "measure": "object", "rtol": "unit"},
        bad={"features": [lambda x: np.column_stack([x[:, 0], 2 * x[:, 0]]), lambda x: "a"]},
        blame={"rtol": ("rtol", "features")},
    ),
    "Measure": Case(lambda x: L.UniformMeasure().check_points(x), {"x": X1}, {"x": "array"}),
    "BetaMeasure": Case(
        _measure(L.BetaMeasure),
        {"alpha": 0.5, "beta": -0.5, "low": 0.0, "high": 2.0},
        {"alpha": "real", "beta": "real", "low": "real", "high": "real"},
        args=("alpha", "beta", "low", "high"),
        bad={"alpha": [-1.0, -3.0], "high": [0.0, -1.0]},
        blame={"high": ("high", "low"), "low": ("low", "high")},
    ),
    "UniformMeasure": Case(
        _measure(L.UniformMeasure),
        {"low": -2.0, "high": 3.0},
        {"low": "real", "high": "real"},
        args=("low", "high"),
        blame={"high": ("high", "low"), "low": ("low", "high")},
    ),
    "GaussianMeasure": Case(
        _measure(L.GaussianMeasure),
        {"mean": 1.0, "std": 2.0},
        {"mean": "real", "std": "pos"},
        args=("mean", "std"),
    ),
    "GammaMeasure": Case(
        _measure(L.GammaMeasure),
        {"alpha": 0.5, "scale": 2.0},
        {"alpha": "real", "scale": "pos"},
        args=("alpha", "scale"),
        bad={"alpha": [-1.0]},
    ),
    "ProductMeasure": Case(
        lambda factors: _measure(L.ProductMeasure)(factors),
        {"factors": [L.UniformMeasure(), L.GaussianMeasure()]},
        {"factors": "object"},
        bad={"factors": [[], [L.UniformMeasure(), 3], [L.DiscreteMeasure([0.0, 1.0])]]},
    ),
    "DiscreteMeasure": Case(
        lambda nodes, weights: _measure(L.DiscreteMeasure)(nodes, weights),
        {"nodes": np.array([0.0, 1.0, 2.0]), "weights": np.array([0.2, 0.3, 0.5])},
        {"nodes": "vector", "weights": "vector"},
        blame={"weights": ("weights", "nodes"), "nodes": ("nodes", "weights")},
        bad={"weights": [np.zeros(3)]},
    ),
    "uniform_box": Case(
        lambda low, high: _measure(L.uniform_box)(low, high),
        {"low": np.array([-1.0, 0.0]), "high": np.array([1.0, 2.0])},
        {"low": "vector", "high": "vector"},
        blame={"low": ("low", "high"), "high": ("high", "low")},
    ),
    "Family": Case(
        _family_methods,
        {"k": 2, "size": 3, "ks": np.array([0, 3, 1]), "x": np.array([0.1, 0.5]), "K": 3},
        {"k": "int", "size": "int", "ks": "vector", "x": "vector", "K": "int"},
        blame={"size": ("size",), "K": ("K",)},
    ),
    "Legendre": Case(
        _family(L.Legendre),
        {"low": 0.0, "high": 2.0},
        {"low": "real", "high": "real"},
        args=("low", "high"),
        blame={"high": ("high", "low"), "low": ("low", "high")},
    ),
    "Chebyshev": Case(
        _family(L.Chebyshev),
        {"low": -1.0, "high": 1.0},
        {"low": "real", "high": "real"},
        args=("low", "high"),
        blame={"high": ("high", "low"), "low": ("low", "high")},
    ),
    "Jacobi": Case(
        _family(L.Jacobi),
        {"alpha": 1.5, "beta": 0.25, "low": -1.0, "high": 1.0},
        {"alpha": "real", "beta": "real", "low": "real", "high": "real"},
        args=("alpha", "beta", "low", "high"),
        blame={"high": ("high", "low"), "low": ("low", "high")},
    ),
    "Hermite": Case(
        _family(L.Hermite),
        {"mean": 0.5, "std": 2.0},
        {"mean": "real", "std": "pos"},
        args=("mean", "std"),
    ),  # fmt: skip
    "Laguerre": Case(
        _family(L.Laguerre),
        {"alpha": 0.5, "scale": 1.0},
        {"alpha": "real", "scale": "pos"},
        args=("alpha", "scale"),
    ),  # fmt: skip
    "Trigonometric": Case(
        _family(L.Trigonometric),
        {"low": 0.0, "high": 1.0},
        {"low": "real", "high": "real"},
        args=("low", "high"),
        blame={"high": ("high", "low"), "low": ("low", "high")},
    ),
    "ProposalBudgetError": Case(_budget_error, {}, {}, check=_budget_message),
    "check_downward_closed": Case(
        L.check_downward_closed,
        {"index_set": [[0, 0], [1, 0], [0, 1]]},
        {"index_set": "array"},
        bad={"index_set": [[[0, 0], [1, 1]], [[0, 0], [0, 0]]]},
    ),
    "is_downward_closed": Case(
        L.is_downward_closed, {"index_set": [[0, 0], [1, 0]]}, {"index_set": "array"}
    ),
    "total_degree": Case(L.total_degree, {"d": 2, "p": 3}, {"d": "int", "p": "int"}),
    "hyperbolic_cross": Case(L.hyperbolic_cross, {"d": 2, "p": 3}, {"d": "int", "p": "int"}),
    "full_tensor": Case(L.full_tensor, {"d": 2, "p": 2}, {"d": "int", "p": "int"}),
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


@given(d=st.integers(1, 4), p=st.integers(0, 5))
def test_index_sets_are_downward_closed_with_the_right_size(d, p):
    td = L.total_degree(d, p)
    assert len(td) == math.comb(d + p, d) and L.is_downward_closed(td)
    assert np.all(td.sum(axis=1) <= p)
    hc = L.hyperbolic_cross(d, p)
    assert L.is_downward_closed(hc) and np.all(np.prod(hc + 1, axis=1) <= p + 1)
    ft = L.full_tensor(d, min(p, 2))
    assert len(ft) == (min(p, 2) + 1) ** d and L.is_downward_closed(ft)


FAMILIES = st.sampled_from(
    [
        L.Legendre(),
        L.Chebyshev(),
        L.Jacobi(1.5, 0.5),
        L.Hermite(),
        L.Laguerre(0.5),
        L.Trigonometric(),
    ]  # fmt: skip
)


@given(fam=FAMILIES, K=st.integers(0, 6))
def test_families_are_orthonormal_on_their_gauss_rule(fam, K):
    t, w = fam.measure.quadrature(2 * K + 8)
    P = fam(t[:, 0], K)
    np.testing.assert_allclose(P.T @ (w[:, None] * P), np.eye(K + 1), atol=1e-9)


@given(fam=FAMILIES, k=st.integers(0, 4), seed=st.integers(0, 2**32 - 1))
def test_squared_samples_lie_in_the_support(fam, k, seed):
    x = fam.sample_squared(k, 20, rng=seed)
    assert x.shape == (20,) and np.all(fam.measure.contains(x[:, None]))


@given(n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_optimal_design_weights_are_m_over_christoffel(n, seed):
    d = L.sample_optimal(B2, n, rng=seed)
    assert d.points.shape == (n, 2) and d.n_proposals == n
    np.testing.assert_allclose(d.weights, B2.m / B2.christoffel(d.points), rtol=1e-12)
    G = d.gram()
    np.testing.assert_allclose(G, G.T, atol=1e-12)
    assert np.linalg.eigvalsh(G).min() >= -1e-10


@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(["dpp", "volume", "repeated_dpp"]))
def test_designs_interpolate_a_function_in_the_span(seed, method):
    a = np.random.default_rng(seed).normal(size=B2.m)
    r = L.weighted_least_squares(lambda x: B2.features(x) @ a, B2, 2 * B2.m if method != "dpp"
                                 else B2.m, method=method, rng=seed)  # fmt: skip
    np.testing.assert_allclose(r.coefficients, a, atol=1e-7)


@given(
    nodes=st.lists(st.floats(-5, 5), min_size=4, max_size=12, unique=True),
    deg=st.integers(0, 3),
)
def test_orthonormalize_gives_an_orthonormal_basis(nodes, deg):
    mu = L.DiscreteMeasure(np.array(nodes))
    try:
        b = L.orthonormalize(lambda x: np.column_stack([x[:, 0] ** j for j in range(deg + 1)]), mu)
    except ValueError as exc:  # nearly coincident nodes: dependent features, named
        assert "`features`" in str(exc)
        return
    F = b.node_features
    np.testing.assert_allclose(F.T @ (mu.weights[:, None] * F), np.eye(deg + 1), atol=1e-8)
