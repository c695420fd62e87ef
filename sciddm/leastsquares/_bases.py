"""Multi-index sets, tensor-product bases and orthonormalised feature maps.

A *basis* here is an L²(μ)-orthonormal feature map φ = (φ_1, …, φ_m) together
with its measure μ. It evaluates φ(x) (``basis(x)``, shape ``(n, m)``) and the
Christoffel function K_m(x) = Σ_j φ_j(x)², and draws i.i.d. points from the
optimal density ρ = (K_m/m)·μ (``basis.sample_optimal_points``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int

from ._measures import DiscreteMeasure, Measure, ProductMeasure
from ._polynomials import Family, _family_iv

__all__ = [
    "Basis",
    "DiscreteBasis",
    "TensorBasis",
    "check_downward_closed",
    "full_tensor",
    "hyperbolic_cross",
    "is_downward_closed",
    "orthonormalize",
    "total_degree",
]


def _sorted(idx: list[tuple[int, ...]], d: int) -> np.ndarray:
    arr = np.array(sorted(set(idx), key=lambda a: (sum(a), tuple(-v for v in a))), dtype=int)
    return arr.reshape(-1, d)


def total_degree(d: int, p: int) -> np.ndarray:
    """Multi-indices α ∈ N^d with |α|_1 ≤ p, sorted by total degree.

    There are C(d + p, d) of them.

    Examples
    --------
    >>> from sciddm.leastsquares import total_degree
    >>> total_degree(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    >>> len(total_degree(5, 5))
    252
    """
    d = check_int(d, "d", lo=1)
    p = check_int(p, "p", lo=0)
    out: list[tuple[int, ...]] = []

    def rec(prefix: tuple[int, ...], left: int) -> None:
        if len(prefix) == d:
            out.append(prefix)
            return
        for v in range(left + 1):
            rec(prefix + (v,), left - v)

    rec((), p)
    return _sorted(out, d)


def hyperbolic_cross(d: int, p: int) -> np.ndarray:
    """Multi-indices with Π_i (α_i + 1) ≤ p + 1.

    Examples
    --------
    >>> from sciddm.leastsquares import hyperbolic_cross
    >>> hyperbolic_cross(2, 3).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2], [3, 0], [0, 3]]
    """
    d = check_int(d, "d", lo=1)
    p = check_int(p, "p", lo=0)
    out: list[tuple[int, ...]] = []

    def rec(prefix: tuple[int, ...], prod: int) -> None:
        if len(prefix) == d:
            out.append(prefix)
            return
        v = 0
        while prod * (v + 1) <= p + 1:
            rec(prefix + (v,), prod * (v + 1))
            v += 1

    rec((), 1)
    return _sorted(out, d)


def full_tensor(d: int, p: int) -> np.ndarray:
    """Multi-indices with max_i α_i ≤ p ((p + 1)^d of them).

    Examples
    --------
    >>> from sciddm.leastsquares import full_tensor
    >>> len(full_tensor(3, 2))
    27
    """
    d = check_int(d, "d", lo=1)
    p = check_int(p, "p", lo=0)
    return _sorted(list(itertools.product(range(p + 1), repeat=d)), d)


def is_downward_closed(index_set: Any) -> bool:
    """Whether α ∈ Λ and β ≤ α (componentwise) imply β ∈ Λ.

    It suffices to check that α − e_i ∈ Λ for every α ∈ Λ and α_i > 0.

    Examples
    --------
    >>> from sciddm.leastsquares import is_downward_closed
    >>> is_downward_closed([[0, 0], [1, 0], [1, 1]])
    False
    >>> is_downward_closed([[0, 0], [1, 0], [0, 1], [1, 1]])
    True
    """
    arr = np.asarray(index_set, dtype=int)
    arr = arr.reshape(len(arr), -1)
    members = {tuple(r) for r in arr.tolist()}
    for a in members:
        for i, v in enumerate(a):
            if v > 0 and (a[:i] + (v - 1,) + a[i + 1 :]) not in members:
                return False
    return True


def check_downward_closed(index_set: Any, name: str = "index_set") -> np.ndarray:
    """``index_set`` as an ``(m, d)`` int array; ValueError if it is not a
    downward-closed set of distinct non-negative multi-indices."""
    arr = check_array(index_set, name, ndim=(1, 2), dtype=None, min_rows=1)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.dtype.kind not in "iu" and not np.all(arr == np.round(arr)):
        raise ValueError(f"`{name}` must hold integer multi-indices")
    arr = arr.astype(int)
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must hold non-negative multi-indices")
    if len({tuple(r) for r in arr.tolist()}) != len(arr):
        raise ValueError(f"`{name}` holds a repeated multi-index")
    if not is_downward_closed(arr):
        raise ValueError(f"`{name}` must be downward closed (α ∈ Λ, β ≤ α imply β ∈ Λ)")
    return arr


class Basis:
    """Base class: an L²(μ)-orthonormal feature map φ: X → R^m with its measure."""

    measure: Measure
    m: int
    dim: int

    def __call__(self, x: Any) -> np.ndarray:
        """φ(x), shape ``(n, m)``; raises if a point is outside the support."""
        return self.features(self.measure.check_points(x))

    def features(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        """φ(x) for validated points of shape ``(n, dim)``."""
        raise NotImplementedError

    def christoffel(self, x: Any) -> np.ndarray:
        """K_m(x) = Σ_j φ_j(x)², shape ``(n,)``; ∫ K_m dμ = m."""
        P = self(x)
        return np.einsum("ij,ij->i", P, P)

    def weight(self, x: Any) -> np.ndarray:
        """w(x) = m / K_m(x) = dμ/dρ."""
        return self.m / self.christoffel(x)

    def sample_optimal_points(
        self, n: int, *, rng: SeedLike = None
    ) -> np.ndarray:  # pragma: no cover
        """``n`` i.i.d. points from ρ = (K_m/m)·μ, shape ``(n, dim)``."""
        raise NotImplementedError


class TensorBasis(Basis):
    r"""Tensor-product orthonormal basis {Π_i p^{(i)}_{α_i}(x_i) : α ∈ Λ}.

    Parameters
    ----------
    families : Family, str or sequence of them
        One-dimensional families (:class:`Legendre`, :class:`Hermite`, …), one per
        coordinate; a single family is repeated ``dim`` times.
    index_set : array_like, shape (m, d)
        Multi-indices; must be downward closed (see :func:`total_degree`).
    dim : int, optional
        Number of coordinates when ``families`` is a single family (default from
        ``index_set``).

    Notes
    -----
    The measure is the product of the families' measures, and the basis is
    orthonormal for it for any index set; downward closedness is required
    because it is what makes the polynomial space independent of the choice of
    the coordinates' origin and what the quasi-optimality theory assumes.
    Optimal sampling uses the mixture representation
    ρ = (1/m) Σ_{α∈Λ} ⊗_i (p_{α_i}² dμ_i): pick α uniformly, then draw each
    coordinate exactly from p_{α_i}² dμ_i.

    References
    ----------
    .. [1] A. Cohen, G. Migliorati, "Optimal weighted least-squares methods",
       SMAI J. Comput. Math. 3 (2017), §5.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre, TensorBasis, total_degree
    >>> basis = TensorBasis(Legendre(), total_degree(2, 3))
    >>> basis.m, basis.dim
    (10, 2)
    >>> x, w = basis.measure.quadrature(5)
    >>> P = basis(x)
    >>> bool(np.allclose(P.T @ (w[:, None] * P), np.eye(10)))
    True
    """

    def __init__(self, families: Any, index_set: Any, *, dim: int | None = None):
        idx = check_downward_closed(index_set, "index_set")
        if isinstance(families, (Family, str)):
            d = idx.shape[1] if dim is None else check_int(dim, "dim", lo=1)
            fams = [_family_iv(families, "families")] * d
        else:
            fams = [_family_iv(f, "families") for f in families]
        if idx.shape[1] != len(fams):
            if idx.shape[1] == 1 and dim is None and len(fams) > 1:
                raise ValueError(
                    f"`index_set` must have {len(fams)} columns, got shape {idx.shape}"
                )
            raise ValueError(f"`index_set` must have {len(fams)} columns, got shape {idx.shape}")
        self.families = fams
        self.index_set = idx
        self.m = len(idx)
        self.dim = len(fams)
        self.measure = ProductMeasure([f.measure for f in fams])
        self._maxdeg = idx.max(axis=0)

    def __repr__(self) -> str:
        return f"TensorBasis(families={self.families!r}, m={self.m}, dim={self.dim})"

    def features(self, x: np.ndarray) -> np.ndarray:
        # one-dimensional tables, transposed (degree x point), then the products
        # Π_i p_{α_i}(x_i) formed in cache-sized blocks of multi-indices
        tables = [
            np.ascontiguousarray(fam(x[:, i], int(self._maxdeg[i])).T)
            for i, fam in enumerate(self.families)
        ]
        out = np.empty((self.m, len(x)))
        idx = self.index_set
        for j0 in range(0, self.m, 64):
            blk = out[j0 : j0 + 64]
            np.take(tables[0], idx[j0 : j0 + 64, 0], axis=0, out=blk)
            for i in range(1, self.dim):
                blk *= tables[i][idx[j0 : j0 + 64, i]]
        return out.T

    def sample_optimal_points(
        self, n: int, *, rng: SeedLike = None, budget: int | None = None
    ) -> np.ndarray:
        """``n`` i.i.d. points from ρ = (K_m/m)·μ (exact mixture sampler).

        ``budget`` bounds the proposals of each coordinate's rejection sampler
        (default ``1000 n + 10000``); exceeding it raises ProposalBudgetError.

        Examples
        --------
        >>> from sciddm.leastsquares import Hermite, TensorBasis, total_degree
        >>> TensorBasis(Hermite(), total_degree(3, 2)).sample_optimal_points(4, rng=0).shape
        (4, 3)
        """
        n = check_int(n, "n", lo=0)
        g = as_generator(rng)
        which = g.integers(self.m, size=n)
        alphas = self.index_set[which]
        x = np.empty((n, self.dim))
        for i, fam in enumerate(self.families):
            x[:, i] = fam.sample_squared_many(alphas[:, i], rng=g, budget=budget)
        return x


class DiscreteBasis(Basis):
    """An orthonormal feature map on a :class:`DiscreteMeasure`.

    Parameters
    ----------
    features : callable
        Maps points ``(n, d)`` to features ``(n, m)``.
    measure : DiscreteMeasure
    check : bool, default True
        Verify orthonormality on the nodes: Σ_i q_i φ(x_i)φ(x_i)ᵀ = I to 1e-8.
        Use :func:`orthonormalize` for a feature map that is not orthonormal.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import DiscreteBasis, DiscreteMeasure
    >>> mu = DiscreteMeasure([-1.0, 1.0])
    >>> b = DiscreteBasis(lambda x: np.column_stack([np.ones(len(x)), x[:, 0]]), mu)
    >>> b.christoffel([[1.0]]).tolist()
    [2.0]
    """

    def __init__(
        self, features: Callable[[np.ndarray], Any], measure: DiscreteMeasure, *, check: bool = True
    ):
        if not isinstance(measure, DiscreteMeasure):
            raise ValueError(f"`measure` must be a DiscreteMeasure, got {type(measure).__name__}")
        if not callable(features):
            raise ValueError(
                "`features` must be callable, mapping (n, d) points to (n, m) features"
            )
        self.measure: DiscreteMeasure = measure
        self._features = features
        self.dim = measure.dim
        F = self._eval(measure.nodes, "features")
        self.m = F.shape[1]
        self.node_features = F
        if check:
            G = F.T @ (measure.weights[:, None] * F)
            err = float(np.max(np.abs(G - np.eye(self.m))))
            if err > 1e-8:
                raise ValueError(
                    f"`features` must be orthonormal in L2(measure) (max |G - I| = {err:.3g}); "
                    "use orthonormalize(features, measure)"
                )

    def __repr__(self) -> str:
        return f"DiscreteBasis(m={self.m}, measure={self.measure!r})"

    def _eval(self, x: np.ndarray, name: str) -> np.ndarray:
        F = np.asarray(self._features(x), dtype=float)
        if F.ndim == 1:
            F = F.reshape(-1, 1)
        if F.ndim != 2 or F.shape[0] != len(x):
            raise ValueError(f"`{name}` must return an array of shape (n, m), got {F.shape}")
        if not np.all(np.isfinite(F)):
            raise ValueError(f"`{name}` returned NaN or inf")
        return F

    def features(self, x: np.ndarray) -> np.ndarray:
        return self._eval(x, "features")

    def sample_optimal_points(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        n = check_int(n, "n", lo=0)
        return self.measure.nodes[self.sample_optimal_nodes(n, rng=rng)]

    def optimal_probabilities(self) -> np.ndarray:
        """ρ on the nodes: q_i K_m(x_i) / m."""
        K = np.einsum("ij,ij->i", self.node_features, self.node_features)
        p = self.measure.weights * K / self.m
        return p / p.sum()

    def sample_optimal_nodes(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        """Indices of ``n`` i.i.d. nodes drawn from ρ."""
        return as_generator(rng).choice(
            len(self.measure.nodes), size=n, p=self.optimal_probabilities()
        )


class _Orthonormalized:
    def __init__(self, features: Callable[[np.ndarray], Any], Rinv: np.ndarray):
        self.features = features
        self.Rinv = Rinv

    def __call__(self, x: np.ndarray) -> np.ndarray:
        F = np.asarray(self.features(x), dtype=float)
        return (F.reshape(len(x), -1)) @ self.Rinv


def orthonormalize(
    features: Callable[[np.ndarray], Any], measure: DiscreteMeasure, *, rtol: float = 1e-10
) -> DiscreteBasis:
    r"""Orthonormalise any feature map in L²(μ) for a discrete measure μ.

    With F_ij = f_j(x_i) and Q = diag(√q) the thin QR factorisation QF = UR gives
    φ(x) = f(x) R^{-1}, orthonormal in L²(μ) and spanning the same space. This
    is the route for splines, wavelets or learned features.

    Parameters
    ----------
    features : callable
        Maps points ``(n, d)`` to ``(n, m)``.
    measure : DiscreteMeasure
    rtol : float, default 1e-10
        Features whose R diagonal is below ``rtol * max|R_jj|`` are declared
        linearly dependent (ValueError).

    Returns
    -------
    DiscreteBasis

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import DiscreteMeasure, orthonormalize
    >>> mu = DiscreteMeasure(np.linspace(0, 1, 50))
    >>> b = orthonormalize(lambda x: np.column_stack([x[:, 0] ** j for j in range(4)]), mu)
    >>> F = b(mu.nodes)
    >>> bool(np.allclose(F.T @ (mu.weights[:, None] * F), np.eye(4)))
    True
    """
    if not isinstance(measure, DiscreteMeasure):
        raise ValueError(f"`measure` must be a DiscreteMeasure, got {type(measure).__name__}")
    if not callable(features):
        raise ValueError("`features` must be callable, mapping (n, d) points to (n, m) features")
    F = np.asarray(features(measure.nodes), dtype=float)
    F = F.reshape(len(measure.nodes), -1)
    if not np.all(np.isfinite(F)):
        raise ValueError("`features` returned NaN or inf on the nodes")
    R = np.linalg.qr(np.sqrt(measure.weights)[:, None] * F, mode="r")
    diag = np.abs(np.diag(R))
    if diag.size < F.shape[1] or diag.min() <= rtol * diag.max():
        raise ValueError("`features` are linearly dependent on the nodes of `measure`")
    sign = np.sign(np.diag(R))
    R = R * sign[:, None]
    Rinv = np.linalg.solve(R, np.eye(R.shape[0]))
    return DiscreteBasis(_Orthonormalized(features, Rinv), measure, check=True)


def _basis_iv(basis: Any, name: str = "basis") -> Basis:
    if not isinstance(basis, Basis):
        raise ValueError(
            f"`{name}` must be a sciddm.leastsquares Basis, got {type(basis).__name__}"
        )
    return basis


def _ensure_seq(x: Any) -> Sequence[Any]:
    return x if isinstance(x, Sequence) else [x]
