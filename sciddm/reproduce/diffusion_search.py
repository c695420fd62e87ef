"""Searched noise schedules (AutoDiffusion, USF) for ``sciddm reproduce diffusion``.

* ``diffusion.search-mixture`` — the 2-D ring mixture with its exact mixture denoiser:
  Fréchet distance of an evolutionary-searched DPM-Solver++(2M) schedule against Karras
  (rho = 7), uniform-t, log-SNR and VP schedules at NFE 4-10, on fresh noise; the NFE the
  searched schedule needs to match Karras at 18 steps; a Gaussian-proxy schedule.
* ``diffusion.search-digits`` — the same on scikit-learn digits with a small MLP denoiser
  trained inside the experiment (PCA-feature Fréchet distance), the exact W2 of schedules
  searched on the Gaussian fit, and the transfer of schedules searched on the Gaussian and
  mixture fits (no network call) to the trained network.

Every schedule is evaluated on the same held-out noise (never the search's own noise),
so the table compares schedules, not noise draws.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm.diffusion import (
    PCAFeatures,
    ScheduleSearchResult,
    fit_gaussian,
    fit_gaussian_mixture,
    frechet_distance,
    levels_for_nfe,
    sample,
    search_schedule,
    standard_schedules,
)
from sciddm.diffusion.toys import load_digits_scaled, ring_mixture, ring_mixture_params
from sciddm.reproduce import Context, register

logger = logging.getLogger(__name__)

SOURCE_AD = "Li et al., AutoDiffusion, ICCV 2023"
SOURCE_USF = "Liu et al., USF, ICLR 2024"
SOURCE_WV = "Wang & Vastola, TMLR 2024"
#: The fixed schedules the >= 20 % claim is held against (VP is reported too).
NAMED = ("karras", "linear", "log_snr")
LABELS = {
    "karras": "Karras rho=7",
    "linear": "uniform-t",
    "log_snr": "log-SNR",
    "vp": "VP",
    "searched": "searched",
    "gauss-proxy": "Gaussian-fit proxy",
    "mixture-proxy": "mixture-fit proxy",
}


class FourierFeatures:
    r"""Random Fourier features :math:`\sqrt{2/m}\cos(Wx + b)`, :math:`W \sim N(0, I/\ell^2)`.

    The mean of these features embeds a law in the RKHS of the Gaussian kernel of
    bandwidth :math:`\ell` (the FD's mean term is then an MMD estimate), so a Fréchet
    distance on them sees the modes of a 2-D mixture, which raw 2-D coordinates (two
    moments only) do not.
    """

    def __init__(self, dim: int, n: int, bandwidth: float, rng: np.random.Generator) -> None:
        self.W = rng.standard_normal((dim, n)) / bandwidth
        self.b = rng.uniform(0, 2 * np.pi, n)
        self.scale = np.sqrt(2.0 / n)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.scale * np.cos(np.asarray(x).reshape(len(x), -1) @ self.W + self.b)


class ClippedFeatures:
    """A feature map applied to samples clipped to the data's range ``[lo, hi]``."""

    def __init__(self, features: Any, lo: float, hi: float) -> None:
        self.features, self.lo, self.hi = features, lo, hi

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.features(np.clip(x, self.lo, self.hi)))


class JointFeatures:
    """Several feature maps side by side, each scaled to unit total variance on ``ref``."""

    def __init__(self, parts: Sequence[Callable[[np.ndarray], Any]], ref: np.ndarray) -> None:
        self.parts = list(parts)
        self.scales = [
            float(np.sqrt(np.trace(np.atleast_2d(np.cov(np.asarray(f(ref)), rowvar=False)))))
            for f in self.parts
        ]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [np.asarray(f(x)) / s for f, s in zip(self.parts, self.scales)], axis=1
        )


def _held_out(
    denoiser: Any,
    z: torch.Tensor,
    sigmas: np.ndarray,
    sampler: str,
    solvers: Sequence[str] | None = None,
) -> np.ndarray:
    """Samples drawn from the held-out unit noise ``z`` on ``sigmas`` (flattened, float64)."""
    x = float(sigmas[0]) * z
    if solvers is not None:
        from sciddm.diffusion import sample_mixed

        out = sample_mixed(denoiser, x, sigmas, solvers=solvers).samples
    else:
        out = sample(denoiser, x, sigmas, sampler=sampler, rng=0).samples
    return np.asarray(out.detach().cpu().double().numpy().reshape(len(z), -1))


