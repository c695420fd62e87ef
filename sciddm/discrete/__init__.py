"""Masked discrete diffusion (MDLM) for molecules and DNA: data, training, exact fast samplers and reward-guided decoding."""

from sciddm.discrete._categorical import (
    RowGenerator,
    categorical,
    sequence_entropy,
    unigram_distribution,
)
from sciddm.discrete._protocol import (
    Denoiser,
    FunctionModel,
    LogLinearSchedule,
    ModelInfo,
    model_info,
)
from sciddm.discrete._sampling import (
    METHODS,
    SampleResult,
    Transition,
    denoiser_probs,
    merge_rank_results,
    predict_x0,
    sample,
    sample_distributed,
    sample_transition,
    split_seeds,
    transition_probs,
)

__all__: list[str] = [
    # samplers (issue 9)
    "METHODS",
    "Denoiser",
    "FunctionModel",
    "LogLinearSchedule",
    "ModelInfo",
    "RowGenerator",
    "SampleResult",
    "Transition",
    "categorical",
    "denoiser_probs",
    "merge_rank_results",
    "model_info",
    "predict_x0",
    "sample",
    "sample_distributed",
    "sample_transition",
    "sequence_entropy",
    "split_seeds",
    "transition_probs",
    "unigram_distribution",
]
