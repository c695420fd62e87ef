"""Timing helpers shared by the benchmark scripts (imported as ``_timing``: a script run
as ``python benchmarks/bench_x.py`` has ``benchmarks/`` first on ``sys.path``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_time(fn: Callable[[], Any], repeats: int, device: Any = None) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls; CUDA is synchronised around
    each call when ``device`` is a CUDA ``torch.device``."""
    cuda = device is not None and getattr(device, "type", None) == "cuda"
    out = []
    for _ in range(repeats):
        if cuda:
            import torch

            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize(device)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def median_time_with_result(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``fn()`` and the result of its last call."""
    ts, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def thread_info() -> dict[str, Any]:
    """The thread settings a benchmark runs under: BLAS/OpenMP pools and the env vars."""
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
    return info


def pinned_threads(n: int = 1) -> Any:
    """A context pinning every BLAS/OpenMP pool to ``n`` threads, for both sides of a
    comparison (threadpoolctl; restored on exit)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


def print_summary(summary: dict[str, Any]) -> None:
    """Print the machine-readable last line ``SUMMARY {json}`` (read by run_all.py)."""
    import json

    print("SUMMARY " + json.dumps(summary, sort_keys=True, default=float))
