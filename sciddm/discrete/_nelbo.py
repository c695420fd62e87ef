r"""The continuous-time NELBO of masked diffusion models (MDLM), under the law that is sampled.

A masked diffusion model learns :math:`p_\theta(x_0 \mid x_t)` for sequences
:math:`x_t` in which each token of :math:`x_0` was replaced by [MASK] with
probability :math:`m`. For the log-linear schedule the reverse chain that
the samplers run unmasks each masked position at rate :math:`1/t`, whatever
:math:`\varepsilon`: the chain they sample is the one of the forward process
with masking probability :math:`m_t = t` on :math:`t \in [0, 1]` (all masked at
:math:`t = 1`). Its negative ELBO (Sahoo et al. 2024, eq. 10, with the SUBS
parameterisation) is

.. math:: \mathcal L(x_0) = \int_0^1 \frac{1}{t}\,
   \mathbb E_{x_t \sim q_t(\cdot \mid x_0)} \sum_{\ell:\,x_t^\ell=\mathrm{[M]}}
   -\log p_\theta(x_0^\ell \mid x_t)\,dt \;\ge\; -\log p_\theta(x_0),

where :math:`p_\theta` is the law of the samplers (SUBS: [MASK] and forbidden
ids removed and the rest renormalised). MDLM's training objective masks with
probability :math:`(1 - \varepsilon) t` instead: the same integral truncated
at :math:`m = 1 - \varepsilon`, which drops the (positive) terms of the
nearly-all-masked states and so is *not* a bound (theory note 70). The
training loss uses that truncation; :func:`nelbo`, :func:`exact_nelbo` and
:func:`evaluate_nelbo` compute the bound unless a schedule is passed.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.results import Result
from sciddm._core.rng import UNSET, RNGLike, as_torch_generator, check_rng, renamed_rng
from sciddm._core.validation import check_int
from sciddm.discrete._protocol import (
    Denoiser,
    ModelInfo,
    check_tokens,
    model_info,
    resolve_device,
    subs_log_probs,
)
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

#: The schedule of the bound: masking probability ``t`` on [0, 1] (eps = 0).
_BOUND = LogLinearSchedule(0.0)


def _schedule_iv(schedule: Any) -> LogLinearSchedule:
    if schedule is None:
        return _BOUND
    if not isinstance(schedule, LogLinearSchedule):
        raise TypeError(f"`schedule` must be a LogLinearSchedule, got {type(schedule).__name__}")
    return schedule


def sample_training_noise(
    n: int,
    length: int,
    *,
    rng: RNGLike = None,
    antithetic: bool = True,
    device: Any = "cpu",
    generator: Any = UNSET,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Draw the times ``t`` (n,) in (0, 1] and uniforms ``u`` (n, L) of a NELBO estimate.

    Position :math:`\ell` of row :math:`i` is masked when
    ``u[i, l] < m(t[i])``, :math:`m` the schedule's masking probability.

    Parameters
    ----------
    n : int
        Number of rows (>= 1).
    length : int
        Sequence length ``L`` (>= 1).
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source (a torch generator is used in place, on its device).
    antithetic : bool, default True
        Stratified times (MDLM's low-discrepancy sampler):
        :math:`t_i = 1 - ((u_0 + i/n) \bmod 1)` with one uniform :math:`u_0`,
        so exactly one :math:`t_i` falls in each interval
        :math:`((j-1)/n, j/n]`. Otherwise i.i.d. uniform times.
    device : str or torch.device, default "cpu"
        Device of the returned tensors.
    generator : torch.Generator, optional
        Deprecated spelling of ``rng``.

    Returns
    -------
    t : Tensor (n,), float32
        Times in (0, 1].
    u : Tensor (n, L), float32
        Uniforms in [0, 1).

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, App. C (low-discrepancy sampler).

    Examples
    --------
    >>> from sciddm.discrete import sample_training_noise
    >>> t, u = sample_training_noise(4, 3, rng=0)
    >>> sorted((t * 4).ceil().int().tolist()), tuple(u.shape)
    ([1, 2, 3, 4], (4, 3))
    """
    rng = renamed_rng(rng, generator, "generator", func="sample_training_noise")
    n = check_int(n, "n", lo=1, hi=2**26)
    length = check_int(length, "length", lo=1, hi=2**20)
    if n * length > 2**28:
        raise ValueError(f"`n` * `length` = {n * length} exceeds 2**28 uniforms; draw in batches")
    check_rng(rng, torch_ok=True)
    dev = resolve_device(None, device)
    gen = rng if isinstance(rng, torch.Generator) else as_torch_generator(rng, "cpu")
    gen_dev = gen.device
    if antithetic:
        u0 = torch.rand((), generator=gen, device=gen_dev, dtype=torch.float64)
        t = 1.0 - torch.remainder(u0 + torch.arange(n, device=gen_dev) / n, 1.0)
    else:
        t = 1.0 - torch.rand(n, generator=gen, device=gen_dev, dtype=torch.float64)
    u = torch.rand((n, length), generator=gen, device=gen_dev)
    return t.to(device=dev, dtype=torch.float32), u.to(dev)


