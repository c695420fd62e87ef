# %% [markdown]
# # Getting started with sciddm
#
# sciddm is a library for *sampling*: choosing which points, rows, groups or noise
# levels to use, and drawing samples from diffusion models. Every family of methods
# shares four conventions, which this notebook walks through:
#
# 1. **Randomness** is explicit and reproducible (`rng=` everywhere, no global state).
# 2. **Results** are frozen dataclasses with named fields.
# 3. **Sweeps** over seeds and sizes run in parallel with identical results for any
#    number of workers.
# 4. **`sciddm reproduce`** runs the papers' experiments and writes a report of claims.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sciddm._core import as_generator, spawn, torch_generator
from sciddm.reproduce import Context, register, run_experiment, run_sweep, write_report

FAST = os.environ.get("SCIDDM_FAST") == "1"

# %% [markdown]
# ## 1. Randomness (SPEC 7)
#
# Every stochastic function takes a keyword-only `rng`: a `numpy.random.Generator`, an
# integer seed, or `None` (fresh entropy). An integer always gives the same stream; a
# generator is consumed, so successive calls differ. Parallel work uses *spawned*
# children, which are statistically independent streams derived from the parent's seed.

# %%
g = as_generator(42)
print("same seed, same numbers:", as_generator(42).random() == as_generator(42).random())
children = spawn(42, 3)
print("three independent children:", [round(float(c.random()), 4) for c in children])

import torch

t = torch.randn(3, generator=torch_generator(42))
print("torch draws from the same seed:", t)

# %% [markdown]
# ## 2. Result objects
#
# Functions that return several things return a frozen dataclass. Arrays are shown by
# their shape; `to_dict()` gives plain Python data ready for JSON.

# %%
import dataclasses

from sciddm._core import Result


@dataclasses.dataclass(frozen=True, repr=False)
class MeanEstimate(Result):
    samples: np.ndarray
    mean: float
    stderr: float


def estimate_mean(n, *, rng=None):
    x = as_generator(rng).exponential(size=n)
    return MeanEstimate(samples=x, mean=float(x.mean()), stderr=float(x.std(ddof=1) / np.sqrt(n)))


est = estimate_mean(500, rng=0)
print(est)
print(est.summary())

# %% [markdown]
# ## 3. A parallel sweep
#
# `run_sweep(fn, grid, rng=..., n_jobs=...)` evaluates `fn(**cell, rng=child)` on every
# cell of a grid. The child generator of a cell is fixed by its position in the grid,
# so the records are identical whether the sweep runs on one core, two processes, a
# thread pool, or a Dask/Ray cluster (`joblib.parallel_config(backend="dask")`).
#
# Below: the standard error of the sample mean of an exponential variable scales as
# $1/\sqrt n$.


# %%
def stderr_of_mean(n, seed, rng):
    x = rng.exponential(size=n)
    return {"abs_error": abs(float(x.mean()) - 1.0)}


sizes = [10, 30, 100, 300, 1000] if not FAST else [10, 100, 1000]
grid = {"n": sizes, "seed": list(range(20 if FAST else 100))}
serial = run_sweep(stderr_of_mean, grid, rng=1, n_jobs=1)
parallel = run_sweep(stderr_of_mean, grid, rng=1, n_jobs=2)
print("identical for n_jobs=1 and n_jobs=2:", serial.records == parallel.records)

rows = serial.summarize("abs_error", by=["n"])
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar(
    [r["n"] for r in rows],
    [r["mean"] for r in rows],
    yerr=[[r["mean"] - r["lo"] for r in rows], [r["hi"] - r["mean"] for r in rows]],
    fmt="o-",
    label="mean |error| (95% CI)",
)
ns = np.array(sizes, dtype=float)
ax.plot(ns, np.sqrt(2 / np.pi) / np.sqrt(ns), "k--", label=r"$\sqrt{2/\pi}/\sqrt{n}$")
ax.set(xscale="log", yscale="log", xlabel="n", ylabel="|mean - 1|")
ax.legend()

# %% [markdown]
# The measured error follows $\mathbb E|\bar X - \mu| \approx \sqrt{2/\pi}\,\sigma/\sqrt n$
# (the mean absolute value of a Gaussian), as the central limit theorem says.
#
# ## 4. `sciddm reproduce`
#
# Each method family registers its paper reproductions. An experiment receives a
# context with its sizes (`--demo`, `--quick` or `--full`), a seeded generator, the
# device, and records **claims**: the paper's statement, the measured value, what it is
# held to, and whether it holds. A claim that does not hold is reported, never raised.
#
# From the shell:
#
# ```
# sciddm list                              # every experiment, its quick time, the demo set (*)
# sciddm reproduce --demo                  # the curated set: a few minutes on 2 cores
# sciddm reproduce --quick --n-jobs 2      # every experiment, small sizes
# sciddm reproduce sensitivity --full      # one family, paper sizes
# sciddm reproduce --resume                # continue an interrupted run (results/latest)
# ```
#
# Each run writes `report.md`, a self-contained `report.html`, `claims.json`,
# `figures/`, one record per experiment and a log into a new `results/<UTC date-time>/`
# (`results/latest` points at it), bringing the report up to date after every
# experiment, so Ctrl-C keeps everything that finished.
#
# Here we register a toy experiment, the way a module of your own would, and run it the
# way the command line does. (To run your module from the command line, name it in
# `SCIDDM_EXPERIMENTS=mypkg.experiments` or in the `sciddm.experiments` entry-point
# group of your package.)


# %%


@register(
    "tutorial.clt",
    description="The sample mean's error shrinks like 1/sqrt(n).",
    quick={"reps": 50},
    full={"reps": 2000},
    demo={"reps": 20},
)
def clt_experiment(ctx: Context) -> None:
    n_big = 1000
    errs = [abs(ctx.rng.exponential(size=n_big).mean() - 1.0) for _ in range(ctx.params["reps"])]
    ctx.claim(
        "E|mean - 1| is about sqrt(2/pi)/sqrt(n) at n = 1000",
        source="central limit theorem",
        measured=float(np.mean(errs)),
        expected=float(np.sqrt(2 / np.pi) / np.sqrt(n_big)),
        op="~=",
        tolerance=0.01,
    )
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.hist(errs, bins=10)
    ax.set(xlabel="|mean - 1|", ylabel="count")
    ctx.figure(fig, "errors")


out = Path(tempfile.mkdtemp())
run = run_experiment("tutorial.clt", mode="quick", seed=0, figure_dir=out / "figures")
print(run.status, [(c.claim, c.holds) for c in run.claims])
report = write_report(out, [run], {"mode": "quick", "seed": 0})
print(report.read_text()[:1200])
print("report.html:", (out / "report.html").stat().st_size, "bytes, figures embedded")

# %% [markdown]
# ## What to take away
#
# * Pass `rng=<int>` for reproducible results; pass a generator to continue a stream.
# * Results are dataclasses: read fields by name, export with `to_dict()`.
# * `run_sweep` makes seeds x sizes x methods grids parallel without changing a number.
# * `sciddm reproduce` turns each paper's headline claim into a measured, checked row of
#   `report.md`, `report.html` and `claims.json`; `--demo` shows the curated set in
#   minutes, and your own experiments join through `sciddm.reproduce.register`.
