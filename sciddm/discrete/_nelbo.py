"""The continuous-time NELBO of masked diffusion models (MDLM).

A masked diffusion model learns ``p_theta(x0 | x_t)`` for sequences ``x_t`` in
which each token of ``x0`` was replaced by [MASK] with probability ``m_t``
(:class:`~sciddm.discrete.LogLinearSchedule`). Training minimises the
continuous-time negative ELBO of Sahoo et al. (2024),

.. math:: \\mathcal L(x_0) = \\int_0^1 \\frac{-\\alpha'_t}{1-\\alpha_t}\\,
   \\mathbb E_{q(x_t\\mid x_0)} \\sum_{\\ell:\\,x_t^\\ell=\\mathrm{[M]}}
   -\\log p_\\theta(x_0^\\ell \\mid x_t)\\,dt,

with the SUBS parameterisation (the [MASK] logit is ``-inf``; unmasked
positions are copied and cost nothing).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, torch_generator
from sciddm._core.validation import check_int
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = [
    "NelboResult",
    "evaluate_nelbo",
    "exact_nelbo",
    "nelbo",
    "nelbo_terms",
    "sample_training_noise",
    "unigram_bits_per_token",
]


def sample_training_noise(
    n: int,
    length: int,
    *,
    generator: torch.Generator | None = None,
    antithetic: bool = True,
    device: Any = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw the times ``t`` (n,) in (0, 1] and uniforms ``u`` (n, L) of a NELBO estimate.

    With ``antithetic=True`` the times are the low-discrepancy (stratified)
    sample of MDLM: ``t_i = 1 - ((u0 + i / n) mod 1)`` with one uniform
    ``u0``, so exactly one ``t_i`` falls in each interval ``((j-1)/n, j/n]``.
    Position ``l`` of row ``i`` is masked when ``u[i, l] < m_{t_i}``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import sample_training_noise
    >>> t, u = sample_training_noise(4, 3, generator=torch.Generator().manual_seed(0))
    >>> sorted((t * 4).ceil().int().tolist())
    [1, 2, 3, 4]
    """
    gen_dev = generator.device if generator is not None else torch.device(device)
    if antithetic:
        u0 = torch.rand((), generator=generator, device=gen_dev, dtype=torch.float64)
        t = 1.0 - torch.remainder(u0 + torch.arange(n, device=gen_dev) / n, 1.0)
    else:
        t = 1.0 - torch.rand(n, generator=generator, device=gen_dev, dtype=torch.float64)
    u = torch.rand((n, length), generator=generator, device=gen_dev)
    return t.to(device=device, dtype=torch.float32), u.to(device)


def nelbo_terms(
    model: Callable[..., torch.Tensor],
    x0: torch.Tensor,
    t: torch.Tensor,
    u: torch.Tensor,
    schedule: LogLinearSchedule,
    *,
    mask_id: int,
    time_cond: bool,
) -> torch.Tensor:
    masked = u < schedule.mask_prob(t).to(u.dtype)[:, None]
    x_t = torch.where(masked, torch.full_like(x0, mask_id), x0)
    logits = model(x_t, t) if time_cond else model(x_t)
    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, x0[..., None]).squeeze(-1)
    nll = torch.where(masked, -logp, torch.zeros_like(logp))
    return nll.sum(-1) * schedule.loss_weight(t.float())


