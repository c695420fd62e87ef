"""Exact samplers for weighted least squares: i.i.d. optimal, projection DPP,
volume-rescaled, generalized volume, repeated DPP, conditioned and best-of-M.

Every sampler returns a :class:`Design`: the points, the weights w = dμ/dρ'
of the density ρ' each point's marginal was drawn from (w = m/K_m for the
optimal density ρ = (K_m/m)·μ), the number of proposals it used, and (on
access) the deviation ‖G − I‖₂ of the empirical Gram matrix G = ΨᵀΨ/n,
Ψ_ij = √w_i φ_j(x_i).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np
from scipy.linalg import solve_triangular as _solve_triangular
from scipy.linalg.blas import dger as _dger

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_choice, check_int, check_scalar

from ._bases import Basis, DiscreteBasis, _basis_iv
from ._polynomials import ProposalBudgetError

__all__ = [
    "Design",
    "gram_matrix",
    "sample_best_of",
    "sample_conditioned",
    "sample_design",
    "sample_generalized_volume",
    "sample_optimal",
    "sample_projection_dpp",
    "sample_repeated_dpp",
    "sample_volume",
]

_SWITCH = 0.8  # fraction of m after which residuals use the complement basis
_SWITCH_MIN_M = 64  # smaller spaces stay with the accepted-span basis throughout

METHODS = ("iid", "dpp", "volume", "generalized_volume", "repeated_dpp", "uniform")


@dataclasses.dataclass(frozen=True, repr=False)
class Design(Result):
    """A random design for weighted least squares.

    Attributes
    ----------
    points : ndarray, shape (n, d)
    weights : ndarray, shape (n,)
        w(x_i) = dμ/dρ'(x_i) for the density ρ' of the point's marginal
        (m/K_m(x_i) for the optimal density).
    features : ndarray, shape (n, m)
        φ(x_i).
    method : str
    n_proposals : int
        Proposals examined by the accept/reject steps (equals n for i.i.d.
        sampling; m·H_m on average for the projection DPP's rejection chain
        rule; m for a discrete measure). Proposals drawn in a batch but never
        examined are not counted.
    node_indices : ndarray or None
        Indices of the points among the nodes of a discrete measure.
    """

    points: np.ndarray
    weights: np.ndarray
    features: np.ndarray = dataclasses.field(repr=False)
    method: str
    n_proposals: int
    node_indices: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.points)

    @functools.cached_property
    def gram_deviation(self) -> float:
        """‖G − I‖₂ (computed on first access)."""
        G = self.gram()
        lam = np.linalg.eigvalsh(G)
        return float(max(abs(lam[0] - 1.0), abs(lam[-1] - 1.0)))

    def gram(self) -> np.ndarray:
        """G = ΨᵀΨ / n."""
        return gram_matrix(self.features, self.weights)


def gram_matrix(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Empirical Gram matrix G = (1/n) Σ_i w_i φ(x_i)φ(x_i)ᵀ.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import gram_matrix
    >>> gram_matrix(np.eye(2), np.array([2.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    F = np.asarray(features, float)
    w = np.asarray(weights, float)
    return (F.T * w) @ F / len(F)


def _design(
    basis: Basis,
    x: np.ndarray,
    F: np.ndarray,
    w: np.ndarray,
    method: str,
    n_prop: int,
    nodes: np.ndarray | None = None,
) -> Design:
    return Design(
        points=x,
        weights=w,
        features=F,
        method=method,
        n_proposals=int(n_prop),
        node_indices=nodes,
    )


def _optimal_weights(basis: Basis, F: np.ndarray) -> np.ndarray:
    return basis.m / np.einsum("ij,ij->i", F, F)


def _iid(basis: Basis, n: int, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Any]:
    if isinstance(basis, DiscreteBasis):
        idx = basis.sample_optimal_nodes(n, rng=g)
        return basis.measure.nodes[idx], basis.node_features[idx], idx
    x = basis.sample_optimal_points(n, rng=g)
    return x, basis.features(x), None


def sample_optimal(basis: Basis, n: int, *, rng: SeedLike = None) -> Design:
    r"""``n`` i.i.d. points from the optimal density ρ = (K_m/m)·μ.

    Parameters
    ----------
    basis : Basis
        An L²(μ)-orthonormal basis (:class:`TensorBasis`, :class:`DiscreteBasis`).
    n : int
        Number of points, n ≥ 1.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    Design
        Weights w = m/K_m; ``n_proposals = n``.

    Notes
    -----
    ρ is a mixture, ρ = (1/m) Σ_j φ_j² dμ; for a tensor basis each component is a
    product of one-dimensional densities p_k² dμ_i, each sampled exactly. With
    n ≥ c m log(m/ε), P(‖G − I‖₂ > 1/2) ≤ ε (matrix Chernoff).

    References
    ----------
    .. [1] A. Cohen, G. Migliorati, "Optimal weighted least-squares methods",
       SMAI J. Comput. Math. 3 (2017), Thm 2.1.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_optimal, total_degree
    >>> d = sample_optimal(TensorBasis(Legendre(), total_degree(2, 3)), 40, rng=0)
    >>> d.points.shape, d.n_proposals
    ((40, 2), 40)
    """
    basis = _basis_iv(basis)
    n = check_int(n, "n", lo=1)
    x, F, idx = _iid(basis, n, as_generator(rng))
    return _design(basis, x, F, _optimal_weights(basis, F), "iid", n, idx)


def _orth_residual(Qt: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v − QQᵀv for Q = Qtᵀ (rows of Qt orthonormal), two passes of classical
    Gram–Schmidt (CGS2)."""
    r = v - (Qt @ v) @ Qt
    return r - (Qt @ r) @ Qt


