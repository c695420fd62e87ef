"""Value networks for SVDD-MC: regress ``r(x0)`` on intermediate ``x_t`` of pretrained trajectories."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.io import CheckpointError, load_checkpoint, save_checkpoint
from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import RNGLike, as_generator, check_rng, torch_init
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._guidance._common import Reward, Setup, guidance_setup
from sciddm.discrete._protocol import Denoiser, check_path
from sciddm.discrete._sampling import METHODS, draw_seeds, sample

__all__ = ["ValueFit", "ValueModel", "load_value_model", "save_value_model", "train_value_model"]

logger = logging.getLogger(__name__)

#: The ``kind`` of a value-model file (see :func:`sciddm._core.io.save_checkpoint`).
VALUE_MODEL_KIND = "value model"


class ValueModel(nn.Module):
    r"""A small convolutional regressor :math:`v(x_t, t)` of the reward of the clean sequence.

    Embedding (ids incl. [MASK]) + learned positions (+ a time embedding when
    ``time_conditioned``), two Conv1d/ReLU layers, [mean, max] pooling, an MLP.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, [MASK] included (2 to 2**24).
    length : int
        Longest sequence length (1 to 2**20).
    width : int, default 64
        Channels of every layer (1 to 8192).
    time_conditioned : bool, default True
        Without it the model sees only ``x_t`` (its mask fraction tells the time).
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the initial weights (``None``: torch's default
        generator); the same ``rng`` gives bit-identical weights.

    Attributes
    ----------
    config : dict
        The constructor's arguments (saved with the weights).
    target_mean, target_std : Tensor
        Buffers de-standardising the output (set by :func:`train_value_model`).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import ValueModel
    >>> vm = ValueModel(5, 8, width=8, rng=0)
    >>> vm(torch.zeros(3, 8, dtype=torch.long), torch.rand(3)).shape
    torch.Size([3])
    >>> bool(torch.equal(vm.pos, ValueModel(5, 8, width=8, rng=0).pos))
    True
    """

    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(
        self,
        vocab_size: int,
        length: int,
        *,
        width: int = 64,
        time_conditioned: bool = True,
        rng: RNGLike = None,
    ) -> None:
        super().__init__()
        vocab_size = check_int(vocab_size, "vocab_size", lo=2, hi=2**24)
        length = check_int(length, "length", lo=1, hi=2**20)
        width = check_int(width, "width", lo=1, hi=8192)
        check_rng(rng, torch_ok=True)
        self.config = {
            "vocab_size": vocab_size,
            "length": length,
            "width": width,
            "time_conditioned": bool(time_conditioned),
        }
        self.time_conditioned = bool(time_conditioned)
        with torch_init(rng):
            self.embed = nn.Embedding(vocab_size, width)
            self.pos = nn.Parameter(torch.zeros(length, width))
            self.time = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
            self.conv1 = nn.Conv1d(width, width, 5, padding=2)
            self.conv2 = nn.Conv1d(width, width, 5, padding=2)
            self.head = nn.Sequential(nn.Linear(2 * width, width), nn.SiLU(), nn.Linear(width, 1))
        self.register_buffer("target_mean", torch.zeros(()))
        self.register_buffer("target_std", torch.ones(()))

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """Values of the rows of ``x`` (n, L) at times ``t`` (n,); returns shape (n,)."""
        x = torch.as_tensor(x)
        cfg = self.config
        if x.ndim != 2 or x.dtype.is_floating_point or x.dtype == torch.bool:
            raise ValueError(
                f"`x` must be an integer tensor (n, L), got {x.dtype} {tuple(x.shape)}"
            )
        if not 1 <= x.shape[1] <= cfg["length"]:
            raise ValueError(f"`x` must have 1 to {cfg['length']} positions, got {x.shape[1]}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= cfg["vocab_size"]):
            raise ValueError(f"`x` must hold ids in [0, {cfg['vocab_size']})")
        h = self.embed(x) + self.pos[: x.shape[1]]
        if self.time_conditioned:
            if t is None:
                raise ValueError("`t` is required for a time-conditioned value model")
            tt = torch.as_tensor(t, dtype=h.dtype, device=h.device).reshape(-1, 1)
            if tt.shape[0] not in (1, x.shape[0]):
                raise ValueError(f"`t` must have 1 or {x.shape[0]} entries, got {tt.shape[0]}")
            h = h + self.time(tt.expand(x.shape[0], 1))[:, None, :]
        h = h.transpose(1, 2)
        h = torch.relu(self.conv1(h))
        h = h + torch.relu(self.conv2(h))
        z = torch.cat([h.mean(2), h.amax(2)], dim=1)
        return self.head(z)[:, 0] * self.target_std + self.target_mean


def save_value_model(vm: ValueModel, path: str | os.PathLike[str]) -> str:
    """Write a value model (configuration and weights) atomically.

    Parameters
    ----------
    vm : ValueModel
        The model to save.
    path : str or path-like
        Destination; written to a temporary name and renamed.

    Returns
    -------
    str
        ``path``.

    Examples
    --------
    >>> import os, tempfile, torch
    >>> from sciddm.discrete import ValueModel, load_value_model, save_value_model
    >>> vm = ValueModel(5, 8, width=8, rng=0)
    >>> p = save_value_model(vm, os.path.join(tempfile.mkdtemp(), "v.pt"))
    >>> bool(torch.equal(load_value_model(p).pos, vm.pos))
    True
    """
    if not isinstance(vm, ValueModel):
        raise TypeError(f"`vm` must be a ValueModel, got {type(vm).__name__}")
    path = check_path(path)
    state = {k: v.detach().cpu() for k, v in vm.state_dict().items()}
    save_checkpoint({"config": dict(vm.config), "state_dict": state}, path, kind=VALUE_MODEL_KIND)
    return str(path)


def load_value_model(path: str | os.PathLike[str], *, device: Any = "cpu") -> ValueModel:
    """Load a :class:`ValueModel` written by :func:`save_value_model`.

    The file is read safely (``weights_only=True``); a missing, empty,
    truncated or foreign file raises :class:`~sciddm._core.io.CheckpointError`
    (a ``ValueError``) saying why.

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or torch.device, default "cpu"
        Where the weights go.

    Returns
    -------
    ValueModel
        In eval mode.

    Examples
    --------
    >>> import os, tempfile
    >>> from sciddm.discrete import load_value_model
    >>> p = os.path.join(tempfile.mkdtemp(), "empty.pt")
    >>> _ = open(p, "wb").close()
    >>> try:
    ...     load_value_model(p)
    ... except ValueError as e:
    ...     print(str(e).split(" is ", 1)[1])
    not a readable sciddm value model file (the file is empty)
    """
    path = check_path(path)
    d = load_checkpoint(path, kind=VALUE_MODEL_KIND, map_location="cpu")
    try:
        cfg = dict(d["config"])
        vm = ValueModel(
            cfg["vocab_size"],
            cfg["length"],
            width=cfg["width"],
            time_conditioned=cfg["time_conditioned"],
            rng=0,  # overwritten by the stored weights; leaves torch's generator alone
        )
        vm.load_state_dict(d["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{os.fspath(path)!r} is not a readable sciddm {VALUE_MODEL_KIND} file "
            f"(its contents do not match a ValueModel: {reason})"
        ) from None
    return vm.to(device).eval()


@dataclasses.dataclass(frozen=True, repr=False)
class ValueFit(Result):
    """What :func:`train_value_model` returns.

    Attributes
    ----------
    model : ValueModel
        The fitted value network, in eval mode.
    losses : ndarray (epochs,)
        Mean squared error on standardised targets per epoch.
    val_mse, val_baseline_mse : float
        Held-out MSE of the network and of the constant predictor (the
        targets' variance), on ``(x_t, t)`` pairs of held-out trajectories
        (NaN with ``val_fraction = 0``).
    n_trajectories : int
        Pretrained trajectories drawn.
    reward_calls, nfe : int
        Reward calls (one per trajectory) and network evaluations spent.
    checkpoint : str or None
        The file written after every epoch, if any.
    wall_time : float
        Seconds.
    n_skipped : int
        Optimiser steps skipped for a non-finite loss or gradient
        (``on_nonfinite="skip"``).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, train_value_model
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2, length=4)
    >>> fit = train_value_model(m, lambda x: x.sum(1), n_trajectories=16, epochs=2, width=4, rng=0)
    >>> fit.losses.shape, fit.reward_calls, fit.n_skipped
    ((2,), 16, 0)
    """

    model: Any
    losses: np.ndarray
    val_mse: float
    val_baseline_mse: float
    n_trajectories: int
    reward_calls: int
    nfe: int
    checkpoint: str | None
    wall_time: float
    n_skipped: int = 0

    @property
    def value_model(self) -> Any:
        """Deprecated name of :attr:`model`."""
        warnings.warn(
            "ValueFit.value_model is deprecated; use ValueFit.model", DeprecationWarning, 2
        )
        return self.model

    @property
    def train_loss(self) -> np.ndarray:
        """Deprecated name of :attr:`losses`."""
        warnings.warn(
            "ValueFit.train_loss is deprecated; use ValueFit.losses", DeprecationWarning, 2
        )
        return self.losses


def _noised(
    tokens: torch.Tensor, times: torch.Tensor, k: int, mask_id: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``k`` intermediate states ``x_t`` per trajectory at uniform times (index, x_t, t)."""
    n = tokens.shape[0]
    t = torch.rand(n, k, generator=g, dtype=torch.float64)
    idx = torch.arange(n).repeat_interleave(k)
    tt = t.reshape(-1)
    masked = times[idx] < tt[:, None]  # a position is masked before it was unmasked
    x = torch.where(masked, torch.full_like(tokens[idx], mask_id), tokens[idx])
    return idx, x, tt.to(torch.float32)


