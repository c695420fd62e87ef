"""The reproduction harness behind ``sciddm reproduce``: it sits above the families.

Each method family's paper reproductions are *experiments*: functions of a
:class:`Context` that record *claims* (the paper's statement, the measured value,
the tolerance, and whether it holds), tables, figures and notes. They live in
this package, one module per family (``sciddm/reproduce/leastsquares.py``, ...),
and are imported only by :func:`get_registry` and the command line (which reads
``manifest.json`` to import only what it runs); no family imports this package.

Registering your own experiment, in a module of your own (``mypkg/experiments.py``)::

    from sciddm.reproduce import Context, register

    @register(
        "mine.mean",
        description="The sample mean of N(0, 1) is within 3/sqrt(n) of 0.",
        quick={"n": 1_000},
        full={"n": 1_000_000},
        demo={"n": 100},  # optional: also run by `sciddm reproduce --demo`
    )
    def mean(ctx: Context) -> None:
        n = ctx.params["n"]                   # the sizes of the mode being run
        x = ctx.rng.normal(size=n)            # seeded from (--seed, name)
        ctx.claim("the sample mean is near 0", source="law of large numbers",
                  measured=abs(x.mean()), expected=3 / n**0.5, op="<=")

Run it from Python, ``run_experiment("mine.mean", mode="quick")`` (an
:class:`ExperimentRun` with its claims), or from the command line by naming the
module in ``SCIDDM_EXPERIMENTS`` (comma-separated modules)::

    SCIDDM_EXPERIMENTS=mypkg.experiments sciddm list
    SCIDDM_EXPERIMENTS=mypkg.experiments sciddm reproduce mine --out my-results

An installed package can instead declare the module in the entry-point group
``sciddm.experiments`` of its ``pyproject.toml``::

    [project.entry-points."sciddm.experiments"]
    mypkg = "mypkg.experiments"

A claim that does not hold is reported, never raised; an exception inside an
experiment marks it ``"error"`` in the report and the run goes on.

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
