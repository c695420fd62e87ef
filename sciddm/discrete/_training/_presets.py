"""Named training recipes: the fields of :class:`TrainConfig` for a stated time budget."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["TRAIN_PRESETS", "preset_help"]


def _freeze(d: dict[str, dict[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in d.items()})


# The CPU recipe: a 4-layer, 128-wide MDLM (0.8 M parameters) on 200,000 MOSES
# molecules, 10,000 steps of 64. A step took 0.29 s of one core (process time, fp32,
# length 54, measured on a shared 2-core machine), so the steps take about 48 minutes
# of one core; a second core (torch threads, or a second process's share) leaves room
# for reading the data, the final validation and the checkpoints.
_CPU_HOUR: dict[str, Any] = dict(
    data="moses", limit=200_000, max_length=56, model="tiny", d_model=128, n_layers=4,
    n_heads=4, steps=10_000, batch_size=64, lr=2e-3, warmup_steps=300, lr_schedule="cosine",
    min_lr_ratio=0.05, ema=0.999, val_fraction=0.01, eval_every=0, eval_max=1_024,
    save_every=500, log_every=100, device="cpu", precision="fp32",
)  # fmt: skip

#: Training recipes by name; each maps :class:`~sciddm.discrete.TrainConfig`
#: fields to values (read-only). ``sciddm train-discrete --preset NAME`` starts
#: from one (explicit options override it); in Python,
#: ``train(**TRAIN_PRESETS[name], out_dir=...)``.
TRAIN_PRESETS: Mapping[str, Mapping[str, Any]] = _freeze(
    {
        # <= 60 minutes on two CPU cores: SMILES
        "cpu-hour": {**_CPU_HOUR, "tokenizer": "smiles"},
        # the same on SELFIES (every sample decodes to a valid molecule)
        "cpu-hour-selfies": {**_CPU_HOUR, "tokenizer": "selfies"},
        # <= 5 minutes on one GPU (the MOSES section of benchmarks/gpu_run.sh; not yet timed
        # on a GPU: 1 M molecules through a 5 M-parameter model)
        "gpu-5min": dict(
            data="moses",
            limit=500_000,
            max_length=56,
            model="small",
            steps=4_000,
            batch_size=256,
            lr=1e-3,
            warmup_steps=200,
            min_lr_ratio=0.05,
            ema=0.999,
            val_fraction=0.01,
            eval_every=0,
            eval_max=4_096,
            save_every=1_000,
            log_every=200,
            device="cuda",
            precision="bf16",
            tokenizer="smiles",
        ),  # fmt: skip
        # the GPU recipe (the full mode of discrete.molecules): 25.6 M molecules through
        # the 5 M-parameter model, sized for at most an hour on one GPU (not yet timed)
        "gpu-hour": dict(
            data="moses",
            limit=None,
            max_length=56,
            model="small",
            steps=50_000,
            batch_size=512,
            lr=1e-3,
            warmup_steps=1_000,
            min_lr_ratio=0.05,
            ema=0.9999,
            val_fraction=0.01,
            eval_every=5_000,
            eval_max=8_192,
            save_every=2_500,
            log_every=500,
            device="cuda",
            precision="bf16",
            tokenizer="smiles",
        ),  # fmt: skip
    }
)


def preset_help() -> str:
    """One line per preset, for the command line's ``--help``."""
    parts = []
    for name, p in TRAIN_PRESETS.items():
        size = f"{p['d_model']}x{p['n_layers']}" if "d_model" in p else p["model"]
        parts.append(f"{name} ({p['tokenizer']}, {size}, {p['steps']} steps, {p['device']})")
    return "; ".join(parts)
