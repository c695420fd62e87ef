"""What every reward-guided decoder shares: the set-up of its arguments, reward and
value wrappers that validate and count, and the result type."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._protocol import (
    Denoiser,
    ModelInfo,
    model_info,
    resolve_device,
    resolve_schedule,
)
from sciddm.discrete._sampling import LSDSampler, denoiser_probs, seeds_iv
from sciddm.discrete._sampling._lsd import lsd_steps_iv

__all__ = [
    "GuidanceResult",
    "NetworkCounter",
    "Reward",
    "RewardFn",
    "Setup",
    "ValueFn",
    "ValueFunction",
    "child_seeds",
    "chain_iv",
    "grid",
    "guidance_setup",
    "learned_chain",
    "learned_steps_iv",
    "sharpen",
    "reward_name",
]

#: A reward: decoded strings (or an int64 array (m, L) of ids) -> m finite floats.
Reward = Callable[[Any], Any]
#: A value model: ``v(x_t (m, L) LongTensor, t (m,) Tensor) -> (m,)``.
ValueFunction = Callable[[torch.Tensor, torch.Tensor], Any]

# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, repr=False)
class GuidanceResult(Result):
    """Samples of a reward-guided decoder, their rewards and what they cost.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n, L)
        The returned samples.
    texts : list of str or None
        Decoded by ``model.tokenizer`` when the model has one.
    rewards : ndarray of float64, shape (n,)
        ``reward`` of each returned sample.
    nfe : ndarray of int64, shape (n,)
        Sequences the network evaluated on behalf of each sample (SVDD-PM:
        ``M`` per step; SMC: ``K`` per step; best-of-N: ``N`` times the
        sampler's evaluations).
    reward_calls : ndarray of int64, shape (n,)
        Sequences scored by ``reward`` on behalf of each sample.
    value_calls : ndarray of int64, shape (n,)
        Sequences scored by ``value_model`` (SVDD-MC, SMC with a value model).
    n_calls : int
        Batched forward passes of the network.
    wall_time : float
        Seconds.
    seeds : ndarray of int64, shape (n,)
        ``method(..., seeds=[seeds[i]])`` reproduces row ``i``.
    method : str
        "best-of-n", "pretrained", "svdd-pm", "svdd-mc" or "smc".
    params : dict
        The method's knobs (M, alpha, K, N, steps, ...).
    ess : ndarray (n, steps + 1) or None
        SMC: effective sample size of each population after each step's reweighting.
    n_resamples : ndarray (n,) or None
        SMC: resampling events per population.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, best_of_n
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2, length=4)
    >>> res = best_of_n(m, lambda x: x.sum(1), 2, N=4, seeds=[0, 1])
    >>> res.method, res.total_reward_calls, res.tokens.shape
    ('best-of-n', 8, (2, 4))
    """

    tokens: np.ndarray
    texts: list[str] | None
    rewards: np.ndarray
    nfe: np.ndarray
    reward_calls: np.ndarray
    value_calls: np.ndarray
    n_calls: int
    wall_time: float
    seeds: np.ndarray
    method: str
    params: dict[str, Any]
    ess: np.ndarray | None = None
    n_resamples: np.ndarray | None = None

    @property
    def total_nfe(self) -> int:
        """Network evaluations (sequences) of all samples."""
        return int(self.nfe.sum())

    @property
    def total_reward_calls(self) -> int:
        """Sequences scored by the reward for all samples."""
        return int(self.reward_calls.sum())

    @property
    def samples_per_second(self) -> float:
        """Returned samples per second of wall time."""
        return len(self.tokens) / max(self.wall_time, 1e-12)


# --------------------------------------------------------------------------- helpers


def reward_name(reward: Any) -> str:
    """A short name of a reward callable for error messages."""
    name = getattr(reward, "__name__", None)
    if name is None:
        name = type(reward).__name__
        r = repr(reward)
        if len(r) <= 60 and not r.startswith("<"):
            name = r
    return str(name)


class RewardFn:
    """Validating, counting wrapper of a user reward.

    ``reward`` receives the decoded strings (``decode=True``) or an int64
    array (m, L) of token ids, and must return m finite floats.
    """

    def __init__(
        self, reward: Any, tokenizer: Any, decode: bool | None, what: str = "reward"
    ) -> None:
        if not callable(reward):
            raise TypeError(f"`{what}` must be callable, got {type(reward).__name__}")
        if decode is not None and not isinstance(decode, (bool, np.bool_)):
            raise TypeError(f"`decode` must be True, False or None, got {decode!r}")
        can = tokenizer is not None and hasattr(tokenizer, "decode_batch")
        if decode is None:
            decode = can
        if decode and not can:
            raise ValueError("`decode=True` needs a model with a `tokenizer` (decode_batch)")
        self.reward, self.tokenizer, self.decode = reward, tokenizer, bool(decode)
        self.what = what
        self.name = reward_name(reward)
        self.calls = 0

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        m = int(tokens.shape[0])
        if m == 0:
            return torch.zeros(0, dtype=torch.float64, device=tokens.device)
        ids = tokens.detach().cpu().numpy().astype(np.int64)
        arg = list(self.tokenizer.decode_batch(ids)) if self.decode else ids
        out = self.reward(arg)
        self.calls += m
        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
        try:
            arr = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"{self.what} `{self.name}` must return {m} numbers, got {type(out).__name__}"
            ) from e
        if arr.shape != (m,):
            raise ValueError(
                f"{self.what} `{self.name}` must return shape ({m},) for {m} sequences, "
                f"got {arr.shape}"
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            kind = "NaN" if np.isnan(arr).any() else "inf"
            raise ValueError(
                f"{self.what} `{self.name}` returned {kind} for {int(bad.sum())} of {m} "
                "sequences; give invalid sequences a finite floor reward"
            )
        return torch.as_tensor(arr, device=tokens.device)


class ValueFn:
    """Validating, counting wrapper of a value model ``v(x_t, t) -> (m,)``."""

    def __init__(self, value_model: Any) -> None:
        if not callable(value_model):
            raise TypeError(f"`value_model` must be callable, got {type(value_model).__name__}")
        self.fn = value_model
        self.name = reward_name(value_model)
        self.calls = 0

    def __call__(self, x: torch.Tensor, t: float) -> torch.Tensor:
        m = int(x.shape[0])
        if m == 0:
            return torch.zeros(0, dtype=torch.float64, device=x.device)
        tt = torch.full((m,), float(t), dtype=torch.float32, device=x.device)
        with torch.no_grad():
            out = self.fn(x, tt)
        self.calls += m
        out = torch.as_tensor(
            out.detach() if isinstance(out, torch.Tensor) else np.asarray(out, dtype=np.float64)
        )
        if tuple(out.shape) != (m,):
            raise ValueError(
                f"value model `{self.name}` must return shape ({m},), got {tuple(out.shape)}"
            )
        out = out.to(device=x.device, dtype=torch.float64)
        if not torch.isfinite(out).all():
            raise ValueError(f"value model `{self.name}` returned NaN or inf")
        return out


def child_seeds(seed: int, k: int) -> np.ndarray:
    """``k`` seeds in [0, 2**63) derived from ``seed`` (SeedSequence), for inner streams."""
    st = np.random.SeedSequence([int(seed), 0x6D1DE]).generate_state(k, dtype=np.uint64)
    return (st >> np.uint64(1)).astype(np.int64)


# --------------------------------------------------------------------------- the set-up


@dataclasses.dataclass
class Setup:
    """The validated arguments shared by :func:`best_of_n`, :func:`svdd`, :func:`smc`
    and :func:`train_value_model`, and the start time of the run."""

    model: Denoiser
    info: ModelInfo
    n: int
    length: int
    steps: int
    seeds: np.ndarray
    device: torch.device
    batch_size: int | None
    reward: RewardFn
    progress: bool
    t0: float

    def chunks(self, size: int | None = None) -> Iterator[np.ndarray]:
        """The seeds in batches of ``size`` (default ``batch_size``, else all)."""
        bs = size or self.batch_size or self.n
        for a in range(0, self.n, bs):
            yield self.seeds[a : a + bs]

    def run_batches(
        self, batch: Callable[[np.ndarray], dict[str, torch.Tensor]]
    ) -> dict[str, list[torch.Tensor]]:
        """``batch(seeds)`` on every chunk of :meth:`chunks`, its outputs gathered on the
        CPU per key (the ``parts`` of :meth:`result`)."""
        parts: dict[str, list[torch.Tensor]] = {}
        for chunk in self.chunks():
            for k, val in batch(chunk).items():
                parts.setdefault(k, []).append(val.cpu())
        return parts

    def decode(self, tokens: np.ndarray) -> list[str] | None:
        """``model.tokenizer.decode_batch(tokens)`` when the model has a tokenizer."""
        tok = getattr(self.model, "tokenizer", None)
        if tok is not None and hasattr(tok, "decode_batch"):
            return list(tok.decode_batch(tokens))
        return None

    def result(self, parts: dict[str, list[torch.Tensor]], **fields: Any) -> GuidanceResult:
        """Assemble a :class:`GuidanceResult` from per-batch ``parts`` (tokens, rewards,
        nfe, reward_calls, value_calls[, ess, n_resamples])."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        cat: dict[str, Any] = {k: torch.cat(v).cpu().numpy() for k, v in parts.items()}
        tokens = cat.pop("tokens").astype(np.int64)
        for k in ("nfe", "reward_calls", "value_calls", "n_resamples"):
            if k in cat:
                cat[k] = cat[k].astype(np.int64)
        return GuidanceResult(
            tokens=tokens,
            texts=self.decode(tokens),
            wall_time=time.perf_counter() - self.t0,
            seeds=self.seeds,
            **cat,
            **fields,
        )


