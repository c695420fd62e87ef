r"""Denoising losses for :func:`train_denoiser`: EDM (default) and DDPM's noise-prediction loss.

A loss is any callable ``loss(net, batch, rng) -> scalar tensor``: ``batch`` is a
minibatch tensor (or a tuple of tensors when the training data is a tuple) and
``rng`` the trainer's :class:`torch.Generator` for the loss's noise (on the
batch's device).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from sciddm._core.rng import RNGLike, as_torch_generator
from sciddm._core.validation import check_scalar

__all__ = ["DDPMLoss", "EDMLoss", "Loss"]

#: Bounds of the log-normal of sigma: exp(5 + 3 * 5) squared stays finite in float32.
P_MEAN_CAP = 5.0
P_STD_CAP = 3.0


class Loss(Protocol):
    """What :func:`train_denoiser` calls: ``loss(net, batch, rng) -> scalar tensor``."""

    def __call__(self, net: Any, batch: Any, rng: Any, /) -> torch.Tensor: ...


def _first(batch: Any) -> torch.Tensor:
    b = batch[0] if isinstance(batch, (tuple, list)) else batch
    if not isinstance(b, torch.Tensor) or not b.is_floating_point():
        raise TypeError(
            f"`batch` must be a floating-point tensor (or a tuple starting with one), got "
            f"{type(b).__name__}"
        )
    if b.ndim < 1 or b.shape[0] == 0:
        raise ValueError(f"`batch` must have a non-empty first axis, got shape {tuple(b.shape)}")
    return b


class EDMLoss:
    r"""The EDM denoising loss.

    .. math::

        L = E_{\sigma} E_{n \sim N(0, \sigma^2 I)}\big[\lambda(\sigma)
            \|D(y + n, \sigma) - y\|^2\big],\quad
        \ln\sigma \sim N(P_{mean}, P_{std}^2),\quad
        \lambda(\sigma) = \frac{\sigma^2 + \sigma_d^2}{(\sigma\sigma_d)^2},

    averaged over the batch and the data entries. Called as
    ``loss(net, batch, rng)``; a tuple batch uses its first element.

    Parameters
    ----------
    p_mean : float, default -1.2
        :math:`P_{mean}`, in [-5, 5] (beyond, :math:`\lambda(\sigma)` or
        :math:`\sigma^2` overflow float32).
    p_std : float, default 1.2
        :math:`P_{std}`, in [0, 3].
    sigma_data : float, optional
        :math:`\sigma_d > 0`; by default the network's ``sigma_data`` attribute,
        else 0.5.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, eq. (8) and Table 1.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import EDMLoss, MLPDenoiser
    >>> loss = EDMLoss()(MLPDenoiser(2, hidden=8, rng=0), torch.zeros(4, 2), 0)
    >>> loss.ndim
    0
    """

    def __init__(
        self, *, p_mean: float = -1.2, p_std: float = 1.2, sigma_data: float | None = None
    ) -> None:
        self.p_mean = check_scalar(p_mean, "p_mean", lo=-P_MEAN_CAP, hi=P_MEAN_CAP)
        self.p_std = check_scalar(p_std, "p_std", lo=0.0, hi=P_STD_CAP)
        self.sigma_data = (
            None
            if sigma_data is None
            else check_scalar(sigma_data, "sigma_data", lo=0.0, hi=1e6, closed="right")
        )

    def __repr__(self) -> str:
        return f"EDMLoss(p_mean={self.p_mean}, p_std={self.p_std}, sigma_data={self.sigma_data})"

    def __call__(self, net: Any, batch: Any, rng: RNGLike = None) -> torch.Tensor:
        y = _first(batch)
        gen = as_torch_generator(rng, y.device)
        sd = self.sigma_data or float(getattr(net, "sigma_data", 0.5))
        z = torch.randn(y.shape[0], generator=gen, device=y.device, dtype=y.dtype)
        sigma = torch.exp(z * self.p_std + self.p_mean)
        s = sigma.reshape(-1, *([1] * (y.ndim - 1)))
        n = torch.randn(y.shape, generator=gen, device=y.device, dtype=y.dtype) * s
        weight = (s**2 + sd**2) / (s * sd) ** 2
        return (weight * (net(y + n, sigma) - y) ** 2).mean()


class DDPMLoss:
    r"""The DDPM noise-prediction loss.

    .. math::

        L = E_t E_{\varepsilon}\big\|\varepsilon_\theta\big(\sqrt{\bar\alpha_t}\,x_0
            + \sqrt{1 - \bar\alpha_t}\,\varepsilon, t\big) - \varepsilon\big\|^2,

    with ``t`` uniform on ``0..T-1`` (passed to the model as a long tensor).

    Parameters
    ----------
    betas : array_like of shape (T,)
        The variance schedule (:func:`ddpm_betas`), each in (0, 1).

    References
    ----------
    .. [1] Ho, Jain, Abbeel, "Denoising diffusion probabilistic models",
       NeurIPS 2020, Algorithm 1 (:math:`L_{simple}`).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import DDPMLoss, EpsMLP, ddpm_betas
    >>> loss = DDPMLoss(ddpm_betas(100))(EpsMLP(1, hidden=8, rng=0), torch.zeros(4, 1), 0)
    >>> loss.ndim
    0
    """

    def __init__(self, betas: Any) -> None:
        from sciddm.diffusion._schedules import ddpm_alphas_cumprod

        self.alphas_cumprod = ddpm_alphas_cumprod(betas)
        self.betas = np.asarray(betas, dtype=np.float64)
        self.T = self.betas.size
        self._ac: dict[Any, torch.Tensor] = {}

    def __repr__(self) -> str:
        return f"DDPMLoss(T={self.T})"

    def __call__(self, net: Any, batch: Any, rng: RNGLike = None) -> torch.Tensor:
        x0 = _first(batch)
        gen = as_torch_generator(rng, x0.device)
        key = (x0.device, x0.dtype)
        if key not in self._ac:
            self._ac[key] = torch.as_tensor(self.alphas_cumprod, device=x0.device, dtype=x0.dtype)
        t = torch.randint(0, self.T, (x0.shape[0],), generator=gen, device=x0.device)
        a = self._ac[key][t].reshape(-1, *([1] * (x0.ndim - 1)))
        eps = torch.randn(x0.shape, generator=gen, device=x0.device, dtype=x0.dtype)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        return ((net(xt, t) - eps) ** 2).mean()
