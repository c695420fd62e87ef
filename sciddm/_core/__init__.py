"""Shared plumbing of sciddm (no science): randomness, validation, results,
sweeps, the experiment registry and report writing."""

from sciddm._core.extras import require
from sciddm._core.results import Result
from sciddm._core.rng import as_generator, spawn, torch_generator
from sciddm._core.sweep import SweepResult, run_sweep
from sciddm._core.validation import ConvergenceWarning

__all__ = [
    "ConvergenceWarning",
    "Result",
    "SweepResult",
    "as_generator",
    "require",
    "run_sweep",
    "spawn",
    "torch_generator",
]
