"""``train``: train an MDLM on SMILES or DNA."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sciddm._core.rng import RNGLike, check_rng, seed_from
from sciddm.discrete._training._config import TrainConfig, TrainResult
from sciddm.discrete._training._trainer import Trainer

__all__ = ["resolve_config", "train"]


def resolve_config(
    config: TrainConfig | dict[str, Any] | None, rng: Any, overrides: dict[str, Any]
) -> TrainConfig:
    """The run's :class:`TrainConfig`: ``config`` with ``overrides``, and ``seed`` from ``rng``."""
    if config is None:
        config = TrainConfig()
    elif isinstance(config, dict):
        unknown = set(config) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        config = TrainConfig(**config)
    elif not isinstance(config, TrainConfig):
        raise TypeError(f"`config` must be a TrainConfig or a dict, got {type(config).__name__}")
    if overrides:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        config = dataclasses.replace(config, **overrides)
    check_rng(rng, torch_ok=True)
    if rng is not None:
        if isinstance(rng, torch.Generator):
            seed = int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device))
        elif isinstance(rng, np.random.Generator):
            seed = seed_from(rng)
        else:
            seed = int(rng)
        config = dataclasses.replace(config, seed=seed)
    return config


def train(
    config: TrainConfig | dict[str, Any] | None = None,
    /,
    *,
    rng: RNGLike = None,
    callback: Callable[[int, dict[str, float]], Any] | None = None,
    **overrides: Any,
) -> TrainResult:
    r"""Train an MDLM on SMILES or DNA; the same code path as ``torchrun -m sciddm.discrete.training``.

    Parameters
    ----------
    config : TrainConfig or dict, optional
        Defaults to ``TrainConfig()``; ``overrides`` replace its fields.
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the run: the initial weights, the split, the data
        order, the noise and dropout are all derived from one seed, which is
        ``rng`` itself for an int, drawn from a generator, or
        ``config.seed`` (default 0) when ``rng`` is None, so that a run is
        reproducible and resumable by default. The same ``rng`` gives
        bit-identical weights on CPU; torch's global generator is never used.
    callback : callable, optional
        ``callback(step, {"loss": ..., "lr": ...})`` after every optimiser
        step; returning True stops training cleanly (a checkpoint is saved
        when ``out_dir`` is set and the result has ``interrupted=True``).
    **overrides
        Fields of :class:`TrainConfig`.

    Returns
    -------
    TrainResult
        The model (``.model``), the loss of every step (``.losses``) and the
        wall time (``.wall_time``), with validation and throughput figures.

    Raises
    ------
    FloatingPointError
        When the loss or the gradient becomes non-finite and
        ``on_nonfinite="error"``: the message names the step and the knobs
        (``lr``, ``grad_clip``), and the checkpoint on disk stays the last
        finite one.
    CheckpointError
        (A ``ValueError``.) When ``out_dir/checkpoint.pt`` cannot be read
        for resuming; pass ``resume=False`` to start afresh.

    Notes
    -----
    Each step minimises the mean over a batch of the continuous-time NELBO
    estimate per position with MDLM's schedule (masking probability
    :math:`(1-\varepsilon) t`, see :func:`~sciddm.discrete.nelbo`) with AdamW,
    linear warm-up then cosine (or linear) decay, gradient clipping and an
    EMA of the weights. A SIGINT (Ctrl-C) or SIGTERM finishes the current
    step, writes ``checkpoint.pt`` and raises KeyboardInterrupt (a second
    signal acts at once); every checkpoint is written to a temporary file
    and renamed, so the previous one survives a crash during the write.
    Re-running with the same ``out_dir`` resumes: model, EMA, optimizer,
    scheduler, step and history are restored, and the data order and noise
    are functions of ``(seed, step)``, so the resumed loss curve equals the
    uninterrupted one.

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and Effective Masked Diffusion Language
       Models", NeurIPS 2024 (loss, antithetic time sampling, EMA).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import train
    >>> g = np.random.default_rng(0)
    >>> seqs = ["".join(g.choice(list("ACGT"), 8)) for _ in range(40)]
    >>> res = train(data=seqs, steps=5, batch_size=8, warmup_steps=1, val_fraction=0.2, rng=1)
    >>> res.losses.shape, res.model.vocab_size, res.val_bits_per_token.shape
    ((5,), 5, (1,))
    """
    config = resolve_config(config, rng, overrides)
    trainer = Trainer(config, callback=callback)
    try:
        return trainer.run()
    finally:
        trainer.close()
