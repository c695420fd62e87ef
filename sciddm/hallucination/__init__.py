"""Mode interpolation and the trajectory-variance hallucination detector (Aithal et al.).

The methods of Aithal et al. [1]_, with exact references to check them against.

Datasets and exact classifiers
    :func:`mixture_1d`, :func:`grid_2d` (a :class:`ModeMixture` with ``sample`` and
    ``classify``), :func:`outside_mass`, :func:`simple_shapes`,
    :func:`classify_shapes`.
Detector
    :func:`trajectory_variance`, :class:`TrajectoryRecorder` (a sampler callback),
    :class:`TrajectoryVarianceDetector` (calibrate a threshold, predict, evaluate
    removal / retention / ROC).
Models (built on :mod:`sciddm.diffusion`)
    :class:`Recipe` (the paper's DDPM setup via ``Recipe.paper()``, or EDM),
    :func:`train_sampler`, :func:`generate` (samples and denoised-estimate trajectories).
Analysis
    :func:`exact_denoiser` (the exact-score baseline), :func:`denoiser_along_segment`,
    :func:`plot_segment_profile`, :func:`recursive_training`, :func:`mode_coverage`.

References
----------
.. [1] S. K. Aithal, P. Maini, Z. C. Lipton, J. Z. Kolter, "Understanding
   Hallucinations in Diffusion Models through Mode Interpolation", NeurIPS 2024.
"""

from sciddm.hallucination._analysis import (
    SegmentProfile,
    denoiser_along_segment,
    exact_denoiser,
    exact_score_sample,
    plot_segment_profile,
)
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
from sciddm.hallucination._pipeline import (
    GenerationResult,
    Recipe,
    TrainedSampler,
    generate,
    train_sampler,
)
from sciddm.hallucination._recursive import RecursiveResult, mode_coverage, recursive_training
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
    "GenerationResult",
    "ModeMixture",
    "Recipe",
    "RecursiveResult",
    "SegmentProfile",
    "ShapeLabels",
    "TrainedSampler",
    "Trajectory",
    "TrajectoryRecorder",
    "TrajectoryVarianceDetector",
    "classify_shapes",
    "denoiser_along_segment",
    "exact_denoiser",
    "exact_score_sample",
    "generate",
    "grid_2d",
    "mixture_1d",
    "mode_coverage",
    "outside_mass",
    "plot_segment_profile",
    "recursive_training",
    "render_shape",
    "simple_shapes",
    "train_sampler",
    "trajectory_variance",
]
