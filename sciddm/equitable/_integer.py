r"""Integer allocations: the exact utilitarian optimum, max-min levels, the greedy.

Exact utilitarian allocation
----------------------------
Minimise :math:`F(n) = \sum_g f_g(n_g)`, :math:`f_g(n) = w_g a_g n^{-b_g}`
(convex, decreasing), over integers :math:`lo_g \le n_g \le hi_g` with
:math:`\sum_g c_g n_g \le B`. For any :math:`\lambda \ge 0`, with
:math:`h_g(\lambda) = \min_{n} f_g(n) + \lambda c_g n` (over the integers of the
box) and the *excess* :math:`x_g(n) = f_g(n) + \lambda c_g n - h_g(\lambda) \ge 0`,

.. math:: F(n) = \underbrace{\sum_g h_g(\lambda) - \lambda B}_{L(\lambda)}
          + \sum_g x_g(n_g) + \lambda (B - c^\top n).

Both added terms are non-negative on feasible points, so :math:`L(\lambda)` is
a lower bound, and any allocation better than an incumbent :math:`\bar n`
satisfies :math:`\sum_g x_g(n_g) \le F(\bar n) - L(\lambda)`. Each
:math:`x_g` is convex with minimum 0, so the candidates of each group form an
interval that shrinks as the other groups use up the slack: a depth-first search
over these intervals (the last group takes every sample the budget still
affords, since its curve decreases) visits every allocation that could beat the
incumbent, and returns the exact optimum. :math:`\lambda` maximises
:math:`L`, a concave function of :math:`\lambda` (golden-section search).

Greedy by marginal gain
-----------------------
The one-at-a-time greedy gives the next sample to the affordable group with the
largest :math:`w_g(\mathrm{err}_g(n_g) - \mathrm{err}_g(n_g + 1))/c_g` (lowest
index among ties). For power-law curves these gains decrease in :math:`n_g`, so
while every group is affordable the greedy merges the groups' decreasing gain
sequences: after some number of steps it holds exactly the samples whose gain
exceeds a threshold :math:`\tau`. :func:`greedy_fast` finds the smallest
:math:`\tau` whose set still leaves a budget of at least :math:`\max_g c_g`
(so every step on the way was taken with all groups affordable, and the set is
a state the greedy passes through), jumps there, and runs the one-at-a-time
greedy for the remaining few steps: the same result, without the
:math:`B / c` steps.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

import numpy as np

from sciddm._core.progress import progress_bar

__all__ = ["greedy_fast", "greedy_steps", "maxmin_integer", "utilitarian_integer"]

#: nodes of the exact search after which it stops with a warning (never in practice)
MAX_NODES = 2_000_000
#: one-at-a-time greedy steps allowed (general curves); beyond, an error names `budget`
MAX_STEPS = 10_000_000

GainFn = Callable[[int, np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- exact utilitarian


class _Utilitarian:
    """The exact search of the module docstring for one problem (active groups only)."""

    def __init__(
        self, wa: np.ndarray, b: np.ndarray, c: np.ndarray, B: float, lo: np.ndarray,
        hi: np.ndarray,
    ) -> None:  # fmt: skip
        self.wa, self.b, self.c, self.B, self.lo, self.hi = wa, b, c, B, lo, hi
        # plain floats for the scalar inner loops (numpy scalars are ten times slower)
        self._wa, self._b, self._c = wa.tolist(), b.tolist(), c.tolist()
        self._lam: float = float("nan")
        self._m: list[float] = []
        self.nodes = 0

    def total(self, n: np.ndarray) -> float:
        return float(np.sum(self.wa * n.astype(float) ** (-self.b)))

    def _argmin(self, lam: float) -> np.ndarray:
        """Integer minimiser of f_g(n) + lam c_g n over the box, per group."""
        with np.errstate(divide="ignore", over="ignore"):
            x = (self.wa * self.b / (lam * self.c)) ** (1.0 / (1.0 + self.b))
        x = np.clip(np.nan_to_num(x, nan=0.0, posinf=1e300), self.lo, np.minimum(self.hi, 1e300))
        fl = np.clip(np.floor(x), self.lo, self.hi)
        ce = np.clip(np.ceil(x), self.lo, self.hi)
        vf = self.wa * fl ** (-self.b) + lam * self.c * fl
        vc = self.wa * ce ** (-self.b) + lam * self.c * ce
        return np.where(vc < vf, ce, fl)

    def dual(self, lam: float) -> tuple[float, np.ndarray]:
        """L(lam) and the per-group minima h_g(lam)."""
        n = self._argmin(lam)
        h = self.wa * n ** (-self.b) + lam * self.c * n
        return float(h.sum() - lam * self.B), h

    def best_lambda(self) -> float:
        """Golden-section search of the concave L over log(lam)."""
        n_hi = np.minimum(self.hi, self.B / self.c)
        slopes_lo = self.wa * self.b * n_hi ** (-self.b - 1) / self.c
        slopes_hi = self.wa * self.b * self.lo ** (-self.b - 1) / self.c
        a = math.log(max(float(slopes_lo.min()), 1e-300)) - 1.0
        d = math.log(max(float(slopes_hi.max()), 1e-300)) + 1.0
        r = (math.sqrt(5.0) - 1.0) / 2.0
        b_, c_ = d - r * (d - a), a + r * (d - a)
        fb, fc = self.dual(math.exp(b_))[0], self.dual(math.exp(c_))[0]
        for _ in range(200):
            if d - a < 1e-12:
                break
            if fb < fc:
                a, b_, fb = b_, c_, fc
                c_ = a + r * (d - a)
                fc = self.dual(math.exp(c_))[0]
            else:
                d, c_, fc = c_, b_, fb
                b_ = d - r * (d - a)
                fb = self.dual(math.exp(b_))[0]
        return math.exp(b_ if fb >= fc else c_)

    def excess(self, g: int, n: int, lam: float, h: float) -> float:
        """x_g(n) = f_g(n) + lam c_g n - h_g(lam)."""
        return self._wa[g] * n ** (-self._b[g]) + lam * self._c[g] * n - h

    def tabulate(self, lam: float, h: np.ndarray, slack: float) -> None:
        """Tabulate each group's excess over its candidates at ``slack`` (the root gap).

        Deeper nodes only shrink the slack, so their candidate intervals are found by
        bisection in these tables (``bisect`` on Python lists, no recomputation).
        """
        self.lam, self.h = lam, h
        m_all = self._argmin(lam)
        self.tab: list[tuple[int, int, list[float], list[float]]] = []
        for g in range(self.wa.size):
            lo_g = int(self.lo[g])
            hi_g = int(min(self.hi[g], math.floor(self.B / self._c[g] + 1e-9)))
            m = min(max(int(m_all[g]), lo_g), hi_g)
            left = self._reach(g, m, lo_g, -1, slack)
            right = self._reach(g, m, hi_g, +1, slack)
            ks = np.arange(left, right + 1, dtype=float)
            ex = self.wa[g] * ks ** (-self.b[g]) + lam * self.c[g] * ks - h[g]
            i_m = m - left
            # left part reversed (increasing away from m), right part increasing
            self.tab.append((m, left, ex[: i_m + 1][::-1].tolist(), ex[i_m:].tolist()))

    def _reach(self, g: int, m: int, end: int, step: int, slack: float) -> int:
        """The last n from m towards ``end`` with excess <= slack (doubling, then bisection)."""
        h = float(self.h[g])
        if self.excess(g, m, self.lam, h) > slack:
            return m
        good, span = m, 1
        while True:
            nxt = m + step * span
            if (nxt - end) * step > 0:
                nxt = end
            if self.excess(g, nxt, self.lam, h) > slack:
                bad = nxt
                break
            good = nxt
            if nxt == end:
                return good
            span *= 2
        while abs(bad - good) > 1:
            mid = (good + bad) // 2
            if self.excess(g, mid, self.lam, h) <= slack:
                good = mid
            else:
                bad = mid
        return good

    def interval(self, g: int, slack: float) -> tuple[int, int, int]:
        """(lo, argmin, hi) of group g's candidates with excess <= slack (lo > hi: none)."""
        m, left, down, up = self.tab[g]
        if not down or down[0] > slack:
            return 1, 0, 0
        i_lo = bisect.bisect_right(down, slack) - 1
        i_hi = bisect.bisect_right(up, slack) - 1
        return m - i_lo, m, m + i_hi

    def ex_at(self, g: int, k: int) -> float:
        """The tabulated excess of group g at k (inside its root interval)."""
        m, left, down, up = self.tab[g]
        return down[m - k] if k <= m else up[k - m]


