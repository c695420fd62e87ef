"""One-dimensional exact samplers: Newton-safeguarded CDF inversion and rejection.

Every point they return is exact: a rejection sampler that runs out of its
proposal budget raises :class:`ProposalBudgetError` instead of returning an
unaccepted point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["ProposalBudgetError"]


class ProposalBudgetError(RuntimeError):
    """A rejection sampler used more proposals than its budget allowed.

    Raised instead of returning a point that was not accepted, so every point
    a sampler returns is exact; the message names the budget argument to
    increase.

    Parameters
    ----------
    *args
        The message, as for any exception.

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, ProposalBudgetError, TensorBasis
    >>> from sciddm.leastsquares import sample_projection_dpp, total_degree
    >>> basis = TensorBasis(Legendre(), total_degree(1, 20))
    >>> try:
    ...     sample_projection_dpp(basis, rng=0, max_proposals=5)
    ... except ProposalBudgetError as exc:
    ...     print(str(exc)[:47])
    projection DPP used its budget of 5 proposals w
    """


_Fn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _inverse_cdf(
    cdf: _Fn, pdf: _Fn, u: np.ndarray, lo: float, hi: float, *, t0: Any = None, maxiter: int = 200
) -> np.ndarray:
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


def _rejection(
    propose: Callable[[int], np.ndarray], ratio: Callable[[np.ndarray], np.ndarray],
    bound: float, size: int, g: np.random.Generator, budget: int,
) -> np.ndarray:  # fmt: skip
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
    propose: Callable[[int], np.ndarray], ratio: _Fn, bound: np.ndarray, g: np.random.Generator,
    budget: int, tries: int = 3,
) -> np.ndarray:  # fmt: skip
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
