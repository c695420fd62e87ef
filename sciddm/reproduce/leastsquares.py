"""Reproductions of Nouy & Michel (arXiv:2312.14057) for ``sciddm reproduce leastsquares``.

* ``leastsquares.exact-identities``: the volume-sampling identities by exact enumeration.
* ``leastsquares.error-ratio``: ‖f − f̂‖/‖f − P_m f‖ versus n/m for i.i.d. optimal, DPP,
  volume-rescaled and repeated-DPP designs, d = 1, 2, 5, Legendre/uniform and
  Hermite/Gaussian (the paper's numerical section).
* ``leastsquares.ill-conditioning``: P(‖G − I‖₂ > 1/2) versus n/m.
* ``leastsquares.dpp-proposals``: proposals used by the chain-rule sampler versus m·H_m.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import numpy as np
from scipy import special

from sciddm.leastsquares import (
    DiscreteBasis,
    DiscreteMeasure,
    Hermite,
    Legendre,
    TensorBasis,
    plot_error_curves,
    sample_design,
    sample_projection_dpp,
    total_degree,
)
from sciddm.reproduce import Context, mean_ci, register, run_sweep

SOURCE = "Nouy & Michel, arXiv:2312.14057"
DEGREE = {1: 9, 2: 4, 5: 2}  # m = 10, 15, 21
QUAD = {1: 80, 2: 30, 5: 7}


def _setting(family: str, d: int) -> tuple[TensorBasis, Any]:
    if family == "legendre":
        basis = TensorBasis(Legendre(), total_degree(d, DEGREE[d]))

        def f(x: np.ndarray) -> np.ndarray:
            return 1.0 / (1.0 + 5.0 * np.sum(x * x, axis=1))
    else:
        basis = TensorBasis(Hermite(), total_degree(d, DEGREE[d]))

        def f(x: np.ndarray) -> np.ndarray:
            return np.exp(-np.sum((x - 1.0) ** 2, axis=1) / 4.0)

    return basis, f


_CACHE: dict[tuple[str, int], Any] = {}


def _prepared(family: str, d: int) -> Any:
    key = (family, d)
    if key not in _CACHE:
        basis, f = _setting(family, d)
        nodes, qw = basis.measure.quadrature(QUAD[d])
        fx = f(nodes)
        Phi = basis.features(nodes)
        proj = Phi.T @ (qw * fx)
        best = math.sqrt(float(qw @ (fx - Phi @ proj) ** 2))
        _CACHE[key] = (basis, f, qw, fx, Phi, best)
    return _CACHE[key]


def _ratio_cell(
    family: str, d: int, method: str, ratio: float, rng: np.random.Generator
) -> dict[str, float]:
    basis, f, qw, fx, Phi, best = _prepared(family, d)
    m = basis.m
    n = int(round(ratio * m))
    des = sample_design(basis, n, method=method, rng=rng)
    sw = np.sqrt(des.weights)
    Psi = sw[:, None] * des.features
    a, _, rank, sv = np.linalg.lstsq(Psi, sw * f(des.points), rcond=None)
    err = math.sqrt(float(qw @ (fx - Phi @ a) ** 2))
    return {
        "n": n,
        "m": m,
        "ratio_err": err / best,
        "ill": float(des.gram_deviation > 0.5),
        "singular": float(rank < m),
    }


def _summ(vals: np.ndarray) -> tuple[float, float]:
    return float(np.median(vals)), float(np.mean(vals))


@register(
    "leastsquares.exact-identities",
    description="Volume-sampling identities (m+1 factor, unbiasedness, normalisation) by exact enumeration.",
    quick={"nodes": 8, "degree": 2},
    full={"nodes": 10, "degree": 2},
)
def exact_identities(ctx: Context) -> None:
    p = ctx.params
    t, w = special.roots_legendre(p["nodes"])
    mu = DiscreteMeasure(t, w / 2)
    fam = Legendre()
    basis = DiscreteBasis(lambda x: fam(x[:, 0], p["degree"]), mu)
    F, q, m = basis.node_features, mu.weights, basis.m
    fv = np.exp(t) * np.sin(3 * t)
    proj = F.T @ (q * fv)
    best2 = float(q @ (fv - F @ proj) ** 2)
    total = err = 0.0
    ea = np.zeros(m)
    for S in itertools.combinations(range(len(t)), m):
        idx = list(S)
        pr = np.linalg.det(F[idx]) ** 2 * np.prod(q[idx])
        a = np.linalg.solve(F[idx], fv[idx])
        total += pr
        err += pr * float(q @ (fv - F @ a) ** 2)
        ea += pr * a
    ctx.claim(
        "projection-DPP subset probabilities det(Φ_S)² Π q sum to one",
        source="Hough et al. 2006; " + SOURCE + " §3",
        measured=total,
        expected=1.0,
        op="~=",
        tolerance=1e-10,
    )
    ctx.claim(
        "E‖f − f̂‖² = (m + 1)‖f − P_m f‖² for the projection DPP / volume sampling at n = m",
        source="Dereziński, Warmuth & Hsu 2022, Thm 2; " + SOURCE + " §4",
        measured=err / best2,
        expected=m + 1,
        op="~=",
        tolerance=1e-10,
    )
    ctx.claim(
        "the DPP least-squares estimator is unbiased: max_j |E â_j − ⟨f, φ_j⟩|",
        source="Dereziński, Warmuth & Hsu 2022, Thm 1",
        measured=float(np.max(np.abs(ea - proj))),
        expected=0.0,
        op="<=",
        tolerance=1e-10,
    )
    ctx.note(
        f"Exact sums over all {math.comb(len(t), m)} subsets of {len(t)} Gauss–Legendre nodes "
        f"(m = {m}); these are identities, so they hold to rounding."
    )


@register(
    "leastsquares.error-ratio",
    description="Error ratio ‖f − f̂‖/‖f − P_m f‖ versus n/m for i.i.d., DPP, volume and repeated-DPP designs (d = 1, 2, 5).",
    quick={"reps": 40, "ratios": [1, 2, 3, 4], "dims": [1, 2, 5], "dpp_reps": 300},
    full={"reps": 300, "ratios": [1, 1.5, 2, 3, 4, 6, 8], "dims": [1, 2, 5], "dpp_reps": 5000},
    demo={"reps": 20, "dims": [1, 2], "dpp_reps": 300},
)
def error_ratio(ctx: Context) -> None:
    p = ctx.params
    families = ["legendre", "hermite"]
    grid = []
    for fam, d, ratio in itertools.product(families, p["dims"], p["ratios"]):
        for method in ("iid", "volume", "repeated_dpp"):
            if method == "repeated_dpp" and float(ratio) != int(ratio):
                continue
            grid += [{"family": fam, "d": d, "method": method, "ratio": float(ratio)}] * p["reps"]
    res = run_sweep(_ratio_cell, grid, rng=ctx.rng, n_jobs=ctx.n_jobs, progress=ctx.progress)
    rows, curves = _ratio_table(res.records, families, p)
    ctx.table("Error ratio ‖f − f̂‖/‖f − P_m f‖ (median and mean over repetitions)", rows)
    med = {(r["setting"], r["method"], r["n/m"]): float(r["median ratio"]) for r in rows}
    _ratio_claims(ctx, med, families, p)
    _dpp_identity_claim(ctx, p["dpp_reps"])
    try:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(
            2, len(p["dims"]), figsize=(4 * len(p["dims"]), 6.5), squeeze=False
        )
        for i, fam in enumerate(families):
            for j, d in enumerate(p["dims"]):
                ax = plot_error_curves(curves[(fam, d)], ax=axes[i, j])
                ax.set_title(f"{fam}, d = {d}, m = {_prepared(fam, d)[0].m}")
        fig.tight_layout()
        ctx.figure(fig, "error_ratio")
    except ImportError:  # pragma: no cover
        pass
    ctx.note(
        "Medians are robust to the heavy tail of the i.i.d. design at n close to m (singular "
        "or nearly singular Gram matrices); means are reported too. Quick mode uses "
        f"{p['reps']} repetitions per cell, so the medians are rough; the claims compare "
        "medians with the stated margins (2 for quasi-optimality, 1 for the ratio to i.i.d.)."
    )


def _ratio_table(
    recs: list[dict[str, Any]], families: list[str], p: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[tuple[str, int], dict[str, tuple[list[float], list[float]]]]]:
    """Median and mean error ratio per setting, method and n/m; the curves to plot."""
    rows = []
    curves: dict[tuple[str, int], dict[str, tuple[list[float], list[float]]]] = {}
    for fam, d in itertools.product(families, p["dims"]):
        for method in ("iid", "volume", "repeated_dpp"):
            xs, ys = [], []
            for ratio in p["ratios"]:
                vals = np.array(
                    [r["ratio_err"] for r in recs if r["family"] == fam and r["d"] == d
                     and r["method"] == method and r["ratio"] == float(ratio)]
                )  # fmt: skip
                if vals.size == 0:
                    continue
                md, mean = _summ(vals)
                rows.append({"setting": f"{fam} d={d}", "m": _prepared(fam, d)[0].m,
                             "method": method, "n/m": float(ratio), "median ratio": round(md, 3),
                             "mean ratio": round(mean, 3)})  # fmt: skip
                xs.append(float(ratio))
                ys.append(md)
            curves.setdefault((fam, d), {})[method] = (xs, ys)
    return rows, curves


def _ratio_claims(
    ctx: Context, med: dict[tuple[str, str, float], float], families: list[str], p: dict[str, Any]
) -> None:
    """Quasi-optimality at n ~ m log m, and repeated DPPs against i.i.d. at n = 2m."""

    worst = 0.0
    for fam, d in itertools.product(families, p["dims"]):
        m = _prepared(fam, d)[0].m
        ok = [r for r in p["ratios"] if r >= math.log(m)]
        if not ok:
            continue
        r0 = float(min(ok))
        key = f"{fam} d={d}"
        worst = max(worst, med[(key, "volume", r0)], med[(key, "repeated_dpp", r0)])
    ctx.claim(
        "volume / repeated-DPP designs are quasi-optimal at n ≈ m log m: worst median error "
        f"ratio over the {len(families) * len(p['dims'])} settings ≤ 2",
        source=SOURCE + ", abstract and §6 (quasi-optimality with n = O(m log m))",
        measured=worst,
        expected=2.0,
        op="<=",
    )
    if 2 not in p["ratios"]:
        return
    rel = [
        med[(f"{fam} d={d}", "repeated_dpp", 2.0)] / med[(f"{fam} d={d}", "iid", 2.0)]
        for fam, d in itertools.product(families, p["dims"])
    ]
    ctx.claim(
        "at n = 2m, repeated DPPs give a smaller median error ratio than i.i.d. optimal "
        "sampling (max over settings of median_rep / median_iid)",
        source=SOURCE + ", §5–6 (repetitions need far fewer samples in practice)",
        measured=float(max(rel)),
        expected=1.0,
        op="<=",
    )
    ctx.claim(
        "at n = 2m, repeated DPPs give a smaller median error ratio than i.i.d. optimal "
        "sampling on average over the settings (geometric mean of median_rep / median_iid)",
        source=SOURCE + ", §5–6",
        measured=float(np.exp(np.mean(np.log(rel)))),
        expected=1.0,
        op="<=",
    )


def _dpp_identity_claim(ctx: Context, reps: int) -> None:
    """The m + 1 identity by Monte Carlo on a continuous measure (d = 1 Legendre, n = m)."""
    basis, f, qw, fx, Phi, best = _prepared("legendre", 1)
    sq = []
    for _ in range(reps):
        des = sample_projection_dpp(basis, rng=ctx.rng)
        a = np.linalg.solve(des.features, f(des.points))
        sq.append(float(qw @ (fx - Phi @ a) ** 2) / best**2)
    mean, lo, hi = mean_ci(sq, level=0.99)
    ctx.claim(
        "E‖f − f̂‖²/‖f − P_m f‖² = m + 1 for the continuous projection DPP (d = 1, m = 10; "
        f"Monte Carlo over {reps} draws, 99 % interval; heavy-tailed)",
        source="Dereziński, Warmuth & Hsu 2022, Thm 2; " + SOURCE + " §3",
        measured=mean,
        expected=basis.m + 1,
        op="~=",
        tolerance=max(hi - mean, 1e-12),
        ci=(lo, hi),
    )


@register(
    "leastsquares.ill-conditioning",
    description="Probability that ‖G − I‖₂ > 1/2 versus n/m for i.i.d., volume and repeated-DPP designs.",
    quick={"reps": 60, "ratios": [1, 2, 3, 4, 6, 8]},
    full={"reps": 1000, "ratios": [1, 2, 3, 4, 6, 8, 12, 16]},
)
def ill_conditioning(ctx: Context) -> None:
    p = ctx.params
    grid = [
        {"family": "legendre", "d": 2, "method": mt, "ratio": float(r)}
        for r in p["ratios"]
        for mt in ("iid", "volume", "repeated_dpp")
        for _ in range(p["reps"])
    ]
    recs = run_sweep(
        _ratio_cell, grid, rng=ctx.rng, n_jobs=ctx.n_jobs, progress=ctx.progress
    ).records
    rows, curves = [], {}
    for mt in ("iid", "volume", "repeated_dpp"):
        xs, ys = [], []
        for r in p["ratios"]:
            v = np.array([x["ill"] for x in recs if x["method"] == mt and x["ratio"] == float(r)])
            rows.append({"method": mt, "n/m": r, "P(||G-I|| > 1/2)": round(float(v.mean()), 3)})
            xs.append(float(r))
            ys.append(float(v.mean()))
        curves[mt] = (xs, ys)
    ctx.table("Probability of ill-conditioning, Legendre d = 2, m = 15", rows)
    diff = max(b - a for a, b in zip(curves["iid"][1], curves["repeated_dpp"][1]))
    se = math.sqrt(0.25 / p["reps"]) * math.sqrt(2)
    ctx.claim(
        "repeated DPPs are ill-conditioned no more often than i.i.d. optimal designs at every "
        "n/m (max over n/m of P_rep − P_iid, tolerance 3 standard errors)",
        source=SOURCE + ", §5–6",
        measured=diff,
        expected=0.0,
        op="<=",
        tolerance=3 * se,
    )
    m = 15
    c = (1.5 * math.log(1.5) - 0.5) / 2
    n_chernoff = m / c * math.log(2 * m / 0.1)
    ctx.note(
        f"The matrix-Chernoff sufficient size for P(‖G − I‖ > 1/2) ≤ 0.1 is n ≈ "
        f"{n_chernoff:.0f} = {n_chernoff / m:.1f} m (Cohen & Migliorati 2017, Thm 2.1); "
        "the measured curves reach that level far earlier, the bound is loose."
    )
    try:
        ax = plot_error_curves(curves, ylabel=r"$P(\|G-I\|_2 > 1/2)$", logy=False)
        ctx.figure(ax.figure, "ill_conditioning")
    except ImportError:  # pragma: no cover
        pass


@register(
    "leastsquares.dpp-proposals",
    description="Proposals of the chain-rule projection-DPP sampler versus m·H_m, and its run time.",
    quick={"degrees": [4, 9, 14], "reps": 8},
    full={"degrees": [4, 9, 14, 23, 43], "reps": 20},
)
def dpp_proposals(ctx: Context) -> None:
    p = ctx.params
    rows = []
    worst = 0.0
    for deg in p["degrees"]:
        basis = TensorBasis(Legendre(), total_degree(2, deg))
        m = basis.m
        hm = m * sum(1.0 / j for j in range(1, m + 1))
        props, secs = [], []
        for _ in range(p["reps"]):
            t0 = time.perf_counter()
            props.append(sample_projection_dpp(basis, rng=ctx.rng).n_proposals)
            secs.append(time.perf_counter() - t0)
        mean, lo, hi = mean_ci(np.array(props) / hm, level=0.999)
        worst = max(worst, abs(mean - 1.0) / (hi - mean))
        rows.append(
            {
                "m": m,
                "m H_m": round(hm, 1),
                "mean proposals / (m H_m)": round(mean, 4),
                "99.9 % interval": f"[{lo:.3f}, {hi:.3f}]",
                "median seconds": round(float(np.median(secs)), 4),
            }
        )
    ctx.table("Chain-rule projection DPP, d = 2 Legendre (total degree)", rows)
    ctx.claim(
        "the expected number of proposals of the chain rule is m·H_m (largest |mean/(m H_m) − 1| "
        "in units of the 99.9 % half-width: ≤ 1 means every interval covers 1)",
        source="Hough et al. 2006; Gautier, Bardenet & Valko 2019",
        measured=worst,
        expected=1.0,
        op="<=",
    )
