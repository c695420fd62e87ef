"""Exact enumeration helpers for the leastsquares theory checks (8 Gauss-Legendre nodes, m = 3)."""

import itertools
import math

import numpy as np
from scipy import special

from sciddm.leastsquares import DiscreteBasis, DiscreteMeasure, Legendre


def gauss_basis(nodes: int = 8, degree: int = 2) -> DiscreteBasis:
    t, w = special.roots_legendre(nodes)
    mu = DiscreteMeasure(t, w / 2)
    fam = Legendre()
    return DiscreteBasis(lambda x: fam(x[:, 0], degree), mu)


def target(basis: DiscreteBasis) -> np.ndarray:
    t = basis.measure.nodes[:, 0]
    return np.exp(t) * np.sin(3 * t)


def volume_moments(basis: DiscreteBasis, f: np.ndarray, n: int, rho: np.ndarray):
    """Enumerate all n-tuples of nodes under the (generalized) volume-rescaled law
    det(Psi^T Psi) (n-m)!/n! prod rho, Psi_ij = sqrt(q_i/rho_i) phi_j(x_i).

    Returns total probability, E det(Psi^T Psi) under rho^n, E[a_hat], E||f - f_hat||^2,
    E tr((Psi^T Psi)^{-1})."""
    F, q = basis.node_features, basis.measure.weights
    m = basis.m
    wt = q / rho
    c = math.factorial(n - m) / math.factorial(n)
    tot = e_det = e_err = e_tr = 0.0
    e_a = np.zeros(m)
    for T in itertools.product(range(len(q)), repeat=n):
        idx = list(T)
        Psi = np.sqrt(wt[idx])[:, None] * F[idx]
        A = Psi.T @ Psi
        det = float(np.linalg.det(A))
        p = float(np.prod(rho[idx]))
        e_det += p * det
        pv = p * det * c
        tot += pv
        if pv > 0 and det > 1e-13:
            a = np.linalg.solve(A, Psi.T @ (np.sqrt(wt[idx]) * f[idx]))
            e_a += pv * a
            e_err += pv * float(q @ (f - F @ a) ** 2)
            e_tr += pv * float(np.trace(np.linalg.inv(A)))
    return tot, e_det, e_a, e_err, e_tr
