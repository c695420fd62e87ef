"""Weighted least squares from a random design, as a function and as a
scikit-learn regressor."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_choice, check_int, check_scalar

from ._bases import Basis, TensorBasis, _basis_iv, total_degree
from ._measures import DiscreteMeasure
from ._polynomials import Hermite
from ._samplers import (
    METHODS,
    Design,
    sample_best_of,
    sample_conditioned,
    sample_design,
)

__all__ = ["LeastSquaresResult", "WeightedLeastSquares", "l2_errors", "weighted_least_squares"]


@dataclasses.dataclass(frozen=True, repr=False)
class LeastSquaresResult(Result):
    """Outcome of :func:`weighted_least_squares`.

    Attributes
    ----------
    coefficients : ndarray, shape (m,)
        â in f̂ = Σ_j â_j φ_j.
    points, weights, values : ndarray
        The design, its weights and the observed f(x_i).
    gram_condition : float
        Condition number of G = ΨᵀΨ/n.
    gram_deviation : float
        ‖G − I‖₂.
    n_proposals : int
        Proposals used by the sampler.
    method : str
    l2_error : float or None
        ‖f − f̂‖_{L²(μ)} on the independent quadrature, when requested.
    best_error : float or None
        ‖f − P_m f‖_{L²(μ)} on the same quadrature (the best approximation error).
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
        """‖f − f̂‖ / ‖f − P_m f‖ when both are known."""
        if self.l2_error is None or not self.best_error:
            return None
        return self.l2_error / self.best_error

    def predict(self, x: Any) -> np.ndarray:
        """f̂(x)."""
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


def l2_errors(
    f: Callable[[np.ndarray], Any], basis: Basis, coefficients: Any, quadrature: Any = 20
) -> tuple[float, float]:
    """‖f − f̂‖_{L²(μ)} and ‖f − P_m f‖_{L²(μ)} on a quadrature rule of μ.

    Parameters
    ----------
    quadrature : int or (nodes, weights)
        Gauss points per dimension (a tensor rule) or an explicit rule.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre, TensorBasis, l2_errors, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 1))
    >>> err, best = l2_errors(lambda x: x[:, 0] ** 2, b, np.array([1 / 3, 0.0]))
    >>> bool(np.isclose(err, best) and np.isclose(err, np.sqrt(4 / 45)))
    True
    """
    basis = _basis_iv(basis)
    if isinstance(quadrature, (int, np.integer)):
        nodes, qw = basis.measure.quadrature(int(quadrature))
    else:
        nodes, qw = (np.asarray(a, float) for a in quadrature)
    fx = _eval_f(f, nodes)
    Phi = basis.features(nodes)
    a = np.asarray(coefficients, float)
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
    r"""Approximate f in span(φ) from n evaluations at a random design.

    â = argmin_a Σ_i w(x_i) (f(x_i) − φ(x_i)ᵀa)², i.e. â = argmin ‖Ψa − y‖₂ with
    Ψ_ij = √w(x_i) φ_j(x_i) and y_i = √w(x_i) f(x_i).

    Parameters
    ----------
    f : callable
        Maps points ``(n, d)`` to values ``(n,)``; NaN or inf raise ValueError.
    basis : Basis
        An L²(μ)-orthonormal basis (orthonormality is what makes w = m/K_m the
        optimal weight and E[G] = I).
    n : int
        Number of evaluations; n ≥ m (n = m for ``method="dpp"``, a multiple of m
        for ``"repeated_dpp"``).
    method : {"iid", "dpp", "volume", "generalized_volume", "repeated_dpp", "uniform"}
        See :func:`sample_design`.
    rng : numpy.random.Generator, int or None
    delta : float, optional
        Condition the design on ‖G − I‖₂ ≤ δ (:func:`sample_conditioned`).
    best_of : int, default 1
        Keep the best of this many designs (:func:`sample_best_of`).
    error_quadrature : int or (nodes, weights), optional
        When given, the L²(μ) error and the best approximation error are
        estimated on this quadrature (independent of the design).
    max_proposals : int, optional
        Proposal budget of the DPP-based samplers.

    Returns
    -------
    LeastSquaresResult

    Notes
    -----
    With G = ΨᵀΨ/n, E[G] = I for the i.i.d. optimal, DPP, volume and
    repeated-DPP designs (each point has marginal ρ and weight dμ/dρ); for
    generalized volume sampling with a base ρ' ≠ ρ it is not. For volume
    sampling â is unbiased and, for n = m, E‖f − f̂‖² = (m + 1)‖f − P_m f‖²
    (Dereziński, Warmuth & Hsu); i.i.d. optimal sampling gives
    E‖f − f̂‖² ≤ (1 + ε)‖f − P_m f‖² + … once n ≳ m log m (Cohen & Migliorati).

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
    best_of = check_int(best_of, "best_of", lo=1)
    g = as_generator(rng)
    design: Design
    if delta is not None:
        delta = check_scalar(delta, "delta", lo=0, hi=1, closed="neither")
        design = sample_conditioned(basis, n, method=method, delta=delta, rng=g)
    elif best_of > 1:
        design = sample_best_of(basis, n, method=method, n_draws=best_of, rng=g)
    else:
        design = sample_design(basis, n, method=method, rng=g, max_proposals=max_proposals)
    y = _eval_f(f, design.points)
    coef, cond = _solve(design.features, design.weights, y)
    err = best = None
    if error_quadrature is not None:
        if isinstance(basis.measure, DiscreteMeasure) and isinstance(error_quadrature, int):
            error_quadrature = basis.measure.quadrature()
        err, best = l2_errors(f, basis, coef, error_quadrature)
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
        ``"christoffel"`` weights sample i by w(x_i) = m/K_m(x_i), the optimal
        weight for points drawn from ρ = K_m/m·μ (e.g. by
        :func:`sample_optimal`, :func:`sample_projection_dpp`); ``"none"`` is
        ordinary least squares. ``sample_weight`` multiplies these weights.

    Attributes
    ----------
    coef_ : ndarray, shape (m,)
    basis_ : Basis
    gram_condition_ : float
        Condition number of the weighted Gram matrix (inf when fewer than m
        samples carry weight: the fit is then the minimum-norm solution, as in
        :class:`sklearn.linear_model.LinearRegression`).
    n_features_in_ : int

    Notes
    -----
    Passes :func:`sklearn.utils.estimator_checks.parametrize_with_checks` with the
    default basis. The theory (E[G] = I, quasi-optimality) assumes n ≥ m points
    drawn by one of this module's samplers; :func:`weighted_least_squares` raises
    for n < m, while the estimator, like scikit-learn's linear models, returns
    the minimum-norm solution.

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
    ):
        self.basis = basis
        self.degree = degree
        self.weighting = weighting

    def _features(self, X: np.ndarray) -> np.ndarray:
        basis = self.basis_
        return basis.features(basis.measure.check_points(X, "X"))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> WeightedLeastSquares:
        """Fit â = argmin Σ_i s_i w(x_i)(y_i − φ(x_i)ᵀa)²."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        check_choice(self.weighting, "weighting", ("christoffel", "none"))
        self.basis_: Basis
        if self.basis is None:
            deg = check_int(self.degree, "degree", lo=0)
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
            from sklearn.utils.validation import _check_sample_weight

            sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if np.any(sw < 0):
                raise ValueError("`sample_weight` must be non-negative")
            w = w * sw
        self.coef_, self.gram_condition_ = _solve(F, w, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """f̂(X) = φ(X) â."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._features(X) @ self.coef_
