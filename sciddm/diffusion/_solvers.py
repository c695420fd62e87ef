r"""A sampler whose solver is chosen per step (USF-style solver schedules).

Liu et al. (ICLR 2024) write every fast sampler of the probability-flow ODE as a
sequence of steps in which the *solver strategy* — the order, single-step or
multistep, and the prediction type (data :math:`\hat x_0` or noise
:math:`\hat\varepsilon`) — may change from one step to the next.
:func:`sample_mixed` runs such a plan in the EDM/VE convention
:math:`x_\sigma = x_0 + \sigma n`, with :math:`\lambda = -\log\sigma` and
:math:`h = \log(\sigma_i/\sigma_{i+1})`. With :math:`D_i = D(x_i, \sigma_i)` and
:math:`\varepsilon_i = (x_i - D_i)/\sigma_i` the step kinds are:

``"euler"`` (1 evaluation)
    :math:`x_{i+1} = x_i + (\sigma_{i+1} - \sigma_i)\varepsilon_i
    = e^{-h} x_i + (1 - e^{-h}) D_i`: first order. In VE coordinates the
    data- and the noise-prediction first-order exponential integrators are this
    same step (DDIM), so first order has one kind.
``"heun"`` (2 evaluations; noise prediction)
    EDM's Heun step (Algorithm 1): the trapezoidal rule for
    :math:`\varepsilon` in :math:`\sigma`.
``"heun_data"`` (2 evaluations; data prediction)
    The exponential integrator with :math:`D` linear in :math:`\lambda` between
    the Euler predictor's two evaluations,
    :math:`x_{i+1} = e^{-h} x_i + (1 - e^{-h}) D_i + \frac{h - 1 + e^{-h}}{h}
    (D'_{i+1} - D_i)`.
``"2m"`` (1 evaluation; data prediction, multistep)
    DPM-Solver++(2M) exactly as :func:`sample_dpmpp_2m`.
``"2m_noise"`` (1 evaluation; noise prediction, multistep)
    The exponential integrator with :math:`\varepsilon` extrapolated linearly in
    :math:`\lambda` from the previous step,
    :math:`x_{i+1} = x_i - \sigma_i\big[(1 - e^{-h})\varepsilon_i + k
    (1 - e^{-h}(1 + h))\big]`, :math:`k = (\varepsilon_i - \varepsilon_{i-1})/h_{i-1}`.

A multistep kind without history (the first step) takes the first-order step;
the history of a step is its first evaluation. Every step to :math:`\sigma = 0`
is :math:`x = D(x, \sigma_i)` (one evaluation), whatever its kind. So
``["heun"] * n`` is :func:`sample_heun`, ``["2m"] * n`` is
:func:`sample_dpmpp_2m` and ``["euler"] * n`` is :func:`sample_euler`.

The step code works on torch tensors and on numpy arrays alike (only
arithmetic), which :func:`gaussian_output_law` uses for the exact
per-eigenvalue recursion of a plan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.rng import RNGLike, check_rng
from sciddm._core.validation import check_choice
from sciddm.diffusion._base import (
    Callback,
    Denoiser,
    Evaluator,
    SampleResult,
    as_result,
    check_callback,
    check_state,
    emit,
)
from sciddm.diffusion._schedules import check_sigmas

__all__ = ["SOLVERS", "plan_nfe", "sample_mixed"]

#: The step kinds of :func:`sample_mixed`.
SOLVERS = ("euler", "heun", "heun_data", "2m", "2m_noise")
_TWO_STAGE = ("heun", "heun_data")


def check_plan(solvers: Any, n_steps: int, name: str = "solvers") -> tuple[str, ...]:
    """Validate a per-step solver plan: one name of :data:`SOLVERS` per step."""
    if isinstance(solvers, str):
        return (check_choice(solvers, name, SOLVERS),) * n_steps
    if not isinstance(solvers, Sequence):
        raise TypeError(
            f"`{name}` must be a solver name or a sequence of them, got {type(solvers).__name__}"
        )
    plan = tuple(solvers)
    if len(plan) != n_steps:
        raise ValueError(
            f"`{name}` must hold one solver per step ({n_steps} for this ladder), got {len(plan)}"
        )
    for s in plan:
        if not isinstance(s, str):
            raise TypeError(f"`{name}` must hold solver names (str), got {type(s).__name__}")
        check_choice(s, name, SOLVERS)
    return plan


def plan_nfe(sigmas: Any, solvers: str | Sequence[str]) -> int:
    """Denoiser evaluations of :func:`sample_mixed` on ``sigmas`` with ``solvers``.

    A two-stage step (``"heun"``, ``"heun_data"``) to a level above 0 costs 2,
    every other step 1.

    Parameters
    ----------
    sigmas : array_like
        Strictly decreasing ladder.
    solvers : str or sequence of str
        One kind of :data:`SOLVERS` per step, or one kind for all.

    Returns
    -------
    int

    Examples
    --------
    >>> from sciddm.diffusion import karras_sigmas, plan_nfe
    >>> plan_nfe(karras_sigmas(4), ["heun", "2m", "heun_data", "heun"])
    6
    """
    s = check_sigmas(sigmas, "sigmas")
    plan = check_plan(solvers, len(s) - 1)
    return _cost(s, plan)


def _cost(s: np.ndarray, plan: Sequence[str]) -> int:
    return int(sum(2 if (k in _TWO_STAGE and s[i + 1] > 0) else 1 for i, k in enumerate(plan)))


class _History:
    """The first evaluation of the previous step: its state, denoised value and level."""

    def __init__(self) -> None:
        self.x: Any = None
        self.den: Any = None
        self.sigma = 0.0


def mixed_step(
    kind: str,
    x: Any,
    den: Any,
    sigma: float,
    sigma_next: float,
    evaluate: Callable[[Any, float], Any],
    hist: _History,
) -> Any:
    """One step of kind ``kind`` from ``x`` at ``sigma`` (with ``den = D(x, sigma)``).

    ``evaluate(x, sigma)`` is called once more by a two-stage kind; ``hist``
    holds the previous step's first evaluation. Pure arithmetic on ``x``.
    """
    if sigma_next == 0:
        return den
    ratio = sigma_next / sigma
    h = math.log(sigma / sigma_next)
    euler = x * ratio + den * (1.0 - ratio)
    if kind == "euler":
        return euler
    if kind == "heun":
        d = (x - den) / sigma
        d2 = (euler - evaluate(euler, sigma_next)) / sigma_next
        return x + (d + d2) * ((sigma_next - sigma) / 2)
    if kind == "heun_data":
        den2 = evaluate(euler, sigma_next)
        return euler + (den2 - den) * ((h - 1.0 + math.exp(-h)) / h)
    if hist.den is None:
        return euler
    h_prev = math.log(hist.sigma / sigma)
    if kind == "2m":
        r = h_prev / h
        d = den * (1 + 1 / (2 * r)) - hist.den * (1 / (2 * r))
        return x * ratio - d * math.expm1(-h)
    # "2m_noise"
    eps = (x - den) / sigma
    eps_prev = (hist.x - hist.den) / hist.sigma
    slope = (eps - eps_prev) / h_prev
    e = math.exp(-h)
    return x - (eps * (1 - e) + slope * (1 - e * (1 + h))) * sigma


def _at_step(evaluate: Callable[[Any, float, int], Any], step: int, x: Any, sigma: float) -> Any:
    return evaluate(x, sigma, step)


def run_plan(
    x: Any,
    s: np.ndarray,
    plan: Sequence[str],
    evaluate: Callable[[Any, float, int], Any],
    step_done: Callable[[int, Any, Any], None] | None = None,
    *,
    progress: bool = False,
) -> Any:
    """Run ``plan`` on ladder ``s`` from ``x`` with ``evaluate(x, sigma, step)``."""
    hist = _History()
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="mixed"):
        sigma, nxt = float(s[i]), float(s[i + 1])
        den = evaluate(x, sigma, i)
        if step_done is not None:
            step_done(i, x, den)
        x_new = mixed_step(
            plan[i], x, den, sigma, nxt, functools.partial(_at_step, evaluate, i), hist
        )
        hist.x, hist.den, hist.sigma = x, den, sigma
        x = x_new
    return x


def _mixed_iv(
    denoiser: Any, x: Any, sigmas: Any, solvers: Any, callback: Any, rng: Any
) -> tuple[Evaluator, torch.Tensor, np.ndarray, tuple[str, ...], Callback | None]:
    check_rng(rng, per_row=True)
    ev = Evaluator(denoiser)
    x = check_state(x)
    s = check_sigmas(sigmas, "sigmas")
    if np.any(np.diff(s) == 0):
        i = int(np.argmax(np.diff(s) == 0))
        raise ValueError(
            f"`sigmas` must be strictly decreasing for sample_mixed; sigmas[{i}] = "
            f"sigmas[{i + 1}] = {s[i]:g}"
        )
    if np.any(s[:-1] == 0):
        raise ValueError("`sigmas` may contain 0 only as its last entry")
    plan = check_plan(solvers, len(s) - 1)
    return ev, x, s, plan, check_callback(callback)


@torch.no_grad()
def sample_mixed(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    solvers: str | Sequence[str] = "heun",
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
) -> SampleResult:
    r"""Probability-flow sampler with a solver chosen per step (USF-style plan).

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        State at ``sigmas[0]``.
    sigmas : array_like
        Strictly decreasing ladder (0 only as its last entry).
    solvers : str or sequence of str, default "heun"
        One kind per step (``len(sigmas) - 1`` of them) among ``"euler"``,
        ``"heun"``, ``"heun_data"``, ``"2m"``, ``"2m_noise"`` (see the module
        notes), or one kind for every step.
    callback : callable, optional
        Called with a dict per step (as the other samplers: ``x``, ``i``,
        ``sigma``, ``sigma_hat``, ``denoised``).
    progress : bool, default False
        Show a progress bar.
    rng : random source, optional
        Accepted for a common signature and checked; the sampler is deterministic.

    Returns
    -------
    SampleResult
        ``nfe`` equals :func:`plan_nfe` of the ladder and plan;
        ``sampler = "mixed"``.

    Notes
    -----
    With :math:`h = \log(\sigma_i/\sigma_{i+1})`, the first-order step is
    :math:`x_{i+1} = e^{-h}x_i + (1 - e^{-h})D_i`; the second-order kinds add
    a correction from a second evaluation (``"heun"``, ``"heun_data"``) or
    from the previous step's (``"2m"``, ``"2m_noise"``). The module docstring
    gives every formula.

    References
    ----------
    .. [1] Liu, Wang, Cheng, Chen, Li, Wen, Li, "A unified sampling framework
       for solver searching of diffusion probabilistic models", ICLR 2024.
    .. [2] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, Algorithm 1.
    .. [3] Lu, Zhou, Bao, Chen, Li, Zhu, "DPM-Solver++", 2022, Algorithm 2.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import (GaussianDenoiser, karras_sigmas, sample_heun,
    ...                               sample_mixed)
    >>> g = GaussianDenoiser([1.0], [[0.25]])
    >>> x = torch.full((2, 1), 80.0, dtype=torch.float64)
    >>> s = karras_sigmas(6)
    >>> a = sample_mixed(g, x, s, solvers="heun")
    >>> bool(torch.allclose(a.samples, sample_heun(g, x, s).samples)), a.nfe
    (True, 11)
    >>> sample_mixed(g, x, s, solvers=["heun", "2m", "2m", "heun_data", "2m_noise", "euler"]).nfe
    8
    """
    ev, x, s, plan, cb = _mixed_iv(denoiser, x, sigmas, solvers, callback, rng)

    def step_done(i: int, xi: torch.Tensor, den: torch.Tensor) -> None:
        emit(cb, x=xi, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)

    out = run_plan(x, s, plan, ev, step_done, progress=progress)
    return as_result(out, ev, s, "mixed")
