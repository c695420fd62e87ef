"""Small data sets with known structure for the diffusion families.

:func:`ring_mixture` draws from an equal-weight Gaussian mixture on a circle,
whose exact denoiser is :class:`sciddm.diffusion.MixtureDenoiser`; and
:func:`load_digits_scaled` gives scikit-learn's 8×8 digits (shipped with
scikit-learn, nothing downloaded) scaled to :math:`[-1, 1]`. Tutorials, tests
and the ``diffusion.*``/``ambient.*`` reproductions share them.

Examples
--------
>>> from sciddm.diffusion.toys import ring_mixture
>>> ring_mixture(4, rng=0).shape
(4, 2)
"""

from __future__ import annotations

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int, check_scalar

__all__ = ["load_digits_scaled", "ring_mixture", "ring_mixture_params"]


def ring_mixture_params(
    *, k: int = 8, radius: float = 2.0, std: float = 0.15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Weights, means and covariances of the ring mixture.

    Component :math:`j` is :math:`N(\mu_j, s^2 I_2)` with
    :math:`\mu_j = r(\cos(2\pi j/k), \sin(2\pi j/k))` and weight :math:`1/k`.

    Parameters
    ----------
    k : int, default 8
        Number of components.
    radius : float, default 2.0
        Radius :math:`r` of the circle of means.
    std : float, default 0.15
        Standard deviation :math:`s` of each component.

    Returns
    -------
    weights : ndarray of shape (k,)
    means : ndarray of shape (k, 2)
    covariances : ndarray of shape (k, 2, 2)

    Examples
    --------
    >>> from sciddm.diffusion.toys import ring_mixture_params
    >>> w, m, c = ring_mixture_params(k=4)
    >>> w.tolist(), m.shape, c.shape
    ([0.25, 0.25, 0.25, 0.25], (4, 2), (4, 2, 2))
    """
    k = check_int(k, "k", lo=1, hi=10**6)
    radius = check_scalar(radius, "radius", lo=0.0, hi=1e100)
    std = check_scalar(std, "std", lo=0.0, hi=1e100, closed="right")
    ang = 2 * np.pi * np.arange(k) / k
    means = radius * np.stack([np.cos(ang), np.sin(ang)], 1)
    covs = np.broadcast_to(std**2 * np.eye(2), (k, 2, 2)).copy()
    return np.full(k, 1.0 / k), means, covs


def ring_mixture(
    n: int, *, k: int = 8, radius: float = 2.0, std: float = 0.15, rng: SeedLike = None
) -> np.ndarray:
    r"""Draw ``n`` points of the ring mixture of :func:`ring_mixture_params`.

    Parameters
    ----------
    n : int
        Number of points.
    k, radius, std
        As in :func:`ring_mixture_params`.
    rng : numpy.random.Generator, int or None
        Random source (SPEC 7).

    Returns
    -------
    ndarray of shape (n, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion.toys import ring_mixture
    >>> x = ring_mixture(20_000, radius=2.0, std=0.1, rng=0)
    >>> bool(abs(np.linalg.norm(x, axis=1).mean() - 2.0) < 0.01)
    True
    """
    n = check_int(n, "n", lo=0, hi=10**8)
    k = check_int(k, "k", lo=1, hi=10**6)
    radius = check_scalar(radius, "radius", lo=0.0, hi=1e100)
    std = check_scalar(std, "std", lo=0.0, hi=1e100, closed="right")
    g = as_generator(rng)
    ang = 2 * np.pi * g.integers(0, k, size=n) / k
    centres = radius * np.stack([np.cos(ang), np.sin(ang)], 1)
    return centres + std * g.normal(size=(n, 2))


def load_digits_scaled() -> tuple[np.ndarray, np.ndarray]:
    r"""scikit-learn's 8×8 digits as 64-vectors in :math:`[-1, 1]`, with their labels.

    The pixel values :math:`0, \dots, 16` are mapped to :math:`v/8 - 1`.

    Returns
    -------
    X : ndarray of shape (1797, 64)
    y : ndarray of shape (1797,)
        The digit (0–9) of each image.

    Examples
    --------
    >>> from sciddm.diffusion.toys import load_digits_scaled
    >>> X, y = load_digits_scaled()
    >>> X.shape, float(X.min()), float(X.max())
    ((1797, 64), -1.0, 1.0)
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 8.0 - 1.0, y
