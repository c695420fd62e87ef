"""Reproductions for ``sciddm reproduce equitable``.

``equitable.adaptive-vs-baselines`` compares adaptive collection with the
equal, proportional and oracle allocations over many seeds, for each objective,
on the polygenic-risk simulation and on scikit-learn's digits split into three
writing-style groups. The paper's own simulation parameters are not public;
the sizes below are sciddm's choices.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from sciddm.equitable import (
    AdaptiveCollector,
    PoolSource,
    allocate,
    equal_allocation,
    evaluate_objective,
    group_errors,
    learning_curve_by_group,
    proportional_allocation,
    simulate_prs,
)
from sciddm.reproduce import Context, mean_ci, register, run_sweep

logger = logging.getLogger(__name__)

SOURCE = "Cai et al., FAccT 2022 (arXiv:2202.01327), Sec. 5: adaptive vs. static sampling"
STRATEGIES = ("adaptive", "equal", "proportional", "oracle")
OBJECTIVES = ("utilitarian", "maxmin", "disparity-cap")


class FastRidge(RegressorMixin, BaseEstimator):
    """Ridge regression by the normal equations (a light scikit-learn regressor).

    Used by the experiments because the thousands of small fits of a sweep
    are dominated by scikit-learn's per-call overhead.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X: Any, y: Any) -> FastRidge:
        X = np.asarray(X, float)
        y = np.asarray(y, float)
        self.x_mean_ = X.mean(0)
        self.y_mean_ = float(y.mean())
        Xc = X - self.x_mean_
        A = Xc.T @ Xc + self.alpha * np.eye(X.shape[1])
        self.coef_ = np.linalg.solve(A, Xc.T @ (y - self.y_mean_))
        return self

    def predict(self, X: Any) -> np.ndarray:
        return (np.asarray(X, float) - self.x_mean_) @ self.coef_ + self.y_mean_


class FastKNN(ClassifierMixin, BaseEstimator):
    """k-nearest-neighbour classifier in numpy (Euclidean, majority vote)."""

    def __init__(self, n_neighbors: int = 3) -> None:
        self.n_neighbors = n_neighbors

    def fit(self, X: Any, y: Any) -> FastKNN:
        self.X_ = np.asarray(X, float)
        self.classes_, self.y_ = np.unique(np.asarray(y), return_inverse=True)
        self.sq_ = (self.X_**2).sum(1)
        return self

    def predict(self, X: Any) -> np.ndarray:
        X = np.asarray(X, float)
        k = min(self.n_neighbors, self.X_.shape[0])
        d = self.sq_[None, :] - 2 * X @ self.X_.T
        nn = np.argpartition(d, k - 1, axis=1)[:, :k]
        votes = np.zeros((X.shape[0], self.classes_.size))
        np.add.at(votes, (np.arange(X.shape[0])[:, None], self.y_[nn]), 1.0)
        return self.classes_[np.argmax(votes, axis=1)]


def r2_scorer(est: Any, X: Any, y: Any) -> float:
    """``R^2`` of ``est`` on ``(X, y)`` (a light scorer; error = 1 - R^2)."""
    y = np.asarray(y, float)
    r = y - est.predict(X)
    return 1.0 - float(r @ r) / float(((y - y.mean()) ** 2).sum())


def accuracy_scorer(est: Any, X: Any, y: Any) -> float:
    """Accuracy of ``est`` on ``(X, y)`` (a light scorer; error = 1 - accuracy)."""
    return float(np.mean(est.predict(X) == np.asarray(y)))


# ------------------------------------------------------------------ data sets


