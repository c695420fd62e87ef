"""Reproductions registered for ``sciddm reproduce sensitivity``.

Woodruff & Yasuda, "Sharper bounds for lp sensitivity sampling" (ICML 2023),
with Cohen & Peng (2015) for Lewis weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sciddm.reproduce import Context, register, run_sweep
from sciddm.sensitivity import (
    diabetes_design,
    embedding_distortion,
    gaussian_matrix,
    heavy_tailed_matrix,
    heavy_tailed_regression,
    hypercube_matrix,
    leverage_scores,
    lewis_weights,
    lp_regression,
    lp_sensitivities,
    row_scores,
    sample_rows,
)

SOURCE = "Woodruff & Yasuda, Sharper Bounds for lp Sensitivity Sampling, ICML 2023"
METHODS = ("uniform", "leverage", "root-leverage", "lewis", "sensitivity")


def _light_distortion(M: np.ndarray, sample: Any, p: float, rng: np.random.Generator) -> float:
    return embedding_distortion(
        M, sample, p, n_directions=64, n_local=2, n_maximisers=4, rng=rng
    ).distortion


def _objective(A: np.ndarray, b: np.ndarray, x: np.ndarray, p: float) -> float:
    return float(np.sum(np.abs(A @ x - b) ** p))


def _solve(A: np.ndarray, b: np.ndarray, p: float) -> np.ndarray:
    return lp_regression(A, b, p, tol=1e-13, max_iter=200).coef


def _curve_cell(
    instance: str,
    p: float,
    method: str,
    size: int,
    rep: int,
    rng: np.random.Generator,
    *,
    data: dict[str, Any],
) -> dict[str, float]:
    A, b, scores, opt = data[instance]["A"], data[instance]["b"], data[instance]["scores"], None
    M = np.column_stack([A, b])
    opt = data[instance]["opt"][p]
    s = sample_rows(M, p, scores=scores[(p, method)], size=size, rng=rng)
    dist = _light_distortion(M, s, p, rng)
    x = _solve(s.apply(A), s.apply(b), p) if s.size >= A.shape[1] else np.zeros(A.shape[1])
    return {"distortion": dist, "regression_error": _objective(A, b, x, p) / opt - 1.0}


class _Cell:
    """A picklable closure over the shared data of a sweep."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __call__(self, **kw: Any) -> dict[str, float]:
        return _curve_cell(**kw, data=self.data)


@register(
    "sensitivity.distortion-vs-size",
    description=(
        "Subspace-embedding distortion and l_p regression error versus sample size for "
        "uniform, leverage, root-leverage, Lewis and sensitivity sampling (p = 1, 1.5, 3)."
    ),
    quick={
        "n": 500,
        "d": 4,
        "sizes": [40, 100, 200],
        "reps": 3,
        "ps": [1.0, 1.5, 3.0],
        "instances": ["heavy-tailed", "diabetes"],
    },
    full={
        "n": 1500,
        "d": 4,
        "sizes": [50, 100, 200, 400],
        "reps": 15,
        "ps": [1.0, 1.5, 3.0],
        "instances": ["heavy-tailed", "gaussian", "diabetes"],
    },
    demo={"n": 300, "sizes": [30, 75, 150], "ps": [1.0, 3.0], "instances": ["heavy-tailed"]},
)
def distortion_vs_size(ctx: Context) -> None:
    P = ctx.params
    data = {inst: _instance_data(inst, P, ctx.rng) for inst in P["instances"]}
    grid = {
        "instance": list(P["instances"]),
        "p": list(P["ps"]),
        "method": list(METHODS),
        "size": list(P["sizes"]),
        "rep": list(range(P["reps"])),
    }
    res = run_sweep(_Cell(data), grid, rng=ctx.rng, n_jobs=ctx.n_jobs, progress=ctx.progress)
    med: dict[tuple[str, float, str, int], tuple[float, float]] = {}
    for key in {(r["instance"], r["p"], r["method"], r["size"]) for r in res.records}:
        recs = [r for r in res.records if (r["instance"], r["p"], r["method"], r["size"]) == key]
        med[key] = (
            float(np.median([r["distortion"] for r in recs])),
            float(np.median([r["regression_error"] for r in recs])),
        )
    ctx.table(
        "median distortion and relative regression error (over reps)",
        [{"instance": k[0], "p": k[1], "method": k[2], "size": k[3],
          "median distortion": round(med[k][0], 4),
          "median regression error": float(f"{med[k][1]:.3g}")} for k in sorted(med)],
    )  # fmt: skip
    _distortion_claims(ctx, med, P)
    try:
        ctx.figure(_distortion_figure(med, P), "distortion")
    except ImportError:  # pragma: no cover
        pass
    ctx.note(
        "Distortions for p != 2 are certified lower bounds (random directions, sensitivity "
        "maximisers, L-BFGS refinement), so they can only underestimate the true distortion; "
        f"all methods are evaluated with the same estimator. Medians over {P['reps']} "
        "repetitions; the claims compare medians with no extra margin."
    )


