"""Probability measures: intervals, Gaussian, Beta/Jacobi, Gamma, products, discrete.

A measure knows its dimension, how to draw i.i.d. points, whether points lie in
its support, and a Gauss quadrature rule used to estimate L²(μ) errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar

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
    """Base class of the probability measures μ on X ⊂ R^d."""

    dim: int = 1

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:  # pragma: no cover
        """Draw ``n`` i.i.d. points, shape ``(n, dim)``."""
        raise NotImplementedError

    def contains(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Boolean mask of the rows of ``x`` (shape ``(n, dim)``) in the support."""
        raise NotImplementedError

    def quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """Nodes ``(Q, dim)`` and weights ``(Q,)`` (summing to 1) of a Gauss rule."""
        raise NotImplementedError

    def check_points(self, x: Any, name: str = "x") -> np.ndarray:
        """``x`` as an ``(n, dim)`` float array, raising if a point is outside the support."""
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
        return (np.asarray(x, float) - self.shift) / self.scale

    def from_standard(self, t: np.ndarray) -> np.ndarray:
        return self.shift + self.scale * np.asarray(t, float)

    def contains(self, x: np.ndarray) -> np.ndarray:
        t = self.to_standard(np.asarray(x, float).reshape(len(x), -1)[:, 0])
        return (t >= self.lo_t) & (t <= self.hi_t)

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        n = check_int(n, "n", lo=0)
        return self.from_standard(self._std_sample(n, as_generator(rng))).reshape(n, 1)

    def quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        q = check_int(q, "q", lo=1)
        t, w = self._std_quadrature(q)
        return self.from_standard(t).reshape(-1, 1), w / w.sum()


