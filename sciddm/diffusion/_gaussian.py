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

from sciddm._core.validation import check_array, check_int, check_psd, check_scalar

__all__ = [
    "GaussianDenoiser",
    "GaussianMixtureDenoiser",
    "fit_gaussian",
    "fit_gaussian_mixture",
]


def _in(x: Any, d: int, name: str = "x") -> tuple[torch.Tensor, Any]:
    """Flatten ``x`` to (B, d) torch; return a function restoring the input's kind/shape."""
    is_np = not isinstance(x, torch.Tensor)
    t = torch.as_tensor(np.asarray(x, dtype=np.float64)) if is_np else x
    shape = t.shape
    if t.ndim == 1:
        t = t.reshape(1, -1)
    flat = t.reshape(t.shape[0], -1)
    if flat.shape[1] != d:
        raise ValueError(
            f"`{name}` must have {d} features per sample (the model's dimension), got shape "
            f"{tuple(shape)}"
        )
    if not flat.is_floating_point():
        flat = flat.double()

    def out(y: torch.Tensor) -> Any:
        y = y.reshape(shape)
        return y.numpy() if is_np else y

    return flat, out


def _sigma_col(sigma: Any, ref: torch.Tensor) -> torch.Tensor:
    s = torch.as_tensor(sigma, device=ref.device, dtype=ref.dtype)
    if s.ndim == 0:
        s = s.expand(ref.shape[0])
    s = s.reshape(-1)
    if s.numel() == 1:
        s = s.expand(ref.shape[0])
    if s.numel() != ref.shape[0]:
        raise ValueError(f"`sigma` must be a scalar or have one entry per row, got {s.numel()}")
    return s.reshape(-1, 1)


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
    """Exact denoiser, score and probability-flow trajectories of Gaussian data.

    Parameters
    ----------
    mean : array_like, shape (d,)
    cov : array_like of shape (d, d), or tuple ``(U, lam)``
        A PSD covariance, or its (possibly low-rank) eigen-factors: ``U`` of shape
        ``(d, r)`` with orthonormal columns and ``lam >= 0`` of shape ``(r,)``;
        ``Sigma = U diag(lam) U^T`` (zero variance in the orthogonal complement).

    Notes
    -----
    Inputs may be numpy arrays (float64 computation, numpy output) or torch tensors of any
    shape ``(B, ...)`` with ``prod(...) = d`` (computed on their device and dtype). ``sigma``
    is a scalar or one value per row. See the module docstring for the formulas.

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 3 (eqs. for the Gaussian score, the exact
       probability-flow solution and x̂₀ along it).

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
        coef = p["lam"] / (p["lam"] + s**2)
        proj = (xf - p["mu"]) @ p["U"]
        return out(p["mu"] + (coef * proj) @ p["U"].T)

    __call__ = denoise

    def score(self, x: Any, sigma: Any) -> Any:
        """``grad log p_sigma(x) = (D(x, sigma) - x) / sigma^2``."""
        xf, out = _in(x, self.dim)
        s = _sigma_col(sigma, xf)
        return out((self.denoise(xf, sigma) - xf) / s**2)

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
        sigma_T = check_scalar(sigma_T, "sigma_T", lo=0.0, closed="neither")
        sigma = check_scalar(sigma, "sigma", lo=0.0)
        xf, out = _in(x_T, self.dim, "x_T")
        p = self._c.get(xf)
        diff = xf - p["mu"]
        proj = diff @ p["U"]
        ratio = torch.sqrt((p["lam"] + sigma**2) / (p["lam"] + sigma_T**2))
        perp = diff - proj @ p["U"].T
        return out(p["mu"] + (ratio * proj) @ p["U"].T + (sigma / sigma_T) * perp)

    def x0_along_trajectory(self, x_T: Any, sigma_T: float, sigma: float) -> Any:
        """x̂₀ = D(x(sigma), sigma) along the exact trajectory from ``(x_T, sigma_T)``.

        Equals ``mu + U diag(lam / sqrt((lam + sigma^2)(lam + sigma_T^2))) U^T (x_T - mu)``.
        """
        sigma_T = check_scalar(sigma_T, "sigma_T", lo=0.0, closed="neither")
        sigma = check_scalar(sigma, "sigma", lo=0.0)
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
    """Exact denoiser of a Gaussian mixture ``sum_k pi_k N(mu_k, Sigma_k)``.

    Parameters
    ----------
    means : array_like, shape (K, d)
    covs : array_like of shape (K, d, d), or tuple ``(U, lam)`` with ``U`` of shape
        ``(K, d, r)`` (orthonormal columns per component) and ``lam`` of shape ``(K, r)``.
    weights : array_like, shape (K,), optional
        Mixture weights (uniform by default).

    Notes
    -----
    ``score(x) = sum_k w_k(x) [-(Sigma_k + sigma^2 I)^{-1} (x - mu_k)]`` with
    ``w = softmax_k(log pi_k - 1/2 log det(Sigma_k + sigma^2 I) - 1/2 m_k^2)``,
    ``m_k^2 = (x - mu_k)^T (Sigma_k + sigma^2 I)^{-1} (x - mu_k)``. Low rank uses
    ``(U L U^T + s^2 I)^{-1} = s^{-2}(I - U diag(lam/(lam + s^2)) U^T)`` and
    ``log det = sum log(lam + s^2) + (d - r) log s^2``. ``D = x + sigma^2 score``.

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
        return self._parts(x, sigma)[1]

    def _parts(self, x: Any, sigma: Any) -> tuple[Any, Any]:
        xf, out = _in(x, self.dim)
        p = self._c.get(xf)
        s2 = _sigma_col(sigma, xf) ** 2  # (B, 1)
        diff = xf[:, None, :] - p["mu"][None]  # (B, K, d)
        proj = torch.einsum("bkd,kdr->bkr", diff, p["U"])  # (B, K, r)
        shrink = p["lam"][None] / (p["lam"][None] + s2[:, :, None])  # (B, K, r)
        back = torch.einsum("bkr,kdr->bkd", shrink * proj, p["U"])
        prec_diff = (diff - back) / s2[:, :, None]  # (Sigma_k + s^2)^-1 (x - mu_k)
        maha = (diff * prec_diff).sum(-1)  # (B, K)
        r = p["lam"].shape[1]
        logdet = torch.log(p["lam"][None] + s2[:, :, None]).sum(-1) + (self.dim - r) * torch.log(s2)
        logits = p["logw"][None] - 0.5 * logdet - 0.5 * maha
        w = torch.softmax(logits, dim=1)
        score = -(w[:, :, None] * prec_diff).sum(1)
        is_np = not isinstance(x, torch.Tensor)
        return out(score), (w.numpy() if is_np else w)

    def score(self, x: Any, sigma: Any) -> Any:
        """``grad log p_sigma(x)``."""
        return self._parts(x, sigma)[0]

    def denoise(self, x: Any, sigma: Any) -> Any:
        """``E[x_0 | x_sigma = x] = x + sigma^2 score``."""
        xf, out = _in(x, self.dim)
        s = _sigma_col(sigma, xf)
        return out(xf + s**2 * self.score(xf, sigma))

    __call__ = denoise


