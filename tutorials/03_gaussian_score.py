# %% [markdown]
# # The Gaussian score: closed forms, samplers and analytical teleportation
#
# A diffusion model generates data by integrating the *probability-flow ODE*
#
# $$\frac{dx}{d\sigma} = \frac{x - D(x, \sigma)}{\sigma}, \qquad x(\sigma_{\max}) = \sigma_{\max} z,$$
#
# from a large noise level down to $\sigma = 0$, where $D(x, \sigma) \approx E[x_0 \mid x_0 + \sigma n = x]$
# is the *denoiser* (the score is $(D - x)/\sigma^2$). Everything a sampler does depends on $D$.
# When the data are Gaussian, $x_0 \sim N(\mu, \Sigma)$ with $\Sigma = U \operatorname{diag}(\lambda) U^\top$,
# the denoiser, the score and even the whole ODE solution are available in closed form:
#
# $$D(x, \sigma) = \mu + U \operatorname{diag}\!\Big(\frac{\lambda}{\lambda + \sigma^2}\Big) U^\top (x - \mu),
# \qquad x(\sigma) = \mu + U \operatorname{diag}\!\Big(\sqrt{\tfrac{\lambda + \sigma^2}{\lambda + \sigma_T^2}}\Big) U^\top (x_T - \mu).$$
#
# This notebook uses these formulas three ways (Wang & Vastola, TMLR 2024):
#
# 1. as an exact reference to check a numerical sampler (Heun converges at rate $N^{-2}$);
# 2. as an approximation of the denoiser of non-Gaussian data, accurate at high noise;
# 3. to *teleport*: replace the first sampler steps by the closed-form jump, saving
#    network evaluations.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from sciddm.diffusion import (
    EmpiricalDenoiser,
    GaussianDenoiser,
    fit_gaussian,
    fit_gaussian_mixture,
    karras_sigmas,
    mmd,
    sample,
    sample_heun,
    sliced_wasserstein,
)
from sciddm.diffusion.toys import ring_mixture

SCIDDM_FAST = os.environ.get("SCIDDM_FAST") == "1"
torch.set_default_dtype(torch.float64)

# %% [markdown]
# ## 1. Heun versus the exact trajectory
#
# We take an anisotropic 2-D Gaussian, start 500 trajectories at $\sigma_{\max} = 80$ and
# integrate with EDM's Heun sampler on the Karras schedule ($\rho = 7$). The callback of every
# sampler receives the state `x` and the denoised estimate `denoised` ($\hat x_0$) of each
# step; we record the trajectories to draw them.

# %%
g = GaussianDenoiser([1.0, -0.5], [[1.0, 0.8], [0.8, 1.0]])
gen = torch.Generator().manual_seed(0)
xT = 80.0 * torch.randn(500, 2, generator=gen)
path = []
res = sample_heun(g, xT, karras_sigmas(18), callback=lambda d: path.append(d["x"][:20].clone()))
x0 = res.samples
print(f"{res.nfe} denoiser evaluations in {res.wall_time:.3f} s")
exact = g.pf_ode(xT, 80.0, 0.0)
print("max |Heun(N=18) - closed form| =", float((x0 - exact).abs().max()))

ns = [10, 18, 40, 100] if SCIDDM_FAST else [10, 18, 40, 100, 300, 1000]
errs = [float((sample_heun(g, xT, karras_sigmas(n)).samples - exact).abs().max()) for n in ns]

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
traj = torch.stack(path + [x0[:20]]).numpy()
for j in range(traj.shape[1]):
    axes[0].plot(traj[-8:, j, 0], traj[-8:, j, 1], "-", color="C0", alpha=0.5)
axes[0].scatter(*exact[:200].numpy().T, s=4, color="C1", label="closed-form endpoints")
axes[0].set_title("last Heun steps of 20 trajectories")
axes[0].legend()
axes[1].loglog(ns, errs, "o-", label="Heun max error")
axes[1].loglog(ns, errs[0] * (np.array(ns) / ns[0]) ** -2.0, "--", label="N^-2")
axes[1].set_xlabel("number of noise levels N")
axes[1].legend()
plt.show()

