"""Exact l_p sensitivities (per-row convex programs) and their upper bounds."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from sciddm._core.rng import UNSET, check_rng
from sciddm._core.validation import check_array, check_choice, check_scalar

from ._leverage import _densify, leverage_scores
from ._lewis import lewis_weights
from ._linalg import P_MAX, as_matrix, default_block_size, factor

__all__ = ["lp_sensitivities", "total_sensitivity"]

logger = logging.getLogger(__name__)

METHODS = ("exact", "lewis", "root-leverage")


def _orthonormal_basis(A: Any) -> np.ndarray:
    """``A[:, cols] R^{-1}``: an orthonormal basis of range(A), dense."""
    f = factor(A, block_size=default_block_size(A.shape[1]), rng=0)
    Ad = _densify(A)
    if f.cols is not None:
        Ad = Ad[:, f.cols]
    return Ad @ f.Rinv


_HIGHS_OPTS = {
    "presolve": False,
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
}


def _l1_sensitivity(U: np.ndarray, i: int) -> tuple[float, np.ndarray]:
    """sigma_i at p = 1 by the dual LP and the maximiser ``x`` (``u_i^T x = 1``).

    ``min{||Ux||_1 : u_i^T x = 1} = max{lam : U^T y = lam u_i, |y| <= 1}``.
    """
    from scipy.optimize import linprog  # lazily: scipy.optimize costs ~4 numpy imports

    n, r = U.shape
    c = np.zeros(n + 1)
    c[-1] = -1.0
    A_eq = np.hstack([U.T, -U[i][:, None]])
    bounds = [(-1.0, 1.0)] * n + [(None, None)]
    for how, opts in (("highs-ds", _HIGHS_OPTS), ("highs", {}), ("highs-ipm", {})):
        res = linprog(c, A_eq=A_eq, b_eq=np.zeros(r), bounds=bounds, method=how, options=opts)
        if res.status == 0:
            break
    else:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"HiGHS failed on row {i}: {res.message}")
    lam = -float(res.fun)
    # the primal solution x is the vector of equality multipliers (up to sign)
    x = -np.asarray(res.eqlin.marginals, dtype=float)
    s = float(U[i] @ x)
    x = x / s if s != 0 else x
    return 1.0 / lam, x


def _lp_newton(
    U: np.ndarray, rows: np.ndarray, p: float, *, max_iter: int = 100, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """min ||Ux||_p^p s.t. u_i^T x = 1 for many rows at once (p > 1).

    Equality-constrained Newton with Armijo backtracking, vectorised over the
    rows; for ``p < 2`` the Hessian weights ``|y|^{p-2}`` are capped at a
    tiny ``|y|``, which keeps the direction a descent direction.
    """
    n, r = U.shape
    UU = (U[:, :, None] * U[:, None, :]).reshape(n, r * r)
    fmin = np.empty(len(rows))
    X_all = np.empty((len(rows), r))
    for s0 in range(0, len(rows), chunk):
        idx = rows[s0 : s0 + chunk]
        C = U[idx]  # (K, r) constraint vectors
        X = C / np.sum(C * C, axis=1, keepdims=True)
        K = len(idx)
        Y = U @ X.T  # (n, K)
        f = np.sum(np.abs(Y) ** p, axis=0)
        active = np.ones(K, dtype=bool)
        for _ in range(max_iter):
            a = np.flatnonzero(active)
            if a.size == 0:
                break
            Ya = Y[:, a]
            absY = np.abs(Ya)
            G = p * (U.T @ (np.sign(Ya) * absY ** (p - 1)))  # (r, Ka)
            if p < 2:
                floor = 1e-10 * absY.max(axis=0, keepdims=True) + 1e-300
                Wt = np.maximum(absY, floor) ** (p - 2)
            else:
                Wt = absY ** (p - 2)
            H = (UU.T @ Wt).T.reshape(-1, r, r) * (p * (p - 1))
            tr = np.trace(H, axis1=1, axis2=2)[:, None, None] / r
            H = H + (1e-13 * tr + 1e-300) * np.eye(r)[None]
            rhs = np.stack([G.T, C[a]], axis=2)  # (Ka, r, 2)
            sol = np.linalg.solve(H, rhs)
            Hg, Hc = sol[:, :, 0], sol[:, :, 1]
            cHg = np.sum(C[a] * Hg, axis=1)
            cHc = np.sum(C[a] * Hc, axis=1)
            D = -Hg + Hc * (cHg / cHc)[:, None]  # (Ka, r), keeps c^T x = 1
            slope = np.sum(G.T * D, axis=1)  # g^T d <= 0
            fa = f[a]
            done = -slope <= 1e-22 * fa
            UD = U @ D.T
            t = np.ones(a.size)
            newf = np.sum(np.abs(Ya + UD) ** p, axis=0)
            for _ls in range(60):
                bad = (newf > fa + 0.25 * t * slope) & ~done
                if not bad.any():
                    break
                t[bad] *= 0.5
                newf[bad] = np.sum(np.abs(Ya[:, bad] + t[bad] * UD[:, bad]) ** p, axis=0)
            improve = (newf < fa) & ~done
            X[a[improve]] += t[improve, None] * D[improve]
            Y[:, a[improve]] = Ya[:, improve] + t[improve] * UD[:, improve]
            f[a[improve]] = newf[improve]
            rel = (fa - newf) <= 1e-15 * fa
            active[a[done | ~improve | rel]] = False
        fmin[s0 : s0 + K] = f
        X_all[s0 : s0 + K] = X
    return fmin, X_all


def _exact(U: np.ndarray, p: float, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact sensitivities of ``rows`` and maximisers (in U coordinates)."""
    norms = np.einsum("ij,ij->i", U[rows], U[rows])
    sig = np.zeros(len(rows))
    X = np.zeros((len(rows), U.shape[1]))
    nz = np.flatnonzero(norms > 1e-28)
    if p == 2.0:
        sig[nz] = norms[nz]
        X[nz] = U[rows[nz]] / norms[nz, None]
        return sig, X
    if p == 1.0:
        for k in nz:
            s, x = _l1_sensitivity(U, int(rows[k]))
            sig[k], X[k] = s, x
        return sig, X
    fmin, Xn = _lp_newton(U, rows[nz], p)
    sig[nz] = 1.0 / fmin
    X[nz] = Xn
    return np.minimum(sig, 1.0), X


