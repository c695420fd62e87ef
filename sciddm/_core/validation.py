"""Small input checks that raise ``ValueError`` naming the argument.

Each public function of sciddm validates its inputs in one place before doing
any work, with messages of the form ``"`p` must be in [1, inf), got 0.5"``.

``ConvergenceWarning`` is scikit-learn's class itself (so that one warnings filter
covers both libraries); it is imported on first lookup, not with this module, because
importing scikit-learn costs about ten times an ``import numpy``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "ConvergenceWarning",
    "check_array",
    "check_choice",
    "check_dense",
    "check_finite",
    "check_int",
    "check_probabilities",
    "check_psd",
    "check_same_length",
    "check_scalar",
    "check_str",
    "is_sparse",
    "validate_estimator_data",
    "warn_convergence",
]


def _interval(lo: float | None, hi: float | None, closed: str) -> str:
    left = "[" if closed in ("both", "left") else "("
    right = "]" if closed in ("both", "right") else ")"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    if lo is None:
        left = "("
    if hi is None:
        right = ")"
    return f"{left}{lo_s}, {hi_s}{right}"


def check_scalar(
    value: Any,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    closed: str = "both",
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float after checking it lies in an interval.

    ``closed`` is one of ``"both"``, ``"left"``, ``"right"``, ``"neither"``.

    Examples
    --------
    >>> from sciddm._core.validation import check_scalar
    >>> check_scalar(2, "p", lo=1)
    2.0
    >>> check_scalar(0.5, "p", lo=1)
    Traceback (most recent call last):
    ...
    ValueError: `p` must be in [1, inf), got 0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise ValueError(f"`{name}` must be a real number, got {value!r}")
    v = float(value)
    if np.isnan(v) or (np.isinf(v) and not allow_inf):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    ok = True
    if lo is not None:
        ok &= v >= lo if closed in ("both", "left") else v > lo
    if hi is not None:
        ok &= v <= hi if closed in ("both", "right") else v < hi
    if not ok:
        raise ValueError(f"`{name}` must be in {_interval(lo, hi, closed)}, got {value!r}")
    return v


def check_int(value: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking ``lo <= value <= hi``.

    Examples
    --------
    >>> from sciddm._core.validation import check_int
    >>> check_int(3, "n", lo=1)
    3
    >>> check_int(0, "n", lo=1)
    Traceback (most recent call last):
    ...
    ValueError: `n` must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"`{name}` must be an integer, got {value!r}")
    v = int(value)
    if lo is not None and v < lo:
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"`{name}` must be an integer {bound}, got {v}")
    if hi is not None and v > hi:
        bound = f"<= {hi}" if lo is None else f"in [{lo}, {hi}]"
        raise ValueError(f"`{name}` must be an integer {bound}, got {v}")
    return v


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices``.

    Examples
    --------
    >>> from sciddm._core.validation import check_choice
    >>> check_choice("qr", "method", ("exact", "sketch"))
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'exact', 'sketch', got 'qr'
    """
    choices = tuple(choices)
    if value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {opts}, got {value!r}")
    return value


def check_finite(x: np.ndarray, name: str) -> np.ndarray:
    """Raise if ``x`` holds NaN or inf, naming the first offending index."""
    arr = np.asarray(x)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        if arr.ndim == 0:
            raise ValueError(f"`{name}` must not contain NaN or inf; found {arr.item()!r}")
        bad = np.argwhere(~np.isfinite(arr))[0]
        idx = tuple(int(i) for i in bad)
        raise ValueError(
            f"`{name}` must not contain NaN or inf; found {arr[idx]!r} at index "
            f"{idx if len(idx) > 1 else idx[0]}"
        )
    return arr


def _check_real(x: Any, name: str) -> None:
    """Refuse complex numbers and text where a real array is expected (numpy would
    drop the imaginary part with a warning, or parse ``"0.5"`` as a number)."""
    if isinstance(x, (bool, int, float)):
        return
    try:
        a = x if isinstance(x, np.ndarray) else np.asarray(x)
    except (TypeError, ValueError):  # ragged input: the conversion reports it
        return
    bad = a.dtype.kind in "cUS"
    if a.dtype.kind == "O":
        bad = any(isinstance(v, (str, bytes, complex)) for v in a.ravel()[:1000])
    if bad:
        raise TypeError(
            f"`{name}` must be a real numeric array, got {'text' if a.dtype.kind in 'USO' else 'complex'} "
            f"values (dtype {a.dtype})"
        )


