"""The ambient loss inside sciddm.diffusion's training loop, and ambient sampling."""

import numpy as np
import pytest
import torch

from sciddm.ambient import AmbientLoss, ambient_sample, ambient_sigmas, corrupt
from sciddm.diffusion import GaussianDenoiser, MLPDenoiser, train_denoiser


def test_ambient_training_learns_clean_denoiser_from_noisy_data():
    # x0 ~ N(0.3, 0.5), all samples noisy with sigma_n = 1. At sigma_t = 1.5 the clean
    # posterior mean has slope 0.5/2.75 = 0.18; the noisy law's has 1.5/3.75 = 0.40.
    rng = np.random.default_rng(0)
    x = 0.3 + np.sqrt(0.5) * rng.standard_normal((4000, 1))
    ds = corrupt(x, 1.0, rng=1)
    net = MLPDenoiser(1, hidden=32, depth=1, rng=0)
    res = train_denoiser(
        net,
        ds.as_tensors(),
        steps=400,
        batch_size=256,
        lr=3e-3,
        ema=0.99,
        loss=AmbientLoss(p_mean=0.4, p_std=0.5),
        rng=0,
    )
    grid = torch.linspace(-2.0, 2.5, 50)[:, None]
    sig = torch.full((50,), 1.5)
    with torch.no_grad():
        d = res.model(grid, sig).numpy().ravel()
    clean = GaussianDenoiser([0.3], [[0.5]])(grid.double(), sig.double()).numpy().ravel()
    noisy = GaussianDenoiser([0.3], [[1.5]])(grid.double(), sig.double()).numpy().ravel()
    gap = np.mean(np.abs(clean - noisy))
    assert np.mean(np.abs(d - clean)) < 0.35 * gap


def test_ambient_sigmas_and_sampling():
    s = ambient_sigmas(10, [0.0, 0.3])
    assert s[-2] == pytest.approx(0.002) and s[-1] == 0.0
    s = ambient_sigmas(10, [0.4, 0.3])
    assert s[-2] == pytest.approx(0.3) and s[0] == pytest.approx(80.0)
    # with the exact Gaussian denoiser the last Tweedie step returns E[x0 | x_0.3]:
    # samples have variance s^4/(s^2+0.3^2) < s^2 (the price of stopping at sigma_n)
    g = GaussianDenoiser([0.0], [[1.0]])
    out = ambient_sample(
        g,
        (40000, 1),
        0.3,
        steps=30,
        rng=1,
        dtype=torch.float64,
    )
    assert out.nfe == 59 and out.sigmas[-2] == pytest.approx(0.3)
    # SE of the variance 0.0065: the tolerance is > 4.5 SE
    assert abs(float(out.samples.var()) - 1 / 1.09) < 0.03
    a = ambient_sample(g, (5, 1), 0.3, steps=5, rng=torch.Generator().manual_seed(1))
    b = ambient_sample(g, (5, 1), 0.3, steps=5, rng=torch.Generator().manual_seed(1))
    assert torch.equal(a.samples, b.samples)
    with pytest.warns(DeprecationWarning, match="`generator`"):
        c = ambient_sample(g, (5, 1), 0.3, steps=5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.samples, c.samples)
    with pytest.raises(ValueError, match=r"`steps` must be an integer in \[1, "):
        ambient_sample(g, (5, 1), 0.3, steps=0)


def test_ambient_sigmas_bad_input():
    with pytest.raises(ValueError, match="`sigma_n` must be non-negative"):
        ambient_sigmas(5, [-0.1, 0.2])
    with pytest.raises(ValueError, match=r"`n` must be an integer in \[1, "):
        ambient_sigmas(0, 0.2)
    with pytest.raises(ValueError, match="`sigma_max` \\(1\\) must exceed"):
        ambient_sigmas(5, 2.0, sigma_max=1.0)
    with pytest.raises(ValueError, match="`sigma_n` must not contain NaN"):
        ambient_sigmas(5, [np.nan])
