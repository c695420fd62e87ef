"""E tr((Psi^T Psi)^{-1}) = m/(n-m+1) for volume sampling (theory/12)."""

import numpy as np

from sciddm.leastsquares import Legendre, TensorBasis, sample_volume, total_degree
from sciddm.reproduce import mean_ci

from .test_leastsquares_volume import gauss_basis, target, volume_moments


def test_trace_identity_monte_carlo_atomless():
    basis = TensorBasis(Legendre(), total_degree(1, 2))  # m = 3, uniform measure: atomless rho
    m, n = basis.m, 8
    g = np.random.default_rng(2024)
    tr = []
    for _ in range(1500):
        d = sample_volume(basis, n, rng=g)
        Psi = np.sqrt(d.weights)[:, None] * d.features
        tr.append(np.trace(np.linalg.inv(Psi.T @ Psi)))
    mean, lo, hi = mean_ci(tr, level=0.999)
    assert lo <= m / (n - m + 1) <= hi, (mean, lo, hi)


def test_trace_identity_fails_with_atoms():
    # on a discrete measure repeated points make Psi^T Psi singular with positive probability
    # and the identity does not hold: the exact value is strictly below m/(n-m+1)
    basis = gauss_basis()
    f = target(basis)
    K = (basis.node_features**2).sum(1)
    rho = basis.measure.weights * K / basis.m
    _, _, _, _, e_tr = volume_moments(basis, f, 4, rho)
    assert e_tr < 0.99 * basis.m / (4 - basis.m + 1)
