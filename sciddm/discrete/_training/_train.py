"""``train``: train an MDLM on SMILES or DNA."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sciddm.discrete._training._config import TrainConfig, TrainResult
from sciddm.discrete._training._trainer import Trainer

__all__ = ["train"]


def train(
    config: TrainConfig | dict[str, Any] | None = None,
    /,
    *,
    callback: Callable[[int, dict[str, float]], Any] | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train an MDLM on SMILES or DNA; the same code path as ``torchrun -m sciddm.discrete.training``.

    Parameters
    ----------
    config : TrainConfig or dict, optional
        Defaults to ``TrainConfig()``; ``overrides`` replace its fields.
    callback : callable, optional
        ``callback(step, {"loss": ..., "lr": ...})`` after every optimiser
        step; returning True stops training cleanly (a checkpoint is saved
        when ``out_dir`` is set and the result has ``interrupted=True``).
    **overrides
        Fields of :class:`TrainConfig`.

    Returns
    -------
    TrainResult

    Notes
    -----
    Each step minimises the mean over a batch of the continuous-time NELBO
    estimate per position (see :func:`sciddm.discrete.nelbo`) with AdamW,
    linear warm-up then cosine (or linear) decay, gradient clipping and an
    EMA of the weights. A SIGINT (Ctrl-C) or SIGTERM finishes the current
    step, writes ``checkpoint.pt`` and raises KeyboardInterrupt (a second
    signal acts at once); every checkpoint is
    written to a temporary file and renamed, so the previous one survives a
    crash during the write. Re-running with the same ``out_dir`` resumes:
    model, EMA, optimizer, scheduler, step and history are restored, and the
    data order and noise are functions of ``(seed, step)``, so the resumed
    loss curve equals the uninterrupted one.

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and Effective Masked Diffusion Language
       Models", NeurIPS 2024 (loss, antithetic time sampling, EMA).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import train
    >>> rng = np.random.default_rng(0)
    >>> seqs = ["".join(rng.choice(list("ACGT"), 8)) for _ in range(40)]
    >>> res = train(data=seqs, steps=5, batch_size=8, warmup_steps=1, val_fraction=0.2)
    >>> res.loss.shape, res.model.vocab_size, res.val_bits_per_token.shape
    ((5,), 5, (1,))
    """
    if config is None:
        config = TrainConfig()
    elif isinstance(config, dict):
        config = TrainConfig(**config)
    elif not isinstance(config, TrainConfig):
        raise ValueError(f"`config` must be a TrainConfig or a dict, got {type(config).__name__}")
    if overrides:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        config = dataclasses.replace(config, **overrides)
    trainer = Trainer(config, callback=callback)
    try:
        return trainer.run()
    finally:
        trainer.close()
