"""The reproduction harness behind ``sciddm reproduce``: it sits above the families.

Each method family's paper reproductions are *experiments*: functions of a
:class:`Context` that record *claims* (the paper's statement, the measured value,
the tolerance, and whether it holds), tables, figures and notes. They live in
this package, one module per family (``sciddm/reproduce/leastsquares.py``, ...),
and are imported only by :func:`get_registry`; no family imports this package.

Registering your own experiment::

    from sciddm.reproduce import register, run_experiment

    @register("mine.mean", description="The mean of N(0, 1) is 0.",
              quick={"n": 1000}, full={"n": 100_000})
    def mean(ctx):
        x = ctx.rng.normal(size=ctx.params["n"])
        ctx.claim("the sample mean is near 0", source="LLN", measured=x.mean(),
                  expected=0.0, op="~=", tolerance=0.2)

    run = run_experiment("mine.mean")      # an ExperimentRun with its claims

Public names
------------
register, get_registry, run_experiment, Context, Claim, Experiment, ExperimentRun
    The registry and one experiment's run.
write_report, markdown_table, format_number
    The report writer.
run_sweep, expand_grid, SweepResult
    Grids of seeds and sizes on joblib, one spawned generator per cell.
mean_ci, chisquare_gof, total_variation
    The statistics that claims and sampler tests use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sciddm.reproduce._registry import (
        Claim,
        Context,
        Experiment,
        ExperimentRun,
        get_registry,
        register,
        run_experiment,
    )
    from sciddm.reproduce._report import format_number, markdown_table, write_report
    from sciddm.reproduce._stats import chisquare_gof, mean_ci, total_variation
    from sciddm.reproduce._sweep import SweepResult, expand_grid, run_sweep

# Names are imported on first use, so that ``sciddm list`` (which reads the
# manifest through ``sciddm.reproduce._catalog``) imports neither numpy nor scipy.
_WHERE = {
    "Claim": "_registry",
    "Context": "_registry",
    "Experiment": "_registry",
    "ExperimentRun": "_registry",
    "get_registry": "_registry",
    "register": "_registry",
    "run_experiment": "_registry",
    "format_number": "_report",
    "markdown_table": "_report",
    "write_report": "_report",
    "chisquare_gof": "_stats",
    "mean_ci": "_stats",
    "total_variation": "_stats",
    "SweepResult": "_sweep",
    "expand_grid": "_sweep",
    "run_sweep": "_sweep",
}

__all__ = [
    "Claim",
    "Context",
    "Experiment",
    "ExperimentRun",
    "SweepResult",
    "chisquare_gof",
    "expand_grid",
    "format_number",
    "get_registry",
    "markdown_table",
    "mean_ci",
    "register",
    "run_experiment",
    "run_sweep",
    "total_variation",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"sciddm.reproduce.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sciddm.reproduce' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