class _ValueTrainer:
    """Adam on standardised targets, with a guard against non-finite losses and gradients."""

    def __init__(self, vm: ValueModel, lr: float, on_nonfinite: str, out: Any) -> None:
        self.vm, self.lr, self.on_nonfinite, self.out = vm, lr, on_nonfinite, out
        self.opt = torch.optim.Adam(vm.parameters(), lr=lr)
        self.step_no = self.n_skipped = 0
        self.saved_epoch: int | None = None

    def step(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> float:
        vm = self.vm
        pred = vm(x, t)
        loss = torch.mean(((pred - y) / vm.target_std) ** 2)
        self.opt.zero_grad()
        loss.backward()
        self.step_no += 1
        grads = [p.grad for p in vm.parameters() if p.grad is not None]
        gnorm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
        value, gn = float(loss.detach()), float(gnorm)
        if not (math.isfinite(value) and math.isfinite(gn)):
            what = f"loss {value}" if not math.isfinite(value) else f"gradient norm {gn}"
            if self.on_nonfinite == "skip":
                self.opt.zero_grad()
                self.n_skipped += 1
                logger.warning("value model: step %d skipped (%s)", self.step_no, what)
                return float("nan")
            kept = (
                f"; the checkpoint {str(self.out)!r} on disk holds epoch {self.saved_epoch}"
                if self.saved_epoch is not None
                else ""
            )
            raise FloatingPointError(
                f"value-model training diverged at step {self.step_no}: {what}; lower `lr` "
                f"(now {self.lr:g}) or pass on_nonfinite='skip' to skip such steps{kept}"
            )
        self.opt.step()
        return value

    def save(self, epoch: int) -> None:
        if self.out is None:
            return
        if not all(bool(torch.isfinite(p).all()) for p in self.vm.parameters()):
            return  # never overwrite a good checkpoint with non-finite weights
        save_value_model(self.vm, self.out)
        self.saved_epoch = epoch


def _value_iv(
    n_trajectories: Any,
    states_per_trajectory: Any,
    sampler: Any,
    epochs: Any,
    batch_size: Any,
    lr: Any,
    val_fraction: Any,
    width: Any,
    on_nonfinite: Any,
    out: Any,
) -> tuple[int, int, int, int, float, float, int]:
    n_traj = check_int(n_trajectories, "n_trajectories", lo=2)
    k = check_int(states_per_trajectory, "states_per_trajectory", lo=1)
    check_choice(sampler, "sampler", METHODS)
    epochs = check_int(epochs, "epochs", lo=1)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    lr = check_scalar(lr, "lr", lo=0.0, closed="neither")
    val_fraction = check_scalar(val_fraction, "val_fraction", lo=0.0, hi=1.0, closed="left")
    width = check_int(width, "width", lo=1, hi=8192)
    check_choice(on_nonfinite, "on_nonfinite", ("error", "skip"))
    if out is not None:
        check_path(out, "out")
    if int(round(val_fraction * n_traj)) >= n_traj - 1:
        raise ValueError(
            f"`val_fraction` = {val_fraction} leaves fewer than 2 of the {n_traj} trajectories "
            "for training"
        )
    return n_traj, k, epochs, batch_size, lr, val_fraction, width


def train_value_model(
    model: Denoiser,
    reward: Reward,
    *,
    n_trajectories: int = 512,
    states_per_trajectory: int = 8,
    length: int | None = None,
    sampler: str = "fhs",
    steps: int | None = None,
    width: int = 64,
    time_conditioned: bool = True,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 2e-3,
    val_fraction: float = 0.1,
    on_nonfinite: str = "error",
    rng: RNGLike = None,
    device: Any = None,
    out: str | os.PathLike[str] | None = None,
    decode: bool | None = None,
    progress: bool = False,
) -> ValueFit:
    r"""Fit SVDD-MC's value network: regression of :math:`r(x_0)` on :math:`x_t` of pretrained trajectories.

    Parameters
    ----------
    model : Denoiser
        The pretrained masked diffusion model.
    reward : callable
        As in :func:`~sciddm.discrete.svdd`; called once per trajectory.
    n_trajectories : int, default 512
        Pretrained samples drawn with :func:`~sciddm.discrete.sample` (>= 2).
    states_per_trajectory : int, default 8
        Intermediate states per trajectory, at times :math:`t \sim U(0, 1)`:
        position :math:`\ell` is masked in :math:`x_t` iff it was unmasked
        after :math:`t` (its recorded unmasking time is below :math:`t`).
    length : int, optional
        Sequence length; defaults to ``model.length``.
    sampler : {"fhs", "ancestral", "cached", "fhs-parallel"}, default "fhs"
        Method of :func:`~sciddm.discrete.sample` for the trajectories.
    steps : int, optional
        Steps of an ancestral ``sampler`` (use the chain that guidance will run).
    width : int, default 64
        Width of the :class:`ValueModel`.
    time_conditioned : bool, default True
        Give the value model the time :math:`t`.
    epochs : int, default 20
        Passes over the training states (re-drawn every epoch).
    batch_size : int, default 256
        States per Adam step.
    lr : float, default 2e-3
        Adam's learning rate (> 0), on the mean squared error of
        standardised targets.
    val_fraction : float, default 0.1
        Trajectories held out for ``val_mse`` (in [0, 1)).
    on_nonfinite : {"error", "skip"}, default "error"
        A non-finite loss or gradient stops training with a
        ``FloatingPointError`` naming the step and ``lr`` (the checkpoint on
        disk, if any, is the last finite one), or skips that step.
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the trajectories' seeds, the split, the initial
        weights and the data order; the same ``rng`` gives bit-identical
        weights, without touching torch's global generator.
    device : str or torch.device, optional
        Device of the trajectories and of the value network (default: the
        model's).
    out : path, optional
        Checkpoint written atomically after every epoch
        (:func:`save_value_model`).
    decode : bool, optional
        Pass decoded strings to ``reward`` (default: when the model has a tokenizer).
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    ValueFit
        The network (``.model``), its losses and its held-out error.

    Raises
    ------
    FloatingPointError
        When training diverges (``on_nonfinite="error"``).

    Notes
    -----
    The minimiser of :math:`\mathbb{E}[(f(x_t, t) - r(x_0))^2]` over all
    functions is the posterior mean :math:`\mathbb{E}[r(x_0) \mid x_t]`, the
    :math:`\alpha \to \infty` limit of the soft value
    :math:`\alpha \log \mathbb{E}[e^{r/\alpha} \mid x_t]` (and a lower bound
    on it by Jensen). SVDD's released code uses this regression target.

    References
    ----------
    .. [1] X. Li et al., "Derivative-free guidance in continuous and discrete
       diffusion models with soft value-based decoding", arXiv:2408.08252
       (2024), Sec. 4.2 (SVDD-MC, eq. (7)).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, train_value_model
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> fit = train_value_model(m, lambda x: x.sum(1), length=6, n_trajectories=64,
    ...                         epochs=2, width=8, rng=0)
    >>> fit.reward_calls, fit.model(torch.full((1, 6), 2), torch.ones(1)).shape
    (64, torch.Size([1]))
    """
    n_traj, k, epochs, batch_size, lr, val_fraction, width = _value_iv(
        n_trajectories,
        states_per_trajectory,
        sampler,
        epochs,
        batch_size,
        lr,
        val_fraction,
        width,
        on_nonfinite,
        out,
    )
    check_rng(rng, torch_ok=True)
    gen = as_generator(
        int(torch.randint(0, 2**62, (1,), generator=rng))
        if isinstance(rng, torch.Generator)
        else rng
    )
    st = guidance_setup(
        model,
        reward,
        n_traj,
        length=length,
        steps=steps,
        seeds=draw_seeds(n_traj, gen),
        rng=None,
        device=device,
        batch_size=None,
        decode=decode,
        progress=progress,
    )
    res = sample(
        model,
        n_traj,
        length=st.length,
        method=sampler,
        steps=steps,
        seeds=st.seeds,
        device=st.device,
        progress=st.progress,
    )
    tokens, times = torch.as_tensor(res.tokens), torch.as_tensor(res.unmask_times)
    y = st.reward(tokens).to(torch.float32).cpu()
    n_val = int(round(val_fraction * n_traj))
    perm = torch.as_tensor(gen.permutation(n_traj))
    va, tr = perm[:n_val], perm[n_val:]
    vm = ValueModel(st.info.vocab_size, st.length, width=width, time_conditioned=time_conditioned,
                    rng=gen)  # fmt: skip
    sd = float(y[tr].std()) if len(tr) > 1 else 0.0
    vm.target_mean.fill_(float(y[tr].mean()))
    vm.target_std.fill_(sd if math.isfinite(sd) and sd > 0 else 1.0)
    vm = vm.to(st.device)
    g = torch.Generator().manual_seed(int(gen.integers(2**62)))
    fit = _ValueTrainer(vm, lr, on_nonfinite, out)
    losses = _fit_epochs(fit, st, tokens[tr], times[tr], y[tr], k, epochs, batch_size, g)
    vm.eval()
    val_mse = base = float("nan")
    if n_val > 0:
        idx, x, tt = _noised(tokens[va], times[va], k, st.info.mask_id, g)
        with torch.no_grad():
            pred = vm(x.to(st.device), tt.to(st.device)).cpu()
        yy = y[va][idx]
        val_mse = float(torch.mean((pred - yy) ** 2))
        base = float(torch.mean((yy - vm.target_mean.cpu()) ** 2))
    return ValueFit(
        model=vm,
        losses=np.asarray(losses),
        val_mse=val_mse,
        val_baseline_mse=base,
        n_trajectories=n_traj,
        reward_calls=st.reward.calls,
        nfe=int(res.nfe.sum()),
        checkpoint=None if out is None else str(out),
        wall_time=time.perf_counter() - st.t0,
        n_skipped=fit.n_skipped,
    )


def _fit_epochs(
    fit: _ValueTrainer,
    st: Setup,
    tokens: torch.Tensor,
    times: torch.Tensor,
    y: torch.Tensor,
    k: int,
    epochs: int,
    batch_size: int,
    g: torch.Generator,
) -> list[float]:
    """The epochs of :func:`train_value_model`; returns the mean loss of each."""
    losses = []
    dev = st.device
    for epoch in progress_bar(range(epochs), enabled=st.progress, desc="value model"):
        fit.vm.train()
        idx, x, tt = _noised(tokens, times, k, st.info.mask_id, g)
        yy = y[idx]
        order = torch.randperm(len(idx), generator=g)
        tot, cnt = 0.0, 0
        for a in range(0, len(order), batch_size):
            o = order[a : a + batch_size]
            val = fit.step(x[o].to(dev), tt[o].to(dev), yy[o].to(dev))
            if math.isfinite(val):
                tot, cnt = tot + val * len(o), cnt + len(o)
        losses.append(tot / cnt if cnt else float("nan"))
        fit.save(epoch + 1)
    return losses