def _dpp_discrete(basis: DiscreteBasis, g: np.random.Generator) -> tuple[np.ndarray, int]:
    F = basis.node_features
    q = basis.measure.weights
    m = basis.m
    r2 = np.einsum("ij,ij->i", F, F)
    Qt = np.empty((m, m))
    chosen = np.empty(m, dtype=int)
    for k in range(m):
        p = q * np.maximum(r2, 0.0)
        p[chosen[:k]] = 0.0
        i = int(g.choice(len(p), p=p / p.sum()))
        chosen[k] = i
        v = _orth_residual(Qt[:k], F[i])
        Qt[k] = v / np.linalg.norm(v)
        r2 -= (F @ Qt[k]) ** 2
    return chosen, m


def _complement_basis(Qt: np.ndarray, m: int) -> np.ndarray:
    """Rows: an orthonormal basis of the orthogonal complement of the rows of Qt."""
    k = Qt.shape[0]
    A = np.random.default_rng(12345).standard_normal((m, m - k))  # any full-rank sketch works
    for _ in range(2):
        A -= Qt.T @ (Qt @ A)
        A = np.linalg.qr(A)[0]
    return np.ascontiguousarray(A.T)


def _flush(Qt: np.ndarray, k0: int, pend: list[tuple[np.ndarray, np.ndarray, float]]) -> int:
    """Write the pending accepted directions as explicit rows k0.. of Qt (BLAS-3).

    Pending direction j is q_j = (φ_j − Σ_{l<k0+j} c_jl q_l) / ν_j, so the block
    Q_P solves L Q_P = Φ_P − C_old Q_old with L lower triangular (diagonal ν).
    """
    p = len(pend)
    if p == 0:
        return k0
    Phi = np.array([e[0] for e in pend])
    C_old = np.array([e[1][:k0] for e in pend])
    L = np.zeros((p, p))
    for j, (_, c, nv) in enumerate(pend):
        L[j, :j] = c[k0 : k0 + j]
        L[j, j] = nv
    V = Phi - C_old @ Qt[:k0] if k0 else Phi
    QP = _solve_triangular(L, V, lower=True)
    if np.max(np.abs(QP @ QP.T - np.eye(p))) > 1e-10:  # pragma: no cover - rare cancellation
        for _ in range(2):
            QP -= (QP @ Qt[:k0].T) @ Qt[:k0]
            Qf, R = np.linalg.qr(QP.T)
            QP = (Qf * np.sign(np.diag(R))).T
    Qt[k0 : k0 + p] = QP
    pend.clear()
    return k0 + p


