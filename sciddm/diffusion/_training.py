"""Training loop for denoisers: Adam, EMA, resumable checkpoints, divergence checks."""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.io import load_checkpoint, save_checkpoint
from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import UNSET, RNGLike, check_rng, torch_generator
from sciddm._core.validation import check_choice, check_dense, check_int, check_scalar
from sciddm.diffusion._losses import EDMLoss, Loss

__all__ = ["TrainResult", "train_denoiser"]

logger = logging.getLogger(__name__)

#: The ``kind`` of :func:`train_denoiser`'s checkpoint files.
CHECKPOINT_KIND = "denoiser checkpoint"
#: In ``nonfinite="skip"`` mode, this many skipped steps in a row stop the run.
MAX_SKIPS_IN_A_ROW = 50


@dataclasses.dataclass(frozen=True, repr=False)
class TrainResult(Result):
    """Outcome of :func:`train_denoiser`.

    Attributes
    ----------
    net : torch.nn.Module
        The trained network (last iterate), in eval mode.
    ema : torch.nn.Module or None
        The exponential moving average of its weights (None when ``ema=0``).
    losses : numpy.ndarray
        Loss of every step since the start (resumed runs included; a skipped
        non-finite step records its non-finite loss).
    steps : int
        Steps done in total.
    resumed_from : int
        Step the run resumed from (0 for a fresh run).
    wall_time : float
        Seconds this call spent.
    n_skipped : int
        Steps skipped for a non-finite loss or gradient (``nonfinite="skip"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import MLPDenoiser, train_denoiser
    >>> X = np.random.default_rng(0).normal(size=(64, 2))
    >>> res = train_denoiser(MLPDenoiser(2, hidden=8, rng=0), X, steps=3, batch_size=8, rng=0)
    >>> res.steps, res.losses.shape, res.model is res.ema
    (3, (3,), True)
    """

    net: Any
    ema: Any
    losses: np.ndarray
    steps: int
    resumed_from: int
    wall_time: float = 0.0
    n_skipped: int = 0

    @property
    def model(self) -> Any:
        """The weights to use: the EMA network when there is one, else the last iterate."""
        return self.ema if self.ema is not None else self.net


def _to_tensors(data: Any, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    items = data if isinstance(data, tuple) else (data,)
    if len(items) == 0:
        raise ValueError("`data` must not be an empty tuple")
    out = []
    for k, d in enumerate(items):
        name = "data" if not isinstance(data, tuple) else f"data[{k}]"
        check_dense(d, name)
        if isinstance(d, torch.Tensor):
            t = d.detach()
        else:
            try:
                arr = np.asarray(d)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"`{name}` could not be converted to an array: {exc}") from exc
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}")
            t = torch.as_tensor(arr)
        if t.is_floating_point():
            if not bool(torch.isfinite(t).all()):
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


@dataclasses.dataclass(frozen=True)
class _Config:
    steps: int
    batch_size: int
    lr: float
    ema: float
    checkpoint_every: int
    weight_decay: float
    grad_clip: float | None
    lr_warmup: int
    nonfinite: str
    device: torch.device
    dtype: torch.dtype
    checkpoint: Path | None


def _train_iv(net: Any, device: Any, checkpoint: Any, loss: Any, **kw: Any) -> _Config:
    if not isinstance(net, nn.Module):
        raise TypeError(f"`net` must be a torch.nn.Module, got {type(net).__name__}")
    p0 = next(iter(net.parameters()), None)
    if p0 is None:
        raise ValueError("`net` has no parameters to train")
    if loss is not None and not callable(loss):
        raise TypeError(f"`loss` must be callable loss(net, batch, rng), got {type(loss).__name__}")
    grad_clip = kw["grad_clip"]
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"`checkpoint` must be a path or None, got {type(checkpoint).__name__}")
    return _Config(
        steps=check_int(kw["steps"], "steps", lo=0, hi=10**9),
        batch_size=check_int(kw["batch_size"], "batch_size", lo=1, hi=2**31),
        lr=check_scalar(kw["lr"], "lr", lo=0.0, hi=1e30, closed="right"),
        ema=check_scalar(kw["ema"], "ema", lo=0.0, hi=1.0, closed="left"),
        checkpoint_every=check_int(kw["checkpoint_every"], "checkpoint_every", lo=1, hi=10**9),
        weight_decay=check_scalar(kw["weight_decay"], "weight_decay", lo=0.0, hi=1e30),
        grad_clip=None
        if grad_clip is None
        else check_scalar(grad_clip, "grad_clip", lo=0.0, closed="neither"),
        lr_warmup=check_int(kw["lr_warmup"], "lr_warmup", lo=0, hi=10**9),
        nonfinite=check_choice(kw["nonfinite"], "nonfinite", ("raise", "skip")),
        device=torch.device(device) if device is not None else p0.device,
        dtype=p0.dtype,
        checkpoint=Path(checkpoint) if checkpoint is not None else None,
    )


