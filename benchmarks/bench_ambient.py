"""Benchmark sciddm.ambient against references, printing ratios of median CPU times.

1. ``NoisyGaussianMixture`` on clean data versus scikit-learn's ``GaussianMixture``
   (same model when every sigma_n is 0): time and mean log-likelihood.
2. ``heteroscedastic_gaussian_mle`` (EM) versus direct maximisation of the same
   likelihood with ``scipy.optimize.minimize`` (L-BFGS-B on a Cholesky parametrisation).

Both sides of each comparison run in this process, interleaved, with every BLAS/OpenMP
pool pinned to one thread (threadpoolctl; printed). The last line is a machine-readable
summary, ``SUMMARY {json}``.

Run ``python benchmarks/bench_ambient.py --quick`` (n = 4000 and 3000, seconds) or
without the flag for n = 20000 (a few minutes).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
from _timing import interleaved, pinned_threads, print_summary, thread_info
from scipy.optimize import minimize
from sklearn.mixture import GaussianMixture

from sciddm.ambient import NoisyGaussianMixture, heteroscedastic_gaussian_mle, noisy_log_likelihood


def _scipy_mle(y: np.ndarray, s: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    d = y.shape[1]
    tril = np.tril_indices(d)

    def unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L = np.zeros((d, d))
        L[tril] = p[d:]
        return p[:d], L @ L.T

    def nll(p: np.ndarray) -> float:
        m, c = unpack(p)
        return float(-noisy_log_likelihood(y, s, [1.0], m[None], c[None]).mean())

    p0 = np.r_[y.mean(0), np.eye(d)[tril]]
    r = minimize(nll, p0, method="L-BFGS-B")
    return unpack(r.x), -float(r.fun)


def bench_mixture(n: int, d: int, k: int, reps: int, rng: np.random.Generator) -> dict[str, Any]:
    means = 4 * rng.normal(size=(k, d))
    comp = rng.choice(k, size=n)
    x = means[comp] + rng.normal(size=(n, d))
    t, res = interleaved(
        {
            "sciddm": lambda: NoisyGaussianMixture(k, tol=1e-6, random_state=0).fit(x),
            "sklearn": lambda: GaussianMixture(k, tol=1e-6, random_state=0, max_iter=1000).fit(x),
        },
        reps,
    )
    ours, ref = res["sciddm"], res["sklearn"]
    print(f"mixture (clean data, n={n}, d={d}, k={k})")
    print(f"  loglik sciddm {ours.lower_bound_:.5f}  sklearn {ref.score(x):.5f}")
    print(
        f"  CPU time ratio sciddm/sklearn = {t['sciddm'] / t['sklearn']:.2f}  "
        f"({t['sciddm']:.3f}s vs {t['sklearn']:.3f}s)"
    )
    return {
        "mixture_n": n,
        "mixture_d": d,
        "mixture_k": k,
        "mixture_over_sklearn_cpu": round(t["sciddm"] / t["sklearn"], 3),
        "mixture_loglik_minus_sklearn": float(ours.lower_bound_ - ref.score(x)),
    }


def bench_mle(n: int, d: int, reps: int, rng: np.random.Generator) -> dict[str, Any]:
    y = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    s = rng.choice([0.0, 0.5, 2.0], size=n)
    y = y + s[:, None] * rng.normal(size=(n, d))
    t, res = interleaved(
        {"em": lambda: heteroscedastic_gaussian_mle(y, s), "scipy": lambda: _scipy_mle(y, s)},
        reps,
    )
    fit, ((_, c_sp), ll_sp) = res["em"], res["scipy"]
    print(f"heteroscedastic Gaussian MLE (n={n}, d={d})")
    print(f"  loglik EM {fit.log_likelihood:.6f}  scipy {ll_sp:.6f}")
    print(f"  max |cov diff| {np.abs(fit.covariance - c_sp).max():.2e}")
    print(
        f"  CPU time ratio EM/scipy = {t['em'] / t['scipy']:.2f}  "
        f"({t['em']:.3f}s vs {t['scipy']:.3f}s)"
    )
    return {
        "em_n": n,
        "em_d": d,
        "em_over_lbfgsb_cpu": round(t["em"] / t["scipy"], 3),
        "em_loglik_minus_lbfgsb": float(fit.log_likelihood - ll_sp),
    }


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``quick``: smaller problems); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 4000 and 3000 (seconds)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    sizes = ((4000, 4, 3), (3000, 3)) if quick else ((20000, 8, 5), (20000, 6))
    summary: dict[str, Any] = {"bench": "ambient", "quick": quick}
    rng = np.random.default_rng(0)
    with pinned_threads(1):
        summary["threads"] = thread_info()
        print(f"thread settings (both sides): {summary['threads']}")
        summary.update(bench_mixture(*sizes[0], args.repeats, rng))
        summary.update(bench_mle(*sizes[1], args.repeats, rng))
    summary["labels"] = {
        "mixture_over_sklearn_cpu": "time(NoisyGaussianMixture, clean data) / "
        f"time(scikit-learn GaussianMixture), k = {sizes[0][2]}, CPU time",
        "em_over_lbfgsb_cpu": "time(heteroscedastic_gaussian_mle, EM) / "
        "time(scipy L-BFGS-B on the same likelihood), CPU time",
    }
    print_summary(summary)
    return summary


if __name__ == "__main__":
    main(argv=sys.argv[1:])
