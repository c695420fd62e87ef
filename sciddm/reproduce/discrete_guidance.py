"""Reproductions for reward-guided decoding (SVDD, SMC, best-of-N).

The exact references of ``discrete.guidance.exact`` (soft values, the tilted law,
SVDD's and best-of-N's exact output laws on a toy problem) are public library
code in :mod:`sciddm.discrete.toys`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from sciddm.discrete.toys import (
    exact_tilt,
    svdd_law,
    toy_problem,
    toy_reward,
)
from sciddm.reproduce import Context, register, total_variation

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- exact references


# --------------------------------------------------------------------------- exact experiment


@register(
    "discrete.guidance.exact",
    description="SVDD/SMC vs the exact soft-optimal law p* ∝ p_pre exp(r/alpha) on a toy model",
    quick={"Ms": (1, 2, 4, 8, 16, 64), "n_smc": 2000, "K": 64, "alpha": 0.5},
    demo={"Ms": (1, 2, 4, 8, 16, 64), "n_smc": 4000, "K": 64},
    full={"Ms": (1, 2, 4, 8, 16, 64, 256), "n_smc": 20000, "K": 256, "alpha": 0.5},
)
def exact(ctx: Context) -> None:
    from sciddm.discrete import smc

    p = ctx.params
    prob = toy_problem(length=3, n_tokens=3, rng=5)
    g = np.random.default_rng(6)
    rew = g.normal(size=prob.n_tokens**prob.length)
    tilt = exact_tilt(prob, rew, p["alpha"])
    tvs = [total_variation(svdd_law(tilt, m), tilt.tilted) for m in p["Ms"]]
    tv_inf = total_variation(svdd_law(tilt, None), tilt.tilted)
    ctx.table(
        "exact TV(SVDD law with M candidates, p*)",
        [{"M": m, "TV": round(tv, 6)} for m, tv in zip(p["Ms"], tvs)]
        + [{"M": "inf", "TV": tv_inf}],
    )
    ctx.claim(
        "SVDD with exact soft values approaches p* ∝ p_pre exp(r/alpha) as M grows "
        "(largest-M TV / M=1 TV)",
        source="Li et al. 2024 (SVDD), Sec. 4: importance resampling of the soft-optimal policy",
        measured=tvs[-1] / tvs[0],
        expected=0.1,
        op="<=",
    )
    ctx.claim(
        "the M -> inf SVDD policy (soft-optimal policy) samples p* exactly (TV)",
        source="Li et al. 2024, Thm 1 / Uehara et al. 2024 (soft-optimal policy)",
        measured=tv_inf,
        expected=1e-10,
        op="<=",
    )
    res = smc(
        prob.model(),
        toy_reward(prob, rew),
        p["n_smc"],
        K=p["K"],
        alpha=p["alpha"],
        steps=3,
        value_model=tilt.value_model(),
        rng=ctx.rng,
    )
    tv_smc = total_variation(prob.counts(res.tokens) / p["n_smc"], tilt.tilted)
    tv_pre = total_variation(tilt.pretrained, tilt.tilted)
    ctx.claim(
        f"SMC with K={p['K']} particles and exact twists matches p* (empirical TV of "
        f"{p['n_smc']} samples; pretrained is at {tv_pre:.3f})",
        source="Wu et al. 2023 (TDS): SMC is consistent as K -> inf",
        measured=tv_smc,
        expected=0.25 * tv_pre,
        op="<=",
    )
    from sciddm._core.plotting import get_ax

    ax = get_ax(None)
    ax.loglog(p["Ms"], tvs, "o-", label="SVDD, exact law")
    ax.axhline(tv_pre, color="k", ls="--", lw=1, label="pretrained")
    ax.set_xlabel("candidates M")
    ax.set_ylabel("TV to p*")
    ax.legend()
    ctx.figure(ax.figure, "svdd_tv_vs_M")
    ctx.note(
        "Exact enumeration on a 3-token, length-3 toy model with a 3-step ancestral chain: "
        "the TV between SVDD's law and p* falls with M (M=1 is the pretrained chain); "
        "the M -> inf policy hits p* to rounding. SMC's empirical TV includes Monte Carlo "
        "error of the sample size."
    )


# --------------------------------------------------------------------------- molecules and DNA

_SVDD_SOURCE = (
    "Li et al. 2024 (SVDD), Tables 1-2 / released printouts: SVDD-PM > SMC > best-of-N > "
    "pretrained at comparable compute"
)
_METHODS = ("pretrained", "best-of-N", "best-of-M", "SMC", "SVDD-PM", "SVDD-MC")


def _run_methods(
    ctx: Context,
    model: Any,
    guide: Any,
    evaluate: Any,
    label: str,
    seeds: list[int],
) -> dict[str, dict[str, Any]]:
    """Run the five decoders at (nearly) equal reward calls; evaluate with ``evaluate``."""
    from sciddm.discrete import best_of_n, smc, svdd, train_value_model

    p = ctx.params
    n, steps, m = p["n"], p["steps"], p["M"]
    budget = m * (steps + 1)  # reward calls per sample of SVDD-PM / SMC (at most)
    common = {"steps": steps, "batch_size": p.get("batch_size"), "device": ctx.device}
    fit = train_value_model(
        model,
        guide,
        n_trajectories=p["value_trajectories"],
        sampler="ancestral",
        steps=steps,
        epochs=p["value_epochs"],
        width=p["value_width"],
        rng=ctx.rng,
        device=ctx.device,
    )
    ctx.table(
        f"{label}: SVDD-MC value network",
        [
            {
                "trajectories (reward calls)": fit.reward_calls,
                "held-out MSE": round(fit.val_mse, 4),
                "constant-predictor MSE": round(fit.val_baseline_mse, 4),
            }
        ],
    )
    out: dict[str, dict[str, Any]] = {k: {"runs": []} for k in _METHODS}
    for seed in seeds:
        sd = np.arange(n) + 10_000 * seed
        runs = {
            "pretrained": lambda sd=sd: best_of_n(
                model, guide, n, N=1, method="ancestral", seeds=sd, **common
            ),
            "best-of-N": lambda sd=sd: best_of_n(
                model, guide, n, N=budget, method="ancestral", seeds=sd, **common
            ),
            "best-of-M": lambda sd=sd: best_of_n(
                model, guide, n, N=m, method="ancestral", seeds=sd, **common
            ),
            "SMC": lambda sd=sd: smc(
                model, guide, n, K=m, alpha=p["alpha_smc"], seeds=sd, **common
            ),
            "SVDD-PM": lambda sd=sd: svdd(model, guide, n, M=m, alpha=0.0, seeds=sd, **common),
            "SVDD-MC": lambda sd=sd: svdd(
                model,
                guide,
                n,
                M=m,
                alpha=0.0,
                variant="mc",
                value_model=fit.model,
                seeds=sd,
                **common,
            ),
        }
        for name, fn in runs.items():
            res = fn()
            texts = res.texts if res.texts is not None else list(res.tokens)
            ev = np.asarray(evaluate(texts), dtype=np.float64)
            out[name]["runs"].append((res, ev))
    return out


def _summarise(
    ctx: Context,
    out: dict[str, dict[str, Any]],
    label: str,
    naturalness: Any,
    evaluate_name: str,
) -> None:
    from sciddm.reproduce import mean_ci

    rows = []
    med: dict[str, np.ndarray] = {}
    avg: dict[str, np.ndarray] = {}
    for name, d in out.items():
        evs = [ev for _, ev in d["runs"]]
        per_seed = np.array([np.quantile(ev, [0.5, 0.8, 0.9]) for ev in evs])
        med[name] = per_seed[:, 0]
        avg[name] = np.array([float(np.mean(ev)) for ev in evs])
        pooled = np.concatenate(evs)
        toks = np.concatenate([r.tokens for r, _ in d["runs"]])
        texts = sum((r.texts or [] for r, _ in d["runs"]), [])
        row: dict[str, Any] = {"method": name}
        for j, q in enumerate((50, 80, 90)):
            mu, lo, hi = (
                mean_ci(per_seed[:, j])
                if len(per_seed) > 1
                else (per_seed[0, j], per_seed[0, j], per_seed[0, j])
            )
            row[f"q{q} ({evaluate_name})"] = f"{mu:.3f} [{lo:.3f}, {hi:.3f}]"
        row["pooled q50"] = round(float(np.quantile(pooled, 0.5)), 3)
        row["reward calls/sample"] = round(
            float(np.mean([r.reward_calls.mean() for r, _ in d["runs"]])), 1
        )
        row["network evals/sample"] = round(float(np.mean([r.nfe.mean() for r, _ in d["runs"]])), 1)
        row["value calls/sample"] = round(
            float(np.mean([r.value_calls.mean() for r, _ in d["runs"]])), 1
        )
        row.update(naturalness(toks, texts))
        rows.append(row)
    ctx.table(f"{label}: evaluation reward quantiles (mean over seeds, 95% t-interval)", rows)
    pairs = [("SVDD-PM", "SMC"), ("SMC", "best-of-N"), ("best-of-N", "pretrained")]
    order = sorted(med, key=lambda k: -float(np.mean(med[k])))
    broken = [f"{a} > {b}" for a, b in pairs if not float(np.mean(med[a] - med[b])) > 0]
    ctx.note(
        f"{label}: observed order of the mean per-seed median {evaluate_name}: "
        + " > ".join(order)
        + (
            ". The reference ordering SVDD-PM > SMC > best-of-N > pretrained holds."
            if not broken
            else ". The reference ordering does NOT hold for: " + ", ".join(broken) + "."
        )
    )
    stat, stat_name = med, "median"
    if ctx.quick:
        # quick models are tiny and barely trained (many samples get the floor reward), with
        # a few samples and seeds: only "guidance raises the mean reward" is claimed; the
        # paper's ordering of medians needs --full
        pairs = [("best-of-N", "pretrained"), ("SVDD-PM", "pretrained")]
        stat, stat_name = avg, "mean"
    else:
        pairs += [("SVDD-PM", "best-of-M"), ("SVDD-MC", "pretrained")]
    for a, b in pairs:
        diff = stat[a] - stat[b]
        mu, lo, hi = mean_ci(diff) if len(diff) > 1 else (diff[0], diff[0], diff[0])
        what = (
            " at about equal network evaluations (SVDD needs no more calls than M samples)"
            if b == "best-of-M"
            else ""
        )
        ctx.claim(
            f"{label}: {stat_name} {evaluate_name} of {a} exceeds {b}{what} (mean difference "
            f"of per-seed {stat_name}s over {len(diff)} seeds > 0)",
            source=_SVDD_SOURCE,
            measured=float(mu),
            expected=1e-9,
            op=">=",
            ci=(float(lo), float(hi)),
        )
    from sciddm._core.plotting import get_ax

    ax = get_ax(None)
    data = [np.concatenate([ev for _, ev in out[k]["runs"]]) for k in _METHODS]
    ax.boxplot(data, whis=(10, 90))
    ax.set_xticks(range(1, len(_METHODS) + 1), list(_METHODS))
    ax.set_ylabel(evaluate_name)
    ax.set_title(label)
    ctx.figure(ax.figure, label.lower().replace(" ", "_").replace(":", ""))


def _likelihood(model: Any, toks: np.ndarray, seed: int) -> float:
    from sciddm.dna import approx_log_likelihood

    est = approx_log_likelihood(model, toks, n_samples=4, rng=seed)
    return float(-est.bits_per_token)


_TRAIN_QUICK_SMILES = dict(
    data="nci", max_length=24, model="tiny", steps=300, batch_size=64, lr=2e-3,
    warmup_steps=20, eval_every=0, eval_max=128, val_fraction=0.05, log_every=0,
)  # fmt: skip
_TRAIN_FULL_SMILES = dict(
    data="moses", max_length=60, model="small", steps=50_000, batch_size=512, lr=3e-4,
    warmup_steps=2_000, eval_every=0, eval_max=4096, val_fraction=0.01, log_every=1000,
)  # fmt: skip
_GUIDE_QUICK = dict(n=8, seeds=2, steps=8, M=4, alpha_smc=0.1, value_trajectories=64,
                    value_epochs=3, value_width=16)  # fmt: skip
_GUIDE_FULL = dict(n=128, seeds=5, steps=128, M=10, alpha_smc=0.1, value_trajectories=20_000,
                   value_epochs=20, value_width=128, batch_size=128)  # fmt: skip


def _train(ctx: Context, cfg: dict[str, Any]) -> Any:
    from sciddm.discrete import train

    seed = int(ctx.rng.integers(0, 2**31 - 1))
    return train(device=ctx.device, seed=seed, progress=ctx.progress, **cfg)


@register(
    "discrete.guidance.molecules",
    description="Best-of-N, SMC, SVDD-PM/MC on a tiny SMILES MDLM (QED, SA, composite), equal reward calls",
    quick={"train": _TRAIN_QUICK_SMILES, "rewards": ("QED",), **{**_GUIDE_QUICK, "steps": 16}},
    full={"train": _TRAIN_FULL_SMILES, "rewards": ("QED", "SA", "composite"), **_GUIDE_FULL},
    requires=("rdkit",),
)
def molecules(ctx: Context) -> None:
    from sciddm.chem import ChemReward, internal_diversity, novelty, uniqueness, validity

    p = ctx.params
    t0 = time.perf_counter()
    tr = _train(ctx, dict(p["train"]))
    model = tr.model
    ref = _reference_smiles(p["train"])
    seeds = list(range(p["seeds"]))

    def naturalness(toks: np.ndarray, texts: list[str]) -> dict[str, Any]:
        return {
            "validity": round(validity(texts), 3),
            "uniqueness": round(uniqueness(texts), 3) if validity(texts) > 0 else float("nan"),
            "novelty": round(novelty(texts, ref), 3) if validity(texts) > 0 else float("nan"),
            "diversity": round(internal_diversity(texts, rng=0), 3)
            if validity(texts) > 0
            else float("nan"),
            "log-lik (bits/token)": round(_likelihood(model, toks, 0), 3),
        }

    weights_of: dict[str, Any] = {"QED": "qed", "SA": "sa", "composite": {"qed": 0.5, "sa": 0.5}}
    for name in p["rewards"]:
        weights = weights_of[name]
        reward = ChemReward(weights)
        reward.__name__ = f"ChemReward({name})"  # type: ignore[attr-defined]
        out = _run_methods(ctx, model, reward, reward, f"SMILES {name}", seeds)
        _summarise(ctx, out, f"SMILES {name}", naturalness, f"{name} reward")
    ctx.note(
        f"Pretrained: a {p['train']['model']} MDLM trained {p['train']['steps']} steps on "
        f"{p['train']['data'].upper()} SMILES ({time.perf_counter() - t0:.0f} s in all). "
        f"Each method gets about M (steps + 1) = {p['M'] * (p['steps'] + 1)} reward calls per "
        "sample (SVDD and SMC stop spending once a sequence is fully unmasked, so they use "
        "at most that; best-of-N uses exactly N = that). SVDD runs at alpha = 0 (argmax, the "
        "released code); SMC at the stated alpha. best-of-M (N = M) is best-of-N at about "
        "the network evaluations of SVDD/SMC (best-of-N at equal reward calls spends about "
        "steps + 1 times more network evaluations). Invalid SMILES get reward 0. Quick "
        "models are tiny and barely valid, so the ordering at --quick is noisy; the intervals "
        "are t-intervals over seeds (few seeds: wide)."
    )


def _reference_smiles(cfg: dict[str, Any]) -> list[str]:
    from sciddm.discrete import load_moses_smiles, load_nci_smiles

    if cfg["data"] == "nci":
        return load_nci_smiles(max_length=None).sequences
    return load_moses_smiles(limit=200_000).sequences


@register(
    "discrete.guidance.dna",
    description="Guidance on a tiny ARS1 DNA MDLM: JASPAR motif reward and ARS oracle (held-out oracle evaluates)",
    quick={
        "train": dict(data="ars", limit=3000, model="tiny", steps=60, batch_size=32, lr=2e-3,
                      warmup_steps=10, eval_every=0, eval_max=64, val_fraction=0.05,
                      log_every=0),
        "oracle": None,  # the ARS-oracle half (two CNN oracles) runs at --full only
        "motifs": {"MA0114": 1.0},
        **_GUIDE_QUICK,
    },
    full={
        "train": dict(data="ars", limit=None, model="small", steps=20_000, batch_size=256,
                      lr=3e-4, warmup_steps=1_000, eval_every=0, eval_max=4096,
                      val_fraction=0.02, log_every=1000),
        "oracle": dict(n_train=None, n_test=20_000, epochs=5, channels=64),
        "motifs": {"MA0114": 1.0, "MA0046": 1.0},
        **_GUIDE_FULL,
    },
    requires=("logomaker", "pyjaspar"),
)  # fmt: skip
def dna(ctx: Context) -> None:
    from sciddm.dna import (
        MotifReward,
        hamming_diversity,
        kmer_spectrum_correlation,
        read_ars,
        train_ars_oracles,
    )

    p = ctx.params
    t0 = time.perf_counter()
    tr = _train(ctx, dict(p["train"]))
    model = tr.model
    lib = read_ars()
    ref = lib.sequences[:20_000]
    seeds = list(range(p["seeds"]))

    def naturalness(toks: np.ndarray, texts: list[str]) -> dict[str, Any]:
        return {
            "3-mer corr": round(kmer_spectrum_correlation(texts, ref, 3), 3),
            "diversity": round(hamming_diversity(texts, rng=0), 3),
            "log-lik (bits/token)": round(_likelihood(model, toks, 0), 3),
        }

    motif = MotifReward(p["motifs"])
    motif.__name__ = "MotifReward"  # type: ignore[attr-defined]
    out = _run_methods(ctx, model, motif, motif, "DNA motif", seeds)
    _summarise(ctx, out, "DNA motif", naturalness, "motif score")
    if p["oracle"] is None:
        ctx.note(
            f"Pretrained: a {p['train']['model']} MDLM trained {p['train']['steps']} steps on "
            f"ARS1 variants ({time.perf_counter() - t0:.0f} s in all). Quick mode runs the "
            "motif reward only; the guidance by one ARS oracle evaluated by a second oracle "
            "trained on a disjoint split runs at --full."
        )
        return
    fit = train_ars_oracles(rng=ctx.rng, data=lib, **p["oracle"])
    ctx.table(
        "ARS oracles (disjoint training splits)",
        [
            {
                "oracle": k,
                "held-out Pearson": round(fit.pearson[k], 3),
                "held-out Spearman": round(fit.spearman[k], 3),
            }
            for k in ("guidance", "evaluation")
        ]
        + [{"oracle": "agreement (Pearson between oracles)", "held-out Pearson": fit.agreement}],
    )
    guide, held_out = fit.guidance, fit.evaluation

    def guide_fn(seqs: list[str]) -> np.ndarray:
        return guide.predict(seqs)

    def eval_fn(seqs: list[str]) -> np.ndarray:
        return held_out.predict(seqs)

    guide_fn.__name__ = "ArsOracle(guidance)"
    out = _run_methods(ctx, model, guide_fn, eval_fn, "DNA ARS", seeds)
    _summarise(ctx, out, "DNA ARS", naturalness, "held-out oracle")
    ctx.note(
        f"Pretrained: a {p['train']['model']} MDLM trained {p['train']['steps']} steps on "
        f"ARS1 variants ({time.perf_counter() - t0:.0f} s in all). The ARS runs are guided by "
        "the oracle of split A and evaluated by the oracle of the disjoint split B, so gains "
        "that only exploit the guidance oracle's errors do not count. Budgets as for "
        "molecules: about M (steps + 1) reward calls per sample for every method; "
        "best-of-M matches SVDD's network evaluations instead."
    )