class _State:
    """Everything a checkpoint holds: weights, EMA, optimiser, losses, random streams."""

    def __init__(self, net: nn.Module, cfg: _Config, idx_gen: torch.Generator, gen: Any) -> None:
        self.net = net
        self.cfg = cfg
        self.ema = copy.deepcopy(net).requires_grad_(False) if cfg.ema > 0 else None
        self.opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.idx_gen = idx_gen
        self.gen = gen
        self.losses: list[float] = []
        self.step = 0
        self.saved_step: int | None = None

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location=self.cfg.device)
        try:
            self.net.load_state_dict(state["net"])
            if self.ema is not None and state.get("ema") is not None:
                self.ema.load_state_dict(state["ema"])
            self.opt.load_state_dict(state["opt"])
            self.idx_gen.set_state(state["idx_gen"])
            self.gen.set_state(state["gen"].to(self.gen.get_state().device))
        except (KeyError, RuntimeError, ValueError) as exc:
            raise ValueError(
                f"checkpoint {str(path)!r} does not fit this network or run ({exc}); pass "
                "another `checkpoint` path to start afresh"
            ) from None
        self.losses = [float(v) for v in state["losses"].tolist()]
        self.step = self.saved_step = int(state["step"])
        logger.info("resumed from %s at step %d", path, self.step)

    def finite_weights(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.net.parameters())

    def save(self) -> None:
        path = self.cfg.checkpoint
        if path is None or self.saved_step == self.step:
            return
        if not self.finite_weights():
            raise _diverged(self.cfg, self.step, "the weights are not finite", self.saved_step)
        payload = {
            "step": self.step,
            "net": self.net.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "opt": self.opt.state_dict(),
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "idx_gen": self.idx_gen.get_state(),
            "gen": self.gen.get_state(),
        }
        save_checkpoint(payload, path, kind=CHECKPOINT_KIND)
        self.saved_step = self.step


def _diverged(cfg: _Config, step: int, what: str, saved: int | None) -> FloatingPointError:
    if cfg.checkpoint is None:
        keep = "pass `checkpoint=` to keep the last finite state on disk"
    elif saved is None:
        keep = f"no checkpoint was written yet (`checkpoint_every` = {cfg.checkpoint_every})"
    else:
        keep = f"the last finite checkpoint, step {saved}, is kept in {str(cfg.checkpoint)!r}"
    return FloatingPointError(
        f"train_denoiser diverged: {what} at step {step}. Lower `lr` (now {cfg.lr:g}) or clip "
        f"the gradients with `grad_clip` (now {cfg.grad_clip}); {keep}. "
        "nonfinite='skip' skips such steps instead."
    )


def _grad_norm(params: list[nn.Parameter], clip: float | None) -> torch.Tensor:
    if clip is not None:
        return nn.utils.clip_grad_norm_(params, clip)
    norms = [p.grad.detach().norm() for p in params if p.grad is not None]
    if not norms:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]))


