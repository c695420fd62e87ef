"""Equitable data collection: learning curves, budget allocation across groups,
adaptive collection and a polygenic-risk-score simulation (Cai et al., FAccT 2022).

Learning curves
    :func:`fit_learning_curve`, :func:`fit_learning_curves`, :func:`learning_curve_by_group`, :func:`power_law`.
Allocation
    :func:`allocate` (utilitarian, max-min, disparity cap), :func:`greedy_allocate`,
    baselines :func:`equal_allocation`, :func:`proportional_allocation`,
    :func:`oracle_allocation`; :func:`evaluate_objective`.
Adaptive collection
    :class:`AdaptiveCollector`, :class:`PoolSource`, :func:`group_errors`.
Simulation
    :func:`simulate_prs`, :func:`prs_estimator`, :func:`evaluate_prs`.
"""

from typing import TYPE_CHECKING

__all__ = [
    "AdaptiveCollector",
    "Allocation",
    "CollectionResult",
    "GroupLearningCurves",
    "LearningCurve",
    "PRSData",
    "PRSEvaluation",
    "PoolSource",
    "RoundLog",
    "allocate",
    "equal_allocation",
    "evaluate_objective",
    "evaluate_prs",
    "fit_learning_curve",
    "fit_learning_curves",
    "greedy_allocate",
    "group_errors",
    "learning_curve_by_group",
    "oracle_allocation",
    "power_law",
    "proportional_allocation",
    "prs_estimator",
    "simulate_prs",
]

if TYPE_CHECKING:
    from sciddm.equitable._adaptive import (
        AdaptiveCollector,
        CollectionResult,
        PoolSource,
        RoundLog,
        group_errors,
    )
    from sciddm.equitable._allocate import (
        Allocation,
        allocate,
        evaluate_objective,
    )
    from sciddm.equitable._baselines import (
        equal_allocation,
        oracle_allocation,
        proportional_allocation,
    )
    from sciddm.equitable._curves import (
        LearningCurve,
        fit_learning_curve,
        fit_learning_curves,
        power_law,
    )
    from sciddm.equitable._empirical import GroupLearningCurves, learning_curve_by_group
    from sciddm.equitable._greedy import greedy_allocate
    from sciddm.equitable._prs import (
        PRSData,
        PRSEvaluation,
        evaluate_prs,
        prs_estimator,
        simulate_prs,
    )
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._adaptive": (
                "AdaptiveCollector",
                "CollectionResult",
                "PoolSource",
                "RoundLog",
                "group_errors",
            ),
            "._allocate": ("Allocation", "allocate", "evaluate_objective"),
            "._baselines": ("equal_allocation", "oracle_allocation", "proportional_allocation"),
            "._curves": ("LearningCurve", "fit_learning_curve", "fit_learning_curves", "power_law"),
            "._empirical": ("GroupLearningCurves", "learning_curve_by_group"),
            "._greedy": ("greedy_allocate",),
            "._prs": ("PRSData", "PRSEvaluation", "evaluate_prs", "prs_estimator", "simulate_prs"),
        },
        __all__,
    )
