"""Networks: EDM-preconditioned MLP and small U-Net denoisers, an noise-prediction MLP."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.rng import RNGLike, torch_init
from sciddm._core.validation import check_int, check_scalar

#: Upper guards of the network sizes (a typo such as ``hidden=10**9`` is refused).
_MAX_WIDTH = 1 << 16
_MAX_DEPTH = 1024

__all__ = [
    "EDMPrecond",
    "EpsMLP",
    "MLPDenoiser",
    "UNetDenoiser",
    "timestep_embedding",
]


def timestep_embedding(t: Any, dim: int, *, max_period: float = 10000.0) -> torch.Tensor:
    r"""Sinusoidal embedding :math:`[\cos(t f_j), \sin(t f_j)]_{j < \lfloor dim/2 \rfloor}`.

    The frequencies are :math:`f_j = \text{max\_period}^{-j/\lfloor dim/2 \rfloor}`; an
    odd ``dim`` gets one trailing zero column.

    Parameters
    ----------
    t : torch.Tensor, array_like or float
        Timesteps (or any scalar feature), flattened to shape ``(n,)``; a tensor
        keeps its device.
    dim : int
        Embedding size, ``>= 2``.
    max_period : float, default 10000
        Longest period, ``> 0``.

    Returns
    -------
    torch.Tensor of shape (n, dim), float32

    References
    ----------
    .. [1] Vaswani et al., "Attention is all you need", NeurIPS 2017, Sec. 3.5;
       Ho, Jain, Abbeel, NeurIPS 2020 (the time embedding of DDPM).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sciddm.diffusion import timestep_embedding
    >>> timestep_embedding(torch.tensor([0.0, 1.0]), 4).shape
    torch.Size([2, 4])
    >>> timestep_embedding(np.arange(3.0), 8).shape
    torch.Size([3, 8])
    """
    if not isinstance(t, torch.Tensor):
        from sciddm.diffusion._schedules import _values

        t = torch.as_tensor(np.asarray(_values(t, "t", ndim=(0, 1)), dtype=np.float64))
    elif not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64, torch.int16)):
        raise TypeError(f"`t` must hold real numbers, got dtype {t.dtype}")
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError("`t` must not contain NaN or inf")
    dim = check_int(dim, "dim", lo=2, hi=_MAX_WIDTH)
    max_period = check_scalar(max_period, "max_period", lo=0.0, closed="neither")
    return _embed(t, dim, max_period)


def _embed(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half
    )
    args = t.reshape(-1, 1).float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class EDMPrecond(nn.Module):
    r"""EDM preconditioning of a raw network :math:`F(x_{in}, c_{noise})` into a denoiser.

    .. math::

        D(x, \sigma) = c_{skip}\,x + c_{out}\,F(c_{in}\,x, c_{noise}),\quad
        c_{skip} = \frac{\sigma_d^2}{\sigma^2 + \sigma_d^2},\;
        c_{out} = \frac{\sigma\sigma_d}{\sqrt{\sigma^2 + \sigma_d^2}},\;
        c_{in} = \frac{1}{\sqrt{\sigma^2 + \sigma_d^2}},\;
        c_{noise} = \tfrac14\ln\sigma.

    Parameters
    ----------
    model : callable
        The raw network :math:`F(x_{in}, c_{noise})`, returning a tensor shaped
        like its input.
    sigma_data : float, default 0.5
        :math:`\sigma_d`, the data's standard deviation, in (0, 1e6].

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, Table 1 and
       Appendix B.6.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import EDMPrecond
    >>> D = EDMPrecond(lambda x, c: torch.zeros_like(x), sigma_data=1.0)
    >>> D(torch.ones(1, 2), torch.tensor([1.0]))   # c_skip = 1/2
    tensor([[0.5000, 0.5000]])
    """

    def __init__(self, model: Any, *, sigma_data: float = 0.5) -> None:
        super().__init__()
        if not callable(model):
            raise TypeError(
                f"`model` must be a callable F(x_in, c_noise), got {type(model).__name__}"
            )
        self.model = model
        self.sigma_data = check_scalar(sigma_data, "sigma_data", lo=0.0, hi=1e6, closed="right")

    def forward(self, x: torch.Tensor, sigma: Any) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, device=x.device, dtype=x.dtype)
        if sigma.ndim == 0 or sigma.numel() == 1:
            sigma = sigma.reshape(1).expand(x.shape[0])
        s = sigma.reshape(-1, *([1] * (x.ndim - 1)))
        sd = self.sigma_data
        c_skip = sd**2 / (s**2 + sd**2)
        c_out = s * sd / torch.sqrt(s**2 + sd**2)
        c_in = 1.0 / torch.sqrt(s**2 + sd**2)
        c_noise = torch.log(sigma.clamp_min(1e-20)) / 4
        F = self.model(c_in * x, c_noise)
        return c_skip * x + c_out * F.to(x.dtype)


class _MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, depth: int, emb_dim: int, emb_scale: float):
        super().__init__()
        self.dim, self.emb_dim, self.emb_scale = dim, emb_dim, emb_scale
        self.inp = nn.Linear(dim + emb_dim, hidden)
        self.emb = nn.Sequential(nn.Linear(emb_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden)) for _ in range(depth)
        )
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        xf = x.reshape(shape[0], -1)
        if xf.shape[1] != self.dim:
            raise ValueError(
                f"`x` must have {self.dim} entries per sample (the network's `dim`), got shape "
                f"{tuple(shape)}"
            )
        e = _embed(c.reshape(-1) * self.emb_scale, self.emb_dim).to(xf.dtype)
        if e.shape[0] == 1:
            e = e.expand(xf.shape[0], -1)
        h = self.inp(torch.cat([xf, e], dim=1)) + self.emb(e)
        for blk in self.blocks:
            h = h + blk(h)
        return self.out(h).reshape(shape)


class MLPDenoiser(EDMPrecond):
    r"""EDM-preconditioned residual MLP denoiser :math:`D(x, \sigma)` for vectors of size ``dim``.

    Parameters
    ----------
    dim : int
        Data dimension (inputs of shape ``(B, dim)`` or ``(B, ...)`` with ``dim``
        entries).
    hidden : int, default 256
        Width of the hidden layers.
    depth : int, default 3
        Residual blocks.
    emb_dim : int, default 64
        Size of the sinusoidal embedding of :math:`c_{noise} = \tfrac14\ln\sigma`
        (scaled by 250).
    sigma_data : float, default 0.5
        :math:`\sigma_d` of the preconditioning (:class:`EDMPrecond`).
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the initial weights (torch's global generator is not
        touched; ``None`` draws from it).

    References
    ----------
    .. [1] Karras et al., NeurIPS 2022 (EDM preconditioning).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import MLPDenoiser
    >>> net = MLPDenoiser(2, hidden=32)
    >>> net(torch.zeros(5, 2), torch.ones(5)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        dim: int,
        *,
        hidden: int = 256,
        depth: int = 3,
        emb_dim: int = 64,
        sigma_data: float = 0.5,
        rng: RNGLike = None,
    ) -> None:
        dim = check_int(dim, "dim", lo=1, hi=_MAX_WIDTH)
        hidden = check_int(hidden, "hidden", lo=1, hi=_MAX_WIDTH)
        depth = check_int(depth, "depth", lo=0, hi=_MAX_DEPTH)
        emb_dim = check_int(emb_dim, "emb_dim", lo=2, hi=_MAX_WIDTH)
        with torch_init(rng):
            body = _MLP(dim, hidden, depth, emb_dim, 250.0)
        super().__init__(body, sigma_data=sigma_data)
        self.dim = dim


