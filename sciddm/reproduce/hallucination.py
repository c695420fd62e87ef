"""Reproductions of Aithal et al. (2024) for ``sciddm reproduce``.

``hallucination.detector-1d`` / ``hallucination.detector-2d``
    Train a diffusion model on the 1-D {1, 2, 3} mixture / the 2-D 5 x 5 grid,
    draw a calibration set and a held-out set, choose the trajectory-variance
    threshold on the calibration set so that 96 % of in-support samples are kept,
    and measure on the held-out set the fraction of hallucinations removed, the
    in-support retention and the AUROC. Also: the exact-score baseline and the
    learned-versus-exact denoiser along the segment between two modes.
``hallucination.recursive``
    Recursive training on the 2-D grid, unfiltered vs variance-filtered vs
    random-filtered, for several generations.
``hallucination.mode-interpolation`` (in ``--demo``)
    The learned denoiser is a ramp where the exact one is a step between two
    modes, and the exact-score sampler (started from the exact marginal at
    sigma_max) keeps the data's mode weights and does not hallucinate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sciddm.hallucination import (
    HALLUCINATION,
    ModeMixture,
    Recipe,
    TrajectoryVarianceDetector,
    denoiser_along_segment,
    exact_denoiser,
    exact_score_sample,
    generate,
    grid_2d,
    mixture_1d,
    outside_mass,
    plot_segment_profile,
    recursive_training,
    train_sampler,
)
from sciddm.reproduce import Context, chisquare_gof, register

SOURCE = "Aithal et al. 2024, Sec. 5"


def _recipe(p: dict) -> Recipe:
    keys = (
        "kind",
        "hidden",
        "depth",
        "steps",
        "batch_size",
        "lr",
        "sample_steps",
        "window",
        "grad_clip",
    )
    return Recipe(**{k: p[k] for k in keys if k in p})


def _exact_baseline_rate(
    mixture: ModeMixture, n: int, rng: np.random.Generator, steps: int
) -> float:
    out = exact_score_sample(mixture, n, steps=steps, rng=rng).samples.numpy()
    return float(np.mean(mixture.classify(out) == HALLUCINATION))


def _detector_experiment(ctx: Context, mixture: ModeMixture, label: str) -> None:
    p = ctx.params
    recipe = _recipe(p)
    trained = train_sampler(
        mixture.sample(p["n_train"], rng=ctx.rng), recipe, rng=ctx.rng, progress=ctx.progress
    )
    cal = generate(trained, p["n_eval"], rng=ctx.rng)
    test = generate(trained, p["n_eval"], rng=ctx.rng)
    lab_cal, lab_test = mixture.classify(cal.samples), mixture.classify(test.samples)
    retention = p.get("retention", 0.96)
    # the paper's fixed window, and the window chosen on the calibration set alone
    fixed = TrajectoryVarianceDetector(window=p["paper_window"], retention=retention)
    rep_fixed = fixed.fit(cal.trajectory, lab_cal).evaluate(test.trajectory, lab_test)
    det = TrajectoryVarianceDetector(retention=retention)
    candidates = [k for k in (5, 10, 15, 20, 25, 30, 40, 50, 60, 80) if k <= recipe.window]
    det.select_window(cal.trajectory, lab_cal, candidates)
    rep = det.evaluate(test.trajectory, lab_test)
    rate = float(np.mean(lab_test == HALLUCINATION))
    exact_rate = _exact_baseline_rate(mixture, p["n_exact"], ctx.rng, p["exact_steps"])
    ctx.table(
        f"{label}: held-out detection ({recipe.kind} recipe, {recipe.steps} training steps, "
        f"{recipe.sample_steps} sampling steps)",
        [
            {
                "window K": f"{k} ({how})",
                "hallucination rate": rate,
                "hallucinations (held out)": r.n_hallucinations,
                "in-support (held out)": r.n_in_support,
                "removed": r.removed,
                "retained": r.retained,
                "AUROC": r.auroc,
            }
            for k, how, r in [
                (p["paper_window"], "fixed", rep_fixed),
                (det.window_, "chosen on calibration set", rep),
            ]
        ],
    )
    ctx.table(
        f"{label}: window selection on the calibration set",
        [
            {"K": k, "removed (calibration)": v[0], "AUROC (calibration)": v[1]}
            for k, v in det.window_scores_.items()
        ],
    )
    ctx.note(f"{label}: the exact-score sampler's hallucination rate is {exact_rate:.2e}.")
    _detector_claims(ctx, mixture, label, rep, retention, exact_rate)
    _detector_figure(ctx, mixture, trained, rep, det, test)


def _detector_claims(
    ctx: Context,
    mixture: ModeMixture,
    label: str,
    rep: Any,
    retention: float,
    exact_rate: float,
) -> None:
    p = ctx.params
    n_h = rep.n_hallucinations
    if p.get("removal_claim", True):
        se = np.sqrt(max(rep.removed * (1 - rep.removed), 1e-12) / max(n_h, 1))
        ctx.claim(
            f"{label}: trajectory variance removes >= 95% of hallucinations",
            source=SOURCE,
            measured=rep.removed,
            expected=0.95,
            op=">=",
            ci=(rep.removed - 1.96 * se, rep.removed + 1.96 * se),
        )
        if n_h < 30:
            ctx.note(
                f"{label}: only {n_h} hallucinations in the held-out set (the better the "
                "model, the rarer they are); the removal rate is imprecise at this size: raise "
                "`n_eval`."
            )
    else:
        ctx.note(
            f"{label}: the '>= 95% removed' claim is checked in --full only: with "
            f"{p['steps']} training steps the model has not resolved the narrow 2-D modes, "
            f"so its hallucinations are broad ({rep.n_hallucinations} held out, removal "
            f"{rep.removed:.2f}, AUROC {rep.auroc:.2f}); --full trains 40 000 steps, where "
            "the claim is tested."
        )
    # held-out retention fluctuates around the target: the calibration quantile and the
    # held-out frequency each carry binomial noise, so allow 3 standard errors of their
    # difference (false-alarm rate about 1e-3)
    se_r = np.sqrt(2 * retention * (1 - retention) / max(rep.n_in_support, 1))
    ctx.claim(
        f"{label}: while keeping >= 96% of in-support samples (threshold from a separate "
        "calibration set; tolerance 3 binomial standard errors)",
        source=SOURCE,
        measured=rep.retained,
        expected=retention,
        op=">=",
        tolerance=float(3 * se_r),
    )
    ctx.claim(
        f"{label}: the exact score hallucinates no more than the data's mass beyond 5 std "
        f"(+ 3/n_exact, n_exact = {p['n_exact']})",
        source="Aithal et al. 2024, Sec. 3",
        measured=exact_rate,
        expected=outside_mass(5.0, mixture.dim) + 3.0 / p["n_exact"],
        op="<=",
    )


def _detector_figure(
    ctx: Context, mixture: ModeMixture, trained: Any, rep: Any, det: Any, test: Any
) -> None:
    import matplotlib.pyplot as plt

    x_test = test.samples
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    a, b = mixture.means[0], mixture.means[1]
    prof = denoiser_along_segment(
        trained_denoiser(trained), a, b, [0.02, 0.05, 0.1, 0.3], exact=exact_denoiser(mixture)
    )
    plot_segment_profile(prof, ax=axes[0])
    axes[0].set_title("denoiser between two modes")
    axes[1].plot(rep.fpr, rep.tpr)
    axes[1].plot([0, 1], [0, 1], "k:", lw=0.8)
    axes[1].set(
        xlabel="in-support removed",
        ylabel="hallucinations removed",
        title=f"ROC (AUROC {rep.auroc:.3f})",
    )
    if mixture.dim == 1:
        axes[2].hist(x_test[:, 0], bins=300, color="C0")
        axes[2].set(yscale="log", xlabel="x", title="held-out samples")
    else:
        flagged = det.predict(test.trajectory)
        # removed points drawn underneath: those between modes stay visible, while the
        # in-support ones removed by the 96 % threshold hide under the kept clusters
        axes[2].scatter(*x_test[flagged].T, s=3, c="C3", label="removed", zorder=1)
        axes[2].scatter(*x_test[~flagged].T, s=1, c="C0", label="kept", zorder=2)
        axes[2].legend(markerscale=5)
        axes[2].set(title="held-out samples", aspect="equal")
    ctx.figure(fig, "detector")


def trained_denoiser(trained: Any) -> Any:
    """A ``D(x, sigma)`` view of a trained model, for the segment analysis."""
    from sciddm.diffusion import VPDenoiser, ddpm_alphas_cumprod, ddpm_betas

    r = trained.recipe
    if r.kind == "edm":
        return trained.model
    ac = ddpm_alphas_cumprod(
        ddpm_betas(r.sample_steps, beta_start=r.beta_start, beta_end=r.beta_end)
    )
    return VPDenoiser(trained.model, ac)


_QUICK = dict(
    kind="edm",
    hidden=128,
    depth=3,
    steps=6000,
    batch_size=512,
    lr=2e-3,
    grad_clip=1.0,
    sample_steps=100,
    window=40,
    paper_window=10,
)
_FULL = dict(
    kind="edm",
    hidden=128,
    depth=3,
    steps=40_000,
    batch_size=1024,
    lr=1e-3,
    grad_clip=1.0,
    sample_steps=200,
    window=80,
    paper_window=10,
)


@register(
    "hallucination.detector-1d",
    description="Trajectory variance removes >95% of hallucinations at 96% retention (1-D {1,2,3} mixture).",
    quick={**_QUICK, "n_train": 50_000, "n_eval": 20_000, "n_exact": 20_000, "exact_steps": 50},
    full={**_FULL, "n_train": 100_000, "n_eval": 200_000, "n_exact": 100_000, "exact_steps": 200},
)
def detector_1d(ctx: Context) -> None:
    _detector_experiment(ctx, mixture_1d((1.0, 2.0, 3.0)), "1-D")


@register(
    "hallucination.detector-2d",
    description="Trajectory variance removes >95% of hallucinations at 96% retention (2-D 5x5 grid).",
    quick={
        **_QUICK,
        "n_train": 50_000,
        "steps": 4000,
        "n_eval": 10_000,
        "n_exact": 5_000,
        "exact_steps": 50,
        "removal_claim": False,
    },
    full={**_FULL, "n_train": 100_000, "n_eval": 100_000, "n_exact": 100_000, "exact_steps": 200},
)
def detector_2d(ctx: Context) -> None:
    _detector_experiment(ctx, grid_2d(), "2-D grid")


@register(
    "hallucination.recursive",
    description="Recursive training on own samples: variance filtering slows the growth of hallucinations.",
    quick={
        **_QUICK,
        "steps": 800,
        "sample_steps": 50,
        "window": 20,
        "generations": 2,
        "n_samples": 1_000,
        "drop_fraction": 0.1,
        "filter_window": 10,
        "claims": False,
    },
    full={
        **_FULL,
        "steps": 20_000,
        "generations": 6,
        "n_samples": 50_000,
        "drop_fraction": 0.1,
        "filter_window": 40,
        "claims": True,
    },
)
def recursive(ctx: Context) -> None:
    import matplotlib.pyplot as plt

    p = ctx.params
    recipe = _recipe(p)
    mixture = grid_2d()
    # common random numbers: generation 1 is trained and sampled once and shared, so the
    # strategies differ only by what they filter
    first = generate(
        train_sampler(mixture.sample(p["n_samples"], rng=ctx.rng), recipe, rng=ctx.rng),
        p["n_samples"],
        rng=ctx.rng,
    )
    seed = int(ctx.rng.integers(2**32))
    results = {
        strategy: recursive_training(
            mixture,
            recipe,
            generations=p["generations"],
            n_samples=p["n_samples"],
            strategy=strategy,
            drop_fraction=p["drop_fraction"],
            window=p["filter_window"],
            rng=np.random.default_rng(seed),
            progress=ctx.progress,
            first=first,
        )
        for strategy in ("none", "random", "variance")
    }
    rows = [row for res in results.values() for row in res.rows()]
    ctx.table("hallucination rate and modes covered per generation", rows)
    last = {k: float(v.hallucination_rate[-1]) for k, v in results.items()}
    mean_later = {k: float(np.mean(v.hallucination_rate[1:])) for k, v in results.items()}
    if p["claims"]:
        ctx.claim(
            "variance filtering lowers the hallucination rate of later generations versus no "
            "filtering",
            source="Aithal et al. 2024, Sec. 6, Fig. 8",
            measured=mean_later["variance"],
            expected=mean_later["none"],
            op="<=",
        )
        ctx.claim(
            "variance filtering beats removing as many samples at random",
            source="Aithal et al. 2024, Sec. 6",
            measured=mean_later["variance"],
            expected=mean_later["random"],
            op="<=",
        )
    else:
        ctx.note(
            "The two claims (variance filtering lowers later generations' hallucination rate "
            "versus no filtering and versus random filtering) are checked in --full only: "
            "they need converged models for each generation (20 000 steps on 50 000 samples, "
            f"6 generations); --quick runs the pipeline with {p['steps']} steps and "
            f"{p['n_samples']} samples to show the table and figure."
        )
    ctx.note(
        "Final-generation hallucination rates: "
        + ", ".join(f"{k} {v:.4f}" for k, v in last.items())
        + ". Rates are averaged over generations 2..G for the claims; generation 1 is shared."
    )
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for k, v in results.items():
        ax.plot(np.arange(1, len(v.hallucination_rate) + 1), v.hallucination_rate, "o-", label=k)
    ax.set(xlabel="generation", ylabel="hallucination rate", yscale="symlog")
    ax.legend()
    ctx.figure(fig, "recursive")


@register(
    "hallucination.mode-interpolation",
    description="A trained denoiser interpolates between modes where the exact one steps; "
    "the exact-score sampler keeps the mode weights and does not hallucinate.",
    quick={"steps": 2000, "n_train": 20_000, "n_exact": 20_000, "exact_steps": 50},
    full={"steps": 10_000, "n_train": 50_000, "n_exact": 100_000, "exact_steps": 200},
    demo={},
)
def mode_interpolation(ctx: Context) -> None:
    import matplotlib.pyplot as plt

    p = ctx.params
    m = mixture_1d()
    recipe = Recipe(steps=p["steps"], batch_size=512, sample_steps=50, window=10)
    trained = train_sampler(m.sample(p["n_train"], rng=ctx.rng), recipe, rng=ctx.rng)
    prof = denoiser_along_segment(
        trained.model, [1.0], [2.0], [0.02, 0.1, 0.3], exact=exact_denoiser(m), n_points=401
    )
    assert prof.exact is not None
    # "between the modes": the projection lies in (0.1, 0.9) of the segment, at sigma = 0.02
    frac_learned = float(np.mean((prof.learned[0] > 0.1) & (prof.learned[0] < 0.9)))
    frac_exact = float(np.mean((prof.exact[0] > 0.1) & (prof.exact[0] < 0.9)))
    x = exact_score_sample(m, p["n_exact"], steps=p["exact_steps"], rng=ctx.rng).samples.numpy()
    counts = np.bincount(m.nearest_mode(x), minlength=m.n_modes)
    pval = chisquare_gof(counts, m.weights)
    rate = float(np.mean(m.classify(x) == HALLUCINATION))
    ctx.table(
        "Mode interpolation between modes 1 and 2 (sigma = 0.02) and the exact-score sampler",
        [
            {"quantity": "segment points mapped between the modes, learned", "value": frac_learned},
            {"quantity": "segment points mapped between the modes, exact", "value": frac_exact},
            {"quantity": "exact-score mode shares (chi-squared p-value)", "value": pval},
            {"quantity": "exact-score hallucination rate", "value": rate},
        ],
    )
    ctx.claim(
        "the learned denoiser maps more of the segment between two modes strictly between "
        "them than the exact denoiser (a smooth approximation of a step: mode interpolation)",
        source="Aithal et al. 2024, Sec. 3, Fig. 3",
        measured=frac_learned,
        expected=frac_exact,
        op=">=",
        holds=bool(frac_learned > frac_exact),
    )
    ctx.claim(
        "the exact-score sampler, started from the exact marginal at sigma_max, keeps the "
        "mode weights (chi-squared p-value above 1e-3, the false-alarm rate)",
        source="Song et al. ICLR 2021 (the PF-ODE transports the marginals)",
        measured=pval,
        expected=1e-3,
        op=">=",
    )
    ctx.claim(
        "the exact score hallucinates no more than the data's mass beyond 5 std "
        f"(+ 3/n, n = {p['n_exact']})",
        source="Aithal et al. 2024, Sec. 3",
        measured=rate,
        expected=outside_mass(5.0, 1) + 3.0 / p["n_exact"],
        op="<=",
    )
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    plot_segment_profile(prof, ax=axes[0])
    axes[0].set_title(f"learned ({p['steps']} steps) vs exact denoiser")
    axes[1].hist(x[:, 0], bins=200)
    axes[1].set(yscale="log", xlabel="x", title="exact-score samples")
    ctx.figure(fig, "mode_interpolation")
    ctx.note(
        f"EDM MLP trained {p['steps']} steps on {p['n_train']} points of the 1-D {{1, 2, 3}} "
        "mixture (std 0.05). The segment profile projects D(a + s (b - a), sigma) back on "
        "the segment; 'between the modes' means a projection in (0.1, 0.9)."
    )
