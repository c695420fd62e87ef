"""Check of theory/32_heun_convergence.md."""

import math

import numpy as np
import torch

from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_heun


def _setup():
    rng = np.random.default_rng(0)
    d = 8
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = np.geomspace(0.01, 4.0, d)  # lambda_min = 0.01
    g = GaussianDenoiser(0.5 * rng.normal(size=d), (Q * lam) @ Q.T)
    x = 80 * torch.randn(64, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return g, x


def heun_errors(ns=(18, 40, 100, 1000)):
    g, x = _setup()
    exact = g.pf_ode(x, 80.0, 0.0)
    return {n: float((sample_heun(g, x, karras_sigmas(n)).samples - exact).abs().max()) for n in ns}


def test_heun_error_rate():
    err = heun_errors()
    # spec reference: 1.6e-1, 2.8e-2, 4.2e-3, 3.7e-5 (within a factor 2)
    for n, ref in ((18, 1.6e-1), (40, 2.8e-2), (100, 4.2e-3), (1000, 3.7e-5)):
        assert ref / 2 < err[n] < 2 * ref, (n, err[n])
    assert err[1000] < 1e-4
    # N^-2: observed order between N = 100 and N = 1000
    order = math.log(err[100] / err[1000]) / math.log(10)
    assert 1.8 < order < 2.2, order
