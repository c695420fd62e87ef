"""Projection-DPP chain rule: acceptance probability (m-k)/m, m H_m proposals (theory/15)."""

import numpy as np

from sciddm.leastsquares import Hermite, TensorBasis, sample_projection_dpp, total_degree
from sciddm.reproduce import mean_ci

from .test_leastsquares_volume import gauss_basis


def test_acceptance_probability_is_exact_on_discrete_measure():
    basis = gauss_basis(nodes=10, degree=4)  # m = 5
    F, q, m = basis.node_features, basis.measure.weights, basis.m
    K = (F**2).sum(1)
    rho = q * K / m
    g = np.random.default_rng(0)
    for k in range(m):
        S = g.choice(len(q), size=k, replace=False)
        Qm = np.linalg.qr(F[S].T)[0] if k else np.zeros((m, 0))
        r2 = K - ((F @ Qm) ** 2).sum(1)
        # P(accept) = sum_x rho(x) r2(x)/K(x) = (m - k)/m exactly
        assert abs(rho @ (r2 / K) - (m - k) / m) < 1e-12


def test_expected_proposals_harmonic_continuous():
    basis = TensorBasis(Hermite(), total_degree(2, 2))  # m = 6, Gaussian measure
    m = basis.m
    g = np.random.default_rng(11)
    props = [sample_projection_dpp(basis, rng=g).n_proposals for _ in range(250)]
    hm = m * sum(1 / j for j in range(1, m + 1))
    mean, lo, hi = mean_ci(props, level=0.999)
    assert lo <= hm <= hi, (mean, hm)
