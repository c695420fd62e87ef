r"""Exact samplers for weighted least squares: i.i.d. optimal, projection DPP,
volume-rescaled, generalized volume, repeated DPP, conditioned and best-of-M.

Every sampler returns a :class:`Design`: the points, the weights
:math:`w = d\mu/d\rho'` of the density :math:`\rho'` each point's marginal was
drawn from (:math:`w = m/K_m` for the optimal density :math:`\rho = (K_m/m)\,\mu`),
the number of proposals it used, and (on access) the deviation
:math:`\|G - I\|_2` of the empirical Gram matrix :math:`G = \Psi^\top\Psi/n`,
:math:`\Psi_{ij} = \sqrt{w_i}\,\varphi_j(x_i)`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar

from ._bases import Basis, DiscreteBasis, _basis_iv
from ._dpp import dpp_points
from ._guards import check_size
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

METHODS = ("iid", "dpp", "volume", "generalized_volume", "repeated_dpp", "uniform")


@dataclasses.dataclass(frozen=True, repr=False)
class Design(Result):
    r"""A random design for weighted least squares (the result of every sampler).

    Attributes
    ----------
    points : ndarray, shape (n, d)
        The points :math:`x_i`.
    weights : ndarray, shape (n,)
        :math:`w(x_i) = d\mu/d\rho'(x_i)` for the density :math:`\rho'` of the
        point's marginal (:math:`m/K_m(x_i)` for the optimal density).
    features : ndarray, shape (n, m)
        :math:`\varphi(x_i)`.
    method : str
        The sampler (``"iid"``, ``"dpp"``, ``"volume"``, ...).
    n_proposals : int
        Proposals examined by the accept/reject steps (equals n for i.i.d.
        sampling; :math:`m H_m` on average for the projection DPP's rejection
        chain rule; m for a discrete measure). Proposals drawn in a batch but
        never examined are not counted.
    node_indices : ndarray or None
        Indices of the points among the nodes of a discrete measure.
    n : int
        Number of points (property).
    gram_deviation : float
        :math:`\|G - I\|_2` (property, computed on first access).

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_optimal, total_degree
    >>> d = sample_optimal(TensorBasis(Legendre(), total_degree(1, 3)), 200, rng=0)
    >>> d.n, d.gram().shape, bool(d.gram_deviation < 0.5)
    (200, (4, 4), True)
    """

    points: np.ndarray
    weights: np.ndarray
    features: np.ndarray = dataclasses.field(repr=False)
    method: str
    n_proposals: int
    node_indices: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.points)

    @functools.cached_property
    def gram_deviation(self) -> float:
        r""":math:`\|G - I\|_2` (computed on first access)."""
        G = self.gram()
        lam = np.linalg.eigvalsh(G)
        return float(max(abs(lam[0] - 1.0), abs(lam[-1] - 1.0)))

    def gram(self) -> np.ndarray:
        """The empirical Gram matrix :math:`G = \\Psi^\top\\Psi / n` (:func:`gram_matrix`).

        Returns
        -------
        ndarray of shape (m, m)
        """
        return gram_matrix(self.features, self.weights)


def gram_matrix(features: Any, weights: Any) -> np.ndarray:
    r"""Empirical Gram matrix :math:`G = \frac1n \sum_i w_i \varphi(x_i)\varphi(x_i)^\top`.

    Parameters
    ----------
    features : array_like of shape (n, m)
        :math:`\varphi(x_i)`, one row per point.
    weights : array_like of shape (n,)
        :math:`w_i`.

    Returns
    -------
    ndarray of shape (m, m)
        :math:`G`; :math:`\mathbb E[G] = I` for the designs of this module.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import gram_matrix
    >>> gram_matrix(np.eye(2), np.array([2.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    F = check_array(features, "features", ndim=2, min_rows=1)
    w = check_array(weights, "weights", ndim=1, shape=(F.shape[0],))
    with np.errstate(over="ignore", invalid="ignore"):
        G = (F.T * w) @ F / len(F)
    if not np.all(np.isfinite(G)):
        raise ValueError("`features` and `weights` overflow float64 in the Gram matrix; rescale")
    return G


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


def _check_n(basis: Basis, n: Any, name: str = "n", lo: int = 1) -> int:
    """``n`` as an int >= ``lo`` whose design (points, features, weight) fits the guard."""
    return check_size(check_int(n, name, lo=lo), name, per_item=basis.m + basis.dim + 1)


def sample_optimal(basis: Basis, n: int, *, rng: SeedLike = None) -> Design:
    r"""Draw ``n`` i.i.d. points from the optimal density :math:`\rho = (K_m/m)\,\mu`.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis (:class:`TensorBasis`,
        :class:`DiscreteBasis`).
    n : int
        Number of points, :math:`n \ge 1`. A design must fit in 2 GiB
        (:math:`n(m + d + 1)` float64 numbers); larger ``n`` raises at once.
        Points are drawn in chunks of 65536, so Ctrl-C is honoured.
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    Design
        Weights :math:`w = m/K_m`; ``n_proposals = n``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or the design would not fit the
        memory guard (the message gives the largest ``n`` that fits).

    Notes
    -----
    :math:`\rho` is a mixture, :math:`\rho = \frac1m \sum_j \varphi_j^2\,d\mu`;
    for a tensor basis each component is a product of one-dimensional densities
    :math:`p_k^2\,d\mu_i`, each sampled exactly. With
    :math:`n \ge c\, m \log(m/\varepsilon)`,
    :math:`P(\|G - I\|_2 > 1/2) \le \varepsilon` (matrix Chernoff).

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
    n = _check_n(basis, n)
    x, F, idx = _iid(basis, n, as_generator(rng))
    return _design(basis, x, F, _optimal_weights(basis, F), "iid", n, idx)


def sample_projection_dpp(
    basis: Basis,
    *,
    rng: SeedLike = None,
    max_proposals: int | None = None,
    batch_size: int | None = None,
) -> Design:
    r"""Exact sample of the projection DPP with kernel :math:`K(x, y) = \sum_j \varphi_j(x)\varphi_j(y)`.

    :math:`m` = ``basis.m`` points with joint density
    :math:`\det(\varphi_j(x_i))^2 / m!` with respect to :math:`\mu^{\otimes m}`.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    rng : numpy.random.Generator, int or None
        Random source.
    max_proposals : int, optional
        Proposal budget of the rejection chain rule (continuous measures); by
        default :math:`50 m (\log m + 1) + 10^4`, about 50 times the expected
        :math:`m H_m`. Exceeding it raises :class:`ProposalBudgetError`, never
        returns a point that was not accepted.
    batch_size : int, optional
        Proposals drawn per batch (default: adapted to the expected number of
        proposals of the next 32 acceptances).

    Returns
    -------
    Design
        Points in uniformly random order (so each has marginal
        :math:`\rho = (K_m/m)\,\mu`), weights :math:`m/K_m`, ``n_proposals``.

    Raises
    ------
    ProposalBudgetError
        When ``max_proposals`` proposals do not complete the chain.

    Notes
    -----
    Chain rule (Hough et al. 2006, Alg. 18): given accepted points whose
    features span :math:`Q` (orthonormal columns, :math:`k` of them), the next
    point has density :math:`\|(I - QQ^\top)\varphi(x)\|^2 / (m - k)\,d\mu`. It
    is drawn by rejection from :math:`\rho`: propose :math:`x \sim \rho` and
    accept with probability
    :math:`\|(I - QQ^\top)\varphi(x)\|^2/\|\varphi(x)\|^2 \le 1`; the expected
    number of proposals is :math:`\sum_k m/(m - k) = m H_m`.

    Implementation: proposals are drawn in pools. In the first phase the
    accepted points' Gram matrix :math:`(K(x_i, x_j))` has the lower Cholesky
    factor :math:`L`, whose row :math:`k` (the coefficients of accepted point
    :math:`k` on the earlier directions and the norm of its residual) is known
    at its acceptance, so a proposal's coefficients are
    :math:`c = L^{-1} k_x` with :math:`k_x = (K(x, x_1), \dots, K(x, x_k))` and
    no direction is ever written out. A pool is screened in blocks of 64
    accepted points (a kernel block, one product with the earlier coefficients
    and one with the inverse of a diagonal block of :math:`L`, all BLAS-3).
    After :math:`j` of them :math:`K_m(x) - \sum_{i \le j} c_i^2` bounds the
    residual from above, so a proposal whose bound already falls below its
    threshold :math:`u K_m(x)` is rejected there (it would be at this and every
    later step); the last block applies the exact test, so the screening
    changes no decision. Survivors keep their coefficients: an acceptance
    updates the rest of the pool by one column of the survivors' kernel matrix
    and one matrix-vector product, never by a re-factorisation, and unexamined
    proposals stay valid because they are i.i.d. and independent of the past.
    Kernel values come from the features, or, for a tensor basis whose
    multi-indices (in lexicographic order) fall into few runs sharing their
    range of last degrees (rectangular and near-rectangular index sets, such
    as DPPy's ordering), from separable factors,
    :math:`K(x, y) = \sum_g \big(\sum_{a \in P_g} p_a(x) p_a(y)\big)
    \big(\sum_{b \in R_g} p_b(x_d) p_b(y_d)\big)`: 72 numbers per point instead
    of 1000 features for DPPy's 1000 bivariate indices (used when they are at
    most :math:`m/4`). For :math:`m \ge 64`, once :math:`k = 0.85 m` points are
    accepted, one orthonormal basis :math:`Z` of the complement of their span
    is computed from :math:`L` and their features (the :math:`m - k` coordinate
    vectors of smallest leverage, estimated by a 32-row sketch, projected by two
    triangular solves and one product and orthonormalised by a QR; a Gaussian
    sketch when that selection is ill-conditioned), residuals become
    :math:`\|Z^\top\varphi(x)\|^2` (a projection onto :math:`m - k` vectors,
    without cancellation), each acceptance reflects the pool's coordinates by
    one Householder reflection and :math:`Z` receives the pending reflections
    as one block (compact WY form) when the next pool is drawn. For a tensor
    basis the second phase first projects a pool in single precision (features
    formed in float32 from the rounded tables, a float32 product with the
    rounded :math:`Z`): a rounding bound [4]_, :math:`\sqrt{m - k}\,
    2(\gamma_m + (2d + 2)\epsilon)\sqrt{K_m(x)}` on the error of the norm, with
    :math:`\epsilon = 2^{-24}` and :math:`\gamma_m = m\epsilon/(1 - m\epsilon)`, rejects the
    proposals whose residual is certainly below their threshold, and the others
    (about 3 % at :math:`m = 1000`) are projected in double precision, so every
    decision is the double-precision one. For a discrete
    measure the residual density on the nodes is sampled directly (:math:`m`
    steps, no rejection).

    Performance: nearly all the work is in matrix-matrix products. The first
    phase solves for the accepted points' coefficients (about
    :math:`0.85^3 m^3/6 \approx 0.1 m^3` multiply-adds) and screens the
    :math:`\approx m \ln(1/0.15)` proposals it draws, with kernel blocks of
    :math:`m` multiply-adds per pair from the features, or of the number of
    separable factors; the complement costs about :math:`0.24 m^3` (the solves
    and the product) and a QR of :math:`m \times 0.15 m`; the second phase
    projects its :math:`\approx m H_{0.15 m}` proposals (about :math:`0.15 m^3`);
    and all :math:`\approx m H_m` proposals are sampled and their features or
    factors assembled (:math:`O(m^2 \log m)`; for a tensor basis the
    one-dimensional tables are evaluated once per draw and assembled per pool).
    Measured (``benchmarks/bench_leastsquares.py``, DPPy's ordering of bivariate
    Legendre indices, one BLAS thread, CPU time): about 2.5-2.8 times one
    :math:`m \times m` matmul at :math:`m = 1000` and 1.7-1.9 times at
    :math:`m = 2000` (spread over runs on a shared 2-core machine). Without
    separable factors the kernel blocks cost what projections on written-out
    directions cost: a total-degree Legendre set of :math:`m = 990` takes about
    4.3 matmuls, a trivariate Hermite one of :math:`m = 969` about 7.

    References
    ----------
    .. [1] J. B. Hough, M. Krishnapur, Y. Peres, B. Virag, "Determinantal processes
       and independence", Probab. Surveys 3 (2006), Alg. 18.
    .. [2] G. Gautier, R. Bardenet, M. Valko, "On two ways to use determinantal point
       processes for Monte Carlo integration", NeurIPS 2019.
    .. [3] A. Nouy, B. Michel, "Weighted least-squares approximation with
       determinantal point processes and generalized volume sampling",
       arXiv:2312.14057, Sec. 3.
    .. [4] N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
       SIAM 2002, Sec. 3.1 and 3.5 (rounding error of inner and matrix products).

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
    x, F, used, idx = dpp_points(basis, g, max_proposals, batch_size)
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


def _base_draw(
    basis: Basis, base: Any, n: int, g: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """n i.i.d. points from rho', their phi features and weights d mu / d rho'."""
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
    r"""Generalized volume-rescaled sampling of :math:`n \ge m` points for a base density :math:`\rho'`.

    The density on :math:`X^n` with respect to :math:`\rho'^{\otimes n}` is
    :math:`\det(\Psi^\top\Psi)\,(n - m)!/n!`, with
    :math:`\Psi_{ij} = \sqrt{w'(x_i)}\,\varphi_j(x_i)` and :math:`w' = d\mu/d\rho'`.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    n : int
        Number of points, :math:`n \ge m` (within the 2 GiB memory guard).
    base : {"optimal", "measure"} or Basis, default "optimal"
        :math:`\rho'`: the optimal density :math:`(K_m/m)\,\mu` (plain
        volume-rescaled sampling), :math:`\mu` itself, or the optimal density
        :math:`(K_M/M)\,\mu` of another basis (e.g. a larger space
        :math:`V_M \supset V_m`) on the same measure.
    rng : numpy.random.Generator, int or None
        Random source.
    max_proposals : int, optional
        Budget of the projection-DPP part (see :func:`sample_projection_dpp`).

    Returns
    -------
    Design
        Weights are :math:`w' = d\mu/d\rho'` at every point.

    Notes
    -----
    By Cauchy-Binet, :math:`\det(\Psi^\top\Psi) = \sum_{|S|=m} \det(\Psi_S)^2`, and

    .. math:: \det(\Psi_S)^2 \prod_{i \in S} \rho'(x_i)
              = \det(\Phi_S)^2 \prod_{i \in S} \mu(x_i),

    which does not depend on :math:`\rho'`. So the law is a uniform mixture over
    the positions :math:`S` of a projection DPP (:math:`m` points) and
    :math:`n - m` i.i.d. points from :math:`\rho'`: sample those and permute
    uniformly. :math:`\mathbb E \det(\Psi^\top\Psi) = n!/(n - m)!` for every
    :math:`\rho'`.

    The text of Nouy & Michel (arXiv:2312.14057, Sec. 4-5) could not be
    consulted when this was written; this is the natural generalisation of
    volume-rescaled sampling (Derezinski et al.) to any base density
    :math:`\rho' \ll \mu`, which reduces to :func:`sample_volume` for
    :math:`\rho' = \rho`. See ``theory/14_generalized_volume_sampling.md``.

    References
    ----------
    .. [1] M. Derezinski, M. K. Warmuth, D. Hsu, "Unbiased estimators for random
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
    n = _check_n(basis, n, lo=basis.m)
    base = _base_iv(basis, base)
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", lo=1)
    g = as_generator(rng)
    x1, F1, used, idx1 = dpp_points(basis, g, max_proposals, None)
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
    r"""Volume-rescaled sampling of :math:`n \ge m` points from the optimal density :math:`\rho`.

    The density :math:`\det(\Psi^\top\Psi)\,(n - m)!/n!` with respect to
    :math:`\rho^{\otimes n}` is sampled exactly as a projection DPP of size
    :math:`m` plus :math:`n - m` i.i.d. points from :math:`\rho`, uniformly
    permuted. The weighted least-squares estimator is then unbiased and, for
    :math:`n = m`,
    :math:`\mathbb E\|f - \hat f\|^2 = (m + 1)\|f - P_m f\|^2`.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    n : int
        Number of points, :math:`n \ge m`.
    rng : numpy.random.Generator, int or None
        Random source.
    max_proposals : int, optional
        Budget of the projection-DPP part (see :func:`sample_projection_dpp`).

    Returns
    -------
    Design
        Weights :math:`m/K_m`; ``method="volume"``.

    References
    ----------
    .. [1] M. Derezinski, M. K. Warmuth, D. Hsu, "Unbiased estimators for random
       design regression", JMLR 23 (2022), Thm 2.
    .. [2] A. Nouy, B. Michel, arXiv:2312.14057, Sec. 4.

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
    r"""Draw ``r`` independent projection DPPs: :math:`n = r m` points.

    Each point has marginal :math:`\rho = (K_m/m)\,\mu` and weight :math:`m/K_m`,
    so :math:`\mathbb E[G] = I`; the repetitions keep the DPP's repulsion within
    each block (Nouy & Michel, Sec. 5).

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    r : int
        Number of repetitions, ``r >= 1``.
    rng : numpy.random.Generator, int or None
        Random source.
    max_proposals : int, optional
        Budget of each projection DPP (see :func:`sample_projection_dpp`).

    Returns
    -------
    Design
        ``method="repeated_dpp"``; ``n_proposals`` sums the repetitions'.

    References
    ----------
    .. [1] A. Nouy, B. Michel, arXiv:2312.14057, Sec. 5.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_repeated_dpp, total_degree
    >>> sample_repeated_dpp(TensorBasis(Legendre(), total_degree(1, 4)), 3, rng=0).points.shape
    (15, 1)
    """
    basis = _basis_iv(basis)
    r = check_int(r, "r", lo=1)
    check_size(r * basis.m, "r", per_item=basis.m + basis.dim + 1)
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", lo=1)
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


def _design_iv(basis: Any, n: Any, method: Any) -> tuple[Basis, int, str]:
    """Validate ``(basis, n, method)`` of :func:`sample_design` and its callers."""
    basis = _basis_iv(basis)
    method = check_choice(method, "method", METHODS)
    n = _check_n(basis, n)
    m = basis.m
    if method in ("volume", "generalized_volume", "repeated_dpp") and n < m:
        raise ValueError(f"`n` must be >= m = {m} for method={method!r}, got {n}")
    if method == "dpp" and n != m:
        raise ValueError(f"`n` must equal m = {m} for method='dpp', got {n}")
    if method == "repeated_dpp" and n % m:
        raise ValueError(f"`n` must be a multiple of m = {m} for method='repeated_dpp', got {n}")
    return basis, n, method


def sample_design(
    basis: Basis,
    n: int,
    *,
    method: str = "iid",
    rng: SeedLike = None,
    max_proposals: int | None = None,
) -> Design:
    r"""Draw a design of ``n`` points with the sampler named by ``method``.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    n : int
        Number of points (see ``method`` for the constraints).
    method : {"iid", "dpp", "volume", "generalized_volume", "repeated_dpp", "uniform"}
        ``"iid"`` (optimal i.i.d., :func:`sample_optimal`), ``"dpp"``
        (:math:`n = m`), ``"volume"`` (:math:`n \ge m`), ``"generalized_volume"``
        (:math:`n \ge m`, base :math:`\mu`), ``"repeated_dpp"`` (:math:`n` a
        multiple of :math:`m`) and ``"uniform"`` (i.i.d. from :math:`\mu`,
        weights 1: the plain least-squares baseline).
    rng : numpy.random.Generator, int or None
        Random source.
    max_proposals : int, optional
        Budget of the DPP-based samplers.

    Returns
    -------
    Design

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
    basis, n, method = _design_iv(basis, n, method)
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", lo=1)
    g = as_generator(rng)
    m = basis.m
    if method == "iid":
        return sample_optimal(basis, n, rng=g)
    if method == "uniform":
        return _uniform(basis, n, g)
    if method == "dpp":
        return sample_projection_dpp(basis, rng=g, max_proposals=max_proposals)
    if method == "volume":
        return sample_volume(basis, n, rng=g, max_proposals=max_proposals)
    if method == "generalized_volume":
        return sample_generalized_volume(
            basis, n, base="measure", rng=g, max_proposals=max_proposals
        )
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
    r"""Redraw a design until :math:`\|G - I\|_2 \le \delta` (conditioned sampling).

    The result is an exact draw of ``method``'s design conditioned on the event
    :math:`\|G - I\|_2 \le \delta`; ``n_proposals`` sums the proposals of all
    draws.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    n : int
        Number of points (as in :func:`sample_design`).
    method : str, default "iid"
        Sampler (as in :func:`sample_design`).
    delta : float in (0, 1), default 0.5
        Largest accepted :math:`\|G - I\|_2`.
    max_draws : int, default 1000
        More draws raise :class:`ProposalBudgetError`.
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    Design
        ``method="conditioned_<method>"``.

    Raises
    ------
    ProposalBudgetError
        When no design of ``max_draws`` meets the condition.

    References
    ----------
    .. [1] A. Cohen, G. Migliorati, "Optimal weighted least-squares methods",
       SMAI J. Comput. Math. 3 (2017), Sec. 2 (conditioned estimator).
    .. [2] A. Nouy, B. Michel, arXiv:2312.14057, Sec. 2.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_conditioned, total_degree
    >>> d = sample_conditioned(TensorBasis(Legendre(), total_degree(1, 3)), 40, delta=0.5, rng=0)
    >>> d.gram_deviation <= 0.5
    True
    """
    basis, n, method = _design_iv(basis, n, method)
    delta = check_scalar(delta, "delta", lo=0, hi=1, closed="neither")
    max_draws = check_int(max_draws, "max_draws", lo=1, hi=10**6)
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
    r"""The design with the smallest :math:`\|G - I\|_2` among ``n_draws`` independent draws.

    Parameters
    ----------
    basis : Basis
        An :math:`L^2(\mu)`-orthonormal basis.
    n : int
        Number of points (as in :func:`sample_design`).
    method : str, default "iid"
        Sampler (as in :func:`sample_design`).
    n_draws : int, default 10
        Independent draws compared.
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    Design
        ``method="best_of_<n_draws>_<method>"``; ``n_proposals`` sums all draws.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, sample_best_of, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(1, 3))
    >>> d = sample_best_of(b, 12, n_draws=5, rng=0)
    >>> d.method
    'best_of_5_iid'
    """
    basis, n, method = _design_iv(basis, n, method)
    n_draws = check_int(n_draws, "n_draws", lo=1, hi=10**4)
    g = as_generator(rng)
    best: Design | None = None
    total = 0
    for _ in range(n_draws):  # keep only the best draw in memory
        d = sample_design(basis, n, method=method, rng=g)
        total += d.n_proposals
        if best is None or d.gram_deviation < best.gram_deviation:
            best = d
    assert best is not None
    return dataclasses.replace(best, n_proposals=total, method=f"best_of_{n_draws}_{best.method}")