def _one_step(st: _State, tensors: tuple[torch.Tensor, ...], loss_fn: Loss) -> bool:
    """Run one optimisation step; False when it was non-finite (nothing was updated)."""
    cfg = st.cfg
    if cfg.lr_warmup:
        for g in st.opt.param_groups:
            g["lr"] = cfg.lr * min(1.0, (st.step + 1) / cfg.lr_warmup)
    idx = torch.randint(0, tensors[0].shape[0], (cfg.batch_size,), generator=st.idx_gen)
    idx = idx.to(cfg.device)
    batch = tuple(t[idx] for t in tensors)
    value = loss_fn(st.net, batch if len(batch) > 1 else batch[0], st.gen)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise TypeError(
            f"`loss` must return a scalar tensor, got {type(value).__name__}"
            + (f" of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else "")
        )
    loss = float(value.detach())
    st.losses.append(loss)
    st.opt.zero_grad(set_to_none=True)
    if not np.isfinite(loss):
        return False
    value.backward()
    params = [p for p in st.net.parameters() if p.requires_grad]
    if not bool(torch.isfinite(_grad_norm(params, cfg.grad_clip))):
        st.opt.zero_grad(set_to_none=True)
        return False
    st.opt.step()
    if st.ema is not None:
        with torch.no_grad():
            for pe, p in zip(st.ema.parameters(), st.net.parameters()):
                pe.lerp_(p, 1.0 - cfg.ema)
            for be, b in zip(st.ema.buffers(), st.net.buffers()):
                be.copy_(b)
    return True


def _loop(st: _State, tensors: tuple[torch.Tensor, ...], loss_fn: Loss, progress: bool) -> int:
    cfg = st.cfg
    skipped = in_a_row = 0
    first = st.step
    bar = progress_bar(
        range(st.step, cfg.steps), enabled=progress, total=cfg.steps - st.step, desc="train"
    )
    for _ in bar:
        if st.step == first:
            try:
                ok = _one_step(st, tensors, loss_fn)
            except (RuntimeError, ValueError) as exc:
                shape = tuple(tensors[0].shape[1:])
                raise ValueError(
                    f"the first training step failed: `net` ({type(st.net).__name__}) cannot be "
                    f"trained on `data` with samples of shape {shape} by this `loss`: {exc}"
                ) from exc
        else:
            ok = _one_step(st, tensors, loss_fn)
        st.step += 1
        if not ok:
            what = f"the loss or its gradient is not finite (loss {st.losses[-1]:g})"
            if cfg.nonfinite == "raise":
                raise _diverged(cfg, st.step, what, st.saved_step)
            skipped += 1
            in_a_row += 1
            logger.warning("train_denoiser: skipped step %d (%s)", st.step, what)
            if in_a_row >= MAX_SKIPS_IN_A_ROW:
                raise _diverged(cfg, st.step, f"{in_a_row} steps in a row were non-finite", None)
            continue
        in_a_row = 0
        if st.step % cfg.checkpoint_every == 0 and st.step < cfg.steps:
            st.save()
    return skipped


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
    loss: Loss | None = None,
    rng: RNGLike = None,
    progress: bool = False,
    weight_decay: float = 0.0,
    grad_clip: float | None = None,
    lr_warmup: int = 0,
    nonfinite: str = "raise",
    generator: Any = UNSET,
) -> TrainResult:
    """Train ``net`` with Adam on minibatches of ``data``, with EMA and resumable checkpoints.

    Parameters
    ----------
    net : torch.nn.Module
        A denoiser ``net(x, sigma)`` (e.g. :class:`MLPDenoiser`), or any module
        the ``loss`` knows how to call (e.g. :class:`EpsMLP` with
        :class:`DDPMLoss`). Trained in place (moved to ``device``); build it with
        ``rng=`` for reproducible initial weights.
    data : array_like, torch.Tensor or tuple of them
        Training set with samples along axis 0. A tuple (e.g. ``(y, sigma_n)``)
        is subsampled jointly and handed to ``loss`` as a tuple batch. Floating
        arrays take the network's dtype.
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
        Checkpoint file (a sciddm "denoiser checkpoint", see
        :func:`sciddm._core.io.save_checkpoint`): if it exists the run resumes
        from it; it is rewritten atomically every ``checkpoint_every`` steps
        and at the end, only while the weights are finite.
    checkpoint_every : int, default 1000
        Steps between checkpoints.
    loss : callable, optional
        ``loss(net, batch, rng) -> scalar tensor`` (``rng`` is the run's
        :class:`torch.Generator` on ``device``); :class:`EDMLoss` by default.
    rng : None, int, numpy.random.Generator or torch.Generator
        The run's random source: the minibatch indices and the loss's noise.
        Two runs with the same ``rng`` (and the same initial weights) give
        bit-identical weights; torch's global generator is not used.
    progress : bool, default False
        Show a progress bar.
    weight_decay : float, default 0
        Adam weight decay.
    grad_clip : float, optional
        Clip the gradient norm to this value (None: off).
    lr_warmup : int, default 0
        Steps of linear learning-rate warm-up.
    nonfinite : {"raise", "skip"}, default "raise"
        What a non-finite loss or gradient does: stop with a
        ``FloatingPointError`` naming the step and the knobs (``lr``,
        ``grad_clip``), keeping the last finite checkpoint on disk; or skip the
        step (no update), stopping only after 50 such steps in a row.
    generator : deprecated
        A torch generator for the loss's noise; pass ``rng`` alone instead.

    Returns
    -------
    TrainResult

    Raises
    ------
    FloatingPointError
        When training diverges (see ``nonfinite``).

    Notes
    -----
    A resumed run restores the weights, the EMA, Adam's state, the loss history
    and both random streams, so an interrupted and resumed run equals an
    uninterrupted one.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, Sec. 5 and
       Appendix F (training, EMA).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import MLPDenoiser, train_denoiser
    >>> X = np.random.default_rng(0).normal(size=(256, 2))
    >>> res = train_denoiser(MLPDenoiser(2, hidden=16, rng=0), X, steps=20, batch_size=32, rng=0)
    >>> res.losses.shape, res.steps
    ((20,), 20)
    """
    t0 = time.perf_counter()
    cfg = _train_iv(
        net,
        device,
        checkpoint,
        loss,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        ema=ema,
        checkpoint_every=checkpoint_every,
        weight_decay=weight_decay,
        grad_clip=grad_clip,
        lr_warmup=lr_warmup,
        nonfinite=nonfinite,
    )
    check_rng(rng, torch_ok=True)
    net.to(cfg.device)
    tensors = _to_tensors(data, cfg.device, cfg.dtype)
    idx_gen, gen = _streams(rng, generator, cfg.device)
    st = _State(net, cfg, idx_gen, gen)
    if cfg.checkpoint is not None and cfg.checkpoint.exists():
        st.load(cfg.checkpoint)
    start = st.step
    net.train()
    try:
        skipped = _loop(st, tensors, loss if loss is not None else EDMLoss(), progress)
    finally:
        net.eval()
    if st.step > start or (cfg.checkpoint is not None and not cfg.checkpoint.exists()):
        st.save()
    if st.ema is not None:
        st.ema.eval()
    return TrainResult(
        net=net,
        ema=st.ema,
        losses=np.asarray(st.losses, dtype=np.float64),
        steps=max(cfg.steps, start),
        resumed_from=start,
        wall_time=time.perf_counter() - t0,
        n_skipped=skipped,
    )


def _streams(rng: RNGLike, generator: Any, device: torch.device) -> tuple[torch.Generator, Any]:
    """The minibatch-index stream (CPU) and the loss stream (on ``device``) of a run."""
    import warnings

    if isinstance(rng, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device).item())
        idx_gen = torch.Generator().manual_seed(seed)
    else:
        idx_gen = torch_generator(rng, "cpu")
    if generator is UNSET:
        return idx_gen, torch_generator(idx_gen.initial_seed() + 1, device)
    warnings.warn(
        "`generator` is deprecated in train_denoiser() and will be removed in the next "
        "release; pass `rng` alone (it seeds both the minibatches and the loss's noise)",
        DeprecationWarning,
        stacklevel=3,
    )
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"`generator` must be a torch.Generator, got {type(generator).__name__}")
    return idx_gen, generator
