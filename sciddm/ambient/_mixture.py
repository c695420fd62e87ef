"""Gaussians and Gaussian mixtures learned from samples with known per-sample noise.

Model: ``x_i ~ sum_k pi_k N(mu_k, Sigma_k)`` and ``y_i = x_i + sigma_i eps_i`` with
``sigma_i`` known, so ``y_i ~ sum_k pi_k N(mu_k, Sigma_k + sigma_i^2 I)``. The
maximum-likelihood estimate is computed by EM with the clean ``x_i`` as
latent variables ("extreme deconvolution", Bovy, Hogg & Roweis 2011) with
isotropic per-sample noise, which makes each E-step diagonal in the
eigenbasis of ``Sigma_k``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int, check_scalar, warn_convergence
from sciddm.ambient._checks import as_array, mixture_iv

__all__ = [
    "GaussianFit",
    "NoisyGaussianMixture",
    "clipped_covariance",
    "heteroscedastic_gaussian_mle",
    "noisy_log_likelihood",
]

logger = logging.getLogger(__name__)
_LOG2PI = float(np.log(2 * np.pi))


def _data_iv(y: Any, sigma_n: Any, *, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    ya = as_array(y, "y", ndim=2, min_rows=min_rows)
    if sigma_n is None:
        return ya, np.zeros(ya.shape[0])
    s = as_array(sigma_n, "sigma_n", ndim=(0, 1))
    if s.ndim == 0:
        s = np.full(ya.shape[0], float(s))
    if s.shape[0] != ya.shape[0]:
        raise ValueError(
            f"`sigma_n` must have one entry per row of `y` ({ya.shape[0]}), got shape {s.shape}"
        )
    if np.any(s < 0):
        raise ValueError(f"`sigma_n` must be non-negative, found {float(s.min())!r}")
    return ya, s


def _validate(est: Any, X: Any, **kw: Any) -> np.ndarray:
    """scikit-learn's ``validate_data`` with messages that name ``X``."""
    from sklearn.utils.validation import validate_data

    from sciddm._core.validation import check_dense

    check_dense(X, "X")
    try:
        return np.asarray(validate_data(est, X, dtype=np.float64, **kw))
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        raise type(exc)(msg if msg.startswith("X has") else f"`X`: {msg}") from None


def _refuse_y(y: Any, method: str) -> None:
    """A second positional argument is never ignored: it used to be where ``sigma_n`` went."""
    if y is not None:
        raise TypeError(
            f"NoisyGaussianMixture.{method}() takes the noise levels as the keyword `sigma_n`, "
            f"not as the second positional argument `y` (got {type(y).__name__}); call "
            f"{method}(X, sigma_n=sigma_n). Passing it as `y` would fit as if sigma_n = 0."
        )


