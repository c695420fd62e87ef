"""Closed-form denoisers: Gaussian (full or low-rank) and Gaussian mixtures.

For data ``x_0 ~ N(mu, Sigma)`` with ``Sigma = U diag(lam) U^T`` (``U`` with orthonormal
columns, possibly low-rank) and ``x = x_0 + sigma n``:

* ``D(x, sigma) = E[x_0 | x] = mu + U diag(lam / (lam + sigma^2)) U^T (x - mu)``;
* score ``= (D - x) / sigma^2 = -(Sigma + sigma^2 I)^{-1} (x - mu)``;
* the probability-flow ODE ``dx/dsigma = (x - D)/sigma`` has the solution
  ``x(sigma) = mu + U diag(sqrt((lam + sigma^2)/(lam + sigma_T^2))) U^T (x_T - mu)
  + (sigma / sigma_T) (I - U U^T)(x_T - mu)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_array, check_dense, check_int, check_psd, check_scalar

__all__ = [
    "GaussianDenoiser",
    "GaussianMixtureDenoiser",
    "fit_gaussian",
    "fit_gaussian_mixture",
]


def _in(x: Any, d: int, name: str = "x") -> tuple[torch.Tensor, Any]:
    """Flatten ``x`` to (B, d) torch; return a function restoring the input's kind/shape."""
    check_dense(x, name)
    is_np = not isinstance(x, torch.Tensor)
    if is_np:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"`{name}` could not be converted to a float array: {exc}") from None
    else:
        t = x
        if t.is_complex():
            raise TypeError(f"`{name}` must be real, got dtype {t.dtype}")
    shape = t.shape
    if t.ndim == 0:
        raise ValueError(f"`{name}` must have shape (batch, ...) or (d,), got a scalar")
    if t.ndim == 1:
        t = t.reshape(1, -1)
    flat = t.reshape(t.shape[0], int(np.prod(t.shape[1:])))
    if flat.shape[1] != d:
        raise ValueError(
            f"`{name}` must have {d} features per sample (the model's dimension), got shape "
            f"{tuple(shape)}"
        )
    if not flat.is_floating_point():
        flat = flat.double()
    if not bool(torch.isfinite(flat).all()):
        raise ValueError(f"`{name}` must not contain NaN or inf")

    def out(y: torch.Tensor) -> Any:
        y = y.reshape(shape)
        return y.numpy() if is_np else y

    return flat, out


def _sigma_col(sigma: Any, ref: torch.Tensor) -> torch.Tensor:
    """``sigma`` as a (B, 1) column: a scalar or one finite, non-negative value per row."""
    check_dense(sigma, "sigma")
    try:
        s = torch.as_tensor(sigma, device=ref.device, dtype=ref.dtype)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"`sigma` must be a number or an array of numbers: {exc}") from None
    s = s.reshape(-1)
    if s.numel() == 1:
        s = s.expand(ref.shape[0])
    if s.numel() != ref.shape[0]:
        raise ValueError(f"`sigma` must be a scalar or have one entry per row, got {s.numel()}")
    if not bool(torch.isfinite(s * s).all()):
        raise ValueError("`sigma` must be finite (and its square too)")
    if bool((s < 0).any()):
        raise ValueError(f"`sigma` must be non-negative, got {float(s.min()):g}")
    return s.reshape(-1, 1)


def _positive_sigma(sigma: Any, ref: torch.Tensor) -> torch.Tensor:
    s = _sigma_col(sigma, ref)
    if bool((s == 0).any()):
        raise ValueError("`sigma` must be positive for the score (it is singular at sigma = 0)")
    return s


