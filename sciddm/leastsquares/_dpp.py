r"""The chain rule of a projection DPP: exact sequential sampling by rejection.

Given accepted points whose features span :math:`Q` (orthonormal, :math:`k`
directions), the next point has density
:math:`\|(I - QQ^\top)\varphi(x)\|^2/(m - k)\,d\mu`; it is drawn by proposing
:math:`x \sim \rho = (K_m/m)\,\mu` and accepting with probability
:math:`\|(I - QQ^\top)\varphi(x)\|^2 / \|\varphi(x)\|^2`. Pools of proposals
are screened block by block (a partial residual bounds the final one from above, so
most rejections are decided before the last block) and the accepted directions,
complement basis and reflections are written out in blocks (BLAS-3). See
:func:`sciddm.leastsquares.sample_projection_dpp` for the algorithm and its cost.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg.blas import dtrsm as _dtrsm

from ._bases import Basis, DiscreteBasis, TensorBasis
from ._polynomials import ProposalBudgetError
from ._threads import one_blas_thread

__all__ = ["default_budget", "dpp_points"]

_SWITCH = 0.8  # fraction of m after which residuals use the complement basis
_SWITCH_MIN_M = 64  # smaller spaces stay with the accepted-span basis throughout
_SCREEN_BLOCK = 64  # rows of Qt per screening block
_COMPACT = 0.8  # a screened pool is compacted when fewer than this fraction survive
_MARGIN = 1e-10  # relative rounding margin of the screening bound
_POOL_ACCEPTS = 32  # a pool is sized for the expected proposals of this many acceptances
_POOL_MAX = 2048
_FLUSH_MIN = 64  # pending directions are written out in blocks of at least this many


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


def _complement_basis(Qt: np.ndarray, m: int) -> np.ndarray:
    """Rows: an orthonormal basis of the orthogonal complement of the rows of Qt.

    The ``m - k`` coordinate vectors ``e_i`` least in the span (smallest leverage
    ``|Qt[:, i]|^2``) are projected, ``E_S - Qt^T Qt[:, S]`` (one product: the
    coefficients of ``e_i`` are the columns of Qt already), and orthonormalised
    by a Householder QR. Their conditioning is that of a Gaussian sketch in
    practice (about 10^3 at m = 1000-2000 for the Legendre and Hermite bases,
    leaving a component of about 1e-12 in the span, which moves the acceptance
    probabilities by as much). A cheap randomised check (four probe vectors of the
    span, which the rows must annihilate to 1e-9) falls back to a projected
    Gaussian sketch, orthonormalised twice, when a selection is ill-conditioned.
    """
    k = Qt.shape[0]
    S = np.argpartition(np.einsum("ij,ij->j", Qt, Qt), m - k - 1)[: m - k]
    At = -(Qt[:, S].T @ Qt)
    At[np.arange(m - k), S] += 1.0
    Z = np.linalg.qr(At.T)[0].T
    probe = Qt.T @ np.random.default_rng(12345).standard_normal((k, 4))  # in span(Qt)
    if np.max(np.abs(Z @ probe)) > 1e-9 * np.max(np.abs(probe)):
        return _complement_sketch(Qt, m)
    return np.ascontiguousarray(Z)


def _complement_sketch(Qt: np.ndarray, m: int) -> np.ndarray:
    """The fallback of :func:`_complement_basis`: a Gaussian sketch projected on the
    complement and orthonormalised twice (CGS2 with Householder QR)."""
    k = Qt.shape[0]
    At = np.random.default_rng(12345).standard_normal((m - k, m))  # any full-rank sketch
    for _ in range(2):
        At -= (At @ Qt.T) @ Qt
        At = np.linalg.qr(At.T)[0].T
    return np.ascontiguousarray(At)


class _ChainRule:
    """State of the rejection chain rule on a continuous measure.

    The pool holds the proposals drawn but not examined yet, in stream order:
    points ``px``, ``K_m`` (``pK``), acceptance thresholds ``thr = u K_m`` (one
    uniform per proposal; accepted when the residual ``r2 > thr``) and stream
    positions ``pos`` (for ``n_proposals``).

    Phase ``k < switch``: the first ``k0`` rows of ``Qt`` are explicit directions
    of the accepted span. A new pool is screened against them block by block
    (:meth:`screen`): a proposal whose partial residual already falls below its
    threshold is rejected without projecting it on the remaining rows. Survivors
    are kept as rows ``[phi | c]`` of ``W`` (features, coefficients on
    ``q_0..q_{k-1}``); an acceptance adds one coefficient column (one
    matrix-vector product) and keeps the new direction implicit (pending). The
    survivors' coefficients on the pending directions follow from the triangular
    relation that defines them (:meth:`_pending_coefficients`: two products and a
    solve), and :meth:`flush` writes the pending directions as rows of ``Qt`` with
    one matrix-matrix product once at least ``_FLUSH_MIN`` of them have gathered
    (blocks of 64 rows run the product about 5 % faster than blocks of 32 at
    m = 1000-2000). Phase ``k >= switch``: the rows of
    ``Zt`` span the complement and the residual is ``|Zt phi|^2``; each
    acceptance is one Householder reflection, applied to the pool at once and to
    ``Zt`` in blocks (:meth:`flush_reflections`).
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
        self.Qt = np.empty((m, m))
        self.k0 = 0  # rows of Qt written out
        self.pend: list[tuple[np.ndarray, float]] = []  # accepted rows [phi | c] and norms
        self.Zt: np.ndarray | None = None
        self.refl: list[np.ndarray] = []  # pending reflections of Zt (phase 2)
        self.xs = np.empty((m, basis.dim))
        self.Fs = np.empty((m, m))
        self._cx = np.empty((0, basis.dim))  # drawn, not yet handed to a pool
        self._ct: list[np.ndarray] = []  # their one-dimensional tables (tensor bases)
        self.k = 0
        self.used = 0  # proposals drawn (counted against the budget)
        self.handed = 0  # proposals handed to pools: the next stream position
        self.examined = 0
        self.px = np.empty((0, basis.dim))
        self.W = np.empty((0, m))
        self.pY = np.empty((0, m))
        self.r2 = self.thr = self.pK = np.empty(0)
        self.pos = np.empty(0, dtype=np.int64)

    def _restrict(self, rows: np.ndarray, r2: np.ndarray, w_done: bool = False) -> None:
        """Keep the pool rows ``rows`` (with residuals ``r2``; ``W`` too unless done)."""
        self.px, self.pK, self.thr = self.px[rows], self.pK[rows], self.thr[rows]
        self.pos, self.r2 = self.pos[rows], r2
        if not w_done:
            self.W = self.W[rows]

    def flush(self) -> None:
        """Write the pending accepted directions as explicit rows k0.. of Qt (BLAS-3).

        Pending direction j is q_j = (phi_j - sum_{l<k0+j} c_jl q_l) / nu_j, so the
        block Q_P solves L Q_P = Phi_P - C_old Q_old with L lower triangular
        (diagonal nu).
        """
        pend, k0, Qt, m = self.pend, self.k0, self.Qt, self.m
        p = len(pend)
        if p == 0:
            return
        R, L = self._pending()
        V = R[:, :m] - R[:, m : m + k0] @ Qt[:k0] if k0 else R[:, :m]
        # Q_P = L^{-1} V, solved as Q_P^T = V^T L^{-T} on the Fortran view V^T (no copy)
        QP = _dtrsm(1.0, L, V.T, side=1, lower=1, trans_a=1, overwrite_b=1).T
        # orthonormal rows leave QP (QP^T z) = z for every z: one Gaussian probe z checks
        # it (2 p m operations instead of p^2 m for the whole of QP QP^T)
        z = np.random.default_rng(p).standard_normal(p)
        dev = np.max(np.abs(QP @ (QP.T @ z) - z)) / (np.sqrt(p) * np.max(np.abs(z)))
        if dev > 1e-10:  # pragma: no cover - rare cancellation
            for _ in range(2):
                QP -= (QP @ Qt[:k0].T) @ Qt[:k0]
                Qf, Rq = np.linalg.qr(QP.T)
                QP = (Qf * np.sign(np.diag(Rq))).T
        Qt[k0 : k0 + p] = QP
        pend.clear()
        self.k0 = k0 + p

    def _pending(self) -> tuple[np.ndarray, np.ndarray]:
        """The pending directions as rows ``[phi_j | c_j]`` (zero-padded) and the lower
        triangular ``L`` with ``L Q_P = Phi_P - C_old Q_old`` (diagonal nu)."""
        pend, k0, m = self.pend, self.k0, self.m
        p = len(pend)
        R = np.zeros((p, m + k0 + p))
        for j, (w, _) in enumerate(pend):
            R[j, : w.size] = w
        L = np.tril(R[:, m + k0 :], -1)
        L[np.diag_indices(p)] = [nv for _, nv in pend]
        return R, L

    def _pending_coefficients(self, W: np.ndarray, k0: int) -> None:
        """Fill the coefficients of the pool rows ``W = [phi | c_old | .]`` on the pending
        directions: ``c_P = L^{-1} (Phi_P phi - C_old c_old)`` (two products, one solve)."""
        m = self.m
        R, L = self._pending()
        p = L.shape[0]
        G = W[:, :m] @ R[:, :m].T
        if k0:
            G -= W[:, m : m + k0] @ R[:, m : m + k0].T
        # c_P^T = L^{-1} G^T, solved on the Fortran view G^T (no copy)
        W[:, m + k0 : m + k0 + p] = _dtrsm(1.0, L, G.T, lower=1, overwrite_b=1).T

    def enter_complement(self) -> None:
        """Switch to the complement basis (one product and a QR), re-projecting the pool."""
        self.flush()
        self.Zt = _complement_basis(self.Qt[: self.k], self.m)
        self.W = self.W[:, : self.m]
        pY = self.W @ self.Zt.T
        r2 = np.einsum("ij,ij->i", pY, pY)
        keep = np.flatnonzero(r2 > self.thr)  # residuals only decrease: the rest is rejected
        self.pY = pY[keep]
        self._restrict(keep, r2[keep])

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
        px, pF, self.pK = self._take(self._pool_size())
        B, m, k = px.shape[0], self.m, self.k
        self.px, self.pos = px, self.handed + np.arange(B)
        self.handed += B
        # one uniform per proposal, used once, when the proposal is examined
        self.thr = np.asarray(self.g.random(B)) * self.pK
        if self.Zt is not None:
            self.flush_reflections()
            assert self.Zt is not None
            Yt = self.Zt @ pF.T  # pF is the transpose of a C array: a plain product
            r2 = np.einsum("ij,ij->j", Yt, Yt)
            keep = np.flatnonzero(r2 > self.thr)  # residuals only decrease: rejected for good
            self.W, self.pY = pF, Yt[:, keep].T.copy()
            self._restrict(keep, r2[keep])
        else:
            if len(self.pend) >= _FLUSH_MIN:
                self.flush()
            k0 = self.k0
            keep, C, r2 = self.screen(pF, exact=not self.pend)
            W = np.empty((keep.size, 2 * m))
            W[:, :m] = pF[keep]
            W[:, m : m + k0] = C
            if self.pend and keep.size:  # coefficients on the pending directions, exact test
                self._pending_coefficients(W, k0)
                r2 = r2 - np.einsum("ij,ij->i", W[:, m + k0 : m + k], W[:, m + k0 : m + k])
                ok = np.flatnonzero(r2 > self.thr[keep])
                keep, r2, W = keep[ok], r2[ok], W[ok]
            self.W = W
            self._restrict(keep, r2, w_done=True)

    def screen(
        self, pF: np.ndarray, exact: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Project a pool on the ``k0`` explicit rows of Qt, block by block (BLAS-3).

        After j rows, ``K - |c_{1:j}|^2`` bounds the final residual from above,
        so a proposal whose bound falls below its threshold (less a rounding
        margin) is rejected (as it would be at every later step) and is not
        projected on the next rows. The last block applies the exact test when
        ``exact`` (no direction pending; otherwise the caller applies it after the
        pending coefficients). Returns the survivors (pool rows), their
        coefficients and residuals.
        """
        k, Qt = self.k0, self.Qt
        rows = np.arange(pF.shape[0])
        F, res, thr = pF, self.pK.copy(), self.thr
        lim = thr - _MARGIN * self.pK  # below it a proposal is rejected whatever the rounding
        live = res > thr
        blocks: list[tuple[np.ndarray, np.ndarray]] = []
        for j0 in range(0, k, _SCREEN_BLOCK):
            j1 = min(k, j0 + _SCREEN_BLOCK)
            blk = F @ Qt[j0:j1].T
            blocks.append((rows, blk))
            res -= np.einsum("ij,ij->i", blk, blk)
            live &= res > (thr if j1 == k and exact else lim)
            n_live = np.count_nonzero(live)
            if n_live < _COMPACT * rows.size or j1 == k:
                rows, F, res, thr, lim = rows[live], F[live], res[live], thr[live], lim[live]
                live = np.ones(n_live, dtype=bool)
                if not n_live:
                    break
        if k == 0:
            rows, res = rows[live], res[live]
        C = np.empty((rows.size, k))
        for j, (r, blk) in enumerate(blocks):
            C[:, j * _SCREEN_BLOCK : j * _SCREEN_BLOCK + blk.shape[1]] = blk[
                np.searchsorted(r, rows)
            ]
        return rows, C, res

    def _take(self, B: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``B`` proposals (points, features, ``K_m``) from a cache refilled by large draws.

        Sampling costs a fixed overhead per call, so points (and, for a tensor
        basis, their one-dimensional tables) are drawn for the next ~128 acceptances
        at once (at most 2^22 / m points) and handed out in the pool sizes the chain
        rule wants; unexamined proposals stay valid because they are i.i.d. and
        independent of the past. Features are assembled per pool, so that the
        screening products read them from cache (10 % faster at m = 2000 than
        evaluating them per draw). ``used`` counts drawn proposals against the
        budget.
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
        # features per pool, not per draw: they are consumed at once, while in cache
        if self.order is None:
            pF = self.basis.features(px)
            return px, pF, np.einsum("ij,ij->i", pF, pF)
        assert isinstance(self.basis, TensorBasis)
        pF, pK = self.basis._grouped_assemble([t[:, :B] for t in self._ct])
        self._ct = [t[:, B:] for t in self._ct]
        return px, pF, pK

    def _advance(self, i: int) -> None:
        """Drop pool rows ``0..i`` (examined)."""
        self.px, self.pK, self.thr = self.px[i + 1 :], self.pK[i + 1 :], self.thr[i + 1 :]
        self.pos, self.W, self.r2 = self.pos[i + 1 :], self.W[i + 1 :], self.r2[i + 1 :]

    def accept_in_span(self, i: int) -> None:
        """Accept pool row ``i`` (phase 1): one matrix-vector product for the rest."""
        k, m = self.k, self.m
        w = self.W[i, : m + k].copy()
        nv = math.sqrt(self.r2[i])
        self.pend.append((w, nv))
        self._advance(i)
        if self.W.shape[0]:
            v = w / nv
            v[m:] *= -1.0
            col = self.W[:, : m + k] @ v  # (phi . phi_i - c . c_i) / nu_i
            self.W[:, m + k] = col
            self.r2 = self.r2 - col * col

    def accept_in_complement(self, i: int) -> None:
        """Accept pool row ``i`` (phase 2): one Householder reflection, kept pending.

        H maps the accepted residual direction c to +-e_1; the rows 2.. of H Zt
        span the complement of the enlarged span. The pool's coordinates are
        reflected at once; ``Zt`` itself in blocks, by :meth:`flush_reflections`.
        """
        c = self.pY[i] / np.sqrt(self.r2[i])
        sgn = -1.0 if c[0] > 0 else 1.0
        h = c.copy()
        h[0] -= sgn
        h /= np.linalg.norm(h)
        self.refl.append(h)
        self._advance(i)
        pY = self.pY[i + 1 :]
        if pY.shape[0]:
            pY = pY - np.outer(pY @ (2.0 * h), h)
            # a reflection keeps norms: the residual loses the dropped coordinate only
            self.r2 = np.maximum(self.r2 - pY[:, 0] ** 2, 0.0)
        self.pY = pY[:, 1:]

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
        refl.clear()

    def run(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Accept m points; returns points, features and the proposals examined."""
        m = self.m
        while self.k < m:
            if self.k == self.switch and self.Zt is None:
                self.enter_complement()
            if self.px.shape[0] == 0:
                self.draw_batch()
            acc = self.thr < self.r2
            i = int(np.argmax(acc)) if acc.size else 0
            if not acc.size or not acc[i]:
                self.examined = self.handed  # the whole pool is rejected
                self.px = self.px[:0]
                continue
            self.examined = int(self.pos[i]) + 1
            self.xs[self.k] = self.px[i]
            self.Fs[self.k] = self.W[i, :m]
            if self.Zt is None:
                self.accept_in_span(i)
            else:
                self.accept_in_complement(i)
            self.k += 1
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