def check_array(
    x: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: Any = np.float64,
    finite: bool = True,
    min_rows: int = 0,
    shape: Sequence[int | None] | None = None,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``x`` to an array and check its dimension, shape and values.

    Parameters
    ----------
    x : array_like
    name : str
        Name of the argument, used in messages.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    dtype : dtype or None, default float64
        Target dtype; ``None`` keeps the input's.
    finite : bool, default True
        Reject NaN and inf.
    min_rows : int, default 0
        Minimal length of the first axis.
    shape : sequence of int or None, optional
        Expected shape; ``None`` entries are free.

    Examples
    --------
    >>> from sciddm._core.validation import check_array
    >>> check_array([[1, 2]], "A", ndim=2).dtype
    dtype('float64')
    >>> check_array([1.0, float("nan")], "b")
    Traceback (most recent call last):
    ...
    ValueError: `b` must not contain NaN or inf; found ...nan... at index 1
    """
    check_dense(x, name)
    if dtype is not None and np.dtype(dtype).kind in "fiub":
        _check_real(x, name)
    try:
        arr = np.array(x, dtype=dtype, copy=copy) if copy else np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` could not be converted to a numeric array: {exc}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"`{name}` must have {want} dimension(s), got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape)
        ):
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"`{name}` must have shape {want}, got {arr.shape}")
    if min_rows and (arr.ndim == 0 or arr.shape[0] < min_rows):
        raise ValueError(f"`{name}` must have at least {min_rows} row(s), got shape {arr.shape}")
    if finite:
        check_finite(arr, name)
    return arr


def is_sparse(x: Any) -> bool:
    """Whether ``x`` is a scipy.sparse matrix/array or a sparse torch tensor."""
    mod = type(x).__module__
    if mod.startswith("scipy.sparse"):
        return True
    return mod.startswith("torch") and getattr(x, "is_sparse", False) is True


def check_dense(x: Any, name: str) -> Any:
    """Reject sparse input with a message that names the argument and the fix.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sciddm._core.validation import check_dense
    >>> check_dense(sp.eye(3, format="csr"), "A")
    Traceback (most recent call last):
    ...
    TypeError: `A` is a sparse matrix, which this function does not support; pass a dense array (A.toarray())
    """
    if is_sparse(x):
        fix = (
            f"{name}.to_dense()" if type(x).__module__.startswith("torch") else f"{name}.toarray()"
        )
        raise TypeError(
            f"`{name}` is a sparse matrix, which this function does not support; "
            f"pass a dense array ({fix})"
        )
    return x


def check_str(value: Any, name: str, *, what: str = "a string") -> str:
    """Return ``value`` if it is a ``str``; raise ``TypeError`` naming ``name`` otherwise.

    Examples
    --------
    >>> from sciddm._core.validation import check_str
    >>> check_str(b"CCO", "smiles", what="a SMILES string")
    Traceback (most recent call last):
    ...
    TypeError: `smiles` must be a SMILES string (str), got bytes
    """
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be {what} (str), got {type(value).__name__}")
    return value


def check_probabilities(p: Any, name: str, *, axis: int = -1, atol: float = 1e-8) -> np.ndarray:
    """Check that ``p`` is non-negative and sums to one along ``axis``."""
    arr = check_array(p, name, ndim=None)
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be non-negative probabilities, found {arr.min()!r}")
    s = arr.sum(axis=axis)
    if not np.allclose(s, 1.0, atol=atol, rtol=0):
        worst = float(np.max(np.abs(s - 1.0)))
        raise ValueError(f"`{name}` must sum to 1 along axis {axis}; off by up to {worst:.3g}")
    return arr


def check_psd(c: Any, name: str, *, tol: float = 1e-10) -> np.ndarray:
    """Check that ``c`` is a symmetric positive semi-definite matrix.

    Examples
    --------
    >>> from sciddm._core.validation import check_psd
    >>> check_psd([[1.0, 2.0], [2.0, 1.0]], "cov")
    Traceback (most recent call last):
    ...
    ValueError: `cov` must be positive semi-definite; smallest eigenvalue -1
    """
    arr = check_array(c, name, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"`{name}` must be square, got shape {arr.shape}")
    scale = max(1.0, float(np.max(np.abs(arr))) if arr.size else 1.0)
    if not np.allclose(arr, arr.T, atol=tol * scale, rtol=0):
        raise ValueError(f"`{name}` must be symmetric")
    lam_min = float(np.linalg.eigvalsh((arr + arr.T) / 2)[0]) if arr.size else 0.0
    if lam_min < -tol * scale:
        raise ValueError(
            f"`{name}` must be positive semi-definite; smallest eigenvalue {lam_min:.3g}"
        )
    return arr


def check_same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise if ``len(a) != len(b)``."""
    if len(a) != len(b):
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same length, got {len(a)} and {len(b)}"
        )


def warn_convergence(what: str, knob: str, *, stacklevel: int = 3) -> None:
    """Emit a :class:`ConvergenceWarning` naming the knob to turn."""
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(f"{what}; increase `{knob}`", ConvergenceWarning, stacklevel=stacklevel)


_NO_Y = object()


def validate_estimator_data(est: Any, X: Any, y: Any = _NO_Y, **kw: Any) -> Any:
    """scikit-learn's ``validate_data`` with messages that name the argument (`X`, `y`).

    Used by estimators' ``fit``/``predict``; scikit-learn is imported on the call,
    not with this module.
    """
    from sklearn.utils.validation import validate_data

    try:
        if y is _NO_Y:
            return validate_data(est, X, **kw)
        return validate_data(est, X, y, **kw)
    except (TypeError, ValueError) as exc:
        which = "`X`" if y is _NO_Y else "`X` or `y`"
        cls = TypeError if isinstance(exc, TypeError) else ValueError
        raise cls(f"invalid {which}: {exc}") from exc


if not TYPE_CHECKING:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__, {"sklearn.exceptions": ("ConvergenceWarning",)}, __all__
    )
