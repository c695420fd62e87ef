"""l_p sensitivities, Lewis weights, leverage scores, l_p row sampling and regression.

Scores of the rows of a tall matrix ``A`` (dense, numpy memmap or scipy.sparse,
streamed in row blocks), sampling with the matching rescaling, and the l_p
regression and subspace embeddings they enable (Woodruff & Yasuda, ICML 2023;
Cohen & Peng, STOC 2015; Drineas et al., JMLR 2012).
"""

from typing import TYPE_CHECKING

__all__ = [
    "DistortionResult",
    "LpRegressionResult",
    "RowSample",
    "SampledLpRegressor",
    "diabetes_design",
    "embedding_distortion",
    "gaussian_matrix",
    "heavy_tailed_matrix",
    "heavy_tailed_regression",
    "hypercube_matrix",
    "leverage_scores",
    "lewis_weights",
    "lp_regression",
    "lp_sensitivities",
    "root_leverage_scores",
    "row_scores",
    "sample_rows",
    "stacked_identities",
    "total_sensitivity",
]

if TYPE_CHECKING:
    from ._estimator import SampledLpRegressor
    from ._instances import (
        diabetes_design,
        gaussian_matrix,
        heavy_tailed_matrix,
        heavy_tailed_regression,
        hypercube_matrix,
        stacked_identities,
    )
    from ._leverage import leverage_scores, root_leverage_scores
    from ._lewis import lewis_weights
    from ._regression import (
        DistortionResult,
        LpRegressionResult,
        embedding_distortion,
        lp_regression,
    )
    from ._sampling import RowSample, row_scores, sample_rows
    from ._sensitivity import lp_sensitivities, total_sensitivity
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._estimator": ("SampledLpRegressor",),
            "._instances": (
                "diabetes_design",
                "gaussian_matrix",
                "heavy_tailed_matrix",
                "heavy_tailed_regression",
                "hypercube_matrix",
                "stacked_identities",
            ),
            "._leverage": ("leverage_scores", "root_leverage_scores"),
            "._lewis": ("lewis_weights",),
            "._regression": (
                "DistortionResult",
                "LpRegressionResult",
                "embedding_distortion",
                "lp_regression",
            ),
            "._sampling": ("RowSample", "row_scores", "sample_rows"),
            "._sensitivity": ("lp_sensitivities", "total_sensitivity"),
        },
        __all__,
    )
