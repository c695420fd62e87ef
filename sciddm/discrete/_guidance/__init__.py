"""Reward-guided decoding without gradients: best-of-N, SVDD (PM and MC), twisted SMC, value models."""

from sciddm.discrete._guidance._best_of_n import best_of_n
from sciddm.discrete._guidance._common import GuidanceResult
from sciddm.discrete._guidance._smc import smc
from sciddm.discrete._guidance._svdd import svdd
from sciddm.discrete._guidance._value import (
    ValueFit,
    ValueModel,
    load_value_model,
    save_value_model,
    train_value_model,
)

__all__ = [
    "GuidanceResult",
    "ValueFit",
    "ValueModel",
    "best_of_n",
    "load_value_model",
    "save_value_model",
    "smc",
    "svdd",
    "train_value_model",
]