def _dpp_continuous(
    basis: Basis, g: np.random.Generator, budget: int, batch: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    m = basis.m
    # k < switch: rows of Qt span the accepted features (residual = K - |Qt phi|^2);
    # new directions are kept implicit (coefficients only) and written as explicit
    # rows in blocks, with one matrix-matrix product, when a new batch is drawn.
    # k >= switch: rows of Zt span the complement (residual = |Zt phi|^2).
    switch = int(_SWITCH * m) if m >= _SWITCH_MIN_M else m
    Qt = np.empty((m, m))
    k0 = 0
    pend: list[tuple[np.ndarray, np.ndarray, float]] = []
    Zt: np.ndarray | None = None
    xs = np.empty((m, basis.dim))
    Fs = np.empty((m, m))
    k = 0
    used = 0
    examined = 0
    px = np.empty((0, basis.dim))
    pF = np.empty((0, m))
    pK = np.empty(0)
    pr2 = np.empty(0)
    pY = np.empty((0, 0))
    pC = np.empty((0, m))  # coefficients of pool rows on the directions q_0..q_{k-1}
    while k < m:
        if k == switch and Zt is None:
            k0 = _flush(Qt, k0, pend)
            Zt = _complement_basis(Qt[:k], m)
            pY = pF @ Zt.T
            pr2 = np.einsum("ij,ij->i", pY, pY)
        if pF.shape[0] == 0:
            if batch is None:
                s = min(m - k, 32)
                expect = sum(m / (m - k - i) for i in range(s))
                B = int(min(2048, max(16, math.ceil(1.1 * expect))))
            else:
                B = batch
            if used + B > budget:
                B = budget - used
                if B <= 0:
                    raise ProposalBudgetError(
                        f"projection DPP used its budget of {budget} proposals with {k}/{m} "
                        "points accepted; increase `max_proposals`"
                    )
            px = basis.sample_optimal_points(B, rng=g)
            pF = basis.features(px)
            pK = np.einsum("ij,ij->i", pF, pF)
            if Zt is not None:
                pY = pF @ Zt.T
                pr2 = np.einsum("ij,ij->i", pY, pY)
            else:
                k0 = _flush(Qt, k0, pend)
                pC = np.empty((B, m))
                if k:
                    pC[:, :k] = pF @ Qt[:k].T
                    pr2 = pK - np.einsum("ij,ij->i", pC[:, :k], pC[:, :k])
                else:
                    pr2 = pK.copy()
            used += B
        u = g.random(pF.shape[0])
        acc = u * pK < pr2
        if not acc.any():
            examined += pF.shape[0]
            px, pF, pK, pr2, pY, pC = px[:0], pF[:0], pK[:0], pr2[:0], pY[:0], pC[:0]
            continue
        i = int(np.argmax(acc))
        examined += i + 1
        xs[k] = px[i]
        Fs[k] = pF[i]
        if Zt is None:
            c = pC[i, :k].copy()
            nv = math.sqrt(pr2[i])
            pend.append((pF[i].copy(), c, nv))
            phi = pF[i]
            px, pF, pK, pr2, pC = px[i + 1 :], pF[i + 1 :], pK[i + 1 :], pr2[i + 1 :], pC[i + 1 :]
            if pF.shape[0]:
                col = (pF @ phi - pC[:, :k] @ c) / nv
                pC[:, k] = col
                pr2 = pr2 - col * col
            k += 1
        else:
            # Householder H maps the accepted residual direction c to ±e_1; the
            # rows 2.. of H Zt span the complement of the enlarged span.
            c = pY[i] / np.sqrt(pr2[i])
            sgn = -1.0 if c[0] > 0 else 1.0
            h = c.copy()
            h[0] -= sgn
            h /= np.linalg.norm(h)
            # in-place rank-one update Zt <- (I - 2 h h^T) Zt (BLAS dger on the
            # Fortran-ordered transpose), then drop the row spanned by the new point
            _dger(-2.0, h @ Zt, h, a=Zt.T, overwrite_a=True)
            Zt = Zt[1:]
            k += 1
            px, pF, pK, pY = px[i + 1 :], pF[i + 1 :], pK[i + 1 :], pY[i + 1 :]
            if pF.shape[0]:
                pY = pY - np.outer(pY @ (2.0 * h), h)
                pY = pY[:, 1:]
                pr2 = np.einsum("ij,ij->i", pY, pY)
            else:
                pr2 = pr2[:0]
    return xs, Fs, examined


def _default_budget(m: int) -> int:
    return int(50 * m * (math.log(m) + 1) + 10_000)


def _dpp_points(basis: Basis, g: np.random.Generator, max_proposals: int | None, batch: int | None):
    """Unpermuted chain-rule draw: points, features, proposals, node indices."""
    if isinstance(basis, DiscreteBasis):
        idx, used = _dpp_discrete(basis, g)
        return basis.measure.nodes[idx], basis.node_features[idx], used, idx
    budget = _default_budget(basis.m) if max_proposals is None else max_proposals
    x, F, used = _dpp_continuous(basis, g, budget, batch)
    return x, F, used, None


def sample_projection_dpp(
    basis: Basis,
    *,
    rng: SeedLike = None,
    max_proposals: int | None = None,
    batch_size: int | None = None,
) -> Design:
    r"""Exact sample of the projection DPP with kernel K(x, y) = Σ_j φ_j(x)φ_j(y).

    m = ``basis.m`` points with joint density det(φ_j(x_i))² / m! w.r.t. μ^{⊗m}.

    Parameters
    ----------
    basis : Basis
    rng : numpy.random.Generator, int or None
    max_proposals : int, optional
        Proposal budget of the rejection chain rule (continuous measures); by
        default 50 m (log m + 1) + 10⁴, about 50 times the expected m·H_m.
        Exceeding it raises :class:`ProposalBudgetError`, never returns a point
        that was not accepted.
    batch_size : int, optional
        Proposals drawn per batch (default: adapted to the expected number of
        proposals of the next 32 acceptances).

    Returns
    -------
    Design
        Points in uniformly random order (so each has marginal ρ = K_m/m·μ),
        weights m/K_m, ``n_proposals``.

    Notes
    -----
    Chain rule (Hough et al. 2006, Alg. 18): given accepted points with
    feature span Q (orthonormal columns, k of them), the next point has density
    ‖(I − QQᵀ)φ(x)‖² / (m − k) dμ. It is drawn by rejection from ρ: propose
    x ~ ρ and accept with probability ‖(I − QQᵀ)φ(x)‖²/‖φ(x)‖² ≤ 1; the expected
    number of proposals is Σ_k m/(m − k) = m·H_m.

    Implementation: proposals are drawn in batches and projected on the k
    accepted directions with one matrix–matrix product (BLAS-3); after an
    acceptance the remaining proposals of the batch are updated by one projection
    onto the new direction (O(m) each), never by a re-factorisation, and
    unexamined proposals stay valid because they are i.i.d. and independent of
    the past. The new direction is kept implicitly (its coefficients) and written
    out, block by block, with one matrix–matrix product when the next batch is
    drawn. For m ≥ 64, once k = 0.8 m directions are accepted, one orthonormal
    basis Z of their complement is computed (a single sketch-and-QR), residuals
    become ‖Zᵀφ(x)‖² (a projection onto m − k < k vectors, without cancellation)
    and each acceptance updates Z by one Householder reflection. The
    chain-rule flop count drops from about m³(H_m − 1) to about 2m³.
    For a discrete measure the residual density on the nodes is sampled
    directly (m steps, no rejection).

    References
    ----------
    .. [1] J. B. Hough, M. Krishnapur, Y. Peres, B. Virág, "Determinantal processes
       and independence", Probab. Surveys 3 (2006), Alg. 18.
    .. [2] G. Gautier, R. Bardenet, M. Valko, "On two ways to use determinantal point
       processes for Monte Carlo integration", NeurIPS 2019.
    .. [3] A. Nouy, B. Michel, arXiv:2312.14057, §3.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_projection_dpp, total_degree
    >>> d = sample_projection_dpp(TensorBasis(Legendre(), total_degree(2, 4)), rng=0)
    >>> d.points.shape, d.n_proposals >= 15
    ((15, 2), True)
    """
    basis = _basis_iv(basis)
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", lo=1)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", lo=1)
    g = as_generator(rng)
    x, F, used, idx = _dpp_points(basis, g, max_proposals, batch_size)
    perm = g.permutation(basis.m)
    idx = None if idx is None else idx[perm]
    return _design(basis, x[perm], F[perm], _optimal_weights(basis, F[perm]), "dpp", used, idx)


