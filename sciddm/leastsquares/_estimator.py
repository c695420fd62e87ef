"""Weighted least squares from a random design, as a function.

The scikit-learn regressor :class:`WeightedLeastSquares` lives in ``_regressor`` so that
this function does not import scikit-learn; the name stays importable from here (lazily)
for pickles written before the move.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar

from ._bases import Basis, _basis_iv
from ._guards import MAX_ENTRIES
from ._measures import DiscreteMeasure
from ._samplers import (
    METHODS,
    Design,
    _design_iv,
    sample_best_of,
    sample_conditioned,
    sample_design,
)

__all__ = ["LeastSquaresResult", "WeightedLeastSquares", "l2_errors", "weighted_least_squares"]


@dataclasses.dataclass(frozen=True, repr=False)
class LeastSquaresResult(Result):
    r"""Outcome of :func:`weighted_least_squares`.

    Attributes
    ----------
    coefficients : ndarray, shape (m,)
        :math:`\hat a` in :math:`\hat f = \sum_j \hat a_j \varphi_j`.
    points, weights, values : ndarray
        The design, its weights and the observed :math:`f(x_i)`.
    gram_condition : float
        Condition number of :math:`G = \Psi^\top\Psi/n`.
    gram_deviation : float
        :math:`\|G - I\|_2`.
    n_proposals : int
        Proposals used by the sampler.
    method : str
        The sampler.
    l2_error : float or None
        :math:`\|f - \hat f\|_{L^2(\mu)}` on the independent quadrature, when
        requested.
    best_error : float or None
        :math:`\|f - P_m f\|_{L^2(\mu)}` on the same quadrature (the best
        approximation error).
    basis : Basis
        The basis of the fit.
    error_ratio : float or None
        :math:`\|f - \hat f\| / \|f - P_m f\|` (property).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre, TensorBasis, total_degree, weighted_least_squares
    >>> b = TensorBasis(Legendre(), total_degree(1, 3))
    >>> r = weighted_least_squares(lambda x: x[:, 0] ** 3, b, 20, rng=0)
    >>> np.round(r.predict([[0.5]]), 10).tolist()   # x^3 lies in the span: exact
    [0.125]
    """

    coefficients: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    values: np.ndarray
    gram_condition: float
    gram_deviation: float
    n_proposals: int
    method: str
    l2_error: float | None = None
    best_error: float | None = None
    basis: Any = dataclasses.field(default=None, repr=False)

    @property
    def error_ratio(self) -> float | None:
        r""":math:`\|f - \hat f\| / \|f - P_m f\|` when both are known."""
        if self.l2_error is None or not self.best_error:
            return None
        return self.l2_error / self.best_error

    def predict(self, x: Any) -> np.ndarray:
        r"""The approximation :math:`\hat f(x)`.

        Parameters
        ----------
        x : array_like of shape (n, d)
            Points in the support of the measure.

        Returns
        -------
        ndarray of shape (n,)
        """
        return self.basis(x) @ self.coefficients


def _eval_f(f: Callable[[np.ndarray], Any], x: np.ndarray) -> np.ndarray:
    y = np.asarray(f(x), dtype=float).reshape(-1)
    if y.shape[0] != len(x):
        raise ValueError(
            f"`f` must return one value per point, got shape {y.shape} for {len(x)} points"
        )
    bad = ~np.isfinite(y)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"`f` returned {float(y[i])} (NaN or inf) at point {x[i].tolist()}")
    return y


def _solve(F: np.ndarray, w: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    sw = np.sqrt(w)
    Psi = F * sw[:, None]
    coef, _, rank, sv = np.linalg.lstsq(Psi, sw * y, rcond=None)
    cond = float((sv[0] / sv[-1]) ** 2) if sv.size and sv[-1] > 0 else float("inf")
    if rank < F.shape[1]:
        cond = float("inf")
    return coef, cond


def _quadrature_iv(quadrature: Any, basis: Basis, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A quadrature rule of ``basis.measure`` from an int or a ``(nodes, weights)`` pair."""
    if isinstance(quadrature, (int, np.integer)) and not isinstance(quadrature, bool):
        q = check_int(quadrature, name, lo=1)
        if isinstance(basis.measure, DiscreteMeasure):
            return basis.measure.quadrature()
        if q**basis.dim * (basis.dim + basis.m + 1) > MAX_ENTRIES:
            raise ValueError(
                f"`{name}` = {q} gives a tensor rule of {q}^{basis.dim} nodes, beyond the 2 GiB "
                "limit of one call; use fewer nodes per dimension"
            )
        return basis.measure.quadrature(q)
    if isinstance(quadrature, tuple) and len(quadrature) == 2:
        nodes = check_array(quadrature[0], f"{name}[0]", ndim=(1, 2), min_rows=1)
        nodes = nodes.reshape(len(nodes), -1)
        if nodes.shape[1] != basis.dim:
            raise ValueError(
                f"`{name}[0]` (the nodes) must have {basis.dim} column(s), got shape {nodes.shape}"
            )
        qw = check_array(quadrature[1], f"{name}[1]", ndim=1, shape=(len(nodes),))
        if np.any(qw < 0):
            raise ValueError(f"`{name}[1]` (the weights) must be non-negative")
        return nodes, qw
    raise ValueError(
        f"`{name}` must be a positive int (Gauss points per dimension) or a pair "
        f"(nodes, weights), got {quadrature!r}"
    )


