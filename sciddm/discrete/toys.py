"""Exactly solvable toy problems for masked discrete diffusion.

A :class:`ToyProblem` is a denoiser over short sequences (``L`` positions,
``V`` tokens) whose :math:`p(x_0 \\mid x_t)` (MDLM [1]_) is a lookup table over all
:math:`(V+1)^L` partly masked states. On it the output law of every sampler of
:func:`sciddm.discrete.sample` can be computed *exactly*, by propagating the
distribution over the states (no sampling): :func:`exact_law`. The same
enumeration gives the exact quantities of reward-guided decoding — the soft
values :math:`h_i(x) = E[\\exp(r(x_0)/\\alpha) \\mid x_{t_i} = x]`, the tilted law
:math:`p^\\star \\propto p^{\\mathrm{pre}} \\exp(r/\\alpha)` (:func:`exact_tilt`)
and the exact output laws of SVDD [3]_ (:func:`svdd_law`, :func:`svdd_argmax_law`)
and best-of-N (:func:`best_of_n_law`).

Tests, tutorials and the ``discrete.*`` reproductions compare samplers with
these laws by a chi-squared test or by total variation.

:func:`float32_win_probability` and :func:`float32_chain_token_probability`
give the exact effect of MDLM's float32 Gumbel-max draws [2]_ (theory note 75), and
:class:`RandomDenoiser` is a random-weight network for cost measurements.

References
----------
.. [1] Sahoo et al., "Simple and Effective Masked Diffusion Language Models",
   NeurIPS 2024 (MDLM).
.. [2] Zheng et al., "Masked Diffusion Models are Secretly Time-Agnostic Masked
   Models and Exploit Inaccurate Categorical Sampling", ICLR 2025.
.. [3] Li et al., "Derivative-Free Guidance in Continuous and Discrete Diffusion
   Models with Soft Value-Based Decoding", 2024 (SVDD).

Examples
--------
>>> import numpy as np
>>> from sciddm.discrete.toys import exact_law, toy_problem
>>> prob = toy_problem(length=3, n_tokens=2, rng=0)
>>> law = exact_law(prob, "fhs")
>>> bool(np.allclose(law, prob.joint))       # first-hitting is exact
True
"""

from sciddm.discrete._toys import (
    ExactTilt,
    RandomDenoiser,
    ToyProblem,
    best_of_n_law,
    exact_law,
    exact_tilt,
    float32_chain_token_probability,
    float32_win_probability,
    svdd_argmax_law,
    svdd_law,
    toy_problem,
    toy_reward,
)

__all__ = [
    "ExactTilt",
    "RandomDenoiser",
    "ToyProblem",
    "best_of_n_law",
    "exact_law",
    "exact_tilt",
    "float32_chain_token_probability",
    "float32_win_probability",
    "svdd_argmax_law",
    "svdd_law",
    "toy_problem",
    "toy_reward",
]

# the exact law of a learned sampler (LSD / LSD+, issue 21)
from sciddm.discrete._toys import lsd_law

__all__ += ["lsd_law"]