def _base_iv(basis: Basis, base: Any) -> Any:
    if isinstance(base, str):
        return check_choice(base, "base", ("optimal", "measure"))
    if isinstance(base, Basis):
        if base.measure is not basis.measure and repr(base.measure) != repr(basis.measure):
            raise ValueError("`base` must be a Basis on the same measure as `basis`")
        return base
    raise ValueError(f"`base` must be 'optimal', 'measure' or a Basis, got {base!r}")


def _base_draw(basis: Basis, base: Any, n: int, g: np.random.Generator):
    """n i.i.d. points from ρ', their φ features and weights dμ/dρ'."""
    if base == "optimal":
        x, F, idx = _iid(basis, n, g)
        return x, F, _optimal_weights(basis, F), idx
    if base == "measure":
        if isinstance(basis, DiscreteBasis):
            idx = g.choice(len(basis.measure.nodes), size=n, p=basis.measure.weights)
            return basis.measure.nodes[idx], basis.node_features[idx], np.ones(n), idx
        x = basis.measure.sample(n, rng=g)
        return x, basis.features(x), np.ones(n), None
    x, _, idx = _iid(base, n, g)
    return x, basis.features(x), base.weight(x), idx


def sample_generalized_volume(
    basis: Basis,
    n: int,
    *,
    base: Any = "optimal",
    rng: SeedLike = None,
    max_proposals: int | None = None,
) -> Design:
    r"""Generalized volume-rescaled sampling of n ≥ m points for a base density ρ'.

    Density on X^n w.r.t. ρ'^{⊗n}: det(Ψᵀ Ψ) (n − m)!/n!, with
    Ψ_ij = √w'(x_i) φ_j(x_i) and w' = dμ/dρ'.

    Parameters
    ----------
    basis : Basis
    n : int
        Number of points, n ≥ m.
    base : {"optimal", "measure"} or Basis, default "optimal"
        ρ': the optimal density K_m/m·μ (plain volume-rescaled sampling), μ
        itself, or the optimal density K_M/M·μ of another basis (e.g. a larger
        space V_M ⊃ V_m) on the same measure.
    rng : numpy.random.Generator, int or None
    max_proposals : int, optional
        Budget of the projection-DPP part (see :func:`sample_projection_dpp`).

    Returns
    -------
    Design
        Weights are w' = dμ/dρ' at every point.

    Notes
    -----
    By Cauchy–Binet, det(ΨᵀΨ) = Σ_{|S|=m} det(Ψ_S)², and
    det(Ψ_S)² Π_{i∈S} ρ'(x_i) = det(Φ_S)² Π_{i∈S} μ(x_i), which does not
    depend on ρ'. So the law is a uniform mixture over the positions S of a
    projection DPP (m points) and n − m i.i.d. points from ρ': sample those and
    permute uniformly. E det(ΨᵀΨ) = n!/(n − m)! for every ρ'.

    The text of Nouy & Michel (arXiv:2312.14057, §4–5) could not be consulted
    when this was written; this is the natural generalisation of volume-rescaled
    sampling (Dereziński et al.) to any base density ρ' ≪ μ, which reduces to
    :func:`sample_volume` for ρ' = ρ. See ``theory/14_generalized_volume_sampling.md``.

    References
    ----------
    .. [1] M. Dereziński, M. K. Warmuth, D. Hsu, "Unbiased estimators for random
       design regression", JMLR 23 (2022).
    .. [2] A. Nouy, B. Michel, arXiv:2312.14057.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_generalized_volume, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 3))
    >>> d = sample_generalized_volume(b, 6, base="measure", rng=0)
    >>> d.points.shape, sorted(set(d.weights.tolist()))
    ((6, 1), [1.0])
    """
    basis = _basis_iv(basis)
    n = check_int(n, "n", lo=basis.m)
    base = _base_iv(basis, base)
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", lo=1)
    g = as_generator(rng)
    x1, F1, used, idx1 = _dpp_points(basis, g, max_proposals, None)
    if isinstance(base, str) and base == "optimal":
        w1 = _optimal_weights(basis, F1)
    elif isinstance(base, str):
        w1 = np.ones(len(x1))
    else:
        w1 = base.weight(x1)
    x2, F2, w2, idx2 = _base_draw(basis, base, n - basis.m, g)
    x = np.concatenate([x1, x2])
    F = np.concatenate([F1, F2])
    w = np.concatenate([w1, w2])
    perm = g.permutation(n)
    idx = None
    if idx1 is not None:
        idx = np.concatenate([idx1, np.asarray(idx2, dtype=int)])[perm]
    method = "volume" if isinstance(base, str) and base == "optimal" else "generalized_volume"
    return _design(basis, x[perm], F[perm], w[perm], method, used + n - basis.m, idx)


