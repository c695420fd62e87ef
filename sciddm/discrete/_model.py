"""The MDLM denoiser: a bidirectional transformer over token ids, and its model files."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._data import tokenizer_from_dict
from sciddm.discrete._schedule import DEFAULT_EPS, LogLinearSchedule

__all__ = ["MDLM", "MODEL_FORMAT", "MDLMConfig", "load_model", "model_payload", "save_model"]

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
# saving and loading
# ---------------------------------------------------------------------------


def model_payload(model: MDLM, state_dict: dict[str, torch.Tensor] | None = None) -> dict:
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
    return str(torch_save_atomic(model_payload(model), path))


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