class EpsMLP(nn.Module):
    r"""Noise-prediction MLP :math:`\varepsilon_\theta(x_t, t)` with a sinusoidal timestep embedding.

    The model of Aithal et al. (width 128) for DDPM training with
    :class:`DDPMLoss` and sampling with :func:`sample_ddpm` (or
    :class:`VPDenoiser` and any sampler).

    Parameters
    ----------
    dim : int
        Data dimension.
    hidden : int, default 128
        Width of the hidden layers.
    depth : int, default 3
        Residual blocks.
    emb_dim : int, default 128
        Size of the timestep embedding.
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the initial weights.

    References
    ----------
    .. [1] Aithal, Maini, Lipton, Kolter, NeurIPS 2024, Appendix (the DDPM MLP).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import EpsMLP
    >>> EpsMLP(1)(torch.zeros(4, 1), torch.arange(4)).shape
    torch.Size([4, 1])
    """

    def __init__(
        self,
        dim: int,
        *,
        hidden: int = 128,
        depth: int = 3,
        emb_dim: int = 128,
        rng: RNGLike = None,
    ) -> None:
        super().__init__()
        dim = check_int(dim, "dim", lo=1, hi=_MAX_WIDTH)
        hidden = check_int(hidden, "hidden", lo=1, hi=_MAX_WIDTH)
        depth = check_int(depth, "depth", lo=0, hi=_MAX_DEPTH)
        emb_dim = check_int(emb_dim, "emb_dim", lo=2, hi=_MAX_WIDTH)
        self.dim = dim
        with torch_init(rng):
            self.net = _MLP(dim, hidden, depth, emb_dim, 1.0)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device=x.device)
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        return self.net(x, t.to(torch.float32))


