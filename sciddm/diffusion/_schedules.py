"""Noise schedules (Karras, VE, VP, discrete DDPM) and their conversions.

Every continuous schedule is a descending array of noise levels ``sigma``
ending in 0 (the k-diffusion shape), in the EDM/VE convention
``x_sigma = x_0 + sigma * n``. A variance-preserving (VP/DDPM) state
``z_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`` is the VE state at
``sigma_t = sqrt((1 - abar_t) / abar_t)`` scaled by ``sqrt(abar_t) = 1 / sqrt(1 + sigma^2)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sciddm._core.validation import check_array, check_choice, check_int, check_scalar

__all__ = [
    "append_zero",
    "check_sigmas",
    "ddpm_alphas_cumprod",
    "ddpm_betas",
    "ddpm_sigmas",
    "ddpm_timestep_sigmas",
    "karras_sigmas",
    "sigma_to_t",
    "t_to_sigma",
    "ve_sigmas",
    "vp_scale",
    "vp_sigmas",
]


def append_zero(sigmas: Any) -> np.ndarray:
    """Append a final 0 to a descending array of noise levels."""
    s = np.asarray(sigmas, dtype=np.float64)
    return np.concatenate([s, [0.0]])


def check_sigmas(sigmas: Any, name: str = "sigmas", *, require_zero: bool = False) -> np.ndarray:
    """Validate a noise ladder: 1-D, finite, non-negative, non-increasing.

    Parameters
    ----------
    sigmas : array_like or torch.Tensor
        The ladder ``sigma_0 > sigma_1 > ... >= 0``.
    name : str
        Argument name used in the messages.
    require_zero : bool, default False
        Also require the last entry to be exactly 0.

    Returns
    -------
    numpy.ndarray
        The ladder as float64.

    Examples
    --------
    >>> from sciddm.diffusion import check_sigmas
    >>> check_sigmas([2.0, 1.0, 0.0], require_zero=True)
    array([2., 1., 0.])
    >>> check_sigmas([1.0, 2.0, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: `sigmas` must be non-increasing; sigmas[1] = 2 > sigmas[0] = 1
    """
    if hasattr(sigmas, "detach"):
        sigmas = sigmas.detach().cpu().double().numpy()
    s = check_array(sigmas, name, ndim=1)
    if s.size < 2:
        raise ValueError(f"`{name}` must hold at least 2 noise levels, got {s.size}")
    if np.any(s < 0):
        i = int(np.argmax(s < 0))
        raise ValueError(f"`{name}` must be non-negative; {name}[{i}] = {s[i]:g}")
    d = np.diff(s)
    if np.any(d > 0):
        i = int(np.argmax(d > 0))
        raise ValueError(
            f"`{name}` must be non-increasing; {name}[{i + 1}] = {s[i + 1]:g} > "
            f"{name}[{i}] = {s[i]:g}"
        )
    if require_zero and s[-1] != 0.0:
        raise ValueError(f"`{name}` must end at 0, got last value {s[-1]:g}")
    return s


def karras_sigmas(
    n: int, *, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0
) -> np.ndarray:
    """The EDM (Karras) schedule with ``n`` noise levels, followed by 0.

    Parameters
    ----------
    n : int
        Number of non-zero noise levels (sampling steps), ``n >= 1``.
    sigma_min, sigma_max : float
        First and last non-zero levels.
    rho : float, default 7
        Warping exponent.

    Returns
    -------
    numpy.ndarray, shape (n + 1,)

    Notes
    -----
    ``sigma_i = (sigma_max^(1/rho) + i/(n-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho``
    for ``i = 0..n-1``, then ``sigma_n = 0``. Its tail ``sigmas[k:]`` is again a Karras
    schedule with ``sigma_max = sigmas[k]`` and ``n - k`` levels, so a sampler started
    at ``sigmas[k]`` (teleportation) runs on a Karras schedule.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of diffusion-based
       generative models", NeurIPS 2022, eq. (5).

    Examples
    --------
    >>> from sciddm.diffusion import karras_sigmas
    >>> s = karras_sigmas(18)
    >>> s.shape, float(s[0]), float(s[-2]), float(s[-1])
    ((19,), 80.0, 0.002, 0.0)
    """
    n = check_int(n, "n", lo=1)
    sigma_min = check_scalar(sigma_min, "sigma_min", lo=0.0, closed="neither")
    sigma_max = check_scalar(sigma_max, "sigma_max", lo=sigma_min)
    rho = check_scalar(rho, "rho", lo=0.0, closed="neither")
    if n == 1:
        return np.array([sigma_max, 0.0])
    ramp = np.linspace(0.0, 1.0, n)
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    s = (a + ramp * (b - a)) ** rho
    s[0], s[-1] = sigma_max, sigma_min
    return append_zero(s)


def ve_sigmas(n: int, *, sigma_min: float = 0.02, sigma_max: float = 100.0) -> np.ndarray:
    """Variance-exploding (SMLD) schedule: ``n`` geometric levels, followed by 0.

    References
    ----------
    .. [1] Song et al., "Score-based generative modeling through SDEs", ICLR 2021;
       Karras et al. 2022, Table 1 (VE column).

    Examples
    --------
    >>> from sciddm.diffusion import ve_sigmas
    >>> ve_sigmas(3, sigma_min=1.0, sigma_max=100.0)
    array([100.,  10.,   1.,   0.])
    """
    n = check_int(n, "n", lo=1)
    sigma_min = check_scalar(sigma_min, "sigma_min", lo=0.0, closed="neither")
    sigma_max = check_scalar(sigma_max, "sigma_max", lo=sigma_min)
    if n == 1:
        return np.array([sigma_max, 0.0])
    return append_zero(np.geomspace(sigma_max, sigma_min, n))


def vp_sigmas(
    n: int, *, beta_d: float = 19.9, beta_min: float = 0.1, eps_s: float = 1e-3
) -> np.ndarray:
    """Continuous variance-preserving schedule (Song et al.) as VE noise levels.

    ``sigma(t) = sqrt(exp(beta_d t^2 / 2 + beta_min t) - 1)`` at ``n`` times
    ``t`` evenly spaced from 1 to ``eps_s``, followed by 0.

    References
    ----------
    .. [1] Karras et al. 2022, Table 1 (VP column).

    Examples
    --------
    >>> from sciddm.diffusion import vp_sigmas
    >>> s = vp_sigmas(10)
    >>> round(float(s[0]), 2), float(s[-1])
    (152.17, 0.0)
    """
    n = check_int(n, "n", lo=1)
    beta_d = check_scalar(beta_d, "beta_d", lo=0.0)
    beta_min = check_scalar(beta_min, "beta_min", lo=0.0)
    eps_s = check_scalar(eps_s, "eps_s", lo=0.0, hi=1.0, closed="right")
    t = np.linspace(1.0, eps_s, n)
    return append_zero(np.sqrt(np.expm1(beta_d * t**2 / 2 + beta_min * t)))


def vp_scale(sigma: Any) -> Any:
    """``sqrt(abar) = 1 / sqrt(1 + sigma^2)``: VE state times this is the VP state."""
    return 1.0 / (1.0 + sigma**2) ** 0.5


def ddpm_betas(
    T: int = 1000,
    *,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
    schedule: str = "linear",
) -> np.ndarray:
    """Discrete DDPM variance schedule ``beta_1..beta_T``.

    Parameters
    ----------
    T : int, default 1000
        Number of diffusion steps.
    beta_start, beta_end : float
        First and last beta of the ``"linear"`` schedule (Ho et al.: 1e-4, 0.02;
        Aithal et al.: 1e-3, 0.2).
    schedule : {"linear", "cosine"}
        ``"cosine"`` is Nichol & Dhariwal's (ignores beta_start/beta_end, clips at 0.999).

    Returns
    -------
    numpy.ndarray, shape (T,)

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_betas
    >>> b = ddpm_betas(1000, beta_start=1e-3, beta_end=0.2)
    >>> float(b[0]), float(b[-1])
    (0.001, 0.2)
    """
    T = check_int(T, "T", lo=1)
    schedule = check_choice(schedule, "schedule", ("linear", "cosine"))
    if schedule == "linear":
        beta_start = check_scalar(beta_start, "beta_start", lo=0.0, hi=1.0, closed="neither")
        beta_end = check_scalar(beta_end, "beta_end", lo=beta_start, hi=1.0, closed="left")
        return np.linspace(beta_start, beta_end, T)
    s = 0.008
    t = np.arange(T + 1) / T
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
    return np.clip(1 - f[1:] / f[:-1], 0.0, 0.999)


def ddpm_alphas_cumprod(betas: Any) -> np.ndarray:
    """``abar_t = prod_{s<=t} (1 - beta_s)``."""
    b = check_array(betas, "betas", ndim=1)
    if np.any((b <= 0) | (b >= 1)):
        raise ValueError("`betas` must lie in (0, 1)")
    return np.cumprod(1.0 - b)


def ddpm_sigmas(alphas_cumprod: Any) -> np.ndarray:
    """VE noise level of every DDPM timestep: ``sigma_t = sqrt((1 - abar_t) / abar_t)``.

    Ascending in ``t`` (index 0 is the least noisy step).

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_alphas_cumprod, ddpm_betas, ddpm_sigmas
    >>> s = ddpm_sigmas(ddpm_alphas_cumprod(ddpm_betas(1000)))
    >>> round(float(s[0]), 4), round(float(s[-1]), 1)
    (0.01, 157.4)
    """
    a = check_array(alphas_cumprod, "alphas_cumprod", ndim=1)
    if np.any((a <= 0) | (a > 1)):
        raise ValueError("`alphas_cumprod` must lie in (0, 1]")
    return np.sqrt((1.0 - a) / a)


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "detach") and hasattr(x, "device")


def sigma_to_t(sigma: Any, alphas_cumprod: Any, *, quantize: bool = False) -> Any:
    """Fractional DDPM timestep of a noise level (inverse of :func:`t_to_sigma`).

    Linear interpolation in ``log sigma`` between the discrete levels (k-diffusion's
    ``DiscreteSchedule.sigma_to_t``); with ``quantize=True`` the nearest timestep.
    Accepts numpy arrays or torch tensors (returned on the same device).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import (ddpm_alphas_cumprod, ddpm_betas, ddpm_sigmas,
    ...                               sigma_to_t, t_to_sigma)
    >>> ac = ddpm_alphas_cumprod(ddpm_betas(1000))
    >>> float(sigma_to_t(ddpm_sigmas(ac)[417], ac))
    417.0
    >>> float(sigma_to_t(t_to_sigma(12.25, ac), ac))
    12.25
    """
    ac = np.asarray(alphas_cumprod, dtype=np.float64)
    log_sigmas = np.log(np.sqrt((1.0 - ac) / ac))
    if _is_tensor(sigma):
        import torch

        ls = torch.as_tensor(log_sigmas, device=sigma.device, dtype=torch.float64)
        x = sigma.double().clamp_min(1e-300).log()
        dists = x.reshape(-1, 1) - ls.reshape(1, -1)
        if quantize:
            t = dists.abs().argmin(dim=1).to(torch.float64)
        else:
            low = (dists >= 0).sum(dim=1).sub(1).clamp(0, ls.numel() - 2)
            lo_v, hi_v = ls[low], ls[low + 1]
            w = ((lo_v - x.reshape(-1)) / (lo_v - hi_v)).clamp(0, 1)
            t = low.to(torch.float64) + w
        return t.reshape(sigma.shape).to(sigma.dtype if sigma.is_floating_point() else t.dtype)
    x = np.log(np.maximum(np.asarray(sigma, dtype=np.float64), 1e-300))
    if quantize:
        return np.abs(x[..., None] - log_sigmas).argmin(-1).astype(np.float64)
    return np.interp(x, log_sigmas, np.arange(ac.size, dtype=np.float64))


def t_to_sigma(t: Any, alphas_cumprod: Any) -> Any:
    """Noise level of a (fractional) DDPM timestep, interpolating ``log sigma``."""
    ac = np.asarray(alphas_cumprod, dtype=np.float64)
    log_sigmas = np.log(np.sqrt((1.0 - ac) / ac))
    if _is_tensor(t):
        import torch

        ls = torch.as_tensor(log_sigmas, device=t.device, dtype=torch.float64)
        tt = t.double().clamp(0, ls.numel() - 1)
        lo = tt.floor().long().clamp(max=ls.numel() - 2)
        w = tt - lo
        return ((1 - w) * ls[lo] + w * ls[lo + 1]).exp()
    tt = np.clip(np.asarray(t, dtype=np.float64), 0, ac.size - 1)
    return np.exp(np.interp(tt, np.arange(ac.size, dtype=np.float64), log_sigmas))


def ddpm_timestep_sigmas(n: int, alphas_cumprod: Any) -> np.ndarray:
    """``n`` noise levels of a DDPM model at evenly spaced timesteps ``T-1 .. 0``, then 0.

    The ladder k-diffusion's ``get_sigmas`` gives for a discrete model.

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_alphas_cumprod, ddpm_betas, ddpm_timestep_sigmas
    >>> ac = ddpm_alphas_cumprod(ddpm_betas(1000))
    >>> s = ddpm_timestep_sigmas(10, ac)
    >>> s.shape, round(float(s[0]), 1), round(float(s[-2]), 4)
    ((11,), 157.4, 0.01)
    """
    n = check_int(n, "n", lo=1)
    ac = check_array(alphas_cumprod, "alphas_cumprod", ndim=1)
    t = np.linspace(ac.size - 1, 0, n)
    return append_zero(t_to_sigma(t, ac))
