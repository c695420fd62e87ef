# %% [markdown]
# # Equitable data collection: learning curves, budgets and adaptive sampling
#
# A study team can afford a fixed budget of samples and must decide **how many to collect
# from each group** — ancestries in a genomic study, dialects in a speech corpus, sites in
# a clinical trial. Collecting in proportion to the population (*representative sampling*)
# gives minorities few samples and poor models; collecting equally ignores costs and how
# fast each group's model improves. Cai et al. (FAccT 2022) frame the choice as an
# optimisation over **learning curves** and propose collecting *adaptively*: start with a
# pilot, fit the curves, and spend each next batch where it helps most.
#
# This notebook walks through the pieces in `sciddm.equitable`:
#
# 1. measuring and fitting learning curves $\mathrm{err}_g(n) = a_g n^{-b_g} + e_g$;
# 2. the optimal static allocation for three objectives (closed form where it exists);
# 3. adaptive collection from a pool, compared with the equal, proportional and oracle
#    baselines.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

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

FAST = os.environ.get("SCIDDM_FAST") == "1"
SEEDS = 3 if FAST else 20

# %% [markdown]
# ## 1. A polygenic-risk simulation
#
# `simulate_prs` draws genotypes for three populations. Allele frequencies diverge from a
# common ancestor by the Balding–Nichols model: $p_k \sim \mathrm{Beta}\big(p(1-F)/F,
# (1-p)(1-F)/F\big)$, so $\mathrm{Var}\,p_k = F_{ST}\,p(1-p)$. Neighbouring SNPs are
# correlated inside LD blocks, causal effects are partly shared across populations
# (correlation $\rho$), and the phenotype has heritability $h^2_k$ in population $k$. The
# third population has the lowest heritability, so its risk score is the hardest to learn.

# %%
pop = simulate_prs([3000] * 3, n_snps=20, n_causal=10, fst=(0.01, 0.1, 0.3),
                   h2=(0.6, 0.5, 0.4), rho=0.8, rng=0)  # fmt: skip
print(pop)
print("allele-frequency spread across populations:", pop.freq.std(axis=0).mean().round(3))

# %% [markdown]
# ## 2. Learning curves per group
#
# `learning_curve_by_group` trains any scikit-learn estimator (here a ridge polygenic
# score, one model per group) on sub-samples of each group and scores it on held-out data
# of the same group, repeating over random splits. The error is $1 - R^2$.
# `fit_learning_curve` then fits $a n^{-b} + e$ by bounded least squares, with standard
# errors from the Jacobian, and predicts with delta-method uncertainty.

# %%
sizes = [25, 50, 100, 200, 400, 800] if FAST else [25, 40, 70, 120, 200, 350, 600, 1000, 1600]
lc = learning_curve_by_group(Ridge(alpha=10.0), pop.X, pop.y, pop.groups, sizes, metric="r2",
                             n_repeats=3 if FAST else 10, rng=1)  # fmt: skip
curves = lc.fit_curves()
fig, ax = plt.subplots(figsize=(6, 4))
for g, c in curves.items():
    c.plot(ax=ax, label=f"group {g}: a={c.a:.2f}±{c.se[0]:.2f}, b={c.b:.2f}±{c.se[1]:.2f}")
ax.legend(fontsize=8)
ax.set_title("fitted learning curves with 95% bands")
plt.show()

# %% [markdown]
# ## 3. The optimal static allocation
#
# With costs $c_g$ and budget $B$, the utilitarian objective
# $\min \sum_g w_g \mathrm{err}_g(n_g)$ s.t. $\sum_g c_g n_g \le B$ has the Lagrange
# condition $w_g a_g b_g n_g^{-b_g-1} = \lambda c_g$: equal marginal gain per unit cost.
# For a shared exponent this gives the closed form
# $n_g \propto (w_g a_g / c_g)^{1/(1+b)}$ scaled to the budget — e.g. the reference example:

# %%
ref = allocate([dict(a=2, b=0.5, e=0), dict(a=5, b=0.5, e=0)], costs=[1, 3], budget=1000,
               weights=[0.7, 0.3])  # fmt: skip
print("closed form:", ref.n_continuous.round(2), "integer:", ref.n, "method:", ref.method)

