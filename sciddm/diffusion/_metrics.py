"""Offline sample-quality metrics: Fréchet distance on PCA or classifier features,
sliced Wasserstein distance and MMD."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.rng import SeedLike, as_generator, torch_generator
from sciddm._core.validation import check_int, check_scalar
from sciddm.diffusion._gaussian import _data_iv

__all__ = [
    "ClassifierFeatures",
    "PCAFeatures",
    "frechet_distance",
    "mmd",
    "sliced_wasserstein",
]


def _pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = _data_iv(x, "x")
    Y = _data_iv(y, "y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"`x` and `y` must have the same dimension, got {X.shape[1]} and {Y.shape[1]}"
        )
    return X, Y


def frechet_distance(x: Any, y: Any, *, features: Any = None) -> float:
    """Fréchet (2-Wasserstein between fitted Gaussians) distance of two samples.

    ``||m_x - m_y||^2 + tr(C_x + C_y - 2 (C_x^{1/2} C_y C_x^{1/2})^{1/2})`` of the means and
    covariances of ``features(x)`` and ``features(y)`` (raw inputs when ``features`` is
    None). With Inception features this is FID; offline, use :class:`PCAFeatures` or
    :class:`ClassifierFeatures` fitted on the real data.

    References
    ----------
    .. [1] Heusel et al., "GANs trained by a two time-scale update rule converge to a
       local Nash equilibrium", NeurIPS 2017 (FID); Dowson & Landau 1982.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import frechet_distance
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(20000, 2)); y = rng.normal(size=(20000, 2)) * 2 + 1
    >>> abs(frechet_distance(x, y) - 4.0) < 0.15   # |(1,1)|^2 + 2 (1 + 4 - 2*2)
    True
    """
    if features is not None:
        x, y = features(x), features(y)
    X, Y = _pair(x, y)
    mx, my = X.mean(0), Y.mean(0)
    Cx = np.atleast_2d(np.cov(X, rowvar=False))
    Cy = np.atleast_2d(np.cov(Y, rowvar=False))
    lx, Ux = np.linalg.eigh(Cx)
    sx = (Ux * np.sqrt(np.clip(lx, 0, None))) @ Ux.T
    M = sx @ Cy @ sx
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((M + M.T) / 2), 0, None)).sum()
    return float(((mx - my) ** 2).sum() + np.trace(Cx) + np.trace(Cy) - 2 * cross)


class PCAFeatures:
    """Project onto the top principal components of the real data (fit once, reuse).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import PCAFeatures
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> PCAFeatures(2).fit(X)(X).shape
    (100, 2)
    """

    def __init__(self, n_components: int = 16) -> None:
        self.n_components = check_int(n_components, "n_components", lo=1)

    def fit(self, X: Any) -> PCAFeatures:
        A = _data_iv(X, "X")
        k = min(self.n_components, A.shape[1])
        self.mean_ = A.mean(0)
        _, _, Vt = np.linalg.svd(A - self.mean_, full_matrices=False)
        self.components_ = Vt[:k]
        return self

    def transform(self, X: Any) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise ValueError("PCAFeatures must be fitted first: call .fit(real_data)")
        return (_data_iv(X, "X", min_rows=1) - self.mean_) @ self.components_.T

    __call__ = transform


class ClassifierFeatures:
    """Penultimate-layer features of a small MLP classifier trained on labelled real data.

    An offline stand-in for Inception features: a 2-hidden-layer ReLU network trained with
    full-batch Adam (deterministic given ``rng``).

    Parameters
    ----------
    hidden : int, default 128
    n_features : int, default 64
        Width of the feature (penultimate) layer.
    epochs : int, default 300
    lr : float, default 3e-3
    rng : numpy.random.Generator, int or None

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sciddm.diffusion import ClassifierFeatures
    >>> X, y = load_digits(return_X_y=True)
    >>> f = ClassifierFeatures(epochs=100, rng=0).fit(X / 16, y)
    >>> f.accuracy_ > 0.9, f(X[:3] / 16).shape
    (True, (3, 64))
    """

    def __init__(
        self,
        *,
        hidden: int = 128,
        n_features: int = 64,
        epochs: int = 300,
        lr: float = 3e-3,
        rng: SeedLike = None,
    ) -> None:
        self.hidden = check_int(hidden, "hidden", lo=1)
        self.n_features = check_int(n_features, "n_features", lo=1)
        self.epochs = check_int(epochs, "epochs", lo=1)
        self.lr = check_scalar(lr, "lr", lo=0.0, closed="neither")
        self.rng = rng

    def fit(self, X: Any, y: Any) -> ClassifierFeatures:
        A = torch.as_tensor(_data_iv(X, "X"), dtype=torch.float32)
        lab = np.asarray(y)
        if lab.shape != (A.shape[0],):
            raise ValueError(f"`y` must have shape ({A.shape[0]},), got {lab.shape}")
        classes, yi = np.unique(lab, return_inverse=True)
        t = torch.as_tensor(yi, dtype=torch.long)
        g = torch_generator(self.rng)
        torch_seed = int(g.initial_seed() % (2**63))
        with torch.random.fork_rng():
            torch.manual_seed(torch_seed)
            self.body_ = nn.Sequential(
                nn.Linear(A.shape[1], self.hidden),
                nn.ReLU(),
                nn.Linear(self.hidden, self.n_features),
                nn.ReLU(),
            )
            self.head_ = nn.Linear(self.n_features, len(classes))
        self.mean_ = A.mean(0)
        self.scale_ = A.std(0).clamp_min(1e-6)
        Z = (A - self.mean_) / self.scale_
        params = list(self.body_.parameters()) + list(self.head_.parameters())
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=1e-4)
        for _ in range(self.epochs):
            loss = nn.functional.cross_entropy(self.head_(self.body_(Z)), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            self.accuracy_ = float((self.head_(self.body_(Z)).argmax(1) == t).float().mean())
        self.classes_ = classes
        return self

    @torch.no_grad()
    def transform(self, X: Any) -> np.ndarray:
        if not hasattr(self, "body_"):
            raise ValueError("ClassifierFeatures must be fitted first: call .fit(X, y)")
        A = torch.as_tensor(_data_iv(X, "X", min_rows=1), dtype=torch.float32)
        return self.body_((A - self.mean_) / self.scale_).double().numpy()

    __call__ = transform

    @torch.no_grad()
    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels."""
        A = torch.as_tensor(_data_iv(X, "X", min_rows=1), dtype=torch.float32)
        return self.classes_[
            self.head_(self.body_((A - self.mean_) / self.scale_)).argmax(1).numpy()
        ]


