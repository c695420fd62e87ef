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
    res = sampler(
        g, x, karras_sigmas(6), callback=seen.append, rng=torch.Generator().manual_seed(0)
    )
    assert res.nfe == (11 if name == "heun" else 6) and res.sampler == name
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
        res = fn(c, x, s)
        assert c.nfe == nfe == res.nfe, fn.__name__
        np.testing.assert_array_equal(res.sigmas, s)
        assert res.wall_time >= 0


def test_ddim_eta0_is_euler():
    g = _gauss()
    x = _xT(5, 4)
    s = karras_sigmas(12)
    torch.testing.assert_close(
        sample_ddim(g, x, s).samples, sample_euler(g, x, s).samples, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("fn,order", [(sample_heun, 2), (sample_dpmpp_2m, 2), (sample_euler, 1)])
def test_convergence_order_to_closed_form(fn, order):
    g = _gauss(d=4, seed=3)
    x = _xT(16, 4)
    exact = g.pf_ode(x, 80.0, 0.0)
    errs = []
    for n in (100, 200):
        errs.append(float((fn(g, x, karras_sigmas(n)).samples - exact).abs().max()))
    rate = math.log2(errs[0] / errs[1])
    assert rate > order - 0.35, (errs, rate)


def test_per_seed_reproducible_across_batches_with_churn():
    g = _gauss()
    s = karras_sigmas(8)
    z, gens = seeded_noise([11, 12, 13], (4,), dtype=torch.float64)
    a = sample_heun(g, 80 * z, s, rng=gens, s_churn=10.0).samples
    z1, gens1 = seeded_noise([13], (4,), dtype=torch.float64)
    b = sample_heun(g, 80 * z1, s, rng=gens1, s_churn=10.0).samples
    # equal up to BLAS rounding, which depends on the batch size
    torch.testing.assert_close(a[2:], b, rtol=1e-12, atol=1e-12)
    # and a different seed gives a different sample
    assert float((a[1] - b[0]).abs().min()) > 1e-3
    with pytest.raises(ValueError, match="one torch.Generator per batch row"):
        sample_heun(g, 80 * z, s, rng=gens1, s_churn=10.0)


def test_ancestral_samples_gaussian():
    # exact denoiser of N(1, 0.25): ancestral sampling with many steps gives N(1, 0.25).
    g = GaussianDenoiser([1.0], [[0.25]])
    gen = torch.Generator().manual_seed(5)
    n = 8000
    x = 80 * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    y = sample_ancestral(g, x, karras_sigmas(200), rng=gen).samples.numpy().ravel()
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
    assert c1.nfe == a.nfe == 79 and c2.nfe == b.nfe == 63
    assert b.teleport_to == pytest.approx(s[8]) and a.teleport_to is None
    # the Gaussian comes from the denoiser itself when it is one
    torch.testing.assert_close(sample(g, x, s, teleport_to=float(s[8])).samples, b.samples)
    a, b = a.samples, b.samples
    exact = g.pf_ode(x, 80.0, 0.0)
    # with the exact Gaussian denoiser teleportation removes the error of the skipped steps
    assert float((b - exact).abs().max()) <= float((a - exact).abs().max()) + 1e-9


def test_sample_bad_input():
    g = _gauss()
    x = _xT(2, 4)
    with pytest.raises(ValueError, match="end at 0"):
        sample(g, x, [80.0, 1.0])
    with pytest.raises(ValueError, match="`gaussian`"):
        sample(lambda z, s: g(z, s), x, karras_sigmas(5), teleport_to=10.0)
    with pytest.raises(ValueError, match="`teleport_to`"):
        sample(g, x, karras_sigmas(5), teleport_to=100.0, gaussian=g)
    with pytest.raises(ValueError, match="`sampler`"):
        sample(g, x, karras_sigmas(5), sampler="rk4")
    with pytest.raises(ValueError, match="`gaussian` is used only with `teleport_to`"):
        sample(g, x, karras_sigmas(5), gaussian=g)
    with pytest.raises(ValueError, match="non-increasing"):
        sample_heun(g, x, [1.0, 5.0, 0.0])
    with pytest.raises(ValueError, match="non-negative"):
        sample_euler(g, x, [1.0, -1.0])
    with pytest.raises(TypeError, match="`x`"):
        sample_euler(g, x.numpy(), karras_sigmas(3))
    with pytest.raises(ValueError, match="NaN"):
        sample_euler(g, x * float("nan"), karras_sigmas(3))
    with pytest.raises(ValueError, match="only as its last entry"):
        sample_heun(g, x, [1.0, 0.0, 0.0])
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
    assert torch.isfinite(x0.samples).all()
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
        rng=gen,
        variance=variance,
        callback=lambda d: seen.append(
            (d["t"], d["denoised"][:3].clone(), d["x"][:3], d["eps"][:3])
        ),
    )
    # reported x0-hat is (x_t - sqrt(1-abar) eps) / sqrt(abar)
    t, x0h, xt, eps = seen[500]
    torch.testing.assert_close(x0h, (xt - math.sqrt(1 - ac[t]) * eps) / math.sqrt(ac[t]))
    assert [s[0] for s in seen[:2]] == [999, 998] and len(seen) == 1000
    assert y.nfe == 1000 and y.sampler == "ddpm" and y.sigmas.shape == (1001,)
    # the output is Gaussian with moments given by the linear recursion of the sampler
    M, V = _ddpm_output_moments(mu, var, betas, variance)
    y = y.samples.numpy().ravel()
    # 4.5 standard errors each: false-alarm rate ~ 1e-5
    assert abs(y.mean() - M) < 4.5 * math.sqrt(V / n)
    assert abs(y.var() / V - 1) < 4.5 * math.sqrt(2 / n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(_SAMPLERS))
