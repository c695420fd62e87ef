"""The generic entry point :func:`sample` (with teleportation) and the discrete DDPM sampler."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.rng import UNSET, RNGLike, renamed_rng
from sciddm._core.validation import check_choice, check_scalar
from sciddm.diffusion._base import (
    Callback,
    Denoiser,
    Evaluator,
    SampleResult,
    as_result,
    check_callback,
    check_state,
    draw_normal,
    emit,
    noise_source,
)
from sciddm.diffusion._samplers import _SAMPLERS
from sciddm.diffusion._schedules import check_sigmas

__all__ = ["sample", "sample_ddpm"]


def _sample_iv(
    denoiser: Any, x: Any, sigmas: Any, sampler: Any, teleport_to: Any, gaussian: Any
) -> tuple[Callable[..., Any], str, np.ndarray, float | None, Any]:
    if not callable(denoiser):
        raise TypeError(f"`denoiser` must be a callable D(x, sigma), got {type(denoiser).__name__}")
    check_state(x)
    s = check_sigmas(sigmas, "sigmas", require_zero=True)
    if isinstance(sampler, str):
        fn: Callable[..., Any] = _SAMPLERS[check_choice(sampler, "sampler", tuple(_SAMPLERS))]
        name = sampler
    elif callable(sampler):
        fn, name = sampler, getattr(sampler, "__name__", type(sampler).__name__)
    else:
        raise TypeError(f"`sampler` must be a name or a callable, got {type(sampler).__name__}")
    skip = None
    if teleport_to is not None:
        skip = check_scalar(teleport_to, "teleport_to", lo=0.0, hi=float(s[0]))
        if gaussian is None:
            gaussian = denoiser if hasattr(denoiser, "pf_ode") else None
        if gaussian is None:
            raise ValueError(
                "`gaussian` must be given with `teleport_to` (a GaussianDenoiser fitted to the "
                "data) unless `denoiser` is one"
            )
        if not hasattr(gaussian, "pf_ode"):
            raise TypeError(
                f"`gaussian` must be a GaussianDenoiser (with a `pf_ode` method), got "
                f"{type(gaussian).__name__}"
            )
    elif gaussian is not None:
        raise ValueError("`gaussian` is used only with `teleport_to`; pass `teleport_to=` too")
    return fn, name, s, skip, gaussian


def sample(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    sampler: str | Callable[..., Any] = "heun",
    teleport_to: float | None = None,
    gaussian: Any = None,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    generator: Any = UNSET,
    **options: Any,
) -> SampleResult:
    r"""Generate from ``x`` at ``sigmas[0]`` down to 0, optionally teleporting first.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        Start state at ``sigmas[0]`` (e.g. ``sigmas[0] * randn``).
    sigmas : array_like
        Non-increasing ladder ending in 0.
    sampler : str or callable, default "heun"
        One of ``"euler"``, ``"heun"``, ``"ddim"``, ``"dpmpp_2m"``,
        ``"ancestral"``, or any function with the sampler signature (its result
        may be a :class:`SampleResult` or a tensor).
    teleport_to : float, optional
        :math:`\sigma_{skip}`: jump from ``sigmas[0]`` to :math:`\sigma_{skip}`
        with the closed-form probability-flow map of ``gaussian``
        (:func:`teleport`), then run the sampler on
        :math:`[\sigma_{skip}] + [s \in \text{sigmas} : s < \sigma_{skip}]`.
        With :math:`\sigma_{skip} = ` ``sigmas[k]`` the first ``k`` steps are
        skipped.
    gaussian : GaussianDenoiser, optional
        The Gaussian model of teleportation; by default ``denoiser`` itself
        when it is a :class:`GaussianDenoiser`.
    callback, progress, rng, **options
        Passed to the sampler (``rng``: its random source).
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult
        With ``teleport_to`` set and ``sigmas`` the ladder run after the jump;
        the jump costs no evaluation.

    References
    ----------
    .. [1] Wang & Vastola, "The unreasonable effectiveness of Gaussian score
       approximation for diffusion models and its applications", TMLR 2024,
       Sec. 6 (analytical teleportation).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample
    >>> g = GaussianDenoiser([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]])
    >>> s = karras_sigmas(18)
    >>> x = 80 * torch.randn(3, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> a = sample(g, x, s, sampler="heun")
    >>> b = sample(g, x, s, sampler="heun", teleport_to=float(s[4]))
    >>> a.nfe, b.nfe, float((a.samples - b.samples).abs().max()) < 0.05
    (35, 27, True)
    """
    rng = renamed_rng(rng, generator, "generator", func="sample")
    fn, name, s, skip, gaussian = _sample_iv(denoiser, x, sigmas, sampler, teleport_to, gaussian)
    if skip is not None:
        from sciddm.diffusion._teleport import teleport

        x = teleport(x, gaussian, float(s[0]), skip)
        if skip == 0:
            ladder = np.zeros(1)
            return SampleResult(
                samples=x, nfe=0, wall_time=0.0, sigmas=ladder, sampler=name, teleport_to=0.0
            )
        s = np.concatenate([[skip], s[s < skip]])
    if isinstance(sampler, str):
        res = fn(denoiser, x, s, callback=callback, progress=progress, rng=rng, **options)
    else:
        ev = Evaluator(denoiser)
        out = fn(
            lambda z, sg: ev.call(z, sg, ev.nfe, "custom sampler"),
            x,
            s,
            callback=callback,
            progress=progress,
            rng=rng,
            **options,
        )
        res = (
            out
            if isinstance(out, SampleResult)
            else as_result(check_state(out, "the sampler's output"), ev, s, name)
        )
    return dataclasses.replace(res, teleport_to=skip) if skip is not None else res


@torch.no_grad()
def sample_ddpm(
    model: Denoiser,
    x: torch.Tensor,
    betas: Any,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    variance: str = "large",
    clip_denoised: float | None = None,
    generator: Any = UNSET,
) -> SampleResult:
    r"""Discrete-time DDPM ancestral sampler for an noise-prediction model.

    Parameters
    ----------
    model : Denoiser
        :math:`\varepsilon_\theta(x_t, t)` with ``t`` a long tensor of shape
        ``(batch,)`` in ``0..T-1`` (index ``t`` is the paper's step ``t + 1``).
    x : torch.Tensor of shape (batch, ...)
        :math:`x_T`, standard normal noise (VP scale).
    betas : array_like of shape (T,)
        The variance schedule, e.g.
        ``ddpm_betas(1000, beta_start=1e-3, beta_end=0.2)``.
    callback : callable, optional
        Called with a dict per step: ``x`` (:math:`x_t`, VP scale), ``i`` (loop
        index), ``t``, ``sigma = sigma_hat`` (the VE level of ``t``),
        ``denoised`` (:math:`\hat x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,
        \varepsilon)/\sqrt{\bar\alpha_t}`) and ``eps``.
    progress : bool, default False
        Show a progress bar.
    rng : None, int, numpy.random.Generator, torch.Generator or list of them
        Source of the reverse-step noise; a list holds one generator per row.
    variance : {"large", "small"}
        Reverse-step variance :math:`\beta_t` (fixed-large) or
        :math:`\beta_t (1 - \bar\alpha_{t-1})/(1 - \bar\alpha_t)` (fixed-small).
    clip_denoised : float, optional
        Clip :math:`\hat x_0` to ``[-c, c]`` before forming the posterior mean
        (only then is the posterior-mean form used; otherwise Algorithm 2's noise
        form, which is equivalent).
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult
        ``samples`` is :math:`x_0`; ``nfe = T``; ``sigmas`` the VE levels of
        ``t = T-1, ..., 0``, then 0.

    Notes
    -----
    .. math::

        x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}
        {\sqrt{1 - \bar\alpha_t}}\,\varepsilon_\theta(x_t, t)\Big) + \sigma_t z,

    with no noise at the last step.

    References
    ----------
    .. [1] Ho, Jain, Abbeel, "Denoising diffusion probabilistic models",
       NeurIPS 2020, Algorithm 2. Aithal et al. 2024 use :math:`T = 1000`,
       linear :math:`\beta` from 1e-3 to 0.2 and fixed-large variance.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import ddpm_betas, sample_ddpm
    >>> betas = ddpm_betas(50, beta_start=1e-3, beta_end=0.2)
    >>> seen = []
    >>> res = sample_ddpm(lambda x, t: 0 * x, torch.zeros(4, 1), betas, rng=0,
    ...                   callback=lambda d: seen.append(d["denoised"]))
    >>> len(seen), res.samples.shape, res.nfe
    (50, torch.Size([4, 1]), 50)
    """
    from sciddm.diffusion._schedules import ddpm_alphas_cumprod

    rng = renamed_rng(rng, generator, "generator", func="sample_ddpm")
    ev = Evaluator(model, "model")
    x = check_state(x)
    variance = check_choice(variance, "variance", ("large", "small"))
    ac = ddpm_alphas_cumprod(betas)  # checks `betas`: 1-D, finite, in (0, 1)
    b = np.asarray(betas, dtype=np.float64)
    if clip_denoised is not None:
        clip_denoised = check_scalar(clip_denoised, "clip_denoised", lo=0.0, closed="neither")
    cb = check_callback(callback)
    source = noise_source(rng, x)
    ac_prev = np.concatenate([[1.0], ac[:-1]])
    T = b.size
    for i in progress_bar(range(T), enabled=progress, desc="ddpm"):
        t = T - 1 - i
        sig = math.sqrt((1 - ac[t]) / ac[t])
        tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
        eps = ev.call(x, tt, i, f"t = {t}, sigma = {sig:.4g}")
        x0 = (x - math.sqrt(1 - ac[t]) * eps) / math.sqrt(ac[t])
        if clip_denoised is not None:
            x0 = x0.clamp(-clip_denoised, clip_denoised)
        emit(cb, x=x, i=i, t=t, sigma=sig, sigma_hat=sig, denoised=x0, eps=eps)
        if clip_denoised is not None:
            c0 = math.sqrt(ac_prev[t]) * b[t] / (1 - ac[t])
            ct = math.sqrt(1 - b[t]) * (1 - ac_prev[t]) / (1 - ac[t])
            mean = c0 * x0 + ct * x
        else:
            mean = (x - b[t] / math.sqrt(1 - ac[t]) * eps) / math.sqrt(1 - b[t])
        if t > 0:
            var = b[t] if variance == "large" else b[t] * (1 - ac_prev[t]) / (1 - ac[t])
            x = mean + math.sqrt(var) * draw_normal(x, source)
        else:
            x = mean
    ladder = np.concatenate([np.sqrt((1 - ac) / ac)[::-1], [0.0]])
    return as_result(x, ev, ladder, "ddpm")
