"""Optimal allocation of a sampling budget across groups, given learning curves.

With learning curves ``err_g(n) = a_g n^(-b_g) + e_g``, per-sample costs
``c_g`` and a budget ``B``, :func:`allocate` chooses ``n_g`` (with
``sum_g c_g n_g <= B``) for one of three objectives:

``"utilitarian"``
    minimise ``sum_g w_g err_g(n_g)``;
``"maxmin"``
    minimise ``max_g err_g(n_g)`` (maximise the worst group's performance);
``"disparity-cap"``
    minimise ``sum_g w_g err_g(n_g)`` subject to
    ``max_g err_g - min_g err_g <= cap``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import optimize

from sciddm._core.results import Result
from sciddm._core.validation import check_array, check_choice, check_scalar, warn_convergence
from sciddm.equitable._integer import (
    _bisect_decreasing,
    maxmin_integer,
    utilitarian_integer,
)

__all__ = [
    "Allocation",
    "allocate",
    "evaluate_objective",
]

logger = logging.getLogger(__name__)

OBJECTIVES = ("utilitarian", "maxmin", "disparity-cap")


@dataclasses.dataclass(frozen=True, repr=False)
class Allocation(Result):
    """A budget allocation across groups.

    Attributes
    ----------
    groups : list
        Group names, in the order of the arrays.
    n : ndarray of int
        Integer allocation; ``sum(costs * n) <= budget``.
    n_continuous : ndarray of float
        The continuous optimum (equal to ``n`` for greedy and baselines
        without a continuous form).
    predicted_error : ndarray
        ``err_g(n_g)`` under the curves (NaN when no curves were given).
    value : float
        Objective value of the integer allocation (see :func:`evaluate_objective`).
    value_continuous : float
        Objective value of the continuous optimum.
    cost : float
        ``sum(costs * n)``.
    budget : float
    objective : str
    method : str
        ``"closed-form"``, ``"bisection"``, ``"nested-bisection"``, ``"greedy"``,
        ``"equal"`` or ``"proportional"``.
    disparity : float
        ``max_g err_g - min_g err_g`` at the integer allocation (property).

    Examples
    --------
    >>> from sciddm.equitable import allocate
    >>> res = allocate([dict(a=1, b=0.5, e=0), dict(a=4, b=0.5, e=0)], [1, 1], 100)
    >>> res.as_dict(), res.cost, round(res.disparity, 3)
    ({0: 28, 1: 72}, 100.0, 0.282)
    """

    groups: list[Any]
    n: np.ndarray
    n_continuous: np.ndarray
    predicted_error: np.ndarray
    value: float
    value_continuous: float
    cost: float
    budget: float
    objective: str
    method: str

    @property
    def disparity(self) -> float:
        """``max_g err_g - min_g err_g`` at the integer allocation."""
        return float(np.ptp(self.predicted_error))

    def as_dict(self) -> dict[Any, int]:
        """The allocation as ``{group: n_g}``.

        Returns
        -------
        dict
        """
        return {g: int(k) for g, k in zip(self.groups, self.n)}

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the integer allocation.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (a new figure by default).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        ax.bar([str(g) for g in self.groups], self.n)
        ax.set_ylabel("samples allocated")
        ax.set_title(f"{self.objective} ({self.method})")
        return ax


# --------------------------------------------------------------------------- inputs


def _curve_params(curves: Any) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
    """Names and (a, b, e) arrays from a dict or sequence of curves / parameter dicts."""
    if isinstance(curves, Mapping) and set(curves) == {"a", "b", "e"}:
        raise ValueError(
            "`curves` must hold one curve per group (a dict {group: curve} or a list), "
            "got a single parameter set"
        )
    if isinstance(curves, Mapping):
        names, items = list(curves.keys()), list(curves.values())
    elif isinstance(curves, Sequence) and not isinstance(curves, str):
        names, items = list(range(len(curves))), list(curves)
    else:
        raise ValueError(f"`curves` must be a dict or a sequence of curves, got {curves!r}")
    if not items:
        raise ValueError("`curves` must hold at least one group")
    a, b, e = [], [], []
    for g, c in zip(names, items):
        if c is None:
            raise ValueError(f"`curves`: group {g!r} has no learning curve (no data?)")
        if getattr(c, "model", "power-law") != "power-law":
            raise ValueError(
                f"group {g!r} has a {c.model!r} curve; allocate needs power-law curves "
                "(use greedy_allocate for model-free curves)"
            )
        p = c.params if hasattr(c, "params") else c
        if not isinstance(p, Mapping) or not {"a", "b", "e"} <= set(p):
            raise ValueError(
                f"the curve of group {g!r} must be a LearningCurve or dict(a=..., b=..., e=...), "
                f"got {c!r}"
            )
        ag, bg, eg = float(p["a"]), float(p["b"]), float(p["e"])
        if not (math.isfinite(ag) and ag >= 0):
            raise ValueError(f"group {g!r}: `a` must be non-negative and finite, got {ag!r}")
        if not (math.isfinite(bg) and bg > 0):
            raise ValueError(f"group {g!r}: `b` must be positive and finite, got {bg!r}")
        if not math.isfinite(eg):
            raise ValueError(f"group {g!r}: `e` must be finite, got {eg!r}")
        a.append(ag)
        b.append(bg)
        e.append(eg)
    return names, np.array(a), np.array(b), np.array(e)


def _vector(x: Any, name: str, G: int, names: list[Any], default: Any = None) -> np.ndarray:
    if x is None:
        if default is None:
            raise ValueError(f"`{name}` is required (one value per group)")
        return np.asarray(default, dtype=float)
    if isinstance(x, Mapping):
        missing = [g for g in names if g not in x]
        if missing:
            raise ValueError(f"`{name}` has no entry for group {missing[0]!r}")
        x = [x[g] for g in names]
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        x = [x] * G
    arr = check_array(x, name, ndim=1, finite=name != "upper")
    if np.any(np.isnan(arr)):
        raise ValueError(f"`{name}` must not contain NaN")
    if arr.size != G:
        raise ValueError(f"`{name}` must have one entry per group ({G}), got {arr.size}")
    return arr


def _check_costs_budget(
    costs: Any, budget: Any, G: int, names: list[Any], lower: np.ndarray
) -> tuple[np.ndarray, float]:
    c = _vector(costs, "costs", G, names)
    for g, cg in zip(names, c):
        if not cg > 0:
            raise ValueError(f"`costs` must be positive; group {g!r} has cost {cg:g}")
    B = check_scalar(budget, "budget", lo=0, closed="neither")
    if B / float(c.min()) > 2.0**52:
        raise ValueError(
            f"`budget`={B:g} buys more than 2^52 samples; integer allocations that large are "
            "not representable exactly"
        )
    need = float(np.sum(c * lower))
    if B < need:
        raise ValueError(
            f"`budget`={B:g} is below the cost of the minimum allocation "
            f"({need:g} for {lower.tolist()} samples per group)"
        )
    return c, B


def evaluate_objective(
    errors: Any,
    *,
    objective: str = "utilitarian",
    weights: Any = None,
    cap: float | None = None,
    penalty: float = 1.0,
) -> float:
    r"""Value of an objective (lower is better) at per-group errors.

    ``"utilitarian"``: :math:`\sum_g w_g \mathrm{err}_g`; ``"maxmin"``:
    :math:`\max_g \mathrm{err}_g`; ``"disparity-cap"``:
    :math:`\sum_g w_g \mathrm{err}_g + \mathrm{penalty}\cdot\max(0, D - \mathrm{cap})`
    with the disparity :math:`D = \max_g \mathrm{err}_g - \min_g \mathrm{err}_g`
    (the penalty only matters for allocations that violate the cap).

    Parameters
    ----------
    errors : array_like of shape (G,)
        Per-group errors (finite).
    objective : {"utilitarian", "maxmin", "disparity-cap"}, default "utilitarian"
        The objective.
    weights : array_like of shape (G,), optional
        Non-negative utilitarian weights, normalised to sum to one (default
        :math:`1/G`).
    cap : float, optional
        The disparity cap (required for ``"disparity-cap"``).
    penalty : float, default 1.0
        Weight of a cap violation (non-negative).

    Returns
    -------
    float

    Examples
    --------
    >>> from sciddm.equitable import evaluate_objective
    >>> evaluate_objective([0.1, 0.3], objective="maxmin")
    0.3
    >>> round(evaluate_objective([0.1, 0.3], weights=[3, 1]), 6)
    0.15
    """
    err = check_array(errors, "errors", ndim=1, min_rows=1)
    check_choice(objective, "objective", OBJECTIVES)
    if weights is None:
        w = np.full(err.size, 1.0 / err.size)
    else:
        w = check_array(weights, "weights", ndim=1, shape=(err.size,))
        if np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"`weights` must be non-negative and not all zero, got {w.tolist()}")
        w = w / w.sum()
    penalty = check_scalar(penalty, "penalty", lo=0)
    if cap is not None:
        cap = check_scalar(cap, "cap", lo=0)
    if objective == "maxmin":
        return float(err.max())
    util = float(w @ err)
    if objective == "disparity-cap":
        if cap is None:
            raise ValueError("`cap` is required when objective='disparity-cap'")
        util += penalty * max(0.0, float(np.ptp(err)) - float(cap))
    return util


# --------------------------------------------------------------------------- solvers


def _root_decreasing(f: Callable[[float], float], lo: float, hi: float, target: float) -> float:
    """x in [lo, hi] with f(x) ~= target and f(x) <= target, for f continuous non-increasing.

    Brent's method (about 10 evaluations) where the bracket changes sign, then a step
    to the feasible side; the bisection of :func:`_bisect_decreasing` otherwise.
    """
    f_lo, f_hi = f(lo) - target, f(hi) - target
    if not (f_lo > 0 > f_hi):
        return _bisect_decreasing(f, lo, hi, target)
    x = float(optimize.brentq(lambda z: f(z) - target, lo, hi, xtol=1e-14, rtol=8.9e-16))
    for _ in range(64):  # rounding may leave f(x) a hair above target: move towards hi
        if f(x) <= target or x >= hi:
            break
        x = float(np.nextafter(x, hi)) if abs(x) < 1 else x + 4e-16 * abs(x)
    return min(x, hi)


def _utilitarian(
    a: np.ndarray, b: np.ndarray, w: np.ndarray, c: np.ndarray, B: float, lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, str]:  # fmt: skip
    # Lagrange: w a b n^(-b-1) = lam c  ->  n(lam) = (w a b / (lam c))^(1/(1+b))
    if np.allclose(b, b[0], rtol=1e-12, atol=0) and np.all(w * a > 0):
        k = (w * a / c) ** (1.0 / (1.0 + b[0]))
        n = B * k / float(c @ k)
        if np.all(n >= lo) and np.all(n <= hi):
            return n, "closed-form"
    num = w * a * b / c
    n_max = np.where(num > 0, hi, lo).astype(float)
    if float(c @ np.minimum(n_max, 1e300)) <= B:  # everything wanted is affordable
        return n_max, "bisection"

    def n_of(log_lam: float) -> np.ndarray:
        with np.errstate(divide="ignore", over="ignore"):
            raw = np.exp((np.log(np.maximum(num, 1e-300)) - log_lam) / (1.0 + b))
        raw = np.where(num > 0, raw, 0.0)
        return np.clip(raw, lo, hi)

    def cost(log_lam: float) -> float:
        return float(c @ n_of(log_lam))

    left, right = -50.0, 50.0
    for _ in range(100):  # cost(left) -> c @ n_max > B as log(lam) -> -inf
        if cost(left) >= B:
            break
        left -= 50.0
    for _ in range(100):  # cost(right) -> c @ lo <= B as log(lam) -> +inf
        if cost(right) <= B:
            break
        right += 50.0
    # cost(log lam) is continuous and decreasing: Brent's method to machine precision
    # (about 10 evaluations instead of 60 bisection steps)
    ll = _root_decreasing(cost, left, right, B)
    return n_of(ll), "bisection"


def _maxmin(
    a: np.ndarray, b: np.ndarray, e: np.ndarray, c: np.ndarray, B: float, lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:  # fmt: skip
    # every group at the common level t: n_g(t) = (a_g / (t - e_g))^(1/b_g)
    def n_of(t: float) -> np.ndarray:
        gap = t - e
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            raw = np.where(gap > 0, (a / np.maximum(gap, 1e-300)) ** (1.0 / b), np.inf)
        return np.clip(raw, lo, hi)

    def cost(t: float) -> float:
        return float(c @ n_of(t))

    n_max = np.where(a > 0, hi, lo).astype(float)
    if float(c @ np.minimum(n_max, 1e300)) <= B:
        return n_max
    t_hi = float(np.max(a * lo ** (-b) + e))
    t_lo = float(np.max(e))
    t = _root_decreasing(cost, t_lo, t_hi, B)
    return n_of(t)


def _disparity_cap(
    a: np.ndarray, b: np.ndarray, e: np.ndarray, w: np.ndarray, c: np.ndarray, B: float,
    lo: np.ndarray, hi: np.ndarray, cap: float,
) -> tuple[np.ndarray, str]:  # fmt: skip
    n_u, how = _utilitarian(a, b, w, c, B, lo, hi)
    err_u = a * n_u ** (-b) + e
    if np.ptp(err_u) <= cap:
        return n_u, how
    # With M = max_g err_g fixed, err_g in [M - cap, M] is a box on n_g, and the
    # inner problem is the utilitarian one with bounds (water-filling). The
    # problem is jointly convex in (u, M), so V(M) is convex: minimise it over M.
    n_mm = _maxmin(a, b, e, c, B, lo, hi)
    m_lo = float(np.max(a * n_mm ** (-b) + e))  # smallest feasible M
    m_hi = float(np.max(err_u))

    def n_of(u: float) -> np.ndarray:
        gap = u - e
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return np.where(gap > 0, (a / np.maximum(gap, 1e-300)) ** (1.0 / b), np.inf)

    def inner(M: float) -> np.ndarray | None:
        box_lo = np.clip(n_of(M), lo, hi)
        box_hi = np.clip(n_of(M - cap), lo, hi)
        if float(c @ box_lo) > B * (1 + 1e-12):
            return None
        return _utilitarian(a, b, w, c, B, box_lo, box_hi)[0]

    def value(M: float) -> float:
        n = inner(M)
        return np.inf if n is None else float(w @ (a * n ** (-b) + e))

    if value(m_lo) == np.inf:  # rounding at the feasibility edge
        m_lo = m_lo + 1e-12 * max(1.0, abs(m_lo))
    if m_lo < m_hi:
        res = optimize.minimize_scalar(
            value, bounds=(m_lo, m_hi), method="bounded",
            options={"xatol": 1e-10 * max(1.0, m_hi)},
        )  # fmt: skip
        best = min((float(res.x), m_lo), key=value)
    else:  # bounds leave no room between the max-min level and the utilitarian optimum
        best = m_lo
    n = inner(best)
    if n is None:  # pragma: no cover - m_lo is feasible
        warn_convergence("the disparity-cap search found no feasible level", "cap", stacklevel=4)
        return n_mm, "nested-bisection"
    return n, "nested-bisection"


# --------------------------------------------------------------------------- integers


def _errors(a: np.ndarray, b: np.ndarray, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    return a * np.maximum(n, 1e-300) ** (-b) + e


def _round(
    n0: np.ndarray, err_fn: Callable[[np.ndarray], np.ndarray], c: np.ndarray, B: float,
    lo: np.ndarray, hi: np.ndarray, score: Callable[[np.ndarray], float], swap: bool = True,
) -> np.ndarray:  # fmt: skip
    """Floor the continuous optimum, add single samples by best objective gain per cost,
    then (``swap``) make single-sample moves between groups while they improve."""
    n = np.clip(n0, lo, hi).astype(np.int64)
    while float(c @ n) > B + 1e-9:  # only when lower bounds were not integers
        j = int(np.argmax(np.where(n > lo, c, -np.inf)))
        n[j] -= 1
    while True:
        room = B - float(c @ n)
        ok = np.flatnonzero((c <= room + 1e-9) & (n < hi))
        if ok.size == 0:
            return _swap_search(n, err_fn, c, B, lo, hi, score) if swap else n
        base = score(err_fn(n))
        best, best_gain = -1, -np.inf
        for jj in ok:
            n[jj] += 1
            gain = (base - score(err_fn(n))) / c[jj]
            n[jj] -= 1
            if gain > best_gain:
                best, best_gain = int(jj), gain
        if best_gain < 0:  # every affordable sample makes the objective worse (a binding cap)
            return _swap_search(n, err_fn, c, B, lo, hi, score) if swap else n
        n[best] += 1


def _swap_search(
    n: np.ndarray, err_fn: Callable[[np.ndarray], np.ndarray], c: np.ndarray, B: float,
    lo: np.ndarray, hi: np.ndarray, score: Callable[[np.ndarray], float], max_iter: int = 200,
) -> np.ndarray:  # fmt: skip
    """Local search: move one sample from group i to j (then refill) while it improves."""
    cur = score(err_fn(n))
    for _ in range(max_iter):
        improved = False
        for i in range(n.size):
            if n[i] - 1 < lo[i]:
                continue
            for j in range(n.size):
                if i == j or n[j] + 1 > hi[j]:
                    continue
                m = n.copy()
                m[i] -= 1
                m[j] += 1
                while float(c @ m) > B + 1e-9:
                    k = [k for k in range(m.size) if k != j and m[k] - 1 >= lo[k]]
                    if not k:
                        break
                    m[max(k, key=lambda k: c[k])] -= 1
                if float(c @ m) > B + 1e-9:
                    continue
                v = score(err_fn(m))
                if v < cur - 1e-15:
                    n, cur, improved = m, v, True
        if not improved:
            return n
    return n


def _tiebreak(objective: str, w: np.ndarray, cap: float | None) -> Callable[[np.ndarray], float]:
    if objective == "maxmin":
        return lambda err: float(err.max()) + 1e-9 * float(err.mean())
    if objective == "disparity-cap":
        return lambda err: float(w @ err) + 1e3 * max(0.0, float(np.ptp(err)) - float(cap or 0))
    return lambda err: float(w @ err)


def _weights(weights: Any, G: int, names: list[Any]) -> np.ndarray:
    w = _vector(weights, "weights", G, names, default=np.full(G, 1.0 / G))
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"`weights` must be non-negative and not all zero, got {w.tolist()}")
    return w / w.sum()


def _bounds(lower: Any, upper: Any, G: int, names: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    lo = _vector(lower, "lower", G, names, default=np.ones(G))
    hi = _vector(upper, "upper", G, names, default=np.full(G, np.inf))
    for g, l_, h_ in zip(names, lo, hi):
        if not l_ > 0:
            raise ValueError(f"`lower` must be positive; group {g!r} has {l_:g}")
        if h_ < l_:
            raise ValueError(f"`upper` must be >= `lower`; group {g!r} has {h_:g} < {l_:g}")
    return lo, hi


def allocate(
    curves: Any,
    costs: Any,
    budget: float,
    *,
    objective: str = "utilitarian",
    weights: Any = None,
    cap: float | None = None,
    lower: Any = None,
    upper: Any = None,
) -> Allocation:
    """Optimal sample sizes per group under a budget, given learning curves.

    Parameters
    ----------
    curves : dict or sequence
        One curve per group: :class:`LearningCurve` results (power law) or
        plain ``dict(a=..., b=..., e=...)``; a dict's keys name the groups.
    costs : array_like or dict
        Cost of one sample of each group (positive).
    budget : float
        Total budget ``B``; the allocation satisfies ``sum_g c_g n_g <= B``.
    objective : {"utilitarian", "maxmin", "disparity-cap"}, default "utilitarian"
    weights : array_like or dict, optional
        Weights ``w_g`` of the utilitarian part (normalised to sum to one).
        Population shares give the overall error; the default, equal
        weights, gives the group-average error. Ignored by ``"maxmin"``.
    cap : float, optional
        Largest allowed disparity ``max_g err_g - min_g err_g`` (required for
        ``"disparity-cap"``).
    lower, upper : array_like or dict, optional
        Bounds on ``n_g`` (default 1 and infinity), e.g. the samples already
        collected and the size of a finite pool.

    Returns
    -------
    Allocation
        The integer allocation ``n`` and the continuous optimum
        ``n_continuous`` with their predicted per-group errors.

    Raises
    ------
    ValueError
        For a non-positive cost, a budget below the cost of ``lower``
        (one sample per group by default), or a curve that is missing or not
        a power law, naming the group.

    Notes
    -----
    *Utilitarian.* The Lagrange condition of
    :math:`\\min \\sum_g w_g (a_g n_g^{-b_g} + e_g)` s.t. :math:`\\sum_g c_g n_g = B`
    is :math:`w_g a_g b_g n_g^{-b_g-1} = \\lambda c_g` (equal marginal gain per unit
    cost). For a shared exponent :math:`b` this gives the closed form

    .. math:: n_g = B\\,\\frac{k_g}{\\sum_h c_h k_h}, \\qquad k_g = (w_g a_g / c_g)^{1/(1+b)};

    otherwise (or when bounds are active) :math:`n_g(\\lambda)` clipped to
    ``[lower, upper]`` is found by bisection on :math:`\\log \\lambda`.

    *Max-min.* At the optimum every unbounded group sits at a common error
    level :math:`t`, :math:`n_g(t) = (a_g / (t - e_g))^{1/b_g}`; the budget
    :math:`\\sum_g c_g n_g(t)` decreases in :math:`t`, which is found by bisection.

    *Disparity cap.* In the variables :math:`u_g = \\mathrm{err}_g`, the problem
    :math:`\\min w^\\top u` s.t. :math:`\\sum_g c_g (a_g/(u_g - e_g))^{1/b_g} \\le B`,
    :math:`M - \\mathrm{cap} \\le u_g \\le M` is jointly convex in :math:`(u, M)`.
    For fixed :math:`M` it is the utilitarian problem with box bounds on
    :math:`n_g` (solved by the bisection above), and its value :math:`V(M)` is
    convex, minimised by a bounded scalar search between the max-min level and
    the utilitarian optimum's largest error. When the utilitarian optimum
    already meets the cap it is returned.

    *Integers.* Utilitarian: the exact integer optimum. A Lagrangian bound
    :math:`L(\\lambda) = \\sum_g \\min_{n} (w_g a_g n^{-b_g} + \\lambda c_g n) - \\lambda B`
    (maximised over :math:`\\lambda`) limits each group to an interval of
    candidates around its Lagrangian minimiser, and a depth-first search over
    these intervals, started from the rounded continuous optimum, returns the
    best integer allocation (checked against exhaustive enumeration). Max-min:
    the smallest integer level, ``ceil(n_g(t))`` with the smallest affordable
    ``t``, which is optimal for the maximum; the leftover is spent on the mean.
    Disparity cap: the continuous optimum is floored, the remaining budget is
    spent one sample at a time on the best objective improvement per unit
    cost, and single-sample moves between groups are made while they improve
    the objective (a local optimum). See ``theory/53_equitable_integer.md``.

    See ``theory/50_equitable_allocation.md``.

    References
    ----------
    .. [1] Cai et al., "Adaptive sampling strategies to construct equitable
       training datasets", FAccT 2022, arXiv:2202.01327, Sec. 3.

    Examples
    --------
    >>> from sciddm.equitable import allocate
    >>> curves = {"A": dict(a=2, b=0.5, e=0.0), "B": dict(a=5, b=0.5, e=0.0)}
    >>> res = allocate(curves, costs=[1, 3], budget=1000, weights=[0.7, 0.3])
    >>> res.n_continuous.round(2).tolist(), res.method
    ([398.38, 200.54], 'closed-form')
    >>> res.n.tolist(), res.cost <= 1000
    ([397, 201], True)
    """
    check_choice(objective, "objective", OBJECTIVES)
    names, a, b, e = _curve_params(curves)
    G = len(names)
    lo, hi = _bounds(lower, upper, G, names)
    c, B = _check_costs_budget(costs, budget, G, names, lo)
    w = _weights(weights, G, names)
    if objective == "disparity-cap":
        if cap is None:
            raise ValueError("`cap` is required when objective='disparity-cap'")
        cap = check_scalar(cap, "cap", lo=0)
    if objective == "utilitarian":
        n_cont, method = _utilitarian(a, b, w, c, B, lo, hi)
    elif objective == "maxmin":
        n_cont, method = _maxmin(a, b, e, c, B, lo, hi), "bisection"
    else:
        n_cont, method = _disparity_cap(a, b, e, w, c, B, lo, hi, float(cap))  # type: ignore[arg-type]

    def err_fn(n: np.ndarray) -> np.ndarray:
        return _errors(a, b, e, n)

    score = _tiebreak(objective, w, cap)
    lo_int = np.ceil(lo - 1e-9)
    if objective == "maxmin":
        n0 = maxmin_integer(a, b, e, c, B, lo_int, hi)
    else:
        n0 = np.floor(n_cont + 1e-9)
    n_int = _round(n0, err_fn, c, B, lo_int, hi, score, swap=objective != "utilitarian")
    if objective == "utilitarian":  # the exact optimum, with the greedy fill as incumbent
        n_int, exact = utilitarian_integer(a, b, w, c, B, lo_int, hi, n_int, n_cont)
        if not exact:  # pragma: no cover - beyond any realistic number of groups
            warn_convergence(
                "the exact integer search stopped at its node limit; the allocation is the "
                "best found", "the number of groups (fewer)", stacklevel=3,
            )  # fmt: skip
    pe = err_fn(n_int.astype(float))
    if objective == "disparity-cap" and np.ptp(err_fn(n_cont)) > float(cap) + 1e-6:  # type: ignore[arg-type]
        warnings.warn(
            f"the disparity cap {cap:g} cannot be met within the budget and bounds "
            f"(best disparity {np.ptp(err_fn(n_cont)):.4g})",
            RuntimeWarning,
            stacklevel=2,
        )
    return Allocation(
        groups=names,
        n=n_int,
        n_continuous=n_cont,
        predicted_error=pe,
        value=evaluate_objective(pe, objective=objective, weights=w, cap=cap),
        value_continuous=evaluate_objective(
            err_fn(n_cont), objective=objective, weights=w, cap=cap
        ),
        cost=float(c @ n_int),
        budget=B,
        objective=objective,
        method=method,
    )
