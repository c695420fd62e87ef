"""Checks of theory/33_empirical_vs_gaussian.md and theory/34_empirical_memorisation.md."""

import math

import numpy as np
import torch

from sciddm.diffusion import EmpiricalDenoiser, fit_gaussian, karras_sigmas, sample_heun


def relative_gap(sigmas, *, n=50, d=4, m=2000, seed=1):
    """Mean of ||D_emp - D_G|| / ||D_G - mu|| at x = x_i + sigma z, x_i uniform on the data."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    E, G = EmpiricalDenoiser(X), fit_gaussian(X, ddof=0)
    out = []
    for s in sigmas:
        x = X[rng.integers(n, size=m)] + s * rng.normal(size=(m, d))
        de, dg = E(x, s), G(x, s)
        out.append(
            float(np.mean(np.linalg.norm(de - dg, axis=1) / np.linalg.norm(dg - G.mean_, axis=1)))
        )
    return out


def test_empirical_gaussian_agreement_rate():
    r10, r30, r100 = relative_gap([10.0, 30.0, 100.0])
    # spec reference 3.8e-2, 1.35e-2, 3.9e-3 (within a factor 1.5, different draws)
    for got, ref in ((r10, 3.8e-2), (r30, 1.35e-2), (r100, 3.9e-3)):
        assert ref / 1.5 < got < ref * 1.5, (got, ref)
    slope = math.log(r100 / r10) / math.log(10.0)
    assert -1.15 < slope < -0.85, slope


def test_empirical_pf_ode_memorises():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 4))
    D = EmpiricalDenoiser(X)
    x = 80 * torch.randn(64, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    y = sample_heun(D, x, karras_sigmas(40)).samples.numpy()
    dist = np.sqrt(((y[:, None] - X[None]) ** 2).sum(-1))
    nearest = dist.min(1)
    assert nearest.max() < 1e-8  # every sample is a training point
    assert len(set(dist.argmin(1).tolist())) >= 15  # and many different ones
