r"""Probability measures: intervals, Gaussian, Beta/Jacobi, Gamma, products, discrete.

A measure knows its dimension, how to draw i.i.d. points, whether points lie in
its support, and a Gauss quadrature rule used to estimate :math:`L^2(\mu)` errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar

from ._guards import MAX_ENTRIES, check_size

__all__ = [
    "BetaMeasure",
    "DiscreteMeasure",
    "GammaMeasure",
    "GaussianMeasure",
    "Measure",
    "ProductMeasure",
    "UniformMeasure",
    "uniform_box",
]


class Measure:
    r"""Base class of the probability measures :math:`\mu` on :math:`X \subset \mathbb R^d`.

    Subclasses: :class:`UniformMeasure`, :class:`BetaMeasure`,
    :class:`GaussianMeasure`, :class:`GammaMeasure` (one-dimensional),
    :class:`ProductMeasure` and :class:`DiscreteMeasure`.

    Attributes
    ----------
    dim : int
        Dimension :math:`d` of the points.

    Examples
    --------
    >>> from sciddm.leastsquares import Measure, UniformMeasure
    >>> mu = UniformMeasure()
    >>> isinstance(mu, Measure), mu.dim
    (True, 1)
    """

    dim: int = 1

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:  # pragma: no cover
        """Draw ``n`` i.i.d. points.

        Parameters
        ----------
        n : int
            Number of points.
        rng : numpy.random.Generator, int or None
            Random source.

        Returns
        -------
        ndarray of shape (n, dim)
        """
        raise NotImplementedError

    def contains(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Which rows of ``x`` lie in the support.

        Parameters
        ----------
        x : ndarray of shape (n, dim)
            Points.

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        raise NotImplementedError

    def quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """A Gauss quadrature rule of the measure.

        Parameters
        ----------
        q : int
            Nodes per dimension.

        Returns
        -------
        nodes : ndarray of shape (Q, dim)
        weights : ndarray of shape (Q,)
            Non-negative, summing to 1.
        """
        raise NotImplementedError

    def check_points(self, x: Any, name: str = "x") -> np.ndarray:
        """Validate points: an ``(n, dim)`` float array inside the support.

        Parameters
        ----------
        x : array_like of shape (n, dim), or (n,) when ``dim == 1``
            Points.
        name : str, default "x"
            Argument name used in error messages.

        Returns
        -------
        ndarray of shape (n, dim)

        Raises
        ------
        ValueError
            If ``x`` has the wrong shape, holds NaN/inf, or a point is outside
            the support (the first such row is named).
        """
        arr = check_array(x, name, ndim=(1, 2))
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1) if self.dim == 1 else arr.reshape(1, -1)
        if arr.shape[1] != self.dim:
            raise ValueError(f"`{name}` must have {self.dim} column(s), got shape {arr.shape}")
        inside = self.contains(arr)
        if not np.all(inside):
            i = int(np.flatnonzero(~inside)[0])
            raise ValueError(
                f"`{name}` has points outside the support of {self!r}; first at row {i}: "
                f"{arr[i].tolist()}"
            )
        return arr


class _Measure1D(Measure):
    """A one-dimensional measure given by an affine map t = (x - shift) / scale
    of a standard measure."""

    dim = 1
    shift: float = 0.0
    scale: float = 1.0
    lo_t: float = -math.inf
    hi_t: float = math.inf

    def to_standard(self, x: np.ndarray) -> np.ndarray:
        r"""The standard variable :math:`t = (x - \mathrm{shift}) / \mathrm{scale}`.

        Parameters
        ----------
        x : array_like
            Points in the original variable.

        Returns
        -------
        ndarray
        """
        return (np.asarray(x, float) - self.shift) / self.scale

    def from_standard(self, t: np.ndarray) -> np.ndarray:
        r"""The original variable :math:`x = \mathrm{shift} + \mathrm{scale}\,t`.

        Parameters
        ----------
        t : array_like
            Points in the standard variable.

        Returns
        -------
        ndarray
        """
        return self.shift + self.scale * np.asarray(t, float)

    def contains(self, x: np.ndarray) -> np.ndarray:
        t = self.to_standard(np.asarray(x, float).reshape(len(x), -1)[:, 0])
        return (t >= self.lo_t) & (t <= self.hi_t)

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        n = check_size(check_int(n, "n", lo=0), "n", per_item=1)
        return self.from_standard(self._std_sample(n, as_generator(rng))).reshape(n, 1)

    def quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        q = check_int(q, "q", lo=1, hi=100_000)
        t, w = self._std_quadrature(q)
        return self.from_standard(t).reshape(-1, 1), w / w.sum()


class BetaMeasure(_Measure1D):
    r"""Beta (Jacobi) probability measure on ``[low, high]``.

    In the standard variable :math:`t = (2x - low - high)/(high - low) \in [-1, 1]`
    its density is proportional to :math:`(1 - t)^\alpha (1 + t)^\beta` (the
    Jacobi weight), with :math:`\alpha, \beta > -1`. ``alpha = beta = 0`` is the
    uniform measure, ``alpha = beta = -1/2`` the arcsine (Chebyshev) measure.

    Parameters
    ----------
    alpha, beta : float, default 0.0
        Exponents, both in :math:`(-1, 10^4]`.
    low, high : float, default -1.0, 1.0
        The interval, ``low < high``.

    Examples
    --------
    >>> from sciddm.leastsquares import BetaMeasure
    >>> mu = BetaMeasure(-0.5, -0.5)
    >>> x, w = mu.quadrature(3)
    >>> round(float(w @ x[:, 0] ** 2), 12)   # E[t^2] = 1/2 under the arcsine law
    0.5
    """

    lo_t, hi_t = -1.0, 1.0

    def __init__(
        self, alpha: float = 0.0, beta: float = 0.0, low: float = -1.0, high: float = 1.0
    ) -> None:
        self.alpha = check_scalar(alpha, "alpha", lo=-1, hi=1e4, closed="right")
        self.beta = check_scalar(beta, "beta", lo=-1, hi=1e4, closed="right")
        low = check_scalar(low, "low")
        high = check_scalar(high, "high")
        if not high > low:
            raise ValueError(f"`high` must be > `low`, got low={low}, high={high}")
        self.low, self.high = low, high
        self.shift, self.scale = (low + high) / 2, (high - low) / 2

    def __repr__(self) -> str:
        return f"BetaMeasure(alpha={self.alpha:g}, beta={self.beta:g}, low={self.low:g}, high={self.high:g})"

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:
        # t = 1 - 2 B with B ~ Beta(alpha + 1, beta + 1) has density ∝ (1-t)^alpha (1+t)^beta
        return 1.0 - 2.0 * g.beta(self.alpha + 1, self.beta + 1, size=n)

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        t, w = special.roots_jacobi(q, self.alpha, self.beta)
        return t, w

    def std_pdf(self, t: np.ndarray) -> np.ndarray:
        r"""Density in the standard variable :math:`t \in [-1, 1]`.

        Parameters
        ----------
        t : array_like
            Points of the standard variable.

        Returns
        -------
        ndarray
            The density (0 outside :math:`(-1, 1)`).
        """
        a, b = self.alpha, self.beta
        logc = (a + b + 1) * math.log(2.0) + special.betaln(a + 1, b + 1)
        t = np.asarray(t, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(a * np.log1p(-t) + b * np.log1p(t) - logc)
        return np.where((t > -1) & (t < 1), out, 0.0)


class UniformMeasure(BetaMeasure):
    """Uniform probability measure on ``[low, high]`` (``BetaMeasure(0, 0, low, high)``).

    Parameters
    ----------
    low, high : float, default -1.0, 1.0
        The interval, ``low < high``.

    Examples
    --------
    >>> from sciddm.leastsquares import UniformMeasure
    >>> UniformMeasure(0, 2).sample(3, rng=0).shape
    (3, 1)
    """

    def __init__(self, low: float = -1.0, high: float = 1.0) -> None:
        super().__init__(0.0, 0.0, low, high)

    def __repr__(self) -> str:
        return f"UniformMeasure(low={self.low:g}, high={self.high:g})"


class GaussianMeasure(_Measure1D):
    r"""Gaussian measure :math:`N(\mathrm{mean}, \mathrm{std}^2)`.

    The standard variable is :math:`t = (x - \mathrm{mean})/\mathrm{std}`.

    Parameters
    ----------
    mean : float, default 0.0
        Mean.
    std : float, default 1.0
        Standard deviation (positive).

    Examples
    --------
    >>> from sciddm.leastsquares import GaussianMeasure
    >>> x, w = GaussianMeasure(1.0, 2.0).quadrature(4)
    >>> round(float(w @ x[:, 0]), 12), round(float(w @ (x[:, 0] - 1) ** 2), 12)
    (1.0, 4.0)
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        self.shift = check_scalar(mean, "mean")
        self.scale = check_scalar(std, "std", lo=0, closed="neither")

    def __repr__(self) -> str:
        return f"GaussianMeasure(mean={self.shift:g}, std={self.scale:g})"

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:
        return g.standard_normal(n)

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        return special.roots_hermitenorm(q)

    def std_pdf(self, t: np.ndarray) -> np.ndarray:
        """Standard normal density at ``t``.

        Parameters
        ----------
        t : array_like
            Points of the standard variable.

        Returns
        -------
        ndarray
        """
        return np.exp(-0.5 * np.asarray(t, float) ** 2) / math.sqrt(2 * math.pi)


