r"""The chain rule of a projection DPP: exact sequential sampling by rejection.

Given accepted points whose features span :math:`Q` (orthonormal, :math:`k`
directions), the next point has density
:math:`\|(I - QQ^\top)\varphi(x)\|^2/(m - k)\,d\mu`; it is drawn by proposing
:math:`x \sim \rho = (K_m/m)\,\mu` and accepting with probability
:math:`\|(I - QQ^\top)\varphi(x)\|^2 / \|\varphi(x)\|^2`. See
:func:`sciddm.leastsquares.sample_projection_dpp` for the algorithm's cost.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_triangular as _solve_triangular
from scipy.linalg.blas import dger as _dger

from ._bases import Basis, DiscreteBasis
from ._polynomials import ProposalBudgetError
from ._threads import one_blas_thread

__all__ = ["default_budget", "dpp_points"]

_SWITCH = 0.8  # fraction of m after which residuals use the complement basis
_SWITCH_MIN_M = 64  # smaller spaces stay with the accepted-span basis throughout


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

    A Gaussian block is projected once and orthonormalised: with orthonormal ``Qt``
    the projection of a random block loses orthogonality only by about
    ``eps sqrt(m / (m - k))`` (no cancellation, unlike Gram-Schmidt of given
    vectors), which a cheap randomised check (four probe vectors) confirms.
    """
    k = Qt.shape[0]
    rng = np.random.default_rng(12345)
    At = rng.standard_normal((m - k, m))  # any full-rank sketch works
    At -= (At @ Qt.T) @ Qt
    Z = np.linalg.qr(At.T)[0].T
    probe = Qt.T @ rng.standard_normal((k, 4))  # vectors in span(Qt): Z must annihilate them
    if np.max(np.abs(Z @ probe)) > 1e-11 * np.max(np.abs(probe)):  # pragma: no cover
        Z -= (Z @ Qt.T) @ Qt
        Z = np.linalg.qr(Z.T)[0].T
    return np.ascontiguousarray(Z)