def l2_errors(
    f: Callable[[np.ndarray], Any], basis: Basis, coefficients: Any, quadrature: Any = 20
) -> tuple[float, float]:
    r"""The errors :math:`\|f - \hat f\|_{L^2(\mu)}` and :math:`\|f - P_m f\|_{L^2(\mu)}` on a quadrature rule.

    Parameters
    ----------
    f : callable
        Maps points ``(n, d)`` to values ``(n,)``.
    basis : Basis
        The orthonormal basis (its measure :math:`\mu`).
    coefficients : array_like of shape (m,)
        :math:`\hat a`, so that :math:`\hat f = \sum_j \hat a_j \varphi_j`.
    quadrature : int or (nodes, weights), default 20
        Gauss points per dimension (a tensor rule of :math:`\mu`; a discrete
        measure uses its own nodes) or an explicit rule.

    Returns
    -------
    error : float
        :math:`\|f - \hat f\|_{L^2(\mu)}`.
    best : float
        :math:`\|f - P_m f\|_{L^2(\mu)}`, with :math:`P_m` the
        :math:`L^2(\mu)` projection computed on the same rule.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre, TensorBasis, l2_errors, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 1))
    >>> err, best = l2_errors(lambda x: x[:, 0] ** 2, b, np.array([1 / 3, 0.0]))
    >>> bool(np.isclose(err, best) and np.isclose(err, np.sqrt(4 / 45)))
    True
    """
    if not callable(f):
        raise ValueError("`f` must be callable, mapping (n, d) points to (n,) values")
    basis = _basis_iv(basis)
    a = check_array(coefficients, "coefficients", ndim=1, shape=(basis.m,))
    nodes, qw = _quadrature_iv(quadrature, basis, "quadrature")
    fx = _eval_f(f, nodes)
    Phi = basis.features(nodes)
    err = float(np.sqrt(max(qw @ (fx - Phi @ a) ** 2, 0.0)))
    proj = Phi.T @ (qw * fx)
    best = float(np.sqrt(max(qw @ (fx - Phi @ proj) ** 2, 0.0)))
    return err, best