def _sens_iv(
    A: Any, p: float, method: str, rows: Any = None
) -> tuple[Any, float, str, np.ndarray | None]:
    A = as_matrix(A, "A")
    p = check_scalar(p, "p", lo=1, hi=P_MAX)
    method = check_choice(method, "method", METHODS)
    if rows is None:
        return A, p, method, None
    if method != "exact":
        raise ValueError("`rows` is only supported with method='exact'")
    idx = check_array(rows, "rows", ndim=1, dtype=None)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"`rows` must hold integers, got dtype {idx.dtype}")
    n = A.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"`rows` must be in [0, {n - 1}]")
    return A, p, method, np.asarray(idx, dtype=np.intp)


def lp_sensitivities(
    A: Any,
    p: float,
    *,
    method: str = "exact",
    rows: Any = None,
    rng: Any = UNSET,
) -> np.ndarray:
    r"""The :math:`\ell_p` sensitivities of the rows of ``A``, or upper bounds.

    .. math:: \sigma_i = \sup_{Ax \ne 0} \frac{|a_i^\top x|^p}{\|Ax\|_p^p},
              \qquad \frac{1}{\sigma_i} = \min_{a_i^\top x = 1} \|Ax\|_p^p .

    Parameters
    ----------
    A : (n, d) array_like, numpy.memmap or scipy.sparse matrix
    p : float
        Exponent, ``1 <= p <= 100`` (for ``p < 1`` the program is not convex).
    method : {"exact", "lewis", "root-leverage"}, default "exact"
        ``"exact"``: one convex program per row, in an orthonormal basis of
        range(A): the dual linear program
        :math:`\max\{\lambda : U^\top y = \lambda u_i, \|y\|_\infty \le 1\}`
        solved by HiGHS at ``p = 1``, equality-constrained Newton with line
        search for ``p > 1`` (``A`` is densified: moderate ``n``).
        ``"lewis"``: the upper bound :math:`\min(1, w_i)` for ``p <= 2`` and
        :math:`\min(1, d^{p/2-1} w_i)` for ``p > 2`` from Lewis weights.
        ``"root-leverage"``: :math:`\min(1, \tau_i^{p/2})` (times
        :math:`n^{p/2-1}` for ``p > 2``).
    rows : array_like of int, optional
        Only these rows (``method="exact"``).
    rng : deprecated
        Ignored: the sensitivities are deterministic. Passing it warns
        (``DeprecationWarning``); it will be removed in the next release.

    Returns
    -------
    (n,) or (len(rows),) ndarray

    Notes
    -----
    For ``p = 2`` all three coincide with the leverage scores. The bounds
    come from :math:`|a_i^\top x|^p \le w_i \|Ax\|_p^p` for ``p <= 2`` and
    :math:`\le d^{p/2-1} w_i \|Ax\|_p^p` for ``p > 2`` (Woodruff & Yasuda
    2023, Section 4; Chen & Derezinski 2021 for the converse factor
    :math:`d^{1-p/2}`), and from
    :func:`root_leverage_scores`. Their sum, the total sensitivity
    :math:`\mathfrak S`, satisfies :math:`d^{p/2} \le \mathfrak S \le d` for
    ``p < 2`` and :math:`d \le \mathfrak S \le d^{p/2}` for ``p > 2`` when
    ``A`` has full column rank.

    References
    ----------
    .. [1] D. P. Woodruff, T. Yasuda, "Sharper bounds for lp sensitivity
       sampling", ICML 2023 (arXiv:2306.00732), Section 1 (definition) and
       Section 4 (properties of lp sensitivities).
    .. [2] M. B. Cohen, R. Peng, "lp row sampling by Lewis weights", STOC 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import lp_sensitivities
    >>> A = np.vstack([np.eye(2)] * 4)      # 4 stacked copies of I_2
    >>> lp_sensitivities(A, p=1)
    array([0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25])
    >>> v = np.array([[1.0], [2.0], [-3.0]])  # one column: |v_i|^p / ||v||_p^p
    >>> np.round(lp_sensitivities(v, p=3), 6)
    array([0.027778, 0.222222, 0.75    ])
    """
    if rng is not UNSET:
        check_rng(rng)  # still the random-source contract: a bad value is a TypeError
        warnings.warn(
            "`rng` is ignored by lp_sensitivities() (the sensitivities are deterministic) and "
            "will be removed in the next release; do not pass it",
            DeprecationWarning,
            stacklevel=2,
        )
    A, p, method, idx = _sens_iv(A, p, method, rows)
    n, d = A.shape
    if method == "exact":
        U = _orthonormal_basis(A)
        return _exact(U, p, np.arange(n) if idx is None else idx)[0]
    if method == "root-leverage":
        tau = leverage_scores(A)
        s = tau ** (p / 2)
        if p > 2:
            s = s * n ** (p / 2 - 1)
        return np.minimum(s, 1.0)
    w = lewis_weights(A, p)
    if p > 2:
        rank = round(float(w.sum()))
        w = w * max(rank, 1) ** (p / 2 - 1)
    return np.minimum(w, 1.0)


