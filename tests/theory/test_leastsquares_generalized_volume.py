"""Generalized volume sampling: mixture representation and quasi-optimality (theory/14)."""

import itertools
import math

import numpy as np

from sciddm.leastsquares import (
    Legendre,
    TensorBasis,
    l2_errors,
    sample_generalized_volume,
    total_degree,
)
from sciddm.reproduce import mean_ci

from .test_leastsquares_volume import gauss_basis


def test_mixture_representation_exact():
    # density det(Psi^T Psi)(n-m)!/n! rho'^n  ==  (1/C(n,m)) sum_S DPP(x_S) rho'^{n-m}(x_{S^c})
    basis = gauss_basis()
    F, q, m = basis.node_features, basis.measure.weights, basis.m
    rho = np.linspace(1, 2, len(q))
    rho /= rho.sum()  # an arbitrary base density rho' << mu
    n = 4
    for T in itertools.product(range(len(q)), repeat=n):
        T = list(T)
        Psi = np.sqrt(q[T] / rho[T])[:, None] * F[T]
        lhs = (
            np.linalg.det(Psi.T @ Psi) * math.factorial(n - m) / math.factorial(n) * np.prod(rho[T])
        )
        rhs = 0.0
        for S in itertools.combinations(range(n), m):
            rest = [T[i] for i in range(n) if i not in S]
            sub = [T[i] for i in S]
            dpp = np.linalg.det(F[sub]) ** 2 * np.prod(q[sub]) / math.factorial(m)
            rhs += dpp * np.prod(rho[rest])
        rhs /= math.comb(n, m)
        assert abs(lhs - rhs) < 1e-13


def test_quasi_optimality_monte_carlo():
    basis = TensorBasis(Legendre(), total_degree(1, 5))  # m = 6
    m = basis.m
    n = math.ceil(2 * m * math.log(m))  # n = O(m log m): 22

    def f(x):
        return 1 / (1 + 5 * x[:, 0] ** 2)

    g = np.random.default_rng(5)
    ratios = []
    for base in ("optimal", "measure"):
        r2 = []
        for _ in range(150):
            d = sample_generalized_volume(basis, n, base=base, rng=g)
            sw = np.sqrt(d.weights)
            a = np.linalg.lstsq(sw[:, None] * d.features, sw * f(d.points), rcond=None)[0]
            err, best = l2_errors(f, basis, a, 60)
            r2.append((err / best) ** 2)
        mean, lo, hi = mean_ci(r2, level=0.999)
        ratios.append(hi)
    # E||f - f_hat||^2 <= C ||f - P_m f||^2 with a moderate C; measured upper 99.9 % bounds
    assert max(ratios) < 3.0, ratios
