r"""Noise schedules (Karras, VE, VP, discrete DDPM) and their conversions.

Every continuous schedule is a descending array of noise levels :math:`\sigma`
ending in 0 (the k-diffusion shape), in the EDM/VE convention
:math:`x_\sigma = x_0 + \sigma n`. A variance-preserving (VP/DDPM) state
:math:`z_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon` is the
VE state at :math:`\sigma_t = \sqrt{(1 - \bar\alpha_t)/\bar\alpha_t}` scaled by
:math:`\sqrt{\bar\alpha_t} = 1/\sqrt{1 + \sigma^2}`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sciddm._core.validation import check_array, check_choice, check_dense, check_int, check_scalar

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

#: Largest noise level accepted anywhere (its square stays finite in float64).
SIGMA_CAP = 1e100
#: Largest number of levels or timesteps of a schedule.
MAX_LEVELS = 1_000_000


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _values(x: Any, name: str, *, lo: float | None = None, ndim: Any = (0, 1)) -> Any:
    """A numpy array (or a tensor, kept) of finite numbers ``>= lo``, for elementwise maps."""
    check_dense(x, name)
    if _is_tensor(x):
        import torch

        if x.is_complex() or not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
            raise TypeError(f"`{name}` must hold real numbers, got dtype {x.dtype}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"`{name}` must not contain NaN or inf")
        if lo is not None and x.numel() and float(x.min()) < lo:
            raise ValueError(f"`{name}` must be >= {lo:g}, got {float(x.min()):g}")
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be a number or an array of numbers, got {type(x).__name__}")
    if np.ndim(x) == 0:
        arr = np.asarray(check_scalar(x, name, lo=lo))
    else:
        arr = check_array(x, name, ndim=ndim)
        if arr.dtype.kind == "c":
            raise TypeError(f"`{name}` must be real, got complex values")
        if lo is not None and arr.size and arr.min() < lo:
            raise ValueError(f"`{name}` must be >= {lo:g}, got {arr.min():g}")
    return arr


def append_zero(sigmas: Any) -> np.ndarray:
    """Append a final 0 to a 1-D array of non-negative noise levels.

    Parameters
    ----------
    sigmas : array_like of shape (n,)
        Finite, non-negative noise levels.

    Returns
    -------
    numpy.ndarray of shape (n + 1,)

    Examples
    --------
    >>> from sciddm.diffusion import append_zero
    >>> append_zero([2.0, 1.0])
    array([2., 1., 0.])
    """
    s = _values(sigmas, "sigmas", lo=0.0, ndim=1)
    return np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1), [0.0]])


def check_sigmas(sigmas: Any, name: str = "sigmas", *, require_zero: bool = False) -> np.ndarray:
    r"""Validate a noise ladder: 1-D, finite, non-negative, non-increasing.

    Parameters
    ----------
    sigmas : array_like or torch.Tensor
        The ladder :math:`\sigma_0 \ge \sigma_1 \ge \dots \ge 0`, at least 2
        levels, each at most ``1e100``.
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
    check_dense(sigmas, name)
    if _is_tensor(sigmas):
        sigmas = sigmas.detach().cpu().double().numpy()
    if sigmas is None or isinstance(sigmas, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of noise levels, got {type(sigmas).__name__}")
    s = check_array(sigmas, name, ndim=1)
    if s.size < 2:
        raise ValueError(f"`{name}` must hold at least 2 noise levels, got {s.size}")
    if np.any(s < 0):
        i = int(np.argmax(s < 0))
        raise ValueError(f"`{name}` must be non-negative; {name}[{i}] = {s[i]:g}")
    if s[0] > SIGMA_CAP:
        raise ValueError(f"`{name}` must be at most {SIGMA_CAP:g}, got {s[0]:g}")
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


def _range_iv(sigma_min: Any, sigma_max: Any) -> tuple[float, float]:
    lo = check_scalar(sigma_min, "sigma_min", lo=0.0, hi=SIGMA_CAP, closed="right")
    hi = check_scalar(sigma_max, "sigma_max", lo=0.0, hi=SIGMA_CAP, closed="right")
    if hi < lo:
        raise ValueError(f"`sigma_max` ({hi:g}) must be >= `sigma_min` ({lo:g})")
    return lo, hi


def karras_sigmas(
    n: int, *, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0
) -> np.ndarray:
    r"""The EDM (Karras) schedule with ``n`` noise levels, followed by 0.

    Parameters
    ----------
    n : int
        Number of non-zero noise levels (sampling steps), ``1 <= n <= 10**6``.
    sigma_min, sigma_max : float
        Last and first non-zero levels, ``0 < sigma_min <= sigma_max <= 1e100``.
    rho : float, default 7
        Warping exponent, ``> 0``.

    Returns
    -------
    numpy.ndarray of shape (n + 1,)

    Notes
    -----
    .. math::

        \sigma_i = \Big(\sigma_{max}^{1/\rho} + \tfrac{i}{n-1}\big(\sigma_{min}^{1/\rho}
        - \sigma_{max}^{1/\rho}\big)\Big)^\rho,\quad i = 0, \dots, n - 1,

    then :math:`\sigma_n = 0`. Its tail ``sigmas[k:]`` is again a Karras
    schedule with :math:`\sigma_{max} = ` ``sigmas[k]`` and ``n - k`` levels, so a
    sampler started at ``sigmas[k]`` (teleportation) runs on a Karras schedule.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, eq. (5).

    Examples
    --------
    >>> from sciddm.diffusion import karras_sigmas
    >>> s = karras_sigmas(18)
    >>> s.shape, float(s[0]), float(s[-2]), float(s[-1])
    ((19,), 80.0, 0.002, 0.0)
    """
    n = check_int(n, "n", lo=1, hi=MAX_LEVELS)
    sigma_min, sigma_max = _range_iv(sigma_min, sigma_max)
    rho = check_scalar(rho, "rho", lo=0.0, hi=1e3, closed="right")
    if n == 1:
        return np.array([sigma_max, 0.0])
    ramp = np.linspace(0.0, 1.0, n)
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    with np.errstate(over="ignore"):
        s = (a + ramp * (b - a)) ** rho
    s[0], s[-1] = sigma_max, sigma_min
    return append_zero(np.clip(s, sigma_min, sigma_max))


def ve_sigmas(n: int, *, sigma_min: float = 0.02, sigma_max: float = 100.0) -> np.ndarray:
    """Variance-exploding (SMLD) schedule: ``n`` geometric levels, followed by 0.

    Parameters
    ----------
    n : int
        Number of non-zero levels, ``1 <= n <= 10**6``.
    sigma_min, sigma_max : float
        Last and first non-zero levels, ``0 < sigma_min <= sigma_max <= 1e100``.

    Returns
    -------
    numpy.ndarray of shape (n + 1,)

    References
    ----------
    .. [1] Song et al., "Score-based generative modeling through stochastic
       differential equations", ICLR 2021; Karras et al. 2022, Table 1 (VE).

    Examples
    --------
    >>> from sciddm.diffusion import ve_sigmas
    >>> ve_sigmas(3, sigma_min=1.0, sigma_max=100.0)
    array([100.,  10.,   1.,   0.])
    """
    n = check_int(n, "n", lo=1, hi=MAX_LEVELS)
    sigma_min, sigma_max = _range_iv(sigma_min, sigma_max)
    if n == 1:
        return np.array([sigma_max, 0.0])
    return append_zero(np.geomspace(sigma_max, sigma_min, n))


def vp_sigmas(
    n: int, *, beta_d: float = 19.9, beta_min: float = 0.1, eps_s: float = 1e-3
) -> np.ndarray:
    r"""Continuous variance-preserving schedule (Song et al.) as VE noise levels.

    :math:`\sigma(t) = \sqrt{\exp(\beta_d t^2/2 + \beta_{min} t) - 1}` at ``n``
    times ``t`` evenly spaced from 1 to ``eps_s``, followed by 0.

    Parameters
    ----------
    n : int
        Number of non-zero levels, ``1 <= n <= 10**6``.
    beta_d, beta_min : float
        Non-negative, with :math:`\beta_d/2 + \beta_{min} \le 700` (else
        :math:`\sigma(1)` overflows).
    eps_s : float
        Smallest time, in (0, 1].

    Returns
    -------
    numpy.ndarray of shape (n + 1,)

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
    n = check_int(n, "n", lo=1, hi=MAX_LEVELS)
    beta_d = check_scalar(beta_d, "beta_d", lo=0.0)
    beta_min = check_scalar(beta_min, "beta_min", lo=0.0)
    if beta_d / 2 + beta_min > 700:
        raise ValueError(
            f"`beta_d`/2 + `beta_min` must be <= 700 (sigma overflows), got {beta_d / 2 + beta_min:g}"
        )
    eps_s = check_scalar(eps_s, "eps_s", lo=0.0, hi=1.0, closed="right")
    t = np.linspace(1.0, eps_s, n)
    return append_zero(np.sqrt(np.expm1(beta_d * t**2 / 2 + beta_min * t)))


def vp_scale(sigma: Any) -> Any:
    r"""The VP scale :math:`\sqrt{\bar\alpha} = 1/\sqrt{1 + \sigma^2}` of a VE noise level.

    A VE state times this is the VP state.

    Parameters
    ----------
    sigma : float, array_like or torch.Tensor
        Finite, non-negative noise levels (a tensor stays a tensor).

    Returns
    -------
    float, numpy.ndarray or torch.Tensor
        Same shape as ``sigma``.

    Examples
    --------
    >>> from sciddm.diffusion import vp_scale
    >>> vp_scale([0.0, 3.0 ** 0.5])
    array([1. , 0.5])
    """
    s = _values(sigma, "sigma", lo=0.0, ndim=None)
    if _is_tensor(s):
        out = 1.0 / (1.0 + s.double() ** 2).sqrt()
        return out.to(s.dtype) if s.is_floating_point() else out
    with np.errstate(over="ignore"):
        return 1.0 / np.sqrt(1.0 + np.asarray(s, dtype=np.float64) ** 2)


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
        Number of diffusion steps, ``1 <= T <= 10**6``.
    beta_start, beta_end : float
        First and last beta of the ``"linear"`` schedule,
        ``0 < beta_start <= beta_end < 1`` (Ho et al.: 1e-4, 0.02;
        Aithal et al.: 1e-3, 0.2).
    schedule : {"linear", "cosine"}
        ``"cosine"`` is Nichol & Dhariwal's (ignores ``beta_start``/``beta_end``,
        clips at 0.999).

    Returns
    -------
    numpy.ndarray of shape (T,)

    References
    ----------
    .. [1] Ho, Jain, Abbeel, NeurIPS 2020, Sec. 4; Nichol & Dhariwal,
       "Improved denoising diffusion probabilistic models", ICML 2021, eq. (17).

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_betas
    >>> b = ddpm_betas(1000, beta_start=1e-3, beta_end=0.2)
    >>> float(b[0]), float(b[-1])
    (0.001, 0.2)
    """
    T = check_int(T, "T", lo=1, hi=MAX_LEVELS)
    schedule = check_choice(schedule, "schedule", ("linear", "cosine"))
    if schedule == "linear":
        beta_start = check_scalar(beta_start, "beta_start", lo=0.0, hi=1.0, closed="neither")
        beta_end = check_scalar(beta_end, "beta_end", lo=0.0, hi=1.0, closed="neither")
        if beta_end < beta_start:
            raise ValueError(f"`beta_end` ({beta_end:g}) must be >= `beta_start` ({beta_start:g})")
        return np.linspace(beta_start, beta_end, T)
    s = 0.008
    t = np.arange(T + 1) / T
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
    return np.clip(1 - f[1:] / f[:-1], 1e-8, 0.999)


def ddpm_alphas_cumprod(betas: Any) -> np.ndarray:
    r"""Cumulative products :math:`\bar\alpha_t = \prod_{s \le t}(1 - \beta_s)`.

    Parameters
    ----------
    betas : array_like of shape (T,)
        At least one beta, each in (0, 1).

    Returns
    -------
    numpy.ndarray of shape (T,)
        Decreasing values in (0, 1).

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_alphas_cumprod
    >>> ddpm_alphas_cumprod([0.5, 0.5])
    array([0.5 , 0.25])
    """
    b = check_array(betas, "betas", ndim=1, min_rows=1)
    if np.any((b <= 0) | (b >= 1)):
        raise ValueError("`betas` must lie in (0, 1)")
    return np.cumprod(1.0 - b)


def _alphas_iv(alphas_cumprod: Any, name: str = "alphas_cumprod", min_rows: int = 1) -> np.ndarray:
    a = check_array(alphas_cumprod, name, ndim=1, min_rows=min_rows)
    if np.any((a <= 0) | (a > 1)):
        raise ValueError(f"`{name}` must lie in (0, 1]")
    if np.any(np.diff(a) > 0):
        raise ValueError(f"`{name}` must be non-increasing (cumulative products of 1 - beta)")
    return a


def ddpm_sigmas(alphas_cumprod: Any) -> np.ndarray:
    r"""VE noise level :math:`\sigma_t = \sqrt{(1 - \bar\alpha_t)/\bar\alpha_t}` of every timestep.

    Parameters
    ----------
    alphas_cumprod : array_like of shape (T,)
        Non-increasing values in (0, 1] (:func:`ddpm_alphas_cumprod`).

    Returns
    -------
    numpy.ndarray of shape (T,)
        Ascending in ``t`` (index 0 is the least noisy step).

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_alphas_cumprod, ddpm_betas, ddpm_sigmas
    >>> s = ddpm_sigmas(ddpm_alphas_cumprod(ddpm_betas(1000)))
    >>> round(float(s[0]), 4), round(float(s[-1]), 1)
    (0.01, 157.4)
    """
    a = _alphas_iv(alphas_cumprod)
    return np.sqrt((1.0 - a) / a)


def _log_sigmas(ac: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.sqrt((1.0 - ac) / ac), 1e-300))


