import numpy as np
import pytest

from sciddm._core.validation import (
    ConvergenceWarning,
    check_array,
    check_choice,
    check_int,
    check_probabilities,
    check_psd,
    check_same_length,
    check_scalar,
    warn_convergence,
)


def test_check_scalar_intervals():
    assert check_scalar(1, "p", lo=1) == 1.0
    with pytest.raises(ValueError, match=r"`p` must be in \(1, inf\), got 1"):
        check_scalar(1, "p", lo=1, closed="neither")
    with pytest.raises(ValueError, match="`alpha` must be finite"):
        check_scalar(float("nan"), "alpha")
    with pytest.raises(ValueError, match="real number"):
        check_scalar("a", "x")
    assert check_scalar(np.inf, "p", lo=1, allow_inf=True) == np.inf


def test_check_int():
    assert check_int(np.int64(4), "n", lo=1) == 4
    assert check_int(4.0, "n") == 4
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[1, 3\], got 5"):
        check_int(5, "k", lo=1, hi=3)
    with pytest.raises(ValueError, match="`n` must be an integer"):
        check_int(2.5, "n")


def test_check_array_and_finite():
    a = check_array([[1, 2], [3, 4]], "A", ndim=2, shape=(None, 2))
    assert a.dtype == np.float64
    with pytest.raises(ValueError, match=r"`A` must have 2 dimension"):
        check_array([1, 2], "A", ndim=2)
    with pytest.raises(ValueError, match=r"`A` must have shape \(\*, 3\)"):
        check_array([[1, 2]], "A", shape=(None, 3))
    with pytest.raises(ValueError, match=r"index \(1, 0\)"):
        check_array([[1, 2], [np.inf, 0]], "A")
    with pytest.raises(ValueError, match="at least 1 row"):
        check_array(np.zeros((0, 3)), "A", min_rows=1)
    with pytest.raises(TypeError, match="`x` must be a real numeric array, got text"):
        check_array(["a", "b"], "x")
    with pytest.raises(TypeError, match="`x` must be a real numeric array, got text"):
        check_array(["0.5"], "x")
    with pytest.raises(TypeError, match="`z` must be a real numeric array, got complex"):
        check_array([1 + 2j], "z")
    with pytest.raises(ValueError, match="could not be converted"):
        check_array([[1.0], [1.0, 2.0]], "x")
    with pytest.raises(ValueError, match="`s` must not contain NaN or inf; found nan"):
        check_array(float("nan"), "s", ndim=0)


def test_check_choice_probs_psd_length():
    with pytest.raises(ValueError, match="`method` must be one of 'a', 'b'"):
        check_choice("c", "method", ["a", "b"])
    check_probabilities([[0.5, 0.5], [1, 0]], "p")
    with pytest.raises(ValueError, match="sum to 1"):
        check_probabilities([0.5, 0.6], "p")
    with pytest.raises(ValueError, match="non-negative"):
        check_probabilities([1.5, -0.5], "p")
    check_psd(np.eye(3), "cov")
    with pytest.raises(ValueError, match="symmetric"):
        check_psd([[1, 1], [0, 1]], "cov")
    with pytest.raises(ValueError, match="square"):
        check_psd(np.ones((2, 3)), "cov")
    with pytest.raises(ValueError, match="same length"):
        check_same_length("x", [1], "y", [1, 2])


def test_warn_convergence_names_knob():
    with pytest.warns(ConvergenceWarning, match="increase `max_iter`"):
        warn_convergence("did not converge", "max_iter")
