"""Shared parts of reward-guided decoding of masked diffusion models without gradients: best-of-N, SVDD, SMC.

All three methods target the *soft-optimal* distribution

.. math:: p^\\star(x_0) \\propto p^{\\mathrm{pre}}(x_0) \\exp(r(x_0) / \\alpha)

of a pretrained masked diffusion model ``p^pre`` tilted by a reward ``r``
that need not be differentiable (an RDKit property, a motif score, a trained
oracle). With the *soft value* of a partly masked sequence

.. math:: v_t(x_t) = \\alpha \\log \\mathbb{E}_{p^{\\mathrm{pre}}}
   [\\exp(r(x_0)/\\alpha) \\mid x_t],

the optimal policy is the pretrained step re-weighted by ``exp(v_s/alpha)``:
``p*(x_s | x_t) ∝ p^pre(x_s | x_t) exp(v_s(x_s)/alpha)`` (see
``theory/76_soft_optimal_policy.md``). SVDD draws ``M`` candidates from the
pretrained step and picks one with probability ∝ ``exp(v̂/alpha)`` (importance
resampling of that policy); SMC (:mod:`sciddm.discrete._guidance_smc`) carries ``K`` weighted particles with the
twisted incremental weights ``exp((v̂_s - v̂_t)/alpha)``; best-of-N keeps the
best of ``N`` pretrained samples.

Every method reuses the samplers' single-step primitives
(:func:`~sciddm.discrete.denoiser_probs`,
:func:`~sciddm.discrete.transition_probs`,
:func:`~sciddm.discrete.predict_x0`, :func:`~sciddm.discrete.categorical`
with per-row :class:`~sciddm.discrete.RowGenerator` streams), so output ``i``
depends only on ``seeds[i]``, and reports its cost in network evaluations and
reward calls.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.validation import check_int, check_scalar
from sciddm.discrete._protocol import model_info
from sciddm.discrete._sampling import denoiser_probs, draw_seeds

__all__ = ["GuidanceResult", "RewardFn", "ValueFn", "child_seeds", "reward_name"]

# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, repr=False)
class GuidanceResult(Result):
    """Samples of a reward-guided decoder, their rewards and what they cost.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n, L)
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
    params : dict
        The method's knobs (M, alpha, K, N, steps, ...).
    ess : ndarray (n, steps + 1) or None
        SMC: effective sample size of each population after each step's reweighting.
    n_resamples : ndarray (n,) or None
        SMC: resampling events per population.
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

    def __init__(self, reward: Any, tokenizer: Any, decode: bool | None, what: str = "reward"):
        if not callable(reward):
            raise ValueError(f"`{what}` must be callable, got {type(reward).__name__}")
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

    def __init__(self, value_model: Any):
        if not callable(value_model):
            raise ValueError(f"`value_model` must be callable, got {type(value_model).__name__}")
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


def _seeds_iv(n: int, seeds: Any, rng: Any) -> np.ndarray:
    if seeds is not None:
        arr = np.asarray(list(seeds), dtype=np.int64)
        if arr.shape != (n,):
            raise ValueError(f"`seeds` must have {n} entries (one per sample), got {arr.size}")
        if (arr < 0).any():
            raise ValueError("`seeds` must be non-negative")
        return arr
    return draw_seeds(n, rng)


def _device(model: Any, device: Any) -> torch.device:
    if device is not None:
        return torch.device(device)
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


def _grid(steps: int, t_min: float) -> list[float]:
    """``linspace(1, t_min, steps + 1)`` then 0: the ancestral grid of :func:`sample`."""
    return [*torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64).tolist(), 0.0]


def _common_iv(
    model: Any, n: Any, length: Any, steps: Any, alpha: Any, t_min: Any, batch_size: Any
) -> tuple[Any, int, int, int, float, float, int]:
    info = model_info(model)
    n = check_int(n, "n", lo=1)
    if length is None:
        length = info.length
    if length is None:
        raise ValueError("`length` must be given for a model without a fixed `length`")
    length = check_int(length, "length", lo=1)
    steps = length if steps is None else check_int(steps, "steps", lo=1)
    alpha = check_scalar(alpha, "alpha", lo=0.0)
    t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="neither")
    bs = n if batch_size is None else check_int(batch_size, "batch_size", lo=1)
    return info, n, length, steps, alpha, t_min, bs


def _decode(model: Any, tokens: np.ndarray) -> list[str] | None:
    tok = getattr(model, "tokenizer", None)
    if tok is not None and hasattr(tok, "decode_batch"):
        return list(tok.decode_batch(tokens))
    return None


class _Counter:
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
