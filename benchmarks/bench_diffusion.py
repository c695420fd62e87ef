"""Benchmarks of sciddm.diffusion against references, printed as ratios of median times.

1. Closed-form probability-flow trajectory (GaussianDenoiser.pf_ode) versus numerical ODE
   solvers (scipy's RK45 and sciddm's Heun with N = 1000): time and error.
2. Sampler throughput (samples/s) of every sampler with an EDM MLP denoiser, and each
   sampler's time in units of one network call on the same batch.
3. EmpiricalDenoiser (chunked, streaming log-sum-exp) versus a naive implementation that
   materialises the batch x N x d difference tensor, in d = 64, with the peak resident
   memory of each.

Everything runs in this process with every BLAS/OpenMP pool and torch pinned to one
thread (threadpoolctl, ``torch.set_num_threads``; printed); times are CPU times
(``time.process_time``), the robust figure on a shared machine. The last line is a
machine-readable summary, ``SUMMARY {json}``.

Run: ``python benchmarks/bench_diffusion.py --quick`` (under a minute: N = 5 x 10^4
training points for the empirical denoiser) or without the flag (N = 10^5); ``--large``
uses a 4000-sample sampler batch and adds a 1024-query empirical batch.
"""

from __future__ import annotations

import argparse
import resource
import sys
from typing import Any

import numpy as np
import torch
from _timing import interleaved, median_time_with_result, pinned_threads, print_summary, thread_info