def nelbo_terms(
    model: Any,
    info: ModelInfo,
    x0: torch.Tensor,
    t: torch.Tensor,
    u: torch.Tensor,
    schedule: LogLinearSchedule,
    *,
    check: bool = True,
) -> torch.Tensor:
    """Per-row NELBO estimates ``(1/t) sum_{masked} -log p(x0^l | x_t)`` (differentiable).

    ``check=False`` (the training loop) skips the validation of the model's
    output values, which costs a device synchronisation.
    """
    masked = u < schedule.mask_prob(t).to(u.dtype)[:, None]
    x_t = torch.where(masked, torch.full_like(x0, info.mask_id), x0)
    out = model(x_t, t) if info.time_conditioned else model(x_t)
    if not isinstance(out, torch.Tensor):
        out = torch.as_tensor(np.asarray(out), device=x0.device)
    if tuple(out.shape) != (*x0.shape, info.vocab_size):
        raise ValueError(
            f"the model must return shape {(*x0.shape, info.vocab_size)} (n, L, vocab_size), "
            f"got {tuple(out.shape)}"
        )
    logp_all = subs_log_probs(out.float(), info, torch.float32, check=check)
    logp = logp_all.gather(-1, x0[..., None]).squeeze(-1)
    nll = torch.where(masked, -logp, torch.zeros_like(logp))
    return nll.sum(-1) * schedule.loss_weight(t.float())


