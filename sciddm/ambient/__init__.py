"""Learning diffusion models and distributions from noisy data, and their scaling laws.

A scientist holds samples ``y_i = x_i + sigma_i eps_i`` with known noise levels
``sigma_i`` (0 for the few clean ones). This subpackage provides

- the data model: :class:`NoisyDataset`, :func:`corrupt`, :func:`make_clean_noisy`,
  :func:`paper_scenarios` (the four training sets of Daras et al., 2025 [1]_);
- the ambient (double-Tweedie) diffusion loss :func:`ambient_loss` /
  :class:`AmbientLoss` for ``sciddm.diffusion``'s training loop, and sampling above
  the data's smallest noise level, :func:`ambient_sample` [2]_;
- estimation with known per-sample noise: :func:`heteroscedastic_gaussian_mle`,
  :func:`clipped_covariance`, :class:`NoisyGaussianMixture` (EM);
- the worth of a noisy sample: :func:`gaussian_fisher_value`,
  :func:`mixture_fisher_value`, and scaling laws :func:`fit_scaling_law`;
- exact mixture distances :func:`gaussian_w2`, :func:`mixture_w2`,
  :func:`mixture_error`.

References
----------
.. [1] Daras, Cherapanamjeri, Daskalakis, "How much is a noisy image worth? Data
   Scaling Laws for Ambient Diffusion", ICLR 2025, arXiv:2411.02780.
.. [2] Daras, Dimakis, Daskalakis, "Consistent Diffusion Meets Tweedie", ICML 2024.
"""

from sciddm.ambient._data import (
    SCENARIOS,
    NoisyDataset,
    corrupt,
    make_clean_noisy,
    paper_scenarios,
)
from sciddm.ambient._fisher import FisherValue, gaussian_fisher_value, mixture_fisher_value
from sciddm.ambient._loss import (
    AmbientLoss,
    ambient_loss,
    edm_weight,
    truncated_lognormal_sigma,
)
from sciddm.ambient._metrics import MixtureError, gaussian_w2, mixture_error, mixture_w2
from sciddm.ambient._mixture import (
    GaussianFit,
    NoisyGaussianMixture,
    clipped_covariance,
    heteroscedastic_gaussian_mle,
    noisy_log_likelihood,
)
from sciddm.ambient._sampling import ambient_sample, ambient_sigmas
from sciddm.ambient._scaling import ScalingLawFit, fit_scaling_law

__all__ = [
    "SCENARIOS",
    "AmbientLoss",
    "FisherValue",
    "GaussianFit",
    "MixtureError",
    "NoisyDataset",
    "NoisyGaussianMixture",
    "ScalingLawFit",
    "ambient_loss",
    "ambient_sample",
    "ambient_sigmas",
    "clipped_covariance",
    "corrupt",
    "edm_weight",
    "fit_scaling_law",
    "gaussian_fisher_value",
    "gaussian_w2",
    "heteroscedastic_gaussian_mle",
    "make_clean_noisy",
    "mixture_error",
    "mixture_fisher_value",
    "mixture_w2",
    "noisy_log_likelihood",
    "paper_scenarios",
    "truncated_lognormal_sigma",
]