def _data_iv(data: Any, name: str = "data", *, min_rows: int = 2) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().double().numpy()
    X = check_array(data, name, ndim=None, min_rows=min_rows)
    if X.ndim < 2:
        raise ValueError(f"`{name}` must have shape (n, ...), got {X.shape}")
    return X.reshape(X.shape[0], -1)


def fit_gaussian(data: Any, *, rank: int | None = None, shrinkage: float = 0.0) -> GaussianDenoiser:
    """Fit the Gaussian denoiser of the data's mean and covariance (or its top-``rank`` PCA).

    Parameters
    ----------
    data : array_like, shape (n, ...)
        Samples (flattened to ``(n, d)``).
    rank : int, optional
        Keep the top ``rank`` principal components (low-rank denoiser).
    shrinkage : float, default 0
        Add ``shrinkage * I`` to the covariance (full rank only).

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
    C = np.cov(X, rowvar=False).reshape(X.shape[1], X.shape[1]) + shrinkage * np.eye(X.shape[1])
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
    """Fit a Gaussian-mixture denoiser: k-means clusters, each with its mean and covariance.

    Parameters
    ----------
    data : array_like, shape (n, ...)
    n_components : int
        Number of k-means clusters.
    rank : int, optional
        Keep the top ``rank`` eigen-directions of each cluster covariance.
    shrinkage : float, default 1e-4
        Added to each cluster covariance's diagonal (clusters may be small).
    rng : numpy.random.Generator, int or None
        Seeds k-means.

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