class _Search:
    """Depth-first search over the groups' candidate intervals (module docstring)."""

    def __init__(self, prob: _Utilitarian, order: np.ndarray, last: int, lam: float,
                 h: np.ndarray, L: float, best: np.ndarray) -> None:  # fmt: skip
        self.prob, self.order, self.last, self.lam, self.h, self.L = prob, order, last, lam, h, L
        self.best, self.val = best, prob.total(best)
        self.tol = 1e-12 * max(abs(self.val), 1e-300)
        self.reserve = [float(prob.c[order[i + 1 :]] @ prob.lo[order[i + 1 :]])
                        + float(prob.c[last] * prob.lo[last]) for i in range(len(order))]  # fmt: skip

    def leaves(
        self, partial: np.ndarray, g: int, lo_n: int, hi_n: int, spent: float, fval: float
    ) -> None:
        """Candidates lo_n..hi_n of the deepest enumerated group ``g``; the last group
        takes every sample the remaining budget affords (``fval``: the objective of the
        groups fixed so far)."""
        p, j = self.prob, self.last
        wa_g, b_g, c_g = p._wa[g], p._b[g], p._c[g]
        wa_j, b_j, c_j = p._wa[j], p._b[j], p._c[j]
        lo_j, hi_j = float(p.lo[j]), float(p.hi[j])
        best_v, best_k, best_l = math.inf, -1, -1.0
        for k in range(lo_n, hi_n + 1):  # short intervals: plain floats beat numpy here
            kl = min(hi_j, math.floor((p.B - spent - c_g * k) / c_j + 1e-9))
            if kl < lo_j:
                continue
            v = fval + wa_g * k ** (-b_g) + wa_j * kl ** (-b_j)
            if v < best_v:
                best_v, best_k, best_l = v, k, kl
        if best_v < self.val - self.tol:
            self.best = partial.copy()
            self.best[g], self.best[j] = best_k, int(best_l)
            self.val = best_v
            self.tol = 1e-12 * max(abs(self.val), 1e-300)

    def dfs(self, level: int, partial: np.ndarray, spent: float, used: float, fval: float) -> None:
        p = self.prob
        p.nodes += 1
        if p.nodes > MAX_NODES:
            return
        g = int(self.order[level])
        slack = self.val - self.L - used + self.tol
        if slack < 0:
            return
        lo_n, m, hi_n = p.interval(g, slack)
        if lo_n > hi_n:
            return
        room = p.B - spent - self.reserve[level]
        hi_n = min(hi_n, math.floor(room / p._c[g] + 1e-9))
        if level == len(self.order) - 1:
            self.leaves(partial, g, lo_n, hi_n, spent, fval)
            return
        wa_g, b_g, c_g = p._wa[g], p._b[g], p._c[g]
        for k in _outward(min(max(m, lo_n), max(hi_n, lo_n)), lo_n, hi_n):
            ex = p.ex_at(g, k)
            if used + ex > self.val - self.L + self.tol:
                continue
            partial[g] = k
            self.dfs(level + 1, partial, spent + c_g * k, used + ex, fval + wa_g * k ** (-b_g))
        partial[g] = p.lo[g]


