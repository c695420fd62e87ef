"""Samples per second of the discrete samplers, and FHS vs 1000-step ancestral sampling.

Runs in one process, on one random-weight, transformer-free denoiser
(``RandomDenoiser``: embeddings, one mixing layer, an output head to |V| logits):

* ``mdlm-ref``: a plain-torch re-implementation of MDLM's released ``ddpm``
  loop (float32 Gumbel-max over ``(n, L, V)`` at every step), the reference;
* sciddm's ``ancestral`` (float64), ``cached`` and ``fhs`` / ``fhs-parallel``.

It prints median seconds per sample, samples per second and the ratios
``time(1000-step ancestral) / time(FHS)``. The issue's target: >= 5x at
|V| >= 1000, L >= 256 on CPU.

The methods run in turn, ``--repeats`` rounds, in this process; on the CPU every
BLAS/OpenMP pool and torch are pinned to one thread (threadpoolctl,
``torch.set_num_threads``; printed) and the times are CPU times. The last line is a
machine-readable summary, ``SUMMARY {json}``.

Usage::

    python benchmarks/bench_discrete_sample.py --quick         # CPU, L=256, |V|=1024, batch 2 (~30 s)
    python benchmarks/bench_discrete_sample.py                 # ... batches 2 and 8, 2 repeats
    python benchmarks/bench_discrete_sample.py --length 512 --vocab 4096 --repeats 3
    python benchmarks/bench_discrete_sample.py --device cuda --dtype bfloat16 \\
        --batch-sizes 64,256,1024,4096                          # GPU throughput (bf16 model)

On CUDA the model runs in ``--dtype``; sampling arithmetic stays float64 (or
float32 with ``--precision float32``). Times include ``torch.cuda.synchronize``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

import numpy as np
import torch
from _timing import median_time, pinned_threads, print_summary, thread_info

from sciddm.discrete import sample
from sciddm.discrete.toys import RandomDenoiser


def mdlm_reference(
    model: torch.nn.Module, n: int, length: int, steps: int, device: torch.device, eps: float = 1e-5
) -> torch.Tensor:
    """MDLM's ``_sample`` with the ``ddpm`` update and argmax noise removal (float32 Gumbel)."""
    mask = model.mask_id
    x = torch.full((n, length), mask, dtype=torch.long, device=device)
    ts = torch.linspace(1, eps, steps + 1, device=device)
    for i in range(steps):
        t, s = ts[i], ts[i] - (1 - eps) / steps
        with torch.no_grad():
            logits = model(x).float()
        logits[..., mask] = -torch.inf
        p_x0 = logits.log_softmax(-1).exp()
        q = p_x0 * (t - s)
        q[..., mask] = s
        gumbel_norm = 1e-10 - (torch.rand_like(q) + 1e-10).log()
        new = (q / gumbel_norm).argmax(-1)
        x = torch.where(x == mask, new, x)
    with torch.no_grad():
        logits = model(x).float()
    logits[..., mask] = -torch.inf
    return torch.where(x == mask, logits.argmax(-1), x)


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``quick``: batch 2, one repeat); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="batch 2, one repeat (~30 s)")
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=1024, help="tokens, [MASK] excluded")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch-sizes", default=None, help="comma-separated (default 2; full 2,8)")
    ap.add_argument("--repeats", type=int, default=None, help="default 1 (quick), 2 (full)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    ap.add_argument("--precision", default="float64", choices=("float64", "float32"))
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    batch_sizes = [int(b) for b in (args.batch_sizes or ("2" if quick else "2,8")).split(",")]
    repeats = args.repeats or (1 if quick else 2)
    device = torch.device(args.device)
    clock = "cpu" if device.type == "cpu" else "wall"
    summary: dict[str, Any] = {"bench": "discrete_sample", "quick": quick}
    with pinned_threads(1):
        summary["threads"] = thread_info()
        print(f"thread settings (every side): {summary['threads']}")
        summary.update(_run(args, batch_sizes, repeats, device, clock))
    print_summary(summary)
    return summary


def _run(
    args: argparse.Namespace, batch_sizes: list[int], repeats: int, device: torch.device, clock: str
) -> dict[str, Any]:
    model = RandomDenoiser(args.vocab + 1, args.length, width=args.width, rng=0)
    model = model.to(device=device, dtype=getattr(torch, args.dtype))
    L, steps = args.length, args.steps
    out: dict[str, Any] = {"L": L, "V": args.vocab, "steps": steps, "device": str(device)}
    labels: dict[str, str] = {}
    print(
        f"device={device} model dtype={args.dtype} precision={args.precision} L={L} "
        f"|V|={args.vocab} steps={steps} (median of {repeats}, {clock} time)"
    )
    print(f"{'batch':>6} {'method':<24} {'s/sample':>10} {'samples/s':>10} {'NFE':>7}")
    for bs in batch_sizes:
        seeds = np.arange(bs)
        runs: dict[str, dict[str, Any]] = {
            "fhs": dict(method="fhs"),
            "fhs-parallel (k=4)": dict(method="fhs-parallel", k=4),
            "cached": dict(method="cached", steps=steps),
            "ancestral": dict(method="ancestral", steps=steps),
        }
        nfe: dict[str, float] = {}
        fns = {}
        for name, kw in runs.items():

            def go(
                kw: dict[str, Any] = kw,
                name: str = name,
                bs: int = bs,
                seeds: Any = seeds,
                nfe: dict[str, float] = nfe,
            ) -> None:
                res = sample(model, bs, seeds=seeds, precision=args.precision, **kw)
                nfe[name] = res.mean_nfe

            fns[name] = go
        if not args.skip_reference:

            def ref(bs: int = bs) -> None:
                mdlm_reference(model, bs, L, steps, device)

            fns["mdlm-ref"] = ref
            nfe["mdlm-ref"] = steps + 1
        rounds: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(repeats):  # the methods in turn, so that load changes hit all alike
            for name, fn in fns.items():
                rounds[name].append(median_time(fn, 1, device, clock=clock) / bs)
        times = {k: statistics.median(v) for k, v in rounds.items()}
        for name, t in times.items():
            shown = f"{name} ({steps} steps)" if name in ("cached", "ancestral") else name
            print(f"{bs:>6} {shown:<24} {t:>10.4f} {1 / t:>10.2f} {nfe[name]:>7.1f}")
            out[f"{name.split(' ')[0].replace('-', '_')}_samples_per_s_b{bs}"] = round(1 / t, 3)
        ratios = {
            f"ancestral_over_fhs_b{bs}": ("ancestral", "fhs", f"sciddm ancestral, {steps} steps"),
            f"cached_over_fhs_b{bs}": ("cached", "fhs", f"sciddm cached, {steps} steps"),
            f"mdlm_ref_over_fhs_b{bs}": ("mdlm-ref", "fhs", f"MDLM reference loop, {steps} steps"),
            f"mdlm_ref_over_ancestral_b{bs}": (
                "mdlm-ref", "ancestral", f"MDLM reference loop, {steps} steps"
            ),
        }  # fmt: skip
        for key, (a, b, text) in ratios.items():
            if a in times:
                out[key] = round(times[a] / times[b], 3)
                other = "sciddm first-hitting sampler (fhs)" if b == "fhs" else (
                    f"sciddm ancestral, {steps} steps"
                )  # fmt: skip
                labels[key] = (
                    f"time({text}) / time({other}), L = {L}, |V| = {args.vocab}, batch {bs}, "
                    f"{'CPU time' if clock == 'cpu' else device.type + ' wall time'}"
                )
                print(f"{bs:>6} ratio time({a})/time({b}) = {out[key]:.2f}")
    out["labels"] = labels
    return out


if __name__ == "__main__":
    main(argv=sys.argv[1:])