def nelbo(
    model: Denoiser,
    x0: Any,
    *,
    t: torch.Tensor | None = None,
    u: torch.Tensor | None = None,
    rng: RNGLike = None,
    antithetic: bool = True,
    schedule: LogLinearSchedule | None = None,
    generator: Any = UNSET,
) -> torch.Tensor:
    r"""One-sample unbiased estimate of the NELBO of each row of ``x0`` (nats).

    Parameters
    ----------
    model : Denoiser
        Any object of the denoiser protocol; its declared ``output``
        ("logits", "log_probs", "probs") is honoured and the SUBS projection
        of the samplers is applied ([MASK] and forbidden ids removed, the
        rest renormalised), so the bound is that of the law the samplers draw.
    x0 : LongTensor or array (n, L)
        Clean sequences: ids in ``[0, vocab_size)``, no [MASK] or forbidden id.
    t, u : Tensor, optional
        Times (n,) in (0, 1] and uniforms (n, L) (see
        :func:`sample_training_noise`); drawn from ``rng`` when omitted.
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of ``t`` and ``u``.
    antithetic : bool, default True
        Stratified times across the batch (variance reduction).
    schedule : LogLinearSchedule, optional
        ``None`` (default): the bound, masking probability ``t``. A schedule
        with ``eps > 0`` gives MDLM's truncated training objective (masking
        probability :math:`(1-\varepsilon) t`), which can fall below
        :math:`-\log p_\theta(x_0)` (see theory note 70).
    generator : torch.Generator, optional
        Deprecated spelling of ``rng``.

    Returns
    -------
    Tensor (n,)
        Unbiased estimates of the NELBO of each row in nats (differentiable
        with respect to the model's parameters); divide by
        :math:`L \log 2` for bits per token.

    Notes
    -----
    For :math:`t` uniform on (0, 1] and each position masked independently
    with probability :math:`m_t`, the estimate is

    .. math:: \frac{1}{t} \sum_{\ell:\,x_t^\ell=[M]} -\log p_\theta(x_0^\ell \mid x_t),

    since :math:`-\alpha'_t / (1 - \alpha_t) = 1/t` for the log-linear
    schedule (Sahoo et al. 2024, eq. 10-11). With :math:`m_t = t` its mean is
    the bound :math:`\ge -\log p_\theta(x_0)`, with equality for a model that
    returns the exact conditionals of a joint law (theory note 70).

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, Sec. 3 and eq. (10)-(11).

    Examples
    --------
    >>> import math, torch
    >>> from sciddm.discrete import FunctionModel, nelbo
    >>> half = torch.tensor([0.5, 0.5, 0.0])      # probabilities (1/2, 1/2, 0); id 2 = [MASK]
    >>> m = FunctionModel(lambda x: half.expand(*x.shape, 3), vocab_size=3, mask_id=2,
    ...                   output="probs")
    >>> est = nelbo(m, torch.zeros(4000, 1, dtype=torch.long), rng=0)   # unbiased for log 2
    >>> round(float(est.mean()), 2), round(math.log(2), 2)
    (0.69, 0.69)
    """
    rng = renamed_rng(rng, generator, "generator", func="nelbo")
    info = model_info(model)
    check_rng(rng, torch_ok=True)
    sch = _schedule_iv(schedule)
    x0 = check_tokens(x0, info, "x0")
    n, L = x0.shape
    if t is None or u is None:
        t_, u_ = sample_training_noise(n, L, rng=rng, antithetic=antithetic, device=x0.device)
        t = t_ if t is None else t
        u = u_ if u is None else u
    t, u = torch.as_tensor(t, device=x0.device), torch.as_tensor(u, device=x0.device)
    if tuple(t.shape) != (n,) or tuple(u.shape) != (n, L):
        raise ValueError(f"`t` and `u` must have shapes ({n},) and ({n}, {L})")
    if not bool(torch.isfinite(t).all()) or bool(((t <= 0) | (t > 1)).any()):
        raise ValueError("`t` must lie in (0, 1]")
    if not bool(torch.isfinite(u).all()):
        raise ValueError("`u` must be finite")
    return nelbo_terms(model, info, x0, t.float(), u, sch)


