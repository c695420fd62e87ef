"""The masked-diffusion denoiser protocol accepted by every sampler.

A *denoiser* is any object with

* ``vocab_size: int`` — number of token ids, the mask token included;
* ``mask_id: int`` — the id of [MASK];
* ``length: int | None`` — fixed sequence length, if any (optional);
* ``time_conditioned: bool`` — whether ``__call__`` uses ``t`` (optional,
  default False);
* ``__call__(x_t, t=None)`` — ``x_t`` a LongTensor (n, L), ``t`` a float
  tensor (n,) passed only when ``time_conditioned``; returns a float tensor
  (n, L, vocab_size) of unnormalised logits of ``p_theta(x0 | x_t)``;
* optionally ``output`` in {"logits", "log_probs", "probs"} (default
  "logits"), ``tokenizer`` with ``decode_batch``, and ``forbidden_ids``
  (ids that must never be produced, e.g. PAD/BOS).

The samplers apply the SUBS projection themselves: the [MASK] and forbidden
logits are set to ``-inf`` and already unmasked positions are copied, so a
model need not do it.

The single-step primitives that samplers and guidance methods (SVDD, SMC)
share live here: :func:`denoiser_probs` (one network call, SUBS applied),
:func:`transition_probs` (the ancestral kernel ``q(x_s | x_t)``),
:func:`sample_transition` (M candidates from one network call) and
:func:`predict_x0`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = [
    "Denoiser",
    "FunctionModel",
    "ModelInfo",
    "call_model",
    "check_output",
    "model_info",
    "resolve_device",
    "resolve_schedule",
    "subs_probs",
]

_OUTPUTS = ("logits", "log_probs", "probs")


@runtime_checkable
class Denoiser(Protocol):
    """Structural type of a masked-diffusion denoiser (see the module docstring)."""

    vocab_size: int
    mask_id: int

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor: ...


class FunctionModel:
    """Wrap a plain function as a :class:`Denoiser`.

    Parameters
    ----------
    fn : callable
        ``fn(x_t)`` (or ``fn(x_t, t)`` when ``time_conditioned``) returning a
        tensor or array of shape (n, L, vocab_size).
    vocab_size : int
        Number of ids, the mask included.
    mask_id : int
        Id of [MASK].
    length : int, optional
        Fixed sequence length.
    time_conditioned : bool, default False
    output : {"logits", "log_probs", "probs"}, default "logits"
        What ``fn`` returns. Probabilities must be non-negative and sum to one
        over the last axis; the samplers check it.
    forbidden_ids : sequence of int, default ()
    tokenizer : object with ``decode_batch``, optional

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel
    >>> uniform = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> uniform(torch.full((1, 4), 2)).shape
    torch.Size([1, 4, 3])
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        vocab_size: int,
        mask_id: int,
        *,
        length: int | None = None,
        time_conditioned: bool = False,
        output: str = "logits",
        forbidden_ids: Sequence[int] = (),
        tokenizer: Any = None,
    ):
        if not callable(fn):
            raise ValueError(f"`fn` must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.vocab_size = check_int(vocab_size, "vocab_size", lo=2)
        self.mask_id = check_int(mask_id, "mask_id", lo=0, hi=self.vocab_size - 1)
        self.length = None if length is None else check_int(length, "length", lo=1)
        self.time_conditioned = bool(time_conditioned)
        self.output = check_choice(output, "output", _OUTPUTS)
        self.forbidden_ids = tuple(int(i) for i in forbidden_ids)
        self.tokenizer = tokenizer

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        out = self.fn(x_t, t) if self.time_conditioned else self.fn(x_t)
        if not isinstance(out, torch.Tensor):
            out = torch.as_tensor(np.asarray(out), device=x_t.device)
        return out

    def __repr__(self) -> str:
        return (
            f"FunctionModel(vocab_size={self.vocab_size}, mask_id={self.mask_id}, "
            f"length={self.length}, time_conditioned={self.time_conditioned}, "
            f"output={self.output!r})"
        )


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Validated attributes of a denoiser."""

    vocab_size: int
    mask_id: int
    length: int | None
    time_conditioned: bool
    output: str
    forbidden_ids: tuple[int, ...]

    @property
    def banned(self) -> tuple[int, ...]:
        """Ids a sampler never produces: the mask and the forbidden ones."""
        return tuple(sorted({self.mask_id, *self.forbidden_ids}))


def model_info(model: Any) -> ModelInfo:
    """Check that ``model`` satisfies the :class:`Denoiser` protocol and return its attributes.

    Examples
    --------
    >>> from sciddm.discrete import model_info
    >>> model_info(object())
    Traceback (most recent call last):
    ...
    ValueError: `model` must be callable and have `vocab_size` and `mask_id` (the denoiser protocol); got object
    """
    if not (callable(model) and hasattr(model, "vocab_size") and hasattr(model, "mask_id")):
        raise ValueError(
            "`model` must be callable and have `vocab_size` and `mask_id` (the denoiser "
            f"protocol); got {type(model).__name__}"
        )
    v = check_int(model.vocab_size, "model.vocab_size", lo=2)
    m = check_int(model.mask_id, "model.mask_id", lo=0, hi=v - 1)
    length = getattr(model, "length", None)
    length = None if length is None else check_int(length, "model.length", lo=1)
    output = check_choice(getattr(model, "output", "logits"), "model.output", _OUTPUTS)
    forb = tuple(int(i) for i in (getattr(model, "forbidden_ids", None) or ()))
    for i in forb:
        if not 0 <= i < v:
            raise ValueError(f"`model.forbidden_ids` must be ids in [0, {v}), got {i}")
    if len({m, *forb}) >= v:
        raise ValueError("`model.forbidden_ids` and the mask leave no token to sample")
    return ModelInfo(v, m, length, bool(getattr(model, "time_conditioned", False)), output, forb)


def check_output(out: torch.Tensor, info: ModelInfo) -> None:
    """Raise ValueError if model output ``out`` (..., V) has NaN, +inf or is not normalised
    as its declared ``output`` kind requires."""
    if torch.isnan(out).any():
        raise ValueError("the model returned NaN")
    if info.output == "probs":
        if not torch.isfinite(out).all():
            raise ValueError("the model returned non-finite probabilities (inf)")
        if (out < 0).any():
            raise ValueError(
                f"the model returned negative probabilities (min {float(out.min()):.3g})"
            )
        err = float((out.to(torch.float64).sum(-1) - 1).abs().max()) if out.numel() else 0.0
        if err > 1e-4:
            raise ValueError(
                f"the model returned unnormalised probabilities (sums off by up to {err:.3g}); "
                "normalise them or declare output='logits'"
            )
    else:
        if torch.isposinf(out).any():
            raise ValueError("the model returned +inf logits")
        if info.output == "log_probs" and out.numel():
            err = float(torch.logsumexp(out.to(torch.float64), -1).abs().max())
            if err > 1e-4:
                raise ValueError(
                    f"the model returned unnormalised log-probabilities (logsumexp off by up to "
                    f"{err:.3g}); normalise them or declare output='logits'"
                )


def call_model(
    model: Any, info: ModelInfo, x: torch.Tensor, t: torch.Tensor | None, *, check: bool = True
) -> torch.Tensor:
    """Call ``model`` and check its output (shape; with ``check`` also values).

    Returns the raw output. The samplers check the whole output of their
    first call and, afterwards, the rows they use (in :func:`subs_probs`),
    so a bad model fails before anything is sampled from its output.
    """
    with torch.no_grad():
        out = model(x, t) if info.time_conditioned else model(x)
    if not isinstance(out, torch.Tensor):
        out = torch.as_tensor(np.asarray(out), device=x.device)
    want = (*x.shape, info.vocab_size)
    if tuple(out.shape) != want:
        raise ValueError(
            f"the model must return shape {want} (n, L, vocab_size), got {tuple(out.shape)}"
        )
    if not out.is_floating_point():
        out = out.to(torch.float32)
    if check:
        check_output(out, info)
    return out


def subs_probs(
    out: torch.Tensor, info: ModelInfo, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """SUBS projection: ``p_theta(x0 | x_t)`` with [MASK] and forbidden ids at zero.

    ``out`` is raw model output (..., V) for masked positions (checked with
    :func:`check_output`); the result is normalised over the last axis in
    ``dtype``. Raises if a position gives zero probability to every allowed token.
    """
    check_output(out, info)
    z = out.to(dtype)
    if info.output == "probs":
        z = z.clamp_min(0).log()
    z = z.clone()
    z[..., list(info.banned)] = float("-inf")
    bad = torch.isneginf(z).all(-1)
    if bad.any():
        raise ValueError(
            "the model gives zero probability to every allowed token at some masked position"
        )
    return torch.softmax(z, dim=-1)


def resolve_schedule(schedule: Any) -> Any:
    if schedule is None:
        return LogLinearSchedule()
    if not (hasattr(schedule, "alpha") and hasattr(schedule, "alpha_inv")):
        raise ValueError("`schedule` must have methods `alpha(t)` and `alpha_inv(a)`")
    return schedule


def resolve_device(model: Any, device: Any = None) -> torch.device:
    """``device`` as a :class:`torch.device`; by default that of the model's parameters, else CPU."""
    if device is not None:
        try:
            return torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"`device` must be a torch device such as 'cpu' or 'cuda:0', got {device!r}"
            ) from exc
    if isinstance(model, torch.nn.Module):
        for prm in model.parameters():
            return prm.device
    return torch.device("cpu")
