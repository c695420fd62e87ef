"""Baseline allocations: equal, proportional (representative) and oracle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sciddm._core.validation import check_choice
from sciddm.equitable._allocate import (
    OBJECTIVES,
    Allocation,
    _check_costs_budget,
    _curve_params,
    _errors,
    _vector,
    _weights,
    allocate,
    evaluate_objective,
)

__all__ = ["equal_allocation", "oracle_allocation", "proportional_allocation"]


def oracle_allocation(true_curves: Any, costs: Any, budget: float, **kwargs: Any) -> Allocation:
    """The oracle baseline: :func:`allocate` with the *true* learning curves.

    It is the best static allocation, a lower bound (in expectation) for any
    strategy that must estimate the curves.

    Parameters
    ----------
    true_curves : dict or sequence
        The true learning curves, as for :func:`allocate`.
    costs : array_like or dict
        Cost of one sample of each group.
    budget : float
        Total budget.
    **kwargs
        Passed to :func:`allocate` (``objective``, ``weights``, ``cap``,
        ``lower``, ``upper``).

    Returns
    -------
    Allocation

    Examples
    --------
    >>> from sciddm.equitable import oracle_allocation
    >>> curves = [dict(a=1, b=0.5, e=0.1), dict(a=3, b=0.5, e=0.2)]
    >>> oracle_allocation(curves, [1, 1], 100, objective="maxmin").n.tolist()
    [6, 94]
    """
    return allocate(true_curves, costs, budget, **kwargs)


def _fill_baseline(
    n_cont: np.ndarray, c: np.ndarray, B: float, order_key: np.ndarray
) -> np.ndarray:
    n = np.floor(n_cont + 1e-9).astype(np.int64)
    while True:
        room = B - float(c @ n)
        ok = np.flatnonzero(c <= room + 1e-9)
        if ok.size == 0:
            return n
        j = ok[np.argmin((n[ok] + 1) / order_key[ok])]
        n[j] += 1


def _baseline(
    kind: str, costs: Any, budget: float, shares: Any, curves: Any, objective: str,
    weights: Any, cap: float | None,
) -> Allocation:  # fmt: skip
    if curves is not None:
        names, a, b, e = _curve_params(curves)
        G = len(names)
    else:
        if costs is None or isinstance(costs, (str, bytes)):
            raise ValueError(f"`costs` must give one cost per group, got {costs!r}")
        G = int(np.size(costs)) if not isinstance(costs, Mapping) else len(costs)
        if G == 0:
            raise ValueError("`costs` must give at least one group")
        names = list(costs) if isinstance(costs, Mapping) else list(range(G))
    c, B = _check_costs_budget(costs, budget, G, names, np.ones(G))
    if kind == "equal":
        s = np.ones(G)
    else:
        s = _vector(shares, "shares", G, names)
        if np.any(s <= 0):
            raise ValueError(f"`shares` must be positive, got {s.tolist()}")
    n_cont = B * s / float(c @ s)
    n = np.maximum(_fill_baseline(n_cont, c, B, s), 1)
    if float(c @ n) > B:  # the floor of 1 may overshoot with extreme shares
        raise ValueError(
            f"`budget`={B:g} cannot give every group one sample with {kind} shares {s.tolist()}"
        )
    if curves is None:
        pe = np.full(G, np.nan)
        val = vc = np.nan
    else:
        w = _weights(weights, G, names)
        pe = _errors(a, b, e, n.astype(float))
        val = evaluate_objective(pe, objective=objective, weights=w, cap=cap)
        vc = evaluate_objective(_errors(a, b, e, n_cont), objective=objective, weights=w, cap=cap)
    return Allocation(
        groups=names,
        n=n,
        n_continuous=n_cont,
        predicted_error=pe,
        value=val,
        value_continuous=vc,
        cost=float(c @ n),
        budget=B,
        objective=objective,
        method=kind,
    )


def equal_allocation(
    costs: Any,
    budget: float,
    *,
    curves: Any = None,
    objective: str = "utilitarian",
    weights: Any = None,
    cap: float | None = None,
) -> Allocation:
    r"""The equal baseline: the same number of samples per group, :math:`B / \sum_g c_g`.

    Leftover budget after flooring goes one sample at a time to the groups with
    the fewest samples. With ``curves`` the predicted errors and the value of
    ``objective`` are filled in.

    Parameters
    ----------
    costs : array_like or dict
        Cost of one sample of each group (positive).
    budget : float
        Total budget.
    curves : dict or sequence, optional
        Learning curves, to fill in the predicted errors and the value.
    objective : {"utilitarian", "maxmin", "disparity-cap"}, default "utilitarian"
        The objective whose value is reported.
    weights : array_like or dict, optional
        Utilitarian weights.
    cap : float, optional
        Disparity cap (for ``"disparity-cap"``).

    Returns
    -------
    Allocation
        ``method="equal"``.

    Examples
    --------
    >>> from sciddm.equitable import equal_allocation
    >>> equal_allocation([1, 3], 1000).n.tolist()
    [250, 250]
    """
    check_choice(objective, "objective", OBJECTIVES)
    return _baseline("equal", costs, budget, None, curves, objective, weights, cap)


def proportional_allocation(
    costs: Any,
    budget: float,
    shares: Any,
    *,
    curves: Any = None,
    objective: str = "utilitarian",
    weights: Any = None,
    cap: float | None = None,
) -> Allocation:
    r"""The representative baseline: :math:`n_g` proportional to population shares.

    :math:`n_g = B s_g / \sum_h c_h s_h`, the allocation of a sample drawn at
    random from the population (when costs are equal).

    Parameters
    ----------
    costs : array_like or dict
        Cost of one sample of each group (positive).
    budget : float
        Total budget.
    shares : array_like or dict
        Population shares :math:`s_g` (positive).
    curves : dict or sequence, optional
        Learning curves, to fill in the predicted errors and the value.
    objective : {"utilitarian", "maxmin", "disparity-cap"}, default "utilitarian"
        The objective whose value is reported.
    weights : array_like or dict, optional
        Utilitarian weights.
    cap : float, optional
        Disparity cap (for ``"disparity-cap"``).

    Returns
    -------
    Allocation
        ``method="proportional"``.

    Examples
    --------
    >>> from sciddm.equitable import proportional_allocation
    >>> proportional_allocation([1, 1], 100, [0.8, 0.2]).n.tolist()
    [80, 20]
    """
    check_choice(objective, "objective", OBJECTIVES)
    return _baseline("proportional", costs, budget, shares, curves, objective, weights, cap)
