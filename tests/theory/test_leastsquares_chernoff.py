"""Matrix-Chernoff stability of i.i.d. optimal sampling (theory/13)."""

import math

import numpy as np
from scipy import stats

from sciddm.leastsquares import Legendre, TensorBasis, sample_optimal, total_degree

C = (1.5 * math.log(1.5) - 0.5) / 2  # Cohen & Migliorati's constant for delta = 1/2


def test_iid_stability_at_chernoff_sample_size():
    basis = TensorBasis(Legendre(), total_degree(2, 3))  # m = 10
    m, eps = basis.m, 0.2
    n = math.ceil(m / C * math.log(2 * m / eps))  # P(||G - I|| > 1/2) <= eps guaranteed
    g = np.random.default_rng(7)
    reps = 200
    fails = sum(sample_optimal(basis, n, rng=g).gram_deviation > 0.5 for _ in range(reps))
    # one-sided binomial test of H0: p <= eps at level 1e-3
    assert stats.binomtest(fails, reps, eps, alternative="greater").pvalue > 1e-3


def test_uniform_sampling_needs_more_points_than_optimal():
    # at n = 3 m the optimal design is already usually well conditioned while plain
    # (uniform, unweighted) sampling of a degree-10 Legendre space is not
    from sciddm.leastsquares import sample_design

    basis = TensorBasis(Legendre(), total_degree(1, 10))
    g = np.random.default_rng(1)
    opt = np.mean(
        [sample_design(basis, 33, method="iid", rng=g).gram_deviation for _ in range(100)]
    )
    uni = np.mean(
        [sample_design(basis, 33, method="uniform", rng=g).gram_deviation for _ in range(100)]
    )
    assert opt < uni
