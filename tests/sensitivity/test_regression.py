import numpy as np
import pytest
from scipy.optimize import minimize

from sciddm._core.validation import ConvergenceWarning
from sciddm.sensitivity import (
    embedding_distortion,
    gaussian_matrix,
    heavy_tailed_matrix,
    heavy_tailed_regression,
    lp_regression,
    sample_rows,
)


def test_l1_intercept_only_is_the_median():
    b = np.random.default_rng(0).standard_cauchy(101)
    res = lp_regression(np.ones((101, 1)), b, 1)
    assert abs(res.coef[0] - np.median(b)) < 1e-9
    assert abs(res.objective - np.sum(np.abs(b - np.median(b)))) < 1e-8


def test_l2_is_least_squares():
    A, b = heavy_tailed_regression(200, 4, rng=1)
    res = lp_regression(A, b, 2)
    np.testing.assert_allclose(res.coef, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-10)


@pytest.mark.parametrize("p", [1.5, 3.0, 6.0])
def test_irls_first_order_optimality(p):
    A, b = heavy_tailed_regression(300, 3, df=3.0, rng=2)
    res = lp_regression(A, b, p)
    r = A @ res.coef - b
    grad = A.T @ (np.sign(r) * np.abs(r) ** (p - 1))
    scale = np.linalg.norm(A, axis=0) * np.linalg.norm(np.abs(r) ** (p - 1))
    assert np.all(np.abs(grad) <= 1e-7 * scale)
    assert res.converged and abs(res.residual_norm - res.objective ** (1 / p)) < 1e-8


def test_lp_matches_irls_and_nelder_mead_at_p1():
    A, b = heavy_tailed_regression(150, 2, rng=3)
    exact = lp_regression(A, b, 1, method="lp")
    ref = minimize(
        lambda x: np.sum(np.abs(A @ x - b)),
        exact.coef + 0.1,
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12},
    )
    assert exact.objective <= ref.fun * (1 + 1e-12)
    irls = lp_regression(A, b, 1, method="irls", max_iter=500)
    assert exact.objective <= irls.objective <= exact.objective * (1 + 1e-4)


def test_sketch_and_solve():
    A, b = heavy_tailed_regression(3000, 3, rng=4)
    opt = lp_regression(A, b, 1).objective
    res = lp_regression(A, b, 1, method="sketch", sample_size=300, rng=0)
    assert res.sample is not None and res.objective >= opt
    assert res.objective <= 1.1 * opt
    res3 = lp_regression(A, b, 3, method="sketch", sample_size=300, sampling="leverage", rng=0)
    assert res3.objective <= 1.5 * lp_regression(A, b, 3).objective


def test_regression_bad_input():
    A = np.ones((5, 1))
    with pytest.raises(ValueError, match="`b` must have length 5"):
        lp_regression(A, np.ones(4), 1)
    with pytest.raises(ValueError, match="method='lp' needs `p` = 1"):
        lp_regression(A, np.ones(5), 2, method="lp")
    with pytest.raises(ValueError, match=r"`p` must be in \[1, 100\]"):
        lp_regression(A, np.ones(5), 0.5)
    with pytest.raises(ValueError, match="`b` must not contain NaN"):
        lp_regression(A, np.array([1, 2, np.nan, 4, 5.0]), 1)
    with pytest.raises(ValueError, match="`sample_size` must be <= n = 5"):
        lp_regression(A, np.ones(5), 1, method="sketch", sample_size=6)


def test_irls_warns_when_capped():
    A, b = heavy_tailed_regression(200, 3, rng=5)
    with pytest.warns(ConvergenceWarning, match="increase `max_iter`"):
        lp_regression(A, b, 1, method="irls", max_iter=2)


