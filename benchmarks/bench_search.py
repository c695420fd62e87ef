"""Benchmarks of the schedule search (sciddm.diffusion.search_schedule), printed as ratios.

1. The exact W2 of a schedule (gaussian_output_law) versus its Monte Carlo estimate (run
   the sampler on n samples, W2 between the fitted Gaussian and the data law): time per
   candidate and the error of the estimate — what an exact fitness buys per candidate.
2. Search throughput (candidates per second) of the three fitnesses at NFE 6, and the
   cost of the flow fitness's reference solve.
3. Quality per network call: the best-so-far fitness of the evolutionary and the local
   search after 25 %, 50 % and 100 % of the same budget, relative to the best fixed schedule
   (quality figures, in the summary but not time ratios).

Everything runs in this process with every BLAS/OpenMP pool and torch pinned to one
thread (threadpoolctl, ``torch.set_num_threads``; printed); times are CPU times. The last
line is a machine-readable summary, ``SUMMARY {json}``.

Run: ``python benchmarks/bench_search.py --quick`` (Monte Carlo up to n = 10^4, ~200
candidates, a 1500-call quality budget; well under a minute) or without the flag (n up to
10^5, ~200 candidates, 3000 calls).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
import torch
from _timing import median_time_with_result, pinned_threads, print_summary, thread_info

from sciddm.diffusion import (
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    gaussian_output_law,
    gaussian_w2,
    karras_sigmas,
    sample_dpmpp_2m,
    search_schedule,
)
from sciddm.diffusion.toys import ring_mixture, ring_mixture_params


def _gaussian(d: int = 16) -> GaussianDenoiser:
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return GaussianDenoiser(0.3 * rng.normal(size=d), (Q * np.geomspace(1e-3, 1.0, d)) @ Q.T)


def bench_exact_vs_monte_carlo(
    d: int = 16, ns: tuple[int, ...] = (1_000, 10_000, 100_000)
) -> dict[str, Any]:
    g = _gaussian(d)
    s = karras_sigmas(6)
    t_cf, law = median_time_with_result(
        lambda: gaussian_output_law(g, s, sampler="dpmpp_2m"), 20, clock="cpu"
    )
    out: dict[str, Any] = {"exact_ms_per_candidate_cpu": t_cf * 1e3}
    print(f"\n[1] exact W2 vs Monte Carlo, DPM-Solver++(2M) NFE 6, d = {d}")
    print(f"    exact: W2 = {law.w2:.5f}, {t_cf * 1e3:.3f} ms per candidate")
    for n in ns:
        x = 80.0 * torch.randn(
            n, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64
        )

        def mc(x: torch.Tensor = x) -> float:
            y = sample_dpmpp_2m(g, x, s).samples.numpy()
            return gaussian_w2(y.mean(0), np.cov(y, rowvar=False), g.mean_, g.cov_)

        t_mc, w = median_time_with_result(mc, 3, clock="cpu")
        out[f"mc_over_exact_n{n}_cpu"] = round(t_mc / t_cf, 1)
        out[f"mc_rel_error_n{n}"] = abs(w - law.w2) / law.w2
        print(
            f"    Monte Carlo n = {n:>6}: |error| = {abs(w - law.w2):.2e} "
            f"({abs(w - law.w2) / law.w2:.1%}), time ratio MC / exact = {t_mc / t_cf:8.1f}"
        )
    return out


def bench_throughput(nfe: int = 6, budget_candidates: int = 200) -> dict[str, Any]:
    g = _gaussian()
    w, m, c = ring_mixture_params()
    mix = GaussianMixtureDenoiser(m, c, w)
    ref = ring_mixture(5000, rng=0)
    budget = budget_candidates * nfe
    runs: dict[str, dict[str, Any]] = {
        "w2 (exact, 16-d Gaussian)": {"denoiser": g, "fitness": "w2"},
        "flow (ring mixture, 512 noises)": {
            "denoiser": mix,
            "fitness": "flow",
            "n_samples": 512,
            "reference_steps": 64,
        },
        "frechet (ring mixture, 512 noises)": {
            "denoiser": mix,
            "fitness": "frechet",
            "reference": ref,
            "n_samples": 512,
        },
    }
    print(
        f"\n[2] search throughput at NFE {nfe} (DPM-Solver++(2M), ~{budget_candidates} candidates)"
    )
    base = None
    out: dict[str, Any] = {}
    for name, kw in runs.items():
        extra = 190 if kw["fitness"] == "flow" else 0
        t0 = time.process_time()
        res = search_schedule(sampler="dpmpp_2m", nfe=nfe, budget=budget + extra, rng=0, **kw)
        dt = time.process_time() - t0
        rate = res.evaluations / dt
        base = base or rate
        fitness = kw["fitness"]
        out[f"{fitness}_candidates_per_cpu_s"] = round(rate, 1)
        if fitness != "w2":
            out[f"{fitness}_over_w2_per_candidate_cpu"] = round(base / rate, 1)
        print(
            f"    {name:36s} {res.evaluations:4d} candidates in {dt:6.2f} s = {rate:8.1f}/s "
            f"(w2 / this = {base / rate:7.1f}); improvement over the best fixed "
            f"{res.improvement:.0%}"
        )
    return out


def bench_quality_per_call(nfe: int = 6, budget: int = 3000) -> dict[str, Any]:
    g = _gaussian()
    out: dict[str, Any] = {}
    print(f"\n[3] best W2 / best fixed W2 after a share of the budget ({budget} calls, NFE {nfe})")
    for method in ("evolution", "local"):
        res = search_schedule(g, nfe, sampler="dpmpp_2m", method=method, budget=budget, rng=0)
        best_fixed = min(res.baselines.values())
        cells = []
        for share in (0.25, 0.5, 1.0):
            k = int(np.searchsorted(res.trace_calls, share * budget, side="right")) - 1
            rel = float(res.trace_best[max(k, 0)] / best_fixed)
            cells.append(f"{share:4.0%}: {rel:.3f}")
            out[f"quality_{method}_best_rel_fixed_at{share:.0%}".replace("%", "pct")] = rel
        print(f"    {method:10s} " + "   ".join(cells) + f"   (calls spent {res.network_calls})")
    return out


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``quick``: smaller n, fewer candidates and calls); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (well under a minute)")
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    summary: dict[str, Any] = {"bench": "search", "quick": quick}
    ns = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    with pinned_threads(1):
        summary["threads"] = thread_info()
        print(f"thread settings (every side): {summary['threads']}")
        summary.update(bench_exact_vs_monte_carlo(ns=ns))
        summary.update(bench_throughput(budget_candidates=200))
        summary.update(bench_quality_per_call(budget=1500 if quick else 3000))
    labels = {
        f"mc_over_exact_n{n}_cpu": "time(Monte Carlo W2 of a schedule, sample_dpmpp_2m on "
        f"n = {n:,} samples) / time(exact gaussian_output_law), NFE 6, d = 16, CPU time"
        for n in ns
    }
    labels["flow_over_w2_per_candidate_cpu"] = (
        "time per candidate(search_schedule, flow fitness, ring mixture, 512 noises) / "
        "time per candidate(exact w2 fitness, 16-d Gaussian), NFE 6, CPU time"
    )
    labels["frechet_over_w2_per_candidate_cpu"] = (
        "time per candidate(search_schedule, frechet fitness, ring mixture, 512 noises) / "
        "time per candidate(exact w2 fitness, 16-d Gaussian), NFE 6, CPU time"
    )
    summary["labels"] = labels
    print_summary(summary)
    return summary


if __name__ == "__main__":
    main(argv=sys.argv[1:])
