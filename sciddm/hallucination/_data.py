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
from typing import Any

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
    r"""An equal-variance isotropic Gaussian mixture :math:`\sum_k w_k N(\mu_k, s^2 I)`.

    Parameters
    ----------
    means : array_like of shape (K, d)
        Finite mode locations :math:`\mu_k`.
    std : float
        Common standard deviation :math:`s > 0` of every mode.
    weights : array_like of shape (K,)
        Non-negative weights summing to 1.
    name : str, default "mixture"

    Attributes
    ----------
    dim : int
    n_modes : int

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import ModeMixture
    >>> m = ModeMixture(means=np.array([[0.0], [1.0]]), std=0.05, weights=np.array([0.5, 0.5]))
    >>> m.n_modes, m.dim, m.classify(np.array([[0.05], [0.5]])).tolist()
    (2, 1, [0, 2])
    """

    means: np.ndarray
    std: float
    weights: np.ndarray
    name: str = "mixture"

    def __post_init__(self) -> None:
        means = check_array(self.means, "means", ndim=2, min_rows=1)
        if means.shape[1] == 0:
            raise ValueError(f"`means` must have at least one coordinate, got shape {means.shape}")
        std = check_scalar(self.std, "std", lo=0.0, hi=1e100, closed="right")
        w = check_array(self.weights, "weights", ndim=1, shape=(means.shape[0],))
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError("`weights` must be non-negative and sum to 1")
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a str, got {type(self.name).__name__}")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "std", std)
        object.__setattr__(self, "weights", w / w.sum())

    @property
    def dim(self) -> int:
        """Dimension :math:`d` of the data."""
        return int(self.means.shape[1])

    @property
    def n_modes(self) -> int:
        """Number of modes :math:`K`."""
        return int(self.means.shape[0])

    def sample(self, n: int, *, rng: SeedLike = None, return_modes: bool = False) -> Any:
        """Draw ``n`` points (and, optionally, the index of the mode of each).

        Parameters
        ----------
        n : int
            Number of points, ``0 <= n <= 10**8``.
        rng : numpy.random.Generator, int or None
            Random source.
        return_modes : bool, default False
            Also return the mode index of each point.

        Returns
        -------
        x : ndarray of shape (n, d)
        modes : ndarray of shape (n,)
            Only with ``return_modes``.

        Examples
        --------
        >>> from sciddm.hallucination import mixture_1d
        >>> x = mixture_1d().sample(5, rng=0)
        >>> x.shape
        (5, 1)
        """
        n = check_int(n, "n", lo=0, hi=10**8)
        g = as_generator(rng)
        k = g.choice(self.n_modes, size=n, p=self.weights)
        x = self.means[k] + self.std * g.standard_normal((n, self.dim))
        return (x, k) if return_modes else x

    def distance_in_std(self, x: Any) -> np.ndarray:
        """Distance of each point to its nearest mode, in units of ``std``.

        Parameters
        ----------
        x : array_like of shape (n, d)

        Returns
        -------
        ndarray of shape (n,)
        """
        x = check_array(x, "x", ndim=2, shape=(None, self.dim))
        d2 = ((x[:, None, :] - self.means[None, :, :]) ** 2).sum(-1)
        return np.asarray(np.sqrt(d2.min(axis=1)) / self.std)

    def nearest_mode(self, x: Any) -> np.ndarray:
        """Index of the nearest mode of each point.

        Parameters
        ----------
        x : array_like of shape (n, d)

        Returns
        -------
        ndarray of int, shape (n,)
        """
        x = check_array(x, "x", ndim=2, shape=(None, self.dim))
        return np.asarray(((x[:, None, :] - self.means[None, :, :]) ** 2).sum(-1).argmin(axis=1))

    def classify(
        self, x: Any, *, k_support: float = 3.0, k_hallucination: float = 5.0
    ) -> np.ndarray:
        """Label points: in support, intermediate or hallucination.

        Parameters
        ----------
        x : array_like of shape (n, d)
        k_support : float, default 3
            At most this many ``std`` from a mode: :data:`IN_SUPPORT` (0).
        k_hallucination : float, default 5
            Farther than this many ``std`` from every mode: :data:`HALLUCINATION`
            (2); in between: :data:`INTERMEDIATE` (1). Must be ``>= k_support``.

        Returns
        -------
        ndarray of int, shape (n,)

        Examples
        --------
        >>> import numpy as np
        >>> from sciddm.hallucination import mixture_1d
        >>> mixture_1d().classify(np.array([[1.0], [1.2], [1.5]]))
        array([0, 1, 2])
        """
        k_support = check_scalar(k_support, "k_support", lo=0, hi=1e100, closed="right")
        k_hallucination = check_scalar(k_hallucination, "k_hallucination", lo=0, hi=1e100)
        if k_hallucination < k_support:
            raise ValueError(
                f"`k_hallucination` ({k_hallucination:g}) must be >= `k_support` ({k_support:g})"
            )
        r = self.distance_in_std(x)
        labels = np.full(r.shape, INTERMEDIATE, dtype=int)
        labels[r <= k_support] = IN_SUPPORT
        labels[r > k_hallucination] = HALLUCINATION
        return labels


