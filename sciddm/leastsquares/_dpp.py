r"""The chain rule of a projection DPP: exact sequential sampling by rejection.

Given accepted points whose features span :math:`Q` (orthonormal, :math:`k`
directions), the next point has density
:math:`\|(I - QQ^\top)\varphi(x)\|^2/(m - k)\,d\mu`; it is drawn by proposing
:math:`x \sim \rho = (K_m/m)\,\mu` and accepting with probability
:math:`\|(I - QQ^\top)\varphi(x)\|^2 / \|\varphi(x)\|^2`. In the first phase the
coefficients on :math:`Q` come from kernel values and the Cholesky factor of the
accepted points' Gram matrix (no direction is ever written out); pools of proposals
are screened block by block (a partial residual bounds the final one from above, so
most rejections are decided before the last block). In the second phase residuals
are projections on an orthonormal basis of the complement, updated by blocked
Householder reflections. See :func:`sciddm.leastsquares.sample_projection_dpp` for
the algorithm and its cost.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg.blas import dtrsm as _dtrsm
from scipy.linalg.lapack import dtrtri as _dtrtri

from ._bases import Basis, DiscreteBasis, TensorBasis
from ._polynomials import ProposalBudgetError
from ._threads import one_blas_thread

__all__ = ["default_budget", "dpp_points"]

_SWITCH = 0.85  # fraction of m after which residuals use the complement basis (0.75-0.875
# measured within 5 % of each other at m = 1000 and 2000; 0.85 the fastest)
_SWITCH_MIN_M = 64  # smaller spaces stay with the Cholesky form throughout
_SCREEN_BLOCK = 64  # accepted directions per screening block
_COMPACT = 0.8  # a screened pool is compacted when fewer than this fraction survive
_MARGIN = 1e-10  # relative rounding margin of the screening bound
_POOL_ACCEPTS = 32  # a pool is sized for the expected proposals of this many acceptances
_POOL_MAX = 2048
_SEPARABLE_MAX = 0.25  # separable kernel factors when their number is at most this times m
_SINGLE_SCREEN = True  # phase 2 of a tensor basis screens in float32 first (exact decisions)


def default_budget(m: int) -> int:
    """Default proposal budget: about 50 times the expected :math:`m H_m`."""
    return int(50 * m * (math.log(m) + 1) + 10_000)


def _orth_residual(Qt: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v - Q Q^T v for Q = Qt^T (rows of Qt orthonormal), two passes of classical
    Gram-Schmidt (CGS2)."""
    r = v - (Qt @ v) @ Qt
    return r - (Qt @ r) @ Qt


def _dpp_discrete(basis: DiscreteBasis, g: np.random.Generator) -> tuple[np.ndarray, int]:
    """Chain rule on the nodes: the residual density is sampled directly (m steps)."""
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


def _complement_basis(L: np.ndarray, Fs: np.ndarray, m: int) -> np.ndarray:
    """Rows: an orthonormal basis of the orthogonal complement of the rows of ``Fs``.

    ``L`` is the lower Cholesky factor of the Gram matrix ``Fs Fs^T`` (the chain
    rule builds it row by row), so the projector on the span is
    ``Fs^T L^{-T} L^{-1} Fs``. The ``m - k`` coordinate vectors ``e_i`` least in the
    span (smallest leverage, estimated from a Gaussian sketch of ``L^{-1} Fs`` with
    32 rows; exact for ``k <= 32``) are projected on the complement,
    ``E_S - Fs^T L^{-T} L^{-1} Fs[:, S]`` (two triangular solves of ``k x (m - k)``
    and one product), and orthonormalised by a Householder QR. Their conditioning
    is that of a Gaussian sketch in practice (about 10^3 at m = 1000-2000 for the
    Legendre and Hermite bases). A cheap randomised check (the sketch's rows,
    which lie in the span whatever the accuracy of ``L``, must be annihilated to
    1e-9) falls back to a projected Gaussian sketch of an orthonormal basis from a
    QR of ``Fs^T`` when a selection is ill-conditioned or the Gram matrix is.
    """
    k = Fs.shape[0]
    g = np.random.default_rng(12345)
    # leverage of e_i: |L^{-1} Fs e_i|^2, estimated by |V Fs e_i|^2 with V = Omega L^{-1}
    Om = np.eye(k) if k <= 32 else g.standard_normal((32, k))
    VF = _dtrsm(1.0, L, Om.T, lower=1, trans_a=1).T @ Fs  # solves L^T V^T = Omega^T
    S = np.argpartition(np.einsum("ij,ij->j", VF, VF), m - k - 1)[: m - k]
    Y = _dtrsm(1.0, L, np.asfortranarray(Fs[:, S]), lower=1, overwrite_b=1)  # L^{-1} Fs_S
    Y = _dtrsm(1.0, L, Y, lower=1, trans_a=1, overwrite_b=1)  # (Fs Fs^T)^{-1} Fs_S
    At = -(Y.T @ Fs)
    At[np.arange(m - k), S] += 1.0
    Z = np.linalg.qr(At.T)[0].T
    probe = VF.T  # rows of Omega L^{-1} Fs: combinations of the rows of Fs
    if np.max(np.abs(Z @ probe)) > 1e-9 * np.max(np.abs(probe)):
        return _complement_sketch(np.linalg.qr(Fs.T)[0].T, m)
    return np.ascontiguousarray(Z)


