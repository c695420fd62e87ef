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