def mixture_1d(
    modes: Sequence[float] = (1.0, 2.0, 3.0), *, std: float = 0.05, weights: Any = None
) -> ModeMixture:
    """The paper's 1-D mixture: modes (default {1, 2, 3}) of standard deviation 0.05.

    Parameters
    ----------
    modes : sequence of float, default (1, 2, 3)
        Mode locations; ``(1, 2, 4, 5)`` gives the paper's second 1-D dataset,
        whose middle gap is twice as wide.
    std : float, default 0.05
        Standard deviation of every mode, ``> 0``.
    weights : array_like, optional
        Non-negative weights (normalised to sum 1); equal by default.

    Returns
    -------
    ModeMixture

    References
    ----------
    .. [1] Aithal et al., NeurIPS 2024, Sec. 3 (1-D Gaussian mixtures).

    Examples
    --------
    >>> from sciddm.hallucination import mixture_1d
    >>> m = mixture_1d()
    >>> m.means.ravel().tolist(), m.std, m.weights.round(3).tolist()
    ([1.0, 2.0, 3.0], 0.05, [0.333, 0.333, 0.333])
    """
    means = check_array(modes, "modes", ndim=1, min_rows=1)[:, None]
    std = check_scalar(std, "std", lo=0, hi=1e100, closed="right")
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
    r"""The 2-D ``size x size`` grid of modes at ``spacing``, centred at 0.

    Parameters
    ----------
    size : int, default 5
        Modes per side, ``1 <= size <= 1000``.
    spacing : float, default 2
        Distance between neighbouring modes, ``> 0``.
    std : float, default 0.05
        Standard deviation of every mode, ``> 0``.
    rotated : bool, default False
        Turn the grid by 45 degrees (the "diamond"), which changes which modes
        are nearest neighbours along the axes.
    normalize : bool, default True
        Divide the coordinates by :math:`\sqrt{s^2 + v}`, with :math:`v` the
        per-axis variance of the grid (8 for the 5 x 5 grid at spacing 2), so
        the data have unit variance per axis, as in the paper.

    Returns
    -------
    ModeMixture

    References
    ----------
    .. [1] Aithal et al., NeurIPS 2024, Sec. 3 (the 2-D grid of Gaussians).

    Examples
    --------
    >>> from sciddm.hallucination import grid_2d
    >>> g = grid_2d()
    >>> g.n_modes, round(float(g.sample(20000, rng=0).std(0).mean()), 1)
    (25, 1.0)
    """
    size = check_int(size, "size", lo=1, hi=1000)
    spacing = check_scalar(spacing, "spacing", lo=0, hi=1e100, closed="right")
    std = check_scalar(std, "std", lo=0, hi=1e100, closed="right")
    for flag, name in ((rotated, "rotated"), (normalize, "normalize")):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"`{name}` must be a bool, got {type(flag).__name__}")
    c = (np.arange(size) - (size - 1) / 2) * spacing
    means = np.array([(a, b) for a in c for b in c], dtype=float)
    if rotated:
        t = np.pi / 4
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        means = means @ rot.T
    scale = 1.0
    if normalize:
        scale = float(np.hypot(std, np.sqrt(np.mean(c**2))))
    name = f"2-D {size}x{size} grid" + (" (rotated)" if rotated else "")
    return ModeMixture(
        means=means / scale, std=std / scale, weights=_weights(None, len(means)), name=name
    )


def _weights(weights: Any, k: int) -> np.ndarray:
    if weights is None:
        return np.full(k, 1.0 / k)
    w = check_array(weights, "weights", ndim=1, shape=(k,))
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("`weights` must be non-negative with a positive sum")
    return np.asarray(w / w.sum())


def outside_mass(k: float, dim: int) -> float:
    r"""Probability that a point of one mode lies farther than ``k`` std from its mean.

    :math:`P(\|Z\| > k)` for :math:`Z \sim N(0, I_{dim})`: :math:`2(1 - \Phi(k))`
    in 1-D, :math:`e^{-k^2/2}` in 2-D and the :math:`\chi^2_{dim}` tail
    otherwise. For well-separated modes this is the mass of the mixture beyond
    ``k`` std from every mode, up to the negligible overlap of other modes'
    tails.

    Parameters
    ----------
    k : float
        Radius in standard deviations, ``>= 0``.
    dim : int
        Dimension, ``>= 1``.

    Returns
    -------
    float

    Examples
    --------
    >>> from sciddm.hallucination import outside_mass
    >>> round(outside_mass(3, 1), 5), round(outside_mass(5, 1) * 1e7, 2)
    (0.0027, 5.73)
    """
    k = check_scalar(k, "k", lo=0, hi=1e100)
    dim = check_int(dim, "dim", lo=1, hi=10**6)
    return (
        float(stats.chi2.sf(k * k, dim))
        if dim > 2
        else float(special.erfc(k / np.sqrt(2)) if dim == 1 else np.exp(-k * k / 2))
    )
