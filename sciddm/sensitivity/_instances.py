"""Test matrices with known or extreme sensitivities, and a real design."""

from __future__ import annotations

import itertools

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int, check_scalar

#: float64 entries one call may allocate (2 GiB)
_MAX_ENTRIES = 2**28


def _guard(entries: int, names: str) -> None:
    if entries > _MAX_ENTRIES:
        raise ValueError(
            f"{names} ask for a matrix of {entries:.3g} entries, beyond the 2 GiB limit of one call"
        )


__all__ = [
    "diabetes_design",
    "gaussian_matrix",
    "heavy_tailed_matrix",
    "heavy_tailed_regression",
    "hypercube_matrix",
    "stacked_identities",
]


def gaussian_matrix(n: int, d: int, *, rng: SeedLike = None) -> np.ndarray:
    """An ``n x d`` matrix of i.i.d. standard normal entries (all scores near ``d/n``).

    Parameters
    ----------
    n, d : int
        Shape (positive).
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    ndarray of shape (n, d)

    Examples
    --------
    >>> from sciddm.sensitivity import gaussian_matrix
    >>> gaussian_matrix(5, 2, rng=0).shape
    (5, 2)
    """
    n = check_int(n, "n", lo=1)
    d = check_int(d, "d", lo=1)
    _guard(n * d, "`n` and `d`")
    return as_generator(rng).standard_normal((n, d))


def heavy_tailed_matrix(n: int, d: int, *, df: float = 1.5, rng: SeedLike = None) -> np.ndarray:
    r"""Gaussian rows scaled by :math:`|t_{\mathrm{df}}|` draws: a few rows dominate.

    Row ``i`` is :math:`|s_i| g_i` with :math:`s_i \sim t_{\mathrm{df}}` and
    :math:`g_i \sim N(0, I_d)`; small ``df`` gives very non-uniform
    sensitivities (uniform sampling fails, score sampling does not).

    Parameters
    ----------
    n, d : int
        Shape (positive).
    df : float, default 1.5
        Degrees of freedom of the row scales (positive).
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    ndarray of shape (n, d)

    Examples
    --------
    >>> from sciddm.sensitivity import heavy_tailed_matrix
    >>> heavy_tailed_matrix(4, 3, rng=0).shape
    (4, 3)
    """
    n = check_int(n, "n", lo=1)
    d = check_int(d, "d", lo=1)
    df = check_scalar(df, "df", lo=0, closed="neither")
    _guard(n * d, "`n` and `d`")
    g = as_generator(rng)
    scale = np.abs(g.standard_t(df, size=n))
    return g.standard_normal((n, d)) * scale[:, None]


def heavy_tailed_regression(
    n: int, d: int, *, df: float = 1.5, noise_df: float = 1.0, rng: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""A regression problem ``(A, b)`` with heavy-tailed rows and noise.

    ``A = heavy_tailed_matrix(n, d, df)``, ``b = A x* + e`` with
    :math:`x^* \sim N(0, I)` and Student-t noise with ``noise_df`` degrees of
    freedom (Cauchy by default), where :math:`\ell_1` regression beats least
    squares.

    Parameters
    ----------
    n, d : int
        Shape of ``A`` (positive).
    df : float, default 1.5
        Degrees of freedom of the row scales.
    noise_df : float, default 1.0
        Degrees of freedom of the noise (1: Cauchy).
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    A : ndarray of shape (n, d)
    b : ndarray of shape (n,)

    Examples
    --------
    >>> from sciddm.sensitivity import heavy_tailed_regression
    >>> A, b = heavy_tailed_regression(50, 3, rng=0)
    >>> A.shape, b.shape
    ((50, 3), (50,))
    """
    n = check_int(n, "n", lo=1)
    d = check_int(d, "d", lo=1)
    df = check_scalar(df, "df", lo=0, closed="neither")
    noise_df = check_scalar(noise_df, "noise_df", lo=0, closed="neither")
    g = as_generator(rng)
    A = heavy_tailed_matrix(n, d, df=df, rng=g)
    x = g.standard_normal(A.shape[1])
    return A, A @ x + g.standard_t(noise_df, size=A.shape[0])


def stacked_identities(k: int, d: int) -> np.ndarray:
    r"""``k`` copies of :math:`I_d` stacked: every score equals ``1/k``, :math:`\mathfrak S = d`.

    Parameters
    ----------
    k : int
        Number of copies (positive).
    d : int
        Dimension (positive).

    Returns
    -------
    ndarray of shape (k d, d)

    Examples
    --------
    >>> from sciddm.sensitivity import stacked_identities
    >>> stacked_identities(2, 2)
    array([[1., 0.],
           [0., 1.],
           [1., 0.],
           [0., 1.]])
    """
    k = check_int(k, "k", lo=1)
    d = check_int(d, "d", lo=1)
    _guard(k * d * d, "`k` and `d`")
    return np.tile(np.eye(d), (k, 1))


def hypercube_matrix(d: int) -> np.ndarray:
    r"""The :math:`2^d \times d` matrix of all :math:`\pm 1` rows.

    At ``p = 1`` its sensitivities are all :math:`\binom{d}{d/2}^{-1}` (``d``
    even), so :math:`\mathfrak S_1 = 2^d/\binom{d}{d/2} \approx \sqrt{\pi d/2}`,
    while its Lewis weights and leverage scores are :math:`d/2^d`.

    Parameters
    ----------
    d : int
        Dimension, ``1 <= d <= 20``.

    Returns
    -------
    ndarray of shape (2**d, d)

    Examples
    --------
    >>> from sciddm.sensitivity import hypercube_matrix
    >>> hypercube_matrix(2)
    array([[-1., -1.],
           [-1.,  1.],
           [ 1., -1.],
           [ 1.,  1.]])
    """
    d = check_int(d, "d", lo=1, hi=20)
    return np.array(list(itertools.product([-1.0, 1.0], repeat=d)))


def diabetes_design(*, intercept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's diabetes data (442 x 10, shipped with scikit-learn).

    Parameters
    ----------
    intercept : bool, default True
        Prepend a column of ones.

    Returns
    -------
    A : ndarray of shape (442, 10 + intercept)
        The design.
    b : ndarray of shape (442,)
        The response.

    Examples
    --------
    >>> from sciddm.sensitivity import diabetes_design
    >>> A, b = diabetes_design()
    >>> A.shape, b.shape
    ((442, 11), (442,))
    """
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    if intercept:
        X = np.column_stack([np.ones(X.shape[0]), X])
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
