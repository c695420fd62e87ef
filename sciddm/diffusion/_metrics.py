"""Offline sample-quality metrics: Fréchet distance on PCA or classifier features,
sliced Wasserstein distance and MMD."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from sciddm._core.rng import SeedLike, as_generator, torch_init
from sciddm._core.validation import check_dense, check_int, check_scalar
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
    r"""Fréchet (2-Wasserstein between fitted Gaussians) distance of two samples.

    .. math::

        \|m_x - m_y\|^2 + \operatorname{tr}\big(C_x + C_y
        - 2 (C_x^{1/2} C_y C_x^{1/2})^{1/2}\big)

    of the means and covariances of ``features(x)`` and ``features(y)`` (raw
    inputs when ``features`` is None). With Inception features this is FID;
    offline, use :class:`PCAFeatures` or :class:`ClassifierFeatures` fitted on
    the real data.

    Parameters
    ----------
    x, y : array_like of shape (n, ...) and (m, ...)
        The two samples (at least 2 points each), flattened to vectors.
    features : callable, optional
        Feature map applied to both samples first.

    Returns
    -------
    float

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
        if not callable(features):
            raise TypeError(f"`features` must be callable, got {type(features).__name__}")
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


def _flat(X: Any, name: str = "X") -> Any:
    """Flatten ``(n, ...)`` data to ``(n, d)`` (images to vectors), keeping the type."""
    check_dense(X, name)
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError):
        return X
    if arr.ndim > 2:
        return arr.reshape(arr.shape[0], -1)
    return X


def _validate(est: Any, X: Any, y: Any = None, **kw: Any) -> Any:
    """scikit-learn's ``validate_data`` with messages that name the argument."""
    who = "`X`" if y is None else "`X` and `y`"
    try:
        if y is None:
            return validate_data(est, _flat(X), **kw)
        return validate_data(est, _flat(X), y, **kw)
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("X has") else f"{who}: {msg}") from None


