"""The exact effect of MDLM's float32 Gumbel-max draws (theory note 75)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_array, check_int, check_scalar
from sciddm.discrete._sampling import gumbel_norm32
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = ["float32_chain_token_probability", "float32_win_probability"]

_E32_SMALL: np.ndarray | None = None


def _small_float32_noises(cut: float = 1e-2) -> np.ndarray:
    """All values below ``cut`` of MDLM's float32 noise ``1e-10 - log(u + 1e-10)``, u = k 2**-24."""
    global _E32_SMALL
    if _E32_SMALL is None:
        k0 = int(2**24 * (1 - 1.1 * cut))
        u = torch.arange(k0, 2**24, dtype=torch.float64).to(torch.float32) * 2.0**-24
        e = gumbel_norm32(u).to(torch.float64).numpy()
        _E32_SMALL = np.sort(e[e < cut])
    return _E32_SMALL


def float32_win_probability(r: Any) -> np.ndarray:
    r"""Exact probability that a category wins MDLM's float32 Gumbel-max draw.

    Parameters
    ----------
    r : float or array_like
        Ratio (finite, >= 0) of the category's weight to the total weight of the others.

    Returns
    -------
    ndarray
        The win probability of each ratio (1-D).

    Notes
    -----
    The category wins iff :math:`q_i / E_i > q_o / E_o` for all others; with
    the others' noises exponential, :math:`P = \mathbb E[e^{-E_i / r}]` where
    :math:`E_i` runs over the :math:`2^{24}` float32 values of the uniform.
    For :math:`r \le 10^{-4}` the sum over the grid is exact (terms with
    :math:`E_i \ge 0.01` are below :math:`e^{-100}`); for larger :math:`r`
    the float32 effect is below :math:`3 \cdot 10^{-4}` relative and the
    exact continuous value :math:`r / (1 + r)` is returned.

    References
    ----------
    .. [1] K. Zheng et al., "Masked diffusion models are secretly time-agnostic
       masked models and exploit inaccurate categorical sampling",
       arXiv:2409.02908 (2024), Sec. 4 and Thm 4.1.

    Examples
    --------
    >>> from sciddm.discrete.toys import float32_win_probability
    >>> p = float32_win_probability([1e-8, 1.0])
    >>> bool(p[0] < 0.5 * 1e-8), float(p[1])     # a rare token loses most of its chances
    (True, 0.5)
    """
    try:
        r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`r` must be a number or a 1-D array of numbers: {exc}") from None
    r = check_array(r, "r", ndim=1)
    if (r < 0).any():
        raise ValueError(f"`r` must be >= 0, got {float(r.min())}")
    out = r / (1 + r)
    small = r <= 1e-4
    if small.any():
        e = _small_float32_noises()
        ends = np.searchsorted(e, 100 * r[small])  # exp(-E / r) < e**-100 beyond
        out[small] = [
            np.exp(-e[:j] / ri).sum() * 2.0**-24 if ri > 0 else 0.0 for j, ri in zip(ends, r[small])
        ]
    return out


def float32_chain_token_probability(
    p_token: float,
    p_rest: float,
    steps: int,
    *,
    t_min: float = 1e-5,
    schedule: LogLinearSchedule | None = None,
) -> tuple[float, float]:
    r"""Probability that one position ends as a given token, float32 Gumbel vs exact.

    Parameters
    ----------
    p_token : float
        :math:`p_\theta` of the token, in (0, 1).
    p_rest : float
        :math:`p_\theta` of all other tokens together, in (0, 1],
        ``p_token + p_rest <= 1``.
    steps : int
        Steps of the ancestral chain (1 to 100000).
    t_min : float, default 1e-5
        Last time of the grid, in [0, 1).
    schedule : LogLinearSchedule, optional
        Log-linear by default.

    Returns
    -------
    float32, exact : float
        The chain probability with MDLM's float32 Gumbel-max draws
        (:func:`float32_win_probability` per step; [MASK] survival taken
        exact, its weight being large) and the exact value
        :math:`p_{\mathrm{token}} / (p_{\mathrm{token}} + p_{\mathrm{rest}})`.

    Notes
    -----
    For a time-agnostic model whose :math:`p_\theta(x_0 \mid x_t)` is the same
    at every step, the ancestral chain of :func:`~sciddm.discrete.sample`
    offers the token at step :math:`t \to s` with weight
    :math:`p_{\mathrm{token}} \cdot \mathrm{move}` against
    :math:`p_{\mathrm{rest}} \cdot \mathrm{move}` and :math:`\mathrm{stay}`
    for [MASK] (theory note 75).

    Examples
    --------
    >>> from sciddm.discrete.toys import float32_chain_token_probability
    >>> f32, exact = float32_chain_token_probability(1e-5, 1 - 1e-5, 1000)
    >>> round(exact, 8), bool(f32 < 0.9 * exact)
    (1e-05, True)
    """
    p_token = check_scalar(p_token, "p_token", lo=0.0, hi=1.0, closed="neither")
    p_rest = check_scalar(p_rest, "p_rest", lo=0.0, hi=1.0, closed="right")
    if p_token + p_rest > 1 + 1e-12:
        raise ValueError(f"`p_token` + `p_rest` must be <= 1, got {p_token + p_rest}")
    steps = check_int(steps, "steps", lo=1, hi=100_000)
    t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="left")
    sch = schedule or LogLinearSchedule()
    grid = list(np.linspace(1.0, t_min, steps + 1))
    surv, total = 1.0, 0.0
    for t, s in itertools.pairwise(grid):
        a_t, a_s = sch.alpha(t), sch.alpha(s)
        move, stay = (a_s - a_t) / (1 - a_t), (1 - a_s) / (1 - a_t)
        qt = p_token * move
        total += surv * float(float32_win_probability(qt / (p_rest * move + stay))[0])
        surv *= stay / (stay + (p_token + p_rest) * move)
    # final noise removal: no [MASK] competitor, ratio p_token / p_rest
    total += surv * float(float32_win_probability(p_token / p_rest)[0])
    return total, p_token / (p_token + p_rest)