# %% [markdown]
# The error falls as $N^{-2}$, the order of Heun's method (theory note 32 checks it to
# below $10^{-4}$ at $N = 1000$ in dimension 8).
#
# ## 2. How Gaussian is the denoiser of non-Gaussian data?
#
# For a finite training set the *exact* optimal denoiser is a softmax-weighted average of the
# training points (`EmpiricalDenoiser`). At high noise the softmax weights are almost
# uniform and the first-order expansion in $1/\sigma$ is exactly the Gaussian denoiser with the
# data's mean and covariance. We measure the relative gap
# $\|D_{\rm emp} - D_{\rm G}\| / \|D_{\rm G} - \mu\|$ on an eight-mode ring.

# %%
n_data = 400 if SCIDDM_FAST else 2000
data = ring_mixture(n_data, rng=0)
emp = EmpiricalDenoiser(data)
gauss = fit_gaussian(data, ddof=0)
rng = np.random.default_rng(1)
sigmas = np.geomspace(0.05, 100, 12)
gap = []
for s in sigmas:
    x = data[rng.integers(n_data, size=500)] + s * rng.normal(size=(500, 2))
    de, dg = emp(x, s), gauss(x, s)
    gap.append(np.mean(np.linalg.norm(de - dg, axis=1) / np.linalg.norm(dg - gauss.mean_, axis=1)))

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sigmas, gap, "o-", label="empirical vs Gaussian")
ax.loglog(sigmas, gap[-1] * sigmas[-1] / sigmas, "--", label="1/sigma")
ax.set_xlabel("sigma")
ax.set_ylabel("relative gap")
ax.legend()
plt.show()

# %% [markdown]
# Above $\sigma \approx 5$ (about twice the ring's radius) the two denoisers agree to a few
# percent, and the gap keeps shrinking like $1/\sigma$ (theory note 33). At low noise the
# empirical denoiser snaps to the nearest training point — it *memorises* (note 34).
#
# ## 3. Analytical teleportation
#
# Since the early, high-noise part of the trajectory is Gaussian, we can skip it: jump from
# $\sigma_{\max}$ to $\sigma_{\rm skip}$ with the closed form of a Gaussian fitted to the data,
# then let the sampler run on the tail of the schedule (which for a Karras schedule is again a
# Karras schedule). Here the "trained model" is a smooth stand-in: the denoiser of a Gaussian
# mixture fitted by k-means. Heun costs $2N - 1$ evaluations, so skipping $k$ steps saves $2k$.

# %%
model = fit_gaussian_mixture(data, 8, rng=0)
N = 18
s = karras_sigmas(N)
n_gen = 500 if SCIDDM_FAST else 2000
z = torch.randn(n_gen, 2, generator=torch.Generator().manual_seed(2))
rows = []
for k in [0, 2, 4, 6, 8]:
    kw = {"teleport_to": float(s[k]), "gaussian": gauss} if k else {}
    res = sample(model, 80.0 * z, s, sampler="heun", **kw)
    out = res.samples.numpy()
    rows.append((k, float(s[k]), res.nfe, sliced_wasserstein(out, data, rng=0), mmd(out, data)))
    if k == 4:
        tele = out
    if k == 0:
        full = out
for k, sk, nfe, sw, m in rows:
    print(f"k={k}  sigma_skip={sk:6.2f}  NFE={nfe:2d}  sliced W2={sw:.4f}  MMD^2={m:.5f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
axes[0].scatter(*full.T, s=3)
axes[0].set_title(f"Heun, N = {N}: {rows[0][2]} NFE")
axes[1].scatter(*tele.T, s=3, color="C2")
axes[1].set_title(f"teleport to sigma = {s[4]:.1f}: {rows[2][2]} NFE")
plt.show()

# %% [markdown]
# ## What to conclude
#
# * For Gaussian data the closed forms are exact references: they validate samplers
#   (Heun's $N^{-2}$ rate) and cost nothing to evaluate.
# * The denoiser of any dataset is Gaussian to first order in $1/\sigma$: at high noise the
#   learned or exact denoiser is explained by the data's mean and covariance alone.
# * Teleporting over that regime skips about 20–25 % of the evaluations of Heun at $N = 18$
#   with no visible change in the sample distribution here; the experiment
#   `sciddm reproduce diffusion.teleport` measures the same trade-off on digits with a
#   trained network and Fréchet distances. How far one may skip depends on where the data
#   stop looking Gaussian (compare $\sigma_{\rm skip}$ with the gap curve of section 2).