def sample_volume(
    basis: Basis, n: int, *, rng: SeedLike = None, max_proposals: int | None = None
) -> Design:
    r"""Volume-rescaled sampling of n ≥ m points from the optimal density ρ.

    Density det(ΨᵀΨ)(n − m)!/n! w.r.t. ρ^{⊗n}; sampled exactly as a projection
    DPP of size m plus n − m i.i.d. points from ρ, uniformly permuted. The
    weighted least-squares estimator is then unbiased and, for n = m,
    E‖f − f̂‖² = (m + 1)‖f − P_m f‖².

    References
    ----------
    .. [1] M. Dereziński, M. K. Warmuth, D. Hsu, "Unbiased estimators for random
       design regression", JMLR 23 (2022), Thm 2.
    .. [2] A. Nouy, B. Michel, arXiv:2312.14057, §4.

    Examples
    --------
    >>> from sciddm.leastsquares import Hermite, TensorBasis, sample_volume, total_degree
    >>> sample_volume(TensorBasis(Hermite(), total_degree(1, 4)), 8, rng=1).points.shape
    (8, 1)
    """
    return sample_generalized_volume(basis, n, base="optimal", rng=rng, max_proposals=max_proposals)


def sample_repeated_dpp(
    basis: Basis, r: int, *, rng: SeedLike = None, max_proposals: int | None = None
) -> Design:
    """r independent projection DPPs, n = r·m points (Nouy & Michel, §5).

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_repeated_dpp, total_degree
    >>> sample_repeated_dpp(TensorBasis(Legendre(), total_degree(1, 4)), 3, rng=0).points.shape
    (15, 1)
    """
    basis = _basis_iv(basis)
    r = check_int(r, "r", lo=1)
    g = as_generator(rng)
    parts = [sample_projection_dpp(basis, rng=g, max_proposals=max_proposals) for _ in range(r)]
    idx = None
    if parts[0].node_indices is not None:
        idx = np.concatenate([p.node_indices for p in parts])  # type: ignore[misc]
    return _design(
        basis,
        np.concatenate([p.points for p in parts]),
        np.concatenate([p.features for p in parts]),
        np.concatenate([p.weights for p in parts]),
        "repeated_dpp",
        sum(p.n_proposals for p in parts),
        idx,
    )


