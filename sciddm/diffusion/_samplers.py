r"""k-diffusion-style samplers of the probability-flow ODE and the reverse SDE.

Every sampler has the signature ``sampler(denoiser, x, sigmas, *, callback=None,
progress=False, rng=None, **options)`` and returns a :class:`SampleResult`.
``denoiser(x, sigma)`` is any :class:`Denoiser` (``sigma`` is passed as a tensor
of shape ``(batch,)``), ``x`` the starting state at noise level ``sigmas[0]``
(e.g. ``sigmas[0] * randn``), and ``sigmas`` a non-increasing ladder (usually
ending in 0). ``callback`` receives, after each denoiser call of a step, a dict
with keys ``x`` (the state before the step), ``i`` (step index), ``sigma``,
``sigma_hat`` (floats; they differ only with churn) and ``denoised`` (the
:math:`\hat x_0` of that step). Every denoiser output is checked: a wrong shape
or a NaN stops the sampler with an error naming the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.rng import UNSET, RNGLike, check_rng, renamed_rng
from sciddm._core.validation import check_int, check_scalar
from sciddm.diffusion._base import (
    Callback,
    Denoiser,
    Evaluator,
    NoiseSource,
    SampleResult,
    as_result,
    check_callback,
    check_state,
    draw_normal,
    emit,
    noise_source,
)
from sciddm.diffusion._schedules import check_sigmas

__all__ = [
    "NFECounter",
    "get_ancestral_step",
    "randn_like",
    "sample_ancestral",
    "sample_ddim",
    "sample_dpmpp_2m",
    "sample_euler",
    "sample_heun",
    "seeded_noise",
]


def randn_like(x: torch.Tensor, *, rng: RNGLike = None, generator: Any = UNSET) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, on its device and in its dtype.

    Parameters
    ----------
    x : torch.Tensor
        Template of shape ``(batch, ...)``.
    rng : None, int, numpy.random.Generator, torch.Generator or list of torch.Generator
        Random source. A list holds one generator per batch row (EDM's
        one-generator-per-seed): row ``b`` then depends only on ``rng[b]``, so
        samples do not depend on the batch they are drawn in.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    torch.Tensor
        Shaped like ``x``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import randn_like, seeded_noise
    >>> _, gens = seeded_noise([1, 2], (3,))
    >>> randn_like(torch.zeros(2, 3), rng=gens).shape
    torch.Size([2, 3])
    >>> bool(torch.equal(randn_like(torch.zeros(2), rng=5), randn_like(torch.zeros(2), rng=5)))
    True
    """
    rng = renamed_rng(rng, generator, "generator", func="randn_like")
    return draw_normal(check_state(x), noise_source(rng, x))


