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

It prints median seconds, samples per second and the ratios. On CUDA the
model runs in ``--dtype``; the sampling arithmetic stays float64. Times
include ``torch.cuda.synchronize``.

Usage::

    python benchmarks/bench_guidance.py                          # CPU, n=8, M=10, 32 steps
    python benchmarks/bench_guidance.py --n 64 --steps 200 --repeats 3
    python benchmarks/bench_guidance.py --device cuda --dtype bfloat16 --n 1024   # GPU
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import median_time

from sciddm.discrete import sample, svdd
from sciddm.discrete.toys import RandomDenoiser


def gc_reward_torch(x: torch.Tensor) -> torch.Tensor:
    return ((x == 1) | (x == 2)).sum(1).to(torch.float64)


def gc_reward(x: np.ndarray) -> np.ndarray:
    return ((x == 1) | (x == 2)).sum(1).astype(np.float64)


def svdd_reference(model, n, length, steps, m, device, eps=1e-5):
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--vocab", type=int, default=4, help="tokens, [MASK] excluded")
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--M", type=int, default=10)
    ap.add_argument("--n", type=int, default=8, help="samples per run (one batch)")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    a = ap.parse_args(argv)
    device = torch.device(a.device)
    model = RandomDenoiser(a.vocab + 1, a.length, width=a.width, rng=0).to(device)
    if a.dtype == "bfloat16":
        model = model.to(torch.bfloat16)
    model.eval()
    common = dict(length=a.length, steps=a.steps, device=device)
    runs = {
        "svdd-ref": lambda: svdd_reference(model, a.n, a.length, a.steps, a.M, device),
        "sciddm svdd-pm": lambda: svdd(model, gc_reward, a.n, M=a.M, rng=0, **common),
        "sciddm ancestral": lambda: sample(
            model, a.n, method="ancestral", seeds=range(a.n), **common
        ),
    }
    for fn in runs.values():  # warm-up
        fn()
    times = {k: median_time(fn, a.repeats, device) for k, fn in runs.items()}
    print(
        f"device={device} dtype={a.dtype} L={a.length} |V|={a.vocab}+1 steps={a.steps} "
        f"M={a.M} n={a.n} width={a.width}"
    )
    for k, t in times.items():
        print(f"  {k:18s} {t:8.3f} s   {a.n / t:9.2f} samples/s")
    print(
        f"ratio time(sciddm svdd-pm) / time(svdd-ref):   {times['sciddm svdd-pm'] / times['svdd-ref']:.2f}"
    )
    print(
        "ratio time(sciddm svdd-pm) / time(ancestral):  "
        f"{times['sciddm svdd-pm'] / times['sciddm ancestral']:.2f}  (guidance overhead, M={a.M})"
    )


if __name__ == "__main__":
    main()
