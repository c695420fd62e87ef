r"""The masked-diffusion denoiser protocol accepted by every sampler.

A *denoiser* is any object with

* ``vocab_size: int``, the number of token ids, the mask token included;
* ``mask_id: int``, the id of [MASK];
* ``length: int | None``, a fixed sequence length, if any (optional);
* ``time_conditioned: bool``, whether ``__call__`` uses ``t`` (optional,
  default False);
* ``__call__(x_t, t=None)``: ``x_t`` a LongTensor (n, L), ``t`` a float
  tensor (n,) passed only when ``time_conditioned``; returns a float tensor
  (n, L, vocab_size) of unnormalised logits of :math:`p_\theta(x_0 \mid x_t)`;
* optionally ``output`` in {"logits", "log_probs", "probs"} (default
  "logits"), ``tokenizer`` with ``decode_batch``, and ``forbidden_ids``
  (ids that must never be produced, e.g. PAD/BOS).

The samplers and the NELBO apply the SUBS projection themselves: the [MASK]
and forbidden logits are set to :math:`-\infty` (the distribution is
renormalised over the allowed ids) and already unmasked positions are
copied, so a model need not do it.
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
    "check_path",
    "check_tokens",
    "model_info",
    "resolve_device",
    "resolve_schedule",
    "subs_log_probs",
    "subs_probs",
]

_OUTPUTS = ("logits", "log_probs", "probs")


@runtime_checkable
class Denoiser(Protocol):
    r"""Structural type of a masked-diffusion denoiser.

    Any object with the two read-only attributes below and a ``__call__``
    returning :math:`p_\theta(x_0 \mid x_t)` as logits of shape
    ``(n, L, vocab_size)`` is a denoiser; optional attributes (``length``,
    ``time_conditioned``, ``output``, ``forbidden_ids``, ``tokenizer``) are
    described in :mod:`sciddm.discrete` and read by :func:`model_info`.
    :class:`~sciddm.discrete.MDLM` and :class:`FunctionModel` are denoisers.

    Attributes
    ----------
    vocab_size : int
        Number of token ids, [MASK] included.
    mask_id : int
        Id of [MASK].

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import Denoiser, FunctionModel
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> isinstance(m, Denoiser), isinstance(object(), Denoiser)
    (True, False)
    """

    @property
    def vocab_size(self) -> int: ...

    @property
    def mask_id(self) -> int: ...

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor: ...


class FunctionModel:
    """Wrap a plain function as a :class:`Denoiser`.

    Parameters
    ----------
    fn : callable
        ``fn(x_t)`` (or ``fn(x_t, t)`` when ``time_conditioned``) returning a
        tensor or array of shape (n, L, vocab_size).
    vocab_size : int
        Number of ids, the mask included (>= 2).
    mask_id : int
        Id of [MASK], in ``[0, vocab_size)``.
    length : int, optional
        Fixed sequence length.
    time_conditioned : bool, default False
        Whether ``fn`` takes the time ``t`` as second argument.
    output : {"logits", "log_probs", "probs"}, default "logits"
        What ``fn`` returns. Probabilities must be non-negative and sum to one
        over the last axis; the samplers and the NELBO check it.
    forbidden_ids : sequence of int, default ()
        Ids that are never produced (besides [MASK]).
    tokenizer : object with ``decode_batch``, optional
        Used to decode samples into ``texts``.

    Attributes
    ----------
    fn, vocab_size, mask_id, length, time_conditioned, output, forbidden_ids, tokenizer
        The validated arguments.

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
    ) -> None:
        if not callable(fn):
            raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.vocab_size = check_int(vocab_size, "vocab_size", lo=2)
        self.mask_id = check_int(mask_id, "mask_id", lo=0, hi=self.vocab_size - 1)
        self.length = None if length is None else check_int(length, "length", lo=1)
        self.time_conditioned = bool(time_conditioned)
        self.output = check_choice(output, "output", _OUTPUTS)
        if isinstance(forbidden_ids, (str, bytes)) or not np.iterable(forbidden_ids):
            raise TypeError(f"`forbidden_ids` must be a sequence of ids, got {forbidden_ids!r}")
        self.forbidden_ids = tuple(
            check_int(i, "forbidden_ids", lo=0, hi=self.vocab_size - 1) for i in forbidden_ids
        )
        if len({self.mask_id, *self.forbidden_ids}) >= self.vocab_size:
            raise ValueError("`forbidden_ids` and the mask leave no token to sample")
        self.tokenizer = tokenizer

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """``fn(x_t)`` (or ``fn(x_t, t)``) as a tensor on ``x_t``'s device."""
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
    """Validated attributes of a denoiser (what :func:`model_info` returns).

    Attributes
    ----------
    vocab_size : int
        Number of token ids, [MASK] included.
    mask_id : int
        Id of [MASK].
    length : int or None
        Fixed sequence length, if any.
    time_conditioned : bool
        Whether the model takes ``t``.
    output : {"logits", "log_probs", "probs"}
        What the model returns.
    forbidden_ids : tuple of int
        Ids never produced besides [MASK].

    Examples
    --------
    >>> from sciddm.discrete import ModelInfo
    >>> ModelInfo(5, 4, None, False, "logits", (0,)).banned
    (0, 4)
    """

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

    Parameters
    ----------
    model : object
        The object to check.

    Returns
    -------
    ModelInfo
        Its validated attributes, optional ones filled with their defaults.

    Raises
    ------
    TypeError
        If ``model`` is not callable or lacks ``vocab_size`` / ``mask_id``.
    ValueError
        If an attribute is out of range.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, model_info
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 4), vocab_size=4, mask_id=3, length=5)
    >>> model_info(m).length, model_info(m).output
    (5, 'logits')
    >>> model_info(object())
    Traceback (most recent call last):
    ...
    TypeError: `model` must be callable and have `vocab_size` and `mask_id` (the denoiser protocol); got object
    """
    if not (callable(model) and hasattr(model, "vocab_size") and hasattr(model, "mask_id")):
        raise TypeError(
            "`model` must be callable and have `vocab_size` and `mask_id` (the denoiser "
            f"protocol); got {type(model).__name__}"
        )
    v = check_int(model.vocab_size, "model.vocab_size", lo=2)
    m = check_int(model.mask_id, "model.mask_id", lo=0, hi=v - 1)
    length = getattr(model, "length", None)
    length = None if length is None else check_int(length, "model.length", lo=1)
    output = check_choice(getattr(model, "output", "logits"), "model.output", _OUTPUTS)
    forb = tuple(
        check_int(i, "model.forbidden_ids", lo=0, hi=v - 1)
        for i in (getattr(model, "forbidden_ids", None) or ())
    )
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


def subs_log_probs(
    out: torch.Tensor, info: ModelInfo, dtype: torch.dtype = torch.float32, *, check: bool = True
) -> torch.Tensor:
    """SUBS projection in log space: ``log p_theta(x0 | x_t)`` renormalised without the
    [MASK] and forbidden ids (at ``-inf``), for any declared ``output`` kind.

    The same law as :func:`subs_probs` (what the samplers draw from), kept
    differentiable for the NELBO. With ``check`` the raw output is validated
    first (:func:`check_output`), and a position that gives zero probability
    to every allowed token raises ValueError.
    """
    if check:
        check_output(out, info)
    z = out.to(dtype)
    if info.output == "probs":
        z = z.clamp_min(0).log()
    banned = torch.tensor(info.banned, device=z.device)
    z = z.index_fill(-1, banned, float("-inf"))
    if check and bool(torch.isneginf(z).all(-1).any()):
        raise ValueError(
            "the model gives zero probability to every allowed token at some masked position"
        )
    return torch.log_softmax(z, dim=-1)


def check_tokens(x: Any, info: ModelInfo, name: str, *, allow_mask: bool = False) -> torch.Tensor:
    """``x`` as a LongTensor (n, L) of ids, checked against the model before any work.

    Raises TypeError for non-integer input and ValueError naming ``name`` for a
    wrong shape, an id outside ``[0, vocab_size)``, [MASK] (unless
    ``allow_mask``), a forbidden id, or a length other than ``model.length``.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of token ids, got {type(x).__name__}")
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"`{name}` must be an array of token ids: {exc}") from None
    if x.dtype == torch.bool or x.dtype.is_floating_point or x.dtype.is_complex:
        raise TypeError(f"`{name}` must hold integer token ids, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"`{name}` must have shape (n, L) with n, L >= 1, got {tuple(x.shape)}")
    if info.length is not None and x.shape[1] != info.length:
        raise ValueError(f"`{name}` must have L = model.length = {info.length}, got {x.shape[1]}")
    x = x.long()
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi >= info.vocab_size:
        raise ValueError(
            f"`{name}` must hold ids in [0, {info.vocab_size}) (model.vocab_size), "
            f"got values in [{lo}, {hi}]"
        )
    if not allow_mask and bool((x == info.mask_id).any()):
        raise ValueError(f"`{name}` must not contain the [MASK] id {info.mask_id}")
    for i in info.forbidden_ids:
        if not (allow_mask and i == info.mask_id) and bool((x == i).any()):
            raise ValueError(
                f"`{name}` contains id {i}, which the model forbids (model.forbidden_ids): "
                "such sequences have probability 0 under the sampled law"
            )
    return x


def resolve_schedule(schedule: Any) -> Any:
    """The schedule to use: log-linear by default; otherwise checked for ``alpha``/``alpha_inv``."""
    if schedule is None:
        return LogLinearSchedule()
    if not (hasattr(schedule, "alpha") and hasattr(schedule, "alpha_inv")):
        raise ValueError("`schedule` must have methods `alpha(t)` and `alpha_inv(a)`")
    return schedule


def resolve_length(info: ModelInfo, length: Any, name: str = "model") -> int:
    """The sequence length: ``length``, or the model's fixed one when it is None; checked
    against the model's fixed length (``name`` is the model's argument name in messages)."""
    if length is None:
        if info.length is None:
            raise ValueError(f"`length` is required when the {name} has no fixed `length`")
        length = info.length
    length = check_int(length, "length", lo=1)
    if info.length is not None and length != info.length:
        raise ValueError(f"`length` must equal {name}.length = {info.length}, got {length}")
    return length


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


def check_path(path: Any, name: str = "path") -> str:
    """``path`` as a str; TypeError naming ``name`` when it is not a path."""
    import os

    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path):
        raise TypeError(f"`{name}` must be a non-empty path, got {path!r}")
    return os.fspath(path)
