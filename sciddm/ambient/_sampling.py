"""Sampling from a denoiser trained with the ambient loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sciddm._core.rng import UNSET, RNGLike, renamed_rng
from sciddm._core.validation import check_int, check_scalar
from sciddm.ambient._checks import SCALE_CAP, as_array
from sciddm.diffusion import Denoiser, SampleResult

__all__ = ["ambient_sample", "ambient_sigmas"]

#: Upper guard of the number of noise levels (a typo such as ``steps=10**9`` is refused).
_MAX_LEVELS = 1_000_000


def ambient_sigmas(
    n: int, sigma_n: Any, *, sigma_max: float = 80.0, sigma_floor: float = 0.002, rho: float = 7.0
) -> np.ndarray:
    r"""EDM noise ladder that stops at the smallest noise level of the data.

    A denoiser trained with :func:`ambient_loss` is supervised only for
    :math:`\sigma_t \ge \min_i \sigma_{n,i}`. The ladder is the Karras schedule
    from ``sigma_max`` down to :math:`\max(\min_i \sigma_{n,i}, \text{sigma\_floor})`,
    then 0: the last step is the single Tweedie jump
    :math:`x_0 = D_\theta(x_{\sigma_{\min}}, \sigma_{\min})`, the mean of the clean
    sample given the state at the last level the model was trained for. With at
    least one clean sample the ladder is the usual EDM one.

    Parameters
    ----------
    n : int
        Number of positive levels.
    sigma_n : float or array_like
        The training set's noise levels (their minimum is used).
    sigma_max, sigma_floor, rho : float
        As in :func:`sciddm.diffusion.karras_sigmas` (``sigma_floor`` is its
        ``sigma_min`` for clean data).

    Returns
    -------
    ndarray of shape (n + 1,)

    Examples
    --------
    >>> from sciddm.ambient import ambient_sigmas
    >>> s = ambient_sigmas(5, [0.2, 0.5])
    >>> float(s[-2]), float(s[-1])
    (0.2, 0.0)
    """
    from sciddm.diffusion import karras_sigmas

    n = check_int(n, "n", lo=1, hi=_MAX_LEVELS)
    s = as_array(sigma_n, "sigma_n", ndim=(0, 1))
    if s.size == 0:
        raise ValueError("`sigma_n` must not be empty")
    if np.any(s < 0):
        raise ValueError(f"`sigma_n` must be non-negative, found {float(s.min())!r}")
    if np.any(s > SCALE_CAP):
        raise ValueError(f"`sigma_n` must be at most {SCALE_CAP:g}, found {float(s.max()):g}")
    floor = check_scalar(sigma_floor, "sigma_floor", lo=0.0, hi=SCALE_CAP, closed="right")
    smin = max(float(s.min()), floor)
    smax = check_scalar(sigma_max, "sigma_max", lo=0.0, hi=SCALE_CAP, closed="right")
    if smax <= smin:
        raise ValueError(
            f"`sigma_max` ({smax:g}) must exceed the smallest noise level of `sigma_n` and "
            f"`sigma_floor` ({smin:g})"
        )
    return karras_sigmas(n, sigma_min=smin, sigma_max=smax, rho=rho)


@torch.no_grad()
def ambient_sample(
    denoiser: Denoiser,
    shape: tuple[int, ...],
    sigma_n: Any,
    *,
    steps: int = 18,
    sigma_max: float = 80.0,
    sampler: str = "heun",
    rng: RNGLike = None,
    device: Any = "cpu",
    dtype: torch.dtype = torch.float32,
    generator: Any = UNSET,
) -> SampleResult:
    r"""Generate samples with a denoiser trained on data of noise levels ``sigma_n``.

    Runs :func:`sciddm.diffusion.sample` on :func:`ambient_sigmas`, starting
    from :math:`\sigma_{max} z`, :math:`z \sim N(0, I)` drawn from ``rng``: the
    ladder stops at the data's smallest noise level, and its last step is the
    Tweedie jump :math:`x_0 = D_\theta(x_{\sigma_{\min}}, \sigma_{\min})`.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D_\theta(x, \sigma)`, e.g. trained by
        ``train_denoiser(net, (y, sigma_n), loss=AmbientLoss())``.
    shape : tuple of int
        Shape of the batch to draw, ``(n, ...)``.
    sigma_n : float or array_like
        The training set's noise levels (their minimum sets the last level).
    steps : int, default 18
        Positive levels of the ladder (``>= 1``).
    sigma_max : float, default 80
        First level.
    sampler : str, default "heun"
        A sampler name of :func:`sciddm.diffusion.sample`.
    rng : None, int, numpy.random.Generator or torch.Generator
        Source of the initial noise and of any sampler noise.
    device : str or torch.device, default "cpu"
    dtype : torch.dtype, default torch.float32
        Floating dtype of the samples.
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    SampleResult
        ``samples`` of shape ``shape``, with the sampler's cost.

    References
    ----------
    .. [1] Daras, Cherapanamjeri, Daskalakis, "How much is a noisy image worth?
       Data scaling laws for ambient diffusion", ICLR 2025, Sec. 3.

    Examples
    --------
    >>> from sciddm.ambient import ambient_sample
    >>> D = lambda x, s: 0.0 * x  # the denoiser of a point mass at 0
    >>> res = ambient_sample(D, (4, 2), 0.3, steps=4, rng=0)
    >>> res.samples.shape, float(res.samples.abs().max()), res.nfe
    (torch.Size([4, 2]), 0.0, 7)
    """
    from sciddm._core.rng import as_torch_generator
    from sciddm.diffusion import sample

    rng = renamed_rng(rng, generator, "generator", func="ambient_sample")
    steps = check_int(steps, "steps", lo=1, hi=_MAX_LEVELS)
    shape = _shape_iv(shape)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    sig = ambient_sigmas(steps, sigma_n, sigma_max=sigma_max)
    gen = as_torch_generator(rng, torch.device(device))
    x = sig[0] * torch.randn(shape, generator=gen, device=device, dtype=dtype)
    return sample(denoiser, x, sig, sampler=sampler, rng=gen)


def _shape_iv(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"`shape` must be a non-empty tuple of ints (n, ...), got {shape!r}")
    return tuple(check_int(v, "shape", lo=1, hi=2**31) for v in shape)