def _sigma_to_t(sigma: Any, ac: np.ndarray, quantize: bool) -> Any:
    """:func:`sigma_to_t` without validation (the hot path of :class:`VPDenoiser`)."""
    log_sigmas = _log_sigmas(ac)
    if ac.size == 1:
        return sigma * 0.0
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
            gap = lo_v - hi_v  # < 0; 0 where two levels coincide
            safe = torch.where(gap == 0, torch.ones_like(gap), gap)
            w = torch.where(gap == 0, 0.0, (lo_v - x.reshape(-1)) / safe).clamp(0, 1)
            t = low.to(torch.float64) + w
        return t.reshape(sigma.shape).to(sigma.dtype if sigma.is_floating_point() else t.dtype)
    x = np.log(np.maximum(np.asarray(sigma, dtype=np.float64), 1e-300))
    if quantize:
        return np.abs(x[..., None] - log_sigmas).argmin(-1).astype(np.float64)
    return np.interp(x, log_sigmas, np.arange(ac.size, dtype=np.float64))


def sigma_to_t(sigma: Any, alphas_cumprod: Any, *, quantize: bool = False) -> Any:
    r"""Fractional DDPM timestep of a noise level (inverse of :func:`t_to_sigma`).

    Linear interpolation in :math:`\log\sigma` between the discrete levels
    (k-diffusion's ``DiscreteSchedule.sigma_to_t``), clamped to ``[0, T-1]``;
    with ``quantize=True`` the nearest timestep.

    Parameters
    ----------
    sigma : float, array_like or torch.Tensor
        Finite, non-negative noise levels (a tensor is returned on its device).
    alphas_cumprod : array_like of shape (T,)
        Non-increasing values in (0, 1].
    quantize : bool, default False
        Round to the nearest timestep.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape as ``sigma``.

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
    ac = _alphas_iv(alphas_cumprod)
    s = _values(sigma, "sigma", lo=0.0, ndim=None)
    if not isinstance(quantize, (bool, np.bool_)):
        raise TypeError(f"`quantize` must be a bool, got {type(quantize).__name__}")
    return _sigma_to_t(s, ac, bool(quantize))


def _t_to_sigma(t: Any, ac: np.ndarray) -> Any:
    log_sigmas = _log_sigmas(ac)
    if _is_tensor(t):
        import torch

        ls = torch.as_tensor(log_sigmas, device=t.device, dtype=torch.float64)
        tt = t.double().clamp(0, ls.numel() - 1)
        if ls.numel() == 1:
            return (tt * 0 + ls[0]).exp()
        lo = tt.floor().long().clamp(max=ls.numel() - 2)
        w = tt - lo
        return ((1 - w) * ls[lo] + w * ls[lo + 1]).exp()
    tt = np.clip(np.asarray(t, dtype=np.float64), 0, ac.size - 1)
    return np.exp(np.interp(tt, np.arange(ac.size, dtype=np.float64), log_sigmas))


def t_to_sigma(t: Any, alphas_cumprod: Any) -> Any:
    r"""Noise level of a (fractional) DDPM timestep, interpolating :math:`\log\sigma`.

    Parameters
    ----------
    t : float, array_like or torch.Tensor
        Finite timesteps, clamped to ``[0, T-1]`` (a tensor is returned on its
        device).
    alphas_cumprod : array_like of shape (T,)
        Non-increasing values in (0, 1].

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape as ``t``.

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_alphas_cumprod, ddpm_sigmas, t_to_sigma
    >>> ac = ddpm_alphas_cumprod([0.1, 0.2, 0.3])
    >>> bool(abs(t_to_sigma(2.0, ac) - ddpm_sigmas(ac)[2]) < 1e-12)
    True
    """
    ac = _alphas_iv(alphas_cumprod)
    return _t_to_sigma(_values(t, "t", ndim=None), ac)


def ddpm_timestep_sigmas(n: int, alphas_cumprod: Any) -> np.ndarray:
    """``n`` noise levels of a DDPM model at evenly spaced timesteps from ``T - 1`` to 0, then 0.

    The ladder k-diffusion's ``get_sigmas`` gives for a discrete model.

    Parameters
    ----------
    n : int
        Number of levels, ``1 <= n <= 10**6``.
    alphas_cumprod : array_like of shape (T,)
        Non-increasing values in (0, 1].

    Returns
    -------
    numpy.ndarray of shape (n + 1,)

    Examples
    --------
    >>> from sciddm.diffusion import ddpm_alphas_cumprod, ddpm_betas, ddpm_timestep_sigmas
    >>> ac = ddpm_alphas_cumprod(ddpm_betas(1000))
    >>> s = ddpm_timestep_sigmas(10, ac)
    >>> s.shape, round(float(s[0]), 1), round(float(s[-2]), 4)
    ((11,), 157.4, 0.01)
    """
    n = check_int(n, "n", lo=1, hi=MAX_LEVELS)
    ac = _alphas_iv(alphas_cumprod)
    t = np.linspace(ac.size - 1, 0, n)
    return append_zero(_t_to_sigma(t, ac))