class BetaMeasure(_Measure1D):
    r"""Beta (Jacobi) probability measure on ``[low, high]``.

    In the standard variable t = (2x − low − high)/(high − low) ∈ [−1, 1] its
    density is proportional to (1 − t)^α (1 + t)^β (the Jacobi weight), with
    α, β > −1. ``alpha = beta = 0`` is the uniform measure, ``alpha = beta = -1/2``
    the arcsine (Chebyshev) measure.

    Examples
    --------
    >>> from sciddm.leastsquares import BetaMeasure
    >>> mu = BetaMeasure(-0.5, -0.5)
    >>> x, w = mu.quadrature(3)
    >>> round(float(w @ x[:, 0] ** 2), 12)   # E[t^2] = 1/2 under the arcsine law
    0.5
    """

    lo_t, hi_t = -1.0, 1.0

    def __init__(self, alpha: float = 0.0, beta: float = 0.0, low: float = -1.0, high: float = 1.0):
        self.alpha = check_scalar(alpha, "alpha", lo=-1, closed="neither")
        self.beta = check_scalar(beta, "beta", lo=-1, closed="neither")
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
        """Density in the standard variable t ∈ [−1, 1]."""
        a, b = self.alpha, self.beta
        logc = (a + b + 1) * math.log(2.0) + special.betaln(a + 1, b + 1)
        t = np.asarray(t, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(a * np.log1p(-t) + b * np.log1p(t) - logc)
        return np.where((t > -1) & (t < 1), out, 0.0)


class UniformMeasure(BetaMeasure):
    """Uniform probability measure on ``[low, high]`` (``BetaMeasure(0, 0, low, high)``).

    Examples
    --------
    >>> from sciddm.leastsquares import UniformMeasure
    >>> UniformMeasure(0, 2).sample(3, rng=0).shape
    (3, 1)
    """

    def __init__(self, low: float = -1.0, high: float = 1.0):
        super().__init__(0.0, 0.0, low, high)

    def __repr__(self) -> str:
        return f"UniformMeasure(low={self.low:g}, high={self.high:g})"


class GaussianMeasure(_Measure1D):
    """Gaussian measure N(mean, std²) (standard variable t = (x − mean)/std).

    Examples
    --------
    >>> from sciddm.leastsquares import GaussianMeasure
    >>> x, w = GaussianMeasure(1.0, 2.0).quadrature(4)
    >>> round(float(w @ x[:, 0]), 12), round(float(w @ (x[:, 0] - 1) ** 2), 12)
    (1.0, 4.0)
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0):
        self.shift = check_scalar(mean, "mean")
        self.scale = check_scalar(std, "std", lo=0, closed="neither")

    def __repr__(self) -> str:
        return f"GaussianMeasure(mean={self.shift:g}, std={self.scale:g})"

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:
        return g.standard_normal(n)

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        return special.roots_hermitenorm(q)

    def std_pdf(self, t: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * np.asarray(t, float) ** 2) / math.sqrt(2 * math.pi)


class GammaMeasure(_Measure1D):
    """Gamma measure with density t^α e^{−t} / Γ(α + 1) on t = x/scale ≥ 0 (α > −1).

    ``alpha = 0`` is the exponential distribution; the matching basis is
    :class:`~sciddm.leastsquares.Laguerre`.

    Examples
    --------
    >>> from sciddm.leastsquares import GammaMeasure
    >>> x, w = GammaMeasure(1.0).quadrature(3)
    >>> round(float(w @ x[:, 0]), 12)   # mean alpha + 1
    2.0
    """

    lo_t, hi_t = 0.0, math.inf

    def __init__(self, alpha: float = 0.0, scale: float = 1.0):
        self.alpha = check_scalar(alpha, "alpha", lo=-1, closed="neither")
        self.shift = 0.0
        self.scale = check_scalar(scale, "scale", lo=0, closed="neither")

    def __repr__(self) -> str:
        return f"GammaMeasure(alpha={self.alpha:g}, scale={self.scale:g})"

    def _std_sample(self, n: int, g: np.random.Generator) -> np.ndarray:
        return g.gamma(self.alpha + 1, size=n)

    def _std_quadrature(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        return special.roots_genlaguerre(q, self.alpha)

    def std_pdf(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(self.alpha * np.log(t) - t - special.gammaln(self.alpha + 1))
        return np.where(t > 0, out, 0.0)


class ProductMeasure(Measure):
    """Product μ_1 ⊗ … ⊗ μ_d of one-dimensional measures.

    Examples
    --------
    >>> from sciddm.leastsquares import GaussianMeasure, ProductMeasure, UniformMeasure
    >>> mu = ProductMeasure([UniformMeasure(), GaussianMeasure()])
    >>> mu.sample(5, rng=0).shape, mu.quadrature(3)[0].shape
    ((5, 2), (9, 2))
    """

    def __init__(self, factors: Sequence[Measure]):
        factors = list(factors)
        if not factors or not all(isinstance(f, _Measure1D) for f in factors):
            raise ValueError("`factors` must be a non-empty list of one-dimensional measures")
        self.factors = factors
        self.dim = len(factors)

    def __repr__(self) -> str:
        return f"ProductMeasure({self.factors!r})"

    def sample(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        n = check_int(n, "n", lo=0)
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
        rules = [f.quadrature(q) for f in self.factors]
        grids = np.meshgrid(*[r[0][:, 0] for r in rules], indexing="ij")
        wgrids = np.meshgrid(*[r[1] for r in rules], indexing="ij")
        x = np.column_stack([g.ravel() for g in grids])
        w = np.prod(np.column_stack([g.ravel() for g in wgrids]), axis=1)
        return x, w


def uniform_box(low: Sequence[float], high: Sequence[float]) -> ProductMeasure:
    """Uniform measure on the box ∏ [low_i, high_i].

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
    """Discrete probability measure Σ_i q_i δ_{x_i} on given nodes.

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

    def __init__(self, nodes: Any, weights: Any = None):
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
        n = check_int(n, "n", lo=0)
        idx = as_generator(rng).choice(len(self.nodes), size=n, p=self.weights)
        return self.nodes[idx]

    def node_index(self, x: np.ndarray) -> np.ndarray:
        """Index of each row of ``x`` among the nodes (−1 when it is not a node,
        up to a relative tolerance of 1e-12)."""
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
        """The nodes and weights themselves (exact for every integrand)."""
        return self.nodes, self.weights
