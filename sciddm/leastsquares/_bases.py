r"""Multi-index sets, tensor-product bases and orthonormalised feature maps.

A *basis* here is an :math:`L^2(\mu)`-orthonormal feature map
:math:`\varphi = (\varphi_1, \dots, \varphi_m)` together with its measure
:math:`\mu`. It evaluates :math:`\varphi(x)` (``basis(x)``, shape ``(n, m)``) and
the Christoffel function :math:`K_m(x) = \sum_j \varphi_j(x)^2`, and draws
i.i.d. points from the optimal density :math:`\rho = (K_m/m)\,\mu`
(``basis.sample_optimal_points``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar

from ._guards import CHUNK, check_size
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


def _check_count(entries: int, what: str) -> None:
    """Refuse an index set of more than 2**24 entries (a basis that large is never usable)."""
    if entries > 2**24:
        raise ValueError(f"{what} has about {entries} entries, too many for a basis; lower `p`")


def total_degree(d: int, p: int) -> np.ndarray:
    r"""Multi-indices :math:`\alpha \in \mathbb N^d` with :math:`|\alpha|_1 \le p`.

    Sorted by total degree; there are :math:`\binom{d + p}{d}` of them.

    Parameters
    ----------
    d : int
        Dimension, ``d >= 1``.
    p : int
        Largest total degree, ``p >= 0``.

    Returns
    -------
    ndarray of int, shape (m, d)

    Examples
    --------
    >>> from sciddm.leastsquares import total_degree
    >>> total_degree(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    >>> len(total_degree(5, 5))
    252
    """
    d = check_int(d, "d", lo=1, hi=2**24)
    p = check_int(p, "p", lo=0, hi=2**24)
    _check_count(math.comb(d + p, min(d, p)) * d, f"total_degree({d}, {p})")
    out: list[tuple[int, ...]] = []
    for k in range(p + 1):  # |alpha| = k <-> a multiset of k coordinates
        for combo in itertools.combinations_with_replacement(range(d), k):
            alpha = [0] * d
            for i in combo:
                alpha[i] += 1
            out.append(tuple(alpha))
    return _sorted(out, d)


def hyperbolic_cross(d: int, p: int) -> np.ndarray:
    r"""Multi-indices with :math:`\prod_i (\alpha_i + 1) \le p + 1` (hyperbolic cross).

    Parameters
    ----------
    d : int
        Dimension, ``d >= 1``.
    p : int
        Order, ``p >= 0``.

    Returns
    -------
    ndarray of int, shape (m, d)

    Examples
    --------
    >>> from sciddm.leastsquares import hyperbolic_cross
    >>> hyperbolic_cross(2, 3).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2], [3, 0], [0, 3]]
    """
    d = check_int(d, "d", lo=1, hi=2**24)
    p = check_int(p, "p", lo=0, hi=2**24)
    out: list[tuple[int, ...]] = []
    stack: list[tuple[tuple[int, ...], int]] = [((), 1)]
    while stack:  # depth-first, without recursion (d may be large)
        prefix, prod = stack.pop()
        if len(prefix) == d:
            out.append(prefix)
            _check_count(len(out) * d, f"hyperbolic_cross({d}, {p})")
            continue
        v = 0
        while prod * (v + 1) <= p + 1:
            stack.append((prefix + (v,), prod * (v + 1)))
            v += 1
    return _sorted(out, d)


def full_tensor(d: int, p: int) -> np.ndarray:
    r"""Multi-indices with :math:`\max_i \alpha_i \le p` (:math:`(p + 1)^d` of them).

    Parameters
    ----------
    d : int
        Dimension, ``d >= 1``.
    p : int
        Largest degree per coordinate, ``p >= 0``.

    Returns
    -------
    ndarray of int, shape ((p + 1)**d, d)

    Examples
    --------
    >>> from sciddm.leastsquares import full_tensor
    >>> len(full_tensor(3, 2))
    27
    """
    d = check_int(d, "d", lo=1, hi=2**24)
    p = check_int(p, "p", lo=0, hi=2**24)
    if d * math.log(p + 1) + math.log(d) > math.log(2**24):
        raise ValueError(f"full_tensor({d}, {p}) has (p + 1)^d multi-indices, too many for a basis")
    return _sorted(list(itertools.product(range(p + 1), repeat=d)), d)


def is_downward_closed(index_set: Any) -> bool:
    r"""Whether :math:`\alpha \in \Lambda` and :math:`\beta \le \alpha` (componentwise) imply :math:`\beta \in \Lambda`.

    It suffices to check that :math:`\alpha - e_i \in \Lambda` for every
    :math:`\alpha \in \Lambda` with :math:`\alpha_i > 0`.

    Parameters
    ----------
    index_set : array_like of int, shape (m, d) or (m,)
        Multi-indices.

    Returns
    -------
    bool

    Examples
    --------
    >>> from sciddm.leastsquares import is_downward_closed
    >>> is_downward_closed([[0, 0], [1, 0], [1, 1]])
    False
    >>> is_downward_closed([[0, 0], [1, 0], [0, 1], [1, 1]])
    True
    """
    arr = check_array(index_set, "index_set", ndim=(1, 2), dtype=None)
    if arr.dtype.kind not in "iufb" or (arr.dtype.kind == "f" and not np.all(arr == np.round(arr))):
        raise ValueError("`index_set` must hold integer multi-indices")
    if np.any(np.abs(arr) > 2**24):
        raise ValueError("`index_set` holds a degree above 2^24, beyond any usable basis")
    arr = arr.astype(int)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    members = {tuple(r) for r in arr.tolist()}
    for a in members:
        for i, v in enumerate(a):
            if v > 0 and (a[:i] + (v - 1,) + a[i + 1 :]) not in members:
                return False
    return True


def check_downward_closed(index_set: Any, name: str = "index_set") -> np.ndarray:
    """Validate a downward-closed set of distinct non-negative multi-indices.

    Parameters
    ----------
    index_set : array_like of int, shape (m, d) or (m,)
        Multi-indices.
    name : str, default "index_set"
        Argument name used in error messages.

    Returns
    -------
    ndarray of int, shape (m, d)

    Raises
    ------
    ValueError
        If the set is empty, holds a non-integer, negative or repeated
        multi-index, or is not downward closed.

    Examples
    --------
    >>> from sciddm.leastsquares import check_downward_closed
    >>> check_downward_closed([0, 1, 2]).tolist()
    [[0], [1], [2]]
    >>> check_downward_closed([[0, 0], [1, 1]])
    Traceback (most recent call last):
    ...
    ValueError: `index_set` must be downward closed (alpha in Lambda, beta <= alpha imply beta in Lambda)
    """
    arr = check_array(index_set, name, ndim=(1, 2), dtype=None, min_rows=1)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.dtype.kind not in "iufb":
        raise ValueError(f"`{name}` must hold integer multi-indices, got dtype {arr.dtype}")
    if arr.dtype.kind not in "iu" and not np.all(arr == np.round(arr)):
        raise ValueError(f"`{name}` must hold integer multi-indices")
    if np.any(np.abs(arr) > 2**24):
        raise ValueError(f"`{name}` holds a degree above 2^24, beyond any usable basis")
    arr = arr.astype(int)
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must hold non-negative multi-indices")
    if len({tuple(r) for r in arr.tolist()}) != len(arr):
        raise ValueError(f"`{name}` holds a repeated multi-index")
    if not is_downward_closed(arr):
        raise ValueError(
            f"`{name}` must be downward closed (alpha in Lambda, beta <= alpha imply beta in Lambda)"
        )
    return arr


class Basis:
    r"""Base class: an :math:`L^2(\mu)`-orthonormal feature map :math:`\varphi: X \to \mathbb R^m` with its measure.

    Subclasses: :class:`TensorBasis` (polynomial and trigonometric tensor
    bases) and :class:`DiscreteBasis` (any feature map on a discrete measure).

    Attributes
    ----------
    measure : Measure
        The measure :math:`\mu`.
    m : int
        Number of features.
    dim : int
        Dimension of the points.

    Examples
    --------
    >>> from sciddm.leastsquares import Basis, Legendre, TensorBasis, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 3))
    >>> isinstance(b, Basis), b.christoffel([[1.0]]).tolist()   # sum of 2k + 1
    (True, [16.0])
    """

    measure: Measure
    m: int
    dim: int

    def __call__(self, x: Any) -> np.ndarray:
        """Features :math:`\varphi(x)` of points in the support.

        Parameters
        ----------
        x : array_like of shape (n, dim)
            Points (validated: a point outside the support raises ValueError).

        Returns
        -------
        ndarray of shape (n, m)
        """
        return self.features(self.measure.check_points(x))

    def features(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Features :math:`\varphi(x)` of already validated points.

        Parameters
        ----------
        x : ndarray of shape (n, dim)
            Points.

        Returns
        -------
        ndarray of shape (n, m)
        """
        raise NotImplementedError

    def christoffel(self, x: Any) -> np.ndarray:
        """Christoffel function :math:`K_m(x) = \\sum_j \varphi_j(x)^2`, with :math:`\\int K_m\\,d\\mu = m`.

        Parameters
        ----------
        x : array_like of shape (n, dim)
            Points in the support.

        Returns
        -------
        ndarray of shape (n,)
        """
        P = self(x)
        return np.einsum("ij,ij->i", P, P)

    def weight(self, x: Any) -> np.ndarray:
        """Optimal weight :math:`w(x) = m / K_m(x) = d\\mu/d\rho`.

        Parameters
        ----------
        x : array_like of shape (n, dim)
            Points in the support.

        Returns
        -------
        ndarray of shape (n,)
        """
        return self.m / self.christoffel(x)

    def sample_optimal_points(
        self, n: int, *, rng: SeedLike = None
    ) -> np.ndarray:  # pragma: no cover
        """Draw ``n`` i.i.d. points from the optimal density :math:`\rho = (K_m/m)\\,\\mu`.

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


def _prefix_product(tables: list[np.ndarray], prefix: tuple[int, ...]) -> np.ndarray:
    """``prod_i tables[i][prefix[i]]``: the product of the first ``d - 1`` one-dimensional
    values of a run of :meth:`TensorBasis._runs`, for every point (a row)."""
    pre = tables[0][prefix[0]]
    for i in range(1, len(prefix)):
        pre = pre * tables[i][prefix[i]]
    return pre


class TensorBasis(Basis):
    r"""Tensor-product orthonormal basis :math:`\{\prod_i p^{(i)}_{\alpha_i}(x_i) : \alpha \in \Lambda\}`.

    Parameters
    ----------
    families : Family, str or sequence of them
        One-dimensional families (:class:`Legendre`, :class:`Hermite`, ...), one
        per coordinate; a single family is repeated ``dim`` times.
    index_set : array_like, shape (m, d)
        Multi-indices; must be downward closed (see :func:`total_degree`).
    dim : int, optional
        Number of coordinates when ``families`` is a single family (default from
        ``index_set``).

    Attributes
    ----------
    families : list of Family
        One family per coordinate.
    index_set : ndarray of int, shape (m, dim)
        The multi-index set :math:`\Lambda`.
    m, dim : int
        Number of features and dimension.
    measure : ProductMeasure
        Product of the families' measures.

    Notes
    -----
    The measure is the product of the families' measures, and the basis is
    orthonormal for it for any index set; downward closedness is required
    because it is what makes the polynomial space independent of the choice of
    the coordinates' origin and what the quasi-optimality theory assumes.
    Optimal sampling uses the mixture representation

    .. math:: \rho = \frac1m \sum_{\alpha \in \Lambda} \bigotimes_i p_{\alpha_i}^2\,d\mu_i :

    pick :math:`\alpha` uniformly, then draw each coordinate exactly from
    :math:`p_{\alpha_i}^2\,d\mu_i`.

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

    def __init__(self, families: Any, index_set: Any, *, dim: int | None = None) -> None:
        idx = check_downward_closed(index_set, "index_set")
        if isinstance(families, (Family, str)):
            d = idx.shape[1] if dim is None else check_int(dim, "dim", lo=1)
            if d != idx.shape[1] and not (idx.shape[1] == 1 and dim is None):
                raise ValueError(
                    f"`index_set` must have {d} columns (`dim`), got shape {idx.shape}"
                )
            fams = [_family_iv(families, "families")] * d
        elif isinstance(families, Sequence) and len(families) > 0:
            fams = [_family_iv(f, "families") for f in families]
        else:
            raise ValueError(
                f"`families` must be a Family, a family name or a non-empty list of them, "
                f"got {families!r}"
            )
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
            fam._eval_rows(fam.measure.to_standard(x[:, i]), int(self._maxdeg[i]))
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

    def _runs(self) -> tuple[np.ndarray, list[tuple[int, int, int, tuple[int, ...]]]]:
        """The multi-indices in lexicographic order and their runs (cached).

        A run is a maximal stretch of that order whose multi-indices share all but
        the last coordinate and whose last coordinates are consecutive:
        ``(start, stop, first last-coordinate degree, shared prefix)``.
        """
        cached = getattr(self, "_runs_cache", None)
        if cached is None:
            idx = self.index_set
            order = np.lexsort(idx.T[::-1])
            sidx = idx[order]
            new = np.ones(len(sidx), dtype=bool)
            new[1:] = np.any(sidx[1:, :-1] != sidx[:-1, :-1], axis=1) | (
                sidx[1:, -1] != sidx[:-1, -1] + 1
            )
            starts = np.flatnonzero(new).tolist() + [len(sidx)]
            runs = [
                (a, b, int(sidx[a, -1]), tuple(int(v) for v in sidx[a, :-1]))
                for a, b in zip(starts[:-1], starts[1:])
            ]
            cached = self._runs_cache = (order, runs)
        return cached

    def _grouped_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features with columns in the lexicographic order of the multi-indices.

        Returns ``(F, order, K)`` with ``F[:, j] = features(x)[:, order[j]]`` (the
        transpose of a C-ordered array, like :meth:`features`) and
        ``K = (F**2).sum(1)``: each run of :meth:`_runs` is one broadcast product
        of a row of the first ``d - 1`` tables with a block of rows of the last
        one, written contiguously (no gather), and adds ``prefix**2`` times a
        difference of cumulative sums of the squared last table to ``K``. For
        samplers whose law does not depend on the order of the features (the
        projection DPP). The one-dimensional tables can be evaluated once for
        many points (:meth:`_grouped_tables`) and assembled for slices of them
        (:meth:`_grouped_assemble`).
        """
        F, K = self._grouped_assemble(self._grouped_tables(x))
        return F, self._runs()[0], K

    def _grouped_tables(self, x: np.ndarray) -> list[np.ndarray]:
        """The one-dimensional tables of :meth:`_grouped_features`, one row per degree
        and one column per point, and last the cumulative sums of the squared last
        table (with a leading row of zeros)."""
        tables = [
            fam._eval_rows(fam.measure.to_standard(x[:, i]), int(self._maxdeg[i]))
            for i, fam in enumerate(self.families)
        ]
        last = tables[-1]
        cum = np.zeros((last.shape[0] + 1, len(x)))
        np.cumsum(last * last, axis=0, out=cum[1:])
        return tables + [cum]

    def _grouped_assemble(self, tables: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(F, K)`` of :meth:`_grouped_features` from (column slices of) its tables (the
        runs' prefix products formed once for both)."""
        pres = self._prefixes(tables[:-1])
        return self._grouped_products(tables, pres=pres), self._grouped_christoffel(tables, pres)

    def _prefixes(self, tabs: list[np.ndarray]) -> list[np.ndarray | None]:
        """Per run of :meth:`_runs`, the product of its first ``d - 1`` one-dimensional
        values at every point (None for ``d = 1``)."""
        return [_prefix_product(tabs, prefix) if prefix else None for *_, prefix in self._runs()[1]]

    def _grouped_products(
        self,
        tables: list[np.ndarray],
        dtype: type[np.floating[Any]] = np.float64,
        pres: list[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """The features ``F`` of :meth:`_grouped_assemble` alone, as the transpose of a C
        array: per run, a row of prefix products times a block of rows of the last table.
        With ``dtype=np.float32`` the tables are rounded once and the products formed in
        single precision."""
        *tabs, _ = tables
        if dtype is not np.float64:
            tabs = [t.astype(dtype) for t in tabs]
        if pres is None:
            pres = self._prefixes(tabs)
        last = tabs[-1]
        out = np.empty((self.m, last.shape[1]), dtype=dtype)
        for (a, b, d0, _), pre in zip(self._runs()[1], pres):
            if pre is None:
                out[a:b] = last[d0 : d0 + b - a]
            else:
                np.multiply(pre, last[d0 : d0 + b - a], out=out[a:b])
        return out.T

    def _grouped_christoffel(
        self, tables: list[np.ndarray], pres: list[np.ndarray | None] | None = None
    ) -> np.ndarray:
        """``K_m`` of :meth:`_grouped_assemble` alone, from the cumulative sums of the
        squared last table (no features)."""
        *tabs, cum = tables
        if pres is None:
            pres = self._prefixes(tabs)
        K = np.zeros(tabs[-1].shape[1])
        for (a, b, d0, _), pre in zip(self._runs()[1], pres):
            sq = cum[d0 + b - a] - cum[d0]
            K += sq if pre is None else pre * pre * sq
        return K

    def sample_optimal_points(
        self, n: int, *, rng: SeedLike = None, budget: int | None = None
    ) -> np.ndarray:
        """Draw ``n`` i.i.d. points from :math:`\rho = (K_m/m)\\,\\mu` (exact mixture sampler).

        Large ``n`` is drawn in chunks of 65536 points, so that Ctrl-C is
        honoured between chunks.

        Parameters
        ----------
        n : int
            Number of points (within the 2 GiB memory guard).
        rng : numpy.random.Generator, int or None
            Random source.
        budget : int, optional
            Proposals of each coordinate's rejection sampler per chunk (default
            ``1000 n + 10000``); exceeding it raises :class:`ProposalBudgetError`.

        Returns
        -------
        ndarray of shape (n, dim)

        Examples
        --------
        >>> from sciddm.leastsquares import Hermite, TensorBasis, total_degree
        >>> TensorBasis(Hermite(), total_degree(3, 2)).sample_optimal_points(4, rng=0).shape
        (4, 3)
        """
        n = check_size(check_int(n, "n", lo=0), "n", per_item=self.m + self.dim + 1)
        if budget is not None:
            budget = check_int(budget, "budget", lo=1)
        g = as_generator(rng)
        x = np.empty((n, self.dim))
        for s in range(0, n, CHUNK):  # one chunk (and the same stream) for n <= CHUNK
            k = min(CHUNK, n - s)
            alphas = self.index_set[g.integers(self.m, size=k)]
            for i, fam in enumerate(self.families):
                x[s : s + k, i] = fam.sample_squared_many(alphas[:, i], rng=g, budget=budget)
        return x


class DiscreteBasis(Basis):
    r"""An orthonormal feature map on a :class:`DiscreteMeasure`.

    Parameters
    ----------
    features : callable
        Maps points ``(n, d)`` to features ``(n, m)``.
    measure : DiscreteMeasure
        The measure :math:`\mu = \sum_i q_i \delta_{x_i}`.
    check : bool, default True
        Verify orthonormality on the nodes,
        :math:`\sum_i q_i \varphi(x_i)\varphi(x_i)^\top = I` to 1e-8.
        Use :func:`orthonormalize` for a feature map that is not orthonormal.

    Attributes
    ----------
    measure : DiscreteMeasure
        The measure.
    m, dim : int
        Number of features and dimension.
    node_features : ndarray of shape (N, m)
        :math:`\varphi` at the nodes.

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
    ) -> None:
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
        return self.measure.nodes[self.sample_optimal_nodes(n, rng=rng)]

    def optimal_probabilities(self) -> np.ndarray:
        """The optimal density on the nodes, :math:`\rho_i = q_i K_m(x_i) / m`.

        Returns
        -------
        ndarray of shape (N,)
            Probabilities summing to 1.
        """
        K = np.einsum("ij,ij->i", self.node_features, self.node_features)
        p = self.measure.weights * K / self.m
        return p / p.sum()

    def sample_optimal_nodes(self, n: int, *, rng: SeedLike = None) -> np.ndarray:
        """Indices of ``n`` i.i.d. nodes drawn from the optimal density :math:`\rho`.

        Parameters
        ----------
        n : int
            Number of draws (in chunks of 65536, so that Ctrl-C is honoured).
        rng : numpy.random.Generator, int or None
            Random source.

        Returns
        -------
        ndarray of int, shape (n,)
        """
        n = check_size(check_int(n, "n", lo=0), "n", per_item=self.m + self.dim + 1)
        g = as_generator(rng)
        p = self.optimal_probabilities()
        N = len(self.measure.nodes)
        if n <= CHUNK:
            return g.choice(N, size=n, p=p)
        out = np.empty(n, dtype=np.intp)
        for s in range(0, n, CHUNK):
            k = min(CHUNK, n - s)
            out[s : s + k] = g.choice(N, size=k, p=p)
        return out


class _Orthonormalized:
    def __init__(self, features: Callable[[np.ndarray], Any], Rinv: np.ndarray) -> None:
        self.features = features
        self.Rinv = Rinv

    def __call__(self, x: np.ndarray) -> np.ndarray:
        F = np.asarray(self.features(x), dtype=float)
        return (F.reshape(len(x), -1)) @ self.Rinv


def orthonormalize(
    features: Callable[[np.ndarray], Any], measure: DiscreteMeasure, *, rtol: float = 1e-10
) -> DiscreteBasis:
    r"""Orthonormalise any feature map in :math:`L^2(\mu)` for a discrete measure :math:`\mu`.

    With :math:`F_{ij} = f_j(x_i)` and :math:`Q = \operatorname{diag}(\sqrt q)`
    the thin QR factorisation :math:`QF = UR` gives
    :math:`\varphi(x) = f(x) R^{-1}`, orthonormal in :math:`L^2(\mu)` and spanning
    the same space. This is the route for splines, wavelets or learned features.

    Parameters
    ----------
    features : callable
        Maps points ``(n, d)`` to ``(n, m)``.
    measure : DiscreteMeasure
        The measure.
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
    rtol = check_scalar(rtol, "rtol", lo=0, hi=1, closed="left")
    try:
        F = np.asarray(features(measure.nodes), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`features` did not return a numeric array: {exc}") from exc
    if F.ndim not in (1, 2) or F.shape[0] != len(measure.nodes) or F.size == 0:
        raise ValueError(f"`features` must return an array of shape (n, m), got {F.shape}")
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
