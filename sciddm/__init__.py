"""sciddm: scientific sampling and its theory.

Subpackages
-----------
leastsquares
    Optimal weighted least squares: Christoffel sampling, projection DPPs,
    volume and generalized volume sampling.
sensitivity
    l_p sensitivities, Lewis weights, leverage scores, l_p row sampling and
    regression.
diffusion
    Continuous diffusion core: schedules, samplers, closed-form Gaussian,
    mixture and empirical denoisers, analytical teleportation, EDM networks.
hallucination
    Mode interpolation and the trajectory-variance detector.
equitable
    Learning curves, budget allocation and adaptive data collection across
    groups.
ambient
    Learning diffusion models and distributions from noisy data.
discrete
    Masked discrete diffusion (MDLM): data, training, exact samplers and
    reward-guided decoding.
chem, dna
    Rewards, oracles and metrics for molecules (extra ``chem``) and DNA
    sequences (extra ``dna``).

Subpackages are imported on first attribute access, so ``import sciddm``
stays cheap::

    >>> import sciddm
    >>> sciddm.__version__
    '0.1.0'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

SUBPACKAGES = (
    "leastsquares",
    "sensitivity",
    "diffusion",
    "hallucination",
    "equitable",
    "ambient",
    "discrete",
    "chem",
    "dna",
)

__all__ = ["SUBPACKAGES", "__version__", *SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        module = importlib.import_module(f"sciddm.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sciddm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
