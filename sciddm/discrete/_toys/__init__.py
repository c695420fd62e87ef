"""The implementation of :mod:`sciddm.discrete.toys` (exact toy problems and references)."""

from sciddm.discrete._toys._float32 import (
    float32_chain_token_probability,
    float32_win_probability,
)
from sciddm.discrete._toys._guidance import (
    ExactTilt,
    best_of_n_law,
    exact_tilt,
    svdd_argmax_law,
    svdd_law,
)
from sciddm.discrete._toys._problem import ToyProblem, exact_law, toy_problem, toy_reward
from sciddm.discrete._toys._random import RandomDenoiser

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
from sciddm.discrete._toys._lsd import lsd_law

__all__ += ["lsd_law"]