def _complement_sketch(Qt: np.ndarray, m: int) -> np.ndarray:
    """The fallback of :func:`_complement_basis`: a Gaussian sketch projected on the
    complement of the orthonormal rows ``Qt`` and orthonormalised twice (CGS2 with
    Householder QR)."""
    k = Qt.shape[0]
    At = np.random.default_rng(12345).standard_normal((m - k, m))  # any full-rank sketch
    for _ in range(2):
        At -= (At @ Qt.T) @ Qt
        At = np.linalg.qr(At.T)[0].T
    return np.ascontiguousarray(At)


class _Separable:
    """The kernel of a tensor basis as a short sum of Hadamard products of Gram matrices.

    A tensor basis's multi-indices, in lexicographic order, fall into runs that share
    the first ``d - 1`` degrees (a prefix) and take consecutive last degrees
    ``d0, ..., d0 + len - 1`` (:meth:`TensorBasis._runs`). Grouping the runs by their
    range gives

    .. math:: K(x, y) = \\sum_g \\Big(\\sum_{a \\in P_g} p_a(x) p_a(y)\\Big)
              \\Big(\\sum_{b = d_g}^{d_g + l_g - 1} p_b(x_d) p_b(y_d)\\Big),

    with :math:`p_a(x) = \\prod_{i < d} p_{a_i}(x_i)`: each point is summarised by
    ``width = sum_g (|P_g| + l_g)`` factors (72 for DPPy's ordering of 1000
    bivariate indices instead of 1000 features), and a kernel block costs
    ``width`` multiply-adds per pair in matrix-matrix products. Used when
    ``width`` is at most a quarter of ``m`` (near-rectangular index sets); a
    total-degree set has one group per prefix and is left to the features.
    """

    def __init__(self, basis: TensorBasis) -> None:
        groups: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        for a, b, d0, prefix in basis._runs()[1]:
            groups.setdefault((d0, b - a), []).append(prefix)
        self.groups = []
        c = 0
        for (d0, ln), prefixes in groups.items():
            pre = np.array(prefixes, dtype=np.intp).reshape(len(prefixes), basis.dim - 1)
            n_pre = len(prefixes) if basis.dim > 1 else 1  # d = 1: one factor 1
            self.groups.append((pre, d0, ln, slice(c, c + n_pre), slice(c + n_pre, c + n_pre + ln)))
            c += n_pre + ln
        self.width = c

    def factors(self, tables: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Factors (points x width, C order) and ``K_m`` from :meth:`TensorBasis._grouped_tables`."""
        *tabs, cum = tables
        n = tabs[-1].shape[1]
        out = np.empty((n, self.width))
        K = np.zeros(n)
        for pre, d0, ln, sp, sl in self.groups:
            if pre.shape[1]:
                P = tabs[0][pre[:, 0]]
                for i in range(1, pre.shape[1]):
                    P = P * tabs[i][pre[:, i]]
                out[:, sp] = P.T
                K += np.einsum("ij,ij->j", P, P) * (cum[d0 + ln] - cum[d0])
            else:
                out[:, sp] = 1.0
                K += cum[d0 + ln] - cum[d0]
            out[:, sl] = tabs[-1][d0 : d0 + ln].T
        return out, K

    def kernel(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """``K(a_i, b_j)`` for factor rows ``A`` and ``B``."""
        out: np.ndarray | None = None
        for *_, sp, sl in self.groups:
            t = (A[:, sp] @ B[:, sp].T) * (A[:, sl] @ B[:, sl].T)
            out = t if out is None else out + t
        assert out is not None
        return out


class _ChainRule:
    """State of the rejection chain rule on a continuous measure.

    The pool holds the proposals drawn but not examined yet, in stream order:
    points ``px``, ``K_m`` (``pK``), acceptance thresholds ``thr = u K_m`` (one
    uniform per proposal; accepted when the residual ``r2 > thr``) and stream
    positions ``pos`` (for ``n_proposals``).

    Phase ``k < switch`` (Cholesky form): the accepted points' Gram matrix has the
    lower Cholesky factor ``L`` (row j: the coefficients ``c_j`` of accepted point
    j on the directions before it, and ``nu_j``, the norm of its residual), so a
    proposal's coefficients on the accepted directions are ``c = L^{-1} k_x``
    with ``k_x = (K(x, x_1), ..., K(x, x_k))``, and its residual is
    ``K_m(x) - |c|^2``. A new pool is screened block by block (:meth:`screen`: a
    kernel block, a product with the earlier coefficients and one with the
    inverse of a diagonal block of ``L``), rejecting a proposal as soon as its
    partial residual falls below its threshold. Survivors keep their
    coefficients (rows of ``W``) and kernel factors (``Fac``: the features, or
    the separable factors of :class:`_Separable`); an acceptance appends a row
    to ``L`` and one coefficient column to the rest of the pool (a column of the
    survivors' kernel matrix ``Kpp`` and one matrix-vector product,
    :meth:`scan_span`). Phase ``k >= switch``: the rows of ``Zt`` span the
    complement and the residual is ``|Zt phi|^2``; each acceptance is one
    Householder reflection, applied to the pool at once
    (:meth:`scan_complement`) and to ``Zt`` in blocks (:meth:`flush_reflections`).
    """

    def __init__(
        self, basis: Basis, g: np.random.Generator, budget: int, batch: int | None
    ) -> None:
        m = basis.m
        self.basis, self.g, self.budget, self.batch, self.m = basis, g, budget, batch, m
        # the law does not depend on the order of the features: a tensor basis gives
        # them in its fastest (lexicographic) order, restored for the accepted points
        self.order: np.ndarray | None = None
        if isinstance(basis, TensorBasis) and (
            getattr(basis.features, "__func__", None) is TensorBasis.features
        ):
            self.order = basis._runs()[0]
        self.switch = int(_SWITCH * m) if m >= _SWITCH_MIN_M else m
        self.sep: _Separable | None = None
        if self.order is not None:
            assert isinstance(basis, TensorBasis)
            sep = _Separable(basis)
            if sep.width <= _SEPARABLE_MAX * m:
                self.sep = sep
        cap = self.switch
        self.xs = np.empty((m, basis.dim))
        self.Fs = np.empty((m, m))
        self.L = np.zeros((cap, cap), order="F")  # Fortran: the solves take it without a copy
        # kernel factors of the accepted points: their features (rows of Fs) or the
        # separable factors
        self.FacA = self.Fs if self.sep is None else np.empty((cap, self.sep.width))
        self.Linv: dict[int, np.ndarray] = {}  # inverses of L's complete diagonal blocks
        self.Zt: np.ndarray | None = None
        self.Z32: np.ndarray | None = None  # Zt in single precision (phase 2 screen)
        self.refl: list[np.ndarray] = []  # pending reflections of Zt (phase 2)
        self._cx = np.empty((0, basis.dim))  # drawn, not yet handed to a pool
        self._ct: list[np.ndarray] = []  # their one-dimensional tables (tensor bases)
        self.k = 0
        self.used = 0  # proposals drawn (counted against the budget)
        self.handed = 0  # proposals handed to pools: the next stream position
        self.examined = 0
        self.px = np.empty((0, basis.dim))
        self.W = np.empty((0, cap))
        self.Fac = np.empty((0, self.FacA.shape[1]))
        self.pY = np.empty((0, m))
        self.r2 = self.thr = self.pK = np.empty(0)
        self.pos = np.empty(0, dtype=np.int64)
        self.Kpp = np.empty((0, 0))  # kernel matrix of the pool (phase 1)

    def _restrict(self, rows: np.ndarray, r2: np.ndarray) -> None:
        """Keep the pool rows ``rows`` (with residuals ``r2``) of the points, ``K_m``,
        thresholds and stream positions."""
        self.px, self.pK, self.thr = self.px[rows], self.pK[rows], self.thr[rows]
        self.pos, self.r2 = self.pos[rows], r2

    def _features(self, x: np.ndarray) -> np.ndarray:
        """Features of points ``x`` in the chain rule's order (lexicographic for a tensor basis)."""
        if self.order is None:
            return self.basis.features(x)
        assert isinstance(self.basis, TensorBasis)
        return self.basis._grouped_products(self.basis._grouped_tables(x))

    def enter_complement(self) -> None:
        """Switch to the complement basis (two triangular solves, one product and a QR),
        re-projecting the pool."""
        k = self.k
        if self.sep is not None:  # generic factors are the features already
            self.Fs[:k] = self._features(self.xs[:k])
            self.Fac = self._features(self.px)
        self.Zt = _complement_basis(self.L[:k, :k], self.Fs[:k], self.m)
        self.Z32 = None
        pY = self.Fac @ self.Zt.T
        r2 = np.einsum("ij,ij->i", pY, pY)
        keep = np.flatnonzero(r2 > self.thr)  # residuals only decrease: the rest is rejected
        self.W, self.pY = self.Fac[keep], pY[keep]
        self._restrict(keep, r2[keep])
        self.L = self.FacA = self.Fac = np.empty((0, 0))  # phase 1 is over

    def _pool_size(self) -> int:
        """Proposals per pool: adapted to the expected proposals of the next acceptances."""
        if self.batch is not None:
            return self.batch
        m, k = self.m, self.k
        s = min(m - k, _POOL_ACCEPTS)
        expect = sum(m / (m - k - i) for i in range(s))
        return int(min(_POOL_MAX, max(16, math.ceil(1.1 * expect))))

    def draw_batch(self) -> None:
        """Draw a pool of proposals, screen it and keep the survivors and their residuals."""
        px, tabs = self._take(self._pool_size())
        B, basis = px.shape[0], self.basis
        phase1, single = self.Zt is None, tabs is not None and _SINGLE_SCREEN
        pF: np.ndarray | None = None
        if tabs is None:
            pF = basis.features(px)
            pK = np.einsum("ij,ij->i", pF, pF)
        elif phase1 and self.sep is not None:
            pF, pK = self.sep.factors(tabs)
        elif phase1 or not single:
            assert isinstance(basis, TensorBasis)
            pF, pK = basis._grouped_assemble(tabs)
        else:
            assert isinstance(basis, TensorBasis)
            pK = basis._grouped_christoffel(tabs)
        self.px, self.pos, self.pK = px, self.handed + np.arange(B), pK
        self.handed += B
        # one uniform per proposal, used once, when the proposal is examined
        self.thr = np.asarray(self.g.random(B)) * pK
        if phase1:
            assert pF is not None
            keep, C, r2 = self.screen(pF)
            W = np.empty((keep.size, self.switch))
            W[:, : self.k] = C
            self.W, self.Fac = W, pF[keep]
            self._restrict(keep, r2)
            # the survivors' kernel matrix: the kernel columns of this pool's acceptances
            self.Kpp = self._kernel(self.Fac, self.Fac)
            return
        self.flush_reflections()
        assert self.Zt is not None
        rows = np.arange(B)
        if pF is None:  # single-precision screen first: features for its survivors only
            assert tabs is not None and isinstance(basis, TensorBasis)
            rows = self.single_screen(tabs)
            pF = basis._grouped_products([t[:, rows] for t in tabs])
        Yt = self.Zt @ pF.T  # pF is the transpose of a C array: a plain product
        r2 = np.einsum("ij,ij->j", Yt, Yt)
        ok = np.flatnonzero(r2 > self.thr[rows])  # residuals only decrease: rejected for good
        self.W, self.pY = pF[ok], Yt[:, ok].T.copy()
        self._restrict(rows[ok], r2[ok])

    def single_screen(self, tabs: list[np.ndarray]) -> np.ndarray:
        """Pool rows that a single-precision projection cannot reject for certain (phase 2).

        With ``y = Zt phi`` exact and ``y'`` the float32 product of the rounded
        ``Zt`` and of features formed in float32 from the rounded tables, every
        coordinate obeys ``|y'_j - y_j| <= eps sum_i |Z_ji| |phi_i| <= eps sqrt(K_m)``
        (rows of ``Zt`` orthonormal), with ``eps = gamma_m + (2d + 2) u``,
        ``gamma_m = m u / (1 - m u)`` and ``u = 2^-24``, whatever the order of
        the summation [1]_; so ``|y| <= |y'| + sqrt(r) eps sqrt(K_m)``, and
        ``|y'|^2`` summed in float32 is at least ``(1 - gamma_{r+1}) |y'|^2``.
        A proposal whose upper bound (with both constants doubled) falls below
        ``sqrt(thr)`` is rejected as the double-precision test would reject it;
        the others (those that survive, and a band of relative width about
        ``1e-3`` around the threshold) are projected in double precision.

        References
        ----------
        .. [1] N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd
           ed., SIAM 2002, Sec. 3.1 and 3.5.
        """
        assert isinstance(self.basis, TensorBasis) and self.Zt is not None
        if self.Z32 is None:
            self.Z32 = self.Zt.astype(np.float32)
        Y = self.Z32 @ self.basis._grouped_products(tabs, np.float32).T
        s = np.einsum("ij,ij->j", Y, Y).astype(np.float64)
        r, m, u = Y.shape[0], self.m, 2.0**-24
        eps = 2 * (m * u / (1 - m * u) + (2 * self.basis.dim + 2) * u)
        gam = 2 * (r + 1) * u / (1 - (r + 1) * u)
        upper = np.sqrt(s / (1 - gam)) + math.sqrt(r) * eps * np.sqrt(self.pK) + 1e-30 * m
        # not certainly rejected (a non-finite bound included)
        return np.flatnonzero(~(upper * upper <= self.thr))

    def _kernel(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Kernel values ``K(a_i, b_j)`` between two sets of kernel-factor rows."""
        return A @ B.T if self.sep is None else self.sep.kernel(A, B)

    def screen(self, fac: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coefficients of a pool on the ``k`` accepted directions, block by block (BLAS-3).

        Block ``j`` solves ``L_jj c_j = k_j - L_{j,<j} c_{<j}``: a kernel block, one
        product, and one product with ``L_jj^{-1}`` (each complete diagonal block is
        inverted once, when first needed: its rows never change; a solve for the
        last, partial block). After j directions,
        ``K - |c_{1:j}|^2`` bounds the final residual from above, so a proposal
        whose bound falls below its threshold (less a rounding margin) is
        rejected (as it would be at every later step) and is not carried to the
        next block; the last block applies the exact test. Returns the survivors
        (pool rows), their coefficients and residuals.
        """
        k, L = self.k, self.L
        rows = np.arange(fac.shape[0])
        res, thr = self.pK.copy(), self.thr
        lim = thr - _MARGIN * self.pK  # below it a proposal is rejected whatever the rounding
        live = res > thr
        C = np.empty((rows.size, k))
        F = fac
        for j0 in range(0, k, _SCREEN_BLOCK):
            j1 = min(k, j0 + _SCREEN_BLOCK)
            rhs = self._kernel(F, self.FacA[j0:j1])
            if j0:
                rhs -= C[:, :j0] @ L[j0:j1, :j0].T
            if j1 - j0 == _SCREEN_BLOCK:  # a complete diagonal block: c_j = rhs L_jj^{-T}
                inv = self.Linv.get(j0)
                if inv is None:  # its rows are final: inverted once (a product beats a solve)
                    inv = self.Linv[j0] = _dtrtri(L[j0:j1, j0:j1], lower=1)[0].T.copy()
                cj = rhs @ inv
            else:  # c_j L_jj^T = rhs, solved as L_jj c_j^T = rhs^T on the Fortran view
                cj = _dtrsm(1.0, L[j0:j1, j0:j1], rhs.T, lower=1, overwrite_b=1).T
            C[:, j0:j1] = cj
            res -= np.einsum("ij,ij->i", cj, cj)
            live &= res > (thr if j1 == k else lim)
            n_live = np.count_nonzero(live)
            if n_live < _COMPACT * rows.size or j1 == k:
                rows, F, C, res = rows[live], F[live], C[live], res[live]
                thr, lim = thr[live], lim[live]
                live = np.ones(n_live, dtype=bool)
                if not n_live:
                    break
        if k == 0:
            rows, res = rows[live], res[live]
            C = C[live]
        return rows, C, res

    def _take(self, B: int) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """``B`` proposals (points and, for a tensor basis, their one-dimensional
        tables) from a cache refilled by large draws.

        Sampling costs a fixed overhead per call, so points (and, for a tensor
        basis, their one-dimensional tables) are drawn for the next ~128 acceptances
        at once (at most 2^22 / m points) and handed out in the pool sizes the chain
        rule wants; unexamined proposals stay valid because they are i.i.d. and
        independent of the past. Features (or, in the first phase of a separable
        basis, kernel factors) are assembled per pool by :meth:`draw_batch`, so that
        the products read them from cache. ``used`` counts drawn proposals against
        the budget.
        """
        if self._cx.shape[0] == 0:  # a short remainder is handed out as a smaller pool
            m, k = self.m, self.k
            s = min(m - k, 128)
            expect = sum(m / (m - k - i) for i in range(s))
            R = int(min(max(256, 2 * B, math.ceil(1.1 * expect)), max(B, (1 << 22) // m)))
            R = min(R, self.budget - self.used)
            if R <= 0:
                raise ProposalBudgetError(
                    f"projection DPP used its budget of {self.budget} proposals with {k}/{m} "
                    "points accepted; increase `max_proposals`"
                )
            self._cx = self.basis.sample_optimal_points(R, rng=self.g)
            if self.order is not None:  # one-dimensional tables for the whole draw
                assert isinstance(self.basis, TensorBasis)
                self._ct = self.basis._grouped_tables(self._cx)
            self.used += R
        px = self._cx[:B]
        self._cx = self._cx[B:]
        if self.order is None:
            return px, None
        tabs = [t[:, :B] for t in self._ct]
        self._ct = [t[:, B:] for t in self._ct]
        return px, tabs

    def _keep_from(self, p: int) -> None:
        """Drop pool rows ``0..p-1`` (examined)."""
        self.px, self.pK, self.thr = self.px[p:], self.pK[p:], self.thr[p:]
        self.pos, self.W, self.r2 = self.pos[p:], self.W[p:], self.r2[p:]

    def _first(self, p: int) -> int:
        """The first pool row from ``p`` whose residual exceeds its threshold, or -1 (then
        the rest of the pool is rejected and counted as examined)."""
        ok = self.r2[p:] > self.thr[p:]
        i = int(ok.argmax()) if ok.size else 0
        if not ok.size or not ok[i]:
            self.examined = self.handed
            return -1
        self.examined = int(self.pos[p + i]) + 1
        return p + i

    def scan_span(self) -> None:
        """Accept from the pool (phase 1) until it is exhausted or ``k`` reaches the switch.

        An acceptance of row ``i`` appends ``[c_i, nu_i]`` to ``L`` and, for the rows
        after it, the coefficient on the new direction,
        ``(K(x, x_i) - c . c_i) / nu_i`` (a column of the pool's kernel matrix and
        one matrix-vector product), which lowers their residuals.
        """
        W, r2, L, Kpp = self.W, self.r2, self.L, self.Kpp
        n, k, p = r2.size, self.k, 0
        while p < n and k < self.switch:
            i = self._first(p)
            if i < 0:
                p = n
                break
            self.xs[k] = self.px[i]
            c = W[i, :k]
            nv = math.sqrt(r2[i])
            L[k, :k] = c
            L[k, k] = nv
            self.FacA[k] = self.Fac[i]  # generic factors: the features, written to Fs
            p = i + 1
            if p < n:  # r2 is the pool's own array: updated in place
                col = (Kpp[i, p:] - W[p:, :k] @ c) / nv
                W[p:, k] = col
                r2[p:] -= col * col
            k += 1
        self.k = k
        self.Fac = self.Fac[p:]
        self._keep_from(p)

    def scan_complement(self) -> None:
        """Accept from the pool (phase 2) until it is exhausted or ``k = m``.

        Each acceptance is one Householder reflection H, mapping the accepted
        residual direction c to +-e_1: the rows 2.. of H Zt span the complement of
        the enlarged span. The rest of the pool's coordinates are reflected at once
        (a reflection keeps norms, so a residual loses the dropped coordinate only);
        ``Zt`` itself receives the reflections in blocks (:meth:`flush_reflections`).
        """
        pY, r2, m = self.pY, self.r2, self.m
        n, k, p = r2.size, self.k, 0
        while p < n and k < m:
            i = self._first(p)
            if i < 0:
                p = n
                break
            self.xs[k] = self.px[i]
            self.Fs[k] = self.W[i, :m]
            h = pY[i] / math.sqrt(r2[i])
            h[0] += 1.0 if h[0] > 0 else -1.0  # c - sgn e_1, sgn = -sign(c_0)
            h /= math.sqrt(h @ h)
            self.refl.append(h)
            p = i + 1
            if p < n:  # pY and r2 are the pool's own arrays: updated in place
                Y = pY[p:]
                Y -= np.outer(Y @ (2.0 * h), h)
                np.maximum(r2[p:] - Y[:, 0] ** 2, 0.0, out=r2[p:])
            pY = pY[:, 1:]
            k += 1
        self.k = k
        self.pY = pY[p:]
        self._keep_from(p)

    def flush_reflections(self) -> None:
        """Apply the pending reflections to ``Zt`` in compact WY form (BLAS-3).

        Reflection j acts on coordinates j.. of the current rows (each acceptance
        drops the first row), so ``H_{p-1} ... H_0 = I - Y T^T Y^T`` with
        ``Y[j:, j] = h_j`` and T upper triangular (Schreiber & Van Loan 1989);
        the new ``Zt`` is rows p.. of the product applied to ``Zt``.
        """
        refl, Zt = self.refl, self.Zt
        p = len(refl)
        if p == 0 or Zt is None:
            return
        Y = np.zeros((Zt.shape[0], p))
        T = np.zeros((p, p))
        for j, h in enumerate(refl):
            Y[j:, j] = h
            T[j, j] = 2.0
            if j:
                T[:j, j] = -2.0 * (T[:j, :j] @ (Y[j:, :j].T @ h))
        self.Zt = (Zt - Y @ (T.T @ (Y.T @ Zt)))[p:]
        self.Z32 = None
        refl.clear()

    def run(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Accept m points; returns points, features and the proposals examined."""
        m = self.m
        while self.k < m:
            if self.k == self.switch and self.Zt is None:
                self.enter_complement()
            if self.px.shape[0] == 0:
                self.draw_batch()
            if self.Zt is None:
                self.scan_span()
            else:
                self.scan_complement()
        if self.Zt is None and self.sep is not None:  # no complement phase (small m)
            self.Fs[:] = self._features(self.xs)
        if self.order is not None:
            Fs = np.empty_like(self.Fs)
            Fs[:, self.order] = self.Fs
            return self.xs, Fs, self.examined
        return self.xs, self.Fs, self.examined


def dpp_points(
    basis: Basis, g: np.random.Generator, max_proposals: int | None, batch: int | None
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    """Unpermuted chain-rule draw: points, features, proposals, node indices."""
    if isinstance(basis, DiscreteBasis):
        idx, used = _dpp_discrete(basis, g)
        return basis.measure.nodes[idx], basis.node_features[idx], used, idx
    budget = default_budget(basis.m) if max_proposals is None else max_proposals
    if basis.m < _SWITCH_MIN_M:  # tiny products: BLAS runs them on one thread anyway
        x, F, used = _ChainRule(basis, g, budget, batch).run()
    else:
        with one_blas_thread():  # a sequence of small products: see _threads.py
            x, F, used = _ChainRule(basis, g, budget, batch).run()
    return x, F, used, None
