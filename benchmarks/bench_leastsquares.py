"""Benchmark: sciddm's projection-DPP sampler against one N^3 matmul and DPPy.

The sampler draws the projection DPP of the d = 2 polynomials indexed by DPPy's own
ordering of multi-indices (``compute_ordering``, downward closed; the first N of a total
degree set when DPPy is missing), with the uniform reference measure on [-1, 1]^2. Printed,
for each N: the median time of sciddm's sampler, of one N x N by N x N matmul (the cubic
floor: the goal is within 3 times of it at N = 1000 and 2000), and of DPPy's
MultivariateJacobiOPE when it imports, with the ratios. DPPy's ordering fills squares of
degrees, so the kernel is separable (a short sum of products of small Gram matrices); the
same ratio is then printed for a total-degree set of m = 990, which is not. Last, the
throughput of the exact i.i.d. optimal sampler (points/second) for d = 5, m = 252.

Both sides run in one process, alternately, with every BLAS/OpenMP pool pinned to one
thread (threadpoolctl; the settings are printed). CPU times are printed beside wall
times: on a shared machine they are the robust figures. The last line is a machine-
readable summary, ``SUMMARY {json}``.

Usage::

    python benchmarks/bench_leastsquares.py --quick   # N = 300, 1000, 2000; DPPy to 1000
    python benchmarks/bench_leastsquares.py           # N = 300, 1000, 2000
    python benchmarks/bench_leastsquares.py --sizes 1000,2000 --no-dppy   # the 3x goal only
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy
from _timing import pinned_threads, print_summary, thread_info

from sciddm.leastsquares import Legendre, TensorBasis, sample_projection_dpp, total_degree


def _median_time(fn: Callable[[int], Any], reps: int) -> tuple[float, float]:
    """Median wall-clock and median CPU (process) time of ``fn(r)`` over ``reps`` calls."""
    wall, cpu = [], []
    for r in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(r)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _dppy() -> tuple[Any, Any]:
    try:
        import dppy
        from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE, compute_ordering
    except Exception as exc:  # pragma: no cover - reported, not hidden
        print(f"DPPy could not be imported: {type(exc).__name__}: {exc}")
        return None, None
    from importlib.metadata import version

    print(f"dppy {getattr(dppy, '__version__', None) or version('dppy')} imported")
    return MultivariateJacobiOPE, compute_ordering


def _run_dppy(Ope: Any, N: int, reps: int) -> tuple[float, float, str]:
    try:
        dpp = Ope(N, np.zeros((2, 2)))
        sink = io.StringIO()

        def run(r: int) -> None:
            # DPPy prints when a rejection loop fails; capture it and report it
            with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x = dpp.sample(random_state=np.random.RandomState(2000 + r))
            if np.asarray(x).shape != (N, 2):
                raise RuntimeError(f"DPPy returned shape {np.asarray(x).shape}")

        t, c = _median_time(run, reps)
        note = (
            ("DPPy printed: " + sink.getvalue().strip().splitlines()[0][:60])
            if sink.getvalue()
            else ""
        )
        return t, c, note
    except Exception as exc:  # report exactly how DPPy fails
        return float("nan"), float("nan"), f"DPPy failed: {type(exc).__name__}: {exc}"


def _dpp_and_matmul(basis: TensorBasis, reps: int) -> tuple[float, float, float, float]:
    """Median wall and CPU times of one DPP sample of ``basis`` (after a warm-up) and of
    one ``m x m`` matmul: ``(dpp, dpp_cpu, matmul, matmul_cpu)``."""
    sample_projection_dpp(basis, rng=0)  # warm-up
    ours, ours_c = _median_time(lambda r: sample_projection_dpp(basis, rng=1000 + r), reps)
    M = np.random.default_rng(basis.m).standard_normal((basis.m, basis.m))
    mm, mm_c = _median_time(lambda r: M @ M, max(reps, 3))
    return ours, ours_c, mm, mm_c


def bench_dpp(
    sizes: dict[int, int], summary: dict[str, Any], dppy: bool = True, dppy_max: int | None = None
) -> None:
    Ope, ordering = _dppy()  # DPPy's ordering of the multi-indices, even without its timings
    if not dppy:
        Ope = None
    print("\nProjection DPP, d = 2, Legendre (uniform measure); median seconds, wall (cpu)")
    print(f"{'N':>6} {'sciddm':>18} {'N^3 matmul':>18} {'sciddm/matmul':>15} {'DPPy':>18} "
          f"{'DPPy/sciddm':>13}")  # fmt: skip
    for N, reps in sizes.items():
        idx = np.array(ordering(N, 2)) if ordering is not None else total_degree(2, 70)[:N]
        ours, ours_c, mm, mm_c = _dpp_and_matmul(TensorBasis(Legendre(), idx), reps)
        theirs = theirs_c = float("nan")
        note = ""
        if Ope is not None and (dppy_max is None or N <= dppy_max):
            theirs, theirs_c, note = _run_dppy(Ope, N, reps)
        print(f"{N:>6} {ours:>8.4f} ({ours_c:>7.4f}) {mm:>8.4f} ({mm_c:>7.4f}) "
              f"{ours / mm:>6.2f} ({ours_c / mm_c:>5.2f}) {theirs:>8.4f} ({theirs_c:>7.4f}) "
              f"{theirs / ours:>5.1f} ({theirs_c / ours_c:>5.1f})  {note}")  # fmt: skip
        sys.stdout.flush()
        summary[f"dpp_over_matmul_cpu_N{N}"] = round(ours_c / mm_c, 3)
        if theirs_c == theirs_c:  # not NaN: DPPy ran at this N
            summary[f"dppy_over_dpp_cpu_N{N}"] = round(theirs_c / ours_c, 2)


def bench_dpp_total_degree(degree: int, reps: int, summary: dict[str, Any]) -> None:
    """The same ratio for a total-degree index set, whose kernel has no separable form
    (one range of last degrees per prefix): the sampler's generic path."""
    basis = TensorBasis(Legendre(), total_degree(2, degree))
    m = basis.m
    _, ours_c, _, mm_c = _dpp_and_matmul(basis, reps)
    print(f"\nTotal-degree index set (d = 2, degree {degree}, m = {m}: no separable kernel): "
          f"{ours_c:.4f} s cpu, matmul {mm_c:.4f} s cpu, ratio {ours_c / mm_c:.2f}")  # fmt: skip
    summary[f"dpp_total_degree_over_matmul_cpu_m{m}"] = round(ours_c / mm_c, 3)


