"""Sampling from a denoiser trained with the ambient loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_array, check_int, check_scalar

__all__ = ["ambient_sample", "ambient_sigmas"]


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

    n = check_int(n, "n", lo=1)
    s = check_array(sigma_n, "sigma_n", ndim=(0, 1))
    if s.size == 0:
        raise ValueError("`sigma_n` must not be empty")
    if np.any(s < 0):
        raise ValueError(f"`sigma_n` must be non-negative, found {float(s.min())!r}")
    floor = check_scalar(sigma_floor, "sigma_floor", lo=0.0, closed="neither")
    smin = max(float(s.min()), floor)
    smax = check_scalar(sigma_max, "sigma_max", lo=smin, closed="neither")
    return karras_sigmas(n, sigma_min=smin, sigma_max=smax, rho=rho)


@torch.no_grad()
def ambient_sample(
    denoiser: Any,
    shape: tuple[int, ...],
    sigma_n: Any,
    *,
    steps: int = 18,
    sigma_max: float = 80.0,
    sampler: str = "heun",
    generator: torch.Generator | None = None,
    device: Any = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Generate ``shape`` samples with a denoiser trained on data of noise levels ``sigma_n``.

    Runs :func:`sciddm.diffusion.sample` on :func:`ambient_sigmas`, starting
    from ``sigma_max * N(0, I)`` drawn with ``generator``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.ambient import ambient_sample
    >>> D = lambda x, s: 0.0 * x  # the denoiser of a point mass at 0
    >>> x = ambient_sample(D, (4, 2), 0.3, steps=4, generator=torch.Generator().manual_seed(0))
    >>> x.shape, float(x.abs().max())
    (torch.Size([4, 2]), 0.0)
    """
    from sciddm.diffusion import sample

    sig = ambient_sigmas(steps, sigma_n, sigma_max=sigma_max)
    x = sig[0] * torch.randn(shape, generator=generator, device=device, dtype=dtype)
    return sample(denoiser, x, sig, sampler=sampler, generator=generator)
