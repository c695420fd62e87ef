"""The MDLM denoiser (a bidirectional transformer) and its continuous-time NELBO.

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
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, torch_generator
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._schedule import DEFAULT_EPS, LogLinearSchedule
from sciddm.discrete.tokenizers import tokenizer_from_dict

__all__ = [
    "MDLM",
    "MDLMConfig",
    "NelboResult",
    "evaluate_nelbo",
    "exact_nelbo",
    "load_model",
    "nelbo",
    "sample_training_noise",
    "save_model",
    "unigram_bits_per_token",
]

MODEL_FORMAT = "sciddm.mdlm"
_PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"d_model": 64, "n_layers": 2, "n_heads": 4},
    "small": {"d_model": 256, "n_layers": 6, "n_heads": 8},
    "base": {"d_model": 512, "n_layers": 8, "n_heads": 8},
}


@dataclasses.dataclass(frozen=True)
class MDLMConfig:
    """Size and shape of an :class:`MDLM` denoiser.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, [MASK] included.
    length : int
        Sequence length (learned positional embeddings of this size).
    d_model, n_layers, n_heads : int
        Width, depth and attention heads (``d_model % n_heads == 0``).
    mlp_ratio : int, default 4
        Hidden width of the feed-forward blocks over ``d_model``.
    dropout : float, default 0.0
    time_conditioned : bool, default False
        Add an embedding of ``t`` to every position. MDLM works without it
        (the optimal denoiser does not depend on ``t``; Zheng et al., 2024).
    mask_id : int, optional
        Id of [MASK]; defaults to ``vocab_size - 1``.
    eps : float, default 1e-3
        Schedule parameter (:class:`~sciddm.discrete.LogLinearSchedule`).

    Examples
    --------
    >>> from sciddm.discrete import MDLMConfig
    >>> cfg = MDLMConfig.preset("tiny", vocab_size=5, length=16)
    >>> cfg.d_model, cfg.n_layers, cfg.mask_id
    (64, 2, 4)
    """

    vocab_size: int
    length: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.0
    time_conditioned: bool = False
    mask_id: int | None = None
    eps: float = DEFAULT_EPS

    def __post_init__(self) -> None:
        check_int(self.vocab_size, "vocab_size", lo=2)
        check_int(self.length, "length", lo=1)
        check_int(self.d_model, "d_model", lo=1)
        check_int(self.n_layers, "n_layers", lo=0)
        check_int(self.n_heads, "n_heads", lo=1)
        check_int(self.mlp_ratio, "mlp_ratio", lo=1)
        check_scalar(self.dropout, "dropout", lo=0.0, hi=1.0, closed="left")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"`d_model` must be a multiple of `n_heads`, got {self.d_model} and {self.n_heads}"
            )
        if self.mask_id is None:
            object.__setattr__(self, "mask_id", self.vocab_size - 1)
        check_int(self.mask_id, "mask_id", lo=0, hi=self.vocab_size - 1)
        LogLinearSchedule(self.eps)

    @classmethod
    def preset(cls, size: str, *, vocab_size: int, length: int, **overrides: Any) -> MDLMConfig:
        """A named size: ``"tiny"`` (64 wide, 2 layers; tests and CPU),
        ``"small"`` (256, 6 layers, about 5 M parameters) or ``"base"`` (512,
        8 layers, about 25 M parameters; GPU)."""
        check_choice(size, "size", tuple(_PRESETS))
        return cls(vocab_size=vocab_size, length=length, **{**_PRESETS[size], **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (saved with the model)."""
        return dataclasses.asdict(self)


