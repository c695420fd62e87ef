"""l_p regression (IRLS, LP, sketch-and-solve) and subspace-embedding distortion."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import scipy.sparse as sp

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import (
    check_array,
    check_choice,
    check_int,
    check_scalar,
    warn_convergence,
)

from ._leverage import _densify
from ._linalg import P_MAX, as_matrix, default_block_size, factor
from ._sampling import SCORE_METHODS, RowSample, sample_rows
from ._sensitivity import _exact

__all__ = [
    "DistortionResult",
    "LpRegressionResult",
    "embedding_distortion",
    "lp_regression",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, repr=False)
class LpRegressionResult(Result):
    r"""The solution of :math:`\min_x \|Ax - b\|_p`.

    Attributes
    ----------
    coef : (d,) ndarray
    residual_norm : float
        :math:`\|Ax - b\|_p` on the full data.
    objective : float
        :math:`\|Ax - b\|_p^p` on the full data.
    n_iter : int
        IRLS iterations (0 for the LP).
    converged : bool
    method : str
    p : float
    sample : RowSample or None
        The row sample of ``method="sketch"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import lp_regression
    >>> A = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> res = lp_regression(A, np.array([0.0, 1.0, 2.0, 3.0, 9.0]), p=1)
    >>> np.round(res.coef, 8).tolist(), res.method, round(res.objective, 8)
    ([0.0, 1.0], 'lp', 5.0)
    """

    coef: np.ndarray
    residual_norm: float
    objective: float
    n_iter: int
    converged: bool
    method: str
    p: float
    sample: RowSample | None = None


def _lp_l1(A: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """min sum_i w_i |a_i^T x - b_i| through its dual LP (n variables, d rows).

    Dual: max b^T y s.t. A^T y = 0, |y_i| <= w_i; ``x`` is the multiplier of
    the equality constraints (its sign is fixed by comparing objectives).
    """
    n, d = A.shape
    ww = np.ones(n) if w is None else w
    bounds = np.column_stack([-ww, ww])
    from scipy.optimize import linprog  # lazily: scipy.optimize costs ~4 numpy imports

    res = linprog(
        -b,
        A_eq=A.T,
        b_eq=np.zeros(d),
        bounds=bounds,
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:  # pragma: no cover
        raise RuntimeError(f"HiGHS failed: {res.message}")
    x = np.asarray(res.eqlin.marginals, dtype=float)
    f_pos = float(np.sum(ww * np.abs(A @ x - b)))
    f_neg = float(np.sum(ww * np.abs(A @ -x - b)))
    return x if f_pos <= f_neg else -x


def _irls(
    A: np.ndarray,
    b: np.ndarray,
    p: float,
    *,
    w: np.ndarray | None,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, bool]:
    """Safeguarded IRLS for min sum_i w_i |a_i^T x - b_i|^p, p >= 1.

    Each step solves the weighted least-squares problem with weights
    ``w_i |r_i|^(p-2)`` (residuals floored at ``1e-10 max|r|``) and moves
    towards it with step ``1/(p-1)`` (the Newton step; 1 at p = 1, the
    majorise-minimise step), halving until the objective decreases.
    """
    ww = np.ones(A.shape[0]) if w is None else w
    sw = np.sqrt(ww)
    x = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)[0]
    if p == 2.0:
        return x, 1, True

    def obj(z: np.ndarray) -> float:
        return float(np.sum(ww * np.abs(A @ z - b) ** p))

    f = obj(x)
    t0 = 1.0 if p == 1.0 else 1.0 / (p - 1.0)  # the Newton step
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        r = A @ x - b
        ar = np.abs(r)
        floor = 1e-10 * max(float(ar.max()), 1e-300)
        wt = ww * np.maximum(ar, floor) ** (p - 2)
        s = np.sqrt(wt)
        x_ls = np.linalg.lstsq(A * s[:, None], b * s, rcond=None)[0]
        dx = x_ls - x
        t = t0
        f_new = obj(x + t * dx)
        for _ in range(40):
            if f_new < f:
                break
            t *= 0.5
            f_new = obj(x + t * dx)
        if f_new >= f:
            converged = True  # no decrease possible: stationary to rounding
            break
        x = x + t * dx
        rel = (f - f_new) / max(f, 1e-300)
        f = f_new
        if rel <= tol or t * np.linalg.norm(dx) <= 1e-13 * np.linalg.norm(x):
            converged = True
            break
    return x, it, converged


def _check_sample_rank(As: np.ndarray, A: Any, knob: str) -> None:
    """Raise when the sampled rows ``As`` span less than the columns of ``A`` do.

    A rank-deficient subproblem has many minimisers, and any one of them would be
    returned as if it were the answer; ``knob`` is the argument to increase.
    """
    d = A.shape[1]
    r_s = int(np.linalg.matrix_rank(As)) if As.shape[0] else 0
    if r_s >= d:
        return
    r_a = factor(A, block_size=default_block_size(d), rng=0).rank
    if r_s < r_a:
        raise ValueError(
            f"the sample of {As.shape[0]} rows has rank {r_s} < rank(A) = {r_a}, so the "
            f"sampled problem has no unique solution; increase `{knob}`"
        )


def _regression_iv(
    A: Any, b: Any, p: float, method: str, solver: str, sample_size: Any, sampling: str,
    tol: float, max_iter: int,
) -> tuple[Any, np.ndarray, float, str, str, int, float, int]:  # fmt: skip
    """Validate :func:`lp_regression`'s arguments; resolve ``"auto"`` and the sample size."""
    A = as_matrix(A, "A")
    p = check_scalar(p, "p", lo=1, hi=P_MAX)
    method = check_choice(method, "method", ("auto", "irls", "lp", "sketch"))
    solver = check_choice(solver, "solver", ("auto", "irls", "lp"))
    check_choice(sampling, "sampling", SCORE_METHODS)
    tol = check_scalar(tol, "tol", lo=0)
    max_iter = check_int(max_iter, "max_iter", lo=1)
    b = check_array(b, "b", ndim=1)
    n, d = A.shape
    if b.shape[0] != n:
        raise ValueError(f"`b` must have length {n} (rows of `A`), got {b.shape[0]}")
    if method == "lp" and p != 1.0:
        raise ValueError(f"method='lp' needs `p` = 1, got {p:g}")
    if method == "auto":
        method = "lp" if p == 1.0 else "irls"
    k = 0
    if method == "sketch":
        if solver == "lp" and p != 1.0:
            raise ValueError(f"solver='lp' needs `p` = 1, got {p:g}")
        solver = "lp" if (solver == "lp" or (solver == "auto" and p == 1.0)) else "irls"
        k = (
            min(n, 50 * (d + 1))
            if sample_size is None
            else check_int(sample_size, "sample_size", lo=1)
        )
        if k > n:
            raise ValueError(f"`sample_size` must be <= n = {n}, got {k}")
        if k < d:
            raise ValueError(
                f"`sample_size` must be >= d = {d} (the columns of `A`) for a determined "
                f"sampled problem, got {k}"
            )
    return A, b, p, method, solver, k, tol, max_iter