def total_sensitivity(A: Any, p: float, *, method: str = "exact") -> float:
    r"""The total sensitivity :math:`\mathfrak S_p(A) = \sum_i \sigma_i`, or a bound.

    Parameters
    ----------
    A : (n, d) array_like or scipy.sparse matrix
    p : float
        Exponent, ``1 <= p <= 100``.
    method : {"exact", "lewis", "root-leverage"}, default "exact"
        ``"exact"`` sums the exact sensitivities; the others sum the upper
        bounds of :func:`lp_sensitivities` (so they are upper bounds on
        :math:`\mathfrak S`).

    Returns
    -------
    float

    Notes
    -----
    :math:`\mathfrak S_2 = \operatorname{rank}(A)`. For the :math:`2^d \times d`
    matrix of all :math:`\pm 1` rows and ``p = 1``,
    :math:`\mathfrak S_1 = 2^d / \binom{d}{d/2}` (``d`` even), about
    :math:`\sqrt{\pi d / 2}`.

    References
    ----------
    .. [1] D. P. Woodruff, T. Yasuda, "Sharper bounds for lp sensitivity
       sampling", ICML 2023, Sections 1.1 and 4.

    Examples
    --------
    >>> import itertools
    >>> import numpy as np
    >>> from sciddm.sensitivity import total_sensitivity
    >>> H = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))
    >>> round(total_sensitivity(H, p=1), 8)   # 2^4 / C(4, 2) = 8/3
    2.66666667
    """
    A, p, method, _ = _sens_iv(A, p, method)
    return float(np.sum(lp_sensitivities(A, p, method=method)))