def _uniform(basis: Basis, n: int, g: np.random.Generator) -> Design:
    x, F, w, idx = _base_draw(basis, "measure", n, g)
    return _design(basis, x, F, w, "uniform", n, idx)


def sample_design(
    basis: Basis,
    n: int,
    *,
    method: str = "iid",
    rng: SeedLike = None,
    max_proposals: int | None = None,
) -> Design:
    """Dispatch to a sampler by name.

    ``method`` is one of ``"iid"`` (optimal i.i.d.), ``"dpp"`` (n = m),
    ``"volume"`` (n ≥ m), ``"generalized_volume"`` (n ≥ m, base μ),
    ``"repeated_dpp"`` (n a multiple of m) and ``"uniform"`` (i.i.d. from μ,
    weights 1: the plain least-squares baseline).

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_design, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 2))
    >>> sample_design(b, 6, method="repeated_dpp", rng=0).n
    6
    >>> sample_design(b, 4, method="dpp", rng=0)
    Traceback (most recent call last):
    ...
    ValueError: `n` must equal m = 3 for method='dpp', got 4
    """
    basis = _basis_iv(basis)
    method = check_choice(method, "method", METHODS)
    n = check_int(n, "n", lo=1)
    g = as_generator(rng)
    m = basis.m
    if method in ("volume", "generalized_volume", "repeated_dpp") and n < m:
        raise ValueError(f"`n` must be >= m = {m} for method={method!r}, got {n}")
    if method == "iid":
        return sample_optimal(basis, n, rng=g)
    if method == "uniform":
        return _uniform(basis, n, g)
    if method == "dpp":
        if n != m:
            raise ValueError(f"`n` must equal m = {m} for method='dpp', got {n}")
        return sample_projection_dpp(basis, rng=g, max_proposals=max_proposals)
    if method == "volume":
        return sample_volume(basis, n, rng=g, max_proposals=max_proposals)
    if method == "generalized_volume":
        return sample_generalized_volume(
            basis, n, base="measure", rng=g, max_proposals=max_proposals
        )
    if n % m:
        raise ValueError(f"`n` must be a multiple of m = {m} for method='repeated_dpp', got {n}")
    return sample_repeated_dpp(basis, n // m, rng=g, max_proposals=max_proposals)


def sample_conditioned(
    basis: Basis,
    n: int,
    *,
    method: str = "iid",
    delta: float = 0.5,
    max_draws: int = 1000,
    rng: SeedLike = None,
) -> Design:
    r"""Redraw a design until ‖G − I‖₂ ≤ δ (conditioned sampling).

    The result is an exact draw of ``method``'s design conditioned on the event
    ‖G − I‖₂ ≤ δ; ``n_proposals`` sums the proposals of all draws.

    Parameters
    ----------
    basis, n, method
        As in :func:`sample_design`.
    delta : float in (0, 1), default 0.5
    max_draws : int, default 1000
        More draws raise :class:`ProposalBudgetError`.

    References
    ----------
    .. [1] A. Cohen, G. Migliorati (2017), §2 (conditioned estimator);
       A. Nouy, B. Michel, arXiv:2312.14057, §2.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_conditioned, total_degree
    >>> d = sample_conditioned(TensorBasis(Legendre(), total_degree(1, 3)), 40, delta=0.5, rng=0)
    >>> d.gram_deviation <= 0.5
    True
    """
    delta = check_scalar(delta, "delta", lo=0, hi=1, closed="neither")
    max_draws = check_int(max_draws, "max_draws", lo=1)
    g = as_generator(rng)
    total = 0
    for _ in range(max_draws):
        d = sample_design(basis, n, method=method, rng=g)
        total += d.n_proposals
        if d.gram_deviation <= delta:
            return dataclasses.replace(d, n_proposals=total, method=f"conditioned_{d.method}")
    raise ProposalBudgetError(
        f"no design with ||G - I|| <= {delta} in {max_draws} draws; increase `n` or `max_draws`"
    )


def sample_best_of(
    basis: Basis, n: int, *, method: str = "iid", n_draws: int = 10, rng: SeedLike = None
) -> Design:
    """The design with the smallest ‖G − I‖₂ among ``n_draws`` independent draws.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_best_of, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 3))
    >>> d = sample_best_of(b, 12, n_draws=5, rng=0)
    >>> d.method
    'best_of_5_iid'
    """
    n_draws = check_int(n_draws, "n_draws", lo=1)
    g = as_generator(rng)
    draws = [sample_design(basis, n, method=method, rng=g) for _ in range(n_draws)]
    best = min(draws, key=lambda d: d.gram_deviation)
    return dataclasses.replace(
        best,
        n_proposals=sum(d.n_proposals for d in draws),
        method=f"best_of_{n_draws}_{best.method}",
    )