def utilitarian_integer(
    a: np.ndarray, b: np.ndarray, w: np.ndarray, c: np.ndarray, B: float, lo: np.ndarray,
    hi: np.ndarray, incumbent: np.ndarray, n_cont: np.ndarray | None = None,
) -> tuple[np.ndarray, bool]:  # fmt: skip
    """The integer allocation minimising ``sum_g w_g a_g n_g^(-b_g)``; (n, exact).

    ``incumbent`` is a feasible integer allocation (the search returns it if
    nothing beats it); groups with ``w_g a_g = 0`` stay at ``lo``. ``exact`` is
    False only if the search hit :data:`MAX_NODES` (the best allocation found
    is returned).
    """
    wa = w * a
    flat = wa <= 0
    n = np.asarray(incumbent, dtype=np.int64).copy()
    n[flat] = lo[flat].astype(np.int64)
    act = np.flatnonzero(~flat)
    if act.size == 0:
        return n, True
    B_act = B - float(c[flat] @ lo[flat])
    prob = _Utilitarian(wa[act], b[act], c[act], B_act, lo[act], hi[act])
    if float(c[act] @ np.minimum(hi[act], 1e300)) <= B_act:  # every group affords its upper bound
        n[act] = hi[act].astype(np.int64)
        return n, True
    best = n[act].copy()
    if act.size == 1:  # one group: as many samples as the budget affords
        best[0] = min(hi[act][0], math.floor(B_act / c[act][0] + 1e-9))
        n[act] = best
        return n, True
    lam = _lambda_of(prob, None if n_cont is None else n_cont[act])
    L, h = prob.dual(lam)
    gap = prob.total(best) - L
    prob.tabulate(lam, h, gap + 1e-12 * max(abs(prob.total(best)), 1e-300))
    # the group with the widest candidate interval is determined by the others (last);
    # the others are enumerated narrowest first
    width = []
    for g in range(act.size):
        lo_n, _, hi_n = prob.interval(g, gap)
        width.append(hi_n - lo_n)
    ranked = np.argsort(width, kind="stable")
    search = _Search(prob, ranked[:-1], int(ranked[-1]), lam, h, L, best)
    search.dfs(0, prob.lo.astype(np.int64).copy(), 0.0, 0.0, 0.0)
    n[act] = search.best
    return n, prob.nodes <= MAX_NODES


