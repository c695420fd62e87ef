"""Benchmarks of the schedule search (sciddm.diffusion.search_schedule), printed as ratios.

1. The exact W2 of a schedule (gaussian_output_law) versus its Monte Carlo estimate (run
   the sampler on n samples, W2 between the fitted Gaussian and the data law): time per
   candidate and the error of the estimate — what an exact fitness buys per candidate.
2. Search throughput (candidates per second) of the three fitnesses at NFE 6, and the
   cost of the flow fitness's reference solve.
3. Quality per network call: the best-so-far fitness of the evolutionary and the local
   search after 25 %, 50 % and 100 % of the same budget, relative to the best fixed schedule.

Run: ``python benchmarks/bench_search.py`` (under a minute).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from _timing import median_time_with_result

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


def _gaussian(d=16):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return GaussianDenoiser(0.3 * rng.normal(size=d), (Q * np.geomspace(1e-3, 1.0, d)) @ Q.T)


def bench_exact_vs_monte_carlo(d=16):
    g = _gaussian(d)
    s = karras_sigmas(6)
    t_cf, law = median_time_with_result(lambda: gaussian_output_law(g, s, sampler="dpmpp_2m"), 20)
    print(f"\n[1] exact W2 vs Monte Carlo, DPM-Solver++(2M) NFE 6, d = {d}")
    print(f"    exact: W2 = {law.w2:.5f}, {t_cf * 1e3:.3f} ms per candidate")
    for n in (1_000, 10_000, 100_000):
        x = 80.0 * torch.randn(
            n, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64
        )

        def mc(x=x):
            y = sample_dpmpp_2m(g, x, s).samples.numpy()
            return gaussian_w2(y.mean(0), np.cov(y, rowvar=False), g.mean_, g.cov_)

        t_mc, w = median_time_with_result(mc, 3)
        print(
            f"    Monte Carlo n = {n:>6}: |error| = {abs(w - law.w2):.2e} "
            f"({abs(w - law.w2) / law.w2:.1%}), time ratio MC / exact = {t_mc / t_cf:8.1f}"
        )


def bench_throughput(nfe=6, budget_candidates=200):
    g = _gaussian()
    w, m, c = ring_mixture_params()
    mix = GaussianMixtureDenoiser(m, c, w)
    ref = ring_mixture(5000, rng=0)
    budget = budget_candidates * nfe
    runs = {
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
    for name, kw in runs.items():
        extra = 190 if kw["fitness"] == "flow" else 0
        t0 = time.perf_counter()
        res = search_schedule(sampler="dpmpp_2m", nfe=nfe, budget=budget + extra, rng=0, **kw)
        dt = time.perf_counter() - t0
        rate = res.evaluations / dt
        base = base or rate
        print(
            f"    {name:36s} {res.evaluations:4d} candidates in {dt:6.2f} s = {rate:8.1f}/s "
            f"(w2 / this = {base / rate:7.1f}); improvement over the best fixed "
            f"{res.improvement:.0%}"
        )


def bench_quality_per_call(nfe=6, budget=3000):
    g = _gaussian()
    print(f"\n[3] best W2 / best fixed W2 after a share of the budget ({budget} calls, NFE {nfe})")
    for method in ("evolution", "local"):
        res = search_schedule(g, nfe, sampler="dpmpp_2m", method=method, budget=budget, rng=0)
        best_fixed = min(res.baselines.values())
        cells = []
        for share in (0.25, 0.5, 1.0):
            k = int(np.searchsorted(res.trace_calls, share * budget, side="right")) - 1
            cells.append(f"{share:4.0%}: {res.trace_best[max(k, 0)] / best_fixed:.3f}")
        print(f"    {method:10s} " + "   ".join(cells) + f"   (calls spent {res.network_calls})")


if __name__ == "__main__":
    torch.set_num_threads(1)
    bench_exact_vs_monte_carlo()
    bench_throughput()
    bench_quality_per_call()