def nelbo(
    model: Callable[..., torch.Tensor],
    x0: torch.Tensor,
    *,
    t: torch.Tensor | None = None,
    u: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    antithetic: bool = True,
    schedule: LogLinearSchedule | None = None,
) -> torch.Tensor:
    """One-sample estimate of the continuous-time NELBO of each row of ``x0`` (nats).

    Parameters
    ----------
    model : masked-diffusion model
        Any object of the model protocol (``mask_id``, ``vocab_size``,
        ``model(x_t[, t]) -> logits``).
    x0 : LongTensor (n, L)
        Clean sequences (no [MASK]).
    t, u : Tensor, optional
        Times (n,) in (0, 1] and uniforms (n, L) (see
        :func:`sample_training_noise`); drawn from ``generator`` when omitted.
    generator : torch.Generator, optional
    antithetic : bool, default True
        Stratified times across the batch (variance reduction).
    schedule : LogLinearSchedule, optional
        Defaults to the model's ``schedule`` attribute, else ``eps = 1e-3``.

    Returns
    -------
    Tensor (n,)
        Unbiased estimates of the NELBO of each row in nats; divide by
        ``L * log(2)`` for bits per token.

    Notes
    -----
    For ``t`` uniform on (0, 1] and each position masked independently with
    probability ``m_t``, the estimate is

    .. math:: \\frac{1}{t} \\sum_{\\ell:\\,x_t^\\ell=[M]} -\\log p_\\theta(x_0^\\ell \\mid x_t),

    since ``-alpha'_t / (1 - alpha_t) = 1/t`` for the log-linear schedule
    (Sahoo et al. 2024, Eq. 10-11).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import MDLM, MDLMConfig, nelbo
    >>> _ = torch.manual_seed(0)
    >>> model = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8))
    >>> x0 = torch.randint(0, 4, (3, 8), generator=torch.Generator().manual_seed(1))
    >>> nelbo(model, x0, generator=torch.Generator().manual_seed(2)).shape
    torch.Size([3])
    """
    if x0.ndim != 2:
        raise ValueError(f"`x0` must have shape (n, L), got {tuple(x0.shape)}")
    if bool((x0 == int(model.mask_id)).any()):  # type: ignore[attr-defined]
        raise ValueError("`x0` must not contain the [MASK] id")
    if schedule is None:
        schedule = getattr(model, "schedule", None) or LogLinearSchedule()
    n, L = x0.shape
    if t is None or u is None:
        t_, u_ = sample_training_noise(
            n, L, generator=generator, antithetic=antithetic, device=x0.device
        )
        t = t_ if t is None else t
        u = u_ if u is None else u
    if t.shape != (n,) or u.shape != (n, L):
        raise ValueError(f"`t` and `u` must have shapes ({n},) and ({n}, {L})")
    if bool(((t <= 0) | (t > 1)).any()):
        raise ValueError("`t` must lie in (0, 1]")
    return nelbo_terms(
        model,
        x0,
        t,
        u,
        schedule,
        mask_id=int(model.mask_id),  # type: ignore[attr-defined]
        time_cond=bool(getattr(model, "time_conditioned", False)),
    )


def exact_nelbo(
    model: Callable[..., torch.Tensor],
    x0: torch.Tensor,
    *,
    schedule: LogLinearSchedule | None = None,
    batch_size: int = 4096,
) -> np.ndarray:
    """Exact continuous-time NELBO of each row of ``x0`` by enumerating all masks.

    For a time-agnostic model the integral over ``t`` is done in closed form:
    with ``m = (1 - eps) t`` and ``c(S) = sum_{l in S} -log p(x0^l | x0 with
    S masked)``,

    .. math:: \\mathcal L_\\varepsilon(x_0) = \\sum_{S \\subseteq [L]} c(S)
       \\int_0^{1-\\varepsilon} m^{|S|-1} (1-m)^{L-|S|}\\,dm .

    Costs ``2^L`` model calls per row; ``L <= 20``.

    Returns
    -------
    numpy.ndarray (n,)
        NELBO in nats (float64).

    Notes
    -----
    With ``eps = 0`` the weight is the Beta function ``B(k, L-k+1) =
    (k-1)!(L-k)!/L!``, and the sum is the average over the ``L!`` orders of
    the chain rule ``-sum_i log p(x^{s_i} | x^{s_<i})``; for a model that
    returns the true conditionals of a distribution ``p`` it equals
    ``-log p(x0)`` (theory note 70).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import MDLM, MDLMConfig, exact_nelbo
    >>> _ = torch.manual_seed(0)
    >>> model = MDLM(MDLMConfig.preset("tiny", vocab_size=3, length=4))
    >>> exact_nelbo(model, torch.tensor([[0, 1, 1, 0]])).shape
    (1,)
    """
    from scipy.special import beta, betainc

    if getattr(model, "time_conditioned", False):
        raise ValueError("`exact_nelbo` needs a time-agnostic model (time_conditioned=False)")
    if x0.ndim != 2:
        raise ValueError(f"`x0` must have shape (n, L), got {tuple(x0.shape)}")
    n, L = x0.shape
    if L > 20:
        raise ValueError(f"`x0` has length {L}; exact enumeration needs L <= 20")
    if schedule is None:
        schedule = getattr(model, "schedule", None) or LogLinearSchedule()
    mask_id = int(model.mask_id)  # type: ignore[attr-defined]
    masks = torch.tensor(
        [[(s >> j) & 1 for j in range(L)] for s in range(2**L)], dtype=torch.bool
    ).to(x0.device)
    k = masks.sum(1).cpu().numpy()
    b = 1.0 - schedule.eps
    w = np.zeros(2**L)
    nz = k > 0
    w[nz] = beta(k[nz], L - k[nz] + 1) * betainc(k[nz], L - k[nz] + 1, b)
    out = np.empty(n)
    with torch.no_grad():
        for r in range(n):
            costs = []
            for s in range(0, 2**L, batch_size):
                mk = masks[s : s + batch_size]
                xr = x0[r].expand(mk.shape[0], L)
                x_t = torch.where(mk, torch.full_like(xr, mask_id), xr)
                logp = torch.log_softmax(model(x_t).double(), -1).gather(-1, xr[..., None])[..., 0]
                costs.append(torch.where(mk, -logp, torch.zeros_like(logp)).sum(-1))
            out[r] = float(np.dot(w, torch.cat(costs).cpu().numpy()))
    return out


