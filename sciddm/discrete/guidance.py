"""Reward-guided decoding without gradients: best-of-N, SVDD (PM and MC) and twisted SMC.

See :mod:`sciddm.discrete._guidance` for the maths; everything here is also
exported from :mod:`sciddm.discrete`.
"""

from sciddm.discrete._guidance import GuidanceResult, best_of_n, child_seeds, svdd
from sciddm.discrete._guidance_smc import smc
from sciddm.discrete._guidance_value import (
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
    "child_seeds",
    "load_value_model",
    "save_value_model",
    "smc",
    "svdd",
    "train_value_model",
]
