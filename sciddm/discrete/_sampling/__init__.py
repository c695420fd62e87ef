"""Sampling from masked diffusion models: categorical draws, single steps, chains, diagnostics."""

from sciddm.discrete._sampling._categorical import (
    RowGenerator,
    categorical,
    draw_seeds,
    gumbel_argmax32,
    gumbel_norm32,
    inverse_cdf,
)
from sciddm.discrete._sampling._diagnostics import (
    SampleDiagnostics,
    sample_diagnostics,
    sequence_entropy,
    unigram_distribution,
)
from sciddm.discrete._sampling._distributed import (
    merge_rank_results,
    sample_distributed,
    split_seeds,
)
from sciddm.discrete._sampling._sample import METHODS, SampleResult, sample, seeds_iv
from sciddm.discrete._sampling._steps import (
    Transition,
    denoiser_probs,
    predict_x0,
    sample_transition,
    transition_probs,
)

__all__ = [
    "METHODS",
    "RowGenerator",
    "SampleDiagnostics",
    "SampleResult",
    "Transition",
    "categorical",
    "denoiser_probs",
    "draw_seeds",
    "gumbel_argmax32",
    "gumbel_norm32",
    "inverse_cdf",
    "merge_rank_results",
    "predict_x0",
    "sample",
    "sample_diagnostics",
    "sample_distributed",
    "sample_transition",
    "seeds_iv",
    "sequence_entropy",
    "split_seeds",
    "transition_probs",
    "unigram_distribution",
]

# learned few-step samplers (LSD / LSD+)
from sciddm.discrete._sampling._distill import DistillResult, distill_sampler
from sciddm.discrete._sampling._lsd import LSDSampler

__all__ += ["DistillResult", "LSDSampler", "distill_sampler"]
