import math

import numpy as np
import pytest
import torch

from sciddm.diffusion import (
    GaussianDenoiser,
    NFECounter,
    VPDenoiser,
    ddpm_alphas_cumprod,
    ddpm_betas,
    karras_sigmas,
    sample,
    sample_ancestral,
    sample_ddim,
    sample_ddpm,
    sample_dpmpp_2m,
    sample_euler,
    sample_heun,
    seeded_noise,
    t_to_sigma,
)
from sciddm.diffusion._samplers import _SAMPLERS


def _gauss(d=4, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = np.geomspace(0.05, 3.0, d)
    return GaussianDenoiser(rng.normal(size=d), (Q * lam) @ Q.T)


def _xT(n, d, sigma=80.0, seed=1):
    g = torch.Generator().manual_seed(seed)
    return sigma * torch.randn(n, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(_SAMPLERS))
def test_callback_dict_and_denoised(name):
    g = _gauss()
    x = _xT(3, 4)
    seen = []
    sampler = _SAMPLERS[name]
    sampler(
        g, x, karras_sigmas(6), callback=seen.append, generator=torch.Generator().manual_seed(0)
    )
    assert [d["i"] for d in seen] == list(range(6))
    for d in seen:
        assert {"x", "i", "sigma", "sigma_hat", "denoised"} <= set(d)
        torch.testing.assert_close(d["denoised"], g(d["x"], d["sigma_hat"]), rtol=1e-12, atol=1e-12)


def test_nfe_counts():
    g = _gauss()
    x = _xT(2, 4)
    s = karras_sigmas(10)
    for fn, nfe in [
        (sample_heun, 19),
        (sample_euler, 10),
        (sample_dpmpp_2m, 10),
        (sample_ddim, 10),
    ]:
        c = NFECounter(g)
        fn(c, x, s)
        assert c.nfe == nfe, fn.__name__


def test_ddim_eta0_is_euler():
    g = _gauss()
    x = _xT(5, 4)
    s = karras_sigmas(12)
    torch.testing.assert_close(sample_ddim(g, x, s), sample_euler(g, x, s), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,order", [(sample_heun, 2), (sample_dpmpp_2m, 2), (sample_euler, 1)])
def test_convergence_order_to_closed_form(fn, order):
    g = _gauss(d=4, seed=3)
    x = _xT(16, 4)
    exact = g.pf_ode(x, 80.0, 0.0)
    errs = []
    for n in (100, 200):
        errs.append(float((fn(g, x, karras_sigmas(n)) - exact).abs().max()))
    rate = math.log2(errs[0] / errs[1])
    assert rate > order - 0.35, (errs, rate)


def test_per_seed_reproducible_across_batches_with_churn():
    g = _gauss()
    s = karras_sigmas(8)
    z, gens = seeded_noise([11, 12, 13], (4,), dtype=torch.float64)
    a = sample_heun(g, 80 * z, s, generator=gens, s_churn=10.0)
    z1, gens1 = seeded_noise([13], (4,), dtype=torch.float64)
    b = sample_heun(g, 80 * z1, s, generator=gens1, s_churn=10.0)
    # equal up to BLAS rounding, which depends on the batch size
    torch.testing.assert_close(a[2:], b, rtol=1e-12, atol=1e-12)
    # and a different seed gives a different sample
    assert float((a[1] - b[0]).abs().min()) > 1e-3
    with pytest.raises(ValueError, match="one generator per batch row"):
        sample_heun(g, 80 * z, s, generator=gens1, s_churn=10.0)


def test_ancestral_samples_gaussian():
    # exact denoiser of N(1, 0.25): ancestral sampling with many steps gives N(1, 0.25).
    g = GaussianDenoiser([1.0], [[0.25]])
    gen = torch.Generator().manual_seed(5)
    n = 8000
    x = 80 * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    y = sample_ancestral(g, x, karras_sigmas(200), generator=gen).numpy().ravel()
    # mean: 4.5 standard errors (false-alarm ~ 7e-6); variance: relative sd sqrt(2/n)=1.6%
    assert abs(y.mean() - 1.0) < 4.5 * 0.5 / math.sqrt(n)
    assert abs(y.var() / 0.25 - 1) < 4.5 * math.sqrt(2 / n) + 0.02


def test_sample_teleport_matches_and_saves_nfe():
    g = _gauss(seed=4)
    x = _xT(6, 4)
    s = karras_sigmas(40)
    c1, c2 = NFECounter(g), NFECounter(g)
    a = sample(c1, x, s, sampler="heun")
    b = sample(c2, x, s, sampler="heun", teleport_to=float(s[8]), gaussian=g)
    assert c1.nfe == 79 and c2.nfe == 63
    exact = g.pf_ode(x, 80.0, 0.0)
    # with the exact Gaussian denoiser teleportation removes the error of the skipped steps
    assert float((b - exact).abs().max()) <= float((a - exact).abs().max()) + 1e-9


def test_sample_bad_input():
    g = _gauss()
    x = _xT(2, 4)
    with pytest.raises(ValueError, match="end at 0"):
        sample(g, x, [80.0, 1.0])
    with pytest.raises(ValueError, match="`gaussian`"):
        sample(g, x, karras_sigmas(5), teleport_to=10.0)
    with pytest.raises(ValueError, match="`teleport_to`"):
        sample(g, x, karras_sigmas(5), teleport_to=100.0, gaussian=g)
    with pytest.raises(ValueError, match="`sampler`"):
        sample(g, x, karras_sigmas(5), sampler="rk4")
    with pytest.raises(ValueError, match="non-increasing"):
        sample_heun(g, x, [1.0, 5.0, 0.0])
    with pytest.raises(ValueError, match="non-negative"):
        sample_euler(g, x, [1.0, -1.0])
    with pytest.raises(ValueError, match="`x`"):
        sample_euler(g, x.numpy(), karras_sigmas(3))
    with pytest.raises(ValueError, match="NaN"):
        sample_euler(g, x * float("nan"), karras_sigmas(3))
    with pytest.raises(ValueError, match="`eta`"):
        sample_ddim(g, x, karras_sigmas(3), eta=-1.0)
    with pytest.raises(ValueError, match="`s_churn`"):
        sample_heun(g, x, karras_sigmas(3), s_churn=-1.0)


def _exact_eps(mu, var, ac):
    """eps-prediction of N(mu, var) data for a DDPM with cumulative alphas ``ac``."""
    act = torch.as_tensor(ac)

    def eps(z, t):
        if t.is_floating_point():
            a = 1.0 / (1.0 + t_to_sigma(t, ac) ** 2)
        else:
            a = act[t]
        a = a.reshape(-1, 1).to(z.dtype)
        return torch.sqrt(1 - a) * (z - torch.sqrt(a) * mu) / (a * var + 1 - a)

    return eps


def test_vp_denoiser_equals_gaussian():
    ac = ddpm_alphas_cumprod(ddpm_betas(1000))
    mu, var = 0.7, 0.3
    D = VPDenoiser(_exact_eps(mu, var, ac), ac)
    g = GaussianDenoiser([mu], [[var]])
    x = torch.linspace(-20, 20, 9, dtype=torch.float64).reshape(-1, 1)
    sig = torch.tensor([0.05, 0.3, 1.0, 3.0, 7.0, 20.0, 50.0, 100.0, 150.0], dtype=torch.float64)
    torch.testing.assert_close(D(x, sig), g(x, sig), rtol=1e-10, atol=1e-10)
    # and a full sampler run on the model's own ladder
    x0 = sample_heun(D, torch.full((1, 1), 30.0, dtype=torch.float64), D.get_sigmas(50))
    assert torch.isfinite(x0).all()
    with pytest.raises(ValueError, match="`prediction`"):
        VPDenoiser(lambda z, t: z, ac, prediction="score")


def _ddpm_output_moments(mu, var, betas, variance):
    """Exact mean/variance of sample_ddpm's output with the exact linear eps model."""
    ac = np.cumprod(1 - betas)
    ac_prev = np.concatenate([[1.0], ac[:-1]])
    M, V = 0.0, 1.0
    for t in range(len(betas) - 1, -1, -1):
        b, a = betas[t], ac[t]
        c = np.sqrt(1 - a) / (a * var + 1 - a)
        A = (1 - b * c / np.sqrt(1 - a)) / np.sqrt(1 - b)
        B = b * c * np.sqrt(a) * mu / np.sqrt(1 - a) / np.sqrt(1 - b)
        v = 0.0 if t == 0 else (b if variance == "large" else b * (1 - ac_prev[t]) / (1 - a))
        M, V = A * M + B, A * A * V + v
    return M, V


@pytest.mark.parametrize("variance", ["large", "small"])
def test_sample_ddpm_with_exact_eps(variance):
    betas = ddpm_betas(1000, beta_start=1e-3, beta_end=0.2)
    ac = ddpm_alphas_cumprod(betas)
    mu, var = 1.0, 0.04
    gen = torch.Generator().manual_seed(7)
    n = 4000
    seen = []
    y = sample_ddpm(
        _exact_eps(mu, var, ac),
        torch.randn(n, 1, generator=gen, dtype=torch.float64),
        betas,
        generator=gen,
        variance=variance,
        callback=lambda d: seen.append(
            (d["t"], d["denoised"][:3].clone(), d["x"][:3], d["eps"][:3])
        ),
    )
    # reported x0-hat is (x_t - sqrt(1-abar) eps) / sqrt(abar)
    t, x0h, xt, eps = seen[500]
    torch.testing.assert_close(x0h, (xt - math.sqrt(1 - ac[t]) * eps) / math.sqrt(ac[t]))
    assert [s[0] for s in seen[:2]] == [999, 998] and len(seen) == 1000
    # the output is Gaussian with moments given by the linear recursion of the sampler
    M, V = _ddpm_output_moments(mu, var, betas, variance)
    y = y.numpy().ravel()
    # 4.5 standard errors each: false-alarm rate ~ 1e-5
    assert abs(y.mean() - M) < 4.5 * math.sqrt(V / n)
    assert abs(y.var() / V - 1) < 4.5 * math.sqrt(2 / n)