def exact_nelbo(
    model: Denoiser,
    x0: Any,
    *,
    schedule: LogLinearSchedule | None = None,
    batch_size: int = 4096,
) -> np.ndarray:
    r"""Exact NELBO of each row of ``x0`` by enumerating all masks (time-agnostic models).

    Parameters
    ----------
    model : Denoiser
        A time-agnostic denoiser (``time_conditioned`` False); its declared
        ``output`` is honoured and the samplers' SUBS projection applied.
    x0 : LongTensor or array (n, L)
        Clean sequences, ``L <= 20``: ids in ``[0, vocab_size)``, no [MASK]
        or forbidden id.
    schedule : LogLinearSchedule, optional
        ``None`` (default): the bound (masking probabilities on all of
        [0, 1]). A schedule with ``eps > 0`` gives the truncated integral of
        MDLM's training objective.
    batch_size : int, default 4096
        Masked copies per network call.

    Returns
    -------
    numpy.ndarray (n,)
        NELBO in nats (float64).

    Notes
    -----
    The integral over :math:`t` is done in closed form: with
    :math:`m = (1 - \varepsilon) t` and
    :math:`c(S) = \sum_{\ell \in S} -\log p(x_0^\ell \mid x_0 \text{ with } S \text{ masked})`,

    .. math:: \mathcal L_\varepsilon(x_0) = \sum_{S \subseteq [L]} c(S)
       \int_0^{1-\varepsilon} m^{|S|-1} (1-m)^{L-|S|}\,dm .

    With :math:`\varepsilon = 0` (the default, the bound) the weight is the
    Beta function :math:`B(k, L-k+1) = (k-1)!(L-k)!/L!`, and the sum is the
    average over the :math:`L!` orders of the chain rule
    :math:`-\sum_i \log p(x^{s_i} \mid x^{s_{<i}})`; for a model that returns
    the true conditionals of a distribution :math:`p` it equals
    :math:`-\log p(x_0)` (theory note 70). Costs :math:`2^L` model calls per row.

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024.
    .. [2] J. Ou et al., "Your absorbing discrete diffusion secretly models the
       conditional distributions of clean data", arXiv:2406.03736 (2024), Thm 3.

    Examples
    --------
    >>> import math, torch
    >>> from sciddm.discrete import FunctionModel, exact_nelbo
    >>> half = torch.tensor([0.5, 0.5, 0.0])      # probabilities (1/2, 1/2, 0); id 2 = [MASK]
    >>> m = FunctionModel(lambda x: half.expand(*x.shape, 3), vocab_size=3, mask_id=2,
    ...                   output="probs")
    >>> bool(abs(exact_nelbo(m, [[1]])[0] - math.log(2)) < 1e-12)
    True
    """
    from scipy.special import beta, betainc

    info = model_info(model)
    if info.time_conditioned:
        raise ValueError("`exact_nelbo` needs a time-agnostic model (time_conditioned=False)")
    sch = _schedule_iv(schedule)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    x0 = check_tokens(x0, info, "x0")
    n, L = x0.shape
    if L > 20:
        raise ValueError(f"`x0` has length {L}; exact enumeration needs L <= 20")
    masks = torch.tensor(
        [[(s >> j) & 1 for j in range(L)] for s in range(2**L)], dtype=torch.bool
    ).to(x0.device)
    k = masks.sum(1).cpu().numpy()
    w = np.zeros(2**L)
    nz = k > 0
    w[nz] = beta(k[nz], L - k[nz] + 1) * betainc(k[nz], L - k[nz] + 1, 1.0 - sch.eps)
    out = np.empty(n)
    with torch.no_grad():
        for r in range(n):
            costs = []
            for s in range(0, 2**L, batch_size):
                mk = masks[s : s + batch_size]
                xr = x0[r].expand(mk.shape[0], L)
                x_t = torch.where(mk, torch.full_like(xr, info.mask_id), xr)
                raw = torch.as_tensor(model(x_t), device=x0.device)
                if tuple(raw.shape) != (*x_t.shape, info.vocab_size):
                    raise ValueError(
                        f"the model must return shape {(*x_t.shape, info.vocab_size)}, "
                        f"got {tuple(raw.shape)}"
                    )
                lp = subs_log_probs(raw, info, torch.float64).gather(-1, xr[..., None])[..., 0]
                costs.append(torch.where(mk, -lp, torch.zeros_like(lp)).sum(-1))
            out[r] = float(np.dot(w, torch.cat(costs).cpu().numpy()))
    return out


@dataclasses.dataclass(frozen=True, repr=False)
class NelboResult(Result):
    """Validation NELBO of a model on a set of sequences (what :func:`evaluate_nelbo` returns).

    Attributes
    ----------
    nelbo : numpy.ndarray (n,)
        Per-sequence NELBO estimates in nats (averaged over ``n_repeats``).
    bits_per_token : float
        ``mean(nelbo) / (L log 2)``, an upper bound on the model's
        cross-entropy per position (up to Monte Carlo error).
    stderr : float
        Standard error of ``bits_per_token`` over sequences (NaN for one sequence).
    n_sequences : int
        Number of sequences.
    length : int
        Their length ``L``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, evaluate_nelbo
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> res = evaluate_nelbo(m, torch.zeros(4, 2, dtype=torch.long))
    >>> res.n_sequences, res.length, res.nelbo.shape
    (4, 2, (4,))
    """

    nelbo: np.ndarray
    bits_per_token: float
    stderr: float
    n_sequences: int
    length: int


