"""Single steps of the reverse chain, shared by the samplers and the guidance methods.

:func:`denoiser_probs` (one network call, SUBS applied), :func:`transition_probs`
(the ancestral kernel ``q(x_s | x_t)``), :func:`sample_transition` (M candidates
from one network call) and :func:`predict_x0`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from sciddm._core.results import Result
from sciddm._core.rng import UNSET, RNGLike, renamed_rng
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._protocol import call_model, model_info, resolve_schedule, subs_probs
from sciddm.discrete._sampling._categorical import RowGenerator, categorical

__all__ = ["Transition", "denoiser_probs", "predict_x0", "sample_transition", "transition_probs"]

_PREC = {"float64": torch.float64, "float32": torch.float32}


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
    rng: RowGenerator | RNGLike = None,
    precision: str = "float64",
    schedule: Any = None,
    generator: Any = UNSET,
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
    rng : RowGenerator (n rows), torch.Generator, numpy.random.Generator, int or None
        With a :class:`RowGenerator`, the candidates of row ``i`` depend only
        on its stream (see :func:`categorical`).
    precision : {"float64", "float32"}
    schedule : optional

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, RowGenerator, sample_transition
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> tr = sample_transition(m, torch.full((2, 4), 2), 1.0, 0.0, n_candidates=5,
    ...                        rng=RowGenerator([0, 1]))
    >>> tr.candidates.shape, bool((tr.candidates != 2).all())
    (torch.Size([2, 5, 4]), True)
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_transition")
    m = check_int(n_candidates, "n_candidates", lo=1)
    check_choice(precision, "precision", tuple(_PREC))
    x_t = torch.as_tensor(x_t)
    info = model_info(model)
    p = denoiser_probs(model, x_t, t, dtype=torch.float64)
    q = transition_probs(p, x_t, t, s, mask_id=info.mask_id, schedule=schedule)
    qm = q[:, None].expand(q.shape[0], m, *q.shape[1:])
    cand = categorical(qm, rng=rng, precision=precision)
    return Transition(candidates=cand, probs=q, p_x0=p)


def predict_x0(
    p_x0: torch.Tensor,
    x_t: torch.Tensor,
    *,
    mask_id: int,
    mode: str = "argmax",
    rng: RowGenerator | RNGLike = None,
    precision: str = "float64",
    generator: Any = UNSET,
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
    rng = renamed_rng(rng, generator, "generator", func="predict_x0")
    check_choice(mode, "mode", ("argmax", "sample"))
    if mode == "argmax":
        fill = p_x0.argmax(-1)
    else:
        fill = categorical(p_x0, rng=rng, precision=precision)
    return torch.where(x_t == mask_id, fill, x_t)