class PCAFeatures(TransformerMixin, BaseEstimator):
    """Project onto the top principal components of the real data (fit once, reuse).

    A scikit-learn transformer; ``features(X)`` is ``features.transform(X)``.

    Parameters
    ----------
    n_components : int, default 16
        Components kept (at most the data dimension).

    Attributes
    ----------
    mean_ : ndarray of shape (d,)
    components_ : ndarray of shape (k, d)
        Orthonormal rows, by decreasing variance.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import PCAFeatures
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> PCAFeatures(2).fit(X)(X).shape
    (100, 2)
    """

    def __init__(self, n_components: int = 16) -> None:
        self.n_components = n_components

    def fit(self, X: Any, y: Any = None) -> PCAFeatures:
        """Fit the mean and the principal directions of ``X`` (``y`` is not used).

        Parameters
        ----------
        X : array_like of shape (n, ...)
            Real data, at least 2 samples (flattened to ``(n, d)``).
        y : None
            Not used, present for scikit-learn's API.

        Returns
        -------
        self
        """
        k = check_int(self.n_components, "n_components", lo=1)
        A = _validate(self, X, dtype=np.float64, ensure_min_samples=2)
        self.mean_ = A.mean(0)
        _, _, Vt = np.linalg.svd(A - self.mean_, full_matrices=False)
        self.components_ = Vt[: min(k, A.shape[1])]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Coordinates of ``X`` on the fitted components.

        Parameters
        ----------
        X : array_like of shape (n, ...)

        Returns
        -------
        ndarray of shape (n, k)
        """
        check_is_fitted(self, "components_")
        A = _validate(self, X, dtype=np.float64, reset=False)
        return np.asarray((A - self.mean_) @ self.components_.T)

    def __call__(self, X: Any) -> np.ndarray:
        return self.transform(X)


class ClassifierFeatures(TransformerMixin, BaseEstimator):
    """Penultimate-layer features of a small MLP classifier trained on labelled real data.

    An offline stand-in for Inception features: a 2-hidden-layer ReLU network
    trained with full-batch Adam on standardised inputs (deterministic given
    ``random_state``). A scikit-learn transformer; ``features(X)`` is
    ``features.transform(X)``.

    Parameters
    ----------
    hidden : int, default 128
        Width of the first hidden layer.
    n_features : int, default 64
        Width of the feature (penultimate) layer.
    epochs : int, default 300
        Full-batch Adam steps.
    lr : float, default 3e-3
        Adam learning rate.
    random_state : None, int or numpy.random.Generator
        Seeds the initial weights (torch's global generator is not touched).
    rng : deprecated
        Old name of ``random_state`` (this estimator's random source follows
        scikit-learn's convention).

    Attributes
    ----------
    classes_ : ndarray
    accuracy_ : float
        Training accuracy.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sciddm.diffusion import ClassifierFeatures
    >>> X, y = load_digits(return_X_y=True)
    >>> f = ClassifierFeatures(epochs=100, random_state=0).fit(X / 16, y)
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
        random_state: SeedLike = None,
        rng: SeedLike = None,
    ) -> None:
        self.hidden = hidden
        self.n_features = n_features
        self.epochs = epochs
        self.lr = lr
        self.random_state = random_state
        self.rng = rng

    def fit(self, X: Any, y: Any) -> ClassifierFeatures:
        """Train the classifier on ``X`` with labels ``y``.

        Parameters
        ----------
        X : array_like of shape (n, ...)
            Real data (flattened to ``(n, d)``).
        y : array_like of shape (n,)
            Class labels (at least 2 classes).

        Returns
        -------
        self
        """
        hidden = check_int(self.hidden, "hidden", lo=1, hi=1 << 16)
        n_features = check_int(self.n_features, "n_features", lo=1, hi=1 << 16)
        epochs = check_int(self.epochs, "epochs", lo=1, hi=10**7)
        lr = check_scalar(self.lr, "lr", lo=0.0, closed="neither")
        seed = self.random_state
        if self.rng is not None:
            warnings.warn(
                "`rng` is deprecated in ClassifierFeatures and will be removed in the next "
                "release; pass `random_state`",
                DeprecationWarning,
                stacklevel=2,
            )
            if seed is not None:
                raise TypeError(
                    "ClassifierFeatures got both `random_state` and its deprecated spelling `rng`"
                )
            seed = self.rng
        if y is None:
            raise TypeError("`y` (the class labels of `X`) is required")
        A_np, lab = _validate(self, X, y, dtype=np.float64, ensure_min_samples=2)
        classes, yi = np.unique(lab, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"`y` must hold at least 2 classes, got {classes.size}")
        A = torch.tensor(A_np, dtype=torch.float32)
        t = torch.as_tensor(yi, dtype=torch.long)
        with torch_init(as_generator(seed)):
            self.body_ = nn.Sequential(
                nn.Linear(A.shape[1], hidden),
                nn.ReLU(),
                nn.Linear(hidden, n_features),
                nn.ReLU(),
            )
            self.head_ = nn.Linear(n_features, len(classes))
        self.mean_ = A.mean(0)
        self.scale_ = A.std(0).clamp_min(1e-6)
        Z = (A - self.mean_) / self.scale_
        params = list(self.body_.parameters()) + list(self.head_.parameters())
        opt = torch.optim.Adam(params, lr=lr, weight_decay=1e-4)
        for _ in range(epochs):
            loss = nn.functional.cross_entropy(self.head_(self.body_(Z)), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            self.accuracy_ = float((self.head_(self.body_(Z)).argmax(1) == t).float().mean())
        self.classes_ = classes
        return self

    def _inputs(self, X: Any) -> torch.Tensor:
        check_is_fitted(self, "body_")
        A = _validate(self, X, dtype=np.float64, reset=False)
        return (torch.tensor(A, dtype=torch.float32) - self.mean_) / self.scale_

    @torch.no_grad()
    def transform(self, X: Any) -> np.ndarray:
        """Penultimate-layer features of ``X``.

        Parameters
        ----------
        X : array_like of shape (n, ...)

        Returns
        -------
        ndarray of shape (n, n_features)
        """
        Z = self._inputs(X)
        return np.asarray(self.body_(Z).double().numpy())

    def __call__(self, X: Any) -> np.ndarray:
        return self.transform(X)

    @torch.no_grad()
    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels.

        Parameters
        ----------
        X : array_like of shape (n, ...)

        Returns
        -------
        ndarray of shape (n,)
        """
        Z = self._inputs(X)
        return np.asarray(self.classes_[self.head_(self.body_(Z)).argmax(1).numpy()])


def sliced_wasserstein(
    x: Any, y: Any, *, n_projections: int = 256, p: float = 2.0, rng: SeedLike = None
) -> float:
    r"""Sliced ``p``-Wasserstein distance :math:`(E_\theta W_p^p(\theta\cdot x, \theta\cdot y))^{1/p}`.

    Directions uniform on the sphere; each 1-D distance from quantile functions
    on a common grid (exact for equal sample sizes).

    Parameters
    ----------
    x, y : array_like of shape (n, ...) and (m, ...)
        The two samples (at least 2 points each).
    n_projections : int, default 256
        Random directions, ``1..10**5``.
    p : float, default 2
        Order, ``>= 1`` (``inf``: the largest gap).
    rng : numpy.random.Generator, int or None
        Random source of the directions.

    Returns
    -------
    float

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
    n_projections = check_int(n_projections, "n_projections", lo=1, hi=10**5)
    p = check_scalar(p, "p", lo=1.0, allow_inf=True)
    th = as_generator(rng).normal(size=(X.shape[1], n_projections))
    th /= np.linalg.norm(th, axis=0, keepdims=True)
    px, py = np.sort(X @ th, axis=0), np.sort(Y @ th, axis=0)
    if px.shape[0] != py.shape[0]:
        m = max(px.shape[0], py.shape[0])
        q = (np.arange(m) + 0.5) / m
        px = np.quantile(px, q, axis=0, method="inverted_cdf")
        py = np.quantile(py, q, axis=0, method="inverted_cdf")
    diff = np.abs(px - py)
    top = float(diff.max()) if diff.size else 0.0
    if top == 0.0 or np.isinf(p):
        return top
    # scaled by the largest gap so that |d|^p never overflows (large p tends to the max)
    return float(top * np.mean((diff / top) ** p) ** (1 / p))


def mmd(x: Any, y: Any, *, bandwidth: float | None = None, unbiased: bool = True) -> float:
    r"""Squared maximum mean discrepancy with a Gaussian kernel.

    :math:`k(a, b) = \exp(-\|a - b\|^2/(2h^2))`; :math:`h` defaults to the median
    pairwise distance of the pooled sample. The unbiased U-statistic may be
    slightly negative.

    Parameters
    ----------
    x, y : array_like of shape (n, ...) and (m, ...)
        The two samples (at least 2 points each).
    bandwidth : float, optional
        :math:`h > 0`.
    unbiased : bool, default True
        The U-statistic (else the biased V-statistic).

    Returns
    -------
    float

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
    if len(X) + len(Y) > 50_000:
        raise ValueError(
            "mmd forms the (n + m)^2 kernel matrix: subsample `x` and `y` to at most 50000 "
            f"points together, got {len(X) + len(Y)}"
        )
    if not isinstance(unbiased, (bool, np.bool_)):
        raise TypeError(f"`unbiased` must be a bool, got {type(unbiased).__name__}")
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
