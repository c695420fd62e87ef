"""Continuous diffusion core: schedules, samplers, closed-form Gaussian / mixture /
empirical denoisers, analytical teleportation, EDM networks and training.

Conventions (EDM / k-diffusion)
-------------------------------
State ``x_sigma = x_0 + sigma * n``. A *denoiser* is any callable ``D(x, sigma)`` returning
``E[x_0 | x_sigma]``; ``sigma`` arrives as a tensor of shape ``(batch,)``. Score
``= (D - x) / sigma^2``; probability-flow ODE ``dx/dsigma = (x - D(x, sigma)) / sigma``.
Noise ladders are descending numpy arrays ending in 0.

API summary
-----------
Schedules
    ``karras_sigmas(n, *, sigma_min=0.002, sigma_max=80, rho=7)`` (n levels + 0),
    ``ve_sigmas``, ``vp_sigmas``, ``check_sigmas``, ``append_zero``;
    discrete DDPM: ``ddpm_betas(T, *, beta_start, beta_end, schedule)``,
    ``ddpm_alphas_cumprod(betas)``, ``ddpm_sigmas(alphas_cumprod)`` (sigma of every t),
    ``sigma_to_t(sigma, alphas_cumprod, *, quantize)``, ``t_to_sigma``,
    ``ddpm_timestep_sigmas(n, alphas_cumprod)``, ``vp_scale(sigma) = 1/sqrt(1+sigma^2)``.
Samplers ``f(denoiser, x, sigmas, *, callback=None, progress=False, rng=None, ...)`` -> ``SampleResult``
    ``sample_euler``, ``sample_heun`` (``s_churn``, ``s_tmin``, ``s_tmax``, ``s_noise``),
    ``sample_ddim`` (``eta``), ``sample_dpmpp_2m``, ``sample_ancestral`` (``eta``);
    ``sample(denoiser, x, sigmas, *, sampler="heun", teleport_to=None, gaussian=None, ...)``
    (the Gaussian of teleportation defaults to ``denoiser`` when it is a ``GaussianDenoiser``).
    ``x`` is the start state at ``sigmas[0]``; every result holds ``samples``, ``nfe``,
    ``wall_time`` and ``sigmas``. The callback gets a dict with ``x``, ``i``, ``sigma``,
    ``sigma_hat`` and ``denoised`` (the denoised estimate of the step). ``rng`` may be a list
    of per-row generators (``seeded_noise(seeds, shape)``) for batch-independent draws. Every
    denoiser output is checked (shape, device, finiteness). ``NFECounter(denoiser)`` counts
    evaluations across calls. ``sample_ddpm(eps_model, x_T, betas, *, callback, progress, rng,
    variance="large"|"small")``: discrete ancestral DDPM for ``eps_model(x_t, t_long)``; the
    callback dict also has ``t`` and ``eps``. ``Denoiser`` is the protocol of ``D(x, sigma)``.
Wrappers
    ``VPDenoiser(model, alphas_cumprod, *, prediction="eps"|"x0"|"v", quantize=False)``:
    a DDPM model as a VE denoiser (``get_sigmas(n)`` gives its ladder).
Closed forms
    ``GaussianDenoiser(mean, cov | (U, lam))`` with ``denoise``/``__call__``, ``score``,
    ``pf_ode(x_T, sigma_T, sigma)``, ``x0_along_trajectory``, ``sample``;
    ``GaussianMixtureDenoiser(means, covs | (U, lam), weights)``;
    ``EmpiricalDenoiser(data, *, chunk_size)`` (exact, chunked, streaming log-sum-exp);
    ``fit_gaussian(data, *, rank)``, ``fit_gaussian_mixture(data, K, *, rank, rng)``;
    ``teleport(x_T, gaussian, sigma_T, sigma_skip)``.
Networks and training
    ``EDMPrecond(model, *, sigma_data)``, ``MLPDenoiser(dim, *, hidden, depth)``,
    ``UNetDenoiser(channels, *, base)`` (EDM-preconditioned ``D(x, sigma)``),
    ``EpsMLP(dim, *, hidden=128)`` (``eps(x_t, t)``), ``timestep_embedding``;
    ``train_denoiser(net, data, *, steps, batch_size, lr, ema, device, checkpoint,
    checkpoint_every, loss=None, rng, progress, grad_clip, nonfinite)`` -> ``TrainResult``
    (``net``, ``ema``, ``model``, ``losses``, ``wall_time``); a non-finite loss or gradient
    stops it with a ``FloatingPointError`` (or skips the step), keeping the last finite
    checkpoint; losses ``loss(net, batch, rng) -> scalar`` with ``batch`` a tensor or the
    tuple matching a tuple ``data``: ``EDMLoss()`` (default), ``DDPMLoss(betas)``. Networks
    take ``rng`` for their initial weights.
Analysis and metrics
    ``explained_variance(denoiser, {name: reference}, data, sigmas, *, n, rng)`` ->
    ``ExplainedVarianceResult`` (``ev[ref, sigma]``, ``plot``);
    ``nearest_neighbor_distances(samples, train, *, k)``,
    ``memorization(samples, train, *, threshold=1/3)`` -> ``MemorizationResult``;
    ``frechet_distance(x, y, *, features)`` with ``PCAFeatures(k).fit(real)`` or
    ``ClassifierFeatures(random_state=...).fit(real, labels)`` (scikit-learn transformers);
    ``sliced_wasserstein(x, y, *,
    n_projections, p, rng)``; ``mmd(x, y, *, bandwidth, unbiased)`` (squared MMD).
Experiments
    ``diffusion.gaussian-explains`` and ``diffusion.teleport`` (``sciddm reproduce diffusion``).
"""

