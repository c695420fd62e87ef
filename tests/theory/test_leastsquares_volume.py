"""Exact-enumeration checks of the volume-sampling identities (theory/10, theory/11)."""

import itertools
import math

import numpy as np
from scipy import special

from sciddm.leastsquares import DiscreteBasis, DiscreteMeasure, Legendre, sample_projection_dpp

# ---- exact-enumeration helpers (8 Gauss-Legendre nodes, m = 3), shared by the other notes' checks


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


def _best(basis, f):
    F, q = basis.node_features, basis.measure.weights
    proj = F.T @ (q * f)
    return proj, float(q @ (f - F @ proj) ** 2)


def test_m_plus_one_identity_exact_enumeration():
    basis = gauss_basis()
    F, q, m = basis.node_features, basis.measure.weights, basis.m
    f = target(basis)
    proj, best2 = _best(basis, f)
    total = e_err = 0.0
    for S in itertools.combinations(range(8), m):
        S = list(S)
        p = np.linalg.det(F[S]) ** 2 * np.prod(q[S])  # projection DPP, unordered subsets
        a = np.linalg.solve(F[S], f[S])  # n = m: interpolation (the weights cancel)
        total += p
        e_err += p * q @ (f - F @ a) ** 2
    assert abs(total - 1) < 1e-12
    assert abs(e_err / best2 - (m + 1)) < 1e-10


def test_volume_law_normalisation_exact_enumeration():
    basis = gauss_basis()
    f = target(basis)
    K = (basis.node_features**2).sum(1)
    rho = basis.measure.weights * K / basis.m
    for n in (3, 4):
        tot, e_det, *_ = volume_moments(basis, f, n, rho)
        assert abs(tot - 1) < 1e-12
        assert abs(e_det - math.factorial(n) / math.factorial(n - basis.m)) < 1e-9


def test_unbiased_exact_enumeration():
    basis = gauss_basis()
    f = target(basis)
    proj, _ = _best(basis, f)
    q = basis.measure.weights
    K = (basis.node_features**2).sum(1)
    for rho in (q * K / basis.m, q):  # optimal density, and the base measure itself
        for n in (3, 4):
            tot, _, e_a, _, _ = volume_moments(basis, f, n, rho)
            assert np.allclose(e_a, proj, atol=1e-12)


def test_sampler_matches_enumerated_unbiasedness():
    # the library's discrete DPP sampler reproduces E[a_hat] = P_m f within Monte Carlo error
    basis = gauss_basis()
    f = target(basis)
    proj, _ = _best(basis, f)
    g = np.random.default_rng(0)
    coefs = []
    for _ in range(2000):
        d = sample_projection_dpp(basis, rng=g)
        coefs.append(np.linalg.solve(d.features, f[d.node_indices]))
    coefs = np.array(coefs)
    se = coefs.std(0, ddof=1) / np.sqrt(len(coefs))
    assert np.all(np.abs(coefs.mean(0) - proj) <= 4.5 * se)  # false alarm < 2e-5 (3 coords)
