"""Convergence of the (damped) Lewis-weight iteration (theory/21)."""

import warnings

import numpy as np
import pytest

from sciddm._core.validation import ConvergenceWarning
from sciddm.sensitivity import heavy_tailed_matrix, lewis_weights


@pytest.fixture(scope="module")
def A():
    return heavy_tailed_matrix(500, 5, df=2.0, rng=0)


def log_error(A, p, k, ref, method="damped"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        w = lewis_weights(A, p, max_iter=k, method=method)
    return float(np.max(np.abs(np.log(w / ref))))


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 3.0, 6.0, 20.0])
def test_damped_contraction_rate(A, p):
    """The error of the damped iteration shrinks at least like (|p-2|/(p+2))^k:
    the geometric-mean factor per step from iteration 5 to 13 is at most the
    bound + 0.02 (an even number of steps, since the sup-norm error alternates;
    stopping before the error reaches 1e-9, above the reference's accuracy)."""
    ref = lewis_weights(A, p, tol=1e-13, max_iter=3000)
    e1 = log_error(A, p, 5, ref)
    k, e2 = 5, e1
    for j in (7, 9, 11, 13):
        e = log_error(A, p, j, ref)
        if e < 1e-9:
            break
        k, e2 = j, e
    rate = (e2 / e1) ** (1 / (k - 5))
    assert rate <= abs(p - 2) / (p + 2) + 0.02


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_undamped_contraction_rate(A, p):
    ref = lewis_weights(A, p, tol=1e-13, max_iter=3000)
    e1 = log_error(A, p, 5, ref, method="fixed-point")
    e2 = log_error(A, p, 13, ref, method="fixed-point")
    assert (e2 / e1) ** (1 / 8) <= abs(1 - p / 2) + 0.02


@pytest.mark.parametrize("p", [4.5, 6.0])
def test_undamped_iteration_fails_at_p_ge_4(A, p):
    with pytest.warns(ConvergenceWarning):
        w = lewis_weights(A, p, method="fixed-point", max_iter=300)
    assert not np.isclose(w.sum(), 5, rtol=1e-3)


@pytest.mark.parametrize("p", [1.0, 6.0, 20.0])
def test_anderson_reaches_the_fixed_point_faster(A, p, monkeypatch):
    """Item 5: the accelerated default ("auto") and the plain damped iteration agree, and
    the accelerated one needs fewer weighted leverage computations."""
    import sciddm.sensitivity._lewis as LW

    calls = {"n": 0}
    orig = LW._weighted_leverage

    def counting(*args, **kw):
        calls["n"] += 1
        return orig(*args, **kw)

    monkeypatch.setattr(LW, "_weighted_leverage", counting)
    w_auto = lewis_weights(A, p, tol=1e-10)
    n_auto = calls["n"]
    calls["n"] = 0
    monkeypatch.setattr(LW, "_fused_pass", lambda *a, **k: None)  # count damped steps too
    w_damped = lewis_weights(A, p, method="damped", tol=1e-10, max_iter=2000)
    n_damped = calls["n"]
    assert np.max(np.abs(np.log(w_auto / w_damped))) < 1e-7
    assert n_auto < n_damped