from sciddm.diffusion._analysis import (
    ExplainedVarianceResult,
    MemorizationResult,
    explained_variance,
    memorization,
    nearest_neighbor_distances,
)
from sciddm.diffusion._base import Denoiser, SampleResult
from sciddm.diffusion._empirical import EmpiricalDenoiser
from sciddm.diffusion._gaussian import (
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    fit_gaussian,
    fit_gaussian_mixture,
)
from sciddm.diffusion._losses import DDPMLoss, EDMLoss
from sciddm.diffusion._metrics import (
    ClassifierFeatures,
    PCAFeatures,
    frechet_distance,
    mmd,
    sliced_wasserstein,
)
from sciddm.diffusion._nets import EDMPrecond, EpsMLP, MLPDenoiser, UNetDenoiser, timestep_embedding
from sciddm.diffusion._sample import sample, sample_ddpm
from sciddm.diffusion._samplers import (
    NFECounter,
    get_ancestral_step,
    randn_like,
    sample_ancestral,
    sample_ddim,
    sample_dpmpp_2m,
    sample_euler,
    sample_heun,
    seeded_noise,
)
from sciddm.diffusion._schedules import (
    append_zero,
    check_sigmas,
    ddpm_alphas_cumprod,
    ddpm_betas,
    ddpm_sigmas,
    ddpm_timestep_sigmas,
    karras_sigmas,
    sigma_to_t,
    t_to_sigma,
    ve_sigmas,
    vp_scale,
    vp_sigmas,
)
from sciddm.diffusion._teleport import teleport
from sciddm.diffusion._training import TrainResult, train_denoiser
from sciddm.diffusion._wrappers import VPDenoiser

# isort: split
# schedule and solver search (issue 21)
from sciddm.diffusion._gaussian_law import GaussianOutputLaw, gaussian_output_law, gaussian_w2
from sciddm.diffusion._search import ScheduleSearchResult, search_schedule
from sciddm.diffusion._search_fitness import levels_for_nfe, standard_schedules
from sciddm.diffusion._solvers import SOLVERS, plan_nfe, sample_mixed

__all__ = [
    "ClassifierFeatures",
    "ExplainedVarianceResult",
    "MemorizationResult",
    "PCAFeatures",
    "explained_variance",
    "frechet_distance",
    "memorization",
    "mmd",
    "nearest_neighbor_distances",
    "sliced_wasserstein",
    "DDPMLoss",
    "Denoiser",
    "EDMLoss",
    "EDMPrecond",
    "EmpiricalDenoiser",
    "EpsMLP",
    "GaussianDenoiser",
    "GaussianMixtureDenoiser",
    "MLPDenoiser",
    "NFECounter",
    "SampleResult",
    "TrainResult",
    "UNetDenoiser",
    "VPDenoiser",
    "append_zero",
    "check_sigmas",
    "ddpm_alphas_cumprod",
    "ddpm_betas",
    "ddpm_sigmas",
    "ddpm_timestep_sigmas",
    "fit_gaussian",
    "fit_gaussian_mixture",
    "get_ancestral_step",
    "karras_sigmas",
    "randn_like",
    "sample",
    "sample_ancestral",
    "sample_ddim",
    "sample_ddpm",
    "sample_dpmpp_2m",
    "sample_euler",
    "sample_heun",
    "seeded_noise",
    "sigma_to_t",
    "t_to_sigma",
    "teleport",
    "timestep_embedding",
    "train_denoiser",
    "ve_sigmas",
    "vp_scale",
    "vp_sigmas",
    # schedule and solver search (issue 21)
    "SOLVERS",
    "GaussianOutputLaw",
    "ScheduleSearchResult",
    "gaussian_output_law",
    "gaussian_w2",
    "levels_for_nfe",
    "plan_nfe",
    "sample_mixed",
    "search_schedule",
    "standard_schedules",
]
