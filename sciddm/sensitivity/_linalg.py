"""Row-block streaming linear algebra behind the leverage scores.

Everything here touches the tall matrix ``A`` (dense array, numpy memmap or
scipy.sparse matrix) one block of rows at a time, so ``n`` may exceed memory:
Gram matrices, triangular solves, row norms and sparse sketches. Nothing here
forms a Householder QR of the tall matrix.
"""

from __future__ import annotations

import dataclasses
import mmap
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_choice, check_int

__all__ = [
    "P_MAX",
    "Factor",
    "as_matrix",
    "default_block_size",
    "factor",
    "gram",
    "iter_blocks",
    "row_norms_sq",
    "sketch_matrix",
]

#: largest exponent p accepted (|x|^p overflows float64 for ordinary data beyond it)
P_MAX = 100.0
#: float64 entries of the work buffer of the row passes (1 MiB: it stays in cache)
CHUNK_ENTRIES = 1 << 17
_EPS = np.finfo(np.float64).eps
#: relative pivot below which a column of the sketch counts as dependent
_RCOND = 1e-12
#: cond(R) up to which plain Cholesky is accurate enough (error ~ eps * cond^2)
_COND_CHOL = 1e3
#: cond(R) up to which CholeskyQR2 is reliable (Yamamoto et al. 2015)
_COND_CQR2 = 1e7
SKETCHES = ("sparse-sign", "countsketch", "gaussian")


def as_matrix(A: Any, name: str = "A") -> Any:
    """Validate a tall matrix without reading it: 2-D, non-empty, numeric.

    Dense arrays and numpy memmaps are kept as they are (memmaps are read
    block by block later); scipy.sparse inputs become CSR float64; anything
    else goes through :func:`numpy.asarray`. NaN and inf entries are detected
    during the first pass over the data (see :func:`gram`).
    """
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"`{name}` must have 2 dimension(s), got shape {A.shape}")
        A = sp.csr_matrix(A, dtype=np.float64)
        if A.data.size and not np.all(np.isfinite(A.data)):
            raise ValueError(f"`{name}` must not contain NaN or inf")
    elif isinstance(A, np.ndarray):
        if A.ndim != 2:
            raise ValueError(f"`{name}` must have 2 dimension(s), got shape {A.shape}")
        if A.dtype.kind not in "fiub":
            raise ValueError(f"`{name}` must be a real numeric array, got dtype {A.dtype}")
    else:
        try:
            A = np.asarray(A, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"`{name}` could not be converted to a numeric array: {exc}") from exc
        if A.ndim != 2:
            raise ValueError(f"`{name}` must have 2 dimension(s), got shape {A.shape}")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"`{name}` must be non-empty, got shape {A.shape}")
    return A


