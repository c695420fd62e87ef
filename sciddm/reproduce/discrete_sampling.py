"""Reproductions for the discrete samplers: exactness, cost, float64 vs float32.

The exact references (a toy denoiser over short sequences and the exact output
law of every sampler on it) are public library code in :mod:`sciddm.discrete.toys`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from sciddm.discrete import FunctionModel, sample, sequence_entropy, unigram_distribution
from sciddm.discrete.toys import (
    RandomDenoiser,
    exact_law,
    float32_chain_token_probability,
    toy_problem,
)
from sciddm.reproduce import Context, chisquare_gof, register, total_variation

# --------------------------------------------------------------------------- exact toy references


# --------------------------------------------------------------------------- float32 truncation


# --------------------------------------------------------------------------- random-weight model


# --------------------------------------------------------------------------- experiments


@register(
    "discrete.sampling.exactness",
    description="Ancestral, cached and first-hitting samplers give the law the model defines "
    "(chi-squared against exact enumeration on a toy problem, L=4, |V|=3).",
    quick={"n": 20000, "steps": (4, 64), "fhs_many_steps": 1000},
    full={"n": 200000, "steps": (4, 64, 256), "fhs_many_steps": 4000},
)
def exactness(ctx: Context) -> None:
    p = ctx.params
    prob = toy_problem(rng=ctx.rng)
    model = prob.model()
    rows = []
    runs = [("fhs", None, 1), ("fhs-parallel", None, 2)]
    runs += [(m, s, 1) for s in p["steps"] for m in ("ancestral", "cached")]
    seed0 = int(ctx.rng.integers(2**40))
    pvals = []
    for i, (method, steps, k) in enumerate(runs):
        law = exact_law(prob, method, steps=steps, k=k)
        seeds = np.arange(p["n"]) + seed0 + i * p["n"]
        res = sample(model, p["n"], method=method, steps=steps, k=k, seeds=seeds)
        pv = chisquare_gof(prob.counts(res.tokens), law)
        pvals.append(pv)
        rows.append(
            {
                "method": method,
                "steps": steps,
                "k": k,
                "chi2_p": pv,
                "tv_to_target": total_variation(law, prob.joint),
                "mean_nfe": res.mean_nfe,
            }
        )
    ctx.table("sampler laws on the toy problem (exact law vs samples)", rows)
    m = len(pvals)
    ctx.claim(
        "every sampler's samples follow its exact law (smallest chi-squared p-value, Bonferroni "
        f"over {m} tests at 1e-3 overall)",
        source="Zheng et al. 2024, Prop. 3.1; MDLM Alg. 2",
        measured=min(pvals),
        expected=1e-3 / m,
        op=">=",
    )
    fhs_law = exact_law(prob, "fhs")
    ctx.claim(
        "FHS samples the model's joint exactly (exact TV to the target, consistent model)",
        source="Zheng et al. 2024, Prop. 3.1",
        measured=total_variation(fhs_law, prob.joint),
        expected=1e-12,
        op="<=",
    )
    tv_many = total_variation(exact_law(prob, "ancestral", steps=p["fhs_many_steps"]), fhs_law)
    ctx.claim(
        f"ancestral with {p['fhs_many_steps']} steps matches FHS (exact TV)",
        source="Zheng et al. 2024, Sec. 3",
        measured=tv_many,
        expected=5e-3,
        op="<=",
    )
    from sciddm._core.plotting import get_ax

    ax = get_ax(None)
    res = sample(model, p["n"], method="fhs", seeds=np.arange(p["n"]) + seed0)
    joint = np.asarray(prob.joint)
    order = np.argsort(-joint)
    ax.plot(joint[order], "k-", lw=1, label="target joint (exact)")
    ax.plot(prob.counts(res.tokens)[order] / p["n"], ".", ms=3, label="FHS samples")
    four = exact_law(prob, "ancestral", steps=min(p["steps"]))
    ax.plot(four[order], "--", lw=0.8, label=f"ancestral, {min(p['steps'])} steps (exact)")
    ax.set(yscale="log", xlabel="sequence (by target probability)", ylabel="probability")
    ax.legend(fontsize=8)
    ctx.figure(ax.figure, "laws")
    ctx.note(
        "Ancestral and cached samplers with few steps do NOT sample the target joint: two "
        "positions unmasked in the same step are drawn independently. They are still exact "
        "with respect to their own chain, which is what the chi-squared tests check; FHS "
        "(one token per call) reproduces the joint exactly."
    )


def _run(
    model: Any, n: int, method: str, steps: int | None, k: int = 1, device: str = "cpu"
) -> tuple[float, float]:
    res = sample(model, n, method=method, steps=steps, k=k, seeds=np.arange(n), device=device)
    return res.time_per_sample, res.mean_nfe


@register(
    "discrete.sampling.cost",
    description="NFE and wall time per method versus L and |V| with a random-weight model; "
    "the FHS speed-up over ancestral sampling grows with |V| and L.",
    quick={"lengths": (32, 96), "vocabs": (4, 2048), "n": 4, "many_steps": 1000},
    full={"lengths": (64, 256, 1024), "vocabs": (4, 1024, 8192), "n": 16, "many_steps": 1000},
)
def cost(ctx: Context) -> None:
    p = ctx.params
    rows = []
    speed: dict[tuple[int, int], float] = {}
    for length in p["lengths"]:
        for v in p["vocabs"]:
            model = RandomDenoiser(v + 1, length, rng=ctx.rng)
            model = model.to(ctx.device)
            dev = ctx.device
            t_fhs, nfe_fhs = _run(model, p["n"], "fhs", None, device=dev)
            t_anc, nfe_anc = _run(model, p["n"], "ancestral", length, device=dev)
            t_cac, nfe_cac = _run(model, p["n"], "cached", p["many_steps"], device=dev)
            t_par, nfe_par = _run(model, p["n"], "fhs-parallel", None, k=4, device=dev)
            speed[(length, v)] = t_anc / t_fhs
            rows.append(
                {
                    "L": length,
                    "|V|": v,
                    "fhs_s": t_fhs,
                    "ancestral_L_steps_s": t_anc,
                    f"cached_{p['many_steps']}_steps_s": t_cac,
                    "fhs_k4_s": t_par,
                    "nfe_fhs": nfe_fhs,
                    "nfe_ancestral": nfe_anc,
                    "nfe_cached": nfe_cac,
                    "nfe_fhs_k4": nfe_par,
                    "speedup_fhs_vs_ancestral_L_steps": t_anc / t_fhs,
                    "est_speedup_vs_1000_step_ancestral": t_anc / t_fhs * 1000 / length,
                }
            )
            ctx.claim(
                f"cached sampler ({p['many_steps']} steps) uses at most L = {length} network "
                f"calls per sample (|V| = {v})",
                source="MDLM ddpm_cache; Zheng et al. 2024, Sec. 3",
                measured=nfe_cac,
                expected=length,
                op="<=",
            )
    ctx.table(
        f"seconds per sample ({ctx.device}): FHS vs ancestral with as many steps as FHS calls",
        rows,
    )
    lmax, vmax, vmin = max(p["lengths"]), max(p["vocabs"]), min(p["vocabs"])
    lmin = min(p["lengths"])
    ctx.claim(
        f"FHS speed-up over L-step ancestral sampling grows with |V| (L = {lmax}: ratio of "
        f"speed-ups at |V| = {vmax} and {vmin})",
        source="Zheng et al. 2024, Sec. 3 (~20x at L = 1024, |V| = 50k vs MDLM)",
        measured=speed[(lmax, vmax)] / speed[(lmax, vmin)],
        expected=1.0,
        op=">=",
    )
    growth = speed[(lmax, vmax)] / speed[(lmin, vmax)]
    if ctx.device != "cpu":  # a call's time grows slower than L only on a parallel device
        ctx.claim(
            f"FHS speed-up over L-step ancestral sampling grows with L (|V| = {vmax}: ratio of "
            f"speed-ups at L = {lmax} and {lmin})",
            source="Zheng et al. 2024, Sec. 3",
            measured=growth,
            expected=1.0,
            op=">=",
        )
    else:
        ctx.note(
            f"Growth of the FHS speed-up with L on this CPU (|V| = {vmax}, L = {lmin} -> "
            f"{lmax}): x{growth:.2f}; not claimed on a CPU, where it was measured between "
            "0.97 and 1.45 in repeated runs (wall-time noise of a shared machine)."
        )
    dna = [speed[(length, 4)] for length in p["lengths"] if 4 in p["vocabs"]]
    if dna:
        ctx.note(
            "DNA-sized vocabulary (|V| = 4): at equal network calls FHS is "
            + ", ".join(f"{s:.2f}x" for s in dna)
            + " as fast as the ancestral sampler (L = "
            + ", ".join(str(x) for x in p["lengths"])
            + "): the per-step categorical work FHS saves is negligible when |V| is tiny, so "
            "it is not a speed win there; its advantage over a 1000-step ancestral run is "
            "only the number of network calls, which the cached sampler also obtains "
            "(NFE <= L). On a CPU the network cost of this model grows linearly with L, as does "
            "the per-step categorical work FHS saves, so the equal-calls speed-up need not grow "
            "with L (on a GPU, where a call's time grows slower than L, it is expected to; not "
            "measured here). "
            "The 'est_speedup_vs_1000_step_ancestral' column scales the measured "
            "L-step ratio by 1000/L (network-bound estimate); benchmarks/bench_discrete_sample.py "
            "measures 1000-step ancestral runs directly."
        )
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for length in p["lengths"]:
        ax.plot(p["vocabs"], [speed[(length, v)] for v in p["vocabs"]], "o-", label=f"L = {length}")
    ax.set(xscale="log", xlabel="|V|", ylabel="time(L-step ancestral) / time(FHS)")
    ax.axhline(1, color="gray", lw=0.5)
    ax.legend()
    ctx.figure(fig, "speedup")


def _tail_model(k: int, p_tail: float, length: int) -> tuple[FunctionModel, np.ndarray]:
    probs = np.append(1 - k * p_tail, np.full(k, p_tail))
    logits = torch.log(torch.as_tensor(np.append(probs, 0.0)))
    model = FunctionModel(lambda x: logits.expand(*x.shape, k + 2), k + 2, k + 1, length=length)
    return model, probs


@register(
    "discrete.sampling.precision",
    description="float32 Gumbel-max vs float64 sampling: tail mass, entropy and unigram "
    "statistics against the model (one head token + a tail of rare tokens).",
    # the truncation depends on p_tail / steps (1e-8 in both); the Monte Carlo cost is
    # (tail + 2) * n * length * steps, so quick runs a 100-step chain on a short tail
    quick={"tail": 255, "p_tail": 1e-6, "length": 64, "n": 256, "steps": 100},
    full={"tail": 1023, "p_tail": 1e-5, "length": 256, "n": 128, "steps": 1000},
)
def precision(ctx: Context) -> None:
    from scipy import stats

    p = ctx.params
    k, length, n = p["tail"], p["length"], p["n"]
    model, probs = _tail_model(k, p["p_tail"], length)
    seeds = np.arange(n) + int(ctx.rng.integers(2**40))
    n_tok = n * length
    f32, exact = float32_chain_token_probability(p["p_tail"], 1 - p["p_tail"], p["steps"])
    mu = {"float64": n_tok * k * exact, "float32": n_tok * k * f32}
    data = ctx.rng.choice(k + 1, size=(n, length), p=probs)  # exact draws from the model
    rows, tail = [], {}
    for prec in ("float64", "float32"):
        t0 = time.perf_counter()
        # "cached" runs the ancestral chain with p_theta reused while x is unchanged: the
        # same tokens as method="ancestral" for this time-agnostic model, fewer calls
        res = sample(model, n, method="cached", steps=p["steps"], precision=prec, seeds=seeds)
        uni = unigram_distribution(res.tokens, k + 2)[: k + 1]
        tail[prec] = int(((res.tokens >= 1) & (res.tokens <= k)).sum())
        ent = -float(np.sum(uni[uni > 0] * np.log(uni[uni > 0])))
        rows.append(
            {
                "precision": prec,
                "tail_count": tail[prec],
                "predicted_tail_count": mu[prec],
                "model_tail_count": mu["float64"],
                "unigram_entropy": ent,
                "model_unigram_entropy": float(-np.sum(probs * np.log(probs))),
                "mean_sequence_entropy": float(sequence_entropy(res.tokens).mean()),
                "data_sequence_entropy": float(sequence_entropy(data).mean()),
                "unigram_tv_to_model": total_variation(uni, probs),
                "seconds": time.perf_counter() - t0,
            }
        )
    ctx.table(
        f"{p['steps']}-step ancestral chain (run by the cached sampler: same tokens); head "
        f"token + {k} tail tokens of probability "
        f"{p['p_tail']:g}; {n_tok} tokens",
        rows,
    )
    ctx.claim(
        "float64: tail-token count matches the model (two-sided Poisson p-value)",
        source="Zheng et al. 2024, Sec. 4",
        measured=float(
            2
            * min(
                stats.poisson.cdf(tail["float64"], mu["float64"]),
                stats.poisson.sf(tail["float64"] - 1, mu["float64"]),
            )
        ),
        expected=1e-3,
        op=">=",
    )
    ctx.claim(
        f"float32 Gumbel truncation keeps at most half of a rare token's probability over "
        f"{p['steps']} steps (exact: the float32 grid enumerated, p = {p['p_tail']:g})",
        source="Zheng et al. 2024, Sec. 4, Thm 4.1; theory/75_float32_gumbel_truncation.md",
        measured=f32 / exact,
        expected=0.5,
        op="<=",
    )
    if not ctx.quick:  # ~50 expected rare tokens are needed for power: paper scale only
        ctx.claim(
            "float32 Gumbel truncation under-samples the tail (one-sided Poisson p-value of "
            "the float32 count under the model's rate)",
            source="Zheng et al. 2024, Sec. 4, Thm 4.1",
            measured=float(stats.poisson.cdf(tail["float32"], mu["float64"])),
            expected=0.01,
            op="<=",
        )
    ctx.claim(
        f"float32 tail count agrees with the exact float32 prediction ({f32 / exact:.2f} of the "
        "model's rate; two-sided Poisson p-value)",
        source="theory/75_float32_gumbel_truncation.md",
        measured=float(
            2
            * min(
                stats.poisson.cdf(tail["float32"], mu["float32"]),
                stats.poisson.sf(tail["float32"] - 1, mu["float32"]),
            )
        ),
        expected=1e-3,
        op=">=",
    )
    ctx.note(
        f"Expected tail counts: {mu['float64']:.1f} (model) and {mu['float32']:.1f} (float32); "
        "the two Poisson checks have little power when these are small (quick), and the Monte "
        "Carlo deficit claim runs at --full only (it needs ~50 expected rare tokens). "
        "float32 Gumbel-max draws uniforms on a 2**-24 grid, so the Gumbel noise is bounded and "
        "a token whose weight is below ~1e-7 of [MASK]'s is (almost) never chosen at a step. "
        f"With {p['steps']} steps a token of probability {p['p_tail']:g} keeps only "
        f"{f32 / exact:.0%} of its probability (exact enumeration of the float32 grid), the "
        "mass going to the head token: lower entropy, i.e. a lower effective temperature. "
        "float64 inverse-CDF sampling (the default) has no such floor."
    )
