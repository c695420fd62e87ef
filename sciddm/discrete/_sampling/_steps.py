r"""Single steps of the reverse chain, shared by the samplers and the guidance methods.

:func:`denoiser_probs` (one network call, SUBS applied), :func:`transition_probs`
(the ancestral kernel :math:`q(x_s \mid x_t)`), :func:`sample_transition` (M
candidates from one network call) and :func:`predict_x0`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from sciddm._core.results import Result
from sciddm._core.rng import UNSET, RNGLike, renamed_rng
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._protocol import (
    Denoiser,
    call_model,
    check_tokens,
    model_info,
    resolve_schedule,
    subs_probs,
)
from sciddm.discrete._sampling._categorical import RowGenerator, categorical

__all__ = ["Transition", "denoiser_probs", "predict_x0", "sample_transition", "transition_probs"]

_PREC = {"float64": torch.float64, "float32": torch.float32}


def _time(t: Any, name: str, n: int, device: torch.device) -> torch.Tensor:
    """``t`` (float or (n,)) as a float64 tensor (n,) of finite times in [0, 1]."""
    try:
        tt = torch.as_tensor(t, dtype=torch.float64, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"`{name}` must be a number or a tensor of times: {exc}") from None
    if tt.ndim > 1 or (tt.ndim == 1 and tt.shape[0] not in (1, n)):
        raise ValueError(f"`{name}` must be a number or have shape ({n},), got {tuple(tt.shape)}")
    if not bool(torch.isfinite(tt).all()) or bool(((tt < 0) | (tt > 1)).any()):
        raise ValueError(f"`{name}` must be times in [0, 1]")
    return tt.expand(n)


def denoiser_probs(
    model: Denoiser,
    x_t: Any,
    t: torch.Tensor | float | None = None,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    r""":math:`p_\theta(x_0 \mid x_t)` after the SUBS projection, from one network call.

    Parameters
    ----------
    model : Denoiser
        The model.
    x_t : LongTensor (n, L)
        Partly masked sequences (ids in ``[0, vocab_size)``).
    t : float or Tensor (n,), optional
        Times in [0, 1], passed to the model only when it is ``time_conditioned``
        (required then).
    dtype : torch.dtype, default torch.float64
        ``torch.float64`` or ``torch.float32``.

    Returns
    -------
    Tensor (n, L, V)
        Rows of masked positions: the model's distribution with [MASK] and
        forbidden ids at zero (renormalised); rows of unmasked positions:
        one-hot at the current token (SUBS "carry-over").

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, Sec. 3.2 (SUBS).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, denoiser_probs
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> denoiser_probs(m, torch.tensor([[0, 2]])).tolist()
    [[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]]
    """
    info = model_info(model)
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"`dtype` must be torch.float64 or torch.float32, got {dtype}")
    x_t = check_tokens(x_t, info, "x_t", allow_mask=True)
    tt = None
    if info.time_conditioned:
        if t is None:
            raise ValueError("`t` is required for a time-conditioned model")
        tt = _time(t, "t", x_t.shape[0], x_t.device).to(torch.float32)
    out = call_model(model, info, x_t, tt)
    p = torch.zeros(*x_t.shape, info.vocab_size, dtype=dtype, device=x_t.device)
    masked = x_t == info.mask_id
    if masked.any():
        p[masked] = subs_probs(out[masked], info, dtype)
    unm = ~masked
    p[unm] = torch.nn.functional.one_hot(x_t[unm], info.vocab_size).to(dtype)
    return p


def _transition_iv(p_x0: Any, x_t: Any, mask_id: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
    if not isinstance(p_x0, torch.Tensor) or not p_x0.is_floating_point():
        raise TypeError("`p_x0` must be a floating-point tensor (n, L, V)")
    if p_x0.ndim != 3:
        raise ValueError(f"`p_x0` must have shape (n, L, V), got {tuple(p_x0.shape)}")
    x_t = torch.as_tensor(x_t, device=p_x0.device)
    if x_t.dtype.is_floating_point or x_t.dtype == torch.bool:
        raise TypeError(f"`x_t` must hold integer ids, got dtype {x_t.dtype}")
    if tuple(x_t.shape) != tuple(p_x0.shape[:2]):
        raise ValueError(
            f"`x_t` must have shape {tuple(p_x0.shape[:2])} (that of `p_x0` without V), "
            f"got {tuple(x_t.shape)}"
        )
    v = p_x0.shape[-1]
    mask_id = check_int(mask_id, "mask_id", lo=0, hi=v - 1)
    if x_t.numel() and (int(x_t.min()) < 0 or int(x_t.max()) >= v):
        raise ValueError(f"`x_t` must hold ids in [0, {v})")
    if not bool(torch.isfinite(p_x0).all()) or bool((p_x0 < 0).any()):
        raise ValueError("`p_x0` must hold finite, non-negative probabilities")
    return p_x0, x_t.long(), mask_id


def transition_probs(
    p_x0: torch.Tensor,
    x_t: torch.Tensor,
    t: float | torch.Tensor,
    s: float | torch.Tensor,
    *,
    mask_id: int,
    schedule: Any = None,
) -> torch.Tensor:
    r"""Ancestral transition :math:`q(x_s \mid x_t)` of every position, normalised.

    Parameters
    ----------
    p_x0 : Tensor (n, L, V)
        :math:`p_\theta(x_0 \mid x_t)` (e.g. from :func:`denoiser_probs`).
    x_t : LongTensor (n, L)
        The current sequences.
    t, s : float or Tensor (n,)
        Times with :math:`0 \le s < t \le 1`.
    mask_id : int
        Id of [MASK], in ``[0, V)``.
    schedule : object with ``alpha``, optional
        Log-linear (:math:`\alpha_t = 1 - (1 - 10^{-3}) t`) by default.

    Returns
    -------
    Tensor (n, L, V), same dtype as ``p_x0``
        Masked positions:
        :math:`p_{x_0} (\alpha_s - \alpha_t)/(1 - \alpha_t)` on the tokens and
        :math:`(1 - \alpha_s)/(1 - \alpha_t)` on [MASK]; unmasked positions:
        one-hot at :math:`x_t`.

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
    p_x0, x_t, mask_id = _transition_iv(p_x0, x_t, mask_id)
    sch = resolve_schedule(schedule)
    n = x_t.shape[0]
    dt = p_x0.dtype
    tt = _time(t, "t", n, p_x0.device)
    ss = _time(s, "s", n, p_x0.device)
    if bool((ss >= tt).any()):
        raise ValueError("`s` and `t` must satisfy 0 <= s < t <= 1")
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
    r"""Output of :func:`sample_transition`.

    Attributes
    ----------
    candidates : LongTensor (n, M, L)
        M independent draws of :math:`x_s` per row.
    probs : Tensor (n, L, V)
        :math:`q(x_s \mid x_t)` (float64).
    p_x0 : Tensor (n, L, V)
        :math:`p_\theta(x_0 \mid x_t)` of the same network call.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, RowGenerator, sample_transition
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> tr = sample_transition(m, torch.full((1, 2), 2), 1.0, 0.5, n_candidates=3,
    ...                        rng=RowGenerator([0]))
    >>> tuple(tr.candidates.shape), tuple(tr.probs.shape)
    ((1, 3, 2), (1, 2, 3))
    """

    candidates: torch.Tensor
    probs: torch.Tensor
    p_x0: torch.Tensor