@torch.no_grad()
def evaluate_nelbo(
    model: Denoiser,
    ids: Any,
    *,
    n_repeats: int = 1,
    batch_size: int = 256,
    rng: RNGLike = 0,
    device: Any = None,
) -> NelboResult:
    r"""Monte Carlo NELBO bound of ``ids`` in bits per token (antithetic times per batch).

    Parameters
    ----------
    model : Denoiser
        Any denoiser; ``output`` and SUBS are honoured as in :func:`nelbo`.
    ids : array_like or LongTensor (n, L)
        Token ids (e.g. ``tokenizer.encode_batch(sequences)``); no [MASK].
    n_repeats : int, default 1
        Independent noise draws per sequence (averaged).
    batch_size : int, default 256
        Sequences per network call.
    rng : None, int, numpy.random.Generator or torch.Generator, default 0
        Random source of the noise; the default makes evaluation deterministic.
    device : str or torch.device, optional
        Defaults to the model's parameters' device, else CPU.

    Returns
    -------
    NelboResult
        Per-sequence estimates (nats) and the mean in bits per token.

    Notes
    -----
    Each estimate is that of :func:`nelbo` (the bound, masking probability
    :math:`t`), so ``bits_per_token`` bounds the model's cross-entropy per
    position from above, up to Monte Carlo error.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, evaluate_nelbo
    >>> uniform = FunctionModel(lambda x: torch.zeros(*x.shape, 5), vocab_size=5, mask_id=4)
    >>> ids = torch.randint(0, 4, (512, 8), generator=torch.Generator().manual_seed(1))
    >>> res = evaluate_nelbo(uniform, ids, rng=0)   # the bound is log2(4) = 2 bits exactly
    >>> abs(res.bits_per_token - 2.0) < 3 * res.stderr
    True
    """
    info = model_info(model)
    n_repeats = check_int(n_repeats, "n_repeats", lo=1)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    check_rng(rng, torch_ok=True)
    dev = resolve_device(model, device)
    x = check_tokens(ids, info, "ids")
    was_training = model.training if isinstance(model, nn.Module) else False
    if isinstance(model, nn.Module):
        model.eval()
    gen = rng if isinstance(rng, torch.Generator) else as_torch_generator(rng, "cpu")
    total = torch.zeros(x.shape[0], dtype=torch.float64)
    try:
        for _ in range(n_repeats):
            for s in range(0, x.shape[0], batch_size):
                xb = x[s : s + batch_size]
                t, u = sample_training_noise(xb.shape[0], xb.shape[1], rng=gen)
                val = nelbo_terms(model, info, xb.to(dev), t.to(dev), u.to(dev), _BOUND)
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


def _ids_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of token ids, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be an array of token ids: {exc}") from None
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integer token ids, got dtype {arr.dtype}")
    return arr.reshape(-1).astype(np.int64)


def unigram_bits_per_token(train_ids: Any, val_ids: Any, vocab_size: int) -> float:
    r"""Cross-entropy (bits per position) of a unigram model fitted on ``train_ids``.

    Parameters
    ----------
    train_ids : array_like of int
        Token ids of the training data (any shape), in ``[0, vocab_size - 1)``.
    val_ids : array_like of int
        Token ids to score (any shape), in ``[0, vocab_size - 1)``.
    vocab_size : int
        Number of ids including [MASK], which is the last id and never scored.

    Returns
    -------
    float
        :math:`-\frac{1}{|V|}\sum_{v \in \mathrm{val}} \log_2 \hat p(v)` with
        add-one (Laplace) smoothing over the ``vocab_size - 1`` non-mask ids,
        the baseline that a trained MDLM must beat.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import unigram_bits_per_token
    >>> x = np.array([[0, 1, 2, 3]] * 50)
    >>> round(unigram_bits_per_token(x, x, 5), 3)
    2.0
    """
    vocab_size = check_int(vocab_size, "vocab_size", lo=2, hi=2**24)
    tr = _ids_array(train_ids, "train_ids")
    va = _ids_array(val_ids, "val_ids")
    for name, a in (("train_ids", tr), ("val_ids", va)):
        if a.min() < 0 or a.max() >= vocab_size - 1:
            raise ValueError(
                f"`{name}` must hold ids in [0, {vocab_size - 1}) (vocab_size - 1: the last id "
                f"is [MASK]), got values in [{a.min()}, {a.max()}]"
            )
    counts = np.bincount(tr, minlength=vocab_size)[: vocab_size - 1] + 1.0
    logp = np.log2(counts / counts.sum())
    return float(-logp[va].mean())