class GammaMeasure(_Measure1D):
    r"""Gamma measure with density :math:`t^\alpha e^{-t} / \Gamma(\alpha + 1)`, :math:`t = x/\mathrm{scale} \ge 0`.

    ``alpha = 0`` is the exponential distribution; the matching basis is
    :class:`~sciddm.leastsquares.Laguerre`.

    Parameters
    ----------
    alpha : float, default 0.0
        Shape exponent, :math:`\alpha \in (-1, 10^4]`.
    scale : float, default 1.0
        Scale (positive).

    Examples
    --------
    >>> from sciddm.leastsquares import GammaMeasure
    >>> x, w = GammaMeasure(1.0).quadrature(3)
    >>> round(float(w @ x[:, 0]), 12)   # mean alpha + 1
    2.0
    """

    lo_t, hi_t = 0.0, math.inf

    def __init__(self, alpha: float = 0.0, scale: float = 1.0) -> None:
        self.alpha = check_scalar(alpha, "alpha", lo=-1, hi=1e4, closed="right")
        self.shift = 0.0
        self.scale = check_scalar(scale, "scale", lo=0, closed="neither")

    def __repr__(self) -> str:
        return f"GammaMeasure(alpha={self.alpha:g}, scale={self.scale:g})"

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:
        return g.gamma(self.alpha + 1, size=n)

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        return special.roots_genlaguerre(q, self.alpha)

    def std_pdf(self, t: np.ndarray) -> np.ndarray:
        r"""Gamma density at ``t`` (0 for :math:`t \le 0`).

        Parameters
        ----------
        t : array_like
            Points of the standard variable.

        Returns
        -------
        ndarray
        """
        t = np.asarray(t, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(self.alpha * np.log(t) - t - special.gammaln(self.alpha + 1))
        return np.where(t > 0, out, 0.0)


class ProductMeasure(Measure):
    r"""Product :math:`\mu_1 \otimes \dots \otimes \mu_d` of one-dimensional measures.

    Parameters
    ----------
    factors : sequence of Measure
        One-dimensional measures (:class:`UniformMeasure`, :class:`BetaMeasure`,
        :class:`GaussianMeasure`, :class:`GammaMeasure`).

    Examples
    --------
    >>> from sciddm.leastsquares import GaussianMeasure, ProductMeasure, UniformMeasure
    >>> mu = ProductMeasure([UniformMeasure(), GaussianMeasure()])
    >>> mu.sample(5, rng=0).shape, mu.quadrature(3)[0].shape
    ((5, 2), (9, 2))
    """

    def __init__(self, factors: Sequence[Measure]) -> None:
        if not isinstance(factors, Sequence):
            raise ValueError(
                f"`factors` must be a list of one-dimensional measures, got {factors!r}"
            )
        factors = list(factors)
        if not factors or not all(isinstance(f, _Measure1D) for f in factors):
            raise ValueError("`factors` must be a non-empty list of one-dimensional measures")
        self.factors = factors
        self.dim = len(factors)

    def __repr__(self) -> str:
        return f"ProductMeasure({self.factors!r})"

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        n = check_size(check_int(n, "n", lo=0), "n", per_item=self.dim)
        g = as_generator(rng)
        return np.column_stack([f.sample(n, rng=g)[:, 0] for f in self.factors])

    def contains(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        mask = np.ones(len(x), bool)
        for i, f in enumerate(self.factors):
            mask &= f.contains(x[:, i : i + 1])
        return mask

    def quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        q = check_int(q, "q", lo=1)
        if q**self.dim * (self.dim + 1) > MAX_ENTRIES:
            raise ValueError(
                f"`q` = {q} gives a tensor rule of {q}^{self.dim} nodes, beyond the 2 GiB limit "
                "of one call; use fewer nodes per dimension"
            )
        rules = [f.quadrature(q) for f in self.factors]
        grids = np.meshgrid(*[r[0][:, 0] for r in rules], indexing="ij")
        wgrids = np.meshgrid(*[r[1] for r in rules], indexing="ij")
        x = np.column_stack([g.ravel() for g in grids])
        w = np.prod(np.column_stack([g.ravel() for g in wgrids]), axis=1)
        return x, w


def uniform_box(low: Sequence[float], high: Sequence[float]) -> ProductMeasure:
    r"""Uniform measure on the box :math:`\prod_i [low_i, high_i]`.

    Parameters
    ----------
    low, high : sequence of float
        Corners of the box, one entry per dimension, ``low < high``.

    Returns
    -------
    ProductMeasure

    Examples
    --------
    >>> from sciddm.leastsquares import uniform_box
    >>> uniform_box([-1, -1], [1, 1]).dim
    2
    """
    lo = check_array(low, "low", ndim=1)
    hi = check_array(high, "high", ndim=1)
    if lo.shape != hi.shape:
        raise ValueError(f"`low` and `high` must have the same length, got {lo.size} and {hi.size}")
    return ProductMeasure([UniformMeasure(a, b) for a, b in zip(lo, hi)])


class DiscreteMeasure(Measure):
    r"""Discrete probability measure :math:`\sum_i q_i \delta_{x_i}` on given nodes.

    Parameters
    ----------
    nodes : array_like, shape (N,) or (N, d)
    weights : array_like, shape (N,), optional
        Non-negative, normalised to sum 1; uniform by default.

    Examples
    --------
    >>> from sciddm.leastsquares import DiscreteMeasure
    >>> mu = DiscreteMeasure([0.0, 1.0, 2.0], [0.5, 0.25, 0.25])
    >>> mu.sample(4, rng=0)[:, 0].tolist()
    [1.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, nodes: Any, weights: Any = None) -> None:
        x = check_array(nodes, "nodes", ndim=(1, 2), min_rows=1)
        self.nodes = x.reshape(-1, 1) if x.ndim == 1 else x
        n = len(self.nodes)
        if weights is None:
            w = np.full(n, 1.0 / n)
        else:
            w = check_array(weights, "weights", ndim=1, shape=(n,))
            if np.any(w < 0) or w.sum() <= 0:
                raise ValueError("`weights` must be non-negative with a positive sum")
            w = w / w.sum()
        self.weights = w
        self.dim = self.nodes.shape[1]

    def __repr__(self) -> str:
        return f"DiscreteMeasure(N={len(self.nodes)}, dim={self.dim})"

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        n = check_size(check_int(n, "n", lo=0), "n", per_item=self.dim)
        idx = as_generator(rng).choice(len(self.nodes), size=n, p=self.weights)
        return self.nodes[idx]

    def node_index(self, x: np.ndarray) -> np.ndarray:
        """Index of each row of ``x`` among the nodes.

        Parameters
        ----------
        x : array_like of shape (n, dim)
            Points.

        Returns
        -------
        ndarray of int, shape (n,)
            Node index, or -1 when the point is not a node (up to a relative
            tolerance of 1e-12).
        """
        from scipy.spatial import cKDTree

        x = np.asarray(x, float).reshape(-1, self.dim)
        if not hasattr(self, "_tree"):
            self._tree = cKDTree(self.nodes)
        scale = 1e-12 * max(1.0, float(np.abs(self.nodes).max()))
        dist, j = self._tree.query(x, k=1, p=np.inf)
        return np.where(dist <= scale, j, -1).astype(int)

    def contains(self, x: np.ndarray) -> np.ndarray:
        idx = self.node_index(x)
        return (idx >= 0) & (self.weights[np.maximum(idx, 0)] > 0)

    def quadrature(self, q: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The nodes and weights themselves (exact for every integrand).

        Parameters
        ----------
        q : int, optional
            Ignored (the rule is the measure itself).

        Returns
        -------
        nodes : ndarray of shape (N, dim)
        weights : ndarray of shape (N,)
        """
        return self.nodes, self.weights