def test_distortion_exact_at_p2():
    A = gaussian_matrix(200, 4, rng=6)
    s = sample_rows(A, 2, method="leverage", size=60, rng=0)
    res = embedding_distortion(A, s, 2)
    SA = s.apply(A)
    lam = np.linalg.eigvals(np.linalg.solve(A.T @ A, SA.T @ SA)).real
    assert abs(res.distortion - np.max(np.abs(lam - 1))) < 1e-10 and res.exact
    x = res.x
    assert abs(abs(np.sum((SA @ x) ** 2) / np.sum((A @ x) ** 2) - 1) - res.distortion) < 1e-10


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_distortion_is_attained(p):
    A = heavy_tailed_matrix(300, 3, rng=7)
    s = sample_rows(A, p, method="uniform", size=40, rng=0)
    res = embedding_distortion(A, s, p, n_directions=50, rng=0)
    x = res.x
    ratio = np.sum(np.abs(s.apply(A) @ x) ** p) / np.sum(np.abs(A @ x) ** p)
    assert abs(abs(ratio - 1) - res.distortion) < 1e-9 and not res.exact
    assert res.min_ratio <= ratio <= res.max_ratio
    # a lower bound: at least as large as on any random direction
    Z = np.random.default_rng(1).standard_normal((3, 200))
    rz = np.sum(np.abs(s.apply(A) @ Z) ** p, 0) / np.sum(np.abs(A @ Z) ** p, 0)
    assert res.distortion >= np.max(np.abs(rz - 1)) - 1e-12


def test_distortion_of_identity_sample_is_zero():
    A = heavy_tailed_matrix(50, 2, rng=8)
    idx = np.arange(50)
    assert embedding_distortion(A, (idx, np.ones(50)), 1.5, rng=0).distortion < 1e-12


def test_distortion_bad_input():
    A = np.eye(3)
    with pytest.raises(ValueError, match="`sample` must be a RowSample or a pair"):
        embedding_distortion(A, 3, 1)
    with pytest.raises(ValueError, match=r"`sample` indices must be in \[0, 2\]"):
        embedding_distortion(A, ([5], [1.0]), 1)
    with pytest.raises(ValueError, match=r"`p` must be in \[1, 100\]"):
        embedding_distortion(A, ([0], [1.0]), 0.5)


def test_sketch_sample_size_below_d_is_an_error():
    """Regression (issue 17): sample_size=3 with d=5 returned wrong coefficients with
    converged=True; it is now an error naming `sample_size`."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 5))
    b = A @ np.arange(5.0) + rng.standard_normal(200)
    with pytest.raises(ValueError, match=r"`sample_size` must be >= d = 5"):
        lp_regression(A, b, 1, method="sketch", sample_size=3)


def test_rank_deficient_sample_is_an_error_not_an_answer():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 5))
    b = A @ np.arange(5.0) + rng.standard_normal(200)
    # with seed 3 the uniform sample of expected size 5 holds only 4 rows
    with pytest.raises(ValueError, match=r"rank 4 < rank\(A\) = 5.*increase `sample_size`"):
        lp_regression(A, b, 1, method="sketch", sample_size=5, sampling="uniform", rng=3)
    # a sample that spans gives the exact solution of the sampled problem
    res = lp_regression(A, b, 1, method="sketch", sample_size=5, sampling="uniform", rng=1)
    assert res.sample.size == 5
    rows = res.sample.indices
    np.testing.assert_allclose(A[rows] @ res.coef, b[rows], atol=1e-8)


def test_solver_lp_needs_p1_before_any_work():
    A = np.random.default_rng(0).standard_normal((50, 2))
    with pytest.raises(ValueError, match=r"solver='lp' needs `p` = 1"):
        lp_regression(A, np.zeros(50), 1.5, method="sketch", solver="lp")


def test_irls_converges_with_a_near_zero_residual_of_a_high_leverage_row():
    """p = 1.5 with one huge row: IRLS converges linearly; the default cap suffices
    and the objective matches a scalar minimiser (found by the property suite)."""
    import warnings

    from scipy.optimize import minimize_scalar

    from sciddm.sensitivity import heavy_tailed_matrix, lp_regression

    A = heavy_tailed_matrix(8, 1, df=1, rng=9)
    b = A @ np.random.default_rng(0).normal(size=1) + np.random.default_rng(1).standard_cauchy(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lp_regression(A, b, 1.5)
    best = minimize_scalar(lambda c: np.sum(np.abs(A[:, 0] * c - b) ** 1.5), tol=1e-12).fun
    assert res.converged
    assert res.objective == pytest.approx(best, rel=1e-9)