@dataclasses.dataclass(frozen=True, repr=False)
class NelboResult(Result):
    """Validation NELBO of a model on a set of sequences.

    Attributes
    ----------
    nelbo : numpy.ndarray (n,)
        Per-sequence NELBO estimates in nats (averaged over ``n_repeats``).
    bits_per_token : float
        ``mean(nelbo) / (L log 2)``, an upper bound on the model's
        cross-entropy per position.
    stderr : float
        Standard error of ``bits_per_token`` over sequences.
    n_sequences, length : int
    """

    nelbo: np.ndarray
    bits_per_token: float
    stderr: float
    n_sequences: int
    length: int


@torch.no_grad()
def evaluate_nelbo(
    model: Callable[..., torch.Tensor],
    ids: Any,
    *,
    n_repeats: int = 1,
    batch_size: int = 256,
    rng: SeedLike = 0,
    device: Any = None,
) -> NelboResult:
    """Monte Carlo NELBO of ``ids`` in bits per token (antithetic times per batch).

    Parameters
    ----------
    model : masked-diffusion model
    ids : array_like or LongTensor (n, L)
        Token ids (e.g. ``tokenizer.encode_batch(sequences)``).
    n_repeats : int, default 1
        Independent noise draws per sequence (averaged).
    batch_size : int, default 256
    rng : int, Generator or None, default 0
        Seeds the noise; the default makes evaluation deterministic.
    device : torch.device, optional
        Defaults to the model's parameters' device, else CPU.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import MDLM, MDLMConfig, evaluate_nelbo
    >>> _ = torch.manual_seed(0)
    >>> model = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8))
    >>> ids = torch.randint(0, 4, (16, 8), generator=torch.Generator().manual_seed(1))
    >>> res = evaluate_nelbo(model, ids, rng=0)
    >>> 1.5 < res.bits_per_token < 4.0
    True
    """
    n_repeats = check_int(n_repeats, "n_repeats", lo=1)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    if device is None:
        p = next(iter(model.parameters()), None) if isinstance(model, nn.Module) else None
        device = p.device if p is not None else torch.device("cpu")
    x = torch.as_tensor(np.asarray(ids) if not torch.is_tensor(ids) else ids).long()
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"`ids` must have shape (n, L) with n >= 1, got {tuple(x.shape)}")
    was_training = model.training if isinstance(model, nn.Module) else False
    if isinstance(model, nn.Module):
        model.eval()
    gen = torch_generator(rng, "cpu")
    total = torch.zeros(x.shape[0], dtype=torch.float64)
    try:
        for _ in range(n_repeats):
            for s in range(0, x.shape[0], batch_size):
                xb = x[s : s + batch_size]
                t, u = sample_training_noise(xb.shape[0], xb.shape[1], generator=gen)
                val = nelbo(model, xb.to(device), t=t.to(device), u=u.to(device))
                total[s : s + xb.shape[0]] += val.double().cpu()
    finally:
        if was_training and isinstance(model, nn.Module):
            model.train()
    per_seq = (total / n_repeats).numpy()
    L = int(x.shape[1])
    bits = per_seq / (L * math.log(2.0))
    se = float(bits.std(ddof=1) / math.sqrt(len(bits))) if len(bits) > 1 else float("nan")
    return NelboResult(
        nelbo=per_seq, bits_per_token=float(bits.mean()), stderr=se, n_sequences=len(bits), length=L
    )


def unigram_bits_per_token(train_ids: Any, val_ids: Any, vocab_size: int) -> float:
    """Cross-entropy (bits per position) of a unigram model fitted on ``train_ids``.

    Add-one (Laplace) smoothing over the ``vocab_size - 1`` non-mask ids keeps
    it finite; the baseline that a trained MDLM must beat.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import unigram_bits_per_token
    >>> x = np.array([[0, 1, 2, 3]] * 50)
    >>> round(unigram_bits_per_token(x, x, 5), 3)
    2.0
    """
    vocab_size = check_int(vocab_size, "vocab_size", lo=2)
    tr = np.asarray(train_ids).reshape(-1)
    va = np.asarray(val_ids).reshape(-1)
    if tr.size == 0 or va.size == 0:
        raise ValueError("`train_ids` and `val_ids` must not be empty")
    counts = np.bincount(tr, minlength=vocab_size)[: vocab_size - 1] + 1.0
    logp = np.log2(counts / counts.sum())
    return float(-logp[va].mean())
