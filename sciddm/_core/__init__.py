"""Shared plumbing of the method families (no science, no harness): randomness,
validation, results, atomic files, progress bars, plotting and optional extras.

The reproduction harness (registry, reports, sweeps, statistics of claims) sits
above the families in :mod:`sciddm.reproduce`.
"""

from sciddm._core.extras import require
from sciddm._core.results import Result
from sciddm._core.rng import as_generator, spawn, torch_generator
from sciddm._core.validation import ConvergenceWarning

__all__ = [
    "ConvergenceWarning",
    "Result",
    "as_generator",
    "require",
    "spawn",
    "torch_generator",
]