def _lowrank_iv(U: Any, lam: Any, d: int | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    U = check_array(U, f"{name}[0] (U)", ndim=2)
    lam = check_array(lam, f"{name}[1] (lam)", ndim=1)
    if d is not None and U.shape[0] != d:
        raise ValueError(f"`{name}` U must have {d} rows (the dimension of `mean`), got {U.shape}")
    if U.shape[1] != lam.size:
        raise ValueError(f"`{name}` U has {U.shape[1]} columns but lam has {lam.size} entries")
    if np.any(lam < 0):
        raise ValueError(f"`{name}` lam must be non-negative (a PSD covariance), got {lam.min():g}")
    if not np.allclose(U.T @ U, np.eye(U.shape[1]), atol=1e-8):
        raise ValueError(f"`{name}` U must have orthonormal columns")
    return U, lam


def _cov_to_lowrank(cov: Any, d: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    c = check_psd(cov, name)
    if c.shape != (d, d):
        raise ValueError(f"`{name}` must have shape ({d}, {d}) to match `mean`, got {c.shape}")
    lam, U = np.linalg.eigh((c + c.T) / 2)
    return U, np.clip(lam, 0.0, None)


class _Cache:
    def __init__(self, **arrays: np.ndarray) -> None:
        self._np = arrays
        self._t: dict[tuple[Any, Any], dict[str, torch.Tensor]] = {}

    def get(self, ref: torch.Tensor) -> dict[str, torch.Tensor]:
        key = (ref.device, ref.dtype)
        if key not in self._t:
            self._t[key] = {
                k: torch.as_tensor(v, device=ref.device, dtype=ref.dtype)
                for k, v in self._np.items()
            }
        return self._t[key]


class GaussianDenoiser:
    r"""Exact denoiser, score and probability-flow trajectories of Gaussian data.

    Parameters
    ----------
    mean : array_like of shape (d,)
        :math:`\mu`.
    cov : array_like of shape (d, d), or tuple ``(U, lam)``
        A PSD covariance, or its (possibly low-rank) eigen-factors: ``U`` of
        shape ``(d, r)`` with orthonormal columns and ``lam >= 0`` of shape
        ``(r,)``; :math:`\Sigma = U \operatorname{diag}(\lambda) U^\top` (zero
        variance in the orthogonal complement).

    Attributes
    ----------
    mean_, U_, lam_ : numpy.ndarray
        The parameters.
    cov_ : numpy.ndarray
        :math:`U \operatorname{diag}(\lambda) U^\top`.
    dim, rank : int

    Notes
    -----
    For :math:`x = x_0 + \sigma n`, :math:`x_0 \sim N(\mu, \Sigma)`:

    .. math::

        D(x, \sigma) = \mu + U \operatorname{diag}\Big(\frac{\lambda}{\lambda + \sigma^2}
        \Big) U^\top (x - \mu),\qquad
        \nabla \log p_\sigma(x) = \frac{D - x}{\sigma^2} = -(\Sigma + \sigma^2 I)^{-1}(x - \mu),

    and the probability-flow ODE :math:`dx/d\sigma = (x - D)/\sigma` has the solution

    .. math::

        x(\sigma) = \mu + U \operatorname{diag}\Big(\sqrt{\tfrac{\lambda + \sigma^2}
        {\lambda + \sigma_T^2}}\Big) U^\top (x_T - \mu)
        + \frac{\sigma}{\sigma_T}(I - U U^\top)(x_T - \mu).

    Inputs may be numpy arrays (float64 computation, numpy output) or torch
    tensors of any shape ``(B, ...)`` with ``prod(...) = d`` (computed on their
    device and dtype). ``sigma`` is a scalar or one value per row, finite and
    non-negative; at :math:`\sigma = 0` a zero-variance direction is projected
    out (the limit), and the score needs :math:`\sigma > 0`
    (``theory/30_gaussian_closed_forms.md``).

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 3 (eqs. for the Gaussian score, the exact
       probability-flow solution and the denoised estimate along it).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import GaussianDenoiser
    >>> g = GaussianDenoiser([0.0, 0.0], [[2.0, 0.0], [0.0, 0.5]])
    >>> g.denoise(np.array([[1.0, 1.0]]), 1.0)
    array([[0.66666667, 0.33333333]])
    >>> g.score(np.array([[1.0, 1.0]]), 1.0)
    array([[-0.33333333, -0.66666667]])
    """

    def __init__(self, mean: Any, cov: Any) -> None:
        mu = check_array(mean, "mean", ndim=1)
        d = mu.size
        if isinstance(cov, tuple):
            if len(cov) != 2:
                raise ValueError("`cov` given as a tuple must be (U, lam)")
            U, lam = _lowrank_iv(cov[0], cov[1], d, "cov")
        else:
            U, lam = _cov_to_lowrank(cov, d, "cov")
        self.mean_ = mu
        self.U_ = U
        self.lam_ = lam
        self.dim = d
        self.rank = lam.size
        self._c = _Cache(mu=mu, U=U, lam=lam)

    @property
    def cov_(self) -> np.ndarray:
        """The covariance ``U diag(lam) U^T``."""
        return (self.U_ * self.lam_) @ self.U_.T

    def __repr__(self) -> str:
        return f"GaussianDenoiser(dim={self.dim}, rank={self.rank})"

    def denoise(self, x: Any, sigma: Any) -> Any:
        """``E[x_0 | x_sigma = x] = mu + U diag(lam/(lam+sigma^2)) U^T (x - mu)``."""
        xf, out = _in(x, self.dim)
        p = self._c.get(xf)
        s = _sigma_col(sigma, xf)
        den = p["lam"] + s**2
        # at sigma = 0 a direction of zero variance is projected out (the limit of lam/(lam+s^2))
        coef = torch.where(den > 0, p["lam"] / torch.where(den > 0, den, 1.0), 0.0)
        proj = (xf - p["mu"]) @ p["U"]
        return out(p["mu"] + (coef * proj) @ p["U"].T)

    __call__ = denoise

    def score(self, x: Any, sigma: Any) -> Any:
        """``grad log p_sigma(x) = (D(x, sigma) - x) / sigma^2``."""
        xf, out = _in(x, self.dim)
        s = _positive_sigma(sigma, xf)
        return out((self.denoise(xf, s) - xf) / s**2)

    def pf_ode(self, x_T: Any, sigma_T: float, sigma: float) -> Any:
        """Exact probability-flow ODE solution from ``(x_T, sigma_T)`` to ``sigma``.

        Examples
        --------
        >>> import numpy as np
        >>> from sciddm.diffusion import GaussianDenoiser
        >>> g = GaussianDenoiser([1.0], [[3.0]])
        >>> g.pf_ode(np.array([[5.0]]), 1.0, 0.0)   # 1 + sqrt(3/4) * 4
        array([[4.46410162]])
        """
        sigma_T = check_scalar(sigma_T, "sigma_T", lo=0.0, hi=1e100, closed="right")
        sigma = check_scalar(sigma, "sigma", lo=0.0, hi=1e100)
        xf, out = _in(x_T, self.dim, "x_T")
        p = self._c.get(xf)
        diff = xf - p["mu"]
        proj = diff @ p["U"]
        ratio = torch.sqrt((p["lam"] + sigma**2) / (p["lam"] + sigma_T**2))
        perp = diff - proj @ p["U"].T
        return out(p["mu"] + (ratio * proj) @ p["U"].T + (sigma / sigma_T) * perp)

    def x0_along_trajectory(self, x_T: Any, sigma_T: float, sigma: float) -> Any:
        r"""The denoised estimate :math:`D(x(\sigma), \sigma)` along the exact trajectory from ``(x_T, sigma_T)``.

        Equals :math:`\mu + U \operatorname{diag}\big(\lambda/\sqrt{(\lambda + \sigma^2)
        (\lambda + \sigma_T^2)}\big) U^\top (x_T - \mu)`.

        Parameters
        ----------
        x_T : array_like or torch.Tensor of shape (B, ...)
            States at ``sigma_T``.
        sigma_T : float
            Starting level, in (0, 1e100].
        sigma : float
            Level of the estimate, in [0, 1e100].

        Returns
        -------
        Same kind and shape as ``x_T``.
        """
        sigma_T = check_scalar(sigma_T, "sigma_T", lo=0.0, hi=1e100, closed="right")
        sigma = check_scalar(sigma, "sigma", lo=0.0, hi=1e100)
        xf, out = _in(x_T, self.dim, "x_T")
        p = self._c.get(xf)
        proj = (xf - p["mu"]) @ p["U"]
        coef = p["lam"] / torch.sqrt((p["lam"] + sigma**2) * (p["lam"] + sigma_T**2))
        return out(p["mu"] + (coef * proj) @ p["U"].T)

    def sample(self, n: int, *, rng: Any = None) -> np.ndarray:
        """Draw ``n`` samples of ``N(mu, Sigma)`` (numpy, float64)."""
        from sciddm._core.rng import as_generator

        n = check_int(n, "n", lo=0)
        z = as_generator(rng).standard_normal((n, self.rank))
        return self.mean_ + (z * np.sqrt(self.lam_)) @ self.U_.T


class GaussianMixtureDenoiser:
    r"""Exact denoiser of a Gaussian mixture :math:`\sum_k \pi_k N(\mu_k, \Sigma_k)`.

    Parameters
    ----------
    means : array_like of shape (K, d)
        Component means.
    covs : array_like of shape (K, d, d), or tuple ``(U, lam)``
        Covariances, or their eigen-factors: ``U`` of shape ``(K, d, r)``
        (orthonormal columns per component) and ``lam`` of shape ``(K, r)``.
    weights : array_like of shape (K,), optional
        Mixture weights (uniform by default).

    Attributes
    ----------
    means_, U_, lam_, weights_ : numpy.ndarray
        The parameters.
    dim, n_components : int

    Notes
    -----
    With :math:`C_k = \Sigma_k + \sigma^2 I`, the posterior component weights are

    .. math::

        w_k(x) = \operatorname{softmax}_k\big(\log\pi_k - \tfrac12\log\det C_k
        - \tfrac12 (x - \mu_k)^\top C_k^{-1} (x - \mu_k)\big),

    and :math:`D(x, \sigma) = \sum_k w_k(x)\,[\mu_k + \Sigma_k C_k^{-1}(x - \mu_k)]`,
    the score :math:`(D - x)/\sigma^2`. Low rank uses
    :math:`\log\det C_k = \sum \log(\lambda + \sigma^2) + (d - r)\log\sigma^2`.
    At :math:`\sigma = 0` (full-rank components only) :math:`D(x, 0) = x`.

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 4 (Gaussian mixture score).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import GaussianMixtureDenoiser
    >>> gm = GaussianMixtureDenoiser([[-1.0], [1.0]], np.full((2, 1, 1), 1e-6))
    >>> np.round(gm.denoise(np.array([[0.5]]), 0.1), 4)
    array([[1.]])
    """

    def __init__(self, means: Any, covs: Any, weights: Any = None) -> None:
        mu = check_array(means, "means", ndim=2, min_rows=1)
        K, d = mu.shape
        if isinstance(covs, tuple):
            if len(covs) != 2:
                raise ValueError("`covs` given as a tuple must be (U, lam)")
            U = check_array(covs[0], "covs[0] (U)", ndim=3)
            lam = check_array(covs[1], "covs[1] (lam)", ndim=2)
            if U.shape[0] != K or lam.shape[0] != K:
                raise ValueError(f"`covs` must hold {K} components to match `means`")
            for k in range(K):
                _lowrank_iv(U[k], lam[k], d, f"covs[{k}]")
        else:
            c = check_array(covs, "covs", ndim=3)
            if c.shape != (K, d, d):
                raise ValueError(f"`covs` must have shape ({K}, {d}, {d}), got {c.shape}")
            Us, lams = [], []
            for k in range(K):
                Uk, lk = _cov_to_lowrank(c[k], d, f"covs[{k}]")
                Us.append(Uk)
                lams.append(lk)
            U, lam = np.stack(Us), np.stack(lams)
        if weights is None:
            w = np.full(K, 1.0 / K)
        else:
            w = check_array(weights, "weights", ndim=1)
            if w.size != K or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
                raise ValueError(f"`weights` must be {K} non-negative numbers summing to 1")
        self.means_, self.U_, self.lam_, self.weights_ = mu, U, lam, w
        self.dim, self.n_components = d, K
        with np.errstate(divide="ignore"):
            logw = np.log(w)
        self._c = _Cache(mu=mu, U=U, lam=lam, logw=logw)

    def __repr__(self) -> str:
        return (
            f"GaussianMixtureDenoiser(n_components={self.n_components}, dim={self.dim}, "
            f"rank={self.lam_.shape[1]})"
        )

    def responsibilities(self, x: Any, sigma: Any) -> Any:
        """Posterior component weights ``w_k(x)`` at noise level ``sigma``, shape (B, K)."""
        xf, _ = _in(x, self.dim)
        w = self._parts(xf, _sigma_col(sigma, xf))[0]
        return w.numpy() if not isinstance(x, torch.Tensor) else w

    def _parts(self, xf: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Responsibilities (B, K) and the posterior mean D (B, d) at levels ``s`` (B, 1)."""
        p = self._c.get(xf)
        s2 = s**2  # (B, 1)
        r = p["lam"].shape[1]
        if bool((s2 == 0).any()) and (r < self.dim or bool((p["lam"] <= 0).any())):
            raise ValueError(
                "`sigma` = 0 needs full-rank, positive-definite components (a singular "
                "component has no density); pass sigma > 0"
            )
        diff = xf[:, None, :] - p["mu"][None]  # (B, K, d)
        proj = torch.einsum("bkd,kdr->bkr", diff, p["U"])  # (B, K, r)
        lam_s = p["lam"][None] + s2[:, :, None]  # (B, K, r)
        maha = (proj**2 / lam_s).sum(-1)  # (B, K)
        logdet = torch.log(lam_s).sum(-1)
        if r < self.dim:  # the orthogonal complement has variance s^2
            perp2 = ((diff**2).sum(-1) - (proj**2).sum(-1)).clamp_min(0.0)
            maha = maha + perp2 / s2
            logdet = logdet + (self.dim - r) * torch.log(s2)
        w = torch.softmax(p["logw"][None] - 0.5 * logdet - 0.5 * maha, dim=1)
        # posterior mean of each component: mu_k + U diag(lam / (lam + s^2)) U^T (x - mu_k)
        means = p["mu"][None] + torch.einsum(
            "bkr,kdr->bkd", (p["lam"][None] / lam_s) * proj, p["U"]
        )
        return w, (w[:, :, None] * means).sum(1)

    def score(self, x: Any, sigma: Any) -> Any:
        """``grad log p_sigma(x) = (D(x, sigma) - x) / sigma^2`` (``sigma > 0``)."""
        xf, out = _in(x, self.dim)
        s = _positive_sigma(sigma, xf)
        return out((self._parts(xf, s)[1] - xf) / s**2)

    def denoise(self, x: Any, sigma: Any) -> Any:
        """``E[x_0 | x_sigma = x]``, the responsibility-weighted component posterior means."""
        xf, out = _in(x, self.dim)
        return out(self._parts(xf, _sigma_col(sigma, xf))[1])

    __call__ = denoise


def _data_iv(data: Any, name: str = "data", *, min_rows: int = 2) -> np.ndarray:
    check_dense(data, name)
    if isinstance(data, torch.Tensor):
        if data.is_complex():
            raise TypeError(f"`{name}` must be real, got dtype {data.dtype}")
        data = data.detach().cpu().double().numpy()
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of samples, got {type(data).__name__}")
    try:
        probe = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` could not be converted to an array: {exc}") from None
    if probe.dtype.kind == "c":
        raise TypeError(f"`{name}` must be real, got complex values")
    X = check_array(probe, name, ndim=None, min_rows=min_rows)
    if X.ndim < 2:
        raise ValueError(f"`{name}` must have shape (n, ...), got {X.shape}")
    return X.reshape(X.shape[0], -1)


def fit_gaussian(
    data: Any, *, rank: int | None = None, shrinkage: float = 0.0, ddof: int = 1
) -> GaussianDenoiser:
    r"""Fit the Gaussian denoiser of the data's mean and covariance (or its top-``rank`` PCA).

    Parameters
    ----------
    data : array_like, shape (n, ...)
        Samples (flattened to ``(n, d)``).
    rank : int, optional
        Keep the top ``rank`` principal components (low-rank denoiser).
    shrinkage : float, default 0
        Add ``shrinkage * I`` to the covariance.
    ddof : int, default 1
        Delta degrees of freedom of the covariance; ``ddof=0`` gives the covariance of
        the empirical measure, whose Gaussian denoiser agrees with
        :class:`EmpiricalDenoiser` to :math:`O(1/\sigma)`.

    Returns
    -------
    GaussianDenoiser

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 3 (the Gaussian approximation of a
       trained denoiser).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import fit_gaussian
    >>> X = np.random.default_rng(0).normal(size=(500, 3)) * [1.0, 2.0, 3.0]
    >>> g = fit_gaussian(X)
    >>> np.round(np.sqrt(np.sort(g.lam_)), 1)
    array([1. , 1.9, 3.1])
    """
    X = _data_iv(data)
    shrinkage = check_scalar(shrinkage, "shrinkage", lo=0.0)
    mu = X.mean(0)
    ddof = check_int(ddof, "ddof", lo=0, hi=X.shape[0] - 1)
    d = X.shape[1]
    C = np.cov(X, rowvar=False, ddof=ddof).reshape(d, d) + shrinkage * np.eye(d)
    if rank is None:
        return GaussianDenoiser(mu, C)
    rank = check_int(rank, "rank", lo=1, hi=X.shape[1])
    lam, U = np.linalg.eigh(C)
    idx = np.argsort(lam)[::-1][:rank]
    return GaussianDenoiser(mu, (U[:, idx], np.clip(lam[idx], 0, None)))


def fit_gaussian_mixture(
    data: Any,
    n_components: int,
    *,
    rank: int | None = None,
    shrinkage: float = 1e-4,
    rng: Any = None,
) -> GaussianMixtureDenoiser:
    r"""Fit a Gaussian-mixture denoiser: k-means clusters, each with its mean and covariance.

    Parameters
    ----------
    data : array_like, shape (n, ...)
        Samples (flattened to ``(n, d)``), at least ``n_components`` distinct.
    n_components : int
        Number of k-means clusters.
    rank : int, optional
        Keep the top ``rank`` eigen-directions of each cluster covariance.
    shrinkage : float, default 1e-4
        Added to each cluster covariance's diagonal (clusters may be small).
    rng : numpy.random.Generator, int or None
        Seeds k-means.

    Returns
    -------
    GaussianMixtureDenoiser

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 4 (Gaussian-mixture approximation).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import fit_gaussian_mixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-5, 1, (200, 2)), rng.normal(5, 1, (200, 2))])
    >>> gm = fit_gaussian_mixture(X, 2, rng=0)
    >>> np.sort(np.round(gm.means_[:, 0]))
    array([-5.,  5.])
    """
    from sklearn.cluster import KMeans

    from sciddm._core.rng import as_generator

    X = _data_iv(data)
    K = check_int(n_components, "n_components", lo=1, hi=X.shape[0])
    shrinkage = check_scalar(shrinkage, "shrinkage", lo=0.0)
    seed = int(as_generator(rng).integers(0, 2**31 - 1))
    distinct = len(np.unique(X, axis=0))
    if distinct < K:
        raise ValueError(
            f"`data` has {distinct} distinct point(s), fewer than `n_components` ({K})"
        )
    labels = KMeans(K, n_init=3, random_state=seed).fit_predict(X)
    d = X.shape[1]
    means, covs, w = [], [], []
    for k in range(K):
        Xk = X[labels == k]
        means.append(Xk.mean(0))
        C = np.cov(Xk, rowvar=False).reshape(d, d) if len(Xk) > 1 else np.zeros((d, d))
        covs.append(C + shrinkage * np.eye(d))
        w.append(len(Xk) / len(X))
    if rank is None:
        return GaussianMixtureDenoiser(np.array(means), np.array(covs), np.array(w))
    r = check_int(rank, "rank", lo=1, hi=d)
    Us, ls = [], []
    for C in covs:
        lam, U = np.linalg.eigh(C)
        idx = np.argsort(lam)[::-1][:r]
        Us.append(U[:, idx])
        ls.append(np.clip(lam[idx], 0, None))
    return GaussianMixtureDenoiser(np.array(means), (np.array(Us), np.array(ls)), np.array(w))
