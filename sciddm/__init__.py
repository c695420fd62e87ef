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

Subpackages are imported on first attribute access, and each family's names on
first use (``sciddm._core.lazy``), so ``import sciddm`` and ``import sciddm.<family>``
stay cheap::

    >>> import sciddm
    >>> sciddm.__version__
    '0.1.0'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

__all__ = [
    "SUBPACKAGES",
    "__version__",
    "leastsquares",
    "sensitivity",
    "diffusion",
    "hallucination",
    "equitable",
    "ambient",
    "discrete",
    "chem",
    "dna",
]

if TYPE_CHECKING:
    from . import (
        ambient,
        chem,
        diffusion,
        discrete,
        dna,
        equitable,
        hallucination,
        leastsquares,
        sensitivity,
    )
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, {}, __all__, submodules=SUBPACKAGES)