def weighted_least_squares(
    f: Callable[[np.ndarray], Any],
    basis: Basis,
    n: int,
    *,
    method: str = "iid",
    rng: SeedLike = None,
    delta: float | None = None,
    best_of: int = 1,
    error_quadrature: Any = None,
    max_proposals: int | None = None,
) -> LeastSquaresResult:
    r"""Approximate :math:`f` in :math:`\operatorname{span}(\varphi)` from ``n`` evaluations at a random design.

    .. math:: \hat a = \arg\min_a \sum_i w(x_i)\,(f(x_i) - \varphi(x_i)^\top a)^2
              = \arg\min_a \|\Psi a - y\|_2,

    with :math:`\Psi_{ij} = \sqrt{w(x_i)}\,\varphi_j(x_i)` and
    :math:`y_i = \sqrt{w(x_i)}\,f(x_i)`.

    Parameters
    ----------
    f : callable
        Maps points ``(n, d)`` to values ``(n,)``; NaN or inf raise ValueError.
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis (orthonormality is what makes
        :math:`w = m/K_m` the optimal weight and :math:`\mathbb E[G] = I`).
    n : int
        Number of evaluations; :math:`n \ge m` (:math:`n = m` for
        ``method="dpp"``, a multiple of :math:`m` for ``"repeated_dpp"``).
    method : {"iid", "dpp", "volume", "generalized_volume", "repeated_dpp", "uniform"}
        See :func:`sample_design`.
    rng : numpy.random.Generator, int or None
        Random source.
    delta : float, optional
        Condition the design on :math:`\|G - I\|_2 \le \delta`
        (:func:`sample_conditioned`).
    best_of : int, default 1
        Keep the best of this many designs (:func:`sample_best_of`).
    error_quadrature : int or (nodes, weights), optional
        When given, the :math:`L^2(\mu)` error and the best approximation error are
        estimated on this quadrature (independent of the design).
    max_proposals : int, optional
        Proposal budget of the DPP-based samplers.

    Returns
    -------
    LeastSquaresResult

    Raises
    ------
    ValueError
        For a non-callable ``f``, ``n < m``, an ``n`` that does not suit
        ``method``, a bad ``error_quadrature`` (each naming the argument), or
        NaN/inf values of ``f``.

    Notes
    -----
    With :math:`G = \Psi^\top\Psi/n`, :math:`\mathbb E[G] = I` for the i.i.d.
    optimal, DPP, volume and repeated-DPP designs (each point has marginal
    :math:`\rho` and weight :math:`d\mu/d\rho`); for generalized volume sampling
    with a base :math:`\rho' \ne \rho` it is not. For volume sampling
    :math:`\hat a` is unbiased and, for :math:`n = m`,
    :math:`\mathbb E\|f - \hat f\|^2 = (m + 1)\|f - P_m f\|^2` (Derezinski,
    Warmuth & Hsu); i.i.d. optimal sampling gives
    :math:`\mathbb E\|f - \hat f\|^2 \le (1 + \varepsilon)\|f - P_m f\|^2 + \dots`
    once :math:`n \gtrsim m \log m` (Cohen & Migliorati).

    References
    ----------
    .. [1] A. Cohen, G. Migliorati, "Optimal weighted least-squares methods",
       SMAI J. Comput. Math. 3 (2017).
    .. [2] A. Nouy, B. Michel, "Weighted least-squares approximation with
       determinantal point processes and generalized volume sampling",
       arXiv:2312.14057.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre, TensorBasis, total_degree, weighted_least_squares
    >>> b = TensorBasis(Legendre(), total_degree(1, 5))
    >>> r = weighted_least_squares(lambda x: np.exp(x[:, 0]), b, 30, rng=0, error_quadrature=40)
    >>> r.coefficients.shape, r.error_ratio < 3
    ((6,), True)
    """
    if not callable(f):
        raise ValueError("`f` must be callable, mapping (n, d) points to (n,) values")
    basis = _basis_iv(basis)
    method = check_choice(method, "method", METHODS)
    n = check_int(n, "n", lo=1)
    if n < basis.m:
        raise ValueError(f"`n` must be >= m = {basis.m} for method={method!r}, got {n}")
    basis, n, method = _design_iv(basis, n, method)
    best_of = check_int(best_of, "best_of", lo=1, hi=10**4)
    if delta is not None:
        delta = check_scalar(delta, "delta", lo=0, hi=1, closed="neither")
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", lo=1)
    quad = None
    if error_quadrature is not None:
        quad = _quadrature_iv(error_quadrature, basis, "error_quadrature")
    g = as_generator(rng)
    design: Design
    if delta is not None:
        design = sample_conditioned(basis, n, method=method, delta=delta, rng=g)
    elif best_of > 1:
        design = sample_best_of(basis, n, method=method, n_draws=best_of, rng=g)
    else:
        design = sample_design(basis, n, method=method, rng=g, max_proposals=max_proposals)
    y = _eval_f(f, design.points)
    coef, cond = _solve(design.features, design.weights, y)
    err = best = None
    if quad is not None:
        err, best = l2_errors(f, basis, coef, quad)
    return LeastSquaresResult(
        coefficients=coef,
        points=design.points,
        weights=design.weights,
        values=y,
        gram_condition=cond,
        gram_deviation=design.gram_deviation,
        n_proposals=design.n_proposals,
        method=design.method,
        l2_error=err,
        best_error=best,
        basis=basis,
    )


if TYPE_CHECKING:
    from ._regressor import WeightedLeastSquares
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__, {"._regressor": ("WeightedLeastSquares",)}, __all__
    )
