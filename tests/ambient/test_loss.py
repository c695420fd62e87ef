"""Tests of the ambient loss and the truncated log-normal sampler."""

import math

import numpy as np
import pytest
import torch

from sciddm.ambient import AmbientLoss, ambient_loss, edm_weight, truncated_lognormal_sigma
from sciddm.ambient._loss import lognormal_truncated_cdf
from sciddm.reproduce import chisquare_gof

S2, MU, SIGMA_N, SIGMA_T = 2.0, 0.7, 0.5, 1.2


def _gaussian_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x0 = MU + math.sqrt(S2) * torch.randn(n, 1, generator=g, dtype=torch.float64)
    y = x0 + SIGMA_N * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return y


def _fit_linear(loss_fn, seed=1):
    """Minimise loss_fn(D) over D(x) = a x + b with common random numbers (a quadratic)."""
    params = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [params],
        lr=1.0,
        max_iter=200,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def denoiser(x, sigma):
        return params[0] * x + params[1]

    def closure():
        opt.zero_grad()
        loss = loss_fn(denoiser, torch.Generator().manual_seed(seed))
        loss.backward()
        return loss

    opt.step(closure)
    return params.detach().numpy()


# The positive check (slope 0.5814, intercept 0.2930) lives in
# tests/theory/test_ambient_loss_minimiser.py::test_linear_minimiser_of_ambient_loss.


def test_plain_denoising_on_noisy_data_learns_noisy_law():
    # Negative test: regressing y on x_t (plain EDM loss treating y as clean) gives
    # slope (s^2 + sigma_n^2)/(s^2 + sigma_t^2) = 0.6541, not the clean 0.5814.
    n = 200_000
    y = _gaussian_data(n, 0)
    zero = torch.zeros(n, dtype=torch.float64)

    def plain(D, g):
        # treat y as clean data noised to sigma_t (what ignoring sigma_n does)
        eps = torch.randn(y.shape, generator=g, dtype=torch.float64)
        x_t = y + math.sqrt(SIGMA_T**2 - SIGMA_N**2) * eps
        return ((D(x_t, None) - y) ** 2).mean()

    a, _ = _fit_linear(plain)
    noisy_slope = (S2 + SIGMA_N**2) / (S2 + SIGMA_T**2)
    assert abs(noisy_slope - 0.6541) < 1e-4
    assert abs(a - noisy_slope) < 0.01
    assert abs(a - S2 / (S2 + SIGMA_T**2)) > 0.05
    # declaring the data clean (sigma_n = 0) makes the ambient loss plain EDM on y,
    # whose minimiser is the posterior mean for the noisy law N(mu, s^2 + sigma_n^2)
    a0, _ = _fit_linear(lambda D, g: ambient_loss(D, y, zero, sigma_t=SIGMA_T, rng=g))
    v = S2 + SIGMA_N**2
    assert abs(a0 - v / (v + SIGMA_T**2)) < 0.01


def test_clean_samples_reduce_to_edm_loss():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(64, 3, generator=g)

    def D(x, s):
        return 0.3 * x

    st = torch.full((64,), 0.7)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    la = ambient_loss(D, y, torch.zeros(64), sigma_t=st, rng=g1, reduction="none")
    eps = torch.randn(y.shape, generator=g2)
    x_t = y + 0.7 * eps
    ref = edm_weight(st) * ((D(x_t, st) - y) ** 2).mean(dim=1)
    torch.testing.assert_close(la, ref)


def test_truncated_lognormal_distribution_and_support():
    # chi-square goodness of fit against the exact truncated CDF (false alarm 1e-3)
    n, smin = 20_000, 0.3
    g = torch.Generator().manual_seed(11)
    s = truncated_lognormal_sigma(torch.full((n,), smin, dtype=torch.float64), rng=g)
    assert float(s.min()) >= smin
    edges = np.r_[smin * np.exp(np.linspace(0.0, 3.0, 12)), np.inf]
    cdf = [lognormal_truncated_cdf(e, smin, -1.2, 1.2) if np.isfinite(e) else 1.0 for e in edges]
    probs = np.diff(cdf)
    counts = np.histogram(s.numpy(), bins=edges)[0]
    assert chisquare_gof(counts, probs) > 1e-3
    # sigma_min = 0 gives the untruncated log-normal: mean of log is p_mean
    s0 = truncated_lognormal_sigma(torch.zeros(n, dtype=torch.float64), rng=g)
    assert abs(float(torch.log(s0).mean()) + 1.2) < 4 * 1.2 / math.sqrt(n)
    # far in the tail the sampler still returns values >= sigma_min, finite
    far = truncated_lognormal_sigma(torch.full((100,), 1e6, dtype=torch.float64), rng=g)
    assert torch.isfinite(far).all() and bool((far >= 1e6).all())


def test_ambient_loss_class_matches_function():
    y = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    sn = torch.rand(16, generator=torch.Generator().manual_seed(1))

    def D(x, s):
        return 0.5 * x

    a = AmbientLoss(sigma_data=0.7)(D, (y, sn), torch.Generator().manual_seed(3))
    b = ambient_loss(D, y, sn, sigma_data=0.7, rng=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert "AmbientLoss" in repr(AmbientLoss())


def test_gradients_flow_and_per_sample_reduction():
    net = torch.nn.Linear(2, 2)
    y = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    out = ambient_loss(
        lambda x, s: net(x), y, 0.2, rng=torch.Generator().manual_seed(0), reduction="none"
    )
    assert out.shape == (8,)
    out.mean().backward()
    assert net.weight.grad is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sigma_n": -0.1}, "`sigma_n` must be non-negative"),
        ({"sigma_n": torch.full((3,), 0.1)}, r"`sigma_n` must have shape \(4,\)"),
        ({"sigma_t": 0.05}, "`sigma_t` must be >= `sigma_n`"),
        ({"sigma_t": -1.0}, "`sigma_t` must be positive"),
        ({"y": torch.tensor([[1.0], [float("nan")], [0.0], [0.0]])}, "`y` must not contain NaN"),
        (
            {"sigma_n": torch.tensor([0.1, float("nan"), 0.1, 0.1])},
            "`sigma_n` must not contain NaN",
        ),
        ({"y": torch.ones(4)}, "`y` must have shape"),
        ({"reduction": "sum"}, "`reduction` must be one of"),
        ({"sigma_data": 0.0}, r"`sigma_data` must be in \(0, 1e\+06\]"),
    ],
)
def test_ambient_loss_bad_input(kwargs, match):
    args = {"y": torch.ones(4, 1), "sigma_n": 0.1}
    args.update(kwargs)
    y, sn = args.pop("y"), args.pop("sigma_n")
    with pytest.raises(ValueError, match=match):
        ambient_loss(lambda x, s: x, y, sn, **args)


def test_ambient_loss_class_bad_input():
    with pytest.raises(ValueError, match="`p_std` must be in"):
        AmbientLoss(p_std=0.0)
    with pytest.raises(ValueError, match="`batch` must be a tuple"):
        AmbientLoss()(lambda x, s: x, torch.ones(3, 1), None)
    with pytest.raises(ValueError, match="`p_std` must be in"):
        truncated_lognormal_sigma(torch.zeros(3), p_std=-1.0)