def _groups(ch: int) -> int:
    for g in (8, 4, 2, 1):
        if ch % g == 0:
            return g
    return 1


class _ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int) -> None:
        super().__init__()
        self.n1 = nn.GroupNorm(_groups(cin), cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.e = nn.Linear(emb, cout)
        self.n2 = nn.GroupNorm(_groups(cout), cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.c1(self.act(self.n1(x)))
        h = h + self.e(e)[:, :, None, None]
        h = self.c2(self.act(self.n2(h)))
        return self.skip(x) + h


class _UNet(nn.Module):
    def __init__(self, channels: int, base: int, emb_dim: int) -> None:
        super().__init__()
        self.emb_dim = emb_dim
        self.emb = nn.Sequential(
            nn.Linear(emb_dim, 2 * emb_dim), nn.SiLU(), nn.Linear(2 * emb_dim, emb_dim)
        )
        b = base
        self.inp = nn.Conv2d(channels, b, 3, padding=1)
        self.e1 = _ResBlock(b, b, emb_dim)
        self.e2 = _ResBlock(b, 2 * b, emb_dim)
        self.mid = _ResBlock(2 * b, 2 * b, emb_dim)
        self.d2 = _ResBlock(4 * b, 2 * b, emb_dim)
        self.d1 = _ResBlock(3 * b, b, emb_dim)
        self.out = nn.Sequential(
            nn.GroupNorm(_groups(b), b), nn.SiLU(), nn.Conv2d(b, channels, 3, padding=1)
        )
        self.pool = nn.AvgPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.emb(_embed(c.reshape(-1) * 250.0, self.emb_dim).to(x.dtype))
        if e.shape[0] == 1:
            e = e.expand(x.shape[0], -1)
        h0 = self.inp(x)
        h1 = self.e1(h0, e)
        h2 = self.e2(self.pool(h1), e)
        m = self.mid(self.pool(h2), e)
        u2 = self.d2(torch.cat([self.up(m), h2], 1), e)
        u1 = self.d1(torch.cat([self.up(u2), h1], 1), e)
        return self.out(u1)


class UNetDenoiser(EDMPrecond):
    r"""A small EDM-preconditioned U-Net for ``(B, C, H, W)`` images (H, W divisible by 4).

    Two resolutions below the input (8x8 -> 4 -> 2, 28x28 -> 14 -> 7), one residual block
    per level with GroupNorm, SiLU and an additive noise embedding, skip connections.

    Parameters
    ----------
    channels : int, default 1
        Image channels.
    base : int, default 32
        Channels at full resolution (doubled below).
    emb_dim : int, default 64
        Size of the noise embedding.
    sigma_data : float, default 0.5
        :math:`\sigma_d` of the preconditioning (:class:`EDMPrecond`).
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the initial weights.

    References
    ----------
    .. [1] Ronneberger, Fischer, Brox, "U-Net", MICCAI 2015; Karras et al.,
       NeurIPS 2022 (preconditioning).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import UNetDenoiser
    >>> net = UNetDenoiser(base=8)
    >>> net(torch.zeros(2, 1, 8, 8), torch.ones(2)).shape
    torch.Size([2, 1, 8, 8])
    """

    def __init__(
        self,
        channels: int = 1,
        *,
        base: int = 32,
        emb_dim: int = 64,
        sigma_data: float = 0.5,
        rng: RNGLike = None,
    ) -> None:
        channels = check_int(channels, "channels", lo=1, hi=_MAX_WIDTH)
        base = check_int(base, "base", lo=1, hi=_MAX_WIDTH)
        emb_dim = check_int(emb_dim, "emb_dim", lo=2, hi=_MAX_WIDTH)
        with torch_init(rng):
            body = _UNet(channels, base, emb_dim)
        super().__init__(body, sigma_data=sigma_data)
        self.channels = channels

    def forward(self, x: torch.Tensor, sigma: Any) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.channels or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(
                f"`x` must have shape (B, {self.channels}, H, W) with H, W divisible by 4, "
                f"got {tuple(x.shape)}"
            )
        return super().forward(x, sigma)
