# %% [markdown]
# # $\ell_p$ sensitivity sampling: which rows of a tall matrix matter?
#
# You must fit a robust ($\ell_1$) or an $\ell_p$ regression on a matrix with millions of
# rows, or you want a small weighted *coreset* that behaves like the full data for every
# coefficient vector at once. Uniform subsampling fails as soon as a few rows dominate:
# it misses them. Importance sampling by a row *score* keeps them, and the right score
# depends on $p$.
#
# This notebook walks through the scores of `sciddm.sensitivity`, what the theory says
# about them, and what they buy in practice.
#
# **The maths.** For $A \in \mathbb R^{n\times d}$ and $p \ge 1$ the $\ell_p$
# *sensitivity* of row $i$ is
#
# $$\sigma_i = \sup_{x}\frac{|a_i^\top x|^p}{\|Ax\|_p^p}, \qquad
#   \mathfrak S = \sum_i \sigma_i \ \text{(total sensitivity)} .$$
#
# At $p = 2$ it is the leverage score $\tau_i = a_i^\top(A^\top A)^{-1}a_i$. Two cheaper
# proxies bound it: the $\ell_p$ **Lewis weights** $w$ (a fixed point
# $w_i = (a_i^\top(A^\top W^{1-2/p}A)^{-1}a_i)^{p/2}$, $\sum w = d$) and the **root
# leverage scores** $\tau_i^{p/2}$. For $p<2$: $\sigma \le w \le d^{1-p/2}\sigma$ and
# $\sigma\le\tau^{p/2}$ (theory note 22). Sampling row $i$ with probability $q_i$ and
# rescaling it by $q_i^{-1/p}$ gives $\mathbb E\|SAx\|_p^p = \|Ax\|_p^p$; Woodruff &
# Yasuda (2023) show that about $\mathfrak S^{2/p}/\varepsilon^2$ sensitivity-sampled rows
# ($p<2$) make $S$ a $(1\pm\varepsilon)$ subspace embedding.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sciddm.sensitivity import (
    SampledLpRegressor,
    diabetes_design,
    embedding_distortion,
    heavy_tailed_matrix,
    leverage_scores,
    lewis_weights,
    lp_regression,
    lp_sensitivities,
    row_scores,
    sample_rows,
)

FAST = os.environ.get("SCIDDM_FAST") == "1"
n, d, p = (400, 4, 1.0) if FAST else (1500, 5, 1.0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Scores of a matrix with heavy-tailed rows
#
# Rows are Gaussian vectors scaled by $|t_{1.5}|$ draws: a handful of rows carry most of
# the mass. We compute the exact $\ell_1$ sensitivities (one small linear program per
# row, solved by HiGHS), the Lewis weights and the leverage scores.

# %%
A = heavy_tailed_matrix(n, d, df=1.5, rng=rng)
sigma = lp_sensitivities(A, p)
w = lewis_weights(A, p)
tau = leverage_scores(A)
print(
    f"total sensitivity S = {sigma.sum():.3f}   (bounds: d^(p/2) = {d ** (p / 2):.2f} <= S <= d = {d})"
)
print(f"sum of Lewis weights = {w.sum():.6f}, sum of leverage scores = {tau.sum():.6f}")
print(
    "sigma <= w:",
    bool(np.all(sigma <= w * (1 + 1e-8))),
    "  w <= d^(1-p/2) sigma:",
    bool(np.all(w <= d ** (1 - p / 2) * sigma * (1 + 1e-8))),
)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sigma, w, ".", ms=3, label="Lewis weight")
ax.loglog(sigma, np.sqrt(tau), ".", ms=3, label=r"root leverage $\tau^{1/2}$")
lim = np.array([sigma.min(), 1])
ax.loglog(lim, lim, "k-", lw=0.8, label=r"$\sigma$")
ax.loglog(lim, d ** (1 - p / 2) * lim, "k--", lw=0.8, label=r"$d^{1-p/2}\sigma$")
ax.set(xlabel=r"$\ell_1$ sensitivity $\sigma_i$", ylabel="upper bound")
ax.legend(fontsize=8)

# %% [markdown]
# Every point lies between the two lines: the Lewis weights over-estimate the
# sensitivities by at most $\sqrt d$ at $p = 1$, and so does the root-leverage bound here.
#
# ## 2. Distortion of the sample versus its size
#
# `sample_rows` turns scores into inclusion probabilities $q_i = \min(1, c\,s_i)$ with
# $\sum q_i = k$ and rescales the kept rows by $q_i^{-1/p}$. `embedding_distortion`
# measures $\max_x |\|SAx\|_p^p/\|Ax\|_p^p - 1|$ (exactly for $p = 2$; for $p\ne2$ a
# certified lower bound from random directions, sensitivity maximisers and L-BFGS).