def learned_steps_iv(sampler: Any, steps: Any, schedule: Any, precision: Any) -> Any:
    """``steps`` for :func:`guidance_setup`: the learned sampler's ``K`` when one is given."""
    if sampler is None:
        return steps
    if not isinstance(sampler, LSDSampler):
        raise TypeError(
            "`sampler` must be None or an LSDSampler (from distill_sampler), "
            f"got {type(sampler).__name__}"
        )
    return lsd_steps_iv(sampler, steps, precision, schedule)


def learned_chain(
    sampler: LSDSampler | None, steps: int, t_min: float, sch: Any
) -> tuple[list[float], list[float], Any]:
    """The time grid (then 0), the logit scale of every step (1 for the last) and the schedule.

    The ancestral chain of :func:`grid` when ``sampler`` is None, else the
    learned sampler's grid, scales and schedule (the chain of
    ``sample(method=sampler)``).
    """
    if sampler is None:
        return grid(steps, t_min), [1.0] * (steps + 1), sch
    g = [*(float(t) for t in sampler.times), 0.0]
    return g, [*(float(b) for b in sampler.logit_scales), 1.0], sampler.schedule


def sharpen(p: torch.Tensor, beta: float) -> torch.Tensor:
    r"""``p`` raised to ``beta`` and renormalised over the last axis (:math:`p^\beta/\sum p^\beta`)."""
    if beta == 1.0:
        return p
    pb = p.pow(beta)
    return pb / pb.sum(-1, keepdim=True)


