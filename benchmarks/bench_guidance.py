"""Samples per second of SVDD-PM at M = 10 against a plain-torch SVDD loop and pretrained sampling.

Runs in one process, on a random-weight denoiser (``RandomDenoiser``) of DNA
size (|V| = 4 + [MASK], L = 200 by default) and a cheap torch reward (GC
count), so that the network dominates:

* ``svdd-ref``: a plain-torch re-implementation of the released SVDD decoding
  loop (float32 Gumbel-max candidates, x̂0 = argmax of a second network call
  on all M candidates, reward, argmax selection);
* sciddm's ``svdd`` (variant "pm", alpha = 0, float64 draws with per-sample
  streams, validation of every reward);
* sciddm's pretrained ancestral ``sample`` with the same steps, for the
  guidance overhead.

It prints median seconds, samples per second and the ratios. The three run in
turn, ``--repeats`` rounds, in this process; on the CPU every BLAS/OpenMP pool and
torch are pinned to one thread (threadpoolctl, ``torch.set_num_threads``; printed) and
the times are CPU times. On CUDA the model runs in ``--dtype``; the sampling arithmetic
stays float64, and wall times include ``torch.cuda.synchronize``. The last line is a
machine-readable summary, ``SUMMARY {json}``.

Usage::

    python benchmarks/bench_guidance.py --quick                  # CPU, n=8, M=10, 32 steps, 3 rounds
    python benchmarks/bench_guidance.py                          # ... 7 rounds
    python benchmarks/bench_guidance.py --n 64 --steps 200 --repeats 3
    python benchmarks/bench_guidance.py --device cuda --dtype bfloat16 --n 1024   # GPU
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from _timing import median_time, pinned_threads, print_summary, thread_info

from sciddm.discrete import sample, svdd
from sciddm.discrete.toys import RandomDenoiser


def gc_reward_torch(x: torch.Tensor) -> torch.Tensor:
    return ((x == 1) | (x == 2)).sum(1).to(torch.float64)


def gc_reward(x: np.ndarray) -> np.ndarray:
    return ((x == 1) | (x == 2)).sum(1).astype(np.float64)


def svdd_reference(
    model: Any, n: int, length: int, steps: int, m: int, device: torch.device, eps: float = 1e-5
) -> torch.Tensor:
    """SVDD-PM decoding loop in plain torch (alpha = 0, float32 Gumbel-max candidates)."""
    mask = model.mask_id
    x = torch.full((n, length), mask, dtype=torch.long, device=device)
    ts = torch.linspace(1, eps, steps + 1, device=device)
    for i in range(steps + 1):
        t = ts[i]
        s = ts[i + 1] if i < steps else torch.zeros((), device=device)
        with torch.no_grad():
            logits = model(x).float()
        logits[..., mask] = -torch.inf
        p_x0 = logits.softmax(-1)
        q = p_x0 * (t - s) / t
        q[..., mask] = s / t
        q = q[:, None].expand(n, m, length, -1)
        gumbel_norm = 1e-10 - (torch.rand_like(q) + 1e-10).log()
        cand = (q / gumbel_norm).argmax(-1)
        cand = torch.where(x[:, None] == mask, cand, x[:, None]).reshape(n * m, length)
        with torch.no_grad():
            lc = model(cand).float()
        lc[..., mask] = -torch.inf
        xhat = torch.where(cand == mask, lc.argmax(-1), cand)
        r = gc_reward_torch(xhat).reshape(n, m)
        x = cand.reshape(n, m, length)[torch.arange(n, device=device), r.argmax(1)]
    return x


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``quick``: 3 rounds instead of 7); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds (under a minute)")
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--vocab", type=int, default=4, help="tokens, [MASK] excluded")
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--M", type=int, default=10)
    ap.add_argument("--n", type=int, default=8, help="samples per run (one batch)")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=None, help="rounds (default 3 / 7)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    a = ap.parse_args([] if argv is None else argv)
    quick = quick or a.quick
    summary: dict[str, Any] = {"bench": "guidance", "quick": quick, "n": a.n}
    with pinned_threads(1):
        summary["threads"] = thread_info()
        print(f"thread settings (every side): {summary['threads']}")
        summary.update(_run(a, a.repeats or (3 if quick else 7)))
    print_summary(summary)
    return summary


def _run(a: argparse.Namespace, repeats: int) -> dict[str, Any]:
    device = torch.device(a.device)
    clock = "cpu" if device.type == "cpu" else "wall"
    model = RandomDenoiser(a.vocab + 1, a.length, width=a.width, rng=0).to(device)
    if a.dtype == "bfloat16":
        model = model.to(torch.bfloat16)
    model.eval()
    common: dict[str, Any] = dict(length=a.length, steps=a.steps, device=device)
    runs: dict[str, Callable[[], Any]] = {
        "svdd-ref": lambda: svdd_reference(model, a.n, a.length, a.steps, a.M, device),
        "sciddm svdd-pm": lambda: svdd(model, gc_reward, a.n, M=a.M, rng=0, **common),
        "sciddm ancestral": lambda: sample(
            model, a.n, method="ancestral", seeds=range(a.n), **common
        ),
    }
    for fn in runs.values():  # warm-up
        fn()
    rounds: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):  # in turn, so that load changes hit every side alike
        for k, fn in runs.items():
            rounds[k].append(median_time(fn, 1, device, clock=clock))
    times = {k: statistics.median(v) for k, v in rounds.items()}
    print(
        f"device={device} dtype={a.dtype} L={a.length} |V|={a.vocab}+1 steps={a.steps} "
        f"M={a.M} n={a.n} width={a.width} (median of {repeats} rounds, {clock} time)"
    )
    for k, t in times.items():
        print(f"  {k:18s} {t:8.3f} s   {a.n / t:9.2f} samples/s")
    svdd_ref = times["sciddm svdd-pm"] / times["svdd-ref"]
    overhead = times["sciddm svdd-pm"] / times["sciddm ancestral"]
    print(f"ratio time(sciddm svdd-pm) / time(svdd-ref):   {svdd_ref:.2f}")
    print(
        f"ratio time(sciddm svdd-pm) / time(ancestral):  {overhead:.2f}  (guidance overhead, M={a.M})"
    )
    setting = (
        f"L = {a.length}, |V| = {a.vocab}+1, {a.steps} steps, M = {a.M}, width {a.width}, "
        f"{'CPU time' if clock == 'cpu' else device.type + ' wall time'}"
    )
    return {
        "svdd_over_svdd_ref": round(svdd_ref, 3),
        "svdd_over_ancestral": round(overhead, 3),
        **{
            f"{k.split()[-1].replace('-', '_')}_samples_per_s": round(a.n / t, 3)
            for k, t in times.items()
        },
        "labels": {
            "svdd_over_svdd_ref": f"time(sciddm svdd, variant pm) / time(plain-torch SVDD loop), {setting}",
            "svdd_over_ancestral": "time(sciddm svdd, variant pm) / time(sciddm pretrained "
            f"ancestral sample, same steps): guidance overhead, {setting}",
        },
    }


if __name__ == "__main__":
    main(argv=sys.argv[1:])
