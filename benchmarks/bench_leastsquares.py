"""Benchmark: sciddm's projection-DPP sampler against DPPy's MultivariateJacobiOPE.

Both sample the projection DPP of the same space: the d = 2 polynomials indexed by DPPy's
own ordering of multi-indices (``compute_ordering``, which is downward closed), with the
uniform reference measure on [-1, 1]^2 (Jacobi parameters a = b = 0). They run in one
process, alternately, and the script prints median times and the ratio DPPy / sciddm. It
also prints the throughput of sciddm's exact i.i.d. optimal sampler (points/second) for
d = 5, m = 252 (Legendre, total degree 5), with DPPy's one-point proposal sampler of its
own 252-dimensional space for reference.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_leastsquares.py          # ~2-4 minutes
    OMP_NUM_THREADS=1 python benchmarks/bench_leastsquares.py --full   # more repetitions

Timings are wall-clock on a shared machine; rerun for stable numbers. Nothing here is a
test: no timing is asserted anywhere.
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

import numpy as np
import scipy

from sciddm.leastsquares import Legendre, TensorBasis, sample_projection_dpp, total_degree


def _median_time(fn, reps: int) -> tuple[float, float]:
    """Median wall-clock and median CPU (process) time of ``fn(r)`` over ``reps`` calls."""
    wall, cpu = [], []
    for r in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(r)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="more repetitions (and N = 2000)")
    args = ap.parse_args(argv)
    reps = {100: 15, 300: 9, 1000: 5, 2000: 3} if args.full else {100: 7, 300: 5, 1000: 3}
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")

    try:
        import dppy
        from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE, compute_ordering
    except Exception as exc:  # pragma: no cover - reported, not hidden
        print(f"DPPy could not be imported: {type(exc).__name__}: {exc}")
        MultivariateJacobiOPE = None  # type: ignore[assignment,misc]
    else:
        from importlib.metadata import version

        print(f"dppy {getattr(dppy, '__version__', None) or version('dppy')} imported")

    print("\nProjection DPP, d = 2, Legendre (uniform measure), same space for both")
    print("median seconds, wall clock (cpu time in brackets: robust on a shared machine)")
    print(f"{'N':>6} {'sciddm':>18} {'DPPy':>18} {'DPPy/sciddm':>18}  notes")
    for N in reps:
        if MultivariateJacobiOPE is not None:
            idx = np.array(compute_ordering(N, 2))
        else:  # pragma: no cover
            p = int(np.ceil(np.sqrt(N)))
            idx = total_degree(2, p)[:N]
        basis = TensorBasis(Legendre(), idx)
        sample_projection_dpp(basis, rng=0)  # warm-up
        ours, ours_cpu = _median_time(
            lambda r, b=basis: sample_projection_dpp(b, rng=1000 + r), reps[N]
        )
        note = ""
        theirs = theirs_cpu = float("nan")
        if MultivariateJacobiOPE is not None:
            try:
                dpp = MultivariateJacobiOPE(N, np.zeros((2, 2)))
                sink = io.StringIO()

                def run_dppy(r: int, dpp=dpp, sink=sink, N=N) -> None:
                    # DPPy prints when a rejection loop fails; capture it and report it
                    with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        x = dpp.sample(random_state=np.random.RandomState(2000 + r))
                    if np.asarray(x).shape != (N, 2):
                        raise RuntimeError(f"DPPy returned shape {np.asarray(x).shape}")

                theirs, theirs_cpu = _median_time(run_dppy, reps[N])
                if sink.getvalue():
                    note = "DPPy printed: " + sink.getvalue().strip().splitlines()[0][:60]
            except Exception as exc:  # report exactly how DPPy fails
                note = f"DPPy failed: {type(exc).__name__}: {exc}"
        ratio = theirs / ours
        rc = theirs_cpu / ours_cpu
        print(
            f"{N:>6} {ours:>8.4f} ({ours_cpu:>7.4f}) {theirs:>8.4f} ({theirs_cpu:>7.4f}) "
            f"{ratio:>8.1f} ({rc:>7.1f})  {note}"
        )
        sys.stdout.flush()

    print("\nExact i.i.d. optimal sampling, d = 5, m = 252 (Legendre, total degree 5)")
    basis5 = TensorBasis(Legendre(), total_degree(5, 5))
    n = 200_000 if args.full else 50_000
    basis5.sample_optimal_points(1000, rng=0)
    t, tc = _median_time(lambda r: basis5.sample_optimal_points(n, rng=r), 3)
    print(
        f"sciddm sample_optimal_points: {n / t:,.0f} points/s wall, {n / tc:,.0f} points/s cpu "
        f"({n} points in {t:.3f} s)"
    )
    if MultivariateJacobiOPE is not None:
        try:
            dpp5 = MultivariateJacobiOPE(252, np.zeros((5, 2)))
            k = 2000
            rs = np.random.RandomState(0)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(k):
                dpp5.sample_chain_rule_proposal(random_state=rs)
            t, tc = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"DPPy sample_chain_rule_proposal (its own max-degree ordering of 252 "
                f"functions): {k / t:,.0f} points/s wall, {k / tc:,.0f} points/s cpu"
            )
        except Exception as exc:
            print(f"DPPy proposal sampler failed: {type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