class _ChainRule:
    """State of the rejection chain rule on a continuous measure.

    Phase ``k < switch``: the rows of ``Qt`` span the accepted features and a
    proposal's residual is ``K - |Qt phi|^2``; new directions are kept implicit
    (coefficients ``pend``) and written as explicit rows in blocks, with one
    matrix-matrix product, when a new batch is drawn (:meth:`flush`). Phase
    ``k >= switch``: the rows of ``Zt`` span the complement and the residual is
    ``|Zt phi|^2``; each acceptance is one Householder reflection of ``Zt``.
    """

    def __init__(
        self, basis: Basis, g: np.random.Generator, budget: int, batch: int | None
    ) -> None:
        m = basis.m
        self.basis, self.g, self.budget, self.batch, self.m = basis, g, budget, batch, m
        self.switch = int(_SWITCH * m) if m >= _SWITCH_MIN_M else m
        self.Qt = np.empty((m, m))
        self.k0 = 0  # rows of Qt written out
        self.pend: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.Zt: np.ndarray | None = None
        self.xs = np.empty((m, basis.dim))
        self.Fs = np.empty((m, m))
        self._cx = np.empty((0, basis.dim))  # drawn, not yet handed to a pool
        self._cF = np.empty((0, m))
        self.k = 0
        self.used = 0
        self.examined = 0
        self._set_pool(np.empty((0, basis.dim)), np.empty((0, m)))

    def _set_pool(self, px: np.ndarray, pF: np.ndarray) -> None:
        """Proposals not examined yet: points, features, K_m, residuals, projections."""
        self.px, self.pF = px, pF
        self.pK = np.einsum("ij,ij->i", pF, pF)
        # one uniform per proposal, used once, when the proposal is examined
        self.pu: np.ndarray = np.asarray(self.g.random(pF.shape[0]))
        self.pr2 = np.empty(0)
        self.pY = np.empty((0, 0))  # complement coordinates (phase 2)
        self.pC = np.empty((0, self.m))  # coefficients on q_0..q_{k-1} (phase 1)

    def flush(self) -> None:
        """Write the pending accepted directions as explicit rows k0.. of Qt (BLAS-3).

        Pending direction j is q_j = (phi_j - sum_{l<k0+j} c_jl q_l) / nu_j, so the
        block Q_P solves L Q_P = Phi_P - C_old Q_old with L lower triangular
        (diagonal nu).
        """
        pend, k0, Qt = self.pend, self.k0, self.Qt
        p = len(pend)
        if p == 0:
            return
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
        self.k0 = k0 + p

    def enter_complement(self) -> None:
        """Switch to the complement basis (one sketch-and-QR), re-projecting the pool."""
        self.flush()
        self.Zt = _complement_basis(self.Qt[: self.k], self.m)
        self.pY = self.pF @ self.Zt.T
        self.pr2 = np.einsum("ij,ij->i", self.pY, self.pY)

    def draw_batch(self) -> None:
        """Draw a batch of proposals and their residuals."""
        m, k = self.m, self.k
        if self.batch is None:
            s = min(m - k, 32)
            expect = sum(m / (m - k - i) for i in range(s))
            B = int(min(2048, max(16, math.ceil(1.1 * expect))))
        else:
            B = self.batch
        px, pF = self._take(B)
        B = px.shape[0]
        self._set_pool(px, pF)
        if self.Zt is not None:
            self.pY = self.pF @ self.Zt.T
            self.pr2 = np.einsum("ij,ij->i", self.pY, self.pY)
        else:
            self.flush()
            self.pC = np.empty((B, m))
            if k:
                self.pC[:, :k] = self.pF @ self.Qt[:k].T
                self.pr2 = self.pK - np.einsum("ij,ij->i", self.pC[:, :k], self.pC[:, :k])
            else:
                self.pr2 = self.pK.copy()

    def _take(self, B: int) -> tuple[np.ndarray, np.ndarray]:
        """``B`` proposals (points and features) from a cache refilled by large draws.

        Sampling and feature evaluation cost a fixed overhead per call, so proposals
        are drawn for the next ~128 acceptances at once (within 32 MB of features)
        and handed out in the pool sizes the chain rule wants; unexamined proposals
        stay valid because they are i.i.d. and independent of the past. ``used``
        counts drawn proposals against the budget.
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
            self._cF = self.basis.features(self._cx)
            self.used += R
        px, pF = self._cx[:B], self._cF[:B]
        self._cx, self._cF = self._cx[B:], self._cF[B:]
        return px, pF

    def accept_in_span(self, i: int) -> None:
        """Accept proposal ``i`` (phase 1): one projection of the rest of the batch."""
        k = self.k
        c = self.pC[i, :k].copy()
        nv = math.sqrt(self.pr2[i])
        phi = self.pF[i].copy()
        self.pend.append((phi, c, nv))
        pF, pC, pr2 = self.pF[i + 1 :], self.pC[i + 1 :], self.pr2[i + 1 :]
        self.px, self.pF, self.pK, self.pC = self.px[i + 1 :], pF, self.pK[i + 1 :], pC
        self.pu = self.pu[i + 1 :]
        if pF.shape[0]:
            col = (pF @ phi - pC[:, :k] @ c) / nv
            pC[:, k] = col
            pr2 = pr2 - col * col
        self.pr2 = pr2

    def accept_in_complement(self, i: int) -> None:
        """Accept proposal ``i`` (phase 2): one Householder reflection of ``Zt``.

        H maps the accepted residual direction c to +-e_1; the rows 2.. of H Zt
        span the complement of the enlarged span.
        """
        assert self.Zt is not None
        c = self.pY[i] / np.sqrt(self.pr2[i])
        sgn = -1.0 if c[0] > 0 else 1.0
        h = c.copy()
        h[0] -= sgn
        h /= np.linalg.norm(h)
        # in-place rank-one update Zt <- (I - 2 h h^T) Zt (BLAS dger on the
        # Fortran-ordered transpose), then drop the row spanned by the new point
        Zt = self.Zt
        _dger(-2.0, h @ Zt, h, a=Zt.T, overwrite_a=True)
        self.Zt = Zt[1:]
        self.px, self.pF, self.pK = self.px[i + 1 :], self.pF[i + 1 :], self.pK[i + 1 :]
        pY = self.pY[i + 1 :]
        self.pu = self.pu[i + 1 :]
        if pY.shape[0]:
            pY = pY - np.outer(pY @ (2.0 * h), h)
            # a reflection keeps norms: the residual loses the dropped coordinate only
            self.pr2 = np.maximum(self.pr2[i + 1 :] - pY[:, 0] ** 2, 0.0)
            self.pY = pY[:, 1:]
        else:
            self.pY, self.pr2 = pY, self.pr2[:0]

    def run(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Accept m points; returns points, features and the proposals examined."""
        while self.k < self.m:
            if self.k == self.switch and self.Zt is None:
                self.enter_complement()
            if self.pF.shape[0] == 0:
                self.draw_batch()
            acc = self.pu * self.pK < self.pr2
            if not acc.any():
                self.examined += self.pF.shape[0]
                self._set_pool(self.px[:0], self.pF[:0])
                continue
            i = int(np.argmax(acc))
            self.examined += i + 1
            self.xs[self.k] = self.px[i]
            self.Fs[self.k] = self.pF[i]
            if self.Zt is None:
                self.accept_in_span(i)
            else:
                self.accept_in_complement(i)
            self.k += 1
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