class _Block(nn.Module):
    def __init__(self, d: int, heads: int, mlp_ratio: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(
            nn.Linear(d, mlp_ratio * d), nn.GELU(), nn.Linear(mlp_ratio * d, d), nn.Dropout(dropout)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n, L, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(n, L, 3, self.heads, d // self.heads).unbind(2)
        a = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            dropout_p=self.dropout if self.training else 0.0,
        )
        h = h + self.proj(a.transpose(1, 2).reshape(n, L, d))
        return h + self.mlp(self.norm2(h))


class MDLM(nn.Module):
    """Bidirectional transformer denoiser of masked diffusion (MDLM).

    Satisfies the masked-diffusion model protocol of :mod:`sciddm.discrete`:
    attributes ``vocab_size``, ``mask_id``, ``length``, ``time_conditioned``,
    ``tokenizer``, ``forbidden_ids`` and ``model(x_t, t=None)`` returning
    logits of ``p_theta(x0 | x_t)`` of shape ``(n, L, vocab_size)``.

    Parameters
    ----------
    config : MDLMConfig
    tokenizer : SmilesTokenizer or DnaTokenizer, optional
        Saved with the model; its ``vocab_size`` must match the config's.

    Notes
    -----
    Pre-LayerNorm transformer blocks with full (non-causal) attention over
    token + learned position embeddings; an optional sinusoidal embedding of
    ``t`` is added to every position. The output logit of [MASK] is ``-inf``
    (SUBS parameterisation, Sahoo et al. 2024, Sec. 3.2); samplers copy
    unmasked positions themselves.

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and Effective Masked Diffusion Language
       Models", NeurIPS 2024.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import MDLM, MDLMConfig
    >>> _ = torch.manual_seed(0)
    >>> model = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8))
    >>> x = torch.full((2, 8), model.mask_id)
    >>> logits = model(x)
    >>> logits.shape, bool(torch.isinf(logits[..., model.mask_id]).all())
    (torch.Size([2, 8, 5]), True)
    """

    def __init__(self, config: MDLMConfig, tokenizer: Any = None) -> None:
        super().__init__()
        if not isinstance(config, MDLMConfig):
            raise ValueError(f"`config` must be an MDLMConfig, got {type(config).__name__}")
        if tokenizer is not None:
            if tokenizer.vocab_size != config.vocab_size or tokenizer.mask_id != config.mask_id:
                raise ValueError(
                    f"`tokenizer` has vocab_size {tokenizer.vocab_size} and mask_id "
                    f"{tokenizer.mask_id} but the config has {config.vocab_size} and "
                    f"{config.mask_id}"
                )
        self.config = config
        self.tokenizer = tokenizer
        self.schedule = LogLinearSchedule(config.eps)
        d = config.d_model
        self.tok_emb = nn.Embedding(config.vocab_size, d)
        self.pos_emb = nn.Parameter(torch.zeros(config.length, d))
        self.time_mlp = (
            nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
            if config.time_conditioned
            else None
        )
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            _Block(d, config.n_heads, config.mlp_ratio, config.dropout)
            for _ in range(config.n_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.vocab_size)
        self.apply(self._init)
        nn.init.normal_(self.pos_emb, std=0.02)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    # -- protocol attributes -------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return int(self.config.vocab_size)

    @property
    def mask_id(self) -> int:
        return int(self.config.mask_id)  # type: ignore[arg-type]

    @property
    def length(self) -> int:
        return int(self.config.length)

    @property
    def time_conditioned(self) -> bool:
        return bool(self.config.time_conditioned)

    @property
    def forbidden_ids(self) -> tuple[int, ...]:
        """Ids a sampler must never produce: [MASK]."""
        return (self.mask_id,)

    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def _time_embedding(self, t: torch.Tensor, d: int) -> torch.Tensor:
        half = d // 2
        freqs = torch.exp(
            -math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half
        )
        ang = 1000.0 * t.float()[:, None] * freqs[None]
        emb = torch.cat([ang.sin(), ang.cos()], dim=-1)
        if d % 2:
            emb = F.pad(emb, (0, 1))
        return emb

    def forward(self, x_t: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of ``p_theta(x0 | x_t)``, shape ``(n, L, vocab_size)``; ``t`` of shape ``(n,)``."""
        if x_t.ndim != 2:
            raise ValueError(f"`x_t` must have shape (n, L), got {tuple(x_t.shape)}")
        n, L = x_t.shape
        if L > self.config.length:
            raise ValueError(f"`x_t` has length {L}, longer than the model's {self.config.length}")
        h = self.tok_emb(x_t) + self.pos_emb[:L]
        if self.time_mlp is not None:
            if t is None:
                raise ValueError("this model is time-conditioned: pass `t` of shape (n,)")
            t = torch.as_tensor(t, device=x_t.device).reshape(-1).expand(n)
            h = h + self.time_mlp(self._time_embedding(t, h.shape[-1]).to(h.dtype))[:, None]
        h = self.drop(h)
        for blk in self.blocks:
            h = blk(h)
        logits = self.head(self.norm(h))
        # SUBS: the clean data never contains [MASK]
        return logits.index_fill(-1, torch.tensor([self.mask_id], device=x_t.device), -math.inf)


# ---------------------------------------------------------------------------
# the NELBO
# ---------------------------------------------------------------------------


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


def _nelbo_terms(
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
    return _nelbo_terms(
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


# ---------------------------------------------------------------------------
# saving and loading
# ---------------------------------------------------------------------------


def _model_payload(model: MDLM, state_dict: dict[str, torch.Tensor] | None = None) -> dict:
    return {
        "format": MODEL_FORMAT,
        "version": 1,
        "config": model.config.to_dict(),
        "tokenizer": None if model.tokenizer is None else model.tokenizer.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in (state_dict or model.state_dict()).items()},
    }


def save_model(model: MDLM, path: str | os.PathLike[str]) -> str:
    """Save ``model`` (config, tokenizer, weights) atomically; load with :func:`load_model`."""
    from sciddm._core.io import torch_save_atomic

    if not isinstance(model, MDLM):
        raise ValueError(f"`model` must be an MDLM, got {type(model).__name__}")
    return str(torch_save_atomic(_model_payload(model), path))


def load_model(
    path: str | os.PathLike[str], *, map_location: Any = "cpu", ema: bool = True
) -> MDLM:
    """Load an :class:`MDLM` saved by :func:`save_model` or by training.

    Parameters
    ----------
    path : str or path-like
        A model file, a training checkpoint (``checkpoint.pt``) or a training
        output folder (``model.pt`` is used, else ``checkpoint.pt``).
    map_location : default "cpu"
    ema : bool, default True
        From a training checkpoint, take the EMA weights when present.

    Returns
    -------
    MDLM
        In eval mode, with its tokenizer.

    Examples
    --------
    >>> import tempfile, os, torch
    >>> from sciddm.discrete import MDLM, MDLMConfig, DnaTokenizer, save_model, load_model
    >>> tok = DnaTokenizer(length=8)
    >>> m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8), tokenizer=tok)
    >>> p = save_model(m, os.path.join(tempfile.mkdtemp(), "m.pt"))
    >>> m2 = load_model(p)
    >>> m2.tokenizer == tok, bool(torch.equal(m2.pos_emb, m.pos_emb))
    (True, True)
    """
    p = os.fspath(path)
    if os.path.isdir(p):
        for name in ("model.pt", "checkpoint.pt"):
            if os.path.exists(os.path.join(p, name)):
                p = os.path.join(p, name)
                break
        else:
            raise FileNotFoundError(f"no model.pt or checkpoint.pt in {p!r}")
    if not os.path.exists(p):
        raise FileNotFoundError(f"no model file at {p!r}")
    payload = torch.load(p, map_location=map_location, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") not in (
        MODEL_FORMAT,
        MODEL_FORMAT + "-train",
    ):
        raise ValueError(f"{p!r} is not a sciddm MDLM model or training checkpoint")
    config = MDLMConfig(**payload["config"])
    tok = None if payload.get("tokenizer") is None else tokenizer_from_dict(payload["tokenizer"])
    model = MDLM(config, tokenizer=tok)
    if payload["format"] == MODEL_FORMAT:
        state = payload["state_dict"]
    else:
        state = payload["ema_state"] if ema and payload.get("ema_state") else payload["model_state"]
    model.load_state_dict(state)
    return model.eval()