def lp_regression(
    A: Any,
    b: Any,
    p: float,
    *,
    method: str = "auto",
    solver: str = "auto",
    sample_size: int | None = None,
    sampling: str = "lewis",
    tol: float = 1e-15,
    max_iter: int = 1000,
    rng: SeedLike = None,
) -> LpRegressionResult:
    r"""Solve :math:`\min_x \|Ax - b\|_p` exactly or on a sampled subproblem.

    Parameters
    ----------
    A : (n, d) array_like, numpy.memmap or scipy.sparse matrix
    b : (n,) array_like
    p : float
        Exponent, ``1 <= p <= 100``.
    method : {"auto", "irls", "lp", "sketch"}, default "auto"
        ``"lp"``: the exact linear program at ``p = 1`` (HiGHS, through its
        dual with ``n`` bounded variables and ``d`` equalities); ``"irls"``:
        safeguarded iteratively reweighted least squares (exact for
        ``p > 1``, approximate at ``p = 1``); ``"sketch"``: sample
        ``sample_size`` rows of ``[A, b]`` with ``sampling`` scores and solve
        the rescaled subproblem (sketch-and-solve); ``"auto"``: ``"lp"`` at
        ``p = 1``, otherwise ``"irls"``.
    solver : {"auto", "irls", "lp"}, default "auto"
        Solver of the subproblem of ``method="sketch"``.
    sample_size : int, optional
        Rows kept by ``"sketch"`` (default ``min(n, 50 (d + 1))``).
    sampling : str, default "lewis"
        Scores for ``"sketch"`` (see :func:`row_scores`).
    tol : float, default 1e-15
        IRLS stops when the relative decrease of the objective is below it.
    max_iter : int, default 1000
        IRLS iteration cap (a ConvergenceWarning names it). Near-zero residuals of
        high-leverage rows make IRLS converge linearly for 1 < p < 2, hence the
        generous cap; each iteration is one small weighted least-squares solve.
    rng : numpy.random.Generator, int or None
        Randomness of the sample.

    Returns
    -------
    LpRegressionResult

    Notes
    -----
    IRLS minimises :math:`f(x) = \sum_i |r_i|^p` by the weighted least-squares
    steps :math:`x^+ = \arg\min_z \sum_i |r_i|^{p-2}(a_i^\top z - b_i)^2`; for
    :math:`p \le 2` the quadratic majorises :math:`f` (monotone descent); the
    Newton step is :math:`1/(p-1)` times the IRLS step for every ``p > 1``,
    and is used with backtracking (so it falls back towards the majorising
    step for ``p < 2`` and does not overshoot for ``p > 2``). The sketch keeps the
    guarantee :math:`\|A\hat x - b\|_p \le (1+O(\varepsilon))\min_x\|Ax-b\|_p`
    when the sample is an :math:`\varepsilon` subspace embedding of
    :math:`[A, b]`.

    References
    ----------
    .. [1] D. P. Woodruff, T. Yasuda, "Sharper bounds for lp sensitivity
       sampling", ICML 2023, Section 1.1.
    .. [2] C. S. Burrus, "Iterative reweighted least squares", OpenStax CNX (2012).
    .. [3] A. Dasgupta, P. Drineas, B. Harb, R. Kumar, M. W. Mahoney, "Sampling
       algorithms and coresets for lp regression", SIAM J. Comput. 38 (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import lp_regression
    >>> A = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> b = np.array([0.0, 1.0, 2.0, 3.0, 40.0])   # one outlier
    >>> res = lp_regression(A, b, p=1)
    >>> np.round(res.coef, 8), round(res.residual_norm, 8)
    (array([0., 1.]), 36.0)
    """
    A, b, p, method, solver, k, tol, max_iter = _regression_iv(
        A, b, p, method, solver, sample_size, sampling, tol, max_iter
    )
    sample = None
    Ad = None
    if method == "sketch":
        if sp.issparse(A):
            Ab = sp.hstack([A, sp.csr_matrix(b[:, None])]).tocsr()
        else:
            Ab = np.column_stack([np.asarray(A, dtype=np.float64), b])
        sample = sample_rows(Ab, p, method=sampling, size=k, rng=as_generator(rng))
        As = _densify(sample.apply(A))
        bs = sample.apply(b)
        _check_sample_rank(As, A, "sample_size")
        if solver == "lp":
            x, it, conv = _lp_l1(As, bs), 0, True
        else:
            x, it, conv = _irls(As, bs, p, w=None, tol=tol, max_iter=max_iter)
    else:
        Ad = _densify(A)
        if method == "lp":
            x, it, conv = _lp_l1(Ad, b), 0, True
        else:
            x, it, conv = _irls(Ad, b, p, w=None, tol=tol, max_iter=max_iter)
    if not conv:
        warn_convergence(f"IRLS (p={p:g}) did not converge in {max_iter} iterations", "max_iter")
    r = (A @ x if Ad is None else Ad @ x) - b
    obj = float(np.sum(np.abs(r) ** p))
    return LpRegressionResult(
        coef=x,
        residual_norm=obj ** (1.0 / p),
        objective=obj,
        n_iter=int(it),
        converged=bool(conv),
        method=method,
        p=p,
        sample=sample,
    )


