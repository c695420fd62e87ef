"""Benchmark of sciddm.sensitivity against its references, as ratios.

Run from the repository root::

    python benchmarks/bench_sensitivity.py            # n = 2e5, d = 50 (a minute or two)
    python benchmarks/bench_sensitivity.py --full     # the issue's sizes: n = 1e6, d = 50 / 500
    python benchmarks/bench_sensitivity.py --memmap   # 1e7 x 20 float64 memmap, peak RSS

Printed (median times of ``--reps`` runs, one process, single-threaded BLAS if the
environment sets ``OMP_NUM_THREADS=1``):

* exact leverage scores / one ``A^T A`` (target <= 3) and numpy Householder QR leverage /
  exact leverage (target >= 5);
* sketched / exact leverage at d = 500 and the accuracy of the sketch;
* Lewis weights at p = 1, 3, 6 in leverage-equivalents (target <= 30 at p = 1) and
  convergence of the Lewis iteration for p in [0.5, 20];
* peak traced memory of the exact leverage computation;
* with ``--memmap``: peak resident memory of leverage scores of a 1e7 x 20 float64
  memmap (1.6 GB on disk; target < 1 GB), measured in a child process.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sciddm._core.validation import ConvergenceWarning
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
            lambda p=p: lewis_weights(A, p, tol=1e-6), max(1, reps // 2), f"lewis{p:g}"
        )
    print(f"\n== exact leverage, n = {n:.0e}, d = {d} (median of {reps}) ==")
    print(f"one pass A @ v          {t_pass:9.4f} s")
    print(f"A^T A                   {t_gram:9.4f} s")
    print(
        f"leverage (Gram-Chol.)   {t_lev:9.4f} s   ratio to A^T A: {t_lev / t_gram:5.2f}  (target <= 3)"
    )
    print(
        f"numpy QR leverage       {t_qr:9.4f} s   QR / ours:      {t_qr / t_lev:5.2f}  (target >= 5)"
    )
    print(f"max |tau - tau_QR|      {err:9.2e}")
    print(f"peak traced memory      {peak / 2**20:9.1f} MiB (A itself: {A.nbytes / 2**20:.1f} MiB)")
    for p, t in lew.items():
        print(
            f"Lewis weights p = {p:g} (tol 1e-6)  {t:8.4f} s = {t / t_lev:5.1f} leverage-equivalents"
            + ("  (target <= 30)" if p == 1.0 else "")
        )
    cpu = dict(CPU)
    print(
        "CPU-time ratios (robust on a shared machine): leverage / A^T A "
        f"{cpu['lev'] / cpu['gram']:.2f}, QR / leverage {cpu['qr'] / cpu['lev']:.2f}, "
        f"Lewis p = 1, 3, 6 / leverage {cpu['lewis1'] / cpu['lev']:.1f}, "
        f"{cpu['lewis3'] / cpu['lev']:.1f}, {cpu['lewis6'] / cpu['lev']:.1f}"
    )
    return {
        "lev_over_gram": t_lev / t_gram,
        "qr_over_lev": t_qr / t_lev,
        "lewis1": lew[1.0] / t_lev,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="n = 1e6 (d = 50 and d = 500)")
    ap.add_argument("--memmap", action="store_true", help="the 1e7 x 20 memmap scale check")
    ap.add_argument("--memmap-rows", type=int, default=10_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--part",
        choices=("all", "exact", "sketch", "lewis"),
        default="all",
        help="run one part only",
    )
    args = ap.parse_args()
    print(
        f"numpy {np.__version__}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
        f"maxrss so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB"
    )
    if args.memmap:
        bench_memmap(args.memmap_rows, 20)
        return
    n = 1_000_000 if args.full else 200_000
    if args.part in ("all", "exact"):
        bench_exact(n, 50, args.reps)
    if args.part in ("all", "sketch"):
        bench_sketch(1_000_000 if args.full else 50_000, 500, max(1, args.reps // 2))
    if args.part in ("all", "lewis"):
        bench_lewis_convergence()


if __name__ == "__main__":
    main()
