"""Identities of leverage scores, Lewis weights and sensitivities (theory/20-22)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sciddm.sensitivity import (
    heavy_tailed_matrix,
    leverage_scores,
    lewis_weights,
    lp_sensitivities,
    total_sensitivity,
)


def test_leverage_sum_is_rank():
    rng = np.random.default_rng(0)
    A = heavy_tailed_matrix(300, 6, rng=1)
    assert abs(leverage_scores(A).sum() - 6) < 1e-10
    B = A @ rng.standard_normal((6, 9))  # 300 x 9 of rank 6
    assert abs(leverage_scores(B, rng=0).sum() - 6) < 1e-9
    S = sp.random(400, 5, density=0.2, random_state=2) + sp.vstack(
        [sp.eye(5), sp.csr_matrix((395, 5))]
    )
    assert abs(leverage_scores(S).sum() - 5) < 1e-10


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 6.0])
def test_lewis_sum_is_d(p):
    A = heavy_tailed_matrix(300, 4, rng=3)
    assert abs(lewis_weights(A, p, tol=1e-12).sum() - 4) < 1e-8


def test_all_scores_coincide_at_p2():
    A = heavy_tailed_matrix(80, 3, rng=4)
    tau = leverage_scores(A)
    np.testing.assert_allclose(lewis_weights(A, 2.0), tau, atol=1e-12)
    np.testing.assert_allclose(lp_sensitivities(A, 2.0), tau, atol=1e-12)
    Q = np.linalg.qr(A)[0]
    np.testing.assert_allclose(tau, np.sum(Q**2, axis=1), atol=1e-12)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_invariance_under_right_multiplication(p):
    rng = np.random.default_rng(5)
    A = heavy_tailed_matrix(60, 3, rng=6)
    M = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    AM = A @ M
    np.testing.assert_allclose(leverage_scores(AM), leverage_scores(A), atol=1e-12)
    np.testing.assert_allclose(lewis_weights(AM, p), lewis_weights(A, p), rtol=1e-7)
    np.testing.assert_allclose(lp_sensitivities(AM, p), lp_sensitivities(A, p), rtol=1e-8)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_row_flattening(p):
    """Replacing row i by k copies scaled by k^(-1/p) divides its score by k
    (each copy) and leaves the total sensitivity unchanged."""
    A = heavy_tailed_matrix(40, 3, rng=7)
    i, k = 5, 4
    flat = np.vstack([np.delete(A, i, axis=0), np.tile(A[i] * k ** (-1 / p), (k, 1))])
    sig, sig_f = lp_sensitivities(A, p), lp_sensitivities(flat, p)
    np.testing.assert_allclose(sig_f[-k:], sig[i] / k, rtol=1e-8)
    np.testing.assert_allclose(sig_f[:-k], np.delete(sig, i), rtol=1e-8)
    assert abs(total_sensitivity(flat, p) - sig.sum()) < 1e-8
    w, w_f = lewis_weights(A, p, tol=1e-12), lewis_weights(flat, p, tol=1e-12)
    np.testing.assert_allclose(w_f[-k:], w[i] / k, rtol=1e-7)
