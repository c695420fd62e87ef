"""Checks of theory/61_ambient_loss_minimiser.md."""

import math

import numpy as np
import torch
from scipy.stats import norm

from sciddm.ambient import ambient_loss

W = np.array([0.4, 0.6])
M = np.array([-1.5, 1.0])
S = np.array([0.2, 0.6])


def _conditional_means(xt, sn, st):
    # E[x0 | x_t] and E[y | x_t] by quadrature over (x0, y) on a grid
    g0 = np.linspace(-5, 5, 1201)
    gy = np.linspace(-8, 8, 1201)
    prior = sum(w * norm.pdf(g0, m, s) for w, m, s in zip(W, M, S))
    joint = prior[:, None] * norm.pdf(gy[None, :], g0[:, None], sn)
    joint = joint * norm.pdf(xt, gy[None, :], math.sqrt(st**2 - sn**2))
    z = joint.sum()
    return float((joint.sum(axis=1) * g0).sum() / z), float((joint.sum(axis=0) * gy).sum() / z)


def test_double_tweedie_identity_by_quadrature():
    for sn, st in ((0.3, 0.5), (0.5, 1.2), (1.0, 3.0)):
        r = sn**2 / st**2
        for xt in (-2.0, 0.0, 1.7):
            e_x0, e_y = _conditional_means(xt, sn, st)
            assert abs(e_y - (r * xt + (1 - r) * e_x0)) < 1e-6


def _fit_linear(loss_fn):
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [p],
        max_iter=200,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = loss_fn(lambda x, s: p[0] * x + p[1], torch.Generator().manual_seed(1))
        loss.backward()
        return loss

    opt.step(closure)
    return p.detach().numpy()


def test_linear_minimiser_of_ambient_loss():
    n, s2, mu, sn, st = 200_000, 2.0, 0.7, 0.5, 1.2
    g = torch.Generator().manual_seed(61)
    x0 = mu + math.sqrt(s2) * torch.randn(n, 1, generator=g, dtype=torch.float64)
    y = x0 + sn * torch.randn(n, 1, generator=g, dtype=torch.float64)
    sig_n = torch.full((n,), sn, dtype=torch.float64)
    a, b = _fit_linear(lambda D, gen: ambient_loss(D, y, sig_n, sigma_t=st, rng=gen))
    assert abs(a - 0.5814) < 0.01
    assert abs(b - 0.2930) < 0.015

    def plain(D, gen):
        x_t = y + math.sqrt(st**2 - sn**2) * torch.randn(y.shape, generator=gen, dtype=y.dtype)
        return ((D(x_t, None) - y) ** 2).mean()

    a_plain, _ = _fit_linear(plain)
    assert abs(a_plain - 0.6541) < 0.01
