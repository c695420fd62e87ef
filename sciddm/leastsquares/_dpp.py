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
    """Rows: an orthonormal basis of the orthogonal complement of the rows of Qt."""
    k = Qt.shape[0]
    A = np.random.default_rng(12345).standard_normal((m, m - k))  # any full-rank sketch works
    for _ in range(2):
        A -= Qt.T @ (Qt @ A)
        A = np.linalg.qr(A)[0]
    return np.ascontiguousarray(A.T)


class _ChainRule:
    """State of the rejection chain rule on a continuous measure.

    Phase ``k < switch``: the rows of ``Qt`` span the accepted features and a
    proposal's residual is ``K - |Qt phi|^2``; new directions are kept implicit
    (coefficients ``pend``) and written as explicit rows in blocks, with one
    matrix-matrix product, when a new batch is drawn (:meth:`flush`). Phase
    ``k >= switch``: the rows of ``Zt`` span the complement and the residual is
    ``|Zt phi|^2``; each acceptance is one Householder reflection of ``Zt``.
    """

    def __init__(self, basis: Basis, g: np.random.Generator, budget: int, batch: int | None):
        m = basis.m
        self.basis, self.g, self.budget, self.batch, self.m = basis, g, budget, batch, m
        self.switch = int(_SWITCH * m) if m >= _SWITCH_MIN_M else m
        self.Qt = np.empty((m, m))
        self.k0 = 0  # rows of Qt written out
        self.pend: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.Zt: np.ndarray | None = None
        self.xs = np.empty((m, basis.dim))
        self.Fs = np.empty((m, m))
        self.k = 0
        self.used = 0
        self.examined = 0
        self._set_pool(np.empty((0, basis.dim)), np.empty((0, m)))

    def _set_pool(self, px: np.ndarray, pF: np.ndarray) -> None:
        """Proposals not examined yet: points, features, K_m, residuals, projections."""
        self.px, self.pF = px, pF
        self.pK = np.einsum("ij,ij->i", pF, pF)
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
        if self.used + B > self.budget:
            B = self.budget - self.used
            if B <= 0:
                raise ProposalBudgetError(
                    f"projection DPP used its budget of {self.budget} proposals with {k}/{m} "
                    "points accepted; increase `max_proposals`"
                )
        px = self.basis.sample_optimal_points(B, rng=self.g)
        self._set_pool(px, self.basis.features(px))
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
        self.used += B

    def accept_in_span(self, i: int) -> None:
        """Accept proposal ``i`` (phase 1): one projection of the rest of the batch."""
        k = self.k
        c = self.pC[i, :k].copy()
        nv = math.sqrt(self.pr2[i])
        phi = self.pF[i].copy()
        self.pend.append((phi, c, nv))
        pF, pC, pr2 = self.pF[i + 1 :], self.pC[i + 1 :], self.pr2[i + 1 :]
        self.px, self.pF, self.pK, self.pC = self.px[i + 1 :], pF, self.pK[i + 1 :], pC
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
        if pY.shape[0]:
            pY = pY - np.outer(pY @ (2.0 * h), h)
            self.pY = pY[:, 1:]
            self.pr2 = np.einsum("ij,ij->i", self.pY, self.pY)
        else:
            self.pY, self.pr2 = pY, self.pr2[:0]

    def run(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Accept m points; returns points, features and the proposals examined."""
        while self.k < self.m:
            if self.k == self.switch and self.Zt is None:
                self.enter_complement()
            if self.pF.shape[0] == 0:
                self.draw_batch()
            u = self.g.random(self.pF.shape[0])
            acc = u * self.pK < self.pr2
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
    x, F, used = _ChainRule(basis, g, budget, batch).run()
    return x, F, used, None
