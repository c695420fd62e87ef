"""Toy experiments for the harness tests, loaded by ``sciddm`` child processes through
``SCIDDM_EXPERIMENTS=tests.reproduce.toy_experiments`` (the documented way to add one's
own experiments to the CLI).

Environment variables steer them:

``TOY_COUNTER``
    A file to which every experiment appends its name when it starts (proves what ran).
``TOY_SLOW_SECONDS``
    How long ``toy.slow`` keeps two loky workers busy (default 0).
``TOY_PIDS``
    A folder where ``toy.slow``'s workers write their process ids.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sciddm._core.progress import progress_bar
from sciddm.reproduce import Context, register


def _count(name: str) -> None:
    path = os.environ.get("TOY_COUNTER")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")


@register(
    "toy.first",
    description="A quick toy with a figure, a table and a note <b>escaped</b>.",
    quick={"n": 200},
    full={"n": 2000},
    demo={"n": 50},
)
def first(ctx: Context) -> None:
    _count(ctx.name)
    x = ctx.rng.normal(size=ctx.params["n"])
    for _ in progress_bar(range(3), enabled=ctx.progress, total=3, desc="toy loop"):
        time.sleep(0.01)
    ctx.claim("the sample mean is near 0", source="LLN", measured=abs(x.mean()), expected=1.0)
    ctx.claim("a claim that <fails>", source="nobody & co", measured=2.0, expected=1.0)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(x[:20])
    ctx.figure(fig, "trace")
    ctx.table("sizes", [{"n": ctx.params["n"], "mean": float(x.mean())}])
    ctx.note("a note with <script>alert(1)</script> & friends")


def _busy_worker(seconds: float, folder: str) -> int:
    if folder:
        Path(folder, f"{os.getpid()}.pid").write_text(str(os.getpid()))
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        time.sleep(0.05)
    return os.getpid()


@register(
    "toy.slow",
    description="Keeps two loky workers busy for $TOY_SLOW_SECONDS.",
    quick={"workers": 2},
    full={"workers": 2},
)
def slow(ctx: Context) -> None:
    _count(ctx.name)
    seconds = float(os.environ.get("TOY_SLOW_SECONDS", "0"))
    ctx.claim("started", source="toy", measured=1.0, expected=1.0, op="~=")
    if seconds > 0:
        from joblib import Parallel, delayed

        folder = os.environ.get("TOY_PIDS", "")
        n = ctx.params["workers"]
        Parallel(n_jobs=n, backend="loky")(
            delayed(_busy_worker)(seconds, folder) for _ in range(2 * n)
        )
    ctx.claim("finished", source="toy", measured=1.0, expected=1.0, op="~=")


@register("toy.third", description="Runs after the slow one.", quick={}, full={})
def third(ctx: Context) -> None:
    _count(ctx.name)
    ctx.claim("third holds", source="toy", measured=0.0, expected=0.0, op="~=")


@register("toy.boom", description="Raises an exception.", quick={}, full={})
def boom(ctx: Context) -> None:
    _count(ctx.name)
    ctx.claim("measured before the error", source="toy", measured=0.0, expected=0.0, op="~=")
    raise RuntimeError("boom from the toy")


@register("other.solo", description="Another family.", quick={}, full={}, demo={})
def solo(ctx: Context) -> None:
    _count(ctx.name)
    ctx.claim("solo holds", source="toy", measured=0.0, expected=0.0, op="~=")
