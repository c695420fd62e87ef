import numpy as np
import pytest
import torch

from sciddm.diffusion import (
    check_sigmas,
    ddpm_alphas_cumprod,
    ddpm_betas,
    ddpm_sigmas,
    ddpm_timestep_sigmas,
    karras_sigmas,
    sigma_to_t,
    t_to_sigma,
    ve_sigmas,
    vp_scale,
    vp_sigmas,
)


def test_karras_matches_formula_and_spec_values():
    n, smin, smax, rho = 18, 0.002, 80.0, 7.0
    s = karras_sigmas(n, sigma_min=smin, sigma_max=smax, rho=rho)
    i = np.arange(n)
    ref = (smax ** (1 / rho) + i / (n - 1) * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    np.testing.assert_allclose(s[:-1], ref, rtol=1e-13)
    assert s[-1] == 0.0 and s.shape == (n + 1,)
    # spec: sigma_skip for N=18, k=4 is about 19.4; N=40, k=8 about 23.6
    assert abs(s[4] - 19.4) < 0.05
    assert abs(karras_sigmas(40)[8] - 23.6) < 0.05


@pytest.mark.parametrize("n,k", [(18, 4), (40, 8), (100, 37)])
def test_karras_tail_is_karras(n, k):
    s = karras_sigmas(n)
    tail = karras_sigmas(n - k, sigma_max=s[k], sigma_min=0.002)
    np.testing.assert_allclose(s[k:], tail, rtol=1e-12, atol=0)


def test_ve_vp_formulas():
    s = ve_sigmas(5, sigma_min=0.02, sigma_max=100.0)
    np.testing.assert_allclose(np.diff(np.log(s[:-1])), np.log(0.02 / 100) / 4, rtol=1e-12)
    v = vp_sigmas(7, beta_d=19.9, beta_min=0.1, eps_s=1e-3)
    t = np.linspace(1, 1e-3, 7)
    np.testing.assert_allclose(v[:-1] ** 2 + 1, np.exp(0.5 * 19.9 * t**2 + 0.1 * t), rtol=1e-12)


def test_ddpm_conversions():
    betas = ddpm_betas(1000, beta_start=1e-3, beta_end=0.2)
    ac = ddpm_alphas_cumprod(betas)
    np.testing.assert_allclose(ac[3], np.prod(1 - betas[:4]), rtol=1e-14)
    sig = ddpm_sigmas(ac)
    # VP state = VE state scaled by sqrt(abar)
    np.testing.assert_allclose(vp_scale(sig), np.sqrt(ac), rtol=1e-12)
    # round trip at integers and fractions, numpy and torch
    t = np.array([0.0, 1.0, 12.5, 999.0, 417.3])
    np.testing.assert_allclose(sigma_to_t(t_to_sigma(t, ac), ac), t, atol=1e-9)
    tt = torch.tensor(t)
    np.testing.assert_allclose(sigma_to_t(t_to_sigma(tt, ac), ac).numpy(), t, atol=1e-9)
    q = sigma_to_t(torch.tensor(sig[[5, 700]] * 1.0001), ac, quantize=True)
    assert q.tolist() == [5.0, 700.0]
    lad = ddpm_timestep_sigmas(11, ac)
    np.testing.assert_allclose(lad[[0, -2]], sig[[-1, 0]], rtol=1e-12)
    np.testing.assert_allclose(lad[5], sig[int(round(999 / 2))] if False else t_to_sigma(499.5, ac))


def test_cosine_betas_in_range():
    b = ddpm_betas(100, schedule="cosine")
    assert b.shape == (100,) and np.all((b > 0) & (b <= 0.999))


@pytest.mark.parametrize(
    "sigmas,kw,match",
    [
        ([1.0, 2.0, 0.0], {}, "non-increasing"),
        ([1.0, -0.5], {}, "non-negative"),
        ([2.0, 1.0], {"require_zero": True}, "end at 0"),
        ([2.0, float("nan"), 0.0], {}, "NaN"),
        ([1.0], {}, "at least 2"),
    ],
)
def test_check_sigmas_errors(sigmas, kw, match):
    with pytest.raises(ValueError, match=match):
        check_sigmas(sigmas, **kw)


def test_schedule_bad_arguments():
    with pytest.raises(ValueError, match="`n`"):
        karras_sigmas(0)
    with pytest.raises(ValueError, match="`sigma_max`"):
        karras_sigmas(5, sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ValueError, match="`schedule`"):
        ddpm_betas(10, schedule="quadratic")
    with pytest.raises(ValueError, match="`betas`"):
        ddpm_alphas_cumprod([0.1, 1.2])
