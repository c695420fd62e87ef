"""Checks of theory/40_mode_interpolation.md with independent closed forms."""

import numpy as np
import pytest
from scipy import stats

from sciddm.hallucination import mixture_1d, outside_mass


def exact_denoiser(x, sigma, means, s):
    """Posterior mean E[x0 | x0 + sigma n = x] of an equal-weight mixture of N(mu_k, s^2)."""
    v = s * s + sigma * sigma
    logits = -((x[:, None] - means[None]) ** 2) / (2 * v)
    w = np.exp(logits - logits.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    cond = means[None] + (s * s / v) * (x[:, None] - means[None])
    return (w * cond).sum(1)


@pytest.mark.parametrize("sigma", [0.02, 0.1, 0.3, 1.0])
def test_exact_denoiser_slope_at_midpoint(sigma):
    a, s = 0.5, 0.05
    means = np.array([-a, a])
    h = 1e-6
    fd = (
        exact_denoiser(np.array([h]), sigma, means, s)
        - exact_denoiser(np.array([-h]), sigma, means, s)
    )[0] / (2 * h)
    v = s * s + sigma * sigma
    closed = s * s / v + a * a * sigma * sigma / v**2
    assert fd == pytest.approx(closed, rel=1e-6)


def test_midpoint_slope_diverges_as_modes_sharpen():
    # for s << sigma << a the slope is ~ a^2 / sigma^2: the target becomes a step
    a, sigma = 1.0, 0.05
    slopes = [
        s * s / (s * s + sigma**2) + a * a * sigma**2 / (s * s + sigma**2) ** 2
        for s in (0.02, 0.005, 0.001)
    ]
    assert slopes[0] < slopes[1] < slopes[2]
    assert slopes[2] == pytest.approx(a * a / sigma**2, rel=0.01)


def _heun_pf_ode(denoiser, x, sigmas):
    for s0, s1 in zip(sigmas[:-1], sigmas[1:]):
        d0 = (x - denoiser(x, s0)) / s0
        x1 = x + (s1 - s0) * d0
        if s1 > 0:
            d1 = (x1 - denoiser(x1, s1)) / s1
            x1 = x + (s1 - s0) * (d0 + d1) / 2
        x = x1
    return x


def _karras(n, smin=0.002, smax=80.0, rho=7.0):
    i = np.arange(n) / (n - 1)
    s = (smax ** (1 / rho) + i * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    return np.append(s, 0.0)


def test_exact_score_sampler_does_not_hallucinate():
    data = mixture_1d((1.0, 2.0, 3.0))
    means, s = data.means[:, 0], data.std
    rng = np.random.default_rng(0)
    n = 20_000
    # the exact marginal at sigma_max: the data law convolved with N(0, 80^2)
    x_T = data.sample(n, rng=rng)[:, 0] + 80.0 * rng.standard_normal(n)
    out = _heun_pf_ode(lambda x, t: exact_denoiser(x, t, means, s), x_T, _karras(200))
    # expected count beyond 5 std: 20000 * 5.73e-7 ~ 0.01 (plus ODE error): none
    assert np.sum(data.classify(out[:, None]) == 2) == 0
    # and the samples are spread like the data: 3 std covers 99.73 %
    assert np.mean(data.classify(out[:, None]) == 0) > 0.99
    # the PF-ODE transports the marginal, so the mode shares are the data's weights:
    # chi-squared goodness of fit at false-alarm rate 1e-3
    counts = np.bincount(data.nearest_mode(out[:, None]), minlength=3)
    assert stats.chisquare(counts, n * data.weights).pvalue > 1e-3


@pytest.mark.parametrize("h", [0.02, 0.05, 0.1])
def test_lipschitz_approximation_has_a_hallucination_preimage(h):
    """A continuous, L-Lipschitz approximation of the denoiser maps an interval of
    length >= (gap - 2 k s) / L in each gap to points > k s from every mode."""
    data = mixture_1d((1.0, 2.0, 3.0))
    means, s, k = data.means[:, 0], data.std, 5.0
    sigma = 0.1
    nodes = np.arange(0.5, 3.5 + h / 2, h)
    values = exact_denoiser(nodes, sigma, means, s)  # a ReLU-network-like piecewise-linear fit
    lip = np.max(np.abs(np.diff(values))) / h
    x = np.linspace(0.5, 3.5, 600_001)
    d_tilde = np.interp(x, nodes, values)
    hall = data.classify(d_tilde[:, None], k_hallucination=k) == 2
    measure = hall.mean() * 3.0
    bound = 2 * (1.0 - 2 * k * s) / lip
    assert measure >= bound * (1 - 1e-3)
    # the exact denoiser's own preimage is much smaller: its slope between modes is larger
    exact_hall = data.classify(exact_denoiser(x, sigma, means, s)[:, None], k_hallucination=k) == 2
    assert exact_hall.mean() * 3.0 < measure


def test_outside_mass_matches_monte_carlo():
    rng = np.random.default_rng(3)
    n = 2_000_000
    for dim, k in [(1, 3.0), (2, 3.0), (2, 2.0)]:
        r = np.linalg.norm(rng.standard_normal((n, dim)), axis=1)
        p = outside_mass(k, dim)
        assert abs(np.mean(r > k) - p) < 5 * np.sqrt(p * (1 - p) / n)  # false alarm < 1e-6
