"""Input checks shared by the ambient modules (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sciddm._core.validation import check_array, check_dense

#: Largest noise level or scale accepted (its square stays finite in float64).
SCALE_CAP = 1e100


def as_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    min_rows: int = 0,
) -> np.ndarray:
    """``x`` as a finite float64 array, with errors that name ``name`` (0-d input included)."""
    check_dense(x, name)
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` could not be converted to an array: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"`{name}` must be real, got complex values")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 0 and not np.isfinite(arr):
        raise ValueError(f"`{name}` must be finite, got {arr.item()!r}")
    return check_array(arr, name, ndim=ndim, shape=shape, min_rows=min_rows)


def mixture_iv(m: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mixture given as ``(weights, means, covariances)``: shapes (k,), (k, d), (k, d, d)."""
    if not isinstance(m, (tuple, list)) or len(m) != 3:
        raise TypeError(f"`{name}` must be a tuple (weights, means, covariances)")
    w = as_array(m[0], f"{name}[0] (weights)", ndim=1, min_rows=1)
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"`{name}` weights must be non-negative with a positive sum")
    mu = as_array(m[1], f"{name}[1] (means)", ndim=2, shape=(w.size, None))
    d = mu.shape[1]
    cov = as_array(m[2], f"{name}[2] (covariances)", ndim=3, shape=(w.size, d, d))
    return w, mu, cov
