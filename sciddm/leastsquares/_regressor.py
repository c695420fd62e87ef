"""The scikit-learn regressor :class:`WeightedLeastSquares` (weighted least squares on an
orthonormal basis), in its own module so that importing the sampling functions does not
import scikit-learn."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from sciddm._core.validation import (
    check_array,
    check_choice,
    check_int,
    check_scalar,
)
from sciddm._core.validation import validate_estimator_data as _validate

from ._bases import Basis, TensorBasis, _basis_iv, total_degree
from ._estimator import _solve
from ._polynomials import Hermite

__all__ = ["WeightedLeastSquares"]


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
        r"""Predictions :math:`\hat f(X) = \varphi(X)\,\hat a`.

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