def _component_terms(
    y: np.ndarray, s2: np.ndarray, mean: np.ndarray, cov: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log-density of each row under N(mean, cov + s2 I) and rotated quantities."""
    lam, u = np.linalg.eigh((cov + cov.T) / 2)
    lam = np.clip(lam, 0.0, None)
    z = (y - mean) @ u  # (n, d)
    c = np.maximum(lam[None, :] + s2[:, None], floor)  # (n, d)
    logpdf = -0.5 * (np.sum(z * z / c + np.log(c), axis=1) + y.shape[1] * _LOG2PI)
    return logpdf, z, c, lam, u


def noisy_log_likelihood(
    y: Any, sigma_n: Any, weights: Any, means: Any, covariances: Any
) -> np.ndarray:
    r"""Per-sample log-density :math:`\log\sum_k \pi_k N(y_i; \mu_k, \Sigma_k + \sigma_i^2 I)`.

    Parameters
    ----------
    y : array_like of shape (n, d)
        Observations.
    sigma_n : float or array_like of shape (n,)
        Their known noise levels.
    weights : array_like of shape (k,)
        Mixture weights (normalised to sum 1).
    means : array_like of shape (k, d)
    covariances : array_like of shape (k, d, d)
        Covariances of the clean components.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import noisy_log_likelihood
    >>> ll = noisy_log_likelihood([[0.0]], [1.0], [1.0], [[0.0]], [[[1.0]]])
    >>> bool(np.isclose(ll[0], -0.5 * np.log(2 * np.pi * 2.0)))
    True
    """
    ya, s = _data_iv(y, sigma_n, min_rows=1)
    w, mu, cov = mixture_iv((weights, means, covariances), "(weights, means, covariances)")
    if mu.shape[1] != ya.shape[1]:
        raise ValueError(f"`means` must have {ya.shape[1]} columns like `y`, got {mu.shape[1]}")
    w = w / w.sum()
    s2 = s**2
    terms = np.column_stack(
        [np.log(w[k]) + _component_terms(ya, s2, mu[k], cov[k], 1e-300)[0] for k in range(len(w))]
    )
    return np.asarray(logsumexp(terms, axis=1))


@dataclasses.dataclass(frozen=True, repr=False)
class GaussianFit(Result):
    """A Gaussian estimated from noisy samples.

    Attributes
    ----------
    mean : ndarray of shape (d,)
    covariance : ndarray of shape (d, d)
    log_likelihood : float
        Mean per-sample log-likelihood of the *noisy* observations.
    n_iter : int
        EM iterations (0 for closed-form estimators).
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import clipped_covariance
    >>> fit = clipped_covariance(np.random.default_rng(0).normal(size=(500, 1)), 0.0)
    >>> fit.n_iter, fit.converged, fit.covariance.shape
    (0, True, (1, 1))
    """

    mean: np.ndarray
    covariance: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def clipped_covariance(y: Any, sigma_n: Any) -> GaussianFit:
    r"""Moment estimator of the clean covariance with negative eigenvalues clipped.

    .. math::

        \hat\mu = \bar y,\qquad
        \hat\Sigma = \Pi_{\succeq 0}\Big(\frac{1}{n-1}\sum_i (y_i-\bar y)(y_i-\bar y)^\top
        - \overline{\sigma^2}\, I\Big),

    where :math:`\Pi_{\succeq 0}` sets negative eigenvalues to zero (the
    Frobenius projection onto the PSD cone). Before clipping the estimator is
    unbiased: :math:`E[\cdot] = \Sigma` for independent
    :math:`y_i \sim N(\mu, \Sigma + \sigma_i^2 I)`.

    Parameters
    ----------
    y : array_like of shape (n, d)
    sigma_n : float or array_like of shape (n,)

    Returns
    -------
    GaussianFit

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import clipped_covariance
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(20000, 2)) * [2.0, 0.1] + rng.normal(size=(20000, 2))
    >>> fit = clipped_covariance(y, 1.0)
    >>> np.round(np.diag(fit.covariance))
    array([4., 0.])
    """
    ya, s = _data_iv(y, sigma_n)
    mean = ya.mean(axis=0)
    raw = np.cov(ya, rowvar=False).reshape(ya.shape[1], ya.shape[1]) - np.mean(s**2) * np.eye(
        ya.shape[1]
    )
    lam, u = np.linalg.eigh((raw + raw.T) / 2)
    cov = (u * np.clip(lam, 0.0, None)) @ u.T
    ll = (
        float(noisy_log_likelihood(ya, s, [1.0], mean[None], cov[None]).mean())
        if np.any(np.clip(lam, 0.0, None) > 0) or np.all(s > 0)
        else float("-inf")
    )
    return GaussianFit(mean=mean, covariance=cov, log_likelihood=ll, n_iter=0, converged=True)


def _em(
    y: np.ndarray,
    s: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    *,
    max_iter: int,
    tol: float,
    reg_covar: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int, bool]:
    n, d = y.shape
    k = weights.shape[0]
    s2 = s**2
    floor = 1e-300
    prev = -np.inf
    ll = -np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        # E-step
        logp = np.empty((n, k))
        parts = []
        for j in range(k):
            lp, z, c, lam, u = _component_terms(y, s2, means[j], covs[j], floor)
            logp[:, j] = np.log(max(weights[j], 1e-300)) + lp
            parts.append((z, c, lam, u))
        norm = logsumexp(logp, axis=1)
        ll = float(norm.mean())
        resp = np.exp(logp - norm[:, None])
        if abs(ll - prev) <= tol * max(1.0, abs(ll)):
            converged = True
            break
        prev = ll
        # M-step with posterior moments of the clean x_i
        nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
        weights = nk / n
        for j in range(k):
            z, c, lam, u = parts[j]
            shrink = lam[None, :] / c  # (n, d)
            b = means[j] + (shrink * z) @ u.T  # posterior means
            r = resp[:, j]
            mu = r @ b / nk[j]
            diff = b - mu
            post_var = (r[:, None] * (lam[None, :] * s2[:, None] / c)).sum(axis=0) / nk[j]
            cov = (diff * r[:, None]).T @ diff / nk[j] + (u * post_var) @ u.T
            means[j] = mu
            covs[j] = (cov + cov.T) / 2 + reg_covar * np.eye(d)
    return weights, means, covs, ll, it, converged


def _init_params(
    y: np.ndarray, s: np.ndarray, k: int, gen: np.random.Generator, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, d = y.shape
    if k == 1:
        labels = np.zeros(n, dtype=int)
    else:
        from sklearn.cluster import KMeans

        labels = KMeans(
            n_clusters=k, n_init=1, random_state=int(gen.integers(2**31 - 1))
        ).fit_predict(y)
    weights = np.empty(k)
    means = np.empty((k, d))
    covs = np.empty((k, d, d))
    for j in range(k):
        m = labels == j
        if m.sum() < 2:
            m = gen.random(n) < 2.0 / k
        weights[j] = m.mean()
        means[j] = y[m].mean(axis=0)
        raw = np.atleast_2d(np.cov(y[m], rowvar=False)) - np.mean(s[m] ** 2) * np.eye(d)
        lam, u = np.linalg.eigh((raw + raw.T) / 2)
        # start from a strictly positive definite guess
        lam = np.maximum(lam, 0.1 * max(float(np.mean(np.clip(lam, 0, None))), 1e-3))
        covs[j] = (u * lam) @ u.T + reg_covar * np.eye(d)
    weights /= weights.sum()
    return weights, means, covs


class NoisyGaussianMixture(DensityMixin, BaseEstimator):
    r"""Gaussian mixture fitted by EM to samples with known per-sample noise.

    Parameters
    ----------
    n_components : int, default 1
    max_iter : int, default 1000
        EM iterations per initialisation.
    tol : float, default 1e-8
        Stop when the mean log-likelihood changes by less than
        ``tol * max(1, |loglik|)``.
    n_init : int, default 1
        Initialisations (k-means on the observations); the best is kept.
    reg_covar : float, default 1e-6
        Added to each covariance's diagonal.
    random_state : int, numpy.random.Generator or None

    Attributes
    ----------
    weights_ : ndarray of shape (k,)
    means_ : ndarray of shape (k, d)
    covariances_ : ndarray of shape (k, d, d)
        Covariances of the *clean* components.
    lower_bound_ : float
        Mean log-likelihood of the noisy training data.
    n_iter_ : int
    converged_ : bool

    Notes
    -----
    E-step: responsibilities :math:`r_{ik} \propto \pi_k N(y_i; \mu_k, \Sigma_k +
    \sigma_i^2 I)` and the posterior of the clean :math:`x_i` given component
    :math:`k`, with mean :math:`b_{ik} = \mu_k + \Sigma_k(\Sigma_k +
    \sigma_i^2 I)^{-1}(y_i-\mu_k)` and covariance :math:`B_{ik} = \Sigma_k -
    \Sigma_k(\Sigma_k+\sigma_i^2 I)^{-1}\Sigma_k`. M-step:
    :math:`\pi_k = \bar r_k`, :math:`\mu_k = \sum_i r_{ik} b_{ik} / \sum_i r_{ik}`,
    :math:`\Sigma_k = \sum_i r_{ik}[(b_{ik}-\mu_k)(b_{ik}-\mu_k)^\top + B_{ik}] /
    \sum_i r_{ik}`. Each step does not decrease the likelihood; clean
    samples (:math:`\sigma_i = 0`) give the usual EM updates.

    References
    ----------
    .. [1] Bovy, Hogg, Roweis, "Extreme deconvolution: inferring complete
       distribution functions from noisy, heterogeneous and incomplete
       observations", Ann. Appl. Stat. 5 (2011), Sec. 2.
    .. [2] Daras, Cherapanamjeri, Daskalakis, ICLR 2025, Sec. 5 (mixtures
       with heterogeneous variances).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import NoisyGaussianMixture, corrupt
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(-3, 0.5, (2000, 1)), rng.normal(3, 0.5, (2000, 1))]
    >>> ds = corrupt(x, 1.0, rng=1)
    >>> gm = NoisyGaussianMixture(2, random_state=0).fit(ds.y, sigma_n=ds.sigma_n)
    >>> np.round(np.sort(gm.means_.ravel()), 1)
    array([-3.,  3.])
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        max_iter: int = 1000,
        tol: float = 1e-8,
        n_init: int = 1,
        reg_covar: float = 1e-6,
        random_state: SeedLike = None,
    ) -> None:
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, *, sigma_n: Any = None) -> NoisyGaussianMixture:
        """Fit to observations ``X`` with known noise levels ``sigma_n`` (default 0)."""
        _refuse_y(y, "fit")
        k = check_int(self.n_components, "n_components", lo=1, hi=10**4)
        max_iter = check_int(self.max_iter, "max_iter", lo=1, hi=10**8)
        n_init = check_int(self.n_init, "n_init", lo=1, hi=10**4)
        tol = check_scalar(self.tol, "tol", lo=0.0, hi=1.0)
        reg = check_scalar(self.reg_covar, "reg_covar", lo=0.0, hi=1e100)
        xa = _validate(self, X, reset=True, ensure_min_samples=2)
        if xa.shape[0] < k:
            raise ValueError(
                f"`n_components` ({k}) must be at most the number of samples of `X` ({xa.shape[0]})"
            )
        ya, s = _data_iv(xa, sigma_n, min_rows=max(2, k))
        gen = as_generator(self.random_state)
        best = None
        for _ in range(n_init):
            w, m, c = _init_params(ya, s, k, gen, reg)
            out = _em(ya, s, w, m, c, max_iter=max_iter, tol=tol, reg_covar=reg)
            if best is None or out[3] > best[3]:
                best = out
        assert best is not None
        (
            self.weights_,
            self.means_,
            self.covariances_,
            self.lower_bound_,
            self.n_iter_,
            self.converged_,
        ) = best
        if not self.converged_:
            warn_convergence(f"EM did not converge in {max_iter} iterations", "max_iter")
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "means_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("NoisyGaussianMixture is not fitted yet; call fit first")

    def _validate_x(self, X: Any, sigma_n: Any) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        xa = _validate(self, X, reset=False)
        return _data_iv(xa, sigma_n, min_rows=1)

    def score_samples(self, X: Any, sigma_n: Any = None) -> np.ndarray:
        """Per-sample log-likelihood of observations with noise ``sigma_n`` (default 0)."""
        ya, s = self._validate_x(X, sigma_n)
        return noisy_log_likelihood(ya, s, self.weights_, self.means_, self.covariances_)

    def score(self, X: Any, y: Any = None, *, sigma_n: Any = None) -> float:
        """Mean per-sample log-likelihood."""
        _refuse_y(y, "score")
        return float(self.score_samples(X, sigma_n).mean())

    def predict_proba(self, X: Any, sigma_n: Any = None) -> np.ndarray:
        """Posterior component probabilities of each observation."""
        ya, s = self._validate_x(X, sigma_n)
        logp = np.column_stack(
            [
                np.log(self.weights_[j])
                + _component_terms(ya, s**2, self.means_[j], self.covariances_[j], 1e-300)[0]
                for j in range(len(self.weights_))
            ]
        )
        return np.asarray(np.exp(logp - logsumexp(logp, axis=1, keepdims=True)))

    def sample(self, n_samples: int = 1, *, rng: SeedLike = None) -> np.ndarray:
        """Draw clean samples from the fitted mixture."""
        self._check_fitted()
        n = check_int(n_samples, "n_samples", lo=1, hi=10**8)
        gen = as_generator(rng)
        comp = gen.choice(len(self.weights_), size=n, p=self.weights_ / self.weights_.sum())
        out = np.empty((n, self.means_.shape[1]))
        for j in range(len(self.weights_)):
            m = comp == j
            out[m] = gen.multivariate_normal(
                self.means_[j], self.covariances_[j], size=int(m.sum())
            )
        return out