@dataclasses.dataclass(frozen=True, repr=False)
class DistortionResult(Result):
    r"""How far a row sample is from an :math:`\ell_p` subspace embedding.

    Attributes
    ----------
    distortion : float
        :math:`\max_x |\|SAx\|_p^p / \|Ax\|_p^p - 1|` (exact for ``p = 2``,
        otherwise a lower bound attained at ``x``).
    min_ratio, max_ratio : float
        Smallest and largest ratio :math:`\|SAx\|_p^p/\|Ax\|_p^p` found.
    x : (d,) ndarray
        A direction attaining ``distortion``.
    exact : bool
        True for ``p = 2``.
    n_evaluated : int
        Directions evaluated (before local optimisation).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import embedding_distortion
    >>> A = np.random.default_rng(0).standard_normal((50, 2))
    >>> r = embedding_distortion(A, (np.arange(50), np.full(50, 2.0 ** 0.5)), p=2)
    >>> round(r.distortion, 10), r.exact   # every ratio is 2
    (1.0, True)
    """

    distortion: float
    min_ratio: float
    max_ratio: float
    x: np.ndarray
    exact: bool
    n_evaluated: int


def _as_sample(sample: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(sample, RowSample):
        if sample.probabilities.size != n:
            raise ValueError(f"`sample` was drawn from {sample.probabilities.size} rows, not {n}")
        return sample.indices, sample.weights
    if not (isinstance(sample, (tuple, list)) and len(sample) == 2):
        raise ValueError("`sample` must be a RowSample or a pair (indices, weights)")
    idx = check_array(sample[0], "sample", ndim=1, dtype=None)
    if idx.size and idx.dtype.kind not in "iu":
        raise ValueError(f"`sample` indices must be integers, got dtype {idx.dtype}")
    idx = idx.astype(np.intp)
    w = check_array(sample[1], "sample", ndim=1)
    if idx.shape != w.shape:
        raise ValueError("`sample` indices and weights must have the same length")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"`sample` indices must be in [0, {n - 1}]")
    return idx, w


