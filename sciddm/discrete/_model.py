"""The MDLM denoiser: a bidirectional transformer over token ids, and its model files."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sciddm._core.io import CheckpointError, load_checkpoint, save_checkpoint
from sciddm._core.rng import RNGLike, check_rng, torch_init
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._data import tokenizer_from_dict
from sciddm.discrete._protocol import check_path
from sciddm.discrete._schedule import DEFAULT_EPS, LogLinearSchedule

__all__ = [
    "MDLM",
    "MODEL_KIND",
    "TRAIN_KIND",
    "MDLMConfig",
    "build_model",
    "load_model",
    "read_legacy_checkpoint",
    "model_payload",
    "save_model",
]

#: ``kind`` of a model file (:func:`save_model`) and of a training checkpoint.
MODEL_KIND = "discrete model"
TRAIN_KIND = "discrete training checkpoint"
#: the ``format`` key of files written before the checkpoint header (read for one release)
_LEGACY_FORMAT = "sciddm.mdlm"
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
        Number of token ids, [MASK] included (2 to 2**24).
    length : int
        Sequence length (learned positional embeddings of this size; up to 2**20).
    d_model, n_layers, n_heads : int
        Width (up to 8192), depth and attention heads (``d_model % n_heads == 0``).
    mlp_ratio : int, default 4
        Hidden width of the feed-forward blocks over ``d_model`` (1 to 64).
    dropout : float, default 0.0
        Dropout probability in [0, 1).
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
        check_int(self.vocab_size, "vocab_size", lo=2, hi=2**24)
        check_int(self.length, "length", lo=1, hi=2**20)
        check_int(self.d_model, "d_model", lo=1, hi=8192)
        check_int(self.n_layers, "n_layers", lo=0, hi=1024)
        check_int(self.n_heads, "n_heads", lo=1, hi=1024)
        check_int(self.mlp_ratio, "mlp_ratio", lo=1, hi=64)
        if not isinstance(self.time_conditioned, (bool, np.bool_)):
            raise TypeError(
                f"`time_conditioned` must be True or False, got {self.time_conditioned!r}"
            )
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
        8 layers, about 25 M parameters; GPU).

        Parameters
        ----------
        size : {"tiny", "small", "base"}
            The preset.
        vocab_size, length : int
            As in the constructor.
        **overrides
            Other fields of :class:`MDLMConfig`.

        Returns
        -------
        MDLMConfig
        """
        check_choice(size, "size", tuple(_PRESETS))
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unknown MDLMConfig field(s): {', '.join(sorted(unknown))}")
        return cls(vocab_size=vocab_size, length=length, **{**_PRESETS[size], **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (saved with the model); ``MDLMConfig(**cfg.to_dict()) == cfg``."""
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
    r"""Bidirectional transformer denoiser of masked diffusion (MDLM).

    Satisfies the :class:`~sciddm.discrete.Denoiser` protocol: attributes
    ``vocab_size``, ``mask_id``, ``length``, ``time_conditioned``,
    ``tokenizer``, ``forbidden_ids`` and ``model(x_t, t=None)`` returning
    logits of :math:`p_\theta(x_0 \mid x_t)` of shape ``(n, L, vocab_size)``.

    Parameters
    ----------
    config : MDLMConfig
        Sizes and schedule.
    tokenizer : SmilesTokenizer or DnaTokenizer, optional
        Saved with the model; its ``vocab_size`` and ``mask_id`` must match the config's.
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the initial weights (``None``: torch's default
        generator). The same ``rng`` gives bit-identical weights, and torch's
        global generator is left untouched.

    Attributes
    ----------
    config : MDLMConfig
        The configuration.
    tokenizer : object or None
        The tokenizer.
    schedule : LogLinearSchedule
        The training schedule (``eps`` of the config).

    Notes
    -----
    Pre-LayerNorm transformer blocks with full (non-causal) attention over
    token + learned position embeddings; an optional sinusoidal embedding of
    :math:`t` is added to every position. The output logit of [MASK] is
    :math:`-\infty` (SUBS parameterisation, Sahoo et al. 2024, Sec. 3.2);
    samplers copy unmasked positions themselves.

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and Effective Masked Diffusion Language
       Models", NeurIPS 2024.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import MDLM, MDLMConfig
    >>> model = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8), rng=0)
    >>> x = torch.full((2, 8), model.mask_id)
    >>> logits = model(x)
    >>> logits.shape, bool(torch.isinf(logits[..., model.mask_id]).all())
    (torch.Size([2, 8, 5]), True)
    >>> again = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8), rng=0)
    >>> bool(torch.equal(again.pos_emb, model.pos_emb))
    True
    """

    def __init__(self, config: MDLMConfig, tokenizer: Any = None, *, rng: RNGLike = None) -> None:
        super().__init__()
        if not isinstance(config, MDLMConfig):
            raise TypeError(f"`config` must be an MDLMConfig, got {type(config).__name__}")
        check_rng(rng, torch_ok=True)
        if tokenizer is not None:
            if not (hasattr(tokenizer, "vocab_size") and hasattr(tokenizer, "mask_id")):
                raise TypeError(
                    f"`tokenizer` must have `vocab_size` and `mask_id`, got {type(tokenizer).__name__}"
                )
            if tokenizer.vocab_size != config.vocab_size or tokenizer.mask_id != config.mask_id:
                raise ValueError(
                    f"`tokenizer` has vocab_size {tokenizer.vocab_size} and mask_id "
                    f"{tokenizer.mask_id} but the config has {config.vocab_size} and "
                    f"{config.mask_id}"
                )
        self.config = config
        self.tokenizer = tokenizer
        self.schedule = LogLinearSchedule(config.eps)
        with torch_init(rng):
            self._build(config)

    def _build(self, config: MDLMConfig) -> None:
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
        if not isinstance(x_t, torch.Tensor) or x_t.dtype.is_floating_point:
            raise TypeError("`x_t` must be an integer tensor of token ids (n, L)")
        if x_t.ndim != 2:
            raise ValueError(f"`x_t` must have shape (n, L), got {tuple(x_t.shape)}")
        n, L = x_t.shape
        if L > self.config.length:
            raise ValueError(f"`x_t` has length {L}, longer than the model's {self.config.length}")
        if x_t.numel() and (int(x_t.min()) < 0 or int(x_t.max()) >= self.config.vocab_size):
            raise ValueError(f"`x_t` must hold ids in [0, {self.config.vocab_size})")
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
    """The plain-data content of a model file: config, tokenizer and weights (on CPU)."""
    return {
        "config": model.config.to_dict(),
        "tokenizer": None if model.tokenizer is None else model.tokenizer.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in (state_dict or model.state_dict()).items()},
    }


def build_model(payload: dict[str, Any], state_key: str, where: str) -> MDLM:
    """Rebuild an :class:`MDLM` from a loaded payload; a mismatch is a :class:`CheckpointError`."""
    try:
        config = MDLMConfig(**payload["config"])
        tok = payload.get("tokenizer")
        tok = None if tok is None else tokenizer_from_dict(tok)
        model = MDLM(config, tokenizer=tok, rng=0)  # rng=0: torch's generator stays untouched
        model.load_state_dict(payload[state_key])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{where!r} is not a readable sciddm {MODEL_KIND} file (its contents do not "
            f"match an MDLM: {reason})"
        ) from None
    return model


def save_model(model: MDLM, path: str | os.PathLike[str]) -> str:
    """Save a model (config, tokenizer, weights) atomically; load it with :func:`load_model`.

    Parameters
    ----------
    model : MDLM
        The model.
    path : str or path-like
        Destination; written to a temporary name and renamed, with the
        file mode of the user's umask.

    Returns
    -------
    str
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> from sciddm.discrete import MDLM, MDLMConfig, save_model
    >>> m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8), rng=0)
    >>> os.path.basename(save_model(m, os.path.join(tempfile.mkdtemp(), "m.pt")))
    'm.pt'
    """
    if not isinstance(model, MDLM):
        raise TypeError(f"`model` must be an MDLM, got {type(model).__name__}")
    return str(save_checkpoint(model_payload(model), check_path(path), kind=MODEL_KIND))


def _read(p: str, map_location: Any) -> tuple[dict[str, Any], str]:
    """The payload of a model file or a training checkpoint, and which one it is."""
    first, second = (TRAIN_KIND, MODEL_KIND)
    if os.path.basename(p) != "checkpoint.pt":
        first, second = second, first
    try:
        return load_checkpoint(p, kind=first, map_location=map_location), first
    except CheckpointError as exc:
        if f"it is a sciddm {second!r} file" in str(exc):
            return load_checkpoint(p, kind=second, map_location=map_location), second
        if "it was not written by sciddm" in str(exc):
            legacy = read_legacy_checkpoint(p, map_location)
            if legacy is not None:
                return legacy
        raise


def read_legacy_checkpoint(p: str, map_location: Any = "cpu") -> tuple[dict[str, Any], str] | None:
    """Files of sciddm before the checkpoint header (``format`` "sciddm.mdlm[-train]")."""
    blob = torch.load(p, map_location=map_location, weights_only=True)
    fmt = blob.get("format") if isinstance(blob, dict) else None
    if fmt == _LEGACY_FORMAT:
        return blob, MODEL_KIND
    if fmt == _LEGACY_FORMAT + "-train":
        return blob, TRAIN_KIND
    return None


def load_model(
    path: str | os.PathLike[str], *, map_location: Any = "cpu", ema: bool = True
) -> MDLM:
    """Load an :class:`MDLM` saved by :func:`save_model` or by training.

    The file is read safely (``weights_only=True``). A missing, empty,
    truncated or foreign file raises :class:`~sciddm._core.io.CheckpointError`
    (a ``ValueError``): "``<path>`` is not a readable sciddm discrete model
    file (<reason>)".

    Parameters
    ----------
    path : str or path-like
        A model file, a training checkpoint (``checkpoint.pt``) or a training
        output folder (``model.pt`` is used, else ``checkpoint.pt``).
    map_location : str or torch.device, default "cpu"
        Where the weights are loaded.
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
    >>> m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8), tokenizer=tok, rng=0)
    >>> p = save_model(m, os.path.join(tempfile.mkdtemp(), "m.pt"))
    >>> m2 = load_model(p)
    >>> m2.tokenizer == tok, bool(torch.equal(m2.pos_emb, m.pos_emb))
    (True, True)
    """
    p = check_path(path)
    if os.path.isdir(p):
        for name in ("model.pt", "checkpoint.pt"):
            if os.path.exists(os.path.join(p, name)):
                p = os.path.join(p, name)
                break
        else:
            raise CheckpointError(
                f"{p!r} is not a readable sciddm {MODEL_KIND} file (a folder without "
                "model.pt or checkpoint.pt)"
            )
    payload, kind = _read(p, map_location)
    if kind == MODEL_KIND:
        key = "state_dict"
    else:
        key = "ema_state" if ema and payload.get("ema_state") else "model_state"
    return build_model(payload, key, p).eval()
