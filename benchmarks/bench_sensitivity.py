"""Benchmark of sciddm.sensitivity against its references, as ratios.

Run from the repository root::

    python benchmarks/bench_sensitivity.py --quick    # n = 1e5, d = 50 (under a minute)
    python benchmarks/bench_sensitivity.py            # n = 1e6, d = 50 / 500 (the issue's sizes)
    python benchmarks/bench_sensitivity.py --memmap   # 1e7 x 20 float64 memmap, peak RSS

Printed (median times of ``--reps`` runs, one process; every BLAS/OpenMP pool pinned to
one thread for both sides with threadpoolctl, the settings printed; CPU-time ratios too,
the robust figures on a shared machine):

* exact leverage scores / one ``A^T A`` (target <= 2.5) and numpy Householder QR
  leverage / exact leverage;
* sketched / exact leverage at d = 500 and the accuracy of the sketch;
* Lewis weights at p = 1, 3, 6 in leverage-equivalents, at ``tol = 1e-8`` (target <= 25
  at p = 1) and at the sampling tolerance 0.1 of ``row_scores`` (target <= 15 at p = 1),
  and the damped iteration beside the default (Anderson-accelerated) one; convergence of
  the Lewis iteration for p in [0.5, 20];
* peak traced memory of the exact leverage computation;
* with ``--memmap``: peak resident memory of leverage scores of a 1e7 x 20 float64
  memmap (1.6 GB on disk; target < 1 GB), measured in a child process.

The last line is a machine-readable summary, ``SUMMARY {json}``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _timing import pinned_threads, print_summary, thread_info
from sklearn.exceptions import ConvergenceWarning

from sciddm.sensitivity import heavy_tailed_matrix, leverage_scores, lewis_weights

CPU: list[tuple[str, float]] = []


def median_time(fn, reps: int, label: str | None = None) -> float:
    """Median wall time; the median CPU time (process_time) is kept under ``label``."""
    ts, cs = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    if label:
        CPU.append((label, float(np.median(cs))))
    return float(np.median(ts))


def qr_leverage(A: np.ndarray) -> np.ndarray:
    Q = np.linalg.qr(A)[0]
    return np.einsum("ij,ij->i", Q, Q)


def bench_exact(n: int, d: int, reps: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d))
    v = rng.standard_normal(d)
    t_pass = median_time(lambda: A @ v, reps)
    t_gram = median_time(lambda: A.T @ A, reps, "gram")
    t_lev = median_time(lambda: leverage_scores(A), reps, "lev")
    t_qr = median_time(lambda: qr_leverage(A), max(1, reps // 2), "qr")
    err = float(np.max(np.abs(leverage_scores(A) - qr_leverage(A))))
    tracemalloc.start()
    leverage_scores(A)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    lew = {}
    for p in (1.0, 3.0, 6.0):
        lew[p] = median_time(
            lambda p=p: lewis_weights(A, p, tol=1e-8), max(1, reps // 2), f"lewis{p:g}"
        )
    lew_damped = median_time(
        lambda: lewis_weights(A, 1.0, method="damped", tol=1e-8), max(1, reps // 2), "damped1"
    )
    lew_loose = {
        p: median_time(lambda p=p: lewis_weights(A, p, tol=0.1), reps, f"loose{p:g}")
        for p in (1.0, 6.0)
    }
    print(f"\n== exact leverage, n = {n:.0e}, d = {d} (median of {reps}) ==")
    print(f"one pass A @ v          {t_pass:9.4f} s")
    print(f"A^T A                   {t_gram:9.4f} s")
    print(
        f"leverage (Gram-Chol.)   {t_lev:9.4f} s   ratio to A^T A: {t_lev / t_gram:5.2f}  "
        "(target <= 2.5)"
    )
    print(f"numpy QR leverage       {t_qr:9.4f} s   QR / ours:      {t_qr / t_lev:5.2f}")
    print(f"max |tau - tau_QR|      {err:9.2e}")
    print(f"peak traced memory      {peak / 2**20:9.1f} MiB (A itself: {A.nbytes / 2**20:.1f} MiB)")
    for p, t in lew.items():
        print(
            f"Lewis weights p = {p:g} (tol 1e-8)  {t:8.4f} s = {t / t_lev:5.1f} "
            "leverage-equivalents" + ("  (target <= 25)" if p == 1.0 else "")
        )
    print(f"  damped (no acceleration), p = 1   {lew_damped / t_lev:5.1f} leverage-equivalents")
    for p, t in lew_loose.items():
        print(
            f"Lewis weights p = {p:g} (tol 0.1, sampling) {t / t_lev:5.1f} leverage-equivalents"
            + ("  (target <= 15)" if p == 1.0 else "")
        )
    cpu = dict(CPU)
    print(
        "CPU-time ratios (robust on a shared machine): leverage / A^T A "
        f"{cpu['lev'] / cpu['gram']:.2f}, QR / leverage {cpu['qr'] / cpu['lev']:.2f}, "
        f"Lewis p = 1, 3, 6 / leverage {cpu['lewis1'] / cpu['lev']:.1f}, "
        f"{cpu['lewis3'] / cpu['lev']:.1f}, {cpu['lewis6'] / cpu['lev']:.1f}; "
        f"at tol 0.1, p = 1: {cpu['loose1'] / cpu['lev']:.1f}"
    )
    return {
        "n": n,
        "d": d,
        "lev_over_gram_cpu": round(cpu["lev"] / cpu["gram"], 3),
        "qr_over_lev_cpu": round(cpu["qr"] / cpu["lev"], 2),
        "lewis1_tol1e-8_levs_cpu": round(cpu["lewis1"] / cpu["lev"], 2),
        "lewis6_tol1e-8_levs_cpu": round(cpu["lewis6"] / cpu["lev"], 2),
        "lewis1_damped_levs_cpu": round(cpu["damped1"] / cpu["lev"], 2),
        "lewis1_tol0.1_levs_cpu": round(cpu["loose1"] / cpu["lev"], 2),
    }


def bench_sketch(n: int, d: int, reps: int) -> None:
    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, d))
    A *= np.abs(rng.standard_t(3.0, size=n))[:, None]  # in place: one n x d array
    t_exact = median_time(lambda: leverage_scores(A), reps, "exact500")
    t_sk = median_time(lambda: leverage_scores(A, method="sketch", rng=0), reps, "sketch500")
    ratio = leverage_scores(A, method="sketch", rng=0) / leverage_scores(A)
    print(f"\n== sketched leverage, n = {n:.0e}, d = {d} (median of {reps}) ==")
    print(f"exact                   {t_exact:9.4f} s")
    print(f"sparse-sign sketch + JL {t_sk:9.4f} s   exact / sketch: {t_exact / t_sk:5.2f}")
    cpu = dict(CPU)
    print(f"CPU-time ratio exact / sketch: {cpu['exact500'] / cpu['sketch500']:.2f}")
    q = np.quantile(ratio, [0.0, 0.01, 0.5, 0.99, 1.0])
    print("sketch / exact quantiles (0, 1, 50, 99, 100 %): " + "  ".join(f"{x:.3f}" for x in q))


def bench_lewis_convergence() -> None:
    A = heavy_tailed_matrix(5000, 10, df=2.0, rng=2)
    print("\n== Lewis weights convergence, n = 5000, d = 10 ==")
    for p in (0.5, 0.75, 1.0, 1.5, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            t0 = time.perf_counter()
            w = lewis_weights(A, p, tol=1e-10)
            t = time.perf_counter() - t0
        ok = not caught and abs(w.sum() - 10) < 1e-6
        print(
            f"p = {p:5.2f}: sum w = {w.sum():.10f}  {'converged' if ok else 'NOT CONVERGED'}  {t:.3f} s"
        )


_CHILD = """
import resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from sciddm.sensitivity import leverage_scores
A = np.memmap({path!r}, dtype=np.float64, mode="r", shape=({n}, {d}))
t0 = time.perf_counter()
tau = leverage_scores(A)
t = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(f"{{t:.2f}} {{peak}} {{tau.sum():.8f}} {{tau.nbytes}}")
"""


def bench_memmap(n: int, d: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sciddm-bench-"))
    path = tmp / "A.f64"
    rng = np.random.default_rng(3)
    chunk = 500_000
    t0 = time.perf_counter()
    try:
        with open(path, "wb") as f:  # plain writes: the writer's memory stays small
            for s in range(0, n, chunk):
                f.write(rng.standard_normal((min(chunk, n - s), d)).tobytes())
        t_write = time.perf_counter() - t0
        code = _CHILD.format(root=str(ROOT), path=str(path), n=n, d=d)
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ},
        ).stdout.split()
        t, peak_kib, s, tau_bytes = float(out[0]), int(out[1]), float(out[2]), int(out[3])
        print(f"\n== memmap leverage, {n:.0e} x {d} float64 ({n * d * 8 / 1e9:.2f} GB on disk) ==")
        print(f"file written in {t_write:.1f} s; leverage in {t:.1f} s; sum tau = {s:.6f}")
        print(
            f"peak resident memory of the child: {peak_kib / 2**20:.3f} GiB "
            f"(target < 1 GB; the output tau alone is {tau_bytes / 2**20:.0f} MiB)"
        )
    finally:
        path.unlink(missing_ok=True)
        tmp.rmdir()


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark (``quick``: n = 1e5; otherwise the issue's 1e6); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 1e5 (under a minute)")
    ap.add_argument("--memmap", action="store_true", help="the 1e7 x 20 memmap scale check")
    ap.add_argument("--memmap-rows", type=int, default=10_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--part",
        choices=("all", "exact", "sketch", "lewis"),
        default="all",
        help="run one part only",
    )
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    summary: dict[str, Any] = {"bench": "sensitivity", "quick": quick, "threads": 1}
    print(
        f"numpy {np.__version__}; maxrss so far "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB"
    )
    with pinned_threads(1):
        print(f"thread settings (both sides): {thread_info()}")
        if args.memmap:
            bench_memmap(args.memmap_rows, 20)
            print_summary(summary)
            return summary
        n = 100_000 if quick else 1_000_000
        if args.part in ("all", "exact"):
            summary.update(bench_exact(n, 50, args.reps))
        if args.part in ("all", "sketch"):
            bench_sketch(50_000 if quick else 1_000_000, 500, max(1, args.reps // 2))
        if args.part in ("all", "lewis"):
            bench_lewis_convergence()
    print_summary(summary)
    return summary


if __name__ == "__main__":
    main(argv=sys.argv[1:])