def sample_transition(
    model: Denoiser,
    x_t: Any,
    t: float,
    s: float,
    *,
    n_candidates: int = 1,
    rng: RowGenerator | RNGLike = None,
    precision: str = "float64",
    schedule: Any = None,
    generator: Any = UNSET,
) -> Transition:
    r"""Draw ``n_candidates`` ancestral successors :math:`x_s` of each row from ONE network call.

    This is the proposal step of SVDD (Li et al. 2024, Alg. 1, line 3): the
    ``M`` candidates are independent given :math:`x_t` and share the network call.

    Parameters
    ----------
    model : Denoiser
        The model.
    x_t : LongTensor (n, L)
        The current sequences.
    t, s : float
        Times with :math:`0 \le s < t \le 1`.
    n_candidates : int, default 1
        Candidates ``M`` per row (1 to 100000).
    rng : RowGenerator (n rows), torch.Generator, numpy.random.Generator, int or None
        With a :class:`RowGenerator`, the candidates of row ``i`` depend only
        on its stream (see :func:`categorical`).
    precision : {"float64", "float32"}, default "float64"
        Categorical draws (see :func:`categorical`).
    schedule : optional
        Log-linear by default.
    generator : optional
        Deprecated spelling of ``rng``.

    Returns
    -------
    Transition
        The candidates, :math:`q(x_s \mid x_t)` and :math:`p_\theta(x_0 \mid x_t)`.

    References
    ----------
    .. [1] X. Li et al., "Derivative-free guidance in continuous and discrete
       diffusion models with soft value-based decoding", arXiv:2408.08252
       (2024), Alg. 1.

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
    m = check_int(n_candidates, "n_candidates", lo=1, hi=100_000)
    check_choice(precision, "precision", tuple(_PREC))
    info = model_info(model)
    x_t = check_tokens(x_t, info, "x_t", allow_mask=True)
    for name, val in (("t", t), ("s", s)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise TypeError(f"`{name}` must be a finite number, got {val!r}")
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
    r"""Clean-sequence estimate :math:`\hat x_0(x_t)`: masked positions filled, unmasked copied.

    Parameters
    ----------
    p_x0 : Tensor (..., L, V)
        :math:`p_\theta(x_0 \mid x_t)`.
    x_t : LongTensor (..., L)
        The current sequences (the shape of ``p_x0`` without V).
    mask_id : int
        Id of [MASK].
    mode : {"argmax", "sample"}, default "argmax"
        The most probable token of each masked position (SVDD-PM's
        :math:`\hat x_0`), or an independent draw of each.
    rng : RowGenerator, torch.Generator, numpy.random.Generator, int or None
        Random source of ``mode="sample"`` (see :func:`categorical`).
    precision : {"float64", "float32"}, default "float64"
        Categorical draws of ``mode="sample"``.
    generator : optional
        Deprecated spelling of ``rng``.

    Returns
    -------
    LongTensor, shape of ``x_t``
        :math:`\hat x_0`.

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
    if not isinstance(p_x0, torch.Tensor) or not p_x0.is_floating_point() or p_x0.ndim < 2:
        raise TypeError("`p_x0` must be a floating-point tensor (..., L, V)")
    x_t = torch.as_tensor(x_t, device=p_x0.device)
    if tuple(x_t.shape) != tuple(p_x0.shape[:-1]) or x_t.dtype.is_floating_point:
        raise ValueError(
            f"`x_t` must be integer ids of shape {tuple(p_x0.shape[:-1])}, got "
            f"{x_t.dtype} {tuple(x_t.shape)}"
        )
    mask_id = check_int(mask_id, "mask_id", lo=0, hi=p_x0.shape[-1] - 1)
    if mode == "argmax":
        fill = p_x0.argmax(-1)
    else:
        fill = categorical(p_x0, rng=rng, precision=precision)
    return torch.where(x_t == mask_id, fill, x_t)
