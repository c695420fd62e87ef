"""l_p row sampling: inclusion probabilities from scores, rescaling by q^(-1/p)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.sparse as sp

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar

from ._leverage import leverage_scores
from ._lewis import lewis_weights
from ._linalg import P_MAX, as_matrix
from ._sensitivity import lp_sensitivities

__all__ = ["RowSample", "row_scores", "sample_rows"]

SCORE_METHODS = ("uniform", "leverage", "root-leverage", "lewis", "sensitivity", "mixed")
#: log-space tolerance of the Lewis weights that drive sampling (see row_scores)
SAMPLING_TOL = 0.1


@dataclasses.dataclass(frozen=True, repr=False)
class RowSample(Result):
    r"""An :math:`\ell_p` row sample :math:`S`: rows ``indices`` scaled by ``weights``.

    Attributes
    ----------
    indices : (m,) ndarray of int
        Sampled rows (sorted without replacement; in draw order, possibly
        repeated, with replacement).
    weights : (m,) ndarray
        Scale factors :math:`q_i^{-1/p}` (without replacement) or
        :math:`(m\pi_i)^{-1/p}` (with replacement), so that
        :math:`\mathbb E\|SAx\|_p^p = \|Ax\|_p^p` for every ``x``.
    probabilities : (n,) ndarray
        Inclusion probabilities :math:`q_i` (without replacement) or draw
        probabilities :math:`\pi_i` (with replacement).
    expected_size : float
        :math:`\sum_i q_i`, or the number of draws.
    p : float
    replace : bool
    method : str
        Where the scores came from.
    scores : (n,) ndarray
        The scores the probabilities were built from.
    size : int
        Number of sampled rows, with multiplicity (property).
    sample_weights : (m,) ndarray
        :math:`s_i = \text{weights}_i^p`, the weights of the sampled objective
        :math:`\sum_i s_i |a_i^\top x - b_i|^p` (property).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import sample_rows
    >>> A = np.random.default_rng(0).standard_normal((300, 2))
    >>> s = sample_rows(A, 1, size=40, rng=1)
    >>> s.apply(A).shape == (s.size, 2), bool(np.all(s.probabilities <= 1))
    (True, True)
    """

    indices: np.ndarray
    weights: np.ndarray
    probabilities: np.ndarray
    expected_size: float
    p: float
    replace: bool
    method: str
    scores: np.ndarray

    @property
    def size(self) -> int:
        """Number of sampled rows (with multiplicity)."""
        return int(self.indices.size)

    @property
    def sample_weights(self) -> np.ndarray:
        r"""Weights :math:`s_i = \text{weights}^p` of the weighted objective
        :math:`\sum_i s_i |a_i^\top x - b_i|^p`."""
        return self.weights**self.p

    def apply(self, X: Any) -> Any:
        """The sampled and rescaled rows :math:`SX`: rows ``indices`` of ``X`` times ``weights``.

        Parameters
        ----------
        X : array_like, numpy.memmap or scipy.sparse matrix of shape (n, ...)
            A matrix with the sampled matrix's rows, or an ``(n,)`` vector
            such as ``b``.

        Returns
        -------
        ndarray or scipy.sparse.csr_matrix of shape (size, ...)
        """
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            if X.shape[0] != self.probabilities.size:
                raise ValueError(f"`X` must have {self.probabilities.size} rows, got {X.shape[0]}")
            return sp.csr_matrix(X[self.indices].multiply(self.weights[:, None]))
        if isinstance(X, np.ndarray):
            arr = X
        else:
            try:
                arr = np.asarray(X, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"`X` could not be converted to a numeric array: {exc}") from exc
        if arr.ndim == 0 or arr.shape[0] != self.probabilities.size:
            raise ValueError(
                f"`X` must have {self.probabilities.size} rows, got shape {np.shape(arr)}"
            )
        rows = np.asarray(arr[self.indices], dtype=np.float64)
        w = self.weights.reshape((-1,) + (1,) * (rows.ndim - 1))
        return rows * w


def row_scores(A: Any, p: float, method: str = "lewis", *, mix: float = 0.5) -> np.ndarray:
    r"""Sampling scores of the rows of ``A`` for :func:`sample_rows`.

    Parameters
    ----------
    A : (n, d) array_like, numpy.memmap or scipy.sparse matrix
    p : float
        Exponent, ``1 <= p <= 100``.
    method : {"uniform", "leverage", "root-leverage", "lewis", "sensitivity", "mixed"}
        Ones; leverage scores :math:`\tau`; root leverage :math:`\tau^{p/2}`;
        Lewis weights (to sampling accuracy, Notes); exact sensitivities
        (moderate ``n``); or the mixture
        ``mix * tau / rank + (1 - mix) * s / sum(s)`` of leverage and the Lewis
        sensitivity bounds ``s`` (Munteanu & Omlor 2024).
    mix : float, default 0.5
        Weight of the leverage part of ``"mixed"``.

    Returns
    -------
    (n,) ndarray

    Notes
    -----
    Scores only set sampling probabilities, so the Lewis weights are computed
    to ``tol = 0.1`` in :math:`\log w` (3 steps instead of 8 at ``p = 1``):
    the last step changes no weight by more than a factor :math:`e^{0.1}`, and
    the weights are within that factor of the exact ones (checked in the
    tests). Cohen & Peng's sampling theorem holds for probabilities built from
    any upper bounds :math:`u_i \ge w_i` of the Lewis weights, with a sample
    size proportional to :math:`\sum_i u_i`; with :math:`u = e^{0.1}\tilde w`
    that sum is at most :math:`e^{0.2}\operatorname{rank}(A)`, so the guarantee
    is kept with at most 22 % more rows.

    References
    ----------
    .. [1] M. B. Cohen, R. Peng, "lp row sampling by Lewis weights", STOC 2015,
       Sections 3-4 (sampling by approximate Lewis weights).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import row_scores
    >>> A = np.vstack([np.eye(2)] * 2)
    >>> row_scores(A, 1, "lewis")
    array([0.5, 0.5, 0.5, 0.5])
    """
    A = as_matrix(A, "A")
    p = check_scalar(p, "p", lo=1, hi=P_MAX)
    method = check_choice(method, "method", SCORE_METHODS)
    mix = check_scalar(mix, "mix", lo=0, hi=1)
    n = A.shape[0]
    if method == "uniform":
        return np.ones(n)
    if method == "leverage":
        return leverage_scores(A)
    if method == "root-leverage":
        return leverage_scores(A) ** (p / 2)
    if method == "lewis":
        return lewis_weights(A, p, tol=SAMPLING_TOL)
    if method == "sensitivity":
        return lp_sensitivities(A, p)
    tau = leverage_scores(A)
    s = lp_sensitivities(A, p, method="lewis")
    return mix * tau / tau.sum() + (1 - mix) * s / s.sum()


def _waterfill(s: np.ndarray, k: float) -> np.ndarray:
    """``q = min(1, c s)`` with ``sum q = k`` (capped proportional probabilities)."""
    pos = s > 0
    npos = int(pos.sum())
    if k >= npos:
        return pos.astype(float)
    order = np.sort(s[pos])[::-1]
    # with the j largest capped at 1: c = (k - j) / sum(rest); find the smallest valid j
    tail = np.cumsum(order[::-1])[::-1]  # tail[j] = sum(order[j:])
    j = np.arange(npos)
    c_all = (k - j) / tail
    ok = np.flatnonzero((c_all * order <= 1.0) & (k - j > 0))
    c = float(c_all[ok[0]]) if ok.size else 1.0 / order[-1]
    return np.minimum(1.0, c * s)


def sample_rows(
    A: Any,
    p: float,
    *,
    scores: Any = None,
    method: str = "lewis",
    size: int | None = None,
    alpha: float | None = None,
    replace: bool = False,
    mix: float = 0.5,
    rng: SeedLike = None,
) -> RowSample:
    r"""Sample and rescale rows of ``A`` for :math:`\ell_p` subspace embeddings.

    Parameters
    ----------
    A : (n, d) array_like, numpy.memmap or scipy.sparse matrix
        Only its shape is used when ``scores`` is given.
    p : float
        Exponent, ``1 <= p <= 100``.
    scores : (n,) array_like, optional
        Non-negative sampling scores; by default computed with ``method``.
    method : str, default "lewis"
        Score source (see :func:`row_scores`), ignored when ``scores`` is given.
    size : int, optional
        Target (expected) number of rows ``k``: without replacement
        :math:`q_i = \min(1, c\,s_i)` with ``c`` chosen so that
        :math:`\sum_i q_i = k`; with replacement, ``k`` i.i.d. draws.
    alpha : float, optional
        Oversampling parameter of the threshold rule
        :math:`q_i = \min(1, 1/n + s_i/\alpha)` (without replacement).
        Exactly one of ``size`` and ``alpha``.
    replace : bool, default False
        Independent Bernoulli inclusions (False) or i.i.d. draws with
        probabilities :math:`\pi_i = s_i / \sum s` (True).
    mix : float, default 0.5
        Leverage weight for ``method="mixed"``.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    RowSample

    Notes
    -----
    Without replacement row ``i`` is kept with probability :math:`q_i` and
    scaled by :math:`q_i^{-1/p}`; with replacement draw ``j`` picks row
    ``i`` with probability :math:`\pi_i` and is scaled by
    :math:`(k\pi_i)^{-1/p}`. Both give :math:`\mathbb E\|SAx\|_p^p =
    \|Ax\|_p^p`. With sensitivity scores and
    :math:`k = \tilde O(\mathfrak S^{2/p}/\varepsilon^2)` rows (``p < 2``) or
    :math:`\tilde O(\mathfrak S^{2-2/p}/\varepsilon^2)` (``p > 2``), ``S`` is a
    :math:`(1\pm\varepsilon)` subspace embedding with constant probability.

    References
    ----------
    .. [1] D. P. Woodruff, T. Yasuda, "Sharper bounds for lp sensitivity
       sampling", ICML 2023 (arXiv:2306.00732),
       Section 1.1 (main results) and Section 7 (sampling guarantees).
    .. [2] M. B. Cohen, R. Peng, "lp row sampling by Lewis weights", STOC 2015.
    .. [3] A. Munteanu, S. Omlor, "Optimal bounds for lp sensitivity sampling
       via l2 augmentation", ICML 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import sample_rows
    >>> A = np.random.default_rng(0).standard_normal((500, 3))
    >>> s = sample_rows(A, 1, size=60, rng=0)
    >>> round(s.expected_size, 6), s.apply(A).shape[1]
    (60.0, 3)
    """
    A = as_matrix(A, "A")
    p = check_scalar(p, "p", lo=1, hi=P_MAX)
    n = A.shape[0]
    if (size is None) == (alpha is None):
        raise ValueError("exactly one of `size` and `alpha` must be given")
    if size is not None:
        size = check_int(size, "size", lo=1)
        if not replace and size > n:
            raise ValueError(f"`size` must be <= n = {n} without replacement, got {size}")
    if alpha is not None:
        if replace:
            raise ValueError("`alpha` is only supported with replace=False")
        alpha = check_scalar(alpha, "alpha", lo=0, closed="neither")
    g = as_generator(rng)
    if scores is None:
        label = check_choice(method, "method", SCORE_METHODS)
        s = row_scores(A, p, method, mix=mix)
    else:
        label = "given"
        s = check_array(scores, "scores", ndim=1, shape=(n,))
        if np.any(s < 0):
            raise ValueError("`scores` must be non-negative")
    total = float(s.sum())
    if total <= 0:
        raise ValueError("`scores` must have a positive sum")
    if replace:
        assert size is not None
        pi = s / total
        idx = g.choice(n, size=size, replace=True, p=pi)
        weights = (size * pi[idx]) ** (-1.0 / p)
        return RowSample(idx, weights, pi, float(size), p, True, label, s)
    if size is not None:
        q = _waterfill(s, float(size))
    else:
        assert alpha is not None
        q = np.minimum(1.0, 1.0 / n + s / alpha)
    keep = np.flatnonzero(g.random(n) < q)
    return RowSample(keep, q[keep] ** (-1.0 / p), q, float(q.sum()), p, False, label, s)
