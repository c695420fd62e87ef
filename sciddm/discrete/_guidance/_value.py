"""Value networks for SVDD-MC: regress ``r(x0)`` on intermediate ``x_t`` of pretrained trajectories."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.io import torch_save_atomic
from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import as_generator
from sciddm._core.validation import check_int, check_scalar
from sciddm.discrete._guidance._common import RewardFn
from sciddm.discrete._protocol import model_info
from sciddm.discrete._sampling import draw_seeds, sample

__all__ = ["ValueFit", "ValueModel", "load_value_model", "save_value_model", "train_value_model"]


class ValueModel(nn.Module):
    """A small convolutional regressor ``v(x_t, t)`` of the reward of the clean sequence.

    Embedding (ids incl. [MASK]) + learned positions (+ a time embedding when
    ``time_conditioned``) - two Conv1d/ReLU layers - [mean, max] pooling - MLP.

    Parameters
    ----------
    vocab_size, length : int
    width : int, default 64
    time_conditioned : bool, default True
        Without it the model sees only ``x_t`` (its mask fraction tells the time).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import ValueModel
    >>> vm = ValueModel(5, 8, width=8)
    >>> vm(torch.zeros(3, 8, dtype=torch.long), torch.rand(3)).shape
    torch.Size([3])
    """

    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(
        self, vocab_size: int, length: int, *, width: int = 64, time_conditioned: bool = True
    ):
        super().__init__()
        self.config = {
            "vocab_size": int(vocab_size),
            "length": int(length),
            "width": int(width),
            "time_conditioned": bool(time_conditioned),
        }
        self.time_conditioned = bool(time_conditioned)
        self.embed = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(torch.zeros(length, width))
        self.time = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
        self.conv1 = nn.Conv1d(width, width, 5, padding=2)
        self.conv2 = nn.Conv1d(width, width, 5, padding=2)
        self.head = nn.Sequential(nn.Linear(2 * width, width), nn.SiLU(), nn.Linear(width, 1))
        self.register_buffer("target_mean", torch.zeros(()))
        self.register_buffer("target_std", torch.ones(()))

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(x) + self.pos[: x.shape[1]]
        if self.time_conditioned:
            if t is None:
                raise ValueError("`t` is required for a time-conditioned value model")
            tt = torch.as_tensor(t, dtype=h.dtype, device=h.device).reshape(-1, 1)
            h = h + self.time(tt.expand(x.shape[0], 1))[:, None, :]
        h = h.transpose(1, 2)
        h = torch.relu(self.conv1(h))
        h = h + torch.relu(self.conv2(h))
        z = torch.cat([h.mean(2), h.amax(2)], dim=1)
        return self.head(z)[:, 0] * self.target_std + self.target_mean


def save_value_model(vm: ValueModel, path: str | os.PathLike[str]) -> str:
    """Write ``vm`` atomically (config + weights); load with :func:`load_value_model`."""
    torch_save_atomic({"config": vm.config, "state_dict": vm.state_dict()}, path)
    return str(path)


def load_value_model(path: str | os.PathLike[str], *, device: Any = "cpu") -> ValueModel:
    """Load a :class:`ValueModel` saved by :func:`save_value_model` (``weights_only=True``)."""
    d = torch.load(path, map_location=device, weights_only=True)
    cfg = dict(d["config"])
    vm = ValueModel(
        cfg["vocab_size"],
        cfg["length"],
        width=cfg["width"],
        time_conditioned=cfg["time_conditioned"],
    )
    vm.load_state_dict(d["state_dict"])
    return vm.to(device).eval()


@dataclasses.dataclass(frozen=True, repr=False)
class ValueFit(Result):
    """What :func:`train_value_model` returns.

    Attributes
    ----------
    value_model : ValueModel
        In eval mode.
    train_loss : ndarray (epochs,)
        Mean squared error on standardised targets per epoch.
    val_mse, val_baseline_mse : float
        Held-out MSE of the network and of the constant predictor (the
        targets' variance), on ``(x_t, t)`` pairs of held-out trajectories.
    n_trajectories : int
    reward_calls, nfe : int
        Reward calls (one per trajectory) and network evaluations spent.
    checkpoint : str or None
    wall_time : float
    """

    value_model: Any
    train_loss: np.ndarray
    val_mse: float
    val_baseline_mse: float
    n_trajectories: int
    reward_calls: int
    nfe: int
    checkpoint: str | None
    wall_time: float


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


def train_value_model(
    model: Any,
    reward: Any,
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
    rng: Any = None,
    device: Any = None,
    out: str | os.PathLike[str] | None = None,
    decode: bool | None = None,
    progress: bool = False,
) -> ValueFit:
    """Fit SVDD-MC's value network: regression of ``r(x0)`` on ``x_t`` of pretrained trajectories.

    Parameters
    ----------
    model : Denoiser
    reward : callable
        As in :func:`svdd`; called once per trajectory.
    n_trajectories : int, default 512
        Pretrained samples drawn with :func:`~sciddm.discrete.sample`.
    states_per_trajectory : int, default 8
        Intermediate states per trajectory, at times ``t ~ U(0, 1)``: position
        ``l`` is masked in ``x_t`` iff it was unmasked after ``t`` (its
        recorded unmasking time is below ``t``).
    length : int, optional
    sampler : str, default "fhs"
        Method of :func:`~sciddm.discrete.sample` for the trajectories.
    steps : int, optional
        Steps of an ancestral ``sampler`` (use the chain that guidance will run).
    width : int, default 64
    time_conditioned : bool, default True
    epochs, batch_size, lr
        Adam on the mean squared error of standardised targets; the states
        are re-drawn every epoch.
    val_fraction : float, default 0.1
        Trajectories held out for ``val_mse``.
    rng : seed-like, optional
    device : optional
        Device of the trajectories and of the value network (CPU by default).
    out : path, optional
        Checkpoint written atomically after every epoch.
    decode, progress

    Returns
    -------
    ValueFit

    Notes
    -----
    The minimiser of ``E[(f(x_t, t) - r(x_0))^2]`` over all functions is the
    posterior mean ``E[r(x_0) | x_t]``, the ``alpha -> ∞`` limit of the soft
    value ``alpha log E[exp(r/alpha) | x_t]`` (and a lower bound on it by
    Jensen). SVDD's released code uses this regression target.

    References
    ----------
    .. [1] Li et al. (2024), arXiv:2408.08252, Sec. 4.2 (SVDD-MC, eq. (7)).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel
    >>> from sciddm.discrete import train_value_model
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> fit = train_value_model(m, lambda x: x.sum(1), length=6, n_trajectories=64,
    ...                         epochs=2, width=8, rng=0)
    >>> fit.reward_calls, fit.value_model(torch.full((1, 6), 2), torch.ones(1)).shape
    (64, torch.Size([1]))
    """
    info = model_info(model)
    n_traj = check_int(n_trajectories, "n_trajectories", lo=2)
    k = check_int(states_per_trajectory, "states_per_trajectory", lo=1)
    epochs = check_int(epochs, "epochs", lo=1)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    lr = check_scalar(lr, "lr", lo=0.0, closed="neither")
    val_fraction = check_scalar(val_fraction, "val_fraction", lo=0.0, hi=1.0, closed="left")
    width = check_int(width, "width", lo=1)
    rf = RewardFn(reward, getattr(model, "tokenizer", None), decode)
    gen = as_generator(rng)
    t0 = time.perf_counter()
    res = sample(
        model,
        n_traj,
        length=length,
        method=sampler,
        steps=steps,
        seeds=draw_seeds(n_traj, gen),
        device=device,
        progress=progress,
    )
    tokens = torch.as_tensor(res.tokens)
    times = torch.as_tensor(res.unmask_times)
    y = rf(tokens).to(torch.float32)
    length = tokens.shape[1]
    n_val = int(round(val_fraction * n_traj))
    perm = torch.as_tensor(gen.permutation(n_traj))
    va, tr = perm[:n_val], perm[n_val:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(gen.integers(2**31)))
        vm = ValueModel(info.vocab_size, length, width=width, time_conditioned=time_conditioned)
    vm.target_mean.fill_(float(y[tr].mean()))
    vm.target_std.fill_(float(y[tr].std()) if len(tr) > 1 and float(y[tr].std()) > 0 else 1.0)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    vm = vm.to(dev)
    g = torch.Generator().manual_seed(int(gen.integers(2**62)))
    opt = torch.optim.Adam(vm.parameters(), lr=lr)
    losses = []
    for _ in progress_bar(range(epochs), enabled=progress, desc="value model"):
        vm.train()
        idx, x, tt = _noised(tokens[tr], times[tr], k, info.mask_id, g)
        yy = y[tr][idx]
        order = torch.randperm(len(idx), generator=g)
        tot = 0.0
        for a in range(0, len(order), batch_size):
            o = order[a : a + batch_size]
            pred = vm(x[o].to(dev), tt[o].to(dev))
            loss = torch.mean(((pred - yy[o].to(dev)) / vm.target_std) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(o)
        losses.append(tot / len(order))
        if out is not None:
            save_value_model(vm, out)
    vm.eval()
    val_mse = base = float("nan")
    if n_val > 0:
        idx, x, tt = _noised(tokens[va], times[va], k, info.mask_id, g)
        with torch.no_grad():
            pred = vm(x.to(dev), tt.to(dev)).cpu()
        yy = y[va][idx]
        val_mse = float(torch.mean((pred - yy) ** 2))
        base = float(torch.mean((yy - vm.target_mean.cpu()) ** 2))
    return ValueFit(
        value_model=vm,
        train_loss=np.asarray(losses),
        val_mse=val_mse,
        val_baseline_mse=base,
        n_trajectories=n_traj,
        reward_calls=rf.calls,
        nfe=int(res.nfe.sum()),
        checkpoint=None if out is None else str(out),
        wall_time=time.perf_counter() - t0,
    )
