"""Mode interpolation and the trajectory-variance hallucination detector (Aithal et al.).

Datasets and exact classifiers
    :func:`mixture_1d`, :func:`grid_2d` (a :class:`ModeMixture` with ``sample`` and
    ``classify``), :func:`outside_mass`, :func:`simple_shapes`,
    :func:`classify_shapes`.
Detector
    :func:`trajectory_variance`, :class:`TrajectoryRecorder` (a sampler callback),
    :class:`TrajectoryVarianceDetector` (calibrate a threshold, predict, evaluate
    removal / retention / ROC).

References
----------
.. [1] S. K. Aithal, P. Maini, Z. C. Lipton, J. Z. Kolter, "Understanding
   Hallucinations in Diffusion Models through Mode Interpolation", NeurIPS 2024.
"""

from sciddm.hallucination._data import (
    HALLUCINATION,
    IN_SUPPORT,
    INTERMEDIATE,
    ModeMixture,
    grid_2d,
    mixture_1d,
    outside_mass,
)
from sciddm.hallucination._detector import (
    DetectionReport,
    Trajectory,
    TrajectoryRecorder,
    TrajectoryVarianceDetector,
    trajectory_variance,
)
from sciddm.hallucination._shapes import (
    SHAPES,
    ShapeLabels,
    classify_shapes,
    render_shape,
    simple_shapes,
)

__all__ = [
    "HALLUCINATION",
    "INTERMEDIATE",
    "IN_SUPPORT",
    "SHAPES",
    "DetectionReport",
    "ModeMixture",
    "ShapeLabels",
    "Trajectory",
    "TrajectoryRecorder",
    "TrajectoryVarianceDetector",
    "classify_shapes",
    "grid_2d",
    "mixture_1d",
    "outside_mass",
    "render_shape",
    "simple_shapes",
    "trajectory_variance",
]