def embedding_distortion(
    A: Any,
    sample: Any,
    p: float,
    *,
    n_directions: int = 200,
    n_local: int = 4,
    n_maximisers: int = 8,
    rng: SeedLike = None,
) -> DistortionResult:
    r"""Distortion :math:`\max_x |\|SAx\|_p^p/\|Ax\|_p^p - 1|` of a row sample.

    Parameters
    ----------
    A : (n, d) array_like or scipy.sparse matrix
    sample : RowSample or (indices, weights)
        The sampling-and-rescaling matrix ``S``.
    p : float
        Exponent, ``1 <= p <= 100``.
    n_directions : int, default 200
        Random Gaussian directions in an orthonormal basis of range(A).
    n_local : int, default 4
        Best candidates (for the largest and for the smallest ratio) refined by
        L-BFGS on :math:`\log` of the ratio.
    n_maximisers : int, default 8
        Rows whose exact sensitivity maximisers are added as candidates (the
        sampled rows with the largest weights and the unsampled rows with the
        largest leverage).
    rng : numpy.random.Generator, int or None

    Returns
    -------
    DistortionResult

    Notes
    -----
    For ``p = 2`` the ratios are the eigenvalues of
    :math:`R^{-\top}(SA)^\top SA R^{-1}` with :math:`A^\top A = R^\top R`, so
    the distortion is exact. For ``p != 2`` the supremum is NP-hard in
    general; every ratio reported is attained at a returned direction, so
    ``distortion`` is a certified lower bound of the true distortion.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import embedding_distortion
    >>> A = np.random.default_rng(0).standard_normal((100, 3))
    >>> idx = np.arange(100)
    >>> embedding_distortion(A, (idx, np.ones(100)), p=1, rng=0).distortion < 1e-12
    True
    >>> round(embedding_distortion(A, (idx, np.full(100, 2.0)), p=2).distortion, 10)
    3.0
    """
    A = as_matrix(A, "A")
    p = check_scalar(p, "p", lo=1, hi=P_MAX)
    n_directions = check_int(n_directions, "n_directions", lo=1, hi=10**5)
    n_local = check_int(n_local, "n_local", lo=0, hi=1000)
    n_maximisers = check_int(n_maximisers, "n_maximisers", lo=0, hi=10**4)
    n = A.shape[0]
    idx, w = _as_sample(sample, n)
    g = as_generator(rng)
    f = factor(A, block_size=default_block_size(A.shape[1]), rng=g)
    Ad = _densify(A)
    if f.cols is not None:
        Ad = Ad[:, f.cols]
    U = Ad @ f.Rinv
    SU = U[idx] * w[:, None]
    r = U.shape[1]

    def back(z: np.ndarray) -> np.ndarray:
        x = np.zeros(A.shape[1])
        x[f.cols if f.cols is not None else slice(None)] = f.Rinv @ z
        return x

    if p == 2.0:
        _, s, Vt = np.linalg.svd(SU, full_matrices=False)
        lam = np.zeros(r)
        lam[: s.size] = s**2
        dev = np.abs(lam - 1.0)
        k = int(np.argmax(dev))
        V = Vt.T if s.size == r else np.linalg.svd(SU.T @ SU)[0]
        return DistortionResult(
            float(dev[k]), float(lam.min()), float(lam.max()), back(V[:, k]), True, r
        )
    Z = _candidates(U, idx, w, p, n_directions, n_maximisers, g)
    rho = _ratios(SU, U, Z, p)
    hi = (float(rho.max()), Z[:, int(np.argmax(rho))])
    lo = (float(rho.min()), Z[:, int(np.argmin(rho))])
    hi, lo = _refine(SU, U, Z, rho, p, n_local, hi, lo)
    if hi[0] - 1.0 >= 1.0 - lo[0]:
        dist, zbest = hi[0] - 1.0, hi[1]
    else:
        dist, zbest = 1.0 - lo[0], lo[1]
    return DistortionResult(float(dist), lo[0], hi[0], back(zbest), False, Z.shape[1])


