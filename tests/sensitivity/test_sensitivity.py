import numpy as np
import pytest
from scipy.optimize import minimize

from sciddm.sensitivity import (
    heavy_tailed_matrix,
    hypercube_matrix,
    leverage_scores,
    lewis_weights,
    lp_sensitivities,
    stacked_identities,
    total_sensitivity,
)


def brute_force_sensitivity(A, i, p, rng, starts=6):
    """sup |a_i^T x|^p / ||Ax||_p^p by Nelder-Mead from several starts."""
    best = 0.0
    for _ in range(starts):
        res = minimize(
            lambda x: -(np.abs(A[i] @ x) ** p) / np.sum(np.abs(A @ x) ** p),
            rng.standard_normal(A.shape[1]),
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000},
        )
        best = max(best, -res.fun)
    return best


def vertex_enumeration_l1(A):
    """Exact p = 1 sensitivities of a 3-column matrix by enumerating the vertices
    of {x : ||Ax||_1 <= 1}: each is orthogonal to 2 rows of A."""
    n = A.shape[0]
    best = np.zeros(n)
    for j in range(n):
        for k in range(j + 1, n):
            x = np.cross(A[j], A[k])
            norm = np.sum(np.abs(A @ x))
            if norm > 1e-12:
                best = np.maximum(best, np.abs(A @ x) / norm)
    return best


def test_exact_p1_matches_vertex_enumeration():
    A = heavy_tailed_matrix(40, 3, rng=1)
    np.testing.assert_allclose(lp_sensitivities(A, 1.0), vertex_enumeration_l1(A), rtol=1e-9)


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_exact_matches_brute_force(p):
    rng = np.random.default_rng(0)
    A = heavy_tailed_matrix(40, 3, rng=1)
    sig = lp_sensitivities(A, p, rows=[0, 7])
    for k, i in enumerate([0, 7]):
        bf = brute_force_sensitivity(A, i, p, rng, starts=3)
        assert sig[k] >= bf * (1 - 1e-9)  # the exact value is a supremum
        assert sig[k] <= bf * (1 + 1e-6)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 6.0])
@pytest.mark.parametrize("k", [1, 3])
def test_stacked_identities_closed_form(p, k):
    A = stacked_identities(k, 3)
    np.testing.assert_allclose(lp_sensitivities(A, p), 1 / k, atol=1e-10)
    assert abs(total_sensitivity(A, p) - 3) < 1e-8


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_one_column_closed_form(p):
    v = np.random.default_rng(3).standard_normal((30, 1))
    expected = np.abs(v[:, 0]) ** p / np.sum(np.abs(v) ** p)
    np.testing.assert_allclose(lp_sensitivities(v, p), expected, rtol=1e-10)
    np.testing.assert_allclose(lewis_weights(v, p), expected, rtol=1e-8)
    assert abs(total_sensitivity(v, p) - 1) < 1e-10


def test_p2_is_leverage():
    A = heavy_tailed_matrix(50, 3, rng=4)
    tau = leverage_scores(A)
    for method in ("exact", "lewis", "root-leverage"):
        np.testing.assert_allclose(lp_sensitivities(A, 2.0, method=method), tau, atol=1e-12)


@pytest.mark.parametrize("d", [4, 6])
def test_hypercube_p1(d):
    from math import comb

    H = hypercube_matrix(d)
    sig = lp_sensitivities(H, 1.0)
    np.testing.assert_allclose(sig, 1 / comb(d, d // 2), rtol=1e-9)
    np.testing.assert_allclose(lewis_weights(H, 1.0), d / 2**d, rtol=1e-8)


def test_upper_bounds():
    A = heavy_tailed_matrix(60, 3, rng=5)
    for p in (1.0, 1.5, 3.0):
        sig = lp_sensitivities(A, p)
        assert np.all(sig <= lp_sensitivities(A, p, method="lewis") * (1 + 1e-8))
        assert np.all(sig <= lp_sensitivities(A, p, method="root-leverage") * (1 + 1e-8))
        assert total_sensitivity(A, p, method="lewis") >= total_sensitivity(A, p) - 1e-8


def test_rows_argument_and_zero_row():
    A = heavy_tailed_matrix(30, 2, rng=6)
    A[4] = 0
    full = lp_sensitivities(A, 1.5)
    assert full[4] == 0
    np.testing.assert_allclose(lp_sensitivities(A, 1.5, rows=[4, 9]), full[[4, 9]], rtol=1e-9)


def test_bad_input():
    A = np.eye(3)
    with pytest.raises(ValueError, match=r"`p` must be in \[1, 100\], got 0.5"):
        lp_sensitivities(A, 0.5)
    with pytest.raises(ValueError, match=r"`p` must be in \[1, 100\]"):
        total_sensitivity(A, 0.9)
    with pytest.raises(ValueError, match="`method` must be one of"):
        lp_sensitivities(A, 1, method="sketch")
    with pytest.raises(ValueError, match=r"`rows` must be in \[0, 2\]"):
        lp_sensitivities(A, 1, rows=[5])
    with pytest.raises(ValueError, match="`rows` must hold integers"):
        lp_sensitivities(A, 1, rows=[0.5])
    with pytest.raises(ValueError, match="only supported with method='exact'"):
        lp_sensitivities(A, 1, method="lewis", rows=[0])
    with pytest.raises(ValueError, match="`A` must be non-empty"):
        lp_sensitivities(np.zeros((0, 2)), 1)


def test_rng_is_deprecated_and_ignored():
    """Regression (issue 16): `rng` was accepted and silently ignored."""
    A = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.warns(DeprecationWarning, match="`rng` is ignored by lp_sensitivities"):
        s = lp_sensitivities(A, 1.0, rng=0)
    np.testing.assert_array_equal(s, lp_sensitivities(A, 1.0))
