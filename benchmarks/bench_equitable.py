"""sciddm.equitable against generic scipy references, side by side.

- ``fit_learning_curve`` (variable projection) vs ``scipy.optimize.curve_fit`` (trf, bounds)
  on noisy power-law data: median time ratio and the agreement of the fitted exponent.
- ``allocate`` (closed form / bisection / nested search) vs ``scipy.optimize.minimize``
  (SLSQP on the original problem): time ratio and the relative gap of objective values.

Run: ``python benchmarks/bench_equitable.py`` (``--big`` for more groups and repeats).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _timing import median_time_with_result
from scipy import optimize

from sciddm.equitable import allocate, fit_learning_curve, power_law


def bench_fit(reps: int, rng: np.random.Generator) -> None:
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


def bench_allocate(G: int, reps: int, rng: np.random.Generator) -> None:
    for objective in ("utilitarian", "maxmin"):
        out = np.array([_allocate_case(G, objective, rng) for _ in range(reps)])
        print(f"allocate[{objective}] / SLSQP time ratio (median, G={G}): "
              f"{np.median(out[:, 0]):.2f}; median relative objective gap "
              f"(SLSQP - ours, > 0: sciddm better) = {np.median(out[:, 1]):.2e}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", action="store_true", help="more groups and repeats")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    bench_fit(40 if args.big else 10, rng)
    for G in (3, 10) if not args.big else (3, 10, 50):
        bench_allocate(G, 20 if args.big else 5, rng)


if __name__ == "__main__":
    main()
