"""Small statistics shared by experiments and tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["chisquare_gof", "mean_ci", "total_variation"]


def mean_ci(x: Any, level: float = 0.95) -> tuple[float, float, float]:
    r"""Mean and Student-t confidence interval ``(mean, lo, hi)`` of ``x``.

    The interval is :math:`\bar x \pm t_{n-1,\,(1+\text{level})/2}\, s/\sqrt{n}`, with
    :math:`s` the sample standard deviation (``ddof=1``) of the finite entries.

    Parameters
    ----------
    x : array_like
        The values (flattened); NaN and infinite entries are dropped.
    level : float, default 0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    mean, lo, hi : float
        The mean and the interval's ends; all NaN when no entry is finite, ``lo`` and
        ``hi`` NaN when only one is.

    Examples
    --------
    >>> from sciddm.reproduce import mean_ci
    >>> m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    >>> m, round(lo, 3), round(hi, 3)
    (2.0, -0.484, 4.484)
    """
    a = np.asarray(x, dtype=float).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(a.mean())
    if a.size == 1:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, a.size - 1) * a.std(ddof=1) / np.sqrt(a.size))
    return m, m - half, m + half


def chisquare_gof(counts: Any, probs: Any, *, min_expected: float = 5.0) -> float:
    """p-value of Pearson's chi-squared goodness-of-fit test.

    Cells whose expected count is below ``min_expected`` are pooled into one,
    so the chi-squared approximation holds.

    Parameters
    ----------
    counts : array_like
        Observed count of each cell.
    probs : array_like
        Probability of each cell under the null hypothesis (normalised here), same
        shape as ``counts``.
    min_expected : float, default 5.0
        Cells expected to hold fewer counts are pooled.

    Returns
    -------
    float
        The p-value; 0.0 when a cell of probability 0 was observed, 1.0 when fewer
        than two cells remain after pooling.

    Raises
    ------
    ValueError
        If ``counts`` and ``probs`` differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.reproduce import chisquare_gof
    >>> rng = np.random.default_rng(0)
    >>> p = np.array([0.5, 0.3, 0.2])
    >>> chisquare_gof(rng.multinomial(10_000, p), p) > 0.01
    True
    """
    c = np.asarray(counts, dtype=float).ravel()
    p = np.asarray(probs, dtype=float).ravel()
    if c.shape != p.shape:
        raise ValueError(
            f"`counts` and `probs` must have the same shape, got {c.shape} and {p.shape}"
        )
    n = c.sum()
    p = p / p.sum()
    e = n * p
    small = e < min_expected
    if small.any():
        c = np.append(c[~small], c[small].sum())
        e = np.append(e[~small], e[small].sum())
    keep = e > 0
    if np.any(c[~keep] > 0):
        return 0.0
    c, e = c[keep], e[keep]
    if c.size < 2:
        return 1.0
    return float(stats.chisquare(c, e).pvalue)


def total_variation(p: Any, q: Any) -> float:
    r"""Total-variation distance of two probability vectors.

    .. math:: \operatorname{TV}(p, q) = \tfrac12 \sum_i |p_i - q_i| .

    Parameters
    ----------
    p, q : array_like
        Probability vectors of the same shape (not renormalised).

    Returns
    -------
    float
        The distance, in [0, 1] for probability vectors.

    Examples
    --------
    >>> from sciddm.reproduce import total_variation
    >>> total_variation([0.5, 0.5, 0.0], [0.25, 0.25, 0.5])
    0.5
    """
    return 0.5 * float(np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())