def _prs_setup(p: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    arch = simulate_prs(
        [4000] * 3, n_snps=p["n_snps"], n_causal=p["n_causal"], fst=(0.01, 0.1, 0.3),
        h2=(0.6, 0.5, 0.4), rho=0.8, rng=rng,
    )  # fmt: skip
    est = FastRidge(alpha=p["alpha"])
    lc = learning_curve_by_group(
        est, arch.X, arch.y, arch.groups, list(np.geomspace(25, 2800, 9).round().astype(int)),
        metric=r2_scorer, n_repeats=p["truth_repeats"], test_size=0.25, rng=rng,
    )  # fmt: skip
    return {"arch": arch, "estimator": est, "metric": r2_scorer, "truth": lc.fit_curves()}


def _digits_groups() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    img = X.reshape(-1, 8, 8)
    top = img[:, :4].sum((1, 2)) / img.sum((1, 2))  # share of ink in the upper half
    groups = np.digitize(top, np.quantile(top, [1 / 3, 2 / 3]))
    return X, y, groups


def _digits_setup(p: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    X, y, g = _digits_groups()
    est = FastKNN(3)
    lc = learning_curve_by_group(
        est, X, y, g, [12, 20, 35, 60, 100, 170, 290, 440], metric=accuracy_scorer,
        n_repeats=p["truth_repeats"], test_size=0.25, rng=rng,
    )  # fmt: skip
    return {"X": X, "y": y, "g": g, "estimator": est, "metric": accuracy_scorer,
            "truth": lc.fit_curves()}  # fmt: skip


def _draw(dataset: str, setup: dict[str, Any], p: dict[str, Any], rng: np.random.Generator) -> Any:
    if dataset == "prs":
        arch = setup["arch"]
        d = simulate_prs([p["pool"] + p["test"]] * 3, architecture=arch, rng=rng)
        is_test = np.zeros(d.y.size, bool)
        for k in range(3):
            rows = np.flatnonzero(d.groups == k)
            is_test[rows[: p["test"]]] = True
        return (d.X[~is_test], d.y[~is_test], d.groups[~is_test]), (
            d.X[is_test], d.y[is_test], d.groups[is_test],
        )  # fmt: skip
    X, y, g = setup["X"], setup["y"], setup["g"]
    is_test = np.zeros(y.size, bool)
    for k in range(3):
        rows = rng.permutation(np.flatnonzero(g == k))
        is_test[rows[: p["test"]]] = True
    return (X[~is_test], y[~is_test], g[~is_test]), (X[is_test], y[is_test], g[is_test])


# ------------------------------------------------------------------ one seed


def _static_errors(n: Any, pool: Any, test: Any, est: Any, metric: Any, rng: Any) -> Any:
    Xp, yp, gp = pool
    rows = np.concatenate(
        [rng.choice(np.flatnonzero(gp == k), size=int(n[k]), replace=False) for k in range(3)]
    )
    return group_errors(est, Xp[rows], yp[rows], gp[rows], *test, metric=metric, groups=[0, 1, 2])


def _one_seed(
    dataset: Any,
    seed: Any,
    rng: Any,
    setup: Any,
    p: Any,
    shares: Any,
    costs: Any,
    budget: Any,
    caps: Any,
) -> Any:
    pool, test = _draw(dataset, setup, p, rng)
    est, metric, truth = setup["estimator"], setup["metric"], setup["truth"]
    avail = np.bincount(pool[2], minlength=3)
    rec: dict[str, Any] = {}
    static = {
        "equal": equal_allocation(costs, budget).n,
        "proportional": proportional_allocation(costs, budget, shares).n,
    }
    static_err = {k: _static_errors(n, pool, test, est, metric, rng) for k, n in static.items()}
    for obj in p.get("objectives", OBJECTIVES):
        kw = {"objective": obj, "weights": shares, "cap": caps[obj]}
        # the oracle knows the curves but, like adaptive, keeps at least the pilot per group
        orc = allocate(truth, costs, budget, lower=np.full(3, p["pilot"]), upper=avail, **kw).n
        errs = dict(static_err)
        errs["oracle"] = _static_errors(orc, pool, test, est, metric, rng)
        col = AdaptiveCollector(
            est, costs=costs, budget=budget, metric=metric, pilot=p["pilot"],
            n_rounds=p["rounds"], exploration=0.1, n_sizes=3, n_repeats=p["repeats"], **kw,
        )  # fmt: skip
        res = col.run(PoolSource(*pool), rng=rng, final_curves=False)
        errs["adaptive"] = group_errors(
            est, res.X, res.y, res.group_of, *test, metric=metric, groups=[0, 1, 2]
        )
        rec[f"{obj}/adaptive_n"] = res.counts.tolist()
        for s, e in errs.items():
            rec[f"{obj}/{s}"] = evaluate_objective(e, objective=obj, weights=shares, cap=caps[obj])
            rec[f"{obj}/{s}/err"] = e.tolist()
    return rec


# ------------------------------------------------------------------ experiment


def _caps(truth: Any, costs: Any, budget: Any, shares: Any) -> dict[str, float | None]:
    util = allocate(truth, costs, budget, objective="utilitarian", weights=shares)
    return {"utilitarian": None, "maxmin": None, "disparity-cap": 0.5 * util.disparity}


def _figure(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    objs = next(iter(results.values()))["objectives"]
    fig, axes = plt.subplots(
        len(results), len(objs), figsize=(4 * len(objs), 3.4 * len(results)), squeeze=False
    )
    for row, (name, r) in enumerate(results.items()):
        truth, costs, shares, caps = r["truth"], r["costs"], r["shares"], r["caps"]
        budgets = np.geomspace(0.25, 2.0, 12) * r["budget"]
        for col, obj in enumerate(objs):
            ax = axes[row, col]
            orc = np.array([
                allocate(truth, costs, b, objective=obj, weights=shares, cap=caps[obj]).predicted_error
                for b in budgets
            ])  # fmt: skip
            eq = np.array(
                [equal_allocation(costs, b, curves=truth).predicted_error for b in budgets]
            )
            for k in range(3):
                (line,) = ax.plot(budgets, orc[:, k], label=f"group {k} oracle")
                ax.plot(budgets, eq[:, k], "--", color=line.get_color(), alpha=0.6)
                m = np.array([e[k] for e in r["sweep"].column(f"{obj}/adaptive/err")])
                mu, lo, hi = mean_ci(m)
                ax.errorbar([r["budget"]], [mu], yerr=[[mu - lo], [hi - mu]], fmt="o",
                            color=line.get_color())  # fmt: skip
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(f"{name}: {obj}")
            ax.set_xlabel("budget")
            ax.set_ylabel("per-group error")
            if col == 0:
                ax.legend(fontsize=7, title="dashed: equal; dots: adaptive (95% CI)",
                          title_fontsize=7)  # fmt: skip
    fig.tight_layout()
    return fig


def _dataset_claims(
    ctx: Context, dataset: str, sweep: Any, shares: np.ndarray, caps: dict[str, float | None],
    p: dict[str, Any],
) -> None:  # fmt: skip
    """Objective values with paired-bootstrap CIs, and the claims, for one data set."""
    rows = []
    n_boot = p.get("bootstrap", 2000)
    boot_idx = ctx.rng.integers(0, p["seeds"], size=(n_boot, p["seeds"]))
    for obj in p.get("objectives", OBJECTIVES):
        # objective of the expected per-group errors, estimated by the seed means;
        # CIs by a paired bootstrap over seeds
        E = {s: np.array(sweep.column(f"{obj}/{s}/err"), float) for s in STRATEGIES}

        def value(err: np.ndarray, obj: str = obj) -> float:
            return evaluate_objective(err, objective=obj, weights=shares, cap=caps[obj])

        val = {s: value(E[s].mean(0)) for s in STRATEGIES}
        boot = {s: np.array([value(E[s][i].mean(0)) for i in boot_idx]) for s in STRATEGIES}
        for s in STRATEGIES:
            lo, hi = np.percentile(boot[s], [2.5, 97.5])
            rows.append({"dataset": dataset, "objective": obj, "strategy": s,
                         "value": round(val[s], 4), "ci_lo": round(lo, 4),
                         "ci_hi": round(hi, 4), "seeds": p["seeds"],
                         "n_mean": np.round(np.mean(sweep.column(f"{obj}/adaptive_n"), 0)).tolist()
                         if s == "adaptive" else ""})  # fmt: skip
        for base in ("equal", "proportional"):
            d = val[base] - val["adaptive"]
            lo, hi = np.percentile(boot[base] - boot["adaptive"], [2.5, 97.5])
            ctx.claim(
                f"{dataset}, {obj}: adaptive beats {base} sampling (improvement of the "
                f"objective > 0; 95% paired-bootstrap CI over {p['seeds']} seeds)",
                source=SOURCE, measured=d, expected=0.0, op=">=", holds=lo > 0, ci=(lo, hi),
            )  # fmt: skip
        best = "equal" if val["equal"] <= val["proportional"] else "proportional"
        denom = val[best] - val["oracle"]
        bd = boot[best] - boot["oracle"]
        ratio = (val["adaptive"] - val["oracle"]) / denom if denom > 0 else np.inf
        ok = bd > 0
        rb = (boot["adaptive"][ok] - boot["oracle"][ok]) / bd[ok]
        lo, hi = np.percentile(rb, [2.5, 97.5]) if rb.size else (np.nan, np.nan)
        ctx.claim(
            f"{dataset}, {obj}: adaptive approaches the oracle (regret ratio "
            f"(adaptive - oracle) / ({best} - oracle) < 1, 95% CI upper end)",
            source=SOURCE, measured=ratio, expected=1.0, op="<=", holds=bool(hi < 1),
            ci=(lo, hi),
        )  # fmt: skip
    ctx.table(f"{dataset}: objective value (lower is better), mean and 95% CI", rows)


@register(
    "equitable.adaptive-vs-baselines",
    description="Adaptive collection vs equal / proportional / oracle allocation, 3 objectives, "
    "PRS simulation and digits split into groups, over many seeds.",
    quick={"seeds": 50, "truth_repeats": 6, "rounds": 4, "repeats": 3, "prs_pilot": 60,
           "digits_pilot": 25, "prs_pool": 1000, "prs_test": 2000, "digits_test": 150,
           "n_snps": 20, "n_causal": 10, "alpha": 10.0, "prs_budget": 1000, "digits_budget": 300},
    full={"seeds": 200, "truth_repeats": 20, "rounds": 8, "repeats": 3, "prs_pilot": 60,
          "digits_pilot": 25, "prs_pool": 1500, "prs_test": 1500, "digits_test": 150,
          "n_snps": 20, "n_causal": 10, "alpha": 10.0, "prs_budget": 1000, "digits_budget": 300},
    demo={"seeds": 40, "datasets": ["prs"], "objectives": ["utilitarian"], "bootstrap": 1000},
)  # fmt: skip
def adaptive_vs_baselines(ctx: Context) -> None:
    p = ctx.params
    shares = np.array([0.8, 0.15, 0.05])
    costs = np.array([1.0, 1.0, 2.0])
    results: dict[str, Any] = {}
    for dataset in p.get("datasets", ("prs", "digits")):
        if dataset == "prs":
            sp = {"pool": p["prs_pool"], "test": p["prs_test"], "pilot": p["prs_pilot"], **p}
            setup = _prs_setup(p, ctx.rng)
            budget = float(p["prs_budget"])
        else:
            sp = {"test": p["digits_test"], "pilot": p["digits_pilot"], **p}
            setup = _digits_setup(p, ctx.rng)
            budget = float(p["digits_budget"])
        truth = setup["truth"]
        caps = _caps(truth, costs, budget, shares)
        sweep = run_sweep(
            _one_seed,
            [
                {"dataset": dataset, "seed": s, "setup": setup, "p": sp, "shares": shares,
                 "costs": costs, "budget": budget, "caps": caps}
                for s in range(p["seeds"])
            ],
            rng=ctx.rng, n_jobs=ctx.n_jobs, progress=ctx.progress, desc=f"equitable {dataset}",
        )  # fmt: skip
        results[dataset] = {"truth": truth, "costs": costs, "shares": shares, "caps": caps,
                            "budget": budget, "sweep": sweep,
                            "objectives": list(p.get("objectives", OBJECTIVES))}  # fmt: skip
        _dataset_claims(ctx, dataset, sweep, shares, caps, p)
    ctx.figure(_figure(results), "per_group_error_vs_budget")
    ctx.note(
        "Objective values are computed from the expected per-group test errors (1 - R^2 for "
        "the PRS, 1 - accuracy for digits) of one model per group trained on the collected "
        "samples, estimated by their means over seeds (the max of noisy per-seed errors would "
        "favour unequal allocations); CIs are paired bootstrap over seeds. Utilitarian weights "
        f"are the population shares {shares.tolist()}, costs {costs.tolist()}. The disparity "
        "cap is half the disparity of the utilitarian oracle allocation, and a violation adds "
        "its excess to the objective. The oracle allocates with learning curves measured on "
        "large held-out data, so it is the best static plan, not a bound on every seed. "
        "Adaptive uses only the data it has collected to fit its curves (shared exponent, "
        "sub-samples of each group's data scored on a held-out part of it). Where a static "
        "baseline is itself close to the oracle (proportional for the population-weighted "
        "error; equal for max-min and the cap when groups differ little, as the three digit "
        "styles do), the gap the adaptive strategy can win is of the order of the seed-to-seed "
        "noise and a 'beats' claim can fail for lack of power rather than of merit: compare "
        "the oracle's own margin in the tables."
    )
