"""Checks of theory/30_gaussian_closed_forms.md and theory/31_gaussian_pushforward.md."""

import numpy as np

from sciddm.diffusion import GaussianDenoiser, karras_sigmas


def _model(d=6, r=None, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = np.geomspace(0.01, 5.0, d)
    mu = rng.normal(size=d)
    if r is None:
        return GaussianDenoiser(mu, (Q * lam) @ Q.T), rng
    return GaussianDenoiser(mu, (Q[:, -r:], lam[-r:])), rng


def test_score_identity():
    g, rng = _model()
    S = g.cov_
    x = rng.normal(size=(20, 6)) * 5
    for s in (1e-2, 0.3, 1.0, 7.0, 80.0):
        ref = -np.linalg.solve(S + s**2 * np.eye(6), (x - g.mean_).T).T
        # D - x = -sigma^2 (Sigma + sigma^2 I)^{-1} (x - mu), to 1e-12 absolute
        np.testing.assert_allclose(g.denoise(x, s) - x, s**2 * ref, rtol=0, atol=1e-12)
        # the score itself; dividing by sigma^2 amplifies rounding by 1/sigma^2
        np.testing.assert_allclose(g.score(x, s), ref, rtol=1e-12, atol=1e-13 / s**2)


def test_x0_along_trajectory():
    for r in (None, 3):
        g, rng = _model(r=r, seed=1)
        xT = 80 * rng.normal(size=(10, 6))
        for s in (0.0, 0.05, 1.0, 20.0, 80.0):
            along = g.denoise(g.pf_ode(xT, 80.0, s), max(s, 1e-300)) if s > 0 else None
            closed = g.x0_along_trajectory(xT, 80.0, s)
            if along is not None:
                np.testing.assert_allclose(closed, along, rtol=1e-12, atol=1e-12)
        # at sigma = 0 the trajectory's end is its own x0-hat (full rank)
        if r is None:
            np.testing.assert_allclose(
                g.x0_along_trajectory(xT, 80.0, 0.0), g.pf_ode(xT, 80.0, 0.0), rtol=1e-12
            )


def test_karras_tail_identity():
    for n, k in ((18, 4), (40, 8), (1000, 250)):
        s = karras_sigmas(n)
        np.testing.assert_allclose(s[k:], karras_sigmas(n - k, sigma_max=s[k]), rtol=1e-12)


def test_pushforward_exact():
    # x(0) = mu + A (x_T - mu) with A = U diag(sqrt(lam/(lam+sT^2))) U^T, so
    # Cov[x(0)] = A (Sigma + sT^2 I) A^T must equal Sigma.
    for r in (None, 2):
        g, _ = _model(r=r, seed=2)
        d = g.dim
        for sT in (0.5, 10.0, 80.0):
            A = g.pf_ode(np.eye(d) + g.mean_, sT, 0.0) - g.mean_  # rows: A e_j
            A = A.T
            np.testing.assert_allclose(
                A @ (g.cov_ + sT**2 * np.eye(d)) @ A.T, g.cov_, rtol=1e-12, atol=1e-12
            )


def test_pushforward_monte_carlo():
    # Monte Carlo: x_T ~ N(mu, Sigma + sT^2 I) mapped to sigma=0 has mean mu and cov Sigma.
    # Each entry of the sample covariance is compared with 5 standard errors
    # (sd of S_ij = sqrt((S_ii S_jj + S_ij^2)/n)); false alarm < 21 * 6e-7.
    g, rng = _model(d=6, seed=3)
    n, sT = 20000, 80.0
    xT = g.sample(n, rng=rng) + sT * rng.normal(size=(n, 6))
    y = g.pf_ode(xT, sT, 0.0)
    S = g.cov_
    C = np.cov(y, rowvar=False)
    se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / n)
    assert np.all(np.abs(C - S) < 5 * se)
    assert np.all(np.abs(y.mean(0) - g.mean_) < 5 * np.sqrt(np.diag(S) / n))