def heteroscedastic_gaussian_mle(
    y: Any, sigma_n: Any, *, max_iter: int = 10000, tol: float = 1e-13
) -> GaussianFit:
    r"""Maximum-likelihood mean and covariance of a Gaussian seen through known noise.

    Maximises :math:`\sum_i \log N(y_i; \mu, \Sigma + \sigma_i^2 I)` over
    :math:`\mu` and :math:`\Sigma \succeq 0` by EM (a one-component
    :class:`NoisyGaussianMixture`), started from :func:`clipped_covariance`.

    Parameters
    ----------
    y : array_like of shape (n, d)
    sigma_n : float or array_like of shape (n,)
    max_iter : int, default 10000
    tol : float, default 1e-13

    Returns
    -------
    GaussianFit

    Notes
    -----
    With equal noise levels the MLE is the clipped moment estimator with the
    divisor ``n`` (the sample covariance is sufficient). With unequal levels
    the MLE weights precise samples more: for known :math:`\Sigma`,
    :math:`\hat\mu = (\sum_i C_i^{-1})^{-1}\sum_i C_i^{-1} y_i`,
    :math:`C_i = \Sigma + \sigma_i^2 I`; it is consistent and asymptotically
    efficient, with asymptotic covariance the inverse of the summed Fisher
    informations (``theory/62_fisher_noisy_value.md``).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import heteroscedastic_gaussian_mle
    >>> rng = np.random.default_rng(0)
    >>> s = rng.choice([0.0, 2.0], size=4000)
    >>> y = 1.0 + rng.normal(size=(4000, 1)) + s[:, None] * rng.normal(size=(4000, 1))
    >>> fit = heteroscedastic_gaussian_mle(y, s)
    >>> round(float(fit.mean[0]), 1), round(float(fit.covariance[0, 0]), 1)
    (1.0, 1.0)
    """
    ya, s = _data_iv(y, sigma_n)
    it_max = check_int(max_iter, "max_iter", lo=1, hi=10**8)
    tol_ = check_scalar(tol, "tol", lo=0.0)
    start = clipped_covariance(ya, s)
    d = ya.shape[1]
    cov0 = start.covariance + 1e-3 * max(float(np.trace(start.covariance)) / d, 1e-3) * np.eye(d)
    w, m, c, ll, it, ok = _em(
        ya,
        s,
        np.ones(1),
        start.mean[None].copy(),
        cov0[None].copy(),
        max_iter=it_max,
        tol=tol_,
        reg_covar=0.0,
    )
    if not ok:
        warn_convergence(f"EM did not converge in {it_max} iterations", "max_iter")
    return GaussianFit(mean=m[0], covariance=c[0], log_likelihood=ll, n_iter=it, converged=ok)
