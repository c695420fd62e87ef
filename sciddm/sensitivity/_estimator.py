"""A scikit-learn estimator for l_p regression on a sampled coreset."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._regression import _irls, _lp_l1
from ._sampling import SCORE_METHODS, sample_rows

__all__ = ["SampledLpRegressor"]


class SampledLpRegressor(RegressorMixin, BaseEstimator):
    r"""Linear :math:`\ell_p` regression fitted on an :math:`\ell_p` row sample.

    ``fit`` samples rows of :math:`[X, 1, y]` with the chosen scores (Lewis
    weights by default), rescales them by :math:`q_i^{-1/p}` and minimises
    the rescaled :math:`\sum_i |x_i^\top\beta + \beta_0 - y_i|^p` on the
    sample: a coreset regression whose cost is independent of ``n`` once the
    scores are known.

    Parameters
    ----------
    p : float, default 1.0
        Exponent, ``p >= 1``.
    sample_size : int or None, default None
        Expected number of sampled rows; ``None`` uses every row (exact
        :math:`\ell_p` regression).
    sampling : str, default "lewis"
        ``"uniform"``, ``"leverage"``, ``"root-leverage"``, ``"lewis"``,
        ``"sensitivity"`` or ``"mixed"``.
    fit_intercept : bool, default True
    max_iter : int, default 200
        IRLS iterations (``p != 1``).
    random_state : int, numpy.random.Generator or None
        Randomness of the sample.

    Attributes
    ----------
    coef_ : (n_features,) ndarray
    intercept_ : float
    sample_indices_ : ndarray of int
        Rows used by the fit.
    sample_weights_ : ndarray
        Their :math:`\ell_p` weights :math:`q_i^{-1}`.
    n_iter_ : int
        IRLS iterations (1 for the linear program at ``p = 1``).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.sensitivity import SampledLpRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0 + rng.standard_cauchy(2000) * 0.1
    >>> est = SampledLpRegressor(p=1, sample_size=300, random_state=0).fit(X, y)
    >>> np.round(est.coef_, 1), round(est.intercept_, 1)
    (array([ 1. , -2. ,  0.5]), 3.0)
    """

    def __init__(
        self,
        p: float = 1.0,
        sample_size: int | None = None,
        sampling: str = "lewis",
        fit_intercept: bool = True,
        max_iter: int = 200,
        random_state: Any = None,
    ) -> None:
        self.p = p
        self.sample_size = sample_size
        self.sampling = sampling
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> SampledLpRegressor:
        """Sample rows and fit the coefficients on them."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        p = float(self.p)
        if not p >= 1:
            raise ValueError(f"`p` must be in [1, inf), got {self.p!r}")
        if self.sampling not in SCORE_METHODS:
            raise ValueError(f"`sampling` must be one of {SCORE_METHODS}, got {self.sampling!r}")
        n = X.shape[0]
        A = np.column_stack([X, np.ones(n)]) if self.fit_intercept else X
        y = np.asarray(y, dtype=np.float64)
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            rs = int(rs.randint(0, 2**31 - 1))
        if self.sample_size is None or int(self.sample_size) >= n:
            idx, w = np.arange(n), np.ones(n)
        else:
            Ab = np.column_stack([A, y])
            smp = sample_rows(Ab, p, method=self.sampling, size=int(self.sample_size), rng=rs)
            idx, w = smp.indices, smp.sample_weights
        As, bs = A[idx], y[idx]
        if p == 1.0:
            coef, it = _lp_l1(As, bs, w), 0
        else:
            coef, it, _ = _irls(As, bs, p, w=w, tol=1e-12, max_iter=int(self.max_iter))
        if self.fit_intercept:
            self.coef_, self.intercept_ = coef[:-1], float(coef[-1])
        else:
            self.coef_, self.intercept_ = coef, 0.0
        self.sample_indices_ = idx
        self.sample_weights_ = w
        self.n_iter_ = max(1, int(it))  # the LP counts as one iteration
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Linear predictions ``X @ coef_ + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_
