"""Timing helpers shared by the benchmark scripts (imported as ``_timing``: a script run
as ``python benchmarks/bench_x.py`` has ``benchmarks/`` first on ``sys.path``)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _clock(clock: str) -> Callable[[], float]:
    if clock not in ("wall", "cpu"):
        raise ValueError(f"`clock` must be 'wall' or 'cpu', got {clock!r}")
    return time.perf_counter if clock == "wall" else time.process_time


def median_time(
    fn: Callable[[], Any], repeats: int, device: Any = None, clock: str = "wall"
) -> float:
    """Median time of ``fn()`` over ``repeats`` calls; CUDA is synchronised around
    each call when ``device`` is a CUDA ``torch.device``. ``clock="cpu"`` measures
    ``time.process_time`` (the robust figure on a shared machine when every pool runs
    one thread) instead of wall time."""
    cuda = device is not None and getattr(device, "type", None) == "cuda"
    now = _clock(clock)
    out = []
    for _ in range(repeats):
        if cuda:
            import torch

            torch.cuda.synchronize(device)
        t0 = now()
        fn()
        if cuda:
            torch.cuda.synchronize(device)
        out.append(now() - t0)
    return statistics.median(out)


def median_time_with_result(
    fn: Callable[[], Any], repeats: int, clock: str = "wall"
) -> tuple[float, Any]:
    """Median time (``clock``: "wall" or "cpu") of ``fn()`` and the result of its last call."""
    now = _clock(clock)
    ts, out = [], None
    for _ in range(repeats):
        t0 = now()
        out = fn()
        ts.append(now() - t0)
    return statistics.median(ts), out


def interleaved(
    sides: dict[str, Callable[[], Any]], repeats: int, clock: str = "cpu"
) -> tuple[dict[str, float], dict[str, Any]]:
    """Median times of several sides of a comparison run in turn, ``repeats`` rounds of
    one call each (so that a change of machine load hits every side alike), and the
    result of each side's last call."""
    now = _clock(clock)
    times: dict[str, list[float]] = {k: [] for k in sides}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, fn in sides.items():
            t0 = now()
            results[name] = fn()
            times[name].append(now() - t0)
    return {k: statistics.median(v) for k, v in times.items()}, results


def thread_info() -> dict[str, Any]:
    """The thread settings a benchmark runs under: BLAS/OpenMP pools, the env vars and,
    when torch has been imported, torch's intra-op thread count (``torch_threads``)."""
    import os

    info: dict[str, Any] = {
        k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            f"{p.get('internal_api')}:{p.get('num_threads')}" for p in threadpool_info()
        ]
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        info["threadpools"] = "threadpoolctl missing"
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    return info


@contextmanager
def pinned_threads(n: int = 1) -> Iterator[None]:
    """A context pinning every BLAS/OpenMP pool to ``n`` threads (threadpoolctl), and
    torch's intra-op pool too when torch has been imported, for both sides of a
    comparison; restored on exit."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=n):
        if torch is not None:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)


def print_summary(summary: dict[str, Any]) -> None:
    """Print the machine-readable last line ``SUMMARY {json}`` (read by run_all.py)."""
    import json

    print("SUMMARY " + json.dumps(summary, sort_keys=True, default=float))
