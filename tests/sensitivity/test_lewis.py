import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sciddm._core.validation import ConvergenceWarning
from sciddm.sensitivity import heavy_tailed_matrix, leverage_scores, lewis_weights


def fixed_point_residual(A, w, p):
    """max_i |(a_i^T (A^T W^{1-2/p} A)^{-1} a_i)^{p/2} / w_i - 1|, computed directly."""
    M = A.T @ (w[:, None] ** (1 - 2 / p) * A)
    q = np.einsum("ij,ij->i", A @ np.linalg.inv(M), A)
    return np.max(np.abs(q ** (p / 2) / w - 1))


@pytest.fixture(scope="module")
def A():
    return heavy_tailed_matrix(400, 5, df=2.0, rng=0)


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 3.0, 3.9, 4.0, 6.0, 10.0, 20.0])
def test_fixed_point_and_sum(A, p):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        w = lewis_weights(A, p, tol=1e-11)
    assert abs(w.sum() - 5) < 1e-8
    assert fixed_point_residual(A, w, p) < 1e-8


def test_p2_is_leverage(A):
    np.testing.assert_allclose(lewis_weights(A, 2.0), leverage_scores(A), atol=1e-14)


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_sparse_and_blocks_match_dense(A, p):
    dense = lewis_weights(A, p)
    np.testing.assert_allclose(lewis_weights(sp.csr_matrix(A), p, block_size=33), dense, rtol=1e-7)


def test_undamped_cohen_peng_fails_at_p6(A):
    # regression test: the undamped iteration 2-cycles for p >= 4
    with pytest.warns(ConvergenceWarning, match="oscillate.*method='damped'.*max_iter"):
        w = lewis_weights(A, 6.0, method="fixed-point")
    assert not abs(w.sum() - 5) < 1e-3
    # ... and the same call with the damped method converges
    assert abs(lewis_weights(A, 6.0, method="damped").sum() - 5) < 1e-8


def test_undamped_converges_below_4(A):
    w = lewis_weights(A, 3.0, method="fixed-point", tol=1e-11)
    assert fixed_point_residual(A, w, 3.0) < 1e-8


def test_max_iter_warning_names_the_knob(A):
    with pytest.warns(ConvergenceWarning, match="increase `max_iter`"):
        lewis_weights(A, 1.0, max_iter=2)


def test_zero_rows_and_rank_deficiency(A):
    B = A.copy()
    B[[0, 5]] = 0
    B = np.column_stack([B, B[:, 0] + B[:, 1]])  # rank 5 with 6 columns
    w = lewis_weights(B, 1.0, rng=0)
    assert w[0] == 0 and w[5] == 0
    assert abs(w.sum() - 5) < 1e-7
    # the weights depend only on range(B): equal to those of the first 5 columns
    np.testing.assert_allclose(w, lewis_weights(B[:, :5], 1.0), rtol=1e-6)


def test_sketched_constant_factor(A):
    exact = lewis_weights(A, 1.0)
    approx = lewis_weights(A, 1.0, method="sketch", sketch_size=150, rng=1)
    r = approx / exact
    assert 0.3 < r.min() and r.max() < 3


def test_bad_input(A):
    with pytest.raises(ValueError, match=r"`p` must be in \(0, 100\]"):
        lewis_weights(A, 0.0)
    with pytest.raises(ValueError, match="`method` must be one of"):
        lewis_weights(A, 1.0, method="newton")
    with pytest.raises(ValueError, match="`tol` must be in"):
        lewis_weights(A, 1.0, tol=0)
    with pytest.raises(ValueError, match="`max_iter` must be an integer >= 1"):
        lewis_weights(A, 1.0, max_iter=0)
    with pytest.raises(ValueError, match="`step` must be in"):
        lewis_weights(A, 1.0, step=2.5)
    with pytest.raises(ValueError, match="must not contain NaN"):
        lewis_weights(np.array([[1.0], [np.nan]]), 1.0)
