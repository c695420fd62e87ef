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

from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._categorical import RowGenerator, categorical
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = [
    "Denoiser",
    "FunctionModel",
    "ModelInfo",
    "Transition",
    "denoiser_probs",
    "model_info",
    "predict_x0",
    "sample_transition",
    "transition_probs",
]

_OUTPUTS = ("logits", "log_probs", "probs")
_PREC = {"float64": torch.float64, "float32": torch.float32}


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


# --------------------------------------------------------------------------- primitives


def denoiser_probs(
    model: Any,
    x_t: torch.Tensor,
    t: torch.Tensor | float | None = None,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """``p_theta(x0 | x_t)`` after the SUBS projection, from one network call.

    Parameters
    ----------
    model : Denoiser
    x_t : LongTensor of shape (n, L)
    t : float or Tensor (n,), optional
        Passed to the model only when it is ``time_conditioned`` (required then).
    dtype : torch.dtype, default float64

    Returns
    -------
    Tensor (n, L, V)
        Rows of masked positions: the model's distribution with [MASK] and
        forbidden ids at zero; rows of unmasked positions: one-hot at the
        current token (SUBS "carry-over").

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, denoiser_probs
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> denoiser_probs(m, torch.tensor([[0, 2]])).tolist()
    [[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]]
    """
    info = model_info(model)
    x_t = torch.as_tensor(x_t)
    if x_t.ndim != 2:
        raise ValueError(f"`x_t` must have shape (n, L), got {tuple(x_t.shape)}")
    tt = None
    if info.time_conditioned:
        if t is None:
            raise ValueError("`t` is required for a time-conditioned model")
        tt = torch.as_tensor(t, dtype=torch.float32, device=x_t.device).expand(x_t.shape[0])
    out = call_model(model, info, x_t, tt)
    p = torch.zeros(*x_t.shape, info.vocab_size, dtype=dtype, device=x_t.device)
    masked = x_t == info.mask_id
    if masked.any():
        p[masked] = subs_probs(out[masked], info, dtype)
    unm = ~masked
    p[unm] = torch.nn.functional.one_hot(x_t[unm], info.vocab_size).to(dtype)
    return p


def transition_probs(
    p_x0: torch.Tensor,
    x_t: torch.Tensor,
    t: float | torch.Tensor,
    s: float | torch.Tensor,
    *,
    mask_id: int,
    schedule: Any = None,
) -> torch.Tensor:
    """Ancestral transition ``q(x_s | x_t)`` of every position, normalised.

    Parameters
    ----------
    p_x0 : Tensor (n, L, V)
        ``p_theta(x0 | x_t)`` (e.g. from :func:`denoiser_probs`).
    x_t : LongTensor (n, L)
    t, s : float or Tensor (n,)
        Times with ``0 <= s < t <= 1``.
    mask_id : int
    schedule : object with ``alpha``, optional
        Log-linear (``alpha_t = 1 - (1 - 1e-3) t``) by default.

    Returns
    -------
    Tensor (n, L, V), same dtype as ``p_x0``
        Masked positions: ``p_x0 (alpha_s - alpha_t)/(1 - alpha_t)`` on the
        tokens and ``(1 - alpha_s)/(1 - alpha_t)`` on [MASK]; unmasked
        positions: one-hot at ``x_t``.

    References
    ----------
    .. [1] Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, eq. (7) and Alg. 2 (``ddpm`` update).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import LogLinearSchedule, transition_probs
    >>> p = torch.tensor([[[0.25, 0.75, 0.0]]], dtype=torch.float64)
    >>> x_t = torch.tensor([[2]])
    >>> q = transition_probs(p, x_t, 1.0, 0.5, mask_id=2, schedule=LogLinearSchedule(0.0))
    >>> q.tolist()
    [[[0.125, 0.375, 0.5]]]
    """
    sch = resolve_schedule(schedule)
    n = x_t.shape[0]
    dt = p_x0.dtype
    tt = torch.as_tensor(t, dtype=torch.float64, device=p_x0.device).expand(n)
    ss = torch.as_tensor(s, dtype=torch.float64, device=p_x0.device).expand(n)
    if (ss >= tt).any() or (ss < 0).any() or (tt > 1).any():
        raise ValueError("times must satisfy 0 <= s < t <= 1")
    a_t, a_s = sch.alpha(tt), sch.alpha(ss)
    move = ((a_s - a_t) / (1 - a_t)).to(dt)[:, None, None]
    stay = ((1 - a_s) / (1 - a_t)).to(dt)[:, None]
    q = p_x0 * move
    q[..., mask_id] = stay.expand(n, x_t.shape[1])
    unm = x_t != mask_id
    q[unm] = torch.nn.functional.one_hot(x_t[unm], p_x0.shape[-1]).to(dt)
    return q


@dataclasses.dataclass(frozen=True, repr=False)
class Transition(Result):
    """Output of :func:`sample_transition`.

    Attributes
    ----------
    candidates : LongTensor (n, M, L)
        M independent draws of ``x_s`` per row.
    probs : Tensor (n, L, V)
        ``q(x_s | x_t)`` (float64).
    p_x0 : Tensor (n, L, V)
        ``p_theta(x0 | x_t)`` of the same network call.
    """

    candidates: torch.Tensor
    probs: torch.Tensor
    p_x0: torch.Tensor


def sample_transition(
    model: Any,
    x_t: torch.Tensor,
    t: float,
    s: float,
    *,
    n_candidates: int = 1,
    generator: RowGenerator | torch.Generator | None = None,
    precision: str = "float64",
    schedule: Any = None,
) -> Transition:
    """Draw ``n_candidates`` ancestral successors ``x_s`` of each row from ONE network call.

    This is the proposal step of SVDD (Li et al. 2024, Alg. 1, line 3): the
    ``M`` candidates are independent given ``x_t`` and share the network call.

    Parameters
    ----------
    model : Denoiser
    x_t : LongTensor (n, L)
    t, s : float
        ``0 <= s < t <= 1``.
    n_candidates : int, default 1
    generator : RowGenerator (n rows), torch.Generator or None
        With a :class:`RowGenerator`, the candidates of row ``i`` depend only on its stream.
    precision : {"float64", "float32"}
    schedule : optional

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, RowGenerator, sample_transition
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> tr = sample_transition(m, torch.full((2, 4), 2), 1.0, 0.0, n_candidates=5,
    ...                        generator=RowGenerator([0, 1]))
    >>> tr.candidates.shape, bool((tr.candidates != 2).all())
    (torch.Size([2, 5, 4]), True)
    """
    m = check_int(n_candidates, "n_candidates", lo=1)
    check_choice(precision, "precision", tuple(_PREC))
    x_t = torch.as_tensor(x_t)
    info = model_info(model)
    p = denoiser_probs(model, x_t, t, dtype=torch.float64)
    q = transition_probs(p, x_t, t, s, mask_id=info.mask_id, schedule=schedule)
    qm = q[:, None].expand(q.shape[0], m, *q.shape[1:])
    cand = categorical(qm, generator=generator, precision=precision)
    return Transition(candidates=cand, probs=q, p_x0=p)


def predict_x0(
    p_x0: torch.Tensor,
    x_t: torch.Tensor,
    *,
    mask_id: int,
    mode: str = "argmax",
    generator: RowGenerator | torch.Generator | None = None,
    precision: str = "float64",
) -> torch.Tensor:
    """Clean-sequence estimate ``x̂0(x_t)``: masked positions filled, unmasked copied.

    ``mode="argmax"`` takes the most probable token of ``p_x0`` at each masked
    position (SVDD-PM's ``x̂0``); ``mode="sample"`` draws each independently.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import predict_x0
    >>> p = torch.tensor([[[0.2, 0.8, 0.0], [0.9, 0.1, 0.0]]])
    >>> predict_x0(p, torch.tensor([[2, 1]]), mask_id=2).tolist()
    [[1, 1]]
    """
    check_choice(mode, "mode", ("argmax", "sample"))
    if mode == "argmax":
        fill = p_x0.argmax(-1)
    else:
        fill = categorical(p_x0, generator=generator, precision=precision)
    return torch.where(x_t == mask_id, fill, x_t)