def _lambda_of(prob: _Utilitarian, n_cont: np.ndarray | None) -> float:
    """The multiplier: the continuous optimum's marginal gain per unit cost of its groups
    strictly inside their bounds (all equal at the optimum), refined on the concave
    dual; the full golden-section search when no group is interior."""
    if n_cont is not None:
        inner = (n_cont > prob.lo + 1e-9) & (n_cont < np.minimum(prob.hi, 1e300) - 1e-9)
        if inner.any():
            n = n_cont[inner]
            lam = float(np.median(prob.wa[inner] * prob.b[inner] * n ** (-prob.b[inner] - 1)
                                  / prob.c[inner]))  # fmt: skip
            if math.isfinite(lam) and lam > 0:
                return lam
    return prob.best_lambda()


def _outward(m: int, lo: int, hi: int) -> list[int]:
    """The integers of [lo, hi] from m outwards, alternating (the most promising first)."""
    out = [m] if lo <= m <= hi else []
    for d in range(1, max(m - lo, hi - m) + 1):
        if m - d >= lo and m - d <= hi:
            out.append(m - d)
        if m + d <= hi and m + d >= lo:
            out.append(m + d)
    return out


# --------------------------------------------------------------------------- max-min


def _bisect_decreasing(f: Callable[[float], float], lo: float, hi: float, target: float) -> float:
    """x in [lo, hi] with f(x) ~= target for f non-increasing (bisection to machine precision)."""
    for _ in range(300):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def maxmin_integer(
    a: np.ndarray, b: np.ndarray, e: np.ndarray, c: np.ndarray, B: float, lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Smallest integer level: n_g = ceil(n_g(t)) with the least t that the budget affords."""

    def n_of(t: float) -> np.ndarray:
        gap = t - e
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            raw = np.where(gap > 0, (a / np.maximum(gap, 1e-300)) ** (1.0 / b), np.inf)
        return np.clip(np.ceil(raw * (1 - 1e-12)), lo, hi)

    n_max = np.where(a > 0, hi, lo).astype(float)
    if float(c @ np.minimum(n_max, 1e300)) <= B:
        return np.floor(n_max)
    t_hi = float(np.max(a * lo ** (-b) + e))
    t = _bisect_decreasing(lambda t: float(c @ n_of(t)), float(np.max(e)), t_hi, B)
    return n_of(t)


# --------------------------------------------------------------------------- greedy


def greedy_steps(
    n: np.ndarray, gain: GainFn, c: np.ndarray, B: float, hi: np.ndarray, *,
    progress: bool = False,
) -> np.ndarray:  # fmt: skip
    """The one-at-a-time greedy from ``n`` (modified in place and returned).

    ``gain(j, n_j)`` is group ``j``'s gain per unit cost of its next sample.
    """
    steps = max(0.0, (B - float(c @ n)) / float(c.min()))
    if steps > MAX_STEPS:
        raise ValueError(
            f"`budget` affords about {steps:.3g} more samples, each a step of the greedy for "
            f"these curves (the limit is {MAX_STEPS}); pass power-law curves (fast exact "
            "path) or a smaller budget"
        )
    bar = progress_bar(range(int(steps) + 2), enabled=progress, desc="greedy allocation")
    for _ in bar:
        room = B - float(c @ n)
        ok = np.flatnonzero((c <= room + 1e-9) & (n < hi))
        if ok.size == 0:
            break
        gains = np.array([float(gain(int(j), n[j : j + 1])[0]) for j in ok])
        n[ok[int(np.argmax(gains))]] += 1
    return n


def _count_above(gain: GainFn, j: int, lo: int, top: int, tau: float) -> int:
    """#{k in [lo, top): gain_j(k) > tau} for gains decreasing in k."""
    a, b_ = lo, top  # first k in [lo, top] with gain <= tau (top if none)
    while a < b_:
        mid = (a + b_) // 2
        if float(gain(j, np.array([mid]))[0]) > tau:
            a = mid + 1
        else:
            b_ = mid
    return a - lo


def greedy_fast(
    n: np.ndarray, gain: GainFn, c: np.ndarray, B: float, hi: np.ndarray, *,
    progress: bool = False,
) -> np.ndarray:  # fmt: skip
    """The greedy's result for gains that decrease in n (see the module docstring)."""
    lo = n.copy()
    G = n.size
    room = B - float(c @ n)
    open_ = n < hi
    if open_.any() and room >= float(c[open_].max()):
        cmax = float(c[open_].max())
        top = np.array([int(min(hi[j], lo[j] + math.floor(room / c[j]) + 1)) for j in range(G)])

        def state(tau: float) -> np.ndarray:
            return lo + np.array([_count_above(gain, j, int(lo[j]), int(top[j]), tau)
                                  for j in range(G)])  # fmt: skip

        def ok(tau: float) -> bool:
            return float(c @ state(tau)) <= B - cmax

        g0 = [float(gain(j, lo[j : j + 1])[0]) for j in range(G) if open_[j]]
        t_hi = math.log(max(max(g0), 1e-300)) + 1.0  # above every gain: the start is feasible
        t_lo = t_hi - 50.0
        while ok(math.exp(t_lo)) and t_lo > -800.0:
            t_hi, t_lo = t_lo, t_lo - 50.0
        if ok(math.exp(t_lo)):  # every affordable sample has a gain below exp(-800)
            t_hi = t_lo
        else:  # invariant: ok(exp(t_hi)), not ok(exp(t_lo)); bisect to rounding
            for _ in range(200):
                mid = 0.5 * (t_lo + t_hi)
                if mid in (t_lo, t_hi):
                    break
                if ok(math.exp(mid)):
                    t_hi = mid
                else:
                    t_lo = mid
        n = state(math.exp(t_hi))
    return greedy_steps(n, gain, c, B, hi, progress=progress)