def bench_iid(n: int, summary: dict[str, Any]) -> None:
    print("\nExact i.i.d. optimal sampling, d = 5, m = 252 (Legendre, total degree 5)")
    basis5 = TensorBasis(Legendre(), total_degree(5, 5))
    basis5.sample_optimal_points(1000, rng=0)
    t, tc = _median_time(lambda r: basis5.sample_optimal_points(n, rng=r), 3)
    print(f"sciddm sample_optimal_points: {n / t:,.0f} points/s wall, {n / tc:,.0f} points/s cpu "
          f"({n} points in {t:.3f} s)")  # fmt: skip
    summary["iid_points_per_cpu_s"] = round(n / tc)


def main(quick: bool = False, sizes: list[int] | None = None, dppy: bool = True) -> dict[str, Any]:
    """Run the benchmark; ``quick`` uses fewer repetitions and points and runs DPPy up to
    N = 1000 only, ``sizes`` picks
    the N (5 repetitions each), ``dppy=False`` skips DPPy's timings. Returns the summary."""
    summary: dict[str, Any] = {"bench": "leastsquares", "quick": quick, "threads": 1}
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")
    with pinned_threads(1):
        print(f"thread settings (both sides): {thread_info()}")
        reps = {300: 5, 1000: 5, 2000: 3} if quick else {300: 7, 1000: 7, 2000: 5}
        if sizes:
            reps = dict.fromkeys(sizes, 5)
        # DPPy's N = 2000 takes minutes: quick runs compare with it up to N = 1000
        bench_dpp(reps, summary, dppy=dppy, dppy_max=1000 if quick else None)
        bench_dpp_total_degree(43, 5, summary)
        bench_iid(50_000 if quick else 200_000, summary)
    print_summary(summary)
    return summary


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="N = 300, 1000, 2000, DPPy up to 1000 (about a minute)")  # fmt: skip
    ap.add_argument("--sizes", type=lambda v: [int(t) for t in v.split(",")], default=None,
                    help="comma-separated N, e.g. 1000,2000 (5 repetitions each)")  # fmt: skip
    ap.add_argument("--no-dppy", action="store_true", help="skip DPPy (its N = 2000 takes minutes)")
    args = ap.parse_args()
    main(quick=args.quick, sizes=args.sizes, dppy=not args.no_dppy)
