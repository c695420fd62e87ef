"""Training throughput of sciddm's MDLM trainer against a bare PyTorch loop.

Both run the same model (``sciddm.discrete.MDLM``) and loss on the same batches in
one process; the bare loop has no EMA, gradient clipping, LR schedule, sampler or
bookkeeping, so the ratio is the trainer's overhead. Prints median tokens/s.

    python benchmarks/bench_discrete_train.py                 # CPU, tiny and small
    python benchmarks/bench_discrete_train.py --device cuda   # + bf16, with and without torch.compile

The CUDA path (bf16 autocast, ``torch.compile``) is coded but was not measured in
the session that wrote it (no GPU).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from sciddm.discrete import TrainConfig, nelbo
from sciddm.discrete._training import Trainer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_trainer(cfg: TrainConfig, n_steps: int, warmup: int) -> tuple[float, Trainer]:
    tr = Trainer(cfg)
    times = []
    for s in range(warmup + n_steps):
        _sync(tr.device)
        t0 = time.perf_counter()
        tr.forward_backward(s)
        tr.step = s
        tr.clip_gradients()
        tr.apply_step()
        _sync(tr.device)
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times), tr


def _time_bare(tr: Trainer, n_steps: int, warmup: int, bf16: bool, compile_: bool) -> float:
    model = tr.model
    net = torch.compile(model) if compile_ else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    times = []
    for s in range(warmup + n_steps):
        x = tr.train_set.ids[tr._rows(s)].long().to(tr.device)
        _sync(tr.device)
        t0 = time.perf_counter()
        with torch.autocast(tr.device.type, dtype=torch.bfloat16, enabled=bf16):
            terms = nelbo(
                net, x, rng=None if tr.device.type == "cuda" else gen, schedule=model.schedule
            )
        loss = terms.mean() / x.shape[1]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        _sync(tr.device)
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--sizes", default="tiny,small")
    ap.add_argument("--length", type=int, default=150)
    ap.add_argument("--big", action="store_true", help="GPU sizes: base model, batch 256")
    args = ap.parse_args()
    torch.set_num_threads(1) if args.device == "cpu" else None
    rng = np.random.default_rng(0)
    seqs = tuple("".join(rng.choice(list("ACGT"), args.length)) for _ in range(2048))
    batch = {"tiny": 32, "small": 16, "base": 8}
    if args.device == "cuda":
        batch = {"tiny": 256, "small": 128, "base": 256 if args.big else 64}
    variants = [("fp32", False)] if args.device == "cpu" else [("bf16", False), ("bf16", True)]
    print(f"device {args.device}, L = {args.length}, median of {args.steps} steps")
    print(
        f"{'model':<6} {'prec':<5} {'compile':<8} {'params':>10} {'batch':>6} "
        f"{'sciddm tok/s':>13} {'bare tok/s':>11} {'ratio':>6}"
    )
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
            warm = 3 if comp else 1
            t_s, tr = _time_trainer(cfg, args.steps, warm)
            t_b = _time_bare(tr, args.steps, warm, prec == "bf16", comp)
            tokens = cfg.batch_size * args.length
            print(
                f"{size:<6} {prec:<5} {comp!s:<8} {tr.model.num_parameters():>10,} "
                f"{cfg.batch_size:>6} {tokens / t_s:>13,.0f} {tokens / t_b:>11,.0f} "
                f"{t_b / t_s:>6.2f}"
            )


if __name__ == "__main__":
    main()