def _extend(sigmas: np.ndarray, n: int) -> np.ndarray:
    """Insert levels at the geometric middle of the widest log gaps until ``n`` levels."""
    levels = list(sigmas[:-1])
    while len(levels) < n:
        gaps = np.log(np.asarray(levels[:-1]) / np.asarray(levels[1:]))
        j = int(np.argmax(gaps))
        levels.insert(j + 1, float(np.sqrt(levels[j] * levels[j + 1])))
    return np.asarray([*levels, 0.0])


Metrics = dict[str, Callable[[np.ndarray], float]]
Values = dict[tuple[str, int], dict[str, float]]


def _study(
    ctx: Context,
    denoiser: Any,
    ref: np.ndarray,
    features: Any,
    z_eval: torch.Tensor,
    metrics: Metrics,
    proxies: dict[str, Callable[[int], np.ndarray]],
) -> tuple[Values, dict[int, ScheduleSearchResult], dict[str, float]]:
    """Held-out metrics of fixed, searched and proxy schedules per NFE, and of Karras at 18.

    The search's fitness is the Fréchet distance to ``ref`` on ``features``, the
    first metric (``"FD"``) the same on held-out noise.
    """
    p = ctx.params
    sampler = p["sampler"]
    vals: Values = {}

    def measure(s: np.ndarray) -> dict[str, float]:
        y = _held_out(denoiser, z_eval, s, sampler)
        return {k: f(y) for k, f in metrics.items()}

    searched: dict[int, ScheduleSearchResult] = {}
    prev: np.ndarray | None = None
    for nfe in p["nfes"]:
        n = levels_for_nfe(sampler, nfe)
        for name, s in standard_schedules(n).items():
            vals[name, nfe] = measure(s)
        res = search_schedule(
            denoiser,
            nfe,
            sampler=sampler,
            fitness="frechet",
            reference=ref,
            features=features,
            n_samples=p["n_search"],
            budget=p["candidates"] * nfe,
            population=p["population"],
            init=None if prev is None else _extend(prev, n),  # warm start: the last NFE's
            rng=ctx.rng,
        )
        prev = res.sigmas
        searched[nfe] = res
        vals["searched", nfe] = measure(res.sigmas)
        for name, make in proxies.items():
            vals[name, nfe] = measure(make(nfe))
        logger.info("%s: NFE %d done (%s)", ctx.name, nfe, vals["searched", nfe])
    k18 = measure(standard_schedules(levels_for_nfe(sampler, 18))["karras"])
    return vals, searched, k18


def _rows(
    vals: Values, nfes: Sequence[int], k18: dict[str, float], sampler: str, metric: str
) -> list[dict[str, Any]]:
    names = list(dict.fromkeys(k for k, _ in vals))
    rows = []
    for nfe in nfes:
        best = min(vals[k, nfe][metric] for k in NAMED)
        row: dict[str, Any] = {"NFE": nfe, "levels": levels_for_nfe(sampler, nfe)}
        row.update({LABELS[k]: round(vals[k, nfe][metric], 4) for k in names})
        row["searched / best of Karras, uniform-t, log-SNR"] = round(
            vals["searched", nfe][metric] / best, 3
        )
        rows.append(row)
    last = {"NFE": 18, "levels": levels_for_nfe(sampler, 18)}
    rows.append({**last, LABELS["karras"]: round(k18[metric], 4)})
    return rows


