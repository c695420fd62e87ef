"""Checks of theory/62_fisher_noisy_value.md."""

import numpy as np
from scipy.stats import norm

from sciddm.ambient import gaussian_fisher_value, heteroscedastic_gaussian_mle


def _score_info(draws, logpdf, theta, h=1e-5):
    grads = []
    for j in range(len(theta)):
        e = np.zeros(len(theta))
        e[j] = h
        grads.append((logpdf(draws, theta + e) - logpdf(draws, theta - e)) / (2 * h))
    g = np.array(grads).T
    return g.T @ g / len(draws)


def test_gaussian_information_matches_score_outer_product():
    rng = np.random.default_rng(62)
    n, s2, sigma = 400_000, 1.5, 0.8
    x = rng.normal(0.0, np.sqrt(s2), n)
    y = x + sigma * rng.standard_normal(n)

    def logpdf(noise):
        return lambda z, th: norm.logpdf(z, th[0], np.sqrt(th[1] + noise**2))

    theta = np.array([0.0, s2])
    ic = _score_info(x, logpdf(0.0), theta)
    inn = _score_info(y, logpdf(sigma), theta)
    assert abs(ic[0, 0] / (1 / s2) - 1) < 0.03
    assert abs(inn[0, 0] / (1 / (s2 + sigma**2)) - 1) < 0.03
    assert abs(ic[1, 1] / (1 / (2 * s2**2)) - 1) < 0.03
    assert abs(inn[1, 1] / (1 / (2 * (s2 + sigma**2) ** 2)) - 1) < 0.03
    v_mean = gaussian_fisher_value(s2, sigma).value
    v_var = gaussian_fisher_value(s2, sigma, parameter="covariance").value
    assert abs(inn[0, 0] / ic[0, 0] - v_mean) < 0.03
    assert abs(inn[1, 1] / ic[1, 1] - v_var) < 0.03


def test_mle_variance_uses_effective_sample_size():
    rng = np.random.default_rng(620)
    nc, nn, sigma, reps = 100, 300, 1.0, 400
    s = np.r_[np.zeros(nc), np.full(nn, sigma)]
    est = []
    for _ in range(reps):
        y = rng.standard_normal(nc + nn) + s * rng.standard_normal(nc + nn)
        est.append(heteroscedastic_gaussian_mle(y[:, None], s, tol=1e-10).mean[0])
    var = np.var(est, ddof=1)
    predicted = 1.0 / (nc + gaussian_fisher_value(1.0, sigma).value * nn)  # 1/250
    assert abs(var / predicted - 1) < 0.25
    assert var > 1.15 / (nc + nn)  # ignoring the noise would predict 1/400 (4 SE below)
