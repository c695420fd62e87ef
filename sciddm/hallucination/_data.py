"""Datasets of the mode-interpolation study and their exact support classifiers.

Gaussian mixtures with well-separated, equal-variance modes (1-D lines of modes,
a 2-D square grid and its 45-degree rotation) and SIMPLE SHAPES images. For
each, a sample is *in support* when it lies within ``k_support`` standard
deviations of a mode and a *hallucination* when it lies farther than
``k_hallucination`` standard deviations from every mode (for images: a shape
combination never present in training).

References
----------
.. [1] S. K. Aithal, P. Maini, Z. C. Lipton, J. Z. Kolter, "Understanding
   Hallucinations in Diffusion Models through Mode Interpolation", NeurIPS 2024,
   arXiv:2406.09358, Sections 3-4.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar

__all__ = [
    "IN_SUPPORT",
    "HALLUCINATION",
    "INTERMEDIATE",
    "ModeMixture",
    "grid_2d",
    "mixture_1d",
    "outside_mass",
]

IN_SUPPORT, INTERMEDIATE, HALLUCINATION = 0, 1, 2


@dataclasses.dataclass(frozen=True, repr=False)
class ModeMixture(Result):
    """An equal-variance isotropic Gaussian mixture ``sum_k w_k N(mu_k, std^2 I)``.

    Attributes
    ----------
    means : ndarray, shape (K, d)
    std : float
        Common standard deviation of every mode.
    weights : ndarray, shape (K,)
    name : str
    """

    means: np.ndarray
    std: float
    weights: np.ndarray
    name: str = "mixture"

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def n_modes(self) -> int:
        return int(self.means.shape[0])

    def sample(self, n: int, *, rng: SeedLike = None, return_modes: bool = False):
        """Draw ``n`` points (and, optionally, the index of the mode of each).

        Examples
        --------
        >>> from sciddm.hallucination import mixture_1d
        >>> x = mixture_1d().sample(5, rng=0)
        >>> x.shape
        (5, 1)
        """
        n = check_int(n, "n", lo=0)
        g = as_generator(rng)
        k = g.choice(self.n_modes, size=n, p=self.weights)
        x = self.means[k] + self.std * g.standard_normal((n, self.dim))
        return (x, k) if return_modes else x

    def distance_in_std(self, x: np.ndarray) -> np.ndarray:
        """Distance of each point to its nearest mode, in units of ``std``."""
        x = check_array(x, "x", ndim=2, shape=(None, self.dim))
        d2 = ((x[:, None, :] - self.means[None, :, :]) ** 2).sum(-1)
        return np.sqrt(d2.min(axis=1)) / self.std

    def nearest_mode(self, x: np.ndarray) -> np.ndarray:
        """Index of the nearest mode of each point."""
        x = check_array(x, "x", ndim=2, shape=(None, self.dim))
        return ((x[:, None, :] - self.means[None, :, :]) ** 2).sum(-1).argmin(axis=1)

    def classify(
        self, x: np.ndarray, *, k_support: float = 3.0, k_hallucination: float = 5.0
    ) -> np.ndarray:
        """Label points: 0 in support (<= ``k_support`` std from a mode),
        2 hallucination (> ``k_hallucination`` std from every mode), 1 in between.

        Examples
        --------
        >>> import numpy as np
        >>> from sciddm.hallucination import mixture_1d
        >>> mixture_1d().classify(np.array([[1.0], [1.2], [1.5]]))
        array([0, 1, 2])
        """
        k_support = check_scalar(k_support, "k_support", lo=0, closed="neither")
        k_hallucination = check_scalar(k_hallucination, "k_hallucination", lo=k_support)
        r = self.distance_in_std(x)
        labels = np.full(r.shape, INTERMEDIATE, dtype=int)
        labels[r <= k_support] = IN_SUPPORT
        labels[r > k_hallucination] = HALLUCINATION
        return labels


def mixture_1d(
    modes: Sequence[float] = (1.0, 2.0, 3.0), *, std: float = 0.05, weights=None
) -> ModeMixture:
    """The paper's 1-D mixture: equal-weight modes (default {1, 2, 3}), std 0.05.

    ``modes=(1, 2, 4, 5)`` gives the second 1-D dataset, whose middle gap is twice
    as wide.
    """
    means = check_array(modes, "modes", ndim=1, min_rows=1)[:, None]
    std = check_scalar(std, "std", lo=0, closed="neither")
    w = _weights(weights, len(means))
    return ModeMixture(
        means=means, std=std, weights=w, name=f"1-D modes {tuple(means[:, 0].tolist())}"
    )


def grid_2d(
    size: int = 5,
    *,
    spacing: float = 2.0,
    std: float = 0.05,
    rotated: bool = False,
    normalize: bool = True,
) -> ModeMixture:
    """The 2-D ``size x size`` grid of modes at ``spacing``, centred at 0.

    With ``normalize`` the coordinates are divided by ``sqrt(std^2 + v)`` where
    ``v`` is the per-axis variance of the grid (8 for the 5 x 5 grid at spacing 2),
    so the data have unit variance per axis, as in the paper. ``rotated`` turns the
    grid by 45 degrees (the "diamond"), which changes which modes are nearest
    neighbours along the axes.
    """
    size = check_int(size, "size", lo=1)
    spacing = check_scalar(spacing, "spacing", lo=0, closed="neither")
    std = check_scalar(std, "std", lo=0, closed="neither")
    c = (np.arange(size) - (size - 1) / 2) * spacing
    means = np.array([(a, b) for a in c for b in c], dtype=float)
    if rotated:
        t = np.pi / 4
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        means = means @ rot.T
    scale = 1.0
    if normalize:
        scale = float(np.sqrt(std**2 + np.mean(c**2)))
    name = f"2-D {size}x{size} grid" + (" (rotated)" if rotated else "")
    return ModeMixture(
        means=means / scale, std=std / scale, weights=_weights(None, len(means)), name=name
    )


def _weights(weights, k: int) -> np.ndarray:
    if weights is None:
        return np.full(k, 1.0 / k)
    w = check_array(weights, "weights", ndim=1, shape=(k,))
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("`weights` must be non-negative with a positive sum")
    return w / w.sum()


def outside_mass(k: float, dim: int) -> float:
    """Probability that a point of one mode lies farther than ``k`` std from its mean.

    ``P(||Z|| > k)`` for ``Z ~ N(0, I_dim)``: ``2(1 - Phi(k))`` in 1-D and
    ``exp(-k^2/2)`` in 2-D (chi distribution tail). For well-separated modes this
    is the exact mass of the mixture beyond ``k`` std from every mode, up to the
    negligible overlap of other modes' tails.

    Examples
    --------
    >>> from sciddm.hallucination import outside_mass
    >>> round(outside_mass(3, 1), 5), round(outside_mass(5, 1) * 1e7, 2)
    (0.0027, 5.73)
    """
    k = check_scalar(k, "k", lo=0)
    dim = check_int(dim, "dim", lo=1)
    return (
        float(stats.chi2.sf(k * k, dim))
        if dim > 2
        else float(special.erfc(k / np.sqrt(2)) if dim == 1 else np.exp(-k * k / 2))
    )
