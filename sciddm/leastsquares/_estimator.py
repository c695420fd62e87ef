"""Weighted least squares from a random design, as a function and as a
scikit-learn regressor."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar

from ._bases import Basis, TensorBasis, _basis_iv, total_degree
from ._guards import MAX_ENTRIES
from ._measures import DiscreteMeasure
from ._polynomials import Hermite
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


def _sample_weight_iv(sample_weight: Any, n: int) -> np.ndarray:
    """A scalar or ``(n,)`` vector of finite non-negative weights, as an ``(n,)`` array."""
    if isinstance(sample_weight, numbers.Real):
        sw = np.full(n, check_scalar(sample_weight, "sample_weight", lo=0))
    else:
        sw = check_array(sample_weight, "sample_weight", ndim=1, shape=(n,))
        if np.any(sw < 0):
            raise ValueError("`sample_weight` must be non-negative")
    if not np.any(sw > 0):
        raise ValueError("`sample_weight` must not be all zero")
    return sw


_NO_Y = object()


def _validate(est: Any, X: Any, y: Any = _NO_Y, **kw: Any) -> Any:
    """scikit-learn's ``validate_data`` with messages that name the argument (`X`, `y`)."""
    try:
        if y is _NO_Y:
            return validate_data(est, X, **kw)
        return validate_data(est, X, y, **kw)
    except (TypeError, ValueError) as exc:
        which = "`X`" if y is _NO_Y else "`X` or `y`"
        cls = TypeError if isinstance(exc, TypeError) else ValueError
        raise cls(f"invalid {which}: {exc}") from exc


class WeightedLeastSquares(RegressorMixin, BaseEstimator):
    r"""Weighted least-squares regression on an orthonormal basis.

    Parameters
    ----------
    basis : Basis or None, default None
        The feature map. ``None`` builds, at fit time, the Hermite basis of total
        degree ``degree`` in ``n_features_in_`` variables (support R^d, so any
        finite X is accepted).
    degree : int, default 1
        Total degree of the default basis.
    weighting : {"christoffel", "none"}, default "christoffel"
        ``"christoffel"`` weights sample :math:`i` by :math:`w(x_i) = m/K_m(x_i)`,
        the optimal weight for points drawn from :math:`\rho = (K_m/m)\,\mu`
        (e.g. by :func:`sample_optimal`, :func:`sample_projection_dpp`);
        ``"none"`` is ordinary least squares. ``sample_weight`` multiplies these
        weights.

    Attributes
    ----------
    coef_ : ndarray, shape (m,)
        Coefficients :math:`\hat a` on the basis.
    basis_ : Basis
        The basis used (``basis`` or the default Hermite basis).
    gram_condition_ : float
        Condition number of the weighted Gram matrix (inf when fewer than m
        samples carry weight: the fit is then the minimum-norm solution, as in
        :class:`sklearn.linear_model.LinearRegression`).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Notes
    -----
    Passes :func:`sklearn.utils.estimator_checks.parametrize_with_checks` with
    the default basis. The theory (:math:`\mathbb E[G] = I`, quasi-optimality)
    assumes :math:`n \ge m` points drawn by one of this module's samplers;
    :func:`weighted_least_squares` raises for :math:`n < m`, while the
    estimator, like scikit-learn's linear models, returns the minimum-norm
    solution.

    References
    ----------
    .. [1] A. Cohen, G. Migliorati, "Optimal weighted least-squares methods",
       SMAI J. Comput. Math. 3 (2017).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import (Legendre, TensorBasis, WeightedLeastSquares,
    ...                                  sample_optimal, total_degree)
    >>> basis = TensorBasis(Legendre(), total_degree(2, 4))
    >>> X = sample_optimal(basis, 60, rng=0).points
    >>> y = np.cos(X[:, 0]) * X[:, 1]
    >>> model = WeightedLeastSquares(basis).fit(X, y)
    >>> model.coef_.shape, round(model.score(X, y), 3) > 0.99
    ((15,), True)
    """

    def __init__(
        self, basis: Basis | None = None, *, degree: int = 1, weighting: str = "christoffel"
    ) -> None:
        self.basis = basis
        self.degree = degree
        self.weighting = weighting

    def _features(self, X: np.ndarray) -> np.ndarray:
        basis = self.basis_
        return basis.features(basis.measure.check_points(X, "X"))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> WeightedLeastSquares:
        r"""Fit :math:`\hat a = \arg\min_a \sum_i s_i\,w(x_i)\,(y_i - \varphi(x_i)^\top a)^2`.

        Parameters
        ----------
        X : array_like of shape (n_samples, dim)
            Points in the support of the basis' measure.
        y : array_like of shape (n_samples,)
            Observed values.
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative :math:`s_i` (default 1).

        Returns
        -------
        WeightedLeastSquares
            The fitted estimator (``self``).
        """
        X, y = _validate(self, X, y, y_numeric=True, dtype=np.float64)
        check_choice(self.weighting, "weighting", ("christoffel", "none"))
        self.basis_: Basis
        if self.basis is None:
            deg = check_int(self.degree, "degree", lo=0)
            m = math.comb(X.shape[1] + deg, min(deg, X.shape[1]))
            if m > 10**5:
                raise ValueError(
                    f"`degree`={deg} in {X.shape[1]} variables gives {m} basis functions; "
                    "lower `degree`"
                )
            self.basis_ = TensorBasis(Hermite(), total_degree(X.shape[1], deg))
        else:
            self.basis_ = _basis_iv(self.basis)
            if self.basis_.dim != X.shape[1]:
                raise ValueError(
                    f"`X` has {X.shape[1]} features but the basis has dimension {self.basis_.dim}"
                )
        m = self.basis_.m
        F = self._features(X)
        w = m / np.einsum("ij,ij->i", F, F) if self.weighting == "christoffel" else np.ones(len(X))
        if sample_weight is not None:
            w = w * _sample_weight_iv(sample_weight, X.shape[0])
        self.coef_, self.gram_condition_ = _solve(F, w, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions :math:`\\hat f(X) = \varphi(X)\\,\\hat a`.

        Parameters
        ----------
        X : array_like of shape (n_samples, dim)
            Points in the support of the basis' measure.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "coef_")
        X = _validate(self, X, reset=False, dtype=np.float64)
        return self._features(X) @ self.coef_