def grid(steps: int, t_min: float) -> list[float]:
    """``linspace(1, t_min, steps + 1)`` then 0: the ancestral grid of :func:`sample`."""
    return [*torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64).tolist(), 0.0]


def guidance_setup(
    model: Any,
    reward: Any,
    n: Any,
    *,
    length: Any,
    steps: Any,
    seeds: Any,
    rng: Any,
    device: Any,
    batch_size: Any,
    decode: Any,
    progress: Any,
) -> Setup:
    """Validate the arguments every guidance method shares, before any work.

    ``length`` defaults to ``model.length`` (required otherwise), ``steps`` to
    ``length``; ``seeds`` (one per sample) or ``rng`` (see
    :func:`sciddm.discrete.sample`) give the per-sample seeds; ``device``
    defaults to the model's; the reward is wrapped in a :class:`RewardFn`.
    """
    info = model_info(model)
    n = check_int(n, "n", lo=1, hi=2**26)
    if length is None:
        length = info.length
    if length is None:
        raise ValueError("`length` must be given for a model without a fixed `length`")
    length = check_int(length, "length", lo=1)
    if info.length is not None and length != info.length:
        raise ValueError(f"`length` must equal model.length = {info.length}, got {length}")
    steps = length if steps is None else check_int(steps, "steps", lo=1, hi=10_000_000)
    bs = None if batch_size is None else check_int(batch_size, "batch_size", lo=1)
    rf = RewardFn(reward, getattr(model, "tokenizer", None), decode)
    return Setup(
        model=model,
        info=info,
        n=n,
        length=length,
        steps=steps,
        seeds=seeds_iv(n, seeds, rng),
        device=resolve_device(model, device),
        batch_size=bs,
        reward=rf,
        progress=bool(progress),
        t0=time.perf_counter(),
    )


def chain_iv(alpha: Any, t_min: Any, schedule: Any, precision: Any) -> tuple[float, float, Any]:
    """Checks of the reverse-chain knobs of SVDD and SMC."""
    alpha = check_scalar(alpha, "alpha", lo=0.0)
    t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="neither")
    check_choice(precision, "precision", ("float64", "float32"))
    return alpha, t_min, resolve_schedule(schedule)


class NetworkCounter:
    """Network calls of a guided run, and ``p_theta(x0 | x)`` of the rows that need it."""

    def __init__(self) -> None:
        self.calls = 0

    def probs(
        self, model: Any, x: torch.Tensor, t: float, mask_id: int, v: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``p_theta(x0 | x)`` of every row (one call on the rows with a mask) and the
        number of network evaluations per row (0 or 1)."""
        need = (x == mask_id).any(-1)
        p = torch.nn.functional.one_hot(x, v).to(torch.float64)
        if bool(need.any()):
            p[need] = denoiser_probs(model, x[need], t)
            self.calls += 1
        return p, need.long()
