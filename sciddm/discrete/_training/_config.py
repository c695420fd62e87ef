"""Configuration and result of MDLM training."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int, check_scalar

__all__ = ["TrainConfig", "TrainResult"]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; the CLI has one ``--flag`` per field.

    Parameters
    ----------
    data : str or sequence of str, default "nci"
        ``"nci"``, ``"moses"`` (``"moses:test"``), ``"ars"``, a file path, or
        the sequences themselves (see :func:`sciddm.discrete.load_sequences`).
    kind : {"smiles", "dna"}, optional
        Needed for files and strings when it cannot be guessed.
    limit : int, optional
        Use the first ``limit`` raw sequences.
    max_length : int, optional
        Drop sequences with more tokens (counted in the log).
    length : int, optional
        Context length; defaults to the longest sequence. A longer sequence
        is an error (use ``max_length`` to drop them).
    invalid : {"skip", "error"}, default "skip"
        Invalid SMILES / DNA are dropped and counted, or raise ValueError.
    val_fraction : float, default 0.05
    model : {"tiny", "small", "base"}, default "tiny"
    d_model, n_layers, n_heads : int, optional
        Override the preset's sizes.
    dropout : float, default 0.0
    time_conditioned : bool, default False
    steps : int, default 1000
        Optimiser steps.
    batch_size : int, default 64
        Sequences per optimiser step over all processes (divisible by
        ``world_size * grad_accum``).
    grad_accum : int, default 1
        Micro-batches per step and process.
    lr, weight_decay : float, default 3e-4, 0.01
        AdamW (betas 0.9, 0.98); no decay on biases and norms.
    warmup_steps : int, default 100
        Linear warm-up, then ``lr_schedule`` down to ``min_lr_ratio * lr``.
    lr_schedule : {"cosine", "linear", "constant"}, default "cosine"
    min_lr_ratio : float, default 0.1
    grad_clip : float, default 1.0
        Maximal gradient norm (0 disables).
    ema : float, default 0.999
        EMA decay of the weights (0 disables); warmed up as
        ``min(ema, (1 + step) / (10 + step))``.
    eval_every, save_every, log_every : int
        Steps between validations, checkpoints and log lines (0: only at the end).
    eval_max : int, default 2048
        Validation sequences evaluated.
    out_dir : str, optional
        Where ``checkpoint.pt`` and ``model.pt`` go; None keeps nothing.
    resume : bool, default True
        Continue from ``out_dir/checkpoint.pt`` when it exists.
    seed : int, default 0
    device : {"auto", "cpu", "cuda"}, default "auto"
    precision : {"auto", "fp32", "bf16"}, default "auto"
        ``auto``: bf16 autocast on CUDA, fp32 on CPU.
    compile : bool, default False
        ``torch.compile`` the model.
    progress : bool, default False
    """

    data: str | tuple[str, ...] = "nci"
    kind: str | None = None
    limit: int | None = None
    max_length: int | None = None
    length: int | None = None
    invalid: str = "skip"
    val_fraction: float = 0.05
    model: str = "tiny"
    d_model: int | None = None
    n_layers: int | None = None
    n_heads: int | None = None
    dropout: float = 0.0
    time_conditioned: bool = False
    steps: int = 1000
    batch_size: int = 64
    grad_accum: int = 1
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    lr_schedule: str = "cosine"
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    ema: float = 0.999
    eval_every: int = 0
    eval_max: int = 2048
    save_every: int = 0
    log_every: int = 50
    out_dir: str | None = None
    resume: bool = True
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False
    progress: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.data, str) and not isinstance(self.data, os.PathLike):
            object.__setattr__(self, "data", tuple(self.data))
            if not self.data:
                raise ValueError("`data` is empty: no sequences to train on")
        elif isinstance(self.data, os.PathLike):
            object.__setattr__(self, "data", os.fspath(self.data))
        if self.kind is not None:
            check_choice(self.kind, "kind", ("smiles", "dna"))
        for name in ("limit", "max_length", "length", "d_model", "n_layers", "n_heads"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, lo=0 if name == "n_layers" else 1)
        check_choice(self.invalid, "invalid", ("skip", "error"))
        check_scalar(self.val_fraction, "val_fraction", lo=0.0, hi=1.0, closed="neither")
        check_choice(self.model, "model", ("tiny", "small", "base"))
        check_scalar(self.dropout, "dropout", lo=0.0, hi=1.0, closed="left")
        check_int(self.steps, "steps", lo=1)
        check_int(self.batch_size, "batch_size", lo=1)
        check_int(self.grad_accum, "grad_accum", lo=1)
        check_scalar(self.lr, "lr", lo=0.0, closed="neither")
        check_scalar(self.weight_decay, "weight_decay", lo=0.0)
        check_int(self.warmup_steps, "warmup_steps", lo=0)
        check_choice(self.lr_schedule, "lr_schedule", ("cosine", "linear", "constant"))
        check_scalar(self.min_lr_ratio, "min_lr_ratio", lo=0.0, hi=1.0)
        check_scalar(self.grad_clip, "grad_clip", lo=0.0)
        check_scalar(self.ema, "ema", lo=0.0, hi=1.0, closed="left")
        for name in ("eval_every", "save_every", "log_every"):
            check_int(getattr(self, name), name, lo=0)
        check_int(self.eval_max, "eval_max", lo=1)
        check_int(self.seed, "seed", lo=0)
        check_choice(self.device, "device", ("auto", "cpu", "cuda"))
        check_choice(self.precision, "precision", ("auto", "fp32", "bf16"))

    def to_dict(self) -> dict[str, Any]:
        """Plain data; in-memory sequences are replaced by a description."""
        d = dataclasses.asdict(self)
        if not isinstance(self.data, str):
            d["data"] = f"<{len(self.data)} in-memory sequences>"
        return d


@dataclasses.dataclass(frozen=True, repr=False)
class TrainResult(Result):
    """What :func:`train` returns.

    Attributes
    ----------
    model : MDLM
        The trained model (EMA weights when ``ema > 0``), in eval mode.
    tokenizer : SmilesTokenizer or DnaTokenizer
    steps : numpy.ndarray
        Step numbers (1-based) of ``loss`` and ``lr``.
    loss : numpy.ndarray
        Training NELBO estimate per position (nats) at each step.
    lr : numpy.ndarray
    val_steps, val_bits_per_token : numpy.ndarray
        Validation NELBO (bits per position) of the evaluated weights.
    unigram_bits_per_token : float
        Baseline: unigram model of the training tokens on the validation set.
    n_parameters, n_train, n_val : int
    tokens_per_second : float
        Training throughput of this run (all processes).
    checkpoint : str or None
    interrupted : bool
        True when a callback stopped the run early.
    """

    model: Any
    tokenizer: Any
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    val_steps: np.ndarray
    val_bits_per_token: np.ndarray
    unigram_bits_per_token: float
    n_parameters: int
    n_train: int
    n_val: int
    tokens_per_second: float
    checkpoint: str | None
    interrupted: bool
