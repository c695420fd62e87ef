"""Configuration and result of MDLM training."""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int, check_scalar

__all__ = ["CHOICES", "FIELD_HELP", "TrainConfig", "TrainResult"]

#: The allowed values of the enumerated fields of :class:`TrainConfig`.
CHOICES: dict[str, tuple[str, ...]] = {
    "kind": ("smiles", "dna"),
    "invalid": ("skip", "error"),
    "model": ("tiny", "small", "base"),
    "lr_schedule": ("cosine", "linear", "constant"),
    "device": ("auto", "cpu", "cuda"),
    "precision": ("auto", "fp32", "bf16"),
    "on_nonfinite": ("error", "skip"),
    "tokenizer": ("auto", "smiles", "selfies"),
}

#: One line per field of :class:`TrainConfig`: what it does and its allowed values
#: (the command line's ``--help``).
FIELD_HELP: dict[str, str] = {
    "data": "training data: nci, moses, moses:test, ars, or a file of sequences (one per "
    "line; .smi, .txt, .csv, optionally .gz)",
    "kind": "what the sequences are, when it cannot be guessed from the data",
    "limit": "use only the first LIMIT raw sequences (integer >= 1; default: all)",
    "max_length": "drop sequences with more tokens (integer >= 1; default: keep all)",
    "length": "context length (integer >= 1; default: the longest sequence)",
    "invalid": "invalid SMILES/DNA: drop and count them, or stop with an error",
    "val_fraction": "fraction of sequences held out for validation (in (0, 1))",
    "model": "model size preset: tiny (64 wide, 2 layers), small (256, 6), base (512, 8)",
    "d_model": "override the preset's width (integer >= 1, a multiple of n_heads)",
    "n_layers": "override the preset's depth (integer >= 0)",
    "n_heads": "override the preset's attention heads (integer >= 1)",
    "dropout": "dropout probability (in [0, 1))",
    "time_conditioned": "give the network the time t (MDLM works without it)",
    "steps": "optimiser steps (integer >= 1)",
    "batch_size": "sequences per step over all processes (integer >= 1, divisible by "
    "world size * grad_accum)",
    "grad_accum": "micro-batches per step and process (integer >= 1)",
    "lr": "peak learning rate of AdamW (> 0)",
    "weight_decay": "AdamW weight decay (>= 0; none on biases and norms)",
    "warmup_steps": "linear warm-up steps (integer >= 0)",
    "lr_schedule": "decay after warm-up, down to min_lr_ratio * lr",
    "min_lr_ratio": "final learning rate over lr (in [0, 1])",
    "grad_clip": "maximal gradient norm (>= 0; 0 disables clipping)",
    "ema": "EMA decay of the weights (in [0, 1); 0 disables)",
    "eval_every": "steps between validations (integer >= 0; 0: only at the end)",
    "eval_max": "validation sequences evaluated (integer >= 1)",
    "save_every": "steps between checkpoints (integer >= 0; 0: only at the end)",
    "log_every": "steps between log lines (integer >= 0; 0: none)",
    "out_dir": "folder of checkpoint.pt and model.pt (default: keep nothing)",
    "resume": "continue from OUT_DIR/checkpoint.pt when it exists (--no-resume: start "
    "afresh and overwrite it)",
    "seed": "seed of the initial weights, data order and noise (integer >= 0)",
    "device": "auto: CUDA when available, else CPU",
    "precision": "auto: bf16 autocast on CUDA, fp32 on CPU",
    "compile": "torch.compile the model",
    "progress": "show a progress bar",
    "on_nonfinite": "a non-finite loss or gradient: stop with an error (the checkpoint on "
    "disk stays the last finite one) or skip that step",
    "tokenizer": "auto: atom-level SMILES for molecules, bases for DNA; selfies: SELFIES "
    "symbols (molecules only; every sample decodes to a valid molecule)",
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; the command line has one ``--flag`` per field.

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
        Fraction of sequences held out for validation, in (0, 1).
    model : {"tiny", "small", "base"}, default "tiny"
        Size preset (:meth:`~sciddm.discrete.MDLMConfig.preset`).
    d_model, n_layers, n_heads : int, optional
        Override the preset's sizes.
    dropout : float, default 0.0
        Dropout probability in [0, 1).
    time_conditioned : bool, default False
        Give the network the time ``t``.
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
        Decay after the warm-up.
    min_lr_ratio : float, default 0.1
        Final learning rate over ``lr``, in [0, 1].
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
        Seed of the initial weights, the data order and the noise (data,
        like ``seeds`` in sampling; :func:`~sciddm.discrete.train`'s ``rng``
        overrides it).
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``auto``: CUDA when available.
    precision : {"auto", "fp32", "bf16"}, default "auto"
        ``auto``: bf16 autocast on CUDA, fp32 on CPU.
    compile : bool, default False
        ``torch.compile`` the model.
    progress : bool, default False
        Show a progress bar.
    on_nonfinite : {"error", "skip"}, default "error"
        A non-finite loss or gradient norm stops training with a
        ``FloatingPointError`` naming the step and the knobs to turn (``lr``,
        ``grad_clip``), leaving the last checkpoint on disk untouched; or
        that step is skipped (no update) and recorded in ``skipped_steps``.
    tokenizer : {"auto", "smiles", "selfies"}, default "auto"
        ``auto``: :class:`~sciddm.discrete.SmilesTokenizer` for molecules,
        :class:`~sciddm.discrete.DnaTokenizer` for DNA; ``selfies``:
        :class:`~sciddm.discrete.SelfiesTokenizer` (molecules only; the
        context length counts SELFIES symbols, ``max_length`` SMILES tokens;
        molecules SELFIES cannot encode follow ``invalid``).

    Examples
    --------
    >>> from sciddm.discrete import TrainConfig
    >>> TrainConfig(data="ars", steps=10).batch_size
    64
    >>> TrainConfig(lr_schedule="step")
    Traceback (most recent call last):
    ...
    ValueError: `lr_schedule` must be one of 'cosine', 'linear', 'constant', got 'step'
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
    on_nonfinite: str = "error"
    tokenizer: str = "auto"

    def __post_init__(self) -> None:
        self._data_iv()
        for name, choices in CHOICES.items():
            if name != "kind" or self.kind is not None:
                check_choice(getattr(self, name), name, choices)
        for name in ("limit", "max_length", "length", "d_model", "n_layers", "n_heads"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, lo=0 if name == "n_layers" else 1)
        check_scalar(self.val_fraction, "val_fraction", lo=0.0, hi=1.0, closed="neither")
        check_scalar(self.dropout, "dropout", lo=0.0, hi=1.0, closed="left")
        check_int(self.steps, "steps", lo=1)
        check_int(self.batch_size, "batch_size", lo=1)
        check_int(self.grad_accum, "grad_accum", lo=1)
        check_scalar(self.lr, "lr", lo=0.0, closed="neither")
        check_scalar(self.weight_decay, "weight_decay", lo=0.0)
        check_int(self.warmup_steps, "warmup_steps", lo=0)
        check_scalar(self.min_lr_ratio, "min_lr_ratio", lo=0.0, hi=1.0)
        check_scalar(self.grad_clip, "grad_clip", lo=0.0)
        check_scalar(self.ema, "ema", lo=0.0, hi=1.0, closed="left")
        for name in ("eval_every", "save_every", "log_every"):
            check_int(getattr(self, name), name, lo=0)
        check_int(self.eval_max, "eval_max", lo=1)
        check_int(self.seed, "seed", lo=0)
        if self.out_dir is not None and not isinstance(self.out_dir, (str, os.PathLike)):
            raise TypeError(f"`out_dir` must be a path or None, got {type(self.out_dir).__name__}")
        for name in ("time_conditioned", "resume", "compile", "progress"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"`{name}` must be True or False, got {getattr(self, name)!r}")

    def _data_iv(self) -> None:
        if isinstance(self.data, os.PathLike):
            object.__setattr__(self, "data", os.fspath(self.data))
        if isinstance(self.data, str):
            if not self.data.strip():
                raise ValueError("`data` is empty: give a dataset name, a file or sequences")
            return
        if isinstance(self.data, bytes) or not np.iterable(self.data):
            raise TypeError(
                "`data` must be a dataset name, a file path or a sequence of strings, "
                f"got {type(self.data).__name__}"
            )
        object.__setattr__(self, "data", tuple(self.data))
        if not self.data:
            raise ValueError("`data` is empty: no sequences to train on")
        for i, s in enumerate(self.data):
            if not isinstance(s, str):
                raise TypeError(f"`data[{i}]` must be a str, got {type(s).__name__}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data; in-memory sequences are replaced by a description."""
        d = dataclasses.asdict(self)
        if not isinstance(self.data, str):
            d["data"] = f"<{len(self.data)} in-memory sequences>"
        return d


@dataclasses.dataclass(frozen=True, repr=False)
class TrainResult(Result):
    """What :func:`~sciddm.discrete.train` returns.

    Attributes
    ----------
    model : MDLM
        The trained model (EMA weights when ``ema > 0``), in eval mode.
    losses : numpy.ndarray
        Training NELBO estimate per position (nats) at each step (NaN at a
        skipped step).
    wall_time : float
        Seconds of training in this run (validation included).
    tokenizer : SmilesTokenizer or DnaTokenizer
        The tokenizer built from the data.
    steps : numpy.ndarray
        Step numbers (1-based) of ``losses`` and ``lr``.
    lr : numpy.ndarray
        Learning rate of each step.
    val_steps, val_bits_per_token : numpy.ndarray
        Validation NELBO (bits per position) of the evaluated weights.
    unigram_bits_per_token : float
        Baseline: unigram model of the training tokens on the validation set.
    n_parameters, n_train, n_val : int
        Trainable parameters, training and validation sequences.
    tokens_per_second : float
        Training throughput of this run (all processes).
    checkpoint : str or None
        ``out_dir/checkpoint.pt``.
    interrupted : bool
        True when a callback stopped the run early.
    skipped_steps : numpy.ndarray
        Steps skipped for a non-finite loss or gradient (``on_nonfinite="skip"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import train
    >>> seqs = ["".join(np.random.default_rng(i).choice(list("ACGT"), 8)) for i in range(40)]
    >>> res = train(data=seqs, steps=3, batch_size=8, warmup_steps=1, val_fraction=0.2, rng=0)
    >>> res.losses.shape, res.wall_time > 0, res.skipped_steps.size
    ((3,), True, 0)
    """

    model: Any
    losses: np.ndarray
    wall_time: float
    tokenizer: Any
    steps: np.ndarray
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
    skipped_steps: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )

    @property
    def loss(self) -> np.ndarray:
        """Deprecated name of :attr:`losses`."""
        warnings.warn(
            "TrainResult.loss is deprecated; use TrainResult.losses", DeprecationWarning, 2
        )
        return self.losses
