"""Checks of theory/60_tweedie.md."""

import numpy as np
from scipy.stats import norm

W = np.array([0.2, 0.5, 0.3])
M = np.array([-2.0, 0.5, 3.0])
S = np.array([0.3, 1.0, 0.1])


def _posterior_mean_quadrature(x, sigma):
    grid = np.linspace(-12, 12, 400_001)
    prior = sum(w * norm.pdf(grid, m, s) for w, m, s in zip(W, M, S))
    post = prior * norm.pdf(x, grid, sigma)
    return float(np.sum(grid * post) / np.sum(post))


def _tweedie(x, sigma):
    v = S**2 + sigma**2
    dens = W * norm.pdf(x, M, np.sqrt(v))
    dlog = np.sum(dens * (M - x) / v) / np.sum(dens)
    return float(x + sigma**2 * dlog)


def test_tweedie_mixture_prior_by_quadrature():
    for sigma in (0.2, 0.7, 2.0):
        for x in (-3.0, -0.4, 1.1, 3.5):
            assert abs(_posterior_mean_quadrature(x, sigma) - _tweedie(x, sigma)) < 1e-6


def test_tweedie_gaussian_prior_monte_carlo():
    rng = np.random.default_rng(60)
    n, mu, s2, sigma = 400_000, 0.7, 2.0, 1.2
    x0 = mu + np.sqrt(s2) * rng.standard_normal(n)
    xs = x0 + sigma * rng.standard_normal(n)
    slope, intercept = np.polyfit(xs, x0, 1)
    assert abs(slope - 0.5814) < 0.01
    assert abs(intercept - 0.2930) < 0.01
    assert abs(s2 / (s2 + sigma**2) - 0.5814) < 5e-5
