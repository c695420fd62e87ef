"""Samples per second of the discrete samplers, and FHS vs 1000-step ancestral sampling.

Runs in one process, on one random-weight, transformer-free denoiser
(``RandomDenoiser``: embeddings, one mixing layer, an output head to |V| logits):

* ``mdlm-ref``: a plain-torch re-implementation of MDLM's released ``ddpm``
  loop (float32 Gumbel-max over ``(n, L, V)`` at every step), the reference;
* sciddm's ``ancestral`` (float64), ``cached`` and ``fhs`` / ``fhs-parallel``.

It prints median seconds per sample, samples per second and the ratios
``time(1000-step ancestral) / time(FHS)``. The issue's target: >= 5x at
|V| >= 1000, L >= 256 on CPU.

Usage::

    python benchmarks/bench_discrete_sample.py                 # CPU, L=256, |V|=1024
    python benchmarks/bench_discrete_sample.py --length 512 --vocab 4096 --repeats 3
    python benchmarks/bench_discrete_sample.py --device cuda --dtype bfloat16 \\
        --batch-sizes 64,256,1024,4096                          # GPU throughput (bf16 model)

On CUDA the model runs in ``--dtype``; sampling arithmetic stays float64 (or
float32 with ``--precision float32``). Times include ``torch.cuda.synchronize``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import median_time

from sciddm.discrete import sample
from sciddm.discrete.toys import RandomDenoiser


def mdlm_reference(model, n, length, steps, device, eps=1e-5):
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=1024, help="tokens, [MASK] excluded")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch-sizes", default="2", help="comma-separated")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    ap.add_argument("--precision", default="float64", choices=("float64", "float32"))
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(1)
    model = RandomDenoiser(args.vocab + 1, args.length, width=args.width, rng=0)
    model = model.to(device=device, dtype=getattr(torch, args.dtype))
    L, steps = args.length, args.steps
    print(
        f"device={device} model dtype={args.dtype} precision={args.precision} L={L} "
        f"|V|={args.vocab} steps={steps} (median of {args.repeats})"
    )
    header = f"{'batch':>6} {'method':<24} {'s/sample':>10} {'samples/s':>10} {'NFE':>7}"
    print(header)
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        seeds = np.arange(bs)
        runs = {
            "fhs": dict(method="fhs"),
            "fhs-parallel (k=4)": dict(method="fhs-parallel", k=4),
            f"cached ({steps} steps)": dict(method="cached", steps=steps),
            f"ancestral ({steps} steps)": dict(method="ancestral", steps=steps),
        }
        times = {}
        for name, kw in runs.items():
            res = {}

            def go(kw=kw, res=res, bs=bs, seeds=seeds):
                res["r"] = sample(model, bs, seeds=seeds, precision=args.precision, **kw)

            times[name] = median_time(go, args.repeats, device) / bs
            print(
                f"{bs:>6} {name:<24} {times[name]:>10.4f} {1 / times[name]:>10.2f} "
                f"{res['r'].mean_nfe:>7.1f}"
            )
        if not args.skip_reference:

            def ref(bs=bs):
                mdlm_reference(model, bs, L, steps, device)

            times["mdlm-ref"] = median_time(ref, args.repeats, device) / bs
            print(
                f"{bs:>6} {'mdlm-ref (float32 ddpm)':<24} {times['mdlm-ref']:>10.4f} "
                f"{1 / times['mdlm-ref']:>10.2f} {steps + 1:>7}"
            )
        anc = times[f"ancestral ({steps} steps)"]
        print(f"{bs:>6} ratio time(ancestral {steps})/time(fhs)        = {anc / times['fhs']:.2f}")
        print(
            f"{bs:>6} ratio time(cached {steps})/time(fhs)           = "
            f"{times[f'cached ({steps} steps)'] / times['fhs']:.2f}"
        )
        if "mdlm-ref" in times:
            print(
                f"{bs:>6} ratio time(mdlm-ref)/time(fhs)              = "
                f"{times['mdlm-ref'] / times['fhs']:.2f}"
            )
            print(
                f"{bs:>6} ratio time(mdlm-ref)/time(sciddm ancestral) = "
                f"{times['mdlm-ref'] / anc:.2f}"
            )


if __name__ == "__main__":
    main()
