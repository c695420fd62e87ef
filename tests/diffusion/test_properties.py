"""Property-based tests of sciddm.diffusion (issue 17): every public name, bad inputs.

Every name of ``sciddm.diffusion.__all__`` and ``sciddm.diffusion.toys.__all__`` has a
case below: valid arguments (whose result must be finite and satisfy a property) and
argument kinds, from which hypothesis draws one bad value at a time (NaN/inf, empty,
wrong shape or type, out-of-range or huge sizes, sparse matrices, bad random sources).
The call must return a finite result or raise ValueError/TypeError naming the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import sciddm.diffusion as D
import sciddm.diffusion.toys as T
from tests.diffusion._props import Case, corrupt_one, fresh

COVERED = frozenset(D.__all__) | frozenset(T.__all__)

G2 = D.GaussianDenoiser([0.5, -0.5], [[1.0, 0.3], [0.3, 0.5]])
DATA = np.random.default_rng(0).normal(size=(12, 2))
X0 = 5.0 * torch.randn(3, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
AC = D.ddpm_alphas_cumprod(D.ddpm_betas(20))


def _is(cls):
    def check(out):
        assert isinstance(out, cls), type(out)

    return check


def _descending_to_zero(s):
    assert np.all(np.diff(s) <= 0) and s[-1] == 0.0


def _sampler_case(fn, **options):
    kinds = {"denoiser": "callable", "x": "tensor", "sigmas": "vector", "rng": "rng"}
    kinds.update({k: "nonneg" for k in options})

    def check(res):
        assert isinstance(res, D.SampleResult) and res.samples.shape == X0.shape
        assert res.nfe >= 1 and res.wall_time >= 0

    return Case(
        fn,
        {"denoiser": G2, "x": X0, "sigmas": D.karras_sigmas(4, sigma_max=5.0), "rng": 0, **options},
        kinds,
        args=("denoiser", "x", "sigmas"),
        check=check,
    )


def _trained():
    return D.train_denoiser(
        D.MLPDenoiser(2, hidden=4, depth=1, rng=0), DATA, steps=2, batch_size=4, rng=0
    )


CASES: dict[str, Case] = {
    # schedules
    "append_zero": Case(
        D.append_zero,
        {"sigmas": np.array([2.0, 1.0])},
        {"sigmas": "vector"},
        check=_descending_to_zero,
    ),
    "check_sigmas": Case(
        D.check_sigmas,
        {"sigmas": np.array([2.0, 1.0, 0.0]), "require_zero": True},
        {"sigmas": "vector"},
        check=_descending_to_zero,
    ),
    "karras_sigmas": Case(
        D.karras_sigmas,
        {"n": 5, "sigma_min": 0.01, "sigma_max": 10.0, "rho": 7.0},
        {"n": "int", "sigma_min": "pos", "sigma_max": "pos", "rho": "pos"},
        check=_descending_to_zero,
    ),
    "ve_sigmas": Case(
        D.ve_sigmas,
        {"n": 5, "sigma_min": 0.1, "sigma_max": 10.0},
        {"n": "int", "sigma_min": "pos", "sigma_max": "pos"},
        check=_descending_to_zero,
    ),
    "vp_sigmas": Case(
        D.vp_sigmas,
        {"n": 5, "beta_d": 19.9, "beta_min": 0.1, "eps_s": 1e-3},
        {"n": "int", "beta_d": "nonneg", "beta_min": "nonneg", "eps_s": "unit"},
        check=_descending_to_zero,
    ),
    "vp_scale": Case(D.vp_scale, {"sigma": np.array([0.0, 1.0, 3.0])}, {"sigma": "vector"}),
    "ddpm_betas": Case(
        D.ddpm_betas,
        {"T": 10, "beta_start": 1e-3, "beta_end": 0.2, "schedule": "linear"},
        {"T": "int", "beta_start": "unit", "beta_end": "unit", "schedule": "choice"},
    ),
    "ddpm_alphas_cumprod": Case(
        D.ddpm_alphas_cumprod, {"betas": np.array([0.1, 0.2])}, {"betas": "vector"}
    ),
    "ddpm_sigmas": Case(D.ddpm_sigmas, {"alphas_cumprod": AC}, {"alphas_cumprod": "vector"}),
    "sigma_to_t": Case(
        D.sigma_to_t,
        {"sigma": np.array([0.5, 2.0]), "alphas_cumprod": AC},
        {"sigma": "vector", "alphas_cumprod": "vector"},
    ),
    "t_to_sigma": Case(
        D.t_to_sigma,
        {"t": np.array([0.5, 7.0]), "alphas_cumprod": AC},
        {"t": "vector", "alphas_cumprod": "vector"},
    ),
    "ddpm_timestep_sigmas": Case(
        D.ddpm_timestep_sigmas,
        {"n": 4, "alphas_cumprod": AC},
        {"n": "int", "alphas_cumprod": "vector"},
        check=_descending_to_zero,
    ),
    "get_ancestral_step": Case(
        D.get_ancestral_step,
        {"sigma_from": 2.0, "sigma_to": 1.0, "eta": 1.0},
        {"sigma_from": "pos", "sigma_to": "nonneg", "eta": "nonneg"},
    ),
    # samplers
    "sample_euler": _sampler_case(D.sample_euler, s_churn=1.0),
    "sample_heun": _sampler_case(D.sample_heun, s_churn=1.0),
    "sample_ddim": _sampler_case(D.sample_ddim, eta=0.5),
    "sample_ancestral": _sampler_case(D.sample_ancestral, eta=1.0, s_noise=1.0),
    "sample_dpmpp_2m": _sampler_case(D.sample_dpmpp_2m),
    "sample": Case(
        D.sample,
        {
            "denoiser": G2,
            "x": X0,
            "sigmas": D.karras_sigmas(6, sigma_max=5.0),
            "sampler": "euler",
            "teleport_to": 1.0,
            "rng": 0,
        },
        {
            "denoiser": "callable",
            "x": "tensor",
            "sigmas": "vector",
            "sampler": "choice",
            "teleport_to": "nonneg",
            "rng": "rng",
        },
        args=("denoiser", "x", "sigmas"),
        check=_is(D.SampleResult),
    ),
    "SampleResult": _sampler_case(D.sample_heun),
    "sample_ddpm": Case(
        D.sample_ddpm,
        {
            "model": lambda z, t: 0.1 * z,
            "x": X0,
            "betas": D.ddpm_betas(5),
            "variance": "small",
            "rng": 1,
        },
        {"model": "callable", "x": "tensor", "betas": "vector", "variance": "choice", "rng": "rng"},
        args=("model", "x", "betas"),
        check=_is(D.SampleResult),
    ),
    "randn_like": Case(
        D.randn_like, {"x": X0, "rng": 0}, {"x": "tensor", "rng": "rng"}, args=("x",)
    ),
    "seeded_noise": Case(
        D.seeded_noise, {"seeds": [1, 2], "shape": (2,)}, {"seeds": "array", "shape": "int"}
    ),
    "NFECounter": Case(
        lambda denoiser: D.sample_euler(D.NFECounter(denoiser), X0, [2.0, 0.0]),
        {"denoiser": G2},
        {"denoiser": "callable"},
    ),
    "Denoiser": Case(
        lambda f: (
            isinstance(f, D.Denoiser) or (_ for _ in ()).throw(TypeError("`f` is not a Denoiser"))
        ),
        {"f": G2},
        {"f": "callable"},
    ),
    # closed forms
    "GaussianDenoiser": Case(
        lambda mean, cov, sigma: D.GaussianDenoiser(mean, cov)(X0, sigma),
        {"mean": [0.0, 1.0], "cov": [[1.0, 0.2], [0.2, 1.0]], "sigma": 0.5},
        {"mean": "vector", "cov": "array", "sigma": "nonneg"},
    ),
    "GaussianMixtureDenoiser": Case(
        lambda means, covs, weights, sigma: D.GaussianMixtureDenoiser(means, covs, weights)(
            X0, sigma
        ),
        {
            "means": [[0.0, 0.0], [2.0, 0.0]],
            "covs": np.stack([np.eye(2)] * 2),
            "weights": [0.3, 0.7],
            "sigma": 0.5,
        },
        {"means": "array", "covs": "array", "weights": "vector", "sigma": "nonneg"},
    ),
    "EmpiricalDenoiser": Case(
        lambda data, chunk_size, sigma: D.EmpiricalDenoiser(data, chunk_size=chunk_size)(X0, sigma),
        {"data": DATA, "chunk_size": 5, "sigma": 0.5},
        {"data": "array", "chunk_size": "int", "sigma": "nonneg"},
        blame={"data": ("data", "x")},
    ),
    "fit_gaussian": Case(
        D.fit_gaussian,
        {"data": DATA, "rank": 1, "shrinkage": 0.0, "ddof": 1},
        {"data": "array", "rank": "int", "shrinkage": "nonneg", "ddof": "int"},
        check=_is(D.GaussianDenoiser),
    ),
    "fit_gaussian_mixture": Case(
        D.fit_gaussian_mixture,
        {"data": DATA, "n_components": 2, "rng": 0},
        {"data": "array", "n_components": "int", "rng": "rng"},
    ),
    "teleport": Case(
        D.teleport,
        {"x_T": X0, "gaussian": G2, "sigma_T": 5.0, "sigma_skip": 1.0},
        {"x_T": "tensor", "gaussian": "callable", "sigma_T": "pos", "sigma_skip": "nonneg"},
    ),
    # networks
    "EDMPrecond": Case(
        lambda model, sigma_data: D.EDMPrecond(model, sigma_data=sigma_data)(X0, torch.ones(3)),
        {"model": lambda x, c: x, "sigma_data": 0.5},
        {"model": "callable", "sigma_data": "pos"},
    ),
    "MLPDenoiser": Case(
        D.MLPDenoiser,
        {"dim": 2, "hidden": 4, "depth": 1, "emb_dim": 4, "rng": 0},
        {"dim": "int", "hidden": "int", "depth": "int", "emb_dim": "int", "rng": "rng"},
    ),
    "UNetDenoiser": Case(
        D.UNetDenoiser,
        {"channels": 1, "base": 2, "emb_dim": 4, "rng": 0},
        {"channels": "int", "base": "int", "emb_dim": "int", "rng": "rng"},
    ),
    "EpsMLP": Case(
        D.EpsMLP,
        {"dim": 2, "hidden": 4, "depth": 1, "emb_dim": 4, "rng": 0},
        {"dim": "int", "hidden": "int", "depth": "int", "emb_dim": "int", "rng": "rng"},
    ),
    "timestep_embedding": Case(
        D.timestep_embedding,
        {"t": np.arange(3.0), "dim": 5, "max_period": 100.0},
        {"t": "vector", "dim": "int", "max_period": "pos"},
    ),
    "VPDenoiser": Case(
        lambda model, alphas_cumprod, prediction: D.VPDenoiser(
            model, alphas_cumprod, prediction=prediction
        )(X0, torch.ones(3, dtype=torch.float64)),
        {"model": lambda z, t: 0 * z, "alphas_cumprod": AC, "prediction": "eps"},
        {"model": "callable", "alphas_cumprod": "vector", "prediction": "choice"},
    ),
    # training
    "train_denoiser": Case(
        lambda **kw: D.train_denoiser(D.MLPDenoiser(2, hidden=4, depth=1, rng=0), **kw),
        {"data": DATA, "steps": 2, "batch_size": 4, "lr": 1e-3, "ema": 0.5, "rng": 0},
        {
            "data": "array",
            "steps": "int",
            "batch_size": "int",
            "lr": "pos",
            "ema": "unit",
            "rng": "rng",
        },
    ),
    "TrainResult": Case(lambda: _trained(), {}, {}, check=_is(D.TrainResult)),
    "EDMLoss": Case(
        lambda p_mean, p_std, rng: D.EDMLoss(p_mean=p_mean, p_std=p_std)(
            D.MLPDenoiser(2, hidden=4, rng=0), torch.as_tensor(DATA, dtype=torch.float32), rng
        ),
        {"p_mean": -1.2, "p_std": 1.2, "rng": 0},
        {"p_mean": "real", "p_std": "nonneg", "rng": "rng"},
    ),
    "DDPMLoss": Case(
        lambda betas, rng: D.DDPMLoss(betas)(
            D.EpsMLP(2, hidden=4, rng=0), torch.as_tensor(DATA, dtype=torch.float32), rng
        ),
        {"betas": D.ddpm_betas(10), "rng": 0},
        {"betas": "vector", "rng": "rng"},
    ),
    # analysis and metrics
    "explained_variance": Case(
        D.explained_variance,
        {
            "denoiser": G2,
            "references": {"g": G2},
            "data": DATA,
            "sigmas": [0.5, 2.0],
            "n": 6,
            "rng": 0,
            "dtype": torch.float64,
        },
        {"denoiser": "callable", "data": "array", "sigmas": "vector", "n": "int", "rng": "rng"},
        blame={"data": ("data", "x")},
    ),
    "ExplainedVarianceResult": Case(
        lambda: D.explained_variance(G2, {"g": G2}, DATA, [1.0], n=6, rng=0, dtype=torch.float64),
        {},
        {},
        check=_is(D.ExplainedVarianceResult),
    ),
    "nearest_neighbor_distances": Case(
        D.nearest_neighbor_distances,
        {"samples": DATA[:3], "train": DATA, "k": 2, "chunk_size": 4},
        {"samples": "array", "train": "array", "k": "int", "chunk_size": "int"},
    ),
    "memorization": Case(
        D.memorization,
        {"samples": DATA[:3] + 0.1, "train": DATA, "threshold": 0.3},
        {"samples": "array", "train": "array", "threshold": "unit"},
        check=_is(D.MemorizationResult),
    ),
    "MemorizationResult": Case(
        lambda: D.memorization(DATA[:3], DATA), {}, {}, check=_is(D.MemorizationResult)
    ),
    "frechet_distance": Case(
        D.frechet_distance, {"x": DATA, "y": DATA[::-1] + 1.0}, {"x": "array", "y": "array"}
    ),
    "PCAFeatures": Case(
        lambda X, n_components: D.PCAFeatures(n_components).fit(X).transform(X),
        {"X": DATA, "n_components": 1},
        {"X": "array", "n_components": "int"},
    ),
    "ClassifierFeatures": Case(
        lambda X, y, epochs: (
            D.ClassifierFeatures(hidden=3, n_features=2, epochs=epochs, random_state=0)
            .fit(X, y)
            .transform(X)
        ),
        {"X": DATA, "y": np.arange(12) % 2, "epochs": 2},
        {"X": "array", "y": "vector", "epochs": "int"},
    ),
    "sliced_wasserstein": Case(
        D.sliced_wasserstein,
        {"x": DATA, "y": DATA[:5], "n_projections": 3, "p": 2.0, "rng": 0},
        {"x": "array", "y": "array", "n_projections": "int", "p": "pos", "rng": "rng"},
    ),
    "mmd": Case(
        D.mmd,
        {"x": DATA, "y": DATA[:5] + 1, "bandwidth": 1.0},
        {"x": "array", "y": "array", "bandwidth": "pos"},
    ),
    # toys
    "ring_mixture_params": Case(
        T.ring_mixture_params,
        {"k": 3, "radius": 2.0, "std": 0.1},
        {"k": "int", "radius": "nonneg", "std": "pos"},
    ),
    "ring_mixture": Case(
        T.ring_mixture,
        {"n": 5, "k": 3, "radius": 2.0, "std": 0.1, "rng": 0},
        {"n": "int", "k": "int", "radius": "nonneg", "std": "pos", "rng": "rng"},
    ),
    "load_digits_scaled": Case(T.load_digits_scaled, {}, {}),
}


def test_covered_is_the_public_api():
    from tests.diffusion.test_search_properties import COVERED as SEARCH_COVERED

    assert frozenset(CASES) | SEARCH_COVERED == COVERED
    assert not frozenset(CASES) & SEARCH_COVERED


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_input_gives_a_finite_valid_result(name):
    case = CASES[name]
    case.run({k: fresh(v) for k, v in case.kwargs.items()})


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n].kinds))
@given(data=st.data())
def test_bad_input_gives_a_named_error_or_a_valid_result(name, data):
    case = CASES[name]
    slot, bad = data.draw(corrupt_one(case))
    kw = {k: fresh(v) for k, v in case.kwargs.items()}
    kw[slot] = bad
    case.run(kw, slot)


# --- properties of valid, generated inputs -------------------------------------------

finite = st.floats(-50, 50, allow_nan=False)


@given(
    n=st.integers(1, 40),
    lo=st.floats(1e-4, 1.0),
    span=st.floats(1.0, 1e4),
    rho=st.floats(0.5, 20.0),
)
def test_karras_ladders_descend_from_sigma_max_to_sigma_min(n, lo, span, rho):
    s = D.karras_sigmas(n, sigma_min=lo, sigma_max=lo * span, rho=rho)
    assert s.shape == (n + 1,) and s[-1] == 0.0 and s[0] == lo * span
    assert np.all(np.diff(s) <= 0) and (n == 1 or s[-2] == lo)


@given(
    b=st.integers(1, 4),
    d=st.integers(1, 3),
    sigma=st.floats(0.0, 1e3),
    seed=st.integers(0, 2**31),
)
def test_empirical_denoiser_stays_in_the_convex_hull(b, d, sigma, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(5, d))
    x = rng.normal(size=(b, d)) * 10
    out = D.EmpiricalDenoiser(data)(x, sigma)
    assert out.shape == (b, d) and np.all(np.isfinite(out))
    assert np.all(out >= data.min(0) - 1e-9) and np.all(out <= data.max(0) + 1e-9)


@pytest.mark.parametrize("name", ["euler", "heun", "ddim", "dpmpp_2m", "ancestral"])
@given(b=st.integers(1, 3), steps=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_samplers_on_a_gaussian_are_finite_and_reproducible(name, b, steps, seed):
    x = 10.0 * torch.randn(b, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    s = D.karras_sigmas(steps, sigma_max=10.0)
    a = D.sample(G2, x, s, sampler=name, rng=seed)
    again = D.sample(G2, x, s, sampler=name, rng=seed)
    assert torch.equal(a.samples, again.samples) and torch.isfinite(a.samples).all()
    assert a.nfe == (2 * steps - 1 if name == "heun" else steps)


@given(
    mean=st.lists(finite, min_size=2, max_size=2),
    var=st.lists(st.floats(0.0, 10.0), min_size=2, max_size=2),
    sigma=st.floats(1e-3, 1e3),
)
def test_gaussian_denoiser_is_the_posterior_mean(mean, var, sigma):
    g = D.GaussianDenoiser(mean, np.diag(var))
    x = np.array([[1.0, -2.0]])
    expected = np.array(mean) + np.array(var) / (np.array(var) + sigma**2) * (x - mean)
    np.testing.assert_allclose(g(x, sigma), expected, rtol=1e-9, atol=1e-9)


@given(n=st.integers(0, 30), k=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_ring_mixture_points_sit_near_the_circle(n, k, seed):
    x = T.ring_mixture(n, k=k, radius=3.0, std=0.01, rng=seed)
    assert x.shape == (n, 2)
    assert np.all(np.abs(np.linalg.norm(x, axis=1) - 3.0) < 0.1)