def _instance_data(inst: str, P: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """The matrix ``[A, b]`` of one instance, its scores per (p, method) and optima."""
    if inst == "heavy-tailed":
        A, b = heavy_tailed_regression(P["n"], P["d"], df=1.5, rng=rng)
    elif inst == "gaussian":
        A = gaussian_matrix(P["n"], P["d"], rng=rng)
        b = A @ rng.standard_normal(P["d"]) + rng.standard_t(1.0, size=P["n"])
    else:
        A, b = diabetes_design()
        A = A / np.linalg.norm(A, axis=0)
        b = b / np.linalg.norm(b)
    M = np.column_stack([A, b])
    scores = {}
    opt = {}
    for p in P["ps"]:
        sens = lp_sensitivities(M, p)
        for m in METHODS:
            scores[(p, m)] = sens if m == "sensitivity" else row_scores(M, p, m)
        opt[p] = _objective(A, b, _solve(A, b, p), p)
    return {"A": A, "b": b, "scores": scores, "opt": opt}


def _distortion_claims(
    ctx: Context, med: dict[tuple[str, float, str, int], tuple[float, float]], P: dict[str, Any]
) -> None:
    """Headline claims: the first instance (heavy-tailed rows) at the largest size."""
    inst = P["instances"][0]
    k = max(P["sizes"])
    for p in P["ps"]:
        uni = med[(inst, p, "uniform", k)][0]
        for m in ("lewis", "sensitivity", "root-leverage"):
            ctx.claim(
                f"{m} sampling embeds better than uniform sampling ({inst}, p={p:g}, "
                f"{k} rows): median distortion below uniform's {uni:.3f}",
                source=f"{SOURCE}, Sec. 1.1 (sample complexity of sensitivity sampling)",
                measured=med[(inst, p, m, k)][0],
                expected=uni,
                op="<=",
            )
    for p in P["ps"]:
        uni = med[(inst, p, "uniform", k)][1]
        ctx.claim(
            f"sketch-and-solve with Lewis sampling ({inst}, p={p:g}, {k} rows): median "
            f"relative excess l_p regression error below uniform sampling's {uni:.3g}",
            source=f"{SOURCE}, Sec. 1.1 (embeddings give (1+eps)-approximate regression)",
            measured=med[(inst, p, "lewis", k)][1],
            expected=uni,
            op="<=",
        )


def _distortion_figure(
    med: dict[tuple[str, float, str, int], tuple[float, float]], P: dict[str, Any]
) -> Any:
    import matplotlib.pyplot as plt

    inst = P["instances"][0]
    fig, axes = plt.subplots(1, len(P["ps"]), figsize=(4 * len(P["ps"]), 3.4), squeeze=False)
    for ax, p in zip(axes[0], P["ps"]):
        for m in METHODS:
            ys = [med[(inst, p, m, s)][0] for s in P["sizes"]]
            ax.plot(P["sizes"], ys, "o-", label=m)
        ax.set(xscale="log", yscale="log", xlabel="sample size", title=f"{inst}, p={p:g}")
    axes[0][0].set_ylabel("median distortion")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


@register(
    "sensitivity.reference-p1",
    description=(
        "Median distortion at p = 1 of 200-row samples of a matrix with t-distributed row "
        "scales (d = 5; n = 1500 in --full, 800 in --quick) for every score, against the "
        "spec's measured reference."
    ),
    quick={"n": 800, "d": 5, "size": 200, "reps": 5, "df": 1.5},
    full={"n": 1500, "d": 5, "size": 200, "reps": 25, "df": 1.5},
)
def reference_p1(ctx: Context) -> None:
    P = ctx.params
    A = heavy_tailed_matrix(P["n"], P["d"], df=P["df"], rng=ctx.rng)
    sens = lp_sensitivities(A, 1.0)
    reference = {
        "uniform": 0.34,
        "leverage": 0.42,
        "sensitivity": 0.17,
        "lewis": 0.14,
        "root-leverage": 0.14,
    }
    med = {}
    for m in METHODS:
        scores = sens if m == "sensitivity" else row_scores(A, 1.0, m)
        ds = [
            _light_distortion(
                A, sample_rows(A, 1.0, scores=scores, size=P["size"], rng=ctx.rng), 1.0, ctx.rng
            )
            for _ in range(P["reps"])
        ]
        med[m] = float(np.median(ds))
    ctx.table(
        f"median distortion, p = 1, n = {P['n']}, d = {P['d']}, {P['size']} rows",
        [{"method": m, "measured": round(med[m], 4), "reference": reference[m]} for m in METHODS],
    )
    for m in ("lewis", "sensitivity", "root-leverage"):
        ctx.claim(
            f"{m} sampling has a smaller median distortion than uniform sampling "
            f"({med['uniform']:.3f}) on heavy-tailed rows at p = 1",
            source=f"{SOURCE}, Sec. 1.1; spec measured reference",
            measured=med[m],
            expected=med["uniform"],
            op="<=",
        )
        ctx.claim(
            f"{m}: median distortion matches the spec's reference {reference[m]} (+-0.1)",
            source="spec: measured reference (n = 1500, d = 5, ~200 rows)",
            measured=med[m],
            expected=reference[m],
            op="~=",
            tolerance=0.1,
        )
    ctx.note(
        "The distortion estimator gives certified lower bounds, which may differ from the "
        "estimator behind the reference numbers; the ordering against uniform sampling is "
        "the robust part of the comparison."
    )


def _needed_size(
    M: np.ndarray, p: float, scores: np.ndarray, target: float, sizes: list[int], reps: int,
    rng: np.random.Generator,
) -> float:  # fmt: skip
    for k in sizes:
        ds = [
            _light_distortion(M, sample_rows(M, p, scores=scores, size=k, rng=rng), p, rng)
            for _ in range(reps)
        ]
        if np.median(ds) <= target:
            return float(k)
    return float("nan")


@register(
    "sensitivity.size-vs-total-sensitivity",
    description=(
        "Sample size that sensitivity sampling needs for a target distortion, against the "
        "total sensitivity S: ~ S^(2/p) for p < 2 and S^(2-2/p) for p > 2 (trend)."
    ),
    quick={"n": 400, "ds": [2, 4, 8], "ps": [1.0, 3.0], "target": 0.3, "reps": 3},
    full={"n": 1500, "ds": [2, 4, 8, 12], "ps": [1.0, 1.5, 3.0], "target": 0.2, "reps": 9},
)
def size_vs_total_sensitivity(ctx: Context) -> None:
    P = ctx.params
    rows = []
    for p in P["ps"]:
        S_vals, k_vals = [], []
        for d in P["ds"]:
            A = (
                gaussian_matrix(P["n"], d, rng=ctx.rng)
                * np.abs(ctx.rng.standard_t(3.0, size=P["n"]))[:, None]
            )
            sens = lp_sensitivities(A, p)
            S = float(sens.sum())
            sizes = sorted({int(round(x)) for x in np.geomspace(4 * d, P["n"], 14)})
            k = _needed_size(A, p, sens, P["target"], sizes, P["reps"], ctx.rng)
            rows.append({"p": p, "d": d, "total sensitivity": round(S, 3), "needed size": k})
            S_vals.append(S)
            k_vals.append(k)
        ok = np.isfinite(k_vals)
        expo = 2 / p if p < 2 else 2 - 2 / p
        if ok.sum() >= 2:
            slope = float(
                np.polyfit(np.log(np.array(S_vals)[ok]), np.log(np.array(k_vals)[ok]), 1)[0]
            )
        else:
            slope = float("nan")
        ctx.claim(
            f"p={p:g}: the needed sample size grows with the total sensitivity no faster than "
            f"S^{expo:.3g} (log-log slope, slack 0.75 for log factors and noise)",
            source=f"{SOURCE}, Sec. 1.1: ~S^(2/p) for p<2, ~S^(2-2/p) for p>2",
            measured=slope,
            expected=expo,
            op="<=",
            tolerance=0.75,
        )
        ctx.claim(
            f"p={p:g}: the needed sample size increases with S (positive slope)",
            source=f"{SOURCE}, Sec. 1.1"
            + (" (S^(2/p) samples are necessary for p<2)" if p < 2 else ""),
            measured=slope,
            expected=0.0,
            op=">=",
        )
    ctx.table(f"size for median distortion <= {P['target']}", rows)
    ctx.note(
        "The theorems bound the sample size up to constants and log factors; the check is a "
        "trend (slope of log size against log S over matrices of growing d), not a constant."
    )


@register(
    "sensitivity.hypercube",
    description=(
        "The +-1 hypercube at p = 1: total sensitivity 2^d / C(d, d/2) ~ sqrt(pi d / 2) "
        "while Lewis weights and leverage sum to d."
    ),
    quick={"ds": [4, 6]},
    full={"ds": [4, 6, 8, 10]},
)
def hypercube(ctx: Context) -> None:
    rows = []
    for d in ctx.params["ds"]:
        H = hypercube_matrix(d)
        sig = lp_sensitivities(H, 1.0)
        S = float(sig.sum())
        exact = 2**d / math.comb(d, d // 2)
        w = lewis_weights(H, 1.0)
        tau = leverage_scores(H)
        rows.append(
            {
                "d": d,
                "S_1 measured": S,
                "2^d / C(d, d/2)": exact,
                "sqrt(pi d/2)": math.sqrt(math.pi * d / 2),
                "sum Lewis": float(w.sum()),
            }
        )
        ctx.claim(
            f"d={d}: total l1 sensitivity of the hypercube equals 2^d/C(d,d/2) = {exact:.6g}",
            source=f"{SOURCE}, Sec. 4 (properties of sensitivities); spec closed form",
            measured=S,
            expected=exact,
            op="~=",
            tolerance=1e-8,
        )
        ctx.claim(
            f"d={d}: Lewis weights and leverage scores equal d/2^d",
            source="Cohen & Peng 2015 (symmetry); spec closed form",
            measured=float(max(np.max(np.abs(w - d / 2**d)), np.max(np.abs(tau - d / 2**d)))),
            expected=0.0,
            op="~=",
            tolerance=1e-8,
        )
    ctx.table("hypercube, p = 1", rows)
    ctx.note(
        "Sampling by Lewis weights or root leverage spends d rows' worth of mass where "
        "sensitivity sampling needs only ~sqrt(d): the gap Woodruff & Yasuda exploit."
    )


@register(
    "sensitivity.lewis-convergence",
    description=(
        "Damped Lewis-weight iteration converges for p in [0.5, 20] at rate |p-2|/(p+2); "
        "the undamped Cohen-Peng iteration fails for p >= 4."
    ),
    quick={"n": 2000, "d": 8, "ps": [0.5, 1.0, 1.5, 3.0, 4.0, 6.0, 10.0, 20.0]},
    full={"n": 20000, "d": 20, "ps": [0.5, 0.75, 1.0, 1.5, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0]},
)
def lewis_convergence(ctx: Context) -> None:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    P = ctx.params
    A = (
        gaussian_matrix(P["n"], P["d"], rng=ctx.rng)
        * np.abs(ctx.rng.standard_t(2.0, size=P["n"]))[:, None]
    )
    rows = []
    worst_sum = 0.0
    for p in P["ps"]:
        ref = lewis_weights(A, p, tol=1e-13, max_iter=2000)
        errs = []
        for k in (4, 8):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                wk = lewis_weights(A, p, method="damped", max_iter=k)
            errs.append(float(np.max(np.abs(np.log(wk / ref)))))
        rate = (errs[1] / errs[0]) ** (1 / 4) if errs[0] > 0 else 0.0
        theory = abs(p - 2) / (p + 2)
        worst_sum = max(worst_sum, abs(ref.sum() - P["d"]))
        rows.append({"p": p, "measured rate": round(rate, 4), "|p-2|/(p+2)": round(theory, 4)})
        ctx.claim(
            f"p={p:g}: damped iteration contracts at rate <= |p-2|/(p+2) = {theory:.3f}",
            source="Cohen & Peng 2015, Sec. 3 (contraction); damped log-space update (theory/21)",
            measured=rate,
            expected=theory,
            op="<=",
            tolerance=0.02,
        )
    ctx.claim(
        "Lewis weights sum to d for every p in the grid",
        source="Lewis (1978); Cohen & Peng 2015, Sec. 2",
        measured=worst_sum,
        expected=0.0,
        op="~=",
        tolerance=1e-8,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w6 = lewis_weights(A, 6.0, method="fixed-point", max_iter=200)
    failed = any(issubclass(c.category, ConvergenceWarning) for c in caught)
    ctx.claim(
        "the undamped Cohen-Peng iteration does not converge at p = 6 (|1 - p/2| > 1)",
        source="Cohen & Peng 2015, Section 3 (the iteration needs p < 4)",
        measured=float(abs(np.nansum(w6) - P["d"])) if np.all(np.isfinite(w6)) else float("inf"),
        expected=0.0,
        op=">=",
        holds=failed,
    )
    ctx.table("contraction of the damped iteration", rows)
