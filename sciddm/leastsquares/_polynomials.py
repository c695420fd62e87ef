"""One-dimensional orthonormal families and exact sampling from φ_k² dμ.

Every family is orthonormal in L²(μ) for its probability measure μ and is
evaluated by its three-term recurrence (never a Vandermonde matrix):

    t p_k(t) = √b_{k+1} p_{k+1}(t) + a_k p_k(t) + √b_k p_{k−1}(t),   p_0 = 1.

``sample_squared(k, size, rng)`` draws exactly from the density p_k² dμ, the
building block of the optimal (Christoffel) sampler: by rejection from the
arcsine law with the Chow–Gatteschi–Wong envelope for Jacobi weights with
|α|, |β| ≤ 1/2, by rejection from the uniform law (bound 2) for the
trigonometric system, and otherwise by inverting a CDF computed to machine
precision (closed form for Hermite, Gauss quadrature on [lo, x] for the other
Jacobi weights and for Laguerre) with a safeguarded Newton iteration.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int

from ._measures import BetaMeasure, GammaMeasure, GaussianMeasure, UniformMeasure, _Measure1D

__all__ = [
    "Chebyshev",
    "Family",
    "Hermite",
    "Jacobi",
    "Laguerre",
    "Legendre",
    "ProposalBudgetError",
    "Trigonometric",
]


class ProposalBudgetError(RuntimeError):
    """A rejection sampler used more proposals than its budget allowed.

    Raised instead of returning a point that was not accepted, so every point
    a sampler returns is exact.
    """


class Family:
    """A one-dimensional L²(μ)-orthonormal family p_0, p_1, … for a measure μ."""

    measure: _Measure1D

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """Coefficients a_0..a_K and b_0..b_K (b_0 unused) of the recurrence."""
        raise NotImplementedError

    def eval_std(self, t: np.ndarray, K: int) -> np.ndarray:
        """p_0..p_K at standard points t, shape ``(len(t), K + 1)``."""
        t = np.asarray(t, float).ravel()
        a, b = self.recurrence(K)
        sb = np.sqrt(b)
        P = np.empty((t.size, K + 1))
        P[:, 0] = 1.0
        if K >= 1:
            P[:, 1] = (t - a[0]) / sb[1]
        for k in range(1, K):
            P[:, k + 1] = ((t - a[k]) * P[:, k] - sb[k] * P[:, k - 1]) / sb[k + 1]
        return P

    def __call__(self, x: Any, K: int) -> np.ndarray:
        """p_0..p_K at points x (original variable), shape ``(len(x), K + 1)``."""
        return self.eval_std(self.measure.to_standard(np.asarray(x, float).ravel()), K)

    # -- exact sampling from p_k^2 dmu ---------------------------------------------------
    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _std_bracket(self, k: int) -> tuple[float, float]:  # pragma: no cover
        raise NotImplementedError

    def _std_density(self, k: int, t: np.ndarray) -> np.ndarray:
        p = self.eval_std(t, k)[:, k]
        return p * p * self.measure.std_pdf(t)  # type: ignore[attr-defined]

    def _std_sample_squared(self, k: int, size: int, g: np.random.Generator, budget: int):
        u = g.random(size)
        lo, hi = self._std_bracket(k)
        return _inverse_cdf(
            lambda t, i: self._std_cdf(k, t), lambda t, i: self._std_density(k, t), u, lo, hi
        )

    def sample_squared_many(self, ks: Any, *, rng: SeedLike = None, budget: int | None = None):
        """One point from p_{k_i}² dμ for each degree in ``ks`` (independent draws).

        The points are in the order of ``ks``; rejection samplers treat all
        degrees in one vectorised loop.
        """
        ks = np.asarray(ks, dtype=int).ravel()
        g = as_generator(rng)
        budget = 1000 * ks.size + 10_000 if budget is None else check_int(budget, "budget", lo=1)
        out = np.empty(ks.size)
        zero = ks == 0
        out[zero] = self.measure.sample(int(zero.sum()), rng=g)[:, 0]
        rest = np.flatnonzero(~zero)
        if rest.size:
            out[rest] = self.measure.from_standard(self._std_many(ks[rest], g, budget))
        return out

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        out = np.empty(ks.size)
        for k in np.unique(ks):
            sel = np.flatnonzero(ks == k)
            out[sel] = self._std_sample_squared(int(k), sel.size, g, budget)
        return out

    def sample_squared(self, k: int, size: int, *, rng: SeedLike = None, budget: int | None = None):
        """Draw ``size`` i.i.d. points from the density p_k(x)² dμ(x).

        Parameters
        ----------
        k : int
            Degree.
        size : int
        rng : numpy.random.Generator, int or None
        budget : int, optional
            Maximal number of proposals of a rejection sampler
            (default ``1000 * size + 10_000``); exceeding it raises
            :class:`ProposalBudgetError`.
        """
        k = check_int(k, "k", lo=0)
        size = check_int(size, "size", lo=0)
        g = as_generator(rng)
        budget = 1000 * size + 10_000 if budget is None else check_int(budget, "budget", lo=1)
        if size == 0:
            return np.empty(0)
        if k == 0:
            return self.measure.sample(size, rng=g)[:, 0]
        t = self._std_sample_squared(k, size, g, budget)
        return self.measure.from_standard(t)


def _inverse_cdf(
    cdf, pdf, u: np.ndarray, lo: float, hi: float, *, t0: Any = None, maxiter: int = 200
):
    """Solve F(t) = u for every u by Newton's method safeguarded by bisection
    (starting from ``t0``, by default the middle of the bracket)."""
    lo_a = np.full(u.shape, lo, float)
    hi_a = np.full(u.shape, hi, float)
    t = 0.5 * (lo_a + hi_a) if t0 is None else np.clip(np.asarray(t0, float), lo, hi)
    active = np.ones(u.shape, bool)
    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ti = t[idx]
        F = cdf(ti, idx) - u[idx]
        hit = np.abs(F) <= 1e-15  # t_i solves F(t) = u to rounding: keep it
        active[idx[hit]] = False
        idx, ti, F = idx[~hit], ti[~hit], F[~hit]
        if idx.size == 0:
            break
        f = pdf(ti, idx)
        below = F < 0
        lo_a[idx[below]] = ti[below]
        hi_a[idx[~below]] = ti[~below]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            tn = ti - F / f
        lo_i, hi_i = lo_a[idx], hi_a[idx]
        bad = ~np.isfinite(tn) | (tn <= lo_i) | (tn >= hi_i)
        tn = np.where(bad, 0.5 * (lo_i + hi_i), tn)
        t[idx] = tn
        tol = 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(tn))
        done = (~bad & (np.abs(tn - ti) <= tol)) | (hi_i - lo_i <= tol)
        active[idx[done]] = False
    if np.any(active):  # pragma: no cover - bisection always shrinks the bracket
        raise RuntimeError("inverse-CDF iteration did not converge")
    return t


def _rejection(propose, ratio, bound: float, size: int, g: np.random.Generator, budget: int):
    """Rejection sampling: accept a proposal t when U * bound < ratio(t)."""
    out: list[np.ndarray] = []
    got, used = 0, 0
    while got < size:
        batch = int(min(budget - used, max(16, math.ceil(1.3 * (size - got) * bound) + 8)))
        if batch <= 0:
            raise ProposalBudgetError(
                f"rejection sampler used its budget of {budget} proposals with "
                f"{got}/{size} points accepted; increase `budget`"
            )
        t = propose(batch)
        r = ratio(t)
        if np.any(r > bound * (1 + 1e-9)):
            raise RuntimeError("rejection envelope violated; refusing to return inexact points")
        acc = t[g.random(batch) * bound < r]
        used += batch
        out.append(acc)
        got += acc.size
    return np.concatenate(out)[:size]


def _rejection_many(
    propose, ratio, bound: np.ndarray, g: np.random.Generator, budget: int, tries: int = 3
):
    """Rejection sampling of one point per target i: accept t when U·bound_i < ratio(t, i).

    Each round proposes ``tries`` candidates per pending target and keeps the
    first accepted one (later candidates are discarded unexamined in effect).
    """
    n = bound.size
    out = np.empty(n)
    todo = np.arange(n)
    used = 0
    while todo.size:
        if used + todo.size * tries > budget:
            raise ProposalBudgetError(
                f"rejection sampler used its budget of {budget} proposals with "
                f"{n - todo.size}/{n} points accepted; increase `budget`"
            )
        rep = np.repeat(todo, tries)
        t = propose(rep.size)
        r = ratio(t, rep)
        b = bound[rep]
        if np.any(r > b * (1 + 1e-9)):
            raise RuntimeError("rejection envelope violated; refusing to return inexact points")
        used += rep.size
        acc = (g.random(rep.size) * b < r).reshape(todo.size, tries)
        hit = acc.any(axis=1)
        first = np.argmax(acc, axis=1)
        tt = t.reshape(todo.size, tries)
        out[todo[hit]] = tt[hit, first[hit]]
        todo = todo[~hit]
    return out


class Jacobi(Family):
    r"""Orthonormal Jacobi polynomials for :class:`BetaMeasure` (α, β) on [low, high].

    Notes
    -----
    Monic recurrence coefficients (Gautschi 2004, Table 1.1):
    a_n = (β² − α²)/((2n+α+β)(2n+α+β+2)), a_0 = (β − α)/(α + β + 2),
    b_n = 4n(n+α)(n+β)(n+α+β)/((2n+α+β)²(2n+α+β+1)(2n+α+β−1)),
    b_1 = 4(1+α)(1+β)/((2+α+β)²(3+α+β)).

    For |α|, |β| ≤ 1/2, p_k² dμ is sampled by rejection from the arcsine law with
    the bound π(1−t)^{α+1/2}(1+t)^{β+1/2} p̃_k(t)² ≤ 2Γ(k+α+β+1)Γ(k+q+1) /
    (k!(k+(α+β+1)/2)^{2q}Γ(k+min(α,β)+1)), q = max(α, β), of Chow, Gatteschi and
    Wong (1994) as given by Gautschi (2009); this is the bound DPPy uses.

    References
    ----------
    .. [1] W. Gautschi, *Orthogonal Polynomials: Computation and Approximation*, 2004.
    .. [2] Y. Chow, L. Gatteschi, R. Wong, "A Bernstein-type inequality for the Jacobi
       polynomial", Proc. AMS 121 (1994).
    .. [3] W. Gautschi, "How sharp is Bernstein's inequality for Jacobi polynomials?",
       ETNA 36 (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Jacobi
    >>> fam = Jacobi(0.5, -0.5)
    >>> t, w = fam.measure.quadrature(10)
    >>> P = fam(t[:, 0], 4)
    >>> bool(np.allclose(P.T @ (w[:, None] * P), np.eye(5)))
    True
    """

    def __init__(self, alpha: float = 0.0, beta: float = 0.0, low: float = -1.0, high: float = 1.0):
        self.measure: BetaMeasure = BetaMeasure(alpha, beta, low, high)
        self.alpha, self.beta = self.measure.alpha, self.measure.beta

    def __repr__(self) -> str:
        m = self.measure
        return f"Jacobi(alpha={self.alpha:g}, beta={self.beta:g}, low={m.low:g}, high={m.high:g})"

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        al, be = self.alpha, self.beta
        n = np.arange(K + 2, dtype=float)
        s = 2 * n + al + be
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (be * be - al * al) / (s * (s + 2))
            b = 4 * n * (n + al) * (n + be) * (n + al + be) / (s * s * (s + 1) * (s - 1))
        a[0] = (be - al) / (al + be + 2)
        b[0] = 0.0
        if K + 2 > 1:
            b[1] = 4 * (1 + al) * (1 + be) / ((2 + al + be) ** 2 * (3 + al + be))
        return a, b

    def _cgw_bound(self, k: int) -> float:
        al, be = self.alpha, self.beta
        q, mn = max(al, be), min(al, be)
        logc = (
            math.log(2.0)
            + special.gammaln(k + al + be + 1)
            + special.gammaln(k + q + 1)
            - special.gammaln(k + 1)
            - 2 * q * math.log(k + (al + be + 1) / 2)
            - special.gammaln(k + mn + 1)
        )
        return float(math.exp(logc))

    def _std_sample_squared(self, k: int, size: int, g: np.random.Generator, budget: int):
        al, be = self.alpha, self.beta
        if abs(al) <= 0.5 and abs(be) <= 0.5:
            bound = self._cgw_bound(k)

            def ratio(t: np.ndarray) -> np.ndarray:
                p = self.eval_std(t, k)[:, k]
                return math.pi * p * p * self.measure.std_pdf(t) * np.sqrt((1 - t) * (1 + t))

            return _rejection(
                lambda n: np.cos(math.pi * g.random(n)), ratio, bound, size, g, budget
            )
        return super()._std_sample_squared(k, size, g, budget)

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        if not (abs(self.alpha) <= 0.5 and abs(self.beta) <= 0.5):
            return super()._std_many(ks, g, budget)
        K = int(ks.max())
        bounds = np.array([self._cgw_bound(k) if k > 0 else 1.0 for k in range(K + 1)])

        al, be = self.alpha, self.beta
        kr = np.arange(1, K + 1)
        # squared norms of scipy's P_k^{(alpha, beta)} under the normalised measure
        log_h = (
            special.gammaln(kr + al + 1)
            + special.gammaln(kr + be + 1)
            - np.log(2 * kr + al + be + 1)
            - special.gammaln(kr + al + be + 1)
            - special.gammaln(kr + 1)
            - special.betaln(al + 1, be + 1)
        )
        inv_h = np.concatenate([[1.0], np.exp(-log_h)])

        def ratio(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
            # scipy evaluates P_k^{(alpha, beta)} by its three-term recurrence in C
            kk = ks[idx]
            P = special.eval_jacobi(kk, al, be, t)
            return (
                math.pi * P * P * inv_h[kk] * self.measure.std_pdf(t) * np.sqrt((1 - t) * (1 + t))
            )

        return _rejection_many(
            lambda n: np.cos(math.pi * g.random(n)), ratio, bounds[ks], g, budget
        )

    def _std_bracket(self, k: int) -> tuple[float, float]:
        return -1.0, 1.0

    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        out = np.empty_like(t)
        left = t <= 0
        out[left] = self._left_cdf(k, t[left], self.alpha, self.beta, 1.0)
        out[~left] = 1.0 - self._left_cdf(k, -t[~left], self.beta, self.alpha, -1.0)
        return np.clip(out, 0.0, 1.0)

    def _left_cdf(self, k: int, x: np.ndarray, al: float, be: float, sign: float) -> np.ndarray:
        # ∫_{-1}^{x} p_k(sign*t)^2 c (1-t)^al (1+t)^be dt for x <= 0, via t = -1 + (x+1)(1+s)/2
        if x.size == 0:
            return x
        s, w = special.roots_jacobi(k + 30, 0.0, be)
        h = (x + 1) / 2
        tt = -1 + h[:, None] * (1 + s[None, :])
        p = self.eval_std(sign * tt.ravel(), k)[:, k].reshape(tt.shape)
        logc = (al + be + 1) * math.log(2.0) + special.betaln(al + 1, be + 1)
        with np.errstate(divide="ignore"):
            pref = np.exp((be + 1) * np.log(h) - logc)
        return pref * ((p * p * (1 - tt) ** al) @ w)


class Legendre(Jacobi):
    """Orthonormal Legendre polynomials for the uniform measure on [low, high].

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Legendre
    >>> np.round(Legendre()([1.0], 2), 6).tolist()   # sqrt(2k + 1) at t = 1
    [[1.0, 1.732051, 2.236068]]
    """

    def __init__(self, low: float = -1.0, high: float = 1.0):
        super().__init__(0.0, 0.0, low, high)
        self.measure = UniformMeasure(low, high)

    def __repr__(self) -> str:
        return f"Legendre(low={self.measure.low:g}, high={self.measure.high:g})"


class Chebyshev(Jacobi):
    """Orthonormal Chebyshev polynomials (first kind) for the arcsine measure.

    p_0 = 1 and p_k(cos θ) = √2 cos(kθ).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Chebyshev
    >>> th = 0.3
    >>> bool(np.isclose(Chebyshev()([np.cos(th)], 3)[0, 3], np.sqrt(2) * np.cos(3 * th)))
    True
    """

    def __init__(self, low: float = -1.0, high: float = 1.0):
        super().__init__(-0.5, -0.5, low, high)

    def __repr__(self) -> str:
        return f"Chebyshev(low={self.measure.low:g}, high={self.measure.high:g})"


class Hermite(Family):
    r"""Orthonormal (probabilists') Hermite polynomials for :class:`GaussianMeasure`.

    Notes
    -----
    Recurrence a_k = 0, b_k = k. The CDF of h_k² dN(0,1) has the closed form

    .. math:: G_k(t) = Φ(t) − φ(t) Σ_{j=1}^{k} h_j(t) h_{j−1}(t)/√j,

    which follows from d/dt[ψ_j ψ_{j−1}] = √j (ψ_{j−1}² − ψ_j²) for the Hermite
    functions ψ_j = h_j √φ; it has no cancellation, and is inverted by Newton's
    method (using G_k(t) = 1 − G_k(−t) for t > 0).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Hermite
    >>> np.round(Hermite()([2.0], 2), 6).tolist()   # 1, t, (t^2 - 1)/sqrt(2)
    [[1.0, 2.0, 2.12132]]
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0):
        self.measure: GaussianMeasure = GaussianMeasure(mean, std)

    def __repr__(self) -> str:
        return f"Hermite(mean={self.measure.shift:g}, std={self.measure.scale:g})"

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        n = np.arange(K + 2, dtype=float)
        return np.zeros(K + 2), n

    def _std_bracket(self, k: int) -> tuple[float, float]:
        L = math.sqrt(4 * k + 2) + 40.0
        return -L, L

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        # one Newton iteration for all degrees at once: the CDF terms are cumulated
        # up to max(ks) and read off at each point's own degree
        u = g.random(ks.size)
        lo, hi = self._std_bracket(int(ks.max()))
        return _inverse_cdf(
            lambda t, i: self._cdf_mixed(ks[i], t),
            lambda t, i: self._density_mixed(ks[i], t),
            u,
            lo,
            hi,
            t0=special.ndtri(u) * np.sqrt(2 * ks + 1.0),  # h_k^2 dN has variance 2k + 1
        )

    def _cdf_mixed(self, kk: np.ndarray, t: np.ndarray) -> np.ndarray:
        s = -np.abs(t)
        K = int(kk.max())
        P = self.eval_std(s, K)
        terms = P[:, 1:] * P[:, :-1] / np.sqrt(np.arange(1, K + 1))
        csum = np.concatenate([np.zeros((s.size, 1)), np.cumsum(terms, axis=1)], axis=1)
        corr = csum[np.arange(s.size), kk]
        G = special.ndtr(s) - np.exp(-0.5 * s * s) / math.sqrt(2 * math.pi) * corr
        G = np.clip(G, 0.0, 1.0)
        return np.where(t <= 0, G, 1.0 - G)

    def _density_mixed(self, kk: np.ndarray, t: np.ndarray) -> np.ndarray:
        P = self.eval_std(t, int(kk.max()))
        p = P[np.arange(t.size), kk]
        return p * p * self.measure.std_pdf(t)

    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        s = -np.abs(t)
        P = self.eval_std(s, k)
        j = np.arange(1, k + 1)
        corr = (P[:, 1:] * P[:, :-1] / np.sqrt(j)).sum(axis=1)
        G = special.ndtr(s) - np.exp(-0.5 * s * s) / math.sqrt(2 * math.pi) * corr
        G = np.clip(G, 0.0, 1.0)
        return np.where(t <= 0, G, 1.0 - G)


class Laguerre(Family):
    r"""Orthonormal (generalised) Laguerre polynomials for :class:`GammaMeasure` (α).

    Notes
    -----
    Monic recurrence a_k = 2k + α + 1, b_k = k(k + α). The CDF of p_k² dμ is
    computed by Gauss–Jacobi quadrature on [0, x] (weight s^α) for x below
    2k + α + 1 and by Gauss–Laguerre quadrature of the upper tail beyond it.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Laguerre
    >>> fam = Laguerre(0.5)
    >>> t, w = fam.measure.quadrature(8)
    >>> P = fam(t[:, 0], 3)
    >>> bool(np.allclose(P.T @ (w[:, None] * P), np.eye(4)))
    True
    """

    def __init__(self, alpha: float = 0.0, scale: float = 1.0):
        self.measure: GammaMeasure = GammaMeasure(alpha, scale)
        self.alpha = self.measure.alpha

    def __repr__(self) -> str:
        return f"Laguerre(alpha={self.alpha:g}, scale={self.measure.scale:g})"

    def recurrence(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        n = np.arange(K + 2, dtype=float)
        return 2 * n + self.alpha + 1, n * (n + self.alpha)

    def _std_bracket(self, k: int) -> tuple[float, float]:
        return 0.0, 4.0 * k + 2 * self.alpha + 120.0

    def _std_cdf(self, k: int, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        al = self.alpha
        split = 2 * k + al + 1
        out = np.empty_like(t)
        lg = special.gammaln(al + 1)
        left = t <= split
        x = t[left]
        if x.size:
            s, w = special.roots_jacobi(2 * k + 40, 0.0, al)
            tt = x[:, None] * (1 + s[None, :]) / 2
            p = self.eval_std(tt.ravel(), k)[:, k].reshape(tt.shape)
            with np.errstate(divide="ignore"):
                pref = np.exp((al + 1) * np.log(x / 2) - lg)
            out[left] = pref * ((p * p * np.exp(-tt)) @ w)
        x = t[~left]
        if x.size:
            u, w = special.roots_laguerre(2 * k + 40)
            tt = x[:, None] + u[None, :]
            p = self.eval_std(tt.ravel(), k)[:, k].reshape(tt.shape)
            tail = np.exp(-x - lg) * ((p * p * tt**al) @ w)
            out[~left] = 1.0 - tail
        return np.clip(out, 0.0, 1.0)


class Trigonometric(Family):
    r"""Orthonormal trigonometric system on [low, high] with the uniform measure.

    With u = (x − low)/(high − low): p_0 = 1, p_{2j−1} = √2 cos(2πju),
    p_{2j} = √2 sin(2πju). Since p_k² ≤ 2, p_k² dμ is sampled by rejection from μ
    with bound 2.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares import Trigonometric
    >>> fam = Trigonometric()
    >>> x = (np.arange(16) + 0.5) / 16
    >>> P = fam(x, 4)
    >>> bool(np.allclose(P.T @ P / 16, np.eye(5)))
    True
    """

    def __init__(self, low: float = 0.0, high: float = 1.0):
        self.measure: UniformMeasure = UniformMeasure(low, high)

    def __repr__(self) -> str:
        return f"Trigonometric(low={self.measure.low:g}, high={self.measure.high:g})"

    def eval_std(self, t: np.ndarray, K: int) -> np.ndarray:
        u = (np.asarray(t, float).ravel() + 1) / 2
        P = np.empty((u.size, K + 1))
        P[:, 0] = 1.0
        j = np.arange(1, K // 2 + 2)
        ang = 2 * math.pi * u[:, None] * j[None, :]
        c, s = math.sqrt(2) * np.cos(ang), math.sqrt(2) * np.sin(ang)
        P[:, 1::2] = c[:, : (K + 1) // 2]
        P[:, 2::2] = s[:, : K // 2]
        return P

    def _std_sample_squared(self, k: int, size: int, g: np.random.Generator, budget: int):
        def ratio(t: np.ndarray) -> np.ndarray:
            p = self.eval_std(t, k)[:, k]
            return p * p

        return _rejection(lambda n: 2 * g.random(n) - 1, ratio, 2.0, size, g, budget)

    def _std_many(self, ks: np.ndarray, g: np.random.Generator, budget: int) -> np.ndarray:
        def ratio(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
            kk = ks[idx]
            P = self.eval_std(t, int(kk.max()))
            p = P[np.arange(t.size), kk]
            return p * p

        return _rejection_many(
            lambda n: 2 * g.random(n) - 1, ratio, np.full(ks.size, 2.0), g, budget
        )


def _family_iv(family: Any, name: str = "family") -> Family:
    if isinstance(family, Family):
        return family
    if isinstance(family, str):
        table = {
            "legendre": Legendre,
            "chebyshev": Chebyshev,
            "hermite": Hermite,
            "laguerre": Laguerre,
            "trigonometric": Trigonometric,
            "jacobi": Jacobi,
        }
        key = family.lower()
        if key in table:
            return table[key]()
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, table))}, got {family!r}")
    raise ValueError(f"`{name}` must be a Family or a family name, got {family!r}")
