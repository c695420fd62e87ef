"""k-diffusion-style samplers of the probability-flow ODE / reverse SDE.

Every sampler has the signature ``sampler(denoiser, x, sigmas, *, callback=None,
progress=False, generator=None, **options)``: ``denoiser(x, sigma)`` is any callable
returning an estimate of ``E[x_0 | x_sigma]`` (``sigma`` is passed as a tensor of shape
``(batch,)``), ``x`` is the starting state at noise level ``sigmas[0]`` (e.g.
``sigmas[0] * randn``), and ``sigmas`` is a non-increasing ladder (usually ending in 0).
``callback`` receives, after each denoiser call of a step, a dict with keys ``x`` (the
state before the step), ``i`` (step index), ``sigma``, ``sigma_hat`` (floats; they differ
only with churn) and ``denoised`` (the x̂₀ of that step).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.validation import check_choice, check_scalar
from sciddm.diffusion._schedules import check_sigmas

__all__ = [
    "NFECounter",
    "get_ancestral_step",
    "randn_like",
    "sample",
    "sample_ancestral",
    "sample_ddim",
    "sample_ddpm",
    "sample_dpmpp_2m",
    "sample_euler",
    "sample_heun",
    "seeded_noise",
]

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
GeneratorLike = torch.Generator | Sequence[torch.Generator] | None


def randn_like(x: torch.Tensor, generator: GeneratorLike = None) -> torch.Tensor:
    """Standard normal noise shaped like ``x``.

    ``generator`` may be one :class:`torch.Generator` or a sequence of them, one per
    batch row (EDM's one-generator-per-seed): then row ``b`` depends only on
    ``generator[b]``, so samples do not depend on the batch they are drawn in.
    """
    if generator is None or isinstance(generator, torch.Generator):
        return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    gens = list(generator)
    if len(gens) != x.shape[0]:
        raise ValueError(
            f"`generator` must hold one generator per batch row ({x.shape[0]}), got {len(gens)}"
        )
    return torch.stack(
        [torch.randn(x.shape[1:], generator=g, device=x.device, dtype=x.dtype) for g in gens]
    )


def seeded_noise(
    seeds: Sequence[int], shape: Sequence[int], *, device: Any = "cpu", dtype: Any = None
) -> tuple[torch.Tensor, list[torch.Generator]]:
    """Initial unit noise and per-row generators for a list of integer seeds.

    Returns ``(z, generators)``: ``z[b]`` is drawn from a generator seeded with
    ``seeds[b]``, which is returned so that stochastic samplers keep drawing from it.
    Multiply ``z`` by ``sigmas[0]`` to start a sampler.

    Examples
    --------
    >>> from sciddm.diffusion import seeded_noise
    >>> z1, _ = seeded_noise([3, 4], (2,))
    >>> z2, _ = seeded_noise([4], (2,))
    >>> bool(torch.equal(z1[1], z2[0]))
    True
    """
    gens = []
    for s in seeds:
        g = torch.Generator(device=torch.device(device))
        g.manual_seed(int(s))
        gens.append(g)
    dtype = dtype or torch.get_default_dtype()
    z = torch.stack(
        [torch.randn(tuple(shape), generator=g, device=device, dtype=dtype) for g in gens]
    )
    return z, gens


class NFECounter:
    """Wrap a denoiser and count its evaluations (``nfe``) and rows evaluated.

    Examples
    --------
    >>> from sciddm.diffusion import NFECounter, karras_sigmas, sample_heun
    >>> d = NFECounter(lambda x, s: 0 * x)
    >>> _ = sample_heun(d, torch.ones(2, 3), karras_sigmas(5))
    >>> d.nfe
    9
    """

    def __init__(self, denoiser: Denoiser) -> None:
        self.denoiser = denoiser
        self.nfe = 0
        self.rows = 0

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        self.rows += int(x.shape[0])
        return self.denoiser(x, sigma)


def _prepare(x: Any, sigmas: Any) -> tuple[torch.Tensor, np.ndarray]:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"`x` must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"`x` must have a non-empty batch axis, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("`x` must not contain NaN or inf")
    return x, check_sigmas(sigmas, "sigmas")


def _call(denoiser: Denoiser, x: torch.Tensor, sigma: float) -> torch.Tensor:
    return denoiser(x, x.new_full((x.shape[0],), sigma))


def _emit(cb: Callable[[dict[str, Any]], Any] | None, **info: Any) -> None:
    if cb is not None:
        cb(info)


def _churn(
    x: torch.Tensor,
    sigma: float,
    n_steps: int,
    s_churn: float,
    s_tmin: float,
    s_tmax: float,
    s_noise: float,
    generator: GeneratorLike,
) -> tuple[torch.Tensor, float]:
    gamma = min(s_churn / n_steps, math.sqrt(2.0) - 1.0) if s_tmin <= sigma <= s_tmax else 0.0
    sigma_hat = sigma * (gamma + 1.0)
    if gamma > 0:
        x = x + randn_like(x, generator) * s_noise * math.sqrt(sigma_hat**2 - sigma**2)
    return x, sigma_hat


def _churn_iv(s_churn: float, s_tmin: float, s_tmax: float, s_noise: float) -> None:
    check_scalar(s_churn, "s_churn", lo=0.0)
    check_scalar(s_tmin, "s_tmin", lo=0.0)
    check_scalar(s_tmax, "s_tmax", lo=0.0, allow_inf=True)
    check_scalar(s_noise, "s_noise", lo=0.0)


@torch.no_grad()
def sample_euler(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
) -> torch.Tensor:
    """Euler's method for the probability-flow ODE ``dx/dsigma = (x - D(x, sigma)) / sigma``.

    One denoiser evaluation per step. Optional churn as in :func:`sample_heun`.

    References
    ----------
    .. [1] Karras et al. 2022, Algorithm 2 (first-order variant); k-diffusion
       ``sample_euler``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_euler
    >>> g = GaussianDenoiser([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    >>> x = 80.0 * torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    >>> sample_euler(g, x, karras_sigmas(50)).shape
    torch.Size([4, 2])
    """
    x, s = _prepare(x, sigmas)
    _churn_iv(s_churn, s_tmin, s_tmax, s_noise)
    n = len(s) - 1
    for i in progress_bar(range(n), enabled=progress, desc="euler"):
        x, sigma_hat = _churn(x, s[i], n, s_churn, s_tmin, s_tmax, s_noise, generator)
        den = _call(denoiser, x, sigma_hat)
        _emit(callback, x=x, i=i, sigma=float(s[i]), sigma_hat=sigma_hat, denoised=den)
        x = x + (x - den) / sigma_hat * (s[i + 1] - sigma_hat)
    return x


@torch.no_grad()
def sample_heun(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
) -> torch.Tensor:
    """Heun's second-order method (EDM Algorithms 1 and 2).

    A step to ``sigma_{i+1} > 0`` costs 2 evaluations; a step to 0 is an Euler step,
    so a ladder of ``N`` levels plus 0 costs ``2N - 1`` evaluations.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)``.
    x : torch.Tensor
        State at ``sigmas[0]``.
    sigmas : array_like
        Non-increasing ladder.
    callback, progress, generator
        See the module docstring; ``generator`` feeds the churn noise.
    s_churn, s_tmin, s_tmax, s_noise : float
        Stochastic churn of EDM Algorithm 2: at levels in ``[s_tmin, s_tmax]`` the noise
        is raised to ``sigma_hat = sigma (1 + gamma)``, ``gamma = min(s_churn/N, sqrt2 - 1)``,
        by adding ``N(0, s_noise^2 (sigma_hat^2 - sigma^2))``. ``s_churn = 0`` is the
        deterministic Algorithm 1.

    Returns
    -------
    torch.Tensor
        The state at ``sigmas[-1]``.

    Notes
    -----
    ``d = (x - D(x, sigma_hat)) / sigma_hat``; ``x' = x + (sigma_next - sigma_hat) d``;
    ``x_next = x + (sigma_next - sigma_hat) (d + d') / 2`` with ``d'`` evaluated at
    ``(x', sigma_next)``. Global error ``O(N^-2)``.

    References
    ----------
    .. [1] Karras et al. 2022, Algorithms 1 and 2.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_heun
    >>> g = GaussianDenoiser([1.0], [[0.25]])
    >>> xT = torch.tensor([[80.0]], dtype=torch.float64)
    >>> float(sample_heun(g, xT, karras_sigmas(200))[0, 0])  # closed form: 1 + 0.5
    1.49...
    """
    x, s = _prepare(x, sigmas)
    _churn_iv(s_churn, s_tmin, s_tmax, s_noise)
    n = len(s) - 1
    for i in progress_bar(range(n), enabled=progress, desc="heun"):
        x, sigma_hat = _churn(x, s[i], n, s_churn, s_tmin, s_tmax, s_noise, generator)
        den = _call(denoiser, x, sigma_hat)
        _emit(callback, x=x, i=i, sigma=float(s[i]), sigma_hat=sigma_hat, denoised=den)
        d = (x - den) / sigma_hat
        dt = s[i + 1] - sigma_hat
        if s[i + 1] == 0:
            x = x + d * dt
        else:
            x2 = x + d * dt
            d2 = (x2 - _call(denoiser, x2, s[i + 1])) / s[i + 1]
            x = x + (d + d2) * (dt / 2)
    return x


def get_ancestral_step(sigma_from: float, sigma_to: float, eta: float = 1.0) -> tuple[float, float]:
    """``(sigma_down, sigma_up)`` of an ancestral step (k-diffusion).

    ``sigma_up = min(sigma_to, eta sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2))``,
    ``sigma_down = sqrt(sigma_to^2 - sigma_up^2)``; with ``eta = 1`` the step samples the
    Gaussian bridge ``x_{sigma_to} | x_{sigma_from}, x_0 = D`` (the DDPM posterior).
    """
    if eta == 0 or sigma_to == 0:
        return sigma_to, 0.0
    up = min(sigma_to, eta * math.sqrt(sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2))
    return math.sqrt(sigma_to**2 - up**2), up


@torch.no_grad()
def sample_ddim(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
    eta: float = 0.0,
) -> torch.Tensor:
    """DDIM (Song et al.) in VE coordinates, with stochasticity ``eta``.

    ``x_next = x̂₀ + sigma_down ε̂ + sigma_up z`` with ``ε̂ = (x - x̂₀)/sigma`` and
    ``(sigma_down, sigma_up)`` from :func:`get_ancestral_step`. ``eta = 0`` is deterministic
    DDIM, which equals Euler's method on the probability-flow ODE in ``(x, sigma)``;
    ``eta = 1`` is DDPM ancestral sampling.

    References
    ----------
    .. [1] Song, Meng, Ermon, "Denoising diffusion implicit models", ICLR 2021, eq. (12),
       mapped to VE by ``x_VE = x_VP / sqrt(abar)``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_ddim, sample_euler
    >>> g = GaussianDenoiser([0.0], [[1.0]])
    >>> x = torch.full((1, 1), 10.0, dtype=torch.float64)
    >>> s = karras_sigmas(10, sigma_max=10.0)
    >>> bool(torch.allclose(sample_ddim(g, x, s), sample_euler(g, x, s)))
    True
    """
    x, s = _prepare(x, sigmas)
    eta = check_scalar(eta, "eta", lo=0.0)
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="ddim"):
        den = _call(denoiser, x, s[i])
        _emit(callback, x=x, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)
        down, up = get_ancestral_step(s[i], s[i + 1], eta)
        x = den + (x - den) * (down / s[i])
        if up > 0:
            x = x + randn_like(x, generator) * up
    return x


@torch.no_grad()
def sample_ancestral(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
    eta: float = 1.0,
    s_noise: float = 1.0,
) -> torch.Tensor:
    """Euler ancestral sampling (k-diffusion ``sample_euler_ancestral``).

    Euler step to ``sigma_down``, then fresh noise ``s_noise * sigma_up * z``
    (:func:`get_ancestral_step`). With ``eta = 1`` this is DDPM's ancestral sampler in VE
    form; algebraically the same update as :func:`sample_ddim` with that ``eta``.

    References
    ----------
    .. [1] Ho, Jain, Abbeel, "Denoising diffusion probabilistic models", NeurIPS 2020,
       Algorithm 2; Crowson, k-diffusion.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_ancestral
    >>> g = GaussianDenoiser([0.0], [[1.0]])
    >>> gen = torch.Generator().manual_seed(0)
    >>> x = 80 * torch.randn(2000, 1, generator=gen, dtype=torch.float64)
    >>> y = sample_ancestral(g, x, karras_sigmas(100), generator=gen)
    >>> round(float(y.std()), 1)
    1.0
    """
    x, s = _prepare(x, sigmas)
    eta = check_scalar(eta, "eta", lo=0.0)
    s_noise = check_scalar(s_noise, "s_noise", lo=0.0)
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="ancestral"):
        den = _call(denoiser, x, s[i])
        _emit(callback, x=x, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)
        down, up = get_ancestral_step(s[i], s[i + 1], eta)
        x = x + (x - den) / s[i] * (down - s[i])
        if up > 0:
            x = x + randn_like(x, generator) * (s_noise * up)
    return x


@torch.no_grad()
def sample_dpmpp_2m(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
) -> torch.Tensor:
    """DPM-Solver++(2M): second-order multistep solver in ``lambda = -log sigma``.

    One evaluation per step. With ``h = log(sigma_i / sigma_{i+1})`` and
    ``r = h_{i-1} / h``: ``D' = (1 + 1/(2r)) D_i - D_{i-1}/(2r)`` (first order at the
    first step and the step to 0) and
    ``x_{i+1} = (sigma_{i+1}/sigma_i) x_i - expm1(-h) D'``.

    References
    ----------
    .. [1] Lu, Zhou, Bao, Chen, Li, Zhu, "DPM-Solver++: Fast solver for guided sampling of
       diffusion probabilistic models", 2022, Algorithm 2; k-diffusion ``sample_dpmpp_2m``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_dpmpp_2m
    >>> g = GaussianDenoiser([1.0], [[0.25]])
    >>> xT = torch.tensor([[80.0]], dtype=torch.float64)
    >>> round(float(sample_dpmpp_2m(g, xT, karras_sigmas(200))[0, 0]), 3)
    1.5
    """
    del generator  # deterministic
    x, s = _prepare(x, sigmas)
    old = None
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="dpm++2m"):
        den = _call(denoiser, x, s[i])
        _emit(callback, x=x, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)
        if s[i + 1] == 0:
            x = den
        else:
            h = math.log(s[i] / s[i + 1])
            d = den
            if old is not None and s[i - 1] > s[i]:
                r = math.log(s[i - 1] / s[i]) / h
                d = (1 + 1 / (2 * r)) * den - (1 / (2 * r)) * old
            x = (s[i + 1] / s[i]) * x - math.expm1(-h) * d
        old = den
    return x


_SAMPLERS: dict[str, Callable[..., torch.Tensor]] = {
    "euler": sample_euler,
    "heun": sample_heun,
    "ddim": sample_ddim,
    "dpmpp_2m": sample_dpmpp_2m,
    "ancestral": sample_ancestral,
}


def sample(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    sampler: str | Callable[..., torch.Tensor] = "heun",
    teleport_to: float | None = None,
    gaussian: Any = None,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
    **options: Any,
) -> torch.Tensor:
    """Generate from ``x`` at ``sigmas[0]`` down to 0, optionally teleporting first.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)``.
    x : torch.Tensor
        Start state at ``sigmas[0]`` (e.g. ``sigmas[0] * randn``).
    sigmas : array_like
        Non-increasing ladder ending in 0.
    sampler : str or callable, default "heun"
        One of ``"euler"``, ``"heun"``, ``"ddim"``, ``"dpmpp_2m"``, ``"ancestral"``, or
        any function with the sampler signature.
    teleport_to : float, optional
        ``sigma_skip``: jump from ``sigmas[0]`` to ``sigma_skip`` with the closed-form
        probability-flow map of ``gaussian`` (:func:`teleport`) and run the sampler on
        ``[sigma_skip] + [s in sigmas if s < sigma_skip]``. With ``sigma_skip = sigmas[k]``
        the first ``k`` steps are skipped.
    gaussian : GaussianDenoiser
        Required with ``teleport_to``.
    callback, progress, generator, **options
        Passed to the sampler.

    Returns
    -------
    torch.Tensor

    References
    ----------
    .. [1] Wang & Vastola, "The unreasonable effectiveness of Gaussian score approximation
       for diffusion models and its applications", TMLR 2024, Sec. 6 (analytical
       teleportation).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample
    >>> g = GaussianDenoiser([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]])
    >>> s = karras_sigmas(18)
    >>> x = 80 * torch.randn(3, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> a = sample(g, x, s, sampler="heun")
    >>> b = sample(g, x, s, sampler="heun", teleport_to=float(s[4]), gaussian=g)
    >>> float((a - b).abs().max()) < 0.05
    True
    """
    s = check_sigmas(sigmas, "sigmas", require_zero=True)
    fn: Callable[..., torch.Tensor]
    if isinstance(sampler, str):
        fn = _SAMPLERS[check_choice(sampler, "sampler", tuple(_SAMPLERS))]
    elif callable(sampler):
        fn = sampler
    else:
        raise ValueError(f"`sampler` must be a name or a callable, got {sampler!r}")
    if teleport_to is not None:
        from sciddm.diffusion._teleport import teleport

        skip = check_scalar(teleport_to, "teleport_to", lo=0.0, hi=float(s[0]), closed="right")
        if gaussian is None:
            raise ValueError("`gaussian` must be given with `teleport_to`")
        x = teleport(x, gaussian, float(s[0]), skip)
        s = np.concatenate([[skip], s[s < skip]])
    return fn(denoiser, x, s, callback=callback, progress=progress, generator=generator, **options)


@torch.no_grad()
def sample_ddpm(
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    betas: Any,
    *,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: bool = False,
    generator: GeneratorLike = None,
    variance: str = "large",
    clip_denoised: float | None = None,
) -> torch.Tensor:
    """Discrete-time DDPM ancestral sampler for an ε-prediction model.

    Parameters
    ----------
    model : callable
        ``eps_theta(x_t, t)`` with ``t`` a long tensor of shape ``(batch,)`` in
        ``0..T-1`` (index ``t`` is the paper's step ``t + 1``).
    x : torch.Tensor
        ``x_T``, standard normal noise (VP scale).
    betas : array_like, shape (T,)
        The variance schedule, e.g. ``ddpm_betas(1000, beta_start=1e-3, beta_end=0.2)``.
    callback, progress, generator
        As for the other samplers; the callback dict holds ``x`` (``x_t``, VP scale),
        ``i`` (loop index), ``t``, ``sigma = sigma_hat`` (VE level of ``t``),
        ``denoised`` (x̂₀ = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)) and ``eps``.
    variance : {"large", "small"}
        Reverse-step variance ``beta_t`` (fixed-large) or
        ``beta_t (1 - abar_{t-1}) / (1 - abar_t)`` (fixed-small).
    clip_denoised : float, optional
        Clip x̂₀ to ``[-c, c]`` before forming the posterior mean (only then is the
        posterior-mean form used; otherwise Algorithm 2's ε form, which is equivalent).

    Returns
    -------
    torch.Tensor
        ``x_0``.

    Notes
    -----
    ``x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sigma_t z``,
    no noise at the last step.

    References
    ----------
    .. [1] Ho, Jain, Abbeel 2020, Algorithm 2; Aithal et al. 2024 use T = 1000, linear beta
       from 1e-3 to 0.2 and fixed-large variance.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import ddpm_betas, sample_ddpm
    >>> betas = ddpm_betas(50, beta_start=1e-3, beta_end=0.2)
    >>> seen = []
    >>> x0 = sample_ddpm(lambda x, t: 0 * x, torch.zeros(4, 1), betas,
    ...                  callback=lambda d: seen.append(d["denoised"]))
    >>> len(seen), x0.shape
    (50, torch.Size([4, 1]))
    """
    from sciddm.diffusion._schedules import ddpm_alphas_cumprod

    variance = check_choice(variance, "variance", ("large", "small"))
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"`x` must be a torch.Tensor, got {type(x).__name__}")
    b = np.asarray(betas, dtype=np.float64)
    ac = ddpm_alphas_cumprod(b)
    ac_prev = np.concatenate([[1.0], ac[:-1]])
    T = b.size
    for i in progress_bar(range(T), enabled=progress, desc="ddpm"):
        t = T - 1 - i
        tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
        eps = model(x, tt)
        x0 = (x - math.sqrt(1 - ac[t]) * eps) / math.sqrt(ac[t])
        sig = math.sqrt((1 - ac[t]) / ac[t])
        if clip_denoised is not None:
            x0 = x0.clamp(-clip_denoised, clip_denoised)
        _emit(callback, x=x, i=i, t=t, sigma=sig, sigma_hat=sig, denoised=x0, eps=eps)
        if clip_denoised is not None:
            c0 = math.sqrt(ac_prev[t]) * b[t] / (1 - ac[t])
            ct = math.sqrt(1 - b[t]) * (1 - ac_prev[t]) / (1 - ac[t])
            mean = c0 * x0 + ct * x
        else:
            mean = (x - b[t] / math.sqrt(1 - ac[t]) * eps) / math.sqrt(1 - b[t])
        if t > 0:
            var = b[t] if variance == "large" else b[t] * (1 - ac_prev[t]) / (1 - ac[t])
            x = mean + math.sqrt(var) * randn_like(x, generator)
        else:
            x = mean
    return x