def sliced_wasserstein(
    x: Any, y: Any, *, n_projections: int = 256, p: float = 2.0, rng: SeedLike = None
) -> float:
    """Sliced ``p``-Wasserstein distance: ``(E_theta W_p^p(theta.x, theta.y))^{1/p}``.

    Directions uniform on the sphere; each 1-D distance from quantile functions on a common
    grid (exact for equal sample sizes).

    References
    ----------
    .. [1] Bonneel, Rabin, Peyré, Pfister, "Sliced and Radon Wasserstein barycenters of
       measures", JMIV 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import sliced_wasserstein
    >>> x = np.random.default_rng(0).normal(size=(2000, 3))
    >>> sliced_wasserstein(x, x + [3.0, 0.0, 0.0], rng=0) > 1.5
    True
    """
    X, Y = _pair(x, y)
    n_projections = check_int(n_projections, "n_projections", lo=1)
    p = check_scalar(p, "p", lo=1.0)
    th = as_generator(rng).normal(size=(X.shape[1], n_projections))
    th /= np.linalg.norm(th, axis=0, keepdims=True)
    px, py = np.sort(X @ th, axis=0), np.sort(Y @ th, axis=0)
    if px.shape[0] != py.shape[0]:
        m = max(px.shape[0], py.shape[0])
        q = (np.arange(m) + 0.5) / m
        px = np.quantile(px, q, axis=0, method="inverted_cdf")
        py = np.quantile(py, q, axis=0, method="inverted_cdf")
    return float(np.mean(np.abs(px - py) ** p) ** (1 / p))


def mmd(x: Any, y: Any, *, bandwidth: float | None = None, unbiased: bool = True) -> float:
    """Squared maximum mean discrepancy with a Gaussian kernel.

    ``k(a, b) = exp(-||a - b||^2 / (2 h^2))``; ``h`` defaults to the median pairwise
    distance of the pooled sample. The unbiased U-statistic may be slightly negative.

    References
    ----------
    .. [1] Gretton et al., "A kernel two-sample test", JMLR 2012, eq. (3).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import mmd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 2))
    >>> abs(mmd(x, rng.normal(size=(300, 2)))) < 0.01, mmd(x, x + 2) > 0.3
    (True, True)
    """
    X, Y = _pair(x, y)
    Z = np.concatenate([X, Y])
    D2 = np.clip(((Z**2).sum(1)[:, None] - 2 * Z @ Z.T + (Z**2).sum(1)[None]), 0, None)
    if bandwidth is None:
        iu = np.triu_indices(len(Z), 1)
        h = float(np.sqrt(np.median(D2[iu])))
        h = h if h > 0 else 1.0
    else:
        h = check_scalar(bandwidth, "bandwidth", lo=0.0, closed="neither")
    K = np.exp(-D2 / (2 * h * h))
    n, m = len(X), len(Y)
    kxx, kyy, kxy = K[:n, :n], K[n:, n:], K[:n, n:]
    if unbiased:
        return float(
            (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
    return float(kxx.mean() + kyy.mean() - 2 * kxy.mean())
