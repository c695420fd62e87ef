"""sciddm.equitable against generic scipy references, side by side.

- ``fit_learning_curve`` (variable projection) vs ``scipy.optimize.curve_fit`` (trf, bounds)
  on noisy power-law data: median time ratio and the agreement of the fitted exponent.
- ``allocate`` (closed form / Brent root / nested search, then the exact integer search)
  vs ``scipy.optimize.minimize`` (SLSQP on the continuous problem only): time ratio and the
  relative gap of objective values.
- ``greedy_allocate``'s threshold jump vs the one-at-a-time greedy loop it reproduces:
  time ratio at growing budgets, and the equality of the two allocations.

Both sides run with every BLAS/OpenMP pool pinned to one thread (threadpoolctl; printed).
The last line is a machine-readable summary, ``SUMMARY {json}``.

Run: ``python benchmarks/bench_equitable.py --quick`` (seconds) or without the flag for
more groups and repeats.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
from _timing import median_time_with_result, pinned_threads, print_summary, thread_info
from scipy import optimize

from sciddm.equitable import allocate, fit_learning_curve, greedy_allocate, power_law
from sciddm.equitable._integer import greedy_steps


def bench_fit(reps: int, rng: np.random.Generator) -> float:
    n = np.repeat(np.geomspace(10, 2000, 8).round(), 3)
    ratios, diffs = [], []
    for _ in range(reps):
        err = power_law(n, 2.0, 0.5, 0.1) + rng.normal(0, 0.01, n.size)
        t_ours, c = median_time_with_result(lambda err=err: fit_learning_curve(n, err), 3)

        def ref(err=err):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return optimize.curve_fit(power_law, n, err, p0=[1.0, 0.5, 0.0],
                                          bounds=([0, 1e-6, 0], [np.inf, 4, err.min()]),
                                          maxfev=10_000)[0]  # fmt: skip

        t_ref, p = median_time_with_result(ref, 3)
        ratios.append(t_ours / t_ref)
        diffs.append(abs(c.b - p[1]))
    print(f"fit_learning_curve / curve_fit time ratio (median): {np.median(ratios):.2f}; "
          f"median |b_ours - b_ref| = {np.median(diffs):.2e}")  # fmt: skip
    return float(np.median(ratios))


def _allocate_case(G: int, objective: str, rng: np.random.Generator) -> tuple[float, float]:
    a, b, e = rng.uniform(0.5, 5, G), rng.uniform(0.2, 1.0, G), rng.uniform(0, 0.2, G)
    w, c, B = rng.dirichlet(np.ones(G)), rng.uniform(0.5, 3, G), 5000.0
    curves = [dict(a=a[i], b=b[i], e=e[i]) for i in range(G)]
    t_ours, res = median_time_with_result(
        lambda: allocate(curves, c, B, objective=objective, weights=w), 3
    )

    def f(n):
        err = a * n ** (-b) + e
        return float(w @ err) if objective == "utilitarian" else float(err.max())

    def ref():
        return optimize.minimize(
            f, np.full(G, B / c.sum()), method="SLSQP", bounds=[(1, None)] * G,
            constraints=[{"type": "ineq", "fun": lambda n: B - c @ n}],
            options={"maxiter": 1000, "ftol": 1e-12},
        )  # fmt: skip

    t_ref, r = median_time_with_result(ref, 3)
    return t_ours / t_ref, (f(r.x) - res.value_continuous) / abs(res.value_continuous)


def bench_allocate(G: int, reps: int, rng: np.random.Generator, summary: dict[str, Any]) -> None:
    for objective in ("utilitarian", "maxmin"):
        out = np.array([_allocate_case(G, objective, rng) for _ in range(reps)])
        print(f"allocate[{objective}] / SLSQP time ratio (median, G={G}): "
              f"{np.median(out[:, 0]):.2f}; median relative objective gap "
              f"(SLSQP - ours, > 0: sciddm better) = {np.median(out[:, 1]):.2e}")  # fmt: skip
        summary[f"allocate_{objective}_over_slsqp_G{G}"] = round(float(np.median(out[:, 0])), 3)


def bench_greedy(budgets: tuple[float, ...], summary: dict[str, Any]) -> None:
    """The threshold jump against the one-at-a-time greedy loop (same allocation)."""
    curves = [dict(a=1.0, b=0.5, e=0.05), dict(a=3.0, b=0.7, e=0.1), dict(a=0.5, b=0.3, e=0.0)]
    c = np.array([1.0, 2.5, 1.5])
    w = np.full(3, 1 / 3)

    def gain(j: int, k: np.ndarray) -> np.ndarray:
        kk = k.astype(float)
        a, b = curves[j]["a"], curves[j]["b"]
        return w[j] * a * kk ** (-b) * -np.expm1(-b * np.log1p(1.0 / kk)) / c[j]

    for B in budgets:
        t_fast, fast = median_time_with_result(lambda B=B: greedy_allocate(curves, c, B), 3)
        t_loop, ref = median_time_with_result(
            lambda B=B: greedy_steps(np.ones(3, dtype=np.int64), gain, c, B, np.full(3, np.inf)),
            1,
        )
        same = bool(np.array_equal(fast.n, ref))
        print(f"greedy_allocate, budget {B:.0e}: jump {t_fast * 1e3:.2f} ms, one-at-a-time loop "
              f"{t_loop * 1e3:.1f} ms, loop / jump {t_loop / t_fast:.0f}; same allocation: {same}")  # fmt: skip
        summary[f"greedy_loop_over_jump_B{B:.0e}"] = round(t_loop / t_fast, 1)
        summary[f"greedy_same_B{B:.0e}"] = same


def main(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark (``quick``: fewer groups and repeats); returns the summary."""
    summary: dict[str, Any] = {"bench": "equitable", "quick": quick, "threads": 1}
    rng = np.random.default_rng(0)
    with pinned_threads(1):
        print(f"thread settings (both sides): {thread_info()}")
        summary["fit_over_curve_fit"] = round(bench_fit(10 if quick else 40, rng), 3)
        for G in (3, 10) if quick else (3, 10, 50):
            bench_allocate(G, 5 if quick else 20, rng, summary)
        bench_greedy((1e3, 1e4) if quick else (1e3, 1e4, 1e5), summary)
    print_summary(summary)
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer groups and repeats")
    main(quick=parser.parse_args().quick)
