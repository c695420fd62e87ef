"""Shared plumbing of the method families (no science, no harness): randomness,
validation, results, atomic files, progress bars, plotting, optional extras and lazy
re-exports.

The reproduction harness (registry, reports, sweeps, statistics of claims) sits
above the families in :mod:`sciddm.reproduce`. Importing this package costs only numpy:
its names load on first use (``sciddm._core.lazy``), and ``ConvergenceWarning`` (which
is scikit-learn's) imports scikit-learn only when it is looked up.
"""

from typing import TYPE_CHECKING

__all__ = [
    "ConvergenceWarning",
    "Result",
    "as_generator",
    "require",
    "spawn",
    "torch_generator",
]

if TYPE_CHECKING:
    from sciddm._core.extras import require
    from sciddm._core.results import Result
    from sciddm._core.rng import as_generator, spawn, torch_generator
    from sciddm._core.validation import ConvergenceWarning
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            ".extras": ("require",),
            ".results": ("Result",),
            ".rng": ("as_generator", "spawn", "torch_generator"),
            ".validation": ("ConvergenceWarning",),
        },
        __all__,
        submodules=("extras", "results", "rng", "validation"),
    )