from sciddm.diffusion import (
    EmpiricalDenoiser,
    GaussianDenoiser,
    MLPDenoiser,
    karras_sigmas,
    sample_ancestral,
    sample_ddim,
    sample_dpmpp_2m,
    sample_euler,
    sample_heun,
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_closed_form(d: int = 16, batch: int = 256) -> dict[str, Any]:
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    g = GaussianDenoiser(rng.normal(size=d), (Q * np.geomspace(0.01, 4, d)) @ Q.T)
    xT = 80 * torch.randn(batch, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    t_cf, exact = median_time_with_result(lambda: g.pf_ode(xT, 80.0, 0.002), 5, clock="cpu")

    def rk45() -> tuple[np.ndarray, int]:
        f = lambda s, y: ((y.reshape(batch, d) - g.denoise(y.reshape(batch, d), s)) / s).ravel()  # noqa: E731
        sol = solve_ivp(f, (80.0, 0.002), xT.numpy().ravel(), rtol=1e-8, atol=1e-10)
        return sol.y[:, -1].reshape(batch, d), sol.nfev

    s = karras_sigmas(1000)[:-1]  # stop at sigma_min = 0.002
    t, res = interleaved({"rk45": rk45, "heun": lambda: sample_heun(g, xT, s)}, 1)
    y_rk, nfev = res["rk45"]
    res_h = res["heun"]
    e_rk = float(np.abs(y_rk - exact.numpy()).max())
    e_h = float((res_h.samples - exact).abs().max())
    print(f"\n[1] closed-form trajectory vs ODE solvers (d={d}, batch={batch}, 80 -> 0.002)")
    print(f"  closed form        {t_cf * 1e3:9.3f} ms   error 0")
    print(
        f"  scipy RK45 (1e-8)  {t['rk45'] * 1e3:9.1f} ms   error {e_rk:.2e}  nfev {nfev}"
        f"   ratio {t['rk45'] / t_cf:,.0f}x"
    )
    print(
        f"  Heun N=1000        {t['heun'] * 1e3:9.1f} ms   error {e_h:.2e}  nfev {res_h.nfe}"
        f"   ratio {t['heun'] / t_cf:,.0f}x"
    )
    return {
        "closed_batch": batch,
        "rk45_over_closed_form_cpu": round(t["rk45"] / t_cf, 1),
        "heun1000_over_closed_form_cpu": round(t["heun"] / t_cf, 1),
        "rk45_max_error": e_rk,
        "heun1000_max_error": e_h,
    }


def bench_samplers(batch: int = 1000, N: int = 18, repeats: int = 3) -> dict[str, Any]:
    net = MLPDenoiser(64, hidden=256, depth=3, rng=0).eval()
    x = 80 * torch.randn(batch, 64, generator=torch.Generator().manual_seed(1))
    s = karras_sigmas(N)
    gen = torch.Generator().manual_seed(2)
    print(f"\n[2] sampler throughput (MLPDenoiser 64-d, width 256, batch {batch}, N={N})")
    samplers = {
        "euler": sample_euler,
        "heun": sample_heun,
        "ddim": sample_ddim,
        "dpmpp_2m": sample_dpmpp_2m,
        "ancestral": sample_ancestral,
    }
    sides: dict[str, Any] = {
        name: (lambda fn=fn: fn(net, x, s, rng=gen)) for name, fn in samplers.items()
    }
    sides["net"] = lambda: net(x, torch.full((batch,), 1.0))
    with torch.no_grad():
        t, res = interleaved(sides, repeats)
    out: dict[str, Any] = {"samplers_batch": batch}
    for name in samplers:
        nfe = res[name].nfe
        print(
            f"  {name:10s} {batch / t[name]:10.0f} samples/s   "
            f"({t[name] / t['net']:5.1f} network calls' time, {nfe} NFE)"
        )
        out[f"{name}_over_net_call_cpu"] = round(t[name] / t["net"], 2)
        out[f"{name}_samples_per_cpu_s"] = round(batch / t[name])
        out[f"{name}_nfe"] = nfe
    return out


def naive_empirical(X: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    d2 = ((x[:, None, :] - X[None, :, :]) ** 2).sum(-1)  # materialises batch x N x d
    w = torch.softmax(-d2 / (2 * sigma**2), dim=1)
    return w @ X


def bench_empirical(
    n: int = 100_000, d: int = 64, batch: int = 16, large: bool = False
) -> dict[str, Any]:
    X = torch.randn(n, d, generator=torch.Generator().manual_seed(0))
    x = X[:batch] + 0.5 * torch.randn(batch, d, generator=torch.Generator().manual_seed(1))
    sig = torch.full((batch,), 4.0)
    print(f"\n[3] EmpiricalDenoiser vs naive (N={n}, d={d}, batch={batch}, float32 input)")
    r0 = rss_mb()
    E = EmpiricalDenoiser(X)  # float64 computation
    E32 = EmpiricalDenoiser(X, compute_dtype=torch.float32)
    t_c, out = median_time_with_result(lambda: E(x, sig), 3, clock="cpu")
    r1 = rss_mb()  # peak RSS is monotone: the chunked sides first, then the naive one
    t, res = interleaved(
        {"chunked32": lambda: E32(x, sig), "naive": lambda: naive_empirical(X, x, 4.0)}, 3
    )
    r2 = rss_mb()
    t_c32, t_n, ref = t["chunked32"], t["naive"], res["naive"]
    print(
        f"  chunked float64    {batch / t_c:9.0f} queries/s   peak RSS {r1:7.0f} MB (+{r1 - r0:.0f})"
    )
    print(f"  chunked float32    {batch / t_c32:9.0f} queries/s")
    print(
        f"  naive (B x N x d)  {batch / t_n:9.0f} queries/s   peak RSS {r2:7.0f} MB"
        f"   time ratio naive/chunked64 {t_n / t_c:.2f}, /chunked32 {t_n / t_c32:.2f}"
    )
    err = float((out - ref).abs().max())
    print(f"  max |chunked - naive| = {err:.2e}")
    if large:
        xb = X[:1024] + 0.5 * torch.randn(1024, d)
        t_b, _ = median_time_with_result(lambda: E(xb, torch.full((1024,), 4.0)), 1, clock="cpu")
        print(f"  chunked, batch 1024: {1024 / t_b:.0f} queries/s, peak RSS {rss_mb():.0f} MB")
    return {
        "empirical_n": n,
        "empirical_d": d,
        "empirical_batch": batch,
        "naive_over_chunked64_cpu": round(t_n / t_c, 2),
        "naive_over_chunked32_cpu": round(t_n / t_c32, 2),
        "empirical_max_abs_diff": err,
        "empirical_rss_mb_chunked": round(r1),
        "empirical_rss_mb_naive": round(r2),
    }


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``quick``: a smaller empirical training set); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 5e4 empirical training points")
    ap.add_argument("--large", action="store_true", help="bigger batches")
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    summary: dict[str, Any] = {"bench": "diffusion", "quick": quick}
    with pinned_threads(1):
        summary["threads"] = thread_info()
        print(f"thread settings (every side): {summary['threads']}")
        summary.update(bench_closed_form(batch=256))
        summary.update(bench_samplers(batch=4000 if args.large else 1000))
        summary.update(bench_empirical(n=50_000 if quick else 100_000, large=args.large))
    cb, sb = summary["closed_batch"], summary["samplers_batch"]
    labels = {
        "rk45_over_closed_form_cpu": f"time(scipy RK45, rtol 1e-8) / time(closed-form "
        f"GaussianDenoiser.pf_ode), d = 16, batch {cb}, CPU time",
        "heun1000_over_closed_form_cpu": f"time(sample_heun, N = 1000) / time(closed-form "
        f"GaussianDenoiser.pf_ode), d = 16, batch {cb}, CPU time",
        "naive_over_chunked64_cpu": "time(naive B x N x d empirical denoiser) / "
        f"time(EmpiricalDenoiser, float64), N = {summary['empirical_n']:,}, d = 64, CPU time",
        "naive_over_chunked32_cpu": "time(naive B x N x d empirical denoiser) / "
        f"time(EmpiricalDenoiser, float32), N = {summary['empirical_n']:,}, d = 64, CPU time",
    }
    for name in ("euler", "heun", "ddim", "dpmpp_2m", "ancestral"):
        labels[f"{name}_over_net_call_cpu"] = (
            f"time(sample_{name}, 18 steps, {summary[f'{name}_nfe']} NFE) / "
            f"time(one MLPDenoiser call), batch {sb}, CPU time"
        )
    summary["labels"] = labels
    print_summary(summary)
    return summary


if __name__ == "__main__":
    main(argv=sys.argv[1:])
