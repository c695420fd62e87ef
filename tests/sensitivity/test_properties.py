"""Property-based tests of sciddm.sensitivity (issue 17): every public name, bad inputs.

Each name of ``sciddm.sensitivity.__all__`` has a case: valid arguments (a finite
result, a property) and argument kinds from which hypothesis draws one bad value at
a time. The call must return a finite result or raise ValueError/TypeError naming
the argument. Further tests check properties of valid generated inputs: score
sandwiches, sums, sampling probabilities and regression optimality.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import sciddm.sensitivity as S
from tests.leastsquares._props import Case, corrupt_one, fresh

COVERED = frozenset(S.__all__)

RNG = np.random.default_rng(0)
A = S.heavy_tailed_matrix(30, 3, rng=0)
B = A @ np.array([1.0, -1.0, 2.0]) + RNG.standard_cauchy(30)
SAMPLE = S.sample_rows(A, 1.0, size=12, rng=0)


def _is(cls):
    def check(out):
        assert isinstance(out, cls), type(out)

    return check


def _regressor(X, y, p, sample_size, sampling, max_iter, random_state):
    est = S.SampledLpRegressor(
        p, sample_size=sample_size, sampling=sampling, max_iter=max_iter, random_state=random_state
    ).fit(X, y)
    return est.predict(X), est.coef_


def _apply(X):
    return SAMPLE.apply(X)


BAD_P = [0.5, 0.0, -1.0, 1e300, float("nan"), float("inf"), "1", None]
BAD_SCORES = [np.full(30, -1.0), np.zeros(30), np.ones(29), np.full(30, np.nan)]
BAD_SAMPLE = [(np.array([0, 40]), np.ones(2)), (np.array([0, 1]), np.ones(3)), 3, "x"]

CASES: dict[str, Case] = {
    "DistortionResult": Case(
        lambda: S.embedding_distortion(A, SAMPLE, 1.0, n_directions=8, rng=0),
        {},
        {},
        check=_is(S.DistortionResult),
    ),  # fmt: skip
    "LpRegressionResult": Case(
        lambda: S.lp_regression(A, B, 1.5), {}, {}, check=_is(S.LpRegressionResult)
    ),
    "RowSample": Case(_apply, {"X": A}, {"X": "array"}, bad={"X": [np.ones(29)]}),
    "SampledLpRegressor": Case(
        _regressor,
        {
            "X": A,
            "y": B,
            "p": 1.0,
            "sample_size": 20,
            "sampling": "lewis",
            "max_iter": 50,
            "random_state": 0,
        },  # fmt: skip
        {
            "X": "array",
            "y": "vector",
            "p": "real",
            "sample_size": "int",
            "sampling": "choice",
            "max_iter": "int",
        },  # fmt: skip
        blame={"X": ("X", "y"), "y": ("y", "X")},
        bad={"p": BAD_P},
    ),
    "diabetes_design": Case(S.diabetes_design, {"intercept": True}, {}),
    "embedding_distortion": Case(
        S.embedding_distortion,
        {
            "A": A,
            "sample": SAMPLE,
            "p": 1.5,
            "n_directions": 8,
            "n_local": 1,
            "n_maximisers": 2,
            "rng": 0,
        },  # fmt: skip
        {
            "A": "array",
            "sample": "object",
            "p": "real",
            "n_directions": "int",
            "n_local": "int",
            "n_maximisers": "int",
            "rng": "rng",
        },  # fmt: skip
        args=("A", "sample", "p"),
        bad={"sample": BAD_SAMPLE, "p": BAD_P},
        blame={"A": ("A", "sample")},
    ),
    "gaussian_matrix": Case(
        S.gaussian_matrix, {"n": 4, "d": 2, "rng": 0}, {"n": "int", "d": "int", "rng": "rng"}
    ),
    "heavy_tailed_matrix": Case(
        S.heavy_tailed_matrix,
        {"n": 4, "d": 2, "df": 1.5, "rng": 0},
        {"n": "int", "d": "int", "df": "pos", "rng": "rng"},
    ),
    "heavy_tailed_regression": Case(
        S.heavy_tailed_regression,
        {"n": 4, "d": 2, "df": 1.5, "noise_df": 1.0, "rng": 0},
        {"n": "int", "d": "int", "df": "pos", "noise_df": "pos", "rng": "rng"},
    ),
    "hypercube_matrix": Case(S.hypercube_matrix, {"d": 3}, {"d": "int"}),
    "stacked_identities": Case(S.stacked_identities, {"k": 2, "d": 3}, {"k": "int", "d": "int"}),
    "leverage_scores": Case(
        S.leverage_scores,
        {
            "A": A,
            "method": "exact",
            "sketch": "sparse-sign",
            "sketch_size": None,
            "jl_dim": None,
            "block_size": 7,
            "rng": 0,
        },  # fmt: skip
        {
            "A": "array",
            "method": "choice",
            "sketch": "choice",
            "sketch_size": "int",
            "jl_dim": "int",
            "block_size": "int",
            "rng": "rng",
        },  # fmt: skip
        bad={"A": [np.zeros((3, 2)), sp.csr_matrix((3, 2))]},
    ),
    "lewis_weights": Case(
        S.lewis_weights,
        {
            "A": A,
            "p": 1.0,
            "method": "auto",
            "tol": 1e-8,
            "max_iter": 100,
            "step": None,
            "sketch_size": None,
            "block_size": None,
            "rng": 0,
        },  # fmt: skip
        {
            "A": "array",
            "p": "pos",
            "method": "choice",
            "tol": "pos",
            "max_iter": "int",
            "step": "unit",
            "sketch_size": "int",
            "block_size": "int",
            "rng": "rng",
        },  # fmt: skip
        args=("A", "p"),
        bad={"A": [np.zeros((3, 2))]},
    ),
    "lp_regression": Case(
        S.lp_regression,
        {
            "A": A,
            "b": B,
            "p": 1.5,
            "method": "auto",
            "solver": "auto",
            "sample_size": None,
            "sampling": "lewis",
            "tol": 1e-12,
            "max_iter": 50,
            "rng": 0,
        },  # fmt: skip
        {
            "A": "array",
            "b": "vector",
            "p": "real",
            "method": "choice",
            "solver": "choice",
            "sample_size": "int",
            "sampling": "choice",
            "tol": "nonneg",
            "max_iter": "int",
            "rng": "rng",
        },  # fmt: skip
        args=("A", "b", "p"),
        bad={"p": BAD_P, "b": [np.ones(29)]},
        blame={"A": ("A", "b"), "b": ("b", "A")},
    ),
    "lp_sensitivities": Case(
        S.lp_sensitivities,
        {"A": A, "p": 1.0, "method": "exact", "rows": np.array([0, 3, 7])},
        {"A": "array", "p": "real", "method": "choice", "rows": "vector"},
        args=("A", "p"),
        bad={"p": BAD_P, "rows": [np.array([0, 30]), np.array([0.5])]},
        blame={"A": ("A", "rows")},
    ),
    "root_leverage_scores": Case(
        S.root_leverage_scores,
        {"A": A, "p": 3.0, "block_size": None},
        {"A": "array", "p": "real", "block_size": "int"},
        args=("A", "p"),
        bad={"p": BAD_P},
    ),
    "row_scores": Case(
        S.row_scores,
        {"A": A, "p": 1.5, "method": "mixed", "mix": 0.3},
        {"A": "array", "p": "real", "method": "choice", "mix": "unit"},
        args=("A", "p"),
        bad={"p": BAD_P, "mix": [1.5, -0.1]},
    ),
    "sample_rows": Case(
        S.sample_rows,
        {
            "A": A,
            "p": 1.0,
            "scores": None,
            "method": "leverage",
            "size": 10,
            "alpha": None,
            "replace": False,
            "mix": 0.5,
            "rng": 0,
        },  # fmt: skip
        {
            "A": "array",
            "p": "real",
            "method": "choice",
            "size": "int",
            "mix": "unit",
            "rng": "rng",
        },  # fmt: skip
        args=("A", "p"),
        bad={"p": BAD_P, "scores": BAD_SCORES, "alpha": [1.0, -1.0]},
        blame={"alpha": ("alpha", "size"), "A": ("A", "size")},
    ),
    "total_sensitivity": Case(
        S.total_sensitivity,
        {"A": A, "p": 1.5, "method": "lewis"},
        {"A": "array", "p": "real", "method": "choice"},
        args=("A", "p"),
        bad={"p": BAD_P},
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

MATRICES = st.builds(
    lambda n, d, seed, df: S.heavy_tailed_matrix(n, d, df=df, rng=seed),
    n=st.integers(8, 40),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    df=st.floats(1.0, 5.0),
)


@given(A=MATRICES, sparse=st.booleans())
def test_leverage_scores_are_in_the_unit_interval_and_sum_to_the_rank(A, sparse):
    tau = S.leverage_scores(sp.csr_matrix(A) if sparse else A)
    assert np.all((tau >= 0) & (tau <= 1))
    assert tau.sum() == pytest.approx(np.linalg.matrix_rank(A), abs=1e-8)


@given(A=MATRICES, p=st.sampled_from([1.0, 1.5, 3.0]))
def test_sensitivities_are_sandwiched_by_their_bounds(A, p):
    exact = S.lp_sensitivities(A, p)
    lewis = S.lp_sensitivities(A, p, method="lewis")
    assert np.all(exact <= lewis * (1 + 1e-6) + 1e-9)
    assert np.all((exact >= 0) & (exact <= 1 + 1e-9))
    # the sensitivity of a row is at least its l_p share of any direction, e.g. x = e_1
    x = np.zeros(A.shape[1])
    x[0] = 1.0
    y = np.abs(A @ x) ** p
    if y.sum() > 0:
        assert np.all(exact >= y / y.sum() - 1e-7)


@given(A=MATRICES, p=st.sampled_from([0.5, 1.0, 3.0, 6.0]))
def test_lewis_weights_sum_to_the_rank(A, p):
    w = S.lewis_weights(A, p, tol=1e-10)
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(np.linalg.matrix_rank(A), rel=1e-6)


@given(A=MATRICES, k=st.integers(1, 8), seed=st.integers(0, 2**32 - 1), replace=st.booleans())
def test_row_samples_are_unbiased_in_expectation_of_their_weights(A, k, seed, replace):
    s = S.sample_rows(A, 1.0, method="leverage", size=min(k, A.shape[0]), replace=replace, rng=seed)
    if replace:
        np.testing.assert_allclose(s.probabilities.sum(), 1.0)
        np.testing.assert_allclose(s.weights, (s.size * s.probabilities[s.indices]) ** -1.0)
    else:
        assert s.expected_size == pytest.approx(min(k, A.shape[0]))
        np.testing.assert_allclose(s.weights, 1.0 / s.probabilities[s.indices])
    assert np.all(s.probabilities <= 1 + 1e-12)


@given(A=MATRICES, seed=st.integers(0, 2**32 - 1), p=st.sampled_from([1.0, 1.5, 2.0, 4.0]))
def test_regression_is_no_worse_than_least_squares_and_nearby_points(A, seed, p):
    b = A @ np.random.default_rng(seed).normal(size=A.shape[1]) + np.random.default_rng(
        seed + 1
    ).standard_cauchy(A.shape[0])
    res = S.lp_regression(A, b, p)

    def f(x):
        return float(np.sum(np.abs(A @ x - b) ** p))

    x_ls = np.linalg.lstsq(A, b, rcond=None)[0]
    assert res.objective <= f(x_ls) * (1 + 1e-9) + 1e-12
    for e in np.eye(A.shape[1]):
        assert res.objective <= f(res.coef + 1e-3 * e) * (1 + 1e-9) + 1e-12
