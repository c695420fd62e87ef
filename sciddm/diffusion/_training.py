"""Training loop for denoisers: EDM loss (default), DDPM ε loss or any custom loss."""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.io import torch_save_atomic
from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, torch_generator
from sciddm._core.validation import check_int, check_scalar

__all__ = ["DDPMLoss", "EDMLoss", "TrainResult", "train_denoiser"]

logger = logging.getLogger(__name__)

LossFn = Callable[[nn.Module, Any, torch.Generator | None], torch.Tensor]


def _first(batch: Any) -> torch.Tensor:
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class EDMLoss:
    """The EDM denoising loss ``E_sigma E_n [lambda(sigma) ||D(y + sigma n, sigma) - y||^2]``.

    ``ln sigma ~ N(p_mean, p_std^2)``, ``lambda = (sigma^2 + sd^2) / (sigma sd)^2``
    (``sd = sigma_data``, by default the network's ``sigma_data`` attribute or 0.5). The
    mean is over batch and data entries. Called as ``loss(net, batch, generator)``; a
    tuple batch uses its first element.

    References
    ----------
    .. [1] Karras et al. 2022, eq. (8) and Table 1.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import EDMLoss, MLPDenoiser
    >>> loss = EDMLoss()(MLPDenoiser(2, hidden=8), torch.zeros(4, 2), torch.Generator().manual_seed(0))
    >>> loss.ndim
    0
    """

    def __init__(
        self, *, p_mean: float = -1.2, p_std: float = 1.2, sigma_data: float | None = None
    ):
        self.p_mean = check_scalar(p_mean, "p_mean")
        self.p_std = check_scalar(p_std, "p_std", lo=0.0)
        self.sigma_data = (
            None
            if sigma_data is None
            else check_scalar(sigma_data, "sigma_data", lo=0.0, closed="neither")
        )

    def __call__(
        self, net: nn.Module, batch: Any, generator: torch.Generator | None
    ) -> torch.Tensor:
        y = _first(batch)
        sd = self.sigma_data or float(getattr(net, "sigma_data", 0.5))
        z = torch.randn(y.shape[0], generator=generator, device=y.device, dtype=y.dtype)
        sigma = torch.exp(z * self.p_std + self.p_mean)
        s = sigma.reshape(-1, *([1] * (y.ndim - 1)))
        n = torch.randn(y.shape, generator=generator, device=y.device, dtype=y.dtype) * s
        weight = (s**2 + sd**2) / (s * sd) ** 2
        return (weight * (net(y + n, sigma) - y) ** 2).mean()


class DDPMLoss:
    """The DDPM ε-prediction loss ``E_t E_eps ||eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t) - eps||^2``.

    ``t`` uniform on ``0..T-1`` (passed to the model as a long tensor).

    Parameters
    ----------
    betas : array_like, shape (T,)
        The variance schedule (:func:`ddpm_betas`).

    References
    ----------
    .. [1] Ho, Jain, Abbeel 2020, Algorithm 1 (``L_simple``).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import DDPMLoss, EpsMLP, ddpm_betas
    >>> loss = DDPMLoss(ddpm_betas(100))(EpsMLP(1, hidden=8), torch.zeros(4, 1), None)
    >>> loss.ndim
    0
    """

    def __init__(self, betas: Any) -> None:
        from sciddm.diffusion._schedules import ddpm_alphas_cumprod

        self.betas = np.asarray(betas, dtype=np.float64)
        self.alphas_cumprod = ddpm_alphas_cumprod(self.betas)
        self.T = self.betas.size
        self._ac: dict[Any, torch.Tensor] = {}

    def __call__(
        self, net: nn.Module, batch: Any, generator: torch.Generator | None
    ) -> torch.Tensor:
        x0 = _first(batch)
        key = (x0.device, x0.dtype)
        if key not in self._ac:
            self._ac[key] = torch.as_tensor(self.alphas_cumprod, device=x0.device, dtype=x0.dtype)
        t = torch.randint(0, self.T, (x0.shape[0],), generator=generator, device=x0.device)
        a = self._ac[key][t].reshape(-1, *([1] * (x0.ndim - 1)))
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        return ((net(xt, t) - eps) ** 2).mean()