def default_block_size(d: int) -> int:
    """Rows per block: about 32 MB of float64 per block."""
    return max(1, (1 << 22) // max(int(d), 1))


def _check_block_size(block_size: int | None, d: int) -> int:
    if block_size is None:
        return default_block_size(d)
    return check_int(block_size, "block_size", lo=1)


def _memmap_release(A: Any) -> Callable[[], None] | None:
    """A callable dropping ``A``'s mapped pages from resident memory, or None.

    Pages of a read-only or shared file mapping are backed by the file, so
    ``madvise(MADV_DONTNEED)`` only forgets them (the next access re-reads
    the page cache); the resident set of a pass over a huge memmap then stays
    at one block. Copy-on-write mappings (mode ``"c"``) are left alone.
    """
    obj, mm = A, None
    while obj is not None:
        if isinstance(obj, np.memmap) and getattr(obj, "mode", None) == "c":
            return None
        if isinstance(obj, mmap.mmap):
            mm = obj
            break
        obj = getattr(obj, "base", None)
    if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return None

    def release() -> None:
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # pragma: no cover - platform dependent
            pass

    return release


def iter_blocks(
    A: Any, block_size: int, cols: np.ndarray | None = None
) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(start, stop, block)`` over row blocks of ``A`` as float64.

    Dense blocks are ndarrays (views where possible), sparse blocks CSR.
    """
    n = A.shape[0]
    release = _memmap_release(A) if isinstance(A, np.ndarray) else None
    for start in range(0, n, block_size):
        stop = min(n, start + block_size)
        blk = A[start:stop]
        if sp.issparse(blk):
            if cols is not None:
                blk = blk[:, cols]
        else:
            blk = np.asarray(blk, dtype=np.float64)
            if cols is not None:
                blk = blk[:, cols]
        yield start, stop, blk
        if release is not None:
            release()


def _scaled(blk: Any, s: np.ndarray | None) -> Any:
    if s is None:
        return blk
    if sp.issparse(blk):
        return sp.csr_matrix(blk.multiply(s[:, None]))
    return blk * s[:, None]


def _locate_bad(A: Any, block_size: int, name: str) -> None:
    for start, _, blk in iter_blocks(A, block_size):
        data = blk.data if sp.issparse(blk) else blk
        if not np.all(np.isfinite(data)):
            if sp.issparse(blk):
                raise ValueError(f"`{name}` must not contain NaN or inf")
            i, j = np.argwhere(~np.isfinite(blk))[0]
            raise ValueError(
                f"`{name}` must not contain NaN or inf; found {float(blk[i, j])} at index "
                f"({start + int(i)}, {int(j)})"
            )
    raise ValueError(f"`{name}` overflows float64 in A^T A; rescale it")


def gram(
    A: Any,
    *,
    row_scale: np.ndarray | None = None,
    cols: np.ndarray | None = None,
    right: np.ndarray | None = None,
    block_size: int,
    name: str = "A",
) -> np.ndarray:
    """``(D A[:, cols] M)^T (D A[:, cols] M)`` accumulated over row blocks.

    ``D = diag(row_scale)`` and ``M = right`` (identity if None). Raises a
    ValueError naming ``A`` when an entry is NaN or inf.
    """
    d = A.shape[1] if cols is None else len(cols)
    G = np.zeros((d, d) if right is None else (right.shape[1], right.shape[1]))
    cb = max(64, CHUNK_ENTRIES // max(d, 1))
    buf = np.empty((min(cb, A.shape[0]), d))
    for start, stop, blk in iter_blocks(A, block_size, cols):
        rs = None if row_scale is None else row_scale[start:stop]
        if sp.issparse(blk):
            B = _scaled(blk, rs)
            if right is None:
                G += np.asarray((B.T @ B).toarray())
            else:
                Y = np.asarray(B @ right)
                G += Y.T @ Y
            continue
        if rs is None and right is None:
            G += blk.T @ blk  # one syrk over the block, no copy
            continue
        for r0 in range(0, stop - start, cb):  # scaled copies in a cache-sized buffer
            r1 = min(stop - start, r0 + cb)
            Bc = buf[: r1 - r0]
            if rs is None:
                np.copyto(Bc, blk[r0:r1])
            else:
                np.multiply(blk[r0:r1], rs[r0:r1, None], out=Bc)
            if right is not None:
                Y = Bc @ right
                G += Y.T @ Y
            else:
                G += Bc.T @ Bc
    if not np.all(np.isfinite(G)):
        _locate_bad(A, block_size, name)
    return G


def row_norms_sq(
    A: Any,
    Rinv: np.ndarray,
    *,
    row_scale: np.ndarray | None = None,
    cols: np.ndarray | None = None,
    block_size: int,
    upper: bool = True,
) -> np.ndarray:
    """``||d_i a_i[cols] Rinv||^2`` for every row, one block at a time.

    With ``upper=True`` ``Rinv`` is upper triangular and the product uses
    BLAS ``trmm`` (half the flops of a general product).
    """
    n = A.shape[0]
    out = np.empty(n)
    square = Rinv.shape[0] == Rinv.shape[1]
    trmm = sla.get_blas_funcs("trmm", (Rinv,)) if (upper and square) else None
    RinvF = np.asfortranarray(Rinv)
    d = A.shape[1] if cols is None else len(cols)
    cb = max(64, CHUNK_ENTRIES // max(d, 1))  # rows of a cache-sized work buffer
    buf = np.empty((min(cb, n), d))
    for start, stop, blk in iter_blocks(A, block_size, cols):
        rs = None if row_scale is None else row_scale[start:stop]
        if sp.issparse(blk) or trmm is None:  # a general product: one gemm per block
            Y = np.asarray(_scaled(blk, rs) @ Rinv)
            out[start:stop] = np.einsum("ij,ij->i", Y, Y)
            continue
        for r0 in range(0, stop - start, cb):
            r1 = min(stop - start, r0 + cb)
            # the chunk (scaled) is copied once into a reused C-ordered buffer whose
            # transpose is Fortran-ordered: trmm computes R^{-T} Y^T there in place
            Y = buf[: r1 - r0]
            if rs is None:
                np.copyto(Y, blk[r0:r1])
            else:
                np.multiply(blk[r0:r1], rs[r0:r1, None], out=Y)
            Y = trmm(1.0, RinvF, Y.T, side=0, lower=0, trans_a=1, overwrite_b=1).T
            out[start + r0 : start + r1] = np.einsum("ij,ij->i", Y, Y)
    return out


def sketch_matrix(
    A: Any,
    m: int,
    *,
    kind: str = "sparse-sign",
    rng: SeedLike = None,
    row_scale: np.ndarray | None = None,
    cols: np.ndarray | None = None,
    block_size: int,
    nnz_per_row: int = 4,
) -> np.ndarray:
    """``S D A[:, cols]`` for a random ``m x n`` embedding ``S``, streamed.

    ``kind`` is ``"sparse-sign"`` (each row of ``A`` lands in ``nnz_per_row``
    random buckets with random signs, scaled by ``1/sqrt(nnz)``),
    ``"countsketch"`` (one bucket) or ``"gaussian"`` (i.i.d. N(0, 1/m)).
    The random numbers are drawn in row order, so the sketch does not depend
    on ``block_size``.
    """
    kind = check_choice(kind, "sketch", SKETCHES)
    g = as_generator(rng)
    r = A.shape[1] if cols is None else len(cols)
    SA = np.zeros((m, r))
    s = 1 if kind == "countsketch" else min(int(nnz_per_row), m)
    for start, stop, blk in iter_blocks(A, block_size, cols):
        B = _scaled(blk, None if row_scale is None else row_scale[start:stop])
        b = stop - start
        if kind == "gaussian":
            S = g.standard_normal((m, b)) / np.sqrt(m)
            SA += np.asarray(S @ B) if not sp.issparse(B) else np.asarray((B.T @ S.T).T)
            continue
        buckets = g.integers(0, m, size=(b, s))
        signs = g.integers(0, 2, size=(b, s)) * 2.0 - 1.0
        S = sp.csr_matrix(
            (signs.ravel() / np.sqrt(s), (buckets.ravel(), np.repeat(np.arange(b), s))),
            shape=(m, b),
        )
        SA += np.asarray((S @ B).toarray() if sp.issparse(B) else S @ B)
    return SA


@dataclasses.dataclass(frozen=True)
class Factor:
    """A triangular factor of (a column basis of) ``D A``.

    ``(D A[:, cols]) @ Rinv`` has orthonormal columns (up to rounding) and
    spans the range of ``D A``; ``rank = len(cols)``.
    """

    cols: np.ndarray | None
    R: np.ndarray
    Rinv: np.ndarray
    rank: int
    how: str


def _chol_upper(G: np.ndarray) -> np.ndarray | None:
    try:
        return sla.cholesky(G, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return None


def _tri_inv(R: np.ndarray) -> np.ndarray:
    return sla.solve_triangular(R, np.eye(R.shape[0]), lower=False, check_finite=False)


def _cond(R: np.ndarray) -> float:
    if not np.all(np.isfinite(R)):
        return np.inf
    dg = np.abs(np.diag(R))
    if dg.min() <= 0:
        return np.inf
    sv = np.linalg.svd(R, compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf


def factor(
    A: Any,
    *,
    row_scale: np.ndarray | None = None,
    block_size: int,
    rng: SeedLike = None,
    sketch: str = "sparse-sign",
    name: str = "A",
) -> Factor:
    """Factor ``D A`` for exact leverage scores, streaming over row blocks.

    1. ``G = (DA)^T DA`` (one pass); Cholesky ``G = R^T R``. Accurate when
       ``cond(R) <= 1e3`` (error ``~ eps cond^2``).
    2. Otherwise, if ``cond(R) <= 1e7``: CholeskyQR2, a second Cholesky of the
       Gram matrix of ``DA R^{-1}`` (one more pass), ``R <- R_2 R``.
    3. Otherwise (ill-conditioned or rank-deficient): a sparse sketch
       ``S D A`` (one pass), QR with column pivoting of it gives the numerical
       rank ``r``, a column basis and a preconditioner ``R_s``; then
       CholeskyQR of ``D A[:, cols] R_s^{-1}``, which is well conditioned.
    """
    n, d = A.shape
    G = gram(A, row_scale=row_scale, block_size=block_size, name=name)
    R = _chol_upper(G)
    c = np.inf if R is None else _cond(R)
    if R is not None and c <= _COND_CHOL:
        return Factor(None, R, _tri_inv(R), d, "cholesky")
    if R is not None and c <= _COND_CQR2:
        Rinv = _tri_inv(R)
        R2 = _chol_upper(gram(A, row_scale=row_scale, right=Rinv, block_size=block_size))
        if R2 is not None and _cond(R2) <= _COND_CHOL:
            Rf = R2 @ R
            return Factor(None, Rf, _tri_inv(Rf), d, "cholesky-qr2")
    # sketch-preconditioned path with rank detection
    m = 4 * d + 16
    if n <= m:
        SA = np.zeros((n, d))
        for start, stop, blk in iter_blocks(A, block_size):
            blk = _scaled(blk, None if row_scale is None else row_scale[start:stop])
            SA[start:stop] = blk.toarray() if sp.issparse(blk) else blk
    else:
        SA = sketch_matrix(A, m, kind=sketch, rng=rng, row_scale=row_scale, block_size=block_size)
    Rs, piv = sla.qr(SA, mode="r", pivoting=True, check_finite=False)
    dg = np.abs(np.diag(Rs))
    if dg.size == 0 or dg[0] == 0:
        raise ValueError(f"`{name}` has rank 0 (all rows are zero after scaling)")
    tol = max(_RCOND, max(SA.shape) * _EPS) * dg[0]
    r = int(np.sum(dg > tol))
    cols = np.sort(piv[:r])
    order = np.argsort(piv[:r])  # Rs columns follow piv; reorder to sorted cols
    Rp = Rs[:r, :r]
    # Q R_p = SA[:, piv[:r]]; we need a preconditioner in the sorted column order:
    # SA[:, cols] = Q Rp[:, order]; take its R-factor by a small QR.
    Rpre = sla.qr(Rp[:, order], mode="r", check_finite=False)[0]
    Pinv = _tri_inv(Rpre)
    for _ in range(2):
        G2 = gram(A, row_scale=row_scale, cols=cols, right=Pinv, block_size=block_size)
        R2 = _chol_upper(G2)
        if R2 is None:
            raise np.linalg.LinAlgError(
                "CholeskyQR failed after sketch preconditioning; the matrix is too ill-conditioned"
            )
        Rpre = R2 @ Rpre
        Pinv = _tri_inv(Rpre)
        if _cond(R2) <= _COND_CHOL:
            break
    return Factor(cols, Rpre, Pinv, r, "sketch-qr" if r == d else "sketch-qr-rank")