def _ratios(SU: np.ndarray, U: np.ndarray, Z: np.ndarray, p: float) -> np.ndarray:
    """``||SU z||_p^p / ||U z||_p^p`` for every column ``z`` of ``Z``."""
    num = np.sum(np.abs(SU @ Z) ** p, axis=0)
    den = np.sum(np.abs(U @ Z) ** p, axis=0)
    return num / den


def _candidates(
    U: np.ndarray, idx: np.ndarray, w: np.ndarray, p: float, n_directions: int,
    n_maximisers: int, g: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """Candidate directions (columns): Gaussian, coordinate, and sensitivity maximisers."""
    n, r = U.shape
    cands = [g.standard_normal((r, n_directions)), np.eye(r)]
    if n_maximisers:
        lev = np.einsum("ij,ij->i", U, U)
        heavy = idx[np.argsort(-w)[: n_maximisers // 2]] if idx.size else idx
        mask = np.ones(n, dtype=bool)
        mask[idx] = False
        out = np.flatnonzero(mask)
        light = out[np.argsort(-lev[out])[: n_maximisers - heavy.size]]
        rows = np.unique(np.concatenate([heavy, light])).astype(np.intp)
        if rows.size:
            _, X = _exact(U, p, rows)
            cands.append(X.T)
    Z = np.concatenate(cands, axis=1)
    return Z[:, np.linalg.norm(U @ Z, axis=0) > 0]


_Best = tuple[float, np.ndarray]


def _refine(
    SU: np.ndarray, U: np.ndarray, Z: np.ndarray, rho: np.ndarray, p: float, n_local: int,
    hi: _Best, lo: _Best,
) -> tuple[_Best, _Best]:  # fmt: skip
    """L-BFGS on log of the ratio from the ``n_local`` best candidates of each side."""
    from scipy.optimize import minimize  # lazily, as in _lp_l1

    def neg_log_ratio(z: np.ndarray, sign: float) -> tuple[float, np.ndarray]:
        a, bb = SU @ z, U @ z
        na, nb = np.sum(np.abs(a) ** p), np.sum(np.abs(bb) ** p)
        if na <= 0 or nb <= 0:
            return 0.0, np.zeros_like(z)
        ga = p * SU.T @ (np.sign(a) * np.abs(a) ** (p - 1)) / na
        gb = p * U.T @ (np.sign(bb) * np.abs(bb) ** (p - 1)) / nb
        val = np.log(na) - np.log(nb)
        return -sign * val, -sign * (ga - gb)

    for sign, order in ((1.0, np.argsort(-rho)), (-1.0, np.argsort(rho))):
        for j in order[:n_local]:
            res = minimize(
                neg_log_ratio,
                Z[:, j],
                args=(sign,),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": 200},
            )
            z = res.x
            val = float(_ratios(SU, U, z[:, None], p)[0])
            if np.isfinite(val):
                if val > hi[0]:
                    hi = (val, z)
                if val < lo[0]:
                    lo = (val, z)
    return hi, lo