def seeded_noise(
    seeds: Sequence[int], shape: Sequence[int], *, device: Any = "cpu", dtype: Any = None
) -> tuple[torch.Tensor, list[torch.Generator]]:
    """Initial unit noise and per-row generators for a list of integer seeds.

    Per-sample seeds are data (EDM's one-generator-per-seed), not a random
    source: the returned generators are the ``rng`` to pass to a stochastic
    sampler so that it keeps drawing row ``b`` from ``seeds[b]``.

    Parameters
    ----------
    seeds : sequence of int
        One non-negative seed per row.
    shape : sequence of int
        Shape of one row.
    device : str or torch.device, default "cpu"
    dtype : torch.dtype, optional
        Default: torch's default dtype.

    Returns
    -------
    z : torch.Tensor of shape ``(len(seeds), *shape)``
        ``z[b]`` drawn from a generator seeded with ``seeds[b]``; multiply it by
        ``sigmas[0]`` to start a sampler.
    generators : list of torch.Generator
        Those generators, advanced past ``z``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import seeded_noise
    >>> z1, _ = seeded_noise([3, 4], (2,))
    >>> z2, _ = seeded_noise([4], (2,))
    >>> bool(torch.equal(z1[1], z2[0]))
    True
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence | np.ndarray):
        raise TypeError(f"`seeds` must be a sequence of integers, got {type(seeds).__name__}")
    seeds_ = [check_int(s, "seeds", lo=0, hi=2**63 - 1) for s in seeds]
    if not seeds_:
        raise ValueError("`seeds` must hold at least one seed")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence | tuple):
        raise TypeError(f"`shape` must be a sequence of integers, got {type(shape).__name__}")
    shape_ = tuple(check_int(s, "shape", lo=1, hi=2**31) for s in shape)
    dtype = dtype or torch.get_default_dtype()
    if not dtype.is_floating_point:
        raise TypeError(f"`dtype` must be a floating-point dtype, got {dtype}")
    gens = [torch.Generator(device=torch.device(device)).manual_seed(s) for s in seeds_]
    z = torch.stack([torch.randn(shape_, generator=g, device=device, dtype=dtype) for g in gens])
    return z, gens


class NFECounter:
    """Wrap a denoiser and count its evaluations (``nfe``) and the rows evaluated.

    Every sampler reports its own ``nfe`` in its :class:`SampleResult`; this
    wrapper counts across several calls or inside other code.

    Parameters
    ----------
    denoiser : Denoiser
        The callable to count.

    Attributes
    ----------
    nfe : int
        Calls so far.
    rows : int
        Batch rows evaluated so far.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import NFECounter, karras_sigmas, sample_heun
    >>> d = NFECounter(lambda x, s: 0 * x)
    >>> _ = sample_heun(d, torch.ones(2, 3), karras_sigmas(5))
    >>> d.nfe, d.rows
    (9, 18)
    """

    def __init__(self, denoiser: Denoiser) -> None:
        if not callable(denoiser):
            raise TypeError(f"`denoiser` must be callable, got {type(denoiser).__name__}")
        self.denoiser = denoiser
        self.nfe = 0
        self.rows = 0

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> Any:
        self.nfe += 1
        self.rows += int(x.shape[0])
        return self.denoiser(x, sigma)

    def __repr__(self) -> str:
        return f"NFECounter(nfe={self.nfe}, rows={self.rows})"


def _prepare(
    denoiser: Any, x: Any, sigmas: Any, callback: Any, rng: Any
) -> tuple[Evaluator, torch.Tensor, np.ndarray, Callback | None]:
    check_rng(rng, per_row=True)
    ev = Evaluator(denoiser)
    x = check_state(x)
    s = check_sigmas(sigmas, "sigmas")
    if np.any(s[:-1] == 0):
        raise ValueError("`sigmas` may contain 0 only as its last entry")
    return ev, x, s, check_callback(callback)


def _churn(
    x: torch.Tensor,
    sigma: float,
    n_steps: int,
    churn: tuple[float, float, float, float],
    source: NoiseSource | None,
) -> tuple[torch.Tensor, float]:
    s_churn, s_tmin, s_tmax, s_noise = churn
    gamma = min(s_churn / n_steps, math.sqrt(2.0) - 1.0) if s_tmin <= sigma <= s_tmax else 0.0
    sigma_hat = sigma * (gamma + 1.0)
    if gamma > 0 and source is not None:
        x = x + draw_normal(x, source) * s_noise * math.sqrt(sigma_hat**2 - sigma**2)
    return x, sigma_hat


def _churn_iv(
    s_churn: float, s_tmin: float, s_tmax: float, s_noise: float
) -> tuple[float, float, float, float]:
    return (
        check_scalar(s_churn, "s_churn", lo=0.0),
        check_scalar(s_tmin, "s_tmin", lo=0.0),
        check_scalar(s_tmax, "s_tmax", lo=0.0, allow_inf=True),
        check_scalar(s_noise, "s_noise", lo=0.0),
    )


@torch.no_grad()
def sample_euler(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
    generator: Any = UNSET,
) -> SampleResult:
    r"""Euler's method for the probability-flow ODE :math:`dx/d\sigma = (x - D(x, \sigma))/\sigma`.

    One denoiser evaluation per step; optional churn as in :func:`sample_heun`.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        State at ``sigmas[0]``.
    sigmas : array_like
        Non-increasing ladder (0 only as its last entry).
    callback : callable, optional
        Called with a dict per step (see the module docstring).
    progress : bool, default False
        Show a progress bar.
    rng : None, int, numpy.random.Generator, torch.Generator or list of them
        Source of the churn noise (unused without churn); a list holds one
        generator per row.
    s_churn, s_tmin, s_tmax, s_noise : float
        Churn, as in :func:`sample_heun`.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult
        ``samples`` at ``sigmas[-1]``; ``nfe = len(sigmas) - 1``.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, Algorithm 2
       (first-order variant); k-diffusion ``sample_euler``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_euler
    >>> g = GaussianDenoiser([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    >>> x = 80.0 * torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    >>> res = sample_euler(g, x, karras_sigmas(50))
    >>> res.samples.shape, res.nfe
    (torch.Size([4, 2]), 50)
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_euler")
    ev, x, s, cb = _prepare(denoiser, x, sigmas, callback, rng)
    churn = _churn_iv(s_churn, s_tmin, s_tmax, s_noise)
    source = noise_source(rng, x) if churn[0] > 0 else None
    n = len(s) - 1
    for i in progress_bar(range(n), enabled=progress, desc="euler"):
        x, sigma_hat = _churn(x, s[i], n, churn, source)
        den = ev(x, sigma_hat, i)
        emit(cb, x=x, i=i, sigma=float(s[i]), sigma_hat=sigma_hat, denoised=den)
        x = x + (x - den) / sigma_hat * (s[i + 1] - sigma_hat)
    return as_result(x, ev, s, "euler")


@torch.no_grad()
def sample_heun(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
    generator: Any = UNSET,
) -> SampleResult:
    r"""Heun's second-order method (EDM Algorithms 1 and 2).

    A step to :math:`\sigma_{i+1} > 0` costs 2 evaluations; a step to 0 is an
    Euler step, so a ladder of :math:`N` levels plus 0 costs :math:`2N - 1`.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        State at ``sigmas[0]``.
    sigmas : array_like
        Non-increasing ladder (0 only as its last entry).
    callback : callable, optional
        Called with a dict per step (see the module docstring).
    progress : bool, default False
        Show a progress bar.
    rng : None, int, numpy.random.Generator, torch.Generator or list of them
        Source of the churn noise (unused without churn); a list holds one
        generator per row.
    s_churn, s_tmin, s_tmax, s_noise : float
        Stochastic churn of EDM Algorithm 2: at levels in ``[s_tmin, s_tmax]``
        the noise is raised to :math:`\hat\sigma = \sigma(1 + \gamma)`,
        :math:`\gamma = \min(s_{churn}/N, \sqrt2 - 1)`, by adding
        :math:`N(0, s_{noise}^2(\hat\sigma^2 - \sigma^2))`; ``s_churn = 0``
        (default) is the deterministic Algorithm 1.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult
        ``samples`` at ``sigmas[-1]``.

    Notes
    -----
    With :math:`d = (x - D(x, \hat\sigma))/\hat\sigma`, the Euler predictor
    :math:`x' = x + (\sigma_{i+1} - \hat\sigma) d` and
    :math:`d' = (x' - D(x', \sigma_{i+1}))/\sigma_{i+1}`, the step is

    .. math::

        x_{i+1} = x + (\sigma_{i+1} - \hat\sigma)\,\frac{d + d'}{2}.

    The global error is :math:`O(N^{-2})`
    (``theory/32_heun_convergence.md``).

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, Algorithms 1 and 2.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_heun
    >>> g = GaussianDenoiser([1.0], [[0.25]])
    >>> xT = torch.tensor([[80.0]], dtype=torch.float64)
    >>> float(sample_heun(g, xT, karras_sigmas(200)).samples[0, 0])  # 1 + 0.5
    1.49...
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_heun")
    ev, x, s, cb = _prepare(denoiser, x, sigmas, callback, rng)
    churn = _churn_iv(s_churn, s_tmin, s_tmax, s_noise)
    source = noise_source(rng, x) if churn[0] > 0 else None
    n = len(s) - 1
    for i in progress_bar(range(n), enabled=progress, desc="heun"):
        x, sigma_hat = _churn(x, s[i], n, churn, source)
        den = ev(x, sigma_hat, i)
        emit(cb, x=x, i=i, sigma=float(s[i]), sigma_hat=sigma_hat, denoised=den)
        d = (x - den) / sigma_hat
        dt = s[i + 1] - sigma_hat
        if s[i + 1] == 0:
            x = x + d * dt
        else:
            x2 = x + d * dt
            d2 = (x2 - ev(x2, s[i + 1], i)) / s[i + 1]
            x = x + (d + d2) * (dt / 2)
    return as_result(x, ev, s, "heun")


def get_ancestral_step(sigma_from: float, sigma_to: float, eta: float = 1.0) -> tuple[float, float]:
    r"""Split an ancestral step into a deterministic part and fresh noise (k-diffusion).

    Parameters
    ----------
    sigma_from, sigma_to : float
        Noise levels, ``sigma_from > 0`` and ``0 <= sigma_to <= sigma_from``.
    eta : float, default 1
        Stochasticity, ``eta >= 0`` (1: the DDPM posterior; 0: deterministic).

    Returns
    -------
    sigma_down, sigma_up : float
        :math:`\sigma_{up} = \min\big(\sigma_{to}, \eta\sqrt{\sigma_{to}^2
        (\sigma_{from}^2 - \sigma_{to}^2)/\sigma_{from}^2}\big)` and
        :math:`\sigma_{down} = \sqrt{\sigma_{to}^2 - \sigma_{up}^2}`. With
        ``eta = 1`` the step samples the Gaussian bridge
        :math:`x_{\sigma_{to}} \mid x_{\sigma_{from}}, x_0 = D`.

    References
    ----------
    .. [1] Ho, Jain, Abbeel, "Denoising diffusion probabilistic models",
       NeurIPS 2020, eq. (7); k-diffusion ``get_ancestral_step``.

    Examples
    --------
    >>> from sciddm.diffusion import get_ancestral_step
    >>> down, up = get_ancestral_step(2.0, 1.0)
    >>> round(down**2 + up**2, 12), get_ancestral_step(2.0, 1.0, eta=0.0)
    (1.0, (1.0, 0.0))
    """
    sigma_from = check_scalar(sigma_from, "sigma_from", lo=0.0, closed="neither")
    sigma_to = check_scalar(sigma_to, "sigma_to", lo=0.0, hi=sigma_from)
    eta = check_scalar(eta, "eta", lo=0.0)
    if eta == 0 or sigma_to == 0:
        return sigma_to, 0.0
    ratio = sigma_to / sigma_from  # scaled forms: no overflow for huge levels
    up = min(sigma_to, eta * sigma_to * math.sqrt(max(1.0 - ratio * ratio, 0.0)))
    return sigma_to * math.sqrt(max(1.0 - (up / sigma_to) ** 2, 0.0)), up


@torch.no_grad()
def sample_ddim(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    eta: float = 0.0,
    generator: Any = UNSET,
) -> SampleResult:
    r"""DDIM (Song et al.) in VE coordinates, with stochasticity ``eta``.

    :math:`x_{i+1} = \hat x_0 + \sigma_{down}\hat\varepsilon + \sigma_{up} z` with
    :math:`\hat\varepsilon = (x - \hat x_0)/\sigma_i` and
    :math:`(\sigma_{down}, \sigma_{up})` from :func:`get_ancestral_step`.
    ``eta = 0`` is deterministic DDIM, which equals Euler's method on the
    probability-flow ODE in :math:`(x, \sigma)`; ``eta = 1`` is DDPM ancestral
    sampling.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        State at ``sigmas[0]``.
    sigmas : array_like
        Non-increasing ladder (0 only as its last entry).
    callback : callable, optional
        Called with a dict per step (see the module docstring).
    progress : bool, default False
        Show a progress bar.
    rng : None, int, numpy.random.Generator, torch.Generator or list of them
        Source of the fresh noise (unused with ``eta = 0``).
    eta : float, default 0
        Stochasticity, ``>= 0``.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult

    References
    ----------
    .. [1] Song, Meng, Ermon, "Denoising diffusion implicit models", ICLR 2021,
       eq. (12), mapped to VE by :math:`x_{VE} = x_{VP}/\sqrt{\bar\alpha}`.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_ddim, sample_euler
    >>> g = GaussianDenoiser([0.0], [[1.0]])
    >>> x = torch.full((1, 1), 10.0, dtype=torch.float64)
    >>> s = karras_sigmas(10, sigma_max=10.0)
    >>> bool(torch.allclose(sample_ddim(g, x, s).samples, sample_euler(g, x, s).samples))
    True
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_ddim")
    ev, x, s, cb = _prepare(denoiser, x, sigmas, callback, rng)
    eta = check_scalar(eta, "eta", lo=0.0)
    source = noise_source(rng, x) if eta > 0 else None
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="ddim"):
        den = ev(x, s[i], i)
        emit(cb, x=x, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)
        down, up = get_ancestral_step(s[i], s[i + 1], eta)
        x = den + (x - den) * (down / s[i])
        if up > 0 and source is not None:
            x = x + draw_normal(x, source) * up
    return as_result(x, ev, s, "ddim")


@torch.no_grad()
def sample_ancestral(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    eta: float = 1.0,
    s_noise: float = 1.0,
    generator: Any = UNSET,
) -> SampleResult:
    r"""Euler ancestral sampling (k-diffusion ``sample_euler_ancestral``).

    An Euler step to :math:`\sigma_{down}`, then fresh noise
    :math:`s_{noise}\,\sigma_{up} z` (:func:`get_ancestral_step`). With
    ``eta = 1`` this is DDPM's ancestral sampler in VE form; algebraically the
    same update as :func:`sample_ddim` with that ``eta``.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        State at ``sigmas[0]``.
    sigmas : array_like
        Non-increasing ladder (0 only as its last entry).
    callback : callable, optional
        Called with a dict per step (see the module docstring).
    progress : bool, default False
        Show a progress bar.
    rng : None, int, numpy.random.Generator, torch.Generator or list of them
        Source of the fresh noise; a list holds one generator per row.
    eta : float, default 1
        Stochasticity, ``>= 0``.
    s_noise : float, default 1
        Scale of the fresh noise, ``>= 0``.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult

    References
    ----------
    .. [1] Ho, Jain, Abbeel, "Denoising diffusion probabilistic models",
       NeurIPS 2020, Algorithm 2; Crowson, k-diffusion.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_ancestral
    >>> g = GaussianDenoiser([0.0], [[1.0]])
    >>> x = 80 * torch.randn(2000, 1, generator=torch.Generator().manual_seed(0),
    ...                      dtype=torch.float64)
    >>> y = sample_ancestral(g, x, karras_sigmas(100), rng=1).samples
    >>> round(float(y.std()), 1)
    1.0
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_ancestral")
    ev, x, s, cb = _prepare(denoiser, x, sigmas, callback, rng)
    eta = check_scalar(eta, "eta", lo=0.0)
    s_noise = check_scalar(s_noise, "s_noise", lo=0.0)
    source = noise_source(rng, x)
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="ancestral"):
        den = ev(x, s[i], i)
        emit(cb, x=x, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)
        down, up = get_ancestral_step(s[i], s[i + 1], eta)
        x = x + (x - den) / s[i] * (down - s[i])
        if up > 0:
            x = x + draw_normal(x, source) * (s_noise * up)
    return as_result(x, ev, s, "ancestral")


@torch.no_grad()
def sample_dpmpp_2m(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: Any,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    rng: RNGLike = None,
    generator: Any = UNSET,
) -> SampleResult:
    r"""DPM-Solver++(2M): a second-order multistep solver in :math:`\lambda = -\log\sigma`.

    One evaluation per step. With :math:`h = \log(\sigma_i/\sigma_{i+1})` and
    :math:`r = h_{i-1}/h`,

    .. math::

        D' = \Big(1 + \frac{1}{2r}\Big) D_i - \frac{1}{2r} D_{i-1},\qquad
        x_{i+1} = \frac{\sigma_{i+1}}{\sigma_i} x_i - \operatorname{expm1}(-h)\, D'

    (first order at the first step and the step to 0).

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`.
    x : torch.Tensor of shape (batch, ...)
        State at ``sigmas[0]``.
    sigmas : array_like
        Non-increasing ladder (0 only as its last entry).
    callback : callable, optional
        Called with a dict per step (see the module docstring).
    progress : bool, default False
        Show a progress bar.
    rng : random source, optional
        Accepted for a common signature and checked; the solver is deterministic.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult

    References
    ----------
    .. [1] Lu, Zhou, Bao, Chen, Li, Zhu, "DPM-Solver++: Fast solver for guided
       sampling of diffusion probabilistic models", 2022, Algorithm 2;
       k-diffusion ``sample_dpmpp_2m``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_dpmpp_2m
    >>> g = GaussianDenoiser([1.0], [[0.25]])
    >>> xT = torch.tensor([[80.0]], dtype=torch.float64)
    >>> round(float(sample_dpmpp_2m(g, xT, karras_sigmas(200)).samples[0, 0]), 3)
    1.5
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_dpmpp_2m")
    ev, x, s, cb = _prepare(denoiser, x, sigmas, callback, rng)
    old: torch.Tensor | None = None
    old_sigma = 0.0
    for i in progress_bar(range(len(s) - 1), enabled=progress, desc="dpm++2m"):
        den = ev(x, s[i], i)
        emit(cb, x=x, i=i, sigma=float(s[i]), sigma_hat=float(s[i]), denoised=den)
        if s[i + 1] == s[i]:
            continue  # zero-length step: nothing moves, the history is kept
        if s[i + 1] == 0:
            x = den
        else:
            h = math.log(s[i] / s[i + 1])
            d = den
            if old is not None:
                r = math.log(old_sigma / s[i]) / h
                d = (1 + 1 / (2 * r)) * den - (1 / (2 * r)) * old
            x = (s[i + 1] / s[i]) * x - math.expm1(-h) * d
        old, old_sigma = den, float(s[i])
    return as_result(x, ev, s, "dpmpp_2m")


_SAMPLERS: dict[str, Callable[..., SampleResult]] = {
    "euler": sample_euler,
    "heun": sample_heun,
    "ddim": sample_ddim,
    "dpmpp_2m": sample_dpmpp_2m,
    "ancestral": sample_ancestral,
}
