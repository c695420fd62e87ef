"""Training throughput of sciddm's MDLM trainer against a bare PyTorch loop.

Both run the same model (``sciddm.discrete.MDLM``) and loss on the same batches in
one process, one step of each in turn (so that a change of machine load hits both
alike); the bare loop has no EMA, gradient clipping, LR schedule, sampler or
bookkeeping, so the ratio is the trainer's overhead. Prints median tokens/s. On the CPU
every BLAS/OpenMP pool and torch are pinned to one thread (threadpoolctl,
``torch.set_num_threads``; printed) and the step times are CPU times. The last line is a
machine-readable summary, ``SUMMARY {json}``.

    python benchmarks/bench_discrete_train.py --quick         # CPU, tiny and small, 6 steps
    python benchmarks/bench_discrete_train.py                 # CPU, tiny and small, 20 steps
    python benchmarks/bench_discrete_train.py --device cuda   # + bf16, with and without torch.compile

The CUDA path (bf16 autocast, ``torch.compile``) is coded but was not measured in
the session that wrote it (no GPU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from _timing import pinned_threads, print_summary, thread_info

from sciddm.discrete import TrainConfig, nelbo
from sciddm.discrete._training import Trainer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _trainer_step(tr: Trainer) -> Callable[[int], None]:
    def step(s: int) -> None:
        tr.forward_backward(s)
        tr.step = s
        tr.clip_gradients()
        tr.apply_step()

    return step


def _bare_step(tr: Trainer, bf16: bool, compile_: bool) -> Callable[[int], None]:
    model = tr.model
    net = torch.compile(model) if compile_ else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)

    def step(s: int) -> None:
        x = tr.train_set.ids[tr._rows(s)].long().to(tr.device)
        with torch.autocast(tr.device.type, dtype=torch.bfloat16, enabled=bf16):
            terms = nelbo(
                net, x, rng=None if tr.device.type == "cuda" else gen, schedule=model.schedule
            )
        loss = terms.mean() / x.shape[1]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def _time_in_turn(
    sides: dict[str, Callable[[int], None]], n_steps: int, warmup: int, device: torch.device
) -> dict[str, float]:
    """Median step time of each side, one step of each in turn (CPU time on the CPU)."""
    now = time.process_time if device.type == "cpu" else time.perf_counter
    times: dict[str, list[float]] = {k: [] for k in sides}
    for s in range(warmup + n_steps):
        for name, step in sides.items():
            _sync(device)
            t0 = now()
            step(s)
            _sync(device)
            if s >= warmup:
                times[name].append(now() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``quick``: 6 timed steps); returns the summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 timed steps per side")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 6 / 20)")
    ap.add_argument("--sizes", default="tiny,small")
    ap.add_argument("--length", type=int, default=150)
    ap.add_argument("--big", action="store_true", help="GPU sizes: base model, batch 256")
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    n_steps = args.steps or (6 if quick else 20)
    summary: dict[str, Any] = {"bench": "discrete_train", "quick": quick, "L": args.length}
    with pinned_threads(1):
        summary["threads"] = thread_info()
        print(f"thread settings (both sides): {summary['threads']}")
        summary.update(_run(args, n_steps))
    print_summary(summary)
    return summary


def _run(args: argparse.Namespace, n_steps: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    seqs = tuple("".join(rng.choice(list("ACGT"), args.length)) for _ in range(2048))
    batch = {"tiny": 32, "small": 16, "base": 8}
    if args.device == "cuda":
        batch = {"tiny": 256, "small": 128, "base": 256 if args.big else 64}
    variants = [("fp32", False)] if args.device == "cpu" else [("bf16", False), ("bf16", True)]
    clock = "CPU time" if args.device == "cpu" else "cuda wall time"
    print(f"device {args.device}, L = {args.length}, median of {n_steps} steps ({clock})")
    print(
        f"{'model':<6} {'prec':<5} {'compile':<8} {'params':>10} {'batch':>6} "
        f"{'sciddm tok/s':>13} {'bare tok/s':>11} {'ratio':>6}"
    )
    out: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for size in args.sizes.split(","):
        for prec, comp in variants:
            cfg = TrainConfig(
                data=seqs,
                model=size,
                steps=10_000,
                batch_size=batch[size],
                device=args.device,
                precision=prec,
                compile=comp,
                val_fraction=0.05,
                warmup_steps=10,
            )
            tr = Trainer(cfg)
            sides = {
                "sciddm": _trainer_step(tr),
                "bare": _bare_step(tr, prec == "bf16", comp),
            }
            t = _time_in_turn(sides, n_steps, 3 if comp else 1, tr.device)
            tokens = cfg.batch_size * args.length
            print(
                f"{size:<6} {prec:<5} {comp!s:<8} {tr.model.num_parameters():>10,} "
                f"{cfg.batch_size:>6} {tokens / t['sciddm']:>13,.0f} {tokens / t['bare']:>11,.0f} "
                f"{t['bare'] / t['sciddm']:>6.2f}"
            )
            tag = f"{size}_{prec}{'_compiled' if comp else ''}"
            key = f"trainer_over_bare_{tag}"
            out[key] = round(t["sciddm"] / t["bare"], 3)
            out[f"trainer_tokens_per_s_{tag}"] = round(tokens / t["sciddm"])
            out[f"bare_tokens_per_s_{tag}"] = round(tokens / t["bare"])
            labels[key] = (
                f"time(sciddm MDLM trainer step) / time(bare PyTorch step), {size} model "
                f"({tr.model.num_parameters():,} parameters), {prec}"
                f"{', torch.compile' if comp else ''}, batch {cfg.batch_size}, L = "
                f"{args.length}, {clock}"
            )
    out["labels"] = labels
    return out


if __name__ == "__main__":
    main(argv=sys.argv[1:])