def test_dtype_is_kept(name, dtype):
    g = _gauss()
    x = _xT(3, 4).to(dtype)
    out = _SAMPLERS[name](g, x, karras_sigmas(10), rng=torch.Generator().manual_seed(0)).samples
    assert out.dtype == dtype
    if name != "ancestral":
        ref = _SAMPLERS[name](g, x.double(), karras_sigmas(10)).samples
        torch.testing.assert_close(out.double(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_samplers_on_cuda(dtype):
    g = _gauss()
    x = _xT(8, 4).to(device="cuda", dtype=dtype)
    gen = torch.Generator(device="cuda").manual_seed(0)
    for name, fn in _SAMPLERS.items():
        out = fn(g, x, karras_sigmas(10), rng=gen).samples
        assert out.device.type == "cuda" and out.dtype == dtype
        if name != "ancestral":  # deterministic: same result as on the CPU
            ref = fn(g, x.cpu().double(), karras_sigmas(10)).samples
            torch.testing.assert_close(out.cpu().double(), ref, rtol=1e-3, atol=1e-3)
    betas = ddpm_betas(50)
    y = sample_ddpm(
        lambda z, t: 0 * z, torch.randn(4, 2, device="cuda", dtype=dtype), betas, rng=gen
    ).samples
    assert y.device.type == "cuda" and y.dtype == dtype


@pytest.mark.parametrize("name", sorted(_SAMPLERS))
def test_teleport_works_with_every_sampler(name):
    g = _gauss(seed=6)
    x = _xT(4, 4)
    s = karras_sigmas(18)
    c = NFECounter(g)
    seen = []
    out = sample(
        c,
        x,
        s,
        sampler=name,
        teleport_to=float(s[4]),
        gaussian=g,
        callback=seen.append,
        rng=torch.Generator().manual_seed(0),
    )
    assert seen[0]["sigma"] == pytest.approx(s[4]) and len(seen) == 14
    assert torch.isfinite(out.samples).all() and c.nfe == out.nfe and c.nfe in (14, 27)


def test_repeated_levels_and_teleport_to_zero():
    g = _gauss(seed=7)
    x = _xT(3, 4)
    s = karras_sigmas(10)
    rep = np.concatenate([s[:3], s[2:]])  # sigma_2 repeated: a zero-length step
    for name, fn in _SAMPLERS.items():
        if name == "ancestral":  # stochastic: a repeated level changes its draws
            continue
        torch.testing.assert_close(
            fn(g, x, rep).samples, fn(g, x, s).samples, rtol=1e-12, atol=1e-12
        )
    jump = sample(g, x, s, teleport_to=0.0, gaussian=g)
    torch.testing.assert_close(jump.samples, g.pf_ode(x, 80.0, 0.0))
    assert jump.nfe == 0


@pytest.mark.parametrize("prediction", ["x0", "v"])
def test_vp_denoiser_x0_and_v_prediction(prediction):
    ac = ddpm_alphas_cumprod(ddpm_betas(1000))
    mu, var = -0.4, 0.5
    eps_model = _exact_eps(mu, var, ac)

    def model(z, t):
        a = (1.0 / (1.0 + t_to_sigma(t, ac) ** 2)).reshape(-1, 1).to(z.dtype)
        eps = eps_model(z, t)
        x0 = (z - torch.sqrt(1 - a) * eps) / torch.sqrt(a)
        return x0 if prediction == "x0" else torch.sqrt(a) * eps - torch.sqrt(1 - a) * x0

    D = VPDenoiser(model, ac, prediction=prediction)
    g = GaussianDenoiser([mu], [[var]])
    x = torch.linspace(-10, 10, 5, dtype=torch.float64).reshape(-1, 1)
    sig = torch.tensor([0.1, 0.7, 2.0, 9.0, 60.0], dtype=torch.float64)
    torch.testing.assert_close(D(x, sig), g(x, sig), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", sorted(_SAMPLERS))
@pytest.mark.parametrize(
    "rng", [None, 0, np.random.default_rng(0), "torch"], ids=["none", "int", "numpy", "torch"]
)
def test_every_sampler_takes_every_rng(name, rng):
    g = _gauss()
    x = _xT(3, 4)
    if rng == "torch":
        rng = torch.Generator().manual_seed(0)
    kw = {"s_churn": 5.0} if name in ("euler", "heun") else {}
    out = _SAMPLERS[name](g, x, karras_sigmas(6), rng=rng, **kw)
    assert out.samples.shape == x.shape and torch.isfinite(out.samples).all()
    with pytest.raises(TypeError, match="`rng`"):
        _SAMPLERS[name](g, x, karras_sigmas(6), rng="seed", **kw)


def test_same_int_rng_gives_same_samples_and_generator_is_deprecated():
    g = _gauss()
    x = _xT(5, 4)
    s = karras_sigmas(8)
    a = sample_ancestral(g, x, s, rng=3).samples
    torch.testing.assert_close(a, sample_ancestral(g, x, s, rng=3).samples, rtol=0, atol=0)
    assert not torch.equal(a, sample_ancestral(g, x, s, rng=4).samples)
    with pytest.warns(DeprecationWarning, match="`generator` is deprecated"):
        old = sample_ancestral(g, x, s, generator=torch.Generator().manual_seed(9)).samples
    new = sample_ancestral(g, x, s, rng=torch.Generator().manual_seed(9)).samples
    torch.testing.assert_close(old, new, rtol=0, atol=0)
    with pytest.raises(TypeError, match="both `rng`"):
        sample_ancestral(g, x, s, rng=1, generator=torch.Generator())


@pytest.mark.parametrize("name", sorted(_SAMPLERS))
def test_samplers_check_the_denoiser_output(name):
    x = _xT(4, 2)
    fn = _SAMPLERS[name]
    with pytest.raises(
        ValueError, match=r"`denoiser` \(.*lambda.*\) returned shape \(4, 1\) at step 0"
    ):
        fn(lambda z, s: z[:, :1], x, karras_sigmas(5))
    calls = []

    def nan_late(z, s):
        calls.append(float(s[0]))
        return z * float("nan") if len(calls) == 3 else 0 * z

    with pytest.raises(ValueError, match=r"returned NaN or inf at step \d \(sigma = "):
        fn(nan_late, x, karras_sigmas(5))
    with pytest.raises(TypeError, match="returned ndarray"):
        fn(lambda z, s: z.numpy(), x, karras_sigmas(5))
    with pytest.raises(TypeError, match="`denoiser` must be a callable"):
        fn("not a model", x, karras_sigmas(5))


def test_sample_ddpm_checks_the_model_output():
    betas = ddpm_betas(20)
    with pytest.raises(ValueError, match=r"`model` .* returned shape \(3, 1\) at step 0 \(t = 19"):
        sample_ddpm(lambda z, t: z[:, :1], torch.zeros(3, 2), betas, rng=0)
    with pytest.raises(ValueError, match="`betas`"):
        sample_ddpm(lambda z, t: z, torch.zeros(3, 2), [0.5, 1.5], rng=0)


def test_sample_with_a_custom_sampler_counts_its_calls():
    g = _gauss()
    x = _xT(2, 4)

    def two_steps(den, x, sigmas, **kw):
        for s in sigmas[:-1]:
            x = den(x, x.new_full((x.shape[0],), float(s)))
        return x

    res = sample(g, x, karras_sigmas(5), sampler=two_steps)
    assert res.nfe == 5 and res.sampler == "two_steps"