# %%
sizes = [40, 100, 200] if FAST else [50, 100, 200, 400]
reps = 3 if FAST else 10
methods = ["uniform", "leverage", "root-leverage", "lewis", "sensitivity"]
scores = {m: (sigma if m == "sensitivity" else row_scores(A, p, m)) for m in methods}
median = {}
for m in methods:
    median[m] = [
        np.median(
            [
                embedding_distortion(
                    A,
                    sample_rows(A, p, scores=scores[m], size=k, rng=rng),
                    p,
                    n_directions=64,
                    n_local=2,
                    rng=rng,
                ).distortion
                for _ in range(reps)
            ]
        )
        for k in sizes
    ]
fig, ax = plt.subplots(figsize=(5, 3.5))
for m in methods:
    ax.plot(sizes, median[m], "o-", label=m)
ax.set(xscale="log", yscale="log", xlabel="sample size k", ylabel="median distortion")
ax.legend(fontsize=8)
for m in methods:
    print(f"{m:>14}: " + "  ".join(f"{v:.3f}" for v in median[m]))

# %% [markdown]
# Uniform sampling misses the dominant rows and its distortion stays large; any of the
# $\ell_p$-aware scores brings it down roughly like $k^{-1/2}$.
#
# ## 3. Regression on a sample: robust fit of a real design
#
# `lp_regression(A, b, p, method="sketch")` samples rows of $[A, b]$ and solves the
# rescaled problem; the scikit-learn estimator `SampledLpRegressor` does the same inside
# `fit`. Here: scikit-learn's diabetes data (442 patients, 10 features) with a few
# corrupted responses, fitted in $\ell_1$.

# %%
X, y = diabetes_design(intercept=False)
y = y.copy()
y[rng.choice(len(y), 10, replace=False)] += 2000.0  # gross outliers
A_d = np.column_stack([X, np.ones(len(y))])
full = lp_regression(A_d, y, 1.0)
sketch = lp_regression(A_d, y, 1.0, method="sketch", sample_size=150, rng=1)
print(
    f"l1 objective: full data {full.objective:.1f}, from 150 sampled rows {sketch.objective:.1f} "
    f"(ratio {sketch.objective / full.objective:.3f})"
)
est = SampledLpRegressor(p=1.0, sample_size=150, random_state=1).fit(X, y)
ls = np.linalg.lstsq(A_d, y, rcond=None)[0]
print(
    "intercept: l1 on sample",
    round(est.intercept_, 1),
    "| l1 full",
    round(full.coef[-1], 1),
    "| least squares (pulled by outliers)",
    round(ls[-1], 1),
)

# %% [markdown]
# ## 4. Matrices that do not fit in memory
#
# All scores stream over row blocks: a `numpy.memmap` is read one block at a time and its
# pages are released after each block, so the resident memory stays at one block. The
# benchmark (`benchmarks/bench_sensitivity.py --memmap`) runs this at $10^7\times 20$.

# %%
tmp = Path(tempfile.mkdtemp())
rows = 20_000 if FAST else 200_000
mm = np.memmap(tmp / "A.dat", dtype=np.float64, mode="w+", shape=(rows, 8))
for s in range(0, rows, 5000):
    mm[s : s + 5000] = rng.standard_normal((min(5000, rows - s), 8))
mm.flush()
ro = np.memmap(tmp / "A.dat", dtype=np.float64, mode="r", shape=(rows, 8))
tau_mm = leverage_scores(ro, block_size=4096)
print(f"memmap leverage: sum = {tau_mm.sum():.6f} (rank 8), max = {tau_mm.max():.2e}")
del mm, ro
(tmp / "A.dat").unlink()

# %% [markdown]
# ## What to take away
#
# * Sensitivities are the right importance scores for $\ell_p$ and are computable exactly
#   for moderate $n$; Lewis weights (a few leverage computations) and root leverage
#   scores are cheap upper bounds with guaranteed slack ($\le d^{1-p/2}$ for $p<2$).
# * Sampling with $q_i^{-1/p}$ rescaling is unbiased, and with $\ell_p$-aware scores its
#   distortion falls like $k^{-1/2}$ where uniform sampling stalls.
# * Sketch-and-solve on a few hundred rows recovers the full-data $\ell_1$ fit closely.
# * Everything streams: memmaps and sparse matrices of any height.
