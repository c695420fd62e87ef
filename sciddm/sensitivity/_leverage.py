"""Statistical leverage scores, exact and sketched, streamed over row blocks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_choice, check_int, check_scalar

from ._linalg import (
    P_MAX,
    SKETCHES,
    _check_block_size,
    as_matrix,
    factor,
    row_norms_sq,
    sketch_matrix,
)

__all__ = ["leverage_scores", "root_leverage_scores"]


def _weighted_leverage(
    A: Any,
    row_scale: np.ndarray | None,
    *,
    method: str,
    block_size: int,
    rng: np.random.Generator,
    sketch: str = "sparse-sign",
    sketch_size: int | None = None,
    jl_dim: int | None = None,
    name: str = "A",
) -> tuple[np.ndarray, int]:
    """Leverage scores of ``diag(row_scale) A`` and the rank used."""
    n, d = A.shape
    if method == "exact":
        f = factor(A, row_scale=row_scale, block_size=block_size, rng=rng, sketch=sketch, name=name)
        tau = row_norms_sq(A, f.Rinv, row_scale=row_scale, cols=f.cols, block_size=block_size)
        return tau, f.rank
    # sketched (Drineas, Magdon-Ismail, Mahoney & Woodruff 2012, Alg. 1)
    m = sketch_size if sketch_size is not None else max(20 * d, d + 64)
    if n <= m:  # no compression possible: the "sketch" is D A itself (exact)
        SA = np.asarray(_densify(A), dtype=np.float64)
        if row_scale is not None:
            SA = SA * row_scale[:, None]
    else:
        SA = sketch_matrix(A, m, kind=sketch, rng=rng, row_scale=row_scale, block_size=block_size)
    if not np.all(np.isfinite(SA)):
        from ._linalg import _locate_bad

        _locate_bad(A, block_size, name)
    import scipy.linalg as sla

    tol = max(1e-12, max(SA.shape) * np.finfo(float).eps)
    # plain Householder QR of the small sketch; pivoting only if it looks rank-deficient
    R0 = sla.qr(SA, mode="r", check_finite=False)[0][:d, :d]
    dg0 = np.abs(np.diag(R0))
    cols: np.ndarray | None
    if R0.shape[0] == d and dg0.size and dg0.min() > tol * dg0.max():
        cols, r, Rpre = None, d, np.triu(R0)
    else:
        Rs, piv = sla.qr(SA, mode="r", pivoting=True, check_finite=False)
        dg = np.abs(np.diag(Rs))
        if dg.size == 0 or dg[0] == 0:
            raise ValueError(f"`{name}` has rank 0 (all rows are zero)")
        r = int(np.sum(dg > tol * dg[0]))
        cols = np.sort(piv[:r])
        order = np.argsort(piv[:r])
        Rpre = sla.qr(Rs[:r, :r][:, order], mode="r", check_finite=False)[0]
    Pinv = sla.solve_triangular(Rpre, np.eye(r), lower=False, check_finite=False)
    k = jl_dim if jl_dim is not None else max(32, math.ceil(4 * math.log(max(n, 2))))
    if k < r:
        Omega = Pinv @ rng.standard_normal((r, k)) / math.sqrt(k)
        tau = row_norms_sq(
            A, Omega, row_scale=row_scale, cols=cols, block_size=block_size, upper=False
        )
    else:
        tau = row_norms_sq(A, Pinv, row_scale=row_scale, cols=cols, block_size=block_size)
    return tau, r


def leverage_scores(
    A: Any,
    *,
    method: str = "exact",
    sketch: str = "sparse-sign",
    sketch_size: int | None = None,
    jl_dim: int | None = None,
    block_size: int | None = None,
    rng: SeedLike = None,
) -> np.ndarray:
    r"""Statistical leverage scores :math:`\tau_i = a_i^\top (A^\top A)^{+} a_i`.

    Parameters
    ----------
    A : (n, d) array_like, numpy.memmap or scipy.sparse matrix
        The design. Memmaps and sparse matrices are read in row blocks, so
        ``n`` may exceed memory; only ``d x d`` (and, for the sketch, ``m x d``)
        matrices are formed.
    method : {"exact", "sketch"}, default "exact"
        ``"exact"``: Gram matrix, Cholesky, row norms of :math:`A R^{-1}`
        (two passes), with CholeskyQR2 or sketch preconditioning when ``A`` is
        ill-conditioned, and rank detection. ``"sketch"``: the approximation of
        Drineas et al. (2012): a sketch :math:`SA = QR`, then row norms of
        :math:`A R^{-1} \Omega` with a Johnson-Lindenstrauss matrix
        :math:`\Omega`; the scores are constant-factor approximations.
    sketch : {"sparse-sign", "countsketch", "gaussian"}, default "sparse-sign"
        The embedding ``S`` (used by ``"sketch"``, and by ``"exact"`` only to
        precondition ill-conditioned or rank-deficient ``A``).
    sketch_size : int, optional
        Rows of the sketch; default ``max(20 d, d + 64)`` (capped at ``n``).
    jl_dim : int, optional
        Columns of the JL matrix; default ``max(32, ceil(4 log n))``; when it
        is not below the rank the exact row norms of :math:`AR^{-1}` are used.
    block_size : int, optional
        Rows per block (default: about 32 MB of float64).
    rng : numpy.random.Generator, int or None
        Randomness of the sketches.

    Returns
    -------
    tau : (n,) ndarray
        Leverage scores in :math:`[0, 1]`; with ``method="exact"`` their sum
        is ``rank(A)`` (rank-deficient ``A`` is handled through a column basis
        of its range).

    Notes
    -----
    With :math:`A^\top A = R^\top R`, :math:`\tau_i = \|R^{-\top} a_i\|_2^2`,
    the squared row norms of the orthonormal basis :math:`AR^{-1}` of
    :math:`\operatorname{range}(A)`. Cost: :math:`nd^2` flops for the Gram
    matrix plus :math:`nd^2` for the triangular products, versus
    :math:`2nd^2` plus forming :math:`Q` for Householder QR. The sketched
    version costs :math:`O(\mathrm{nnz}(A)(s + k) + m d^2)`.

    References
    ----------
    .. [1] P. Drineas, M. Magdon-Ismail, M. W. Mahoney, D. P. Woodruff, "Fast
       approximation of matrix coherence and statistical leverage", JMLR 13
       (2012), Algorithm 1.
    .. [2] Y. Yamamoto, Y. Nakatsukasa, Y. Yanagisawa, T. Fukaya, "Roundoff
       error analysis of the CholeskyQR2 algorithm", ETNA 44 (2015).
    .. [3] K. L. Clarkson, D. P. Woodruff, "Low rank approximation and
       regression in input sparsity time", STOC 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import leverage_scores
    >>> A = np.vstack([np.eye(3), np.eye(3)])
    >>> leverage_scores(A)
    array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    >>> A = np.random.default_rng(0).standard_normal((1000, 4))
    >>> round(float(leverage_scores(A).sum()), 10)
    4.0
    >>> approx = leverage_scores(A, method="sketch", rng=0)
    >>> bool(np.all(approx / leverage_scores(A) < 3))
    True
    """
    A = as_matrix(A, "A")
    check_choice(method, "method", ("exact", "sketch"))
    check_choice(sketch, "sketch", SKETCHES)
    n, d = A.shape
    bs = _check_block_size(block_size, d)
    if sketch_size is not None:
        sketch_size = check_int(sketch_size, "sketch_size", lo=1)
    if jl_dim is not None:
        jl_dim = check_int(jl_dim, "jl_dim", lo=1)
    tau, _ = _weighted_leverage(
        A,
        None,
        method=method,
        block_size=bs,
        rng=as_generator(rng),
        sketch=sketch,
        sketch_size=sketch_size,
        jl_dim=jl_dim,
    )
    return np.clip(tau, 0.0, None if method == "sketch" else 1.0)


def root_leverage_scores(A: Any, p: float, *, block_size: int | None = None) -> np.ndarray:
    r"""Root leverage scores, upper bounds on the :math:`\ell_p` sensitivities.

    Returns :math:`\tau_i^{p/2}` for :math:`p \le 2` and
    :math:`n^{p/2-1}\tau_i^{p/2}` for :math:`p > 2`.

    Parameters
    ----------
    A : (n, d) array_like, numpy.memmap or scipy.sparse matrix
    p : float
        The :math:`\ell_p` exponent, :math:`1 \le p \le 100`.
    block_size : int, optional
        Rows per block.

    Returns
    -------
    (n,) ndarray

    Notes
    -----
    For :math:`p \le 2`, :math:`|a_i^\top x|^p \le (\tau_i \|Ax\|_2^2)^{p/2}
    \le \tau_i^{p/2}\|Ax\|_p^p` since :math:`\|y\|_2 \le \|y\|_p`, so
    :math:`\sigma_i \le \tau_i^{p/2}`. For :math:`p > 2`,
    :math:`\|y\|_2 \le n^{1/2-1/p}\|y\|_p` gives the extra factor
    :math:`n^{p/2-1}`. Their sum is at most :math:`n^{1-p/2} d^{p/2}` (by
    concavity) for :math:`p \le 2`.

    References
    ----------
    .. [1] D. P. Woodruff, T. Yasuda, "Sharper bounds for lp sensitivity
       sampling", ICML 2023, Section 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import root_leverage_scores
    >>> root_leverage_scores(np.vstack([np.eye(2)] * 4), p=1)
    array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    """
    A = as_matrix(A, "A")
    p = check_scalar(p, "p", lo=1, hi=P_MAX)
    tau = leverage_scores(A, block_size=block_size)
    out = tau ** (p / 2)
    if p > 2:
        out = out * A.shape[0] ** (p / 2 - 1)
    return out


def _densify(A: Any, name: str = "A") -> np.ndarray:
    """A dense float64 copy of a (moderate) matrix."""
    if sp.issparse(A):
        return np.asarray(A.toarray(), dtype=np.float64)
    return np.asarray(A, dtype=np.float64)