def _claims(ctx: Context, vals: Values, k18: dict[str, float], what: str) -> None:
    nfes = ctx.params["nfes"]
    low = [n for n in nfes if n <= 8]
    fd = {key: v["FD"] for key, v in vals.items()}
    ratios = {n: fd["searched", n] / min(fd[k, n] for k in NAMED) for n in low}
    worst = max(ratios, key=lambda n: ratios[n])
    ctx.claim(
        f"{what}: the searched schedule has >= 20% lower Fréchet distance than the best of "
        f"Karras rho=7, uniform-t and log-SNR at equal NFE, for every NFE <= 8 (measured: the "
        f"worst ratio, at NFE {worst}; held-out noise)",
        source=f"{SOURCE_AD} (searched vs uniform steps at 4-10 steps); issue 21 goal",
        measured=ratios[worst],
        expected=0.8,
        op="<=",
    )
    match = [n for n in nfes if fd["searched", n] <= k18["FD"]]
    ctx.claim(
        f"{what}: the searched schedule reaches the Fréchet distance of Karras rho=7 at 18 "
        f"levels (FD {k18['FD']:.4g}) with at most 10 network calls (measured: the smallest "
        f"NFE of {list(nfes)} that does; inf if none)",
        source=f"{SOURCE_AD}; {SOURCE_USF} (few-NFE searched solvers vs many-step baselines)",
        measured=float(min(match)) if match else float("inf"),
        expected=10.0,
        op="<=",
    )