# %% [markdown]
# The max-min objective puts every group at a common error level (found by bisection),
# and the disparity cap solves the utilitarian problem subject to
# $\max_g \mathrm{err}_g - \min_g \mathrm{err}_g \le \text{cap}$ (a convex problem in the
# errors). Population shares $w = (0.8, 0.15, 0.05)$ and costs $(1, 1, 2)$: the minority is
# the most expensive to recruit.

# %%
shares, costs, budget = np.array([0.8, 0.15, 0.05]), np.array([1.0, 1.0, 2.0]), 600.0
util = allocate(curves, costs, budget, weights=shares)
cap = 0.5 * util.disparity
plans = {
    "equal": equal_allocation(costs, budget, curves=curves, weights=shares),
    "proportional": proportional_allocation(costs, budget, shares, curves=curves, weights=shares),
    "utilitarian": util,
    "maxmin": allocate(curves, costs, budget, objective="maxmin"),
    "disparity-cap": allocate(
        curves, costs, budget, objective="disparity-cap", weights=shares, cap=cap
    ),  # fmt: skip
}
for name, a in plans.items():
    print(f"{name:>13}: n = {a.n}, predicted errors = {a.predicted_error.round(3)}")

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.15
for i, (name, a) in enumerate(plans.items()):
    ax.bar(np.arange(3) + i * width, a.n, width, label=name)
ax.set_xticks(np.arange(3) + 2 * width, [f"group {g}" for g in range(3)])
ax.set_ylabel("samples")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4. Adaptive collection
#
# In practice the curves are unknown before collecting. `AdaptiveCollector` takes a pilot of
# each group, re-fits the curves every round from sub-samples of what it has, and gives the
# next batch to the groups with the largest estimated marginal gain per unit cost, keeping
# an exploration floor for every group. The source is a `PoolSource` (pre-collected data) or
# any callable `source(group, k, rng) -> (X, y)`. We compare the realised per-group test
# errors with the baselines over a few seeds, for the max-min objective.

# %%
test = simulate_prs([2000] * 3, architecture=pop, rng=99)
results = {k: [] for k in ("adaptive", "equal", "proportional", "oracle")}
oracle_n = plans["maxmin"].n
for seed in range(SEEDS):
    rng = np.random.default_rng(seed)
    pool = simulate_prs([800] * 3, architecture=pop, rng=rng)
    col = AdaptiveCollector(Ridge(alpha=10.0), costs=costs, budget=budget, objective="maxmin",
                            metric="r2", pilot=30, n_rounds=4)  # fmt: skip
    res = col.run(PoolSource(pool.X, pool.y, pool.groups), rng=rng)
    results["adaptive"].append(
        group_errors(
            Ridge(alpha=10.0), res.X, res.y, res.group_of, test.X, test.y, test.groups, metric="r2"
        )  # fmt: skip
    )
    for name, n in (("equal", plans["equal"].n), ("proportional", plans["proportional"].n),
                    ("oracle", oracle_n)):  # fmt: skip
        rows = np.concatenate([np.flatnonzero(pool.groups == g)[: n[g]] for g in range(3)])
        results[name].append(
            group_errors(
                Ridge(alpha=10.0),
                pool.X[rows],
                pool.y[rows],
                pool.groups[rows],
                test.X,
                test.y,
                test.groups,
                metric="r2",
            )  # fmt: skip
        )
for name, errs in results.items():
    mean_err = np.mean(errs, axis=0)
    print(f"{name:>12}: per-group error {mean_err.round(3)}, "
          f"max-min objective {evaluate_objective(mean_err, objective='maxmin'):.3f}")  # fmt: skip
print("last adaptive run, samples per round:")
for r in res.rounds:
    print(f"  round {r.round}: batch {r.batch}, spent {r.spent:.0f}")
ax = res.plot()
ax.set_title("adaptive collection, one run")
plt.show()

# %% [markdown]
# ## What to conclude
#
# - Learning curves summarise how much each group gains from more data; their fitted
#   standard errors show how far an extrapolation can be trusted.
# - Given curves, the allocation is a small convex problem with a closed form for a shared
#   exponent; the objective (overall error, worst group, capped disparity) changes the
#   answer far more than the solver does. Representative sampling is close to optimal for
#   the population-weighted error but poor for the worst group.
# - Adaptive collection needs no curves in advance and never exceeds the budget, but it
#   pays for learning them: a pilot, an exploration floor and noisy early fits. It does not
#   guarantee the oracle allocation (see `theory/52_equitable_adaptive.md`); run
#   `sciddm reproduce equitable` for the comparison over 50 seeds with confidence intervals.
