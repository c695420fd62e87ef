r"""Optimal weighted least squares: i.i.d. Christoffel sampling, projection DPPs, volume and generalized volume sampling (Nouy & Michel).

Approximate a function :math:`f` by
:math:`\hat f \in \operatorname{span}(\varphi_1, \dots, \varphi_m)` from
:math:`n` evaluations, where :math:`\varphi` is orthonormal in :math:`L^2(\mu)`,
with a random design that comes with a guarantee:

* measures: :class:`UniformMeasure`, :class:`BetaMeasure`, :class:`GaussianMeasure`,
  :class:`GammaMeasure`, :class:`ProductMeasure`, :func:`uniform_box`, :class:`DiscreteMeasure`;
* bases: one-dimensional families (:class:`Legendre`, :class:`Chebyshev`, :class:`Jacobi`,
  :class:`Hermite`, :class:`Laguerre`, :class:`Trigonometric`), :class:`TensorBasis` over
  a downward-closed multi-index set (:func:`total_degree`, :func:`hyperbolic_cross`,
  :func:`full_tensor`), and :func:`orthonormalize` for any feature map on a discrete measure;
* exact samplers: :func:`sample_optimal` (i.i.d. from :math:`\rho = (K_m/m)\,\mu`),
  :func:`sample_projection_dpp`, :func:`sample_volume`, :func:`sample_generalized_volume`,
  :func:`sample_repeated_dpp`, :func:`sample_conditioned`, :func:`sample_best_of`;
* estimators: :func:`weighted_least_squares` and the scikit-learn regressor
  :class:`WeightedLeastSquares`; plots :func:`plot_design`, :func:`plot_error_curves`.

Examples
--------
>>> import numpy as np
>>> from sciddm.leastsquares import Legendre, TensorBasis, total_degree, weighted_least_squares
>>> basis = TensorBasis(Legendre(), total_degree(2, 6))            # m = 28, uniform on [-1, 1]^2
>>> f = lambda x: 1 / (1 + 5 * (x**2).sum(axis=1))
>>> res = weighted_least_squares(f, basis, 2 * basis.m, method="repeated_dpp", rng=0,
...                              error_quadrature=30)
>>> res.error_ratio < 2.5        # ||f - f_hat|| / ||f - P_m f||
True
"""

from typing import TYPE_CHECKING

__all__ = [
    "plot_design",
    "plot_error_curves",
    "LeastSquaresResult",
    "WeightedLeastSquares",
    "l2_errors",
    "weighted_least_squares",
    "Design",
    "gram_matrix",
    "sample_best_of",
    "sample_conditioned",
    "sample_design",
    "sample_generalized_volume",
    "sample_optimal",
    "sample_projection_dpp",
    "sample_repeated_dpp",
    "sample_volume",
    "Basis",
    "BetaMeasure",
    "Chebyshev",
    "DiscreteBasis",
    "DiscreteMeasure",
    "Family",
    "GammaMeasure",
    "GaussianMeasure",
    "Hermite",
    "Jacobi",
    "Laguerre",
    "Legendre",
    "Measure",
    "ProductMeasure",
    "ProposalBudgetError",
    "TensorBasis",
    "Trigonometric",
    "UniformMeasure",
    "check_downward_closed",
    "full_tensor",
    "hyperbolic_cross",
    "is_downward_closed",
    "orthonormalize",
    "total_degree",
    "uniform_box",
]

if TYPE_CHECKING:
    from ._bases import (
        Basis,
        DiscreteBasis,
        TensorBasis,
        check_downward_closed,
        full_tensor,
        hyperbolic_cross,
        is_downward_closed,
        orthonormalize,
        total_degree,
    )
    from ._estimator import LeastSquaresResult, l2_errors, weighted_least_squares
    from ._measures import (
        BetaMeasure,
        DiscreteMeasure,
        GammaMeasure,
        GaussianMeasure,
        Measure,
        ProductMeasure,
        UniformMeasure,
        uniform_box,
    )
    from ._plotting import plot_design, plot_error_curves
    from ._polynomials import (
        Chebyshev,
        Family,
        Hermite,
        Jacobi,
        Laguerre,
        Legendre,
        ProposalBudgetError,
        Trigonometric,
    )
    from ._regressor import WeightedLeastSquares
    from ._samplers import (
        Design,
        gram_matrix,
        sample_best_of,
        sample_conditioned,
        sample_design,
        sample_generalized_volume,
        sample_optimal,
        sample_projection_dpp,
        sample_repeated_dpp,
        sample_volume,
    )
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._bases": (
                "Basis",
                "DiscreteBasis",
                "TensorBasis",
                "check_downward_closed",
                "full_tensor",
                "hyperbolic_cross",
                "is_downward_closed",
                "orthonormalize",
                "total_degree",
            ),
            "._estimator": ("LeastSquaresResult", "l2_errors", "weighted_least_squares"),
            "._measures": (
                "BetaMeasure",
                "DiscreteMeasure",
                "GammaMeasure",
                "GaussianMeasure",
                "Measure",
                "ProductMeasure",
                "UniformMeasure",
                "uniform_box",
            ),
            "._plotting": ("plot_design", "plot_error_curves"),
            "._polynomials": (
                "Chebyshev",
                "Family",
                "Hermite",
                "Jacobi",
                "Laguerre",
                "Legendre",
                "ProposalBudgetError",
                "Trigonometric",
            ),
            "._regressor": ("WeightedLeastSquares",),
            "._samplers": (
                "Design",
                "gram_matrix",
                "sample_best_of",
                "sample_conditioned",
                "sample_design",
                "sample_generalized_volume",
                "sample_optimal",
                "sample_projection_dpp",
                "sample_repeated_dpp",
                "sample_volume",
            ),
        },
        __all__,
    )
