"""Fisher information of a noisy sample relative to a clean one."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy.special import logsumexp

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_choice, check_int, check_psd, check_scalar
from sciddm.ambient._checks import SCALE_CAP, as_array

__all__ = ["FisherValue", "gaussian_fisher_value", "mixture_fisher_value"]


@dataclasses.dataclass(frozen=True, repr=False)
class FisherValue(Result):
    """Fisher information of one clean and one noisy sample, and their ratio.

    Attributes
    ----------
    info_clean, info_noisy : ndarray of shape (p, p)
        Per-sample Fisher information matrices of the parameters.
    value : float
        ``tr(I_clean^-1) / tr(I_noisy^-1)``: the number of clean samples one
        noisy sample is worth for the total asymptotic variance of the MLE.
    price : float
        ``1 / value``: the number of noisy samples a clean sample is worth.
    efficiencies : ndarray of shape (p,)
        Generalised eigenvalues of ``(I_noisy, I_clean)``, each in [0, 1]: the
        worth of a noisy sample along each direction of parameter space.

    Examples
    --------
    >>> from sciddm.ambient import gaussian_fisher_value
    >>> fv = gaussian_fisher_value([[1.0, 0.0], [0.0, 4.0]], 1.0)
    >>> fv.efficiencies.round(2).tolist(), round(fv.price, 3)
    ([0.5, 0.8], 1.4)
    """

    info_clean: np.ndarray
    info_noisy: np.ndarray
    value: float
    price: float
    efficiencies: np.ndarray


def _value(ic: np.ndarray, inn: np.ndarray) -> FisherValue:
    ic = (ic + ic.T) / 2
    inn = (inn + inn.T) / 2
    v = float(np.trace(np.linalg.inv(ic)) / np.trace(np.linalg.inv(inn)))
    import scipy.linalg

    eff = np.sort(scipy.linalg.eigvalsh(inn, ic))
    return FisherValue(
        info_clean=ic, info_noisy=inn, value=v, price=1.0 / v if v > 0 else np.inf, efficiencies=eff
    )


def gaussian_fisher_value(cov: Any, sigma: float, *, parameter: str = "mean") -> FisherValue:
    r"""Worth of a noisy sample of :math:`N(\mu, \Sigma)` observed with noise ``sigma``.

    Parameters
    ----------
    cov : array_like of shape (d, d) or float
        The clean covariance :math:`\Sigma` (positive definite).
    sigma : float >= 0
        Noise level of the noisy sample.
    parameter : {"mean", "covariance"}
        Parameter being estimated.

    Returns
    -------
    FisherValue

    Notes
    -----
    With :math:`C = \Sigma + \sigma^2 I`: for the mean, :math:`I_{\rm clean} =
    \Sigma^{-1}` and :math:`I_{\rm noisy} = C^{-1}`, so the value is
    :math:`\operatorname{tr}\Sigma / \operatorname{tr} C` and the efficiencies are
    :math:`\lambda_j / (\lambda_j + \sigma^2)`. For the covariance (symmetric
    parametrisation by the :math:`d(d+1)/2` free entries), the Fisher
    information is :math:`\tfrac12 D^\top (C^{-1}\otimes C^{-1}) D` with the
    duplication matrix :math:`D`; in one dimension the value is
    :math:`s^4/(s^2+\sigma^2)^2`.

    References
    ----------
    .. [1] Magnus & Neudecker, *Matrix Differential Calculus*, 3rd ed., Ch. 15
       (Fisher information of the multivariate normal).

    Examples
    --------
    >>> from sciddm.ambient import gaussian_fisher_value
    >>> round(gaussian_fisher_value(2.0, 1.0).value, 4)
    0.6667
    >>> round(gaussian_fisher_value(2.0, 1.0, parameter="covariance").value, 4)
    0.4444
    """
    sig = check_scalar(sigma, "sigma", lo=0.0, hi=SCALE_CAP)
    check_choice(parameter, "parameter", ("mean", "covariance"))
    c = np.atleast_2d(as_array(cov, "cov", ndim=(0, 2)))
    if c.size == 0 or c.shape[0] > 1000:
        raise ValueError(f"`cov` must be a d x d matrix with 1 <= d <= 1000, got shape {c.shape}")
    check_psd(c, "cov")
    if np.linalg.eigvalsh(c)[0] <= 0:
        raise ValueError("`cov` must be positive definite")
    d = c.shape[0]
    cn = c + sig**2 * np.eye(d)
    if parameter == "mean":
        return _value(np.linalg.inv(c), np.linalg.inv(cn))
    # duplication matrix for vech
    idx = [(i, j) for j in range(d) for i in range(j, d)]
    dup = np.zeros((d * d, len(idx)))
    for col, (i, j) in enumerate(idx):
        dup[i * d + j, col] = 1.0
        dup[j * d + i, col] = 1.0

    def info(m: np.ndarray) -> np.ndarray:
        mi = np.linalg.inv(m)
        return np.asarray(0.5 * dup.T @ np.kron(mi, mi) @ dup)

    return _value(info(c), info(cn))


def _mixture_scores(
    y: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    s2: float,
    parameter: str,
) -> np.ndarray:
    n, d = y.shape
    k = len(weights)
    logp = np.empty((n, k))
    pre = []
    for j in range(k):
        cj = covs[j] + s2 * np.eye(d)
        cinv = np.linalg.inv(cj)
        r = y - means[j]
        _, logdet = np.linalg.slogdet(cj)
        logp[:, j] = np.log(weights[j]) - 0.5 * (
            np.einsum("ni,ij,nj->n", r, cinv, r) + logdet + d * np.log(2 * np.pi)
        )
        pre.append((cinv, r))
    gam = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
    cols = []
    if parameter in ("means", "both"):
        for j in range(k):
            cinv, r = pre[j]
            cols.append(gam[:, j : j + 1] * (r @ cinv))
    if parameter in ("variances", "both"):
        for j in range(k):
            cinv, r = pre[j]
            w = r @ cinv
            cols.append((gam[:, j] * 0.5 * (np.sum(w * w, axis=1) - np.trace(cinv)))[:, None])
    return np.hstack(cols)


def mixture_fisher_value(
    weights: Any,
    means: Any,
    covariances: Any,
    sigma: float,
    *,
    parameter: str = "means",
    n_mc: int = 200_000,
    rng: SeedLike = None,
) -> FisherValue:
    r"""Monte Carlo Fisher information of a clean and a noisy mixture sample.

    The mixture is :math:`\sum_k \pi_k N(\mu_k, \Sigma_k)` and the noisy sample
    :math:`y = x + \sigma\varepsilon` has density
    :math:`\sum_k \pi_k N(\mu_k, \Sigma_k + \sigma^2 I)`. The information is
    :math:`E[\nabla \log p(y)\nabla \log p(y)^\top]`, estimated from ``n_mc``
    draws; the clean information uses the same formula with :math:`\sigma = 0`.

    Parameters
    ----------
    weights : array_like of shape (k,)
    means : array_like of shape (k, d)
    covariances : array_like of shape (k, d, d)
    sigma : float >= 0
    parameter : {"means", "variances", "both"}
        Parameters: the component means, the isotropic scales
        :math:`t_k` of :math:`\Sigma_k + t_k I` at :math:`t_k = 0` (a
        component's variance for isotropic components), or both.
    n_mc : int
        Monte Carlo draws per information matrix.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    FisherValue

    Notes
    -----
    Scores: :math:`\partial_{\mu_k}\log p = \gamma_k(y)\, C_k^{-1}(y - \mu_k)` and
    :math:`\partial_{t_k}\log p = \tfrac12\gamma_k(y)\,(\|C_k^{-1}(y-\mu_k)\|^2 -
    \operatorname{tr} C_k^{-1})`, with :math:`C_k = \Sigma_k + \sigma^2 I` and
    :math:`\gamma_k` the posterior component probabilities. For well-separated
    components the means' value tends to the single-Gaussian value; as
    :math:`\sigma` grows, overlapping components make it fall faster.

    Examples
    --------
    >>> from sciddm.ambient import mixture_fisher_value
    >>> fv = mixture_fisher_value([1.0], [[0.0]], [[[2.0]]], 1.0, n_mc=100_000, rng=0)
    >>> round(fv.value, 2)
    0.67
    """
    w = as_array(weights, "weights", ndim=1, min_rows=1)
    if np.any(w <= 0) or not np.isclose(w.sum(), 1.0):
        raise ValueError("`weights` must be positive and sum to 1")
    k = w.shape[0]
    mu = as_array(means, "means", ndim=2)
    if mu.shape[0] != k:
        raise ValueError(f"`means` must have one row per entry of `weights` ({k}), got {mu.shape}")
    d = mu.shape[1]
    cov = as_array(covariances, "covariances", ndim=3, shape=(k, d, d))
    for j in range(k):
        check_psd(cov[j], f"covariances[{j}]")
    sig = check_scalar(sigma, "sigma", lo=0.0, hi=SCALE_CAP)
    check_choice(parameter, "parameter", ("means", "variances", "both"))
    n = check_int(n_mc, "n_mc", lo=100, hi=10**7)
    gen = as_generator(rng)
    comp = gen.choice(k, size=n, p=w)
    x = np.empty((n, d))
    for j in range(k):
        m = comp == j
        x[m] = gen.multivariate_normal(mu[j], cov[j], size=int(m.sum()))
    eps = gen.standard_normal((n, d))
    infos = []
    for s2, pts in ((0.0, x), (sig**2, x + sig * eps)):
        sc = _mixture_scores(pts, w, mu, cov, s2, parameter)
        infos.append(sc.T @ sc / n)
    return _value(infos[0], infos[1])
