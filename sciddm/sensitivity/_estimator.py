"""A scikit-learn estimator for l_p regression on a sampled coreset."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm._core.validation import validate_estimator_data as _validate

from ._linalg import P_MAX
from ._regression import _check_sample_rank, _irls, _lp_l1
from ._sampling import SCORE_METHODS, sample_rows

__all__ = ["SampledLpRegressor"]


class SampledLpRegressor(RegressorMixin, BaseEstimator):
    r"""Linear :math:`\ell_p` regression fitted on an :math:`\ell_p` row sample.

    ``fit`` samples rows of :math:`[X, 1, y]` with the chosen scores (Lewis
    weights by default), rescales them by :math:`q_i^{-1/p}` and minimises
    the rescaled objective on the sample,

    .. math:: \min_{\beta, \beta_0} \sum_{i \in S} q_i^{-1}
              |x_i^\top\beta + \beta_0 - y_i|^p ,

    a coreset regression whose cost is independent of ``n`` once the scores
    are known.

    Parameters
    ----------
    p : float, default 1.0
        Exponent, ``1 <= p <= 100``.
    sample_size : int or None, default None
        Expected number of sampled rows; ``None`` (or a value of at least
        ``n``) uses every row (exact :math:`\ell_p` regression). It must be at
        least the number of coefficients (features plus the intercept).
    sampling : str, default "lewis"
        ``"uniform"``, ``"leverage"``, ``"root-leverage"``, ``"lewis"``,
        ``"sensitivity"`` or ``"mixed"`` (see :func:`row_scores`).
    fit_intercept : bool, default True
        Fit :math:`\beta_0` (a column of ones is appended to ``X``).
    max_iter : int, default 200
        IRLS iterations (``p != 1``).
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Randomness of the sample (scikit-learn's name for the random source
        of an estimator).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Fitted coefficients :math:`\beta`.
    intercept_ : float
        Fitted :math:`\beta_0` (0 without an intercept).
    sample_indices_ : ndarray of int
        Rows used by the fit.
    sample_weights_ : ndarray
        Their :math:`\ell_p` weights :math:`q_i^{-1}`.
    n_iter_ : int
        IRLS iterations (1 for the linear program at ``p = 1``).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Raises
    ------
    ValueError
        From ``fit``: ``p < 1``, an unknown ``sampling``, a ``sample_size``
        below the number of coefficients, or a sample whose rows do not span
        the columns of ``[X, 1]`` (increase ``sample_size``).

    See Also
    --------
    lp_regression : the same fit as a function, with exact methods.
    sample_rows : the row sample.

    References
    ----------
    .. [1] M. B. Cohen, R. Peng, "lp row sampling by Lewis weights", STOC 2015.
    .. [2] D. P. Woodruff, T. Yasuda, "Sharper bounds for lp sensitivity
       sampling", ICML 2023.

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
        *,
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

    def _fit_iv(self, n_coef: int) -> tuple[float, int | None, int, Any]:
        p = check_scalar(self.p, "p", lo=1, hi=P_MAX)
        check_choice(self.sampling, "sampling", SCORE_METHODS)
        max_iter = check_int(self.max_iter, "max_iter", lo=1)
        k = None
        if self.sample_size is not None:
            k = check_int(self.sample_size, "sample_size", lo=1)
            if k < n_coef:
                raise ValueError(
                    f"`sample_size` must be >= {n_coef} (the number of coefficients, features "
                    f"plus intercept) for a determined subproblem, got {k}"
                )
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            rs = int(rs.randint(0, 2**31 - 1))
        return p, k, max_iter, rs

    def fit(self, X: Any, y: Any) -> SampledLpRegressor:
        """Sample rows and fit the coefficients on them.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training design.
        y : array_like of shape (n_samples,)
            Targets.

        Returns
        -------
        SampledLpRegressor
            The fitted estimator (``self``).
        """
        X, y = _validate(self, X, y, y_numeric=True, dtype=np.float64)
        n = X.shape[0]
        A = np.column_stack([X, np.ones(n)]) if self.fit_intercept else X
        p, k, max_iter, rs = self._fit_iv(A.shape[1])
        y = np.asarray(y, dtype=np.float64)
        if k is None or k >= n:
            idx, w = np.arange(n), np.ones(n)
        else:
            Ab = np.column_stack([A, y])
            smp = sample_rows(Ab, p, method=self.sampling, size=k, rng=rs)
            idx, w = smp.indices, smp.sample_weights
            _check_sample_rank(A[idx], A, "sample_size")
        As, bs = A[idx], y[idx]
        if p == 1.0:
            coef, it = _lp_l1(As, bs, w), 0
        else:
            coef, it, _ = _irls(As, bs, p, w=w, tol=1e-12, max_iter=max_iter)
        if self.fit_intercept:
            self.coef_, self.intercept_ = coef[:-1], float(coef[-1])
        else:
            self.coef_, self.intercept_ = coef, 0.0
        self.sample_indices_ = idx
        self.sample_weights_ = w
        self.n_iter_ = max(1, int(it))  # the LP counts as one iteration
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Linear predictions ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Points to predict at.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        check_is_fitted(self)
        X = _validate(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_