def _plot(
    ctx: Context, vals: Values, k18: dict[str, float], res: ScheduleSearchResult, title: str
) -> None:
    import matplotlib.pyplot as plt

    nfes = ctx.params["nfes"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for j, name in enumerate(dict.fromkeys(k for k, _ in vals)):
        style = "s-" if name == "searched" else ("^:" if "proxy" in name else "o--")
        axes[0].plot(
            nfes,
            [vals[name, n]["FD"] for n in nfes],
            style,
            lw=2.5 if name == "searched" else 1.2,
            color=f"C{j}",
            label=LABELS[name],
        )
    axes[0].axhline(k18["FD"], color="k", ls=":", lw=1, label="Karras, 18 levels")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("NFE (network calls per sample)")
    axes[0].set_ylabel("Fréchet distance (held-out noise)")
    axes[0].set_title(title)
    axes[0].legend(fontsize="small")
    res.plot(ax=axes[1])
    res.plot_schedules(ax=axes[2])
    ctx.figure(fig, "fd_vs_nfe")


@register(
    "diffusion.search-mixture",
    description="Evolutionary schedule search (AutoDiffusion) on the 2-D ring mixture's exact "
    "denoiser: FD vs Karras, uniform-t, log-SNR and VP schedules at NFE 4-10; NFE to match "
    "Karras at 18 levels; a Gaussian-proxy schedule.",
    quick={
        "sampler": "dpmpp_2m",
        "nfes": [4, 6, 8, 10],
        "candidates": 100,
        "population": 12,
        "n_search": 1000,
        "n_eval": 4000,
        "n_ref": 20000,
        "n_features": 64,
        "bandwidth": 0.3,
    },
    full={
        "sampler": "dpmpp_2m",
        "nfes": [4, 6, 8, 10, 12, 14, 16],
        "candidates": 400,
        "population": 24,
        "n_search": 4000,
        "n_eval": 20000,
        "n_ref": 100000,
        "n_features": 64,
        "bandwidth": 0.3,
    },
    demo={"nfes": [4, 6, 8], "candidates": 80, "n_search": 800, "n_eval": 3000},
)
def search_mixture(ctx: Context) -> None:
    from sciddm.diffusion import GaussianMixtureDenoiser

    p = ctx.params
    w, m, c = ring_mixture_params()
    std = float(np.sqrt(c[0, 0, 0]))
    den = GaussianMixtureDenoiser(m, c, w)
    ref = ring_mixture(p["n_ref"], rng=ctx.rng)
    feats = FourierFeatures(2, p["n_features"], p["bandwidth"], ctx.rng)
    z_eval = torch.as_tensor(ctx.rng.standard_normal((p["n_eval"], 2)))
    gauss = fit_gaussian(ring_mixture(4000, rng=ctx.rng), ddof=0)
    proxy_rng = int(ctx.rng.integers(2**31))

    @functools.cache
    def gauss_proxy(nfe: int) -> np.ndarray:
        return search_schedule(
            gauss, nfe, sampler=p["sampler"], budget=500 * nfe, rng=proxy_rng
        ).sigmas

    def off_mode(y: np.ndarray) -> float:
        dist = np.linalg.norm(y[:, None, :] - m[None], axis=2).min(1)
        return float(np.mean(dist > 4 * std))

    metrics: Metrics = {
        "FD": lambda y: frechet_distance(y, ref, features=feats),
        "off-mode": off_mode,
    }
    vals, searched, k18 = _study(
        ctx, den, ref, feats, z_eval, metrics, {"gauss-proxy": gauss_proxy}
    )
    floor = {k: f(ring_mixture(p["n_eval"], rng=ctx.rng)) for k, f in metrics.items()}
    head = f"({p['sampler']}, exact denoiser, {p['n_eval']} held-out samples per schedule)"
    ctx.table(
        f"Fréchet distance on {p['n_features']} random Fourier features (bandwidth "
        f"{p['bandwidth']}) to {p['n_ref']} exact samples {head}",
        _rows(vals, p["nfes"], k18, p["sampler"], "FD"),
    )
    ctx.table(
        f"Fraction of samples farther than 4 component std from every mode {head}",
        _rows(vals, p["nfes"], k18, p["sampler"], "off-mode"),
    )
    _claims(ctx, vals, k18, "2-D ring mixture (exact denoiser)")
    show = 6 if 6 in searched else p["nfes"][0]
    _plot(ctx, vals, k18, searched[show], "ring mixture, exact denoiser")
    ctx.table(
        "Searched ladders",
        [
            {
                "NFE": n,
                "sigmas": " ".join(f"{v:.3g}" for v in r.sigmas[:-1]),
                "search FD": round(r.fitness, 4),
                "network calls": r.network_calls,
            }
            for n, r in searched.items()
        ],
    )
    ctx.note(
        f"Search: evolutionary (population {p['population']}, {p['candidates']} candidates per "
        f"NFE), fitness the Fourier-feature FD on {p['n_search']} fixed noises (common random "
        f"numbers); evaluation on {p['n_eval']} other noises, the same for every schedule. "
        f"Sampling floors ({p['n_eval']} exact samples): FD {floor['FD']:.4g}, off-mode "
        f"{floor['off-mode']:.4g} (exact mass beyond 4 std: exp(-8) = 3.4e-4). The FD on raw "
        "2-D coordinates would compare two moments only (a blur of the modes with the right "
        "covariance scores 0), which is why the fitness uses Fourier features. Each search "
        "is warm-started from the previous NFE's searched ladder (levels inserted in its "
        "widest log gaps). The Gaussian-fit proxy "
        "is searched on the exact W2 of the data's Gaussian fit (no mixture denoiser call) "
        "and then run with the mixture denoiser: theory/35 explains why it can fail at low "
        "NFE for a multistep solver (the fit has no level at the components' scale)."
    )


@functools.lru_cache(maxsize=2)
def _trained_mlp(hidden: int, depth: int, steps: int, seed: int, device: str) -> tuple[Any, float]:
    from sciddm.diffusion import MLPDenoiser, train_denoiser

    X, _ = load_digits_scaled()
    net = MLPDenoiser(64, hidden=hidden, depth=depth, rng=seed)
    res = train_denoiser(
        net,
        X,
        steps=steps,
        batch_size=256,
        lr=2e-3,
        ema=0.995,
        lr_warmup=50,
        rng=seed,
        device=device,
    )
    return res.model.eval(), float(np.mean(res.losses[-100:]))


def _w2_rows(
    gauss: Any, nfes: Sequence[int], sampler: str, rng_seed: int
) -> tuple[list[dict[str, Any]], dict[int, float], dict[int, np.ndarray]]:
    """Exact W2 on the Gaussian fit: fixed schedules and the searched one, per NFE."""
    rows, ratio, ladders = [], {}, {}
    for nfe in nfes:
        res = search_schedule(gauss, nfe, sampler=sampler, budget=500 * nfe, rng=rng_seed)
        res = search_schedule(
            gauss, nfe, sampler=sampler, budget=500 * nfe, rng=rng_seed, method="local", init=res
        )
        ladders[nfe] = res.sigmas
        name, best = res.best_baseline
        ratio[nfe] = res.fitness / best
        row: dict[str, Any] = {"NFE": nfe}
        row.update({LABELS[k]: round(v, 4) for k, v in res.baselines.items()})
        row.update(
            {
                "searched": round(res.fitness, 4),
                "searched / best fixed": round(ratio[nfe], 3),
                "best fixed": LABELS[name],
            }
        )
        rows.append(row)
    return rows, ratio, ladders


@register(
    "diffusion.search-digits",
    description="Schedule search on digits with a small trained MLP denoiser (classifier + PCA "
    "feature FD) at NFE 4-10; exact W2 of searched schedules on the Gaussian fit; transfer of "
    "schedules searched on the Gaussian and mixture fits to the trained network.",
    quick={
        "sampler": "dpmpp_2m",
        "nfes": [4, 6, 8, 10],
        "hidden": 128,
        "depth": 2,
        "steps": 800,
        "candidates": 50,
        "population": 12,
        "n_search": 1000,
        "n_eval": 2000,
        "mix_components": 10,
        "mix_candidates": 30,
        "clf_epochs": 100,
    },
    full={
        "sampler": "dpmpp_2m",
        "nfes": [4, 6, 8, 10, 12, 14, 16],
        "hidden": 512,
        "depth": 4,
        "steps": 20000,
        "candidates": 300,
        "population": 24,
        "n_search": 2000,
        "n_eval": 10000,
        "mix_components": 10,
        "mix_candidates": 200,
        "clf_epochs": 300,
    },
)
def search_digits(ctx: Context) -> None:
    from sciddm.diffusion import ClassifierFeatures

    p = ctx.params
    sampler = p["sampler"]
    X, labels = load_digits_scaled()
    D, last_loss = _trained_mlp(p["hidden"], p["depth"], p["steps"], ctx.seed, ctx.device)
    # dequantised digits (pixel steps of 1/8): no pixel has zero variance, so the classifier's
    # standardisation does not blow up a generated pixel that is constant in the data
    X_deq = X + ctx.rng.uniform(-1 / 16, 1 / 16, X.shape)
    clf_net = ClassifierFeatures(epochs=p["clf_epochs"], random_state=ctx.rng).fit(X_deq, labels)
    clf = ClippedFeatures(clf_net, -1.0, 1.0)
    pca = PCAFeatures(16).fit(X)
    z_eval = torch.as_tensor(ctx.rng.standard_normal((p["n_eval"], 64)), dtype=torch.float32)
    z_eval = z_eval.to(ctx.device)
    gauss = fit_gaussian(X, ddof=0)
    mix = fit_gaussian_mixture(X, p["mix_components"], rng=ctx.rng, shrinkage=1e-3)
    seed = int(ctx.rng.integers(2**31))
    w2_rows, w2_ratio, gauss_ladders = _w2_rows(gauss, p["nfes"], sampler, seed)

    @functools.cache
    def mixture_proxy(nfe: int) -> np.ndarray:
        res = search_schedule(
            mix,
            nfe,
            sampler=sampler,
            fitness="flow",
            n_samples=256,
            reference_steps=64,
            budget=190 + p["mix_candidates"] * nfe,
            init=gauss_ladders[nfe],
            rng=seed,
        )
        return res.sigmas

    proxies: dict[str, Callable[[int], np.ndarray]] = {
        "gauss-proxy": gauss_ladders.__getitem__,
        "mixture-proxy": mixture_proxy,
    }
    joint = JointFeatures([clf, pca], X)
    metrics: Metrics = {
        "FD": lambda y: frechet_distance(y, X, features=joint),
        "clf FD": lambda y: frechet_distance(y, X, features=clf),
        "PCA FD": lambda y: frechet_distance(y, X, features=pca),
    }
    vals, searched, k18 = _study(ctx, D, X, joint, z_eval, metrics, proxies)
    perm = np.random.default_rng(seed).permutation(len(X))
    halves = X[perm[: len(X) // 2]], X[perm[len(X) // 2 :]]
    floor = {
        k: frechet_distance(*halves, features=f)
        for k, f in (("FD", joint), ("clf", clf), ("PCA", pca))
    }
    head = f"({sampler}, trained MLP, {p['n_eval']} held-out samples per schedule)"
    ctx.table(
        f"Fréchet distance on classifier + PCA-16 features (each of unit total variance) to "
        f"the {len(X)} digits {head}",
        _rows(vals, p["nfes"], k18, sampler, "FD"),
    )
    ctx.table(
        f"Classifier-feature Fréchet distance {head}",
        _rows(vals, p["nfes"], k18, sampler, "clf FD"),
    )
    ctx.table(f"PCA-16 Fréchet distance {head}", _rows(vals, p["nfes"], k18, sampler, "PCA FD"))
    ctx.table("Exact W2 to the Gaussian fit of the digits (closed form)", w2_rows)
    _claims(ctx, vals, k18, "Digits (trained MLP)")
    low = [n for n in p["nfes"] if n <= 8]
    part = {
        (k, n): vals["searched", n][k] / min(vals[b, n][k] for b in NAMED)
        for k in ("clf FD", "PCA FD")
        for n in low
    }
    key = max(part, key=lambda kn: part[kn])
    ctx.claim(
        "Digits (trained MLP): the searched schedule is also no worse than the best of Karras, "
        "uniform-t and log-SNR on the classifier FD and on the PCA-16 FD taken separately, at "
        f"every NFE <= 8 (measured: the worst ratio, {key[0]} at NFE {key[1]}; a check that the "
        "search does not trade one part of its metric for the other)",
        source=f"{SOURCE_AD} (FID as the search's fitness); issue 21",
        measured=part[key],
        expected=1.0,
        op="<=",
    )
    worst = max(low, key=lambda n: w2_ratio[n])
    ctx.claim(
        f"On the Gaussian fit of the digits the searched schedule's exact W2 is >= 20% below "
        f"the best fixed schedule's at every NFE <= 8 (measured: the worst ratio, NFE {worst})",
        source=f"issue 21 (b); {SOURCE_AD}; exact closed form of theory/35",
        measured=w2_ratio[worst],
        expected=0.8,
        op="<=",
    )
    for name, label in (
        ("gauss-proxy", "Gaussian fit (exact W2)"),
        ("mixture-proxy", f"{p['mix_components']}-component mixture fit (flow)"),
    ):
        ratios = {n: vals[name, n]["FD"] / min(vals[k, n]["FD"] for k in NAMED) for n in low}
        bad = max(low, key=lambda n: ratios[n])
        ctx.claim(
            f"A schedule searched on the {label}, with no call of the trained network, gives "
            f"the trained network an FD no worse than the best of Karras, uniform-t and "
            f"log-SNR at every NFE <= 8 (measured: the worst ratio, NFE {bad})",
            source=f"{SOURCE_WV} (Gaussian structure at high noise); theory/35",
            measured=ratios[bad],
            expected=1.0,
            op="<=",
        )
    show = 6 if 6 in searched else p["nfes"][0]
    _plot(ctx, vals, k18, searched[show], "digits, trained MLP")
    ctx.note(
        f"MLP width {p['hidden']}, depth {p['depth']}, {p['steps']} training steps (final EDM "
        f"loss {last_loss:.3f}); classifier features (trained on dequantised digits, samples "
        f"clipped to [-1, 1]): train accuracy {clf_net.accuracy_:.3f}. "
        f"Search: {p['candidates']} candidates per NFE, the joint-feature FD on "
        f"{p['n_search']} fixed noises, warm-started from the previous NFE's ladder; "
        f"evaluation on {p['n_eval']} other noises shared by all schedules. Real-vs-real FD "
        f"between two halves of the digits: {floor['FD']:.4g} (joint), {floor['clf']:.4g} "
        f"(classifier), {floor['PCA']:.4g} (PCA-16) — sampling floors. A search on the "
        "classifier FD alone lowers it by half but raises the PCA-16 FD several times (seen "
        "while building this experiment), hence the joint features. The trained model's own "
        "error is not a floor: a few-step schedule can trade discretisation error against "
        "it, so the searched FD may be lower than that of Karras at 18 levels. Proxies: the Gaussian fit's schedule minimises the exact W2 (evolution then "
        "local search, no network call); the mixture fit's minimises the RMS distance to its "
        "own converged flow (warm-started from the Gaussian one); both are then run with the "
        "trained network."
    )
