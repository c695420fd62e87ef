"""Integer utilitarian allocation by greedy marginal gain per unit cost.

See :func:`greedy_allocate`; the threshold jump that reproduces the one-at-a-time
greedy for power-law curves is in :mod:`sciddm.equitable._integer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sciddm.equitable._allocate import (
    Allocation,
    _bounds,
    _check_costs_budget,
    _curve_params,
    _weights,
)
from sciddm.equitable._curves import power_law
from sciddm.equitable._integer import greedy_fast, greedy_steps

__all__ = ["greedy_allocate"]


def greedy_allocate(
    curves: Any,
    costs: Any,
    budget: float,
    *,
    weights: Any = None,
    lower: Any = None,
    upper: Any = None,
    progress: bool = False,
) -> Allocation:
    r"""Integer utilitarian allocation by greedy marginal gain per unit cost.

    Starting from ``lower``, repeatedly give one sample to the affordable group
    with the largest :math:`w_g(\mathrm{err}_g(n_g) - \mathrm{err}_g(n_g + 1))/c_g`
    (the lowest index among ties), until no group is affordable.

    Parameters
    ----------
    curves : dict or sequence
        Power-law curves (as for :func:`allocate`) or any callables
        ``n -> error`` (e.g. a monotone :class:`LearningCurve`).
    costs : array_like or dict
        Cost of one sample of each group (positive).
    budget : float
        Total budget.
    weights : array_like or dict, optional
        Utilitarian weights (normalised; equal by default).
    lower, upper : array_like or dict, optional
        Bounds on the samples per group (default 1 and infinity).
    progress : bool, default False
        Show a progress bar over the one-at-a-time steps (general curves; the
        power-law path takes a handful of steps).

    Returns
    -------
    Allocation
        With ``n_continuous`` equal to ``n``.

    Raises
    ------
    ValueError
        For a missing or malformed curve (naming the group), a non-positive
        cost, a budget below the cost of ``lower``, or, with general callable
        curves, a budget worth more than :math:`10^7` greedy steps.

    Notes
    -----
    For convex non-increasing error curves the marginal gains of each group
    are non-increasing, and with equal costs the greedy allocation is
    optimal among all integer allocations (Fox 1966); with unequal costs it is
    within one step's gain of the optimum (:func:`allocate` gives the exact
    optimum). See ``theory/51_equitable_greedy.md``.

    *Fast exact path.* For power-law curves the gains decrease in :math:`n_g`;
    while every group is affordable the greedy therefore takes the samples in
    decreasing order of gain, and after some number of steps it holds exactly
    the samples whose gain exceeds a threshold :math:`\tau`. The smallest
    :math:`\tau` whose samples leave at least :math:`\max_g c_g` of the budget
    is found by bisection (each group's count by bisection over :math:`n`); the
    allocation jumps there (a state the one-at-a-time greedy passes through)
    and the last few steps are taken one at a time. The result equals the
    one-at-a-time greedy's; the cost is :math:`O(G \log^2 B)` instead of
    :math:`O(G B / c)`. The gain is computed as
    :math:`w a\, n^{-b}(1 - (1 + 1/n)^{-b})/c` without cancellation.

    References
    ----------
    .. [1] B. Fox, "Discrete optimization via marginal analysis", Management
       Science 13 (1966) 210-216.

    Examples
    --------
    >>> from sciddm.equitable import greedy_allocate
    >>> curves = [dict(a=1, b=0.5, e=0), dict(a=2, b=0.5, e=0)]
    >>> greedy_allocate(curves, [1, 1], 30).n.tolist()
    [12, 18]
    >>> greedy_allocate(curves, [1, 1], 10**9).n.tolist()   # no 10^9 steps: n_g ~ a_g^(2/3)
    [386488210, 613511790]
    """
    names, fns, pl = _greedy_curves(curves)
    G = len(names)
    lo, hi = _bounds(lower, upper, G, names)
    c, B = _check_costs_budget(costs, budget, G, names, lo)
    w = _weights(weights, G, names)
    n = np.ceil(lo - 1e-9).astype(np.int64)
    if pl is not None:
        a_, b_ = pl[:, 0], pl[:, 1]

        def gain(j: int, k: np.ndarray) -> np.ndarray:
            kk = k.astype(float)
            drop = -np.expm1(-b_[j] * np.log1p(1.0 / kk))  # 1 - (1 + 1/k)^(-b), no cancellation
            return w[j] * a_[j] * kk ** (-b_[j]) * drop / c[j]

        n = greedy_fast(n, gain, c, B, hi, progress=progress)
    else:

        def gain(j: int, k: np.ndarray) -> np.ndarray:
            f = fns[j]
            return np.array(
                [w[j] * (float(f(float(x))) - float(f(float(x) + 1))) / c[j] for x in k]
            )

        n = greedy_steps(n, gain, c, B, hi, progress=progress)
    cur = np.array([float(np.asarray(f(float(k)))) for f, k in zip(fns, n)])
    if not np.all(np.isfinite(cur)):
        raise ValueError("`curves` returned NaN or inf at the allocation")
    val = float(w @ cur)
    return Allocation(
        groups=names,
        n=n,
        n_continuous=n.astype(float),
        predicted_error=cur,
        value=val,
        value_continuous=val,
        cost=float(c @ n),
        budget=B,
        objective="utilitarian",
        method="greedy",
    )


def _greedy_curves(
    curves: Any,
) -> tuple[list[Any], list[Callable[[float], Any]], np.ndarray | None]:
    """Names, error callables and, when every curve is a power law, its (a, b, e) rows."""
    if isinstance(curves, Mapping):
        names, items = list(curves), list(curves.values())
    elif isinstance(curves, Sequence) and not isinstance(curves, str):
        names, items = list(range(len(curves))), list(curves)
    else:
        raise ValueError(f"`curves` must be a dict or a sequence of curves, got {curves!r}")
    if not items:
        raise ValueError("`curves` must hold at least one group")
    if all(_is_power_law(cv) for cv in items):
        _, a, b, e = _curve_params(dict(zip(names, items)))
        fns: list[Callable[[float], Any]] = [_law(*p) for p in zip(a, b, e)]
        return names, fns, np.column_stack([a, b, e])
    fns = []
    for g, cv in zip(names, items):
        if cv is None:
            raise ValueError(f"`curves`: group {g!r} has no learning curve (no data?)")
        if isinstance(cv, Mapping):
            _, a, b, e = _curve_params({g: cv})
            fns.append(_law(a[0], b[0], e[0]))
        elif callable(cv):
            fns.append(cv)
        else:
            raise ValueError(f"the curve of group {g!r} must be a dict or callable, got {cv!r}")
    return names, fns, None


def _law(a: float, b: float, e: float) -> Callable[[float], Any]:
    """The power law with parameters (a, b, e) as a function of n."""

    def f(n: float) -> Any:
        return power_law(n, a, b, e)

    return f


def _is_power_law(cv: Any) -> bool:
    if isinstance(cv, Mapping):
        return True
    return getattr(cv, "model", None) == "power-law" and hasattr(cv, "params")
