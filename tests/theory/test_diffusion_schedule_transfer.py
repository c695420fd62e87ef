"""Checks of theory/35_schedule_transfer.md."""

import math

import numpy as np
import pytest
import torch

from sciddm.diffusion import (
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    fit_gaussian,
    gaussian_output_law,
    karras_sigmas,
    sample_ancestral,
    sample_ddim,
    sample_dpmpp_2m,
    sample_euler,
    sample_heun,
    sample_mixed,
    search_schedule,
)
from sciddm.diffusion.toys import ring_mixture, ring_mixture_params

PLAN = ["2m_noise", "heun_data", "heun", "2m", "euler"]
CASES = [
    ("euler", sample_euler, {}),
    ("heun", sample_heun, {}),
    ("dpmpp_2m", sample_dpmpp_2m, {}),
    ("ddim", sample_ddim, {"eta": 0.5}),
    ("ancestral", sample_ancestral, {"eta": 1.0, "s_noise": 1.0}),
    ("heun", sample_heun, {"s_churn": 2.0, "s_tmin": 0.05, "s_tmax": 10.0}),
    ("mixed", None, {}),
]


def _gauss(d=3, seed=0, lam=(0.02, 0.3, 1.5)):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return GaussianDenoiser(rng.normal(size=d), (Q * np.asarray(lam)) @ Q.T), Q


@pytest.mark.parametrize(("sampler", "fn", "opts"), CASES, ids=[f"{c[0]}{c[2]}" for c in CASES])
def test_closed_form_law_matches_monte_carlo(sampler, fn, opts):
    """Mean and covariance of 100 000 sampler runs against the closed form (5 sigma each)."""
    g, _ = _gauss()
    s = karras_sigmas(5, sigma_max=20.0)
    n = 100_000
    x = 20.0 * torch.randn(n, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    if fn is None:
        law = gaussian_output_law(g, s, solvers=PLAN)
        y = sample_mixed(g, x, s, solvers=PLAN).samples.numpy()
    else:
        law = gaussian_output_law(g, s, sampler=sampler, **opts)
        y = fn(g, x, s, rng=2, **opts).samples.numpy()
    S = law.cov
    m_hat, S_hat = y.mean(0), np.cov(y, rowvar=False)
    assert np.all(np.abs(m_hat - law.mean) <= 5 * np.sqrt(np.diag(S) / n))
    se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / n)
    assert np.all(np.abs(S_hat - S) <= 5 * se + 1e-12)


def test_w2_depends_only_on_spectrum_and_mean_projections():
    """Rotating the data (mean and covariance together) leaves every schedule's W2 unchanged."""
    rng = np.random.default_rng(4)
    lam = np.array([0.01, 0.1, 0.5, 2.0])
    mu = rng.normal(size=4)
    g1 = GaussianDenoiser(mu, np.diag(lam))
    R, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    g2 = GaussianDenoiser(R @ mu, (R * lam) @ R.T)
    for _ in range(5):
        inner = np.sort(np.exp(rng.uniform(np.log(0.002), np.log(80.0), 5)))[::-1]
        s = np.concatenate([[80.0], inner, [0.0]])
        for sampler in ("heun", "dpmpp_2m", "ancestral"):
            a = gaussian_output_law(g1, s, sampler=sampler).w2
            b = gaussian_output_law(g2, s, sampler=sampler).w2
            assert a == pytest.approx(b, rel=1e-10)


@pytest.mark.parametrize("fn", [sample_euler, sample_heun, sample_dpmpp_2m])
def test_schedules_are_scale_equivariant(fn):
    """Data scaled by c with the ladder scaled by c gives c times the samples (any law)."""
    w, m, cov = ring_mixture_params(k=5)
    c = 3.7
    g1, gc = GaussianMixtureDenoiser(m, cov, w), GaussianMixtureDenoiser(c * m, c**2 * cov, w)
    s = karras_sigmas(7, sigma_max=30.0)
    x = 30.0 * torch.randn(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = fn(g1, x, s).samples
    b = fn(gc, c * x, c * s).samples
    torch.testing.assert_close(b, c * a, rtol=1e-9, atol=1e-9)
    g, _ = _gauss()
    law1 = gaussian_output_law(g, s, sampler="heun")
    gs = GaussianDenoiser(c * g.mean_, c**2 * g.cov_)
    assert gaussian_output_law(gs, c * s, sampler="heun").w2 == pytest.approx(c * law1.w2)


def _regret(sampler, nfe, source, target):
    """W2 on `target` of the schedule searched for `source`, over `target`'s own optimum."""

    def G(lam):
        return GaussianDenoiser(np.zeros(len(lam)), np.diag(lam))

    kw = {"sampler": sampler, "budget": 1000 * nfe, "rng": 0}
    a = search_schedule(G(source), nfe, **kw)
    a = search_schedule(G(source), nfe, method="local", init=a, **kw)
    b = search_schedule(G(target), nfe, init=a, **kw)
    b = search_schedule(G(target), nfe, method="local", init=b, **kw)
    return gaussian_output_law(G(target), a.sigmas, sampler=sampler).w2 / b.fitness


@pytest.mark.parametrize("sampler", ["euler", "heun"])
def test_searched_schedule_transfers_to_near_spectra_not_far(sampler):
    """Measured: regret <= 1.05 for spectra 10-20% away, >= 2 for spectra 100 times away."""
    A = np.geomspace(0.01, 1.0, 8)
    jitter = A * np.exp(np.random.default_rng(0).uniform(-0.1, 0.1, 8))
    for near in (1.2 * A, jitter):
        assert _regret(sampler, 5, A, near) <= 1.05
    for far in (A / 100, A * 100):
        assert _regret(sampler, 5, A, far) >= 2.0


def _ring_transfer(sampler, nfe):
    w, m, c = ring_mixture_params()
    gm = GaussianMixtureDenoiser(m, c, w)
    g = fit_gaussian(ring_mixture(4000, rng=0), ddof=0)
    proxy = search_schedule(g, nfe, sampler=sampler, budget=1000 * nfe, rng=0)
    res = search_schedule(
        gm,
        nfe,
        sampler=sampler,
        fitness="flow",
        n_samples=256,
        reference_steps=128,
        budget=400 + 150 * nfe,
        rng=1,
        init=proxy,
    )
    transferred = float(res.trace_fitness[4])  # the init is evaluated right after the baselines
    return transferred, res.best_baseline[1], res.fitness


def test_gaussian_proxy_transfer_on_the_ring_mixture():
    """Measured: the Gaussian-fit schedule transfers for Heun, not for DPM-Solver++(2M) at NFE 4."""
    t, best_fixed, searched = _ring_transfer("heun", 6)
    assert t <= 0.2 * best_fixed and searched <= t
    t, best_fixed, searched = _ring_transfer("dpmpp_2m", 4)
    assert t > best_fixed and searched < 0.5 * best_fixed


def test_flow_reference_converges():
    """Heun on the ring mixture's exact denoiser converges at rate N^-2 (the flow fitness's reference)."""
    w, m, c = ring_mixture_params()
    gm = GaussianMixtureDenoiser(m, c, w)
    x = 80 * torch.as_tensor(np.random.default_rng(0).standard_normal((256, 2)))
    ref = sample_heun(gm, x, karras_sigmas(1024)).samples
    err = {}
    for n in (32, 64, 128):
        y = sample_heun(gm, x, karras_sigmas(n)).samples
        err[n] = float((y - ref).pow(2).sum(1).mean().sqrt())
    assert 1.8 < math.log2(err[64] / err[128]) < 2.2
    assert err[128] < 1e-3