@dataclasses.dataclass(frozen=True, repr=False)
class TrainResult(Result):
    """Outcome of :func:`train_denoiser`.

    Attributes
    ----------
    net : torch.nn.Module
        The trained network (last iterate), in train mode off.
    ema : torch.nn.Module or None
        The exponential moving average of its weights (None when ``ema=0``).
    losses : numpy.ndarray
        Loss of every step since the start (resumed runs included).
    steps : int
        Steps done in total.
    resumed_from : int
        Step the run resumed from (0 for a fresh run).
    """

    net: Any
    ema: Any
    losses: np.ndarray
    steps: int
    resumed_from: int

    @property
    def model(self) -> Any:
        """The EMA network when there is one, else the last iterate."""
        return self.ema if self.ema is not None else self.net


def _to_tensors(data: Any, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    items = data if isinstance(data, tuple) else (data,)
    if len(items) == 0:
        raise ValueError("`data` must not be an empty tuple")
    out = []
    for k, d in enumerate(items):
        name = "data" if not isinstance(data, tuple) else f"data[{k}]"
        t = d if isinstance(d, torch.Tensor) else torch.as_tensor(np.asarray(d))
        if t.is_floating_point():
            if not torch.isfinite(t).all():
                raise ValueError(f"`{name}` must not contain NaN or inf")
            t = t.to(device=device, dtype=dtype)
        else:
            t = t.to(device=device)
        if t.ndim == 0 or t.shape[0] == 0:
            raise ValueError(f"`{name}` must have a non-empty first axis, got {tuple(t.shape)}")
        out.append(t)
    n = out[0].shape[0]
    for k, t in enumerate(out):
        if t.shape[0] != n:
            raise ValueError(
                f"`data` tensors must have the same length; data[0] has {n}, data[{k}] has "
                f"{t.shape[0]}"
            )
    return tuple(out)


def train_denoiser(
    net: nn.Module,
    data: Any,
    *,
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 1e-3,
    ema: float = 0.999,
    device: Any = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1000,
    loss: LossFn | None = None,
    generator: torch.Generator | None = None,
    rng: SeedLike = None,
    progress: bool = False,
    weight_decay: float = 0.0,
    grad_clip: float | None = None,
    lr_warmup: int = 0,
) -> TrainResult:
    """Train ``net`` with Adam on minibatches of ``data``, with EMA and resumable checkpoints.

    Parameters
    ----------
    net : torch.nn.Module
        A denoiser ``net(x, sigma)`` (e.g. :class:`MLPDenoiser`), or any module the
        ``loss`` knows how to call (e.g. :class:`EpsMLP` with :class:`DDPMLoss`).
        Trained in place (moved to ``device``).
    data : array_like, torch.Tensor or tuple of them
        Training set with samples along axis 0. A tuple (e.g. ``(y, sigma_n)``) is
        subsampled jointly and handed to ``loss`` as a tuple batch. Floating arrays take
        the network's dtype.
    steps : int, default 1000
        Total optimisation steps (a resumed run continues up to ``steps``).
    batch_size : int, default 256
        Rows drawn uniformly with replacement each step.
    lr : float, default 1e-3
        Adam learning rate (linear warm-up over ``lr_warmup`` steps).
    ema : float, default 0.999
        EMA decay in ``[0, 1)``; 0 disables the EMA copy.
    device : str or torch.device, optional
        Defaults to the device of ``net``'s parameters.
    checkpoint : path, optional
        Checkpoint file: if it exists the run resumes from it; it is rewritten atomically
        every ``checkpoint_every`` steps and at the end; it loads with ``weights_only=True``.
    checkpoint_every : int, default 1000
    loss : callable, optional
        ``loss(net, batch, generator) -> scalar tensor``; :class:`EDMLoss` by default.
    generator : torch.Generator, optional
        Drives the loss's noise (must live on ``device``); derived from ``rng`` if absent.
    rng : numpy.random.Generator, int or None
        Seeds the minibatch indices (and the loss generator when ``generator`` is None).
    progress : bool, default False
        Show a progress bar.
    weight_decay, grad_clip : float
        Adam weight decay and gradient-norm clipping (None: off).
    lr_warmup : int, default 0

    Returns
    -------
    TrainResult

    Notes
    -----
    A resumed run restores the weights, the EMA, Adam's state, the loss history and both
    random streams, so an interrupted and resumed run equals an uninterrupted one.

    References
    ----------
    .. [1] Karras et al. 2022, Sec. 5 and Appendix F (training, EMA).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import MLPDenoiser, train_denoiser
    >>> X = np.random.default_rng(0).normal(size=(256, 2))
    >>> res = train_denoiser(MLPDenoiser(2, hidden=16), X, steps=20, batch_size=32, rng=0)
    >>> res.losses.shape, res.steps
    ((20,), 20)
    """
    if not isinstance(net, nn.Module):
        raise ValueError(f"`net` must be a torch.nn.Module, got {type(net).__name__}")
    steps = check_int(steps, "steps", lo=0)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    lr = check_scalar(lr, "lr", lo=0.0, closed="neither")
    ema = check_scalar(ema, "ema", lo=0.0, hi=1.0, closed="left")
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", lo=1)
    weight_decay = check_scalar(weight_decay, "weight_decay", lo=0.0)
    lr_warmup = check_int(lr_warmup, "lr_warmup", lo=0)
    if grad_clip is not None:
        grad_clip = check_scalar(grad_clip, "grad_clip", lo=0.0, closed="neither")
    if loss is not None and not callable(loss):
        raise ValueError(f"`loss` must be callable, got {loss!r}")
    p0 = next(iter(net.parameters()), None)
    dev = (
        torch.device(device)
        if device is not None
        else (p0.device if p0 is not None else torch.device("cpu"))
    )
    dtype = p0.dtype if p0 is not None else torch.get_default_dtype()
    net.to(dev)
    tensors = _to_tensors(data, dev, dtype)
    n = tensors[0].shape[0]
    loss_fn: LossFn = loss if loss is not None else EDMLoss()

    idx_gen = torch_generator(rng, "cpu")
    if generator is None:
        generator = torch_generator(idx_gen.initial_seed() + 1, dev)
    ema_net = copy.deepcopy(net).requires_grad_(False) if ema > 0 else None
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    losses: list[float] = []
    start = 0
    ck = Path(checkpoint) if checkpoint is not None else None
    if ck is not None and ck.exists():
        state = torch.load(ck, map_location=dev, weights_only=True)
        net.load_state_dict(state["net"])
        if ema_net is not None and state.get("ema") is not None:
            ema_net.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        losses = [float(v) for v in state["losses"].tolist()]
        start = int(state["step"])
        idx_gen.set_state(state["idx_gen"])
        generator.set_state(state["gen"].to(generator.get_state().device))
        logger.info("resumed from %s at step %d", ck, start)

    def save(step: int) -> None:
        if ck is None:
            return
        torch_save_atomic(
            {
                "step": step,
                "net": net.state_dict(),
                "ema": ema_net.state_dict() if ema_net is not None else None,
                "opt": opt.state_dict(),
                "losses": torch.tensor(losses, dtype=torch.float64),
                "idx_gen": idx_gen.get_state(),
                "gen": generator.get_state(),
            },
            ck,
        )

    net.train()
    for step in progress_bar(
        range(start, steps), enabled=progress, total=steps - start, desc="train"
    ):
        if lr_warmup:
            for g in opt.param_groups:
                g["lr"] = lr * min(1.0, (step + 1) / lr_warmup)
        idx = torch.randint(0, n, (batch_size,), generator=idx_gen).to(dev)
        batch = tuple(t[idx] for t in tensors)
        value = loss_fn(net, batch if len(batch) > 1 else batch[0], generator)
        opt.zero_grad(set_to_none=True)
        value.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
        opt.step()
        if ema_net is not None:
            with torch.no_grad():
                for pe, p in zip(ema_net.parameters(), net.parameters()):
                    pe.lerp_(p, 1.0 - ema)
                for be, b in zip(ema_net.buffers(), net.buffers()):
                    be.copy_(b)
        losses.append(float(value.detach()))
        if (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            save(step + 1)
    if steps > start or (ck is not None and not ck.exists()):
        save(max(steps, start))
    net.eval()
    if ema_net is not None:
        ema_net.eval()
    return TrainResult(
        net=net,
        ema=ema_net,
        losses=np.asarray(losses, dtype=np.float64),
        steps=max(steps, start),
        resumed_from=start,
    )
