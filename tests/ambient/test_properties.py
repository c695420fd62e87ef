"""Property-based tests of sciddm.ambient (issue 17): every public name, bad inputs.

Each name of ``sciddm.ambient.__all__`` and ``sciddm.ambient.toys.__all__`` has a
case: valid arguments (finite result, a property) and argument kinds from which
hypothesis draws one bad value at a time. The call must return a finite result or
raise ValueError/TypeError naming the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import sciddm.ambient as A
import sciddm.ambient.toys as T
from tests.diffusion._props import Case, corrupt_one, fresh

COVERED = frozenset(A.__all__) | frozenset(T.__all__)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 2))
S = np.r_[np.zeros(10), np.full(20, 0.5)]
Y = X + S[:, None] * RNG.normal(size=(30, 2))
MIX = T.heterogeneous_mixture(3)
W, M, C = MIX
YT = torch.as_tensor(Y, dtype=torch.float32)
ST = torch.as_tensor(S, dtype=torch.float32)


def _is(cls):
    def check(out):
        assert isinstance(out, cls), type(out)

    return check


def _gm(X, sigma_n, n_components, max_iter):
    gm = A.NoisyGaussianMixture(n_components, max_iter=max_iter, random_state=0)
    gm.fit(X, sigma_n=sigma_n)
    return gm.score_samples(X, sigma_n), gm.predict_proba(X, sigma_n), gm.sample(3, rng=0)


def _dataset(y, sigma_n, x):
    ds = A.NoisyDataset(y=y, sigma_n=sigma_n, x=x)
    return ds.n_clean, ds.clean_only().y, ds.oversample_clean(2).y


def _scenarios():
    assert A.SCENARIOS == ("100% clean", "100% noisy", "10% clean only", "90% noisy + 10% clean")
    return A.paper_scenarios(X, sigma=0.5, rng=0)


NC = np.array([10.0, 20, 40, 80, 10, 10, 10, 10])
NN = np.array([0.0, 0, 0, 0, 40, 160, 640, 2560])
ERR = 2.0 * (NC + 0.25 * NN) ** -0.5

CASES: dict[str, Case] = {
    "SCENARIOS": Case(_scenarios, {}, {}),
    "NoisyDataset": Case(
        _dataset,
        {"y": Y, "sigma_n": S, "x": X},
        {"y": "array", "sigma_n": "vector", "x": "array"},
        blame={"x": ("x", "y"), "y": ("y", "sigma_n")},
    ),
    "corrupt": Case(
        A.corrupt,
        {"x": X, "sigma_n": 0.5, "rng": 0},
        {"x": "array", "sigma_n": "nonneg", "rng": "rng"},
        check=_is(A.NoisyDataset),
    ),
    "make_clean_noisy": Case(
        A.make_clean_noisy,
        {"x": X, "clean_fraction": 0.2, "sigma": 0.5, "rng": 0},
        {"x": "array", "clean_fraction": "unit", "sigma": "nonneg", "rng": "rng"},
    ),
    "paper_scenarios": Case(
        A.paper_scenarios,
        {"x": X, "sigma": 0.5, "clean_fraction": 0.1, "rng": 0},
        {"x": "array", "sigma": "pos", "clean_fraction": "unit", "rng": "rng"},
    ),
    "edm_weight": Case(
        A.edm_weight,
        {"sigma": torch.tensor([0.1, 1.0]), "sigma_data": 0.5},
        {"sigma": "tensor", "sigma_data": "pos"},
    ),
    "truncated_lognormal_sigma": Case(
        A.truncated_lognormal_sigma,
        {"sigma_min": ST, "p_mean": -1.2, "p_std": 1.2, "rng": 0},
        {"sigma_min": "tensor", "p_mean": "real", "p_std": "pos", "rng": "rng"},
        args=("sigma_min",),
    ),
    "ambient_loss": Case(
        A.ambient_loss,
        {"denoiser": lambda x, s: 0.5 * x, "y": YT, "sigma_n": ST, "rng": 0, "sigma_data": 0.5},
        {
            "denoiser": "callable",
            "y": "tensor",
            "sigma_n": "tensor",
            "rng": "rng",
            "sigma_data": "pos",
        },
        args=("denoiser", "y", "sigma_n"),
        blame={"y": ("y", "sigma_n")},
    ),
    "AmbientLoss": Case(
        lambda p_mean, p_std, batch: A.AmbientLoss(p_mean=p_mean, p_std=p_std)(
            lambda x, s: 0.5 * x, batch, 0
        ),
        {"p_mean": -1.2, "p_std": 1.2, "batch": (YT, ST)},
        {"p_mean": "real", "p_std": "pos", "batch": "array"},
    ),
    "ambient_sigmas": Case(
        A.ambient_sigmas,
        {"n": 5, "sigma_n": S, "sigma_max": 80.0},
        {"n": "int", "sigma_n": "vector", "sigma_max": "pos"},
    ),
    "ambient_sample": Case(
        A.ambient_sample,
        {"denoiser": lambda x, s: 0.5 * x, "shape": (3, 2), "sigma_n": 0.3, "steps": 3, "rng": 0},
        {"denoiser": "callable", "shape": "int", "sigma_n": "nonneg", "steps": "int", "rng": "rng"},
        args=("denoiser", "shape", "sigma_n"),
    ),
    "noisy_log_likelihood": Case(
        A.noisy_log_likelihood,
        {"y": Y, "sigma_n": S, "weights": W, "means": M, "covariances": C},
        {
            "y": "array",
            "sigma_n": "vector",
            "weights": "vector",
            "means": "array",
            "covariances": "array",
        },
    ),
    "clipped_covariance": Case(
        A.clipped_covariance,
        {"y": Y, "sigma_n": S},
        {"y": "array", "sigma_n": "vector"},
        check=_is(A.GaussianFit),
    ),
    "GaussianFit": Case(lambda: A.clipped_covariance(Y, 0.5), {}, {}, check=_is(A.GaussianFit)),
    "heteroscedastic_gaussian_mle": Case(
        A.heteroscedastic_gaussian_mle,
        {"y": Y, "sigma_n": S, "max_iter": 50, "tol": 1e-8},
        {"y": "array", "sigma_n": "vector", "max_iter": "int", "tol": "nonneg"},
    ),
    "NoisyGaussianMixture": Case(
        _gm,
        {"X": Y, "sigma_n": S, "n_components": 2, "max_iter": 300},
        {"X": "array", "sigma_n": "vector", "n_components": "int", "max_iter": "int"},
    ),
    "gaussian_fisher_value": Case(
        A.gaussian_fisher_value,
        {"cov": np.eye(2), "sigma": 0.5, "parameter": "covariance"},
        {"cov": "array", "sigma": "nonneg", "parameter": "choice"},
        check=_is(A.FisherValue),
    ),
    "FisherValue": Case(
        lambda: A.gaussian_fisher_value(2.0, 1.0), {}, {}, check=_is(A.FisherValue)
    ),
    "mixture_fisher_value": Case(
        A.mixture_fisher_value,
        {"weights": W, "means": M, "covariances": C, "sigma": 0.5, "n_mc": 200, "rng": 0},
        {
            "weights": "vector",
            "means": "array",
            "covariances": "array",
            "sigma": "nonneg",
            "n_mc": "int",
            "rng": "rng",
        },
    ),
    "fit_scaling_law": Case(
        A.fit_scaling_law,
        {"n_clean": NC, "n_noisy": NN, "error": ERR},
        {"n_clean": "vector", "n_noisy": "vector", "error": "vector"},
        blame={k: ("n_clean", "n_noisy", "error") for k in ("n_clean", "n_noisy", "error")},
    ),
    "ScalingLawFit": Case(
        lambda: A.fit_scaling_law(NC, NN, ERR), {}, {}, check=_is(A.ScalingLawFit)
    ),
    "gaussian_w2": Case(
        A.gaussian_w2,
        {"mean1": [0.0, 0.0], "cov1": np.eye(2), "mean2": [1.0, 0.0], "cov2": 2 * np.eye(2)},
        {"mean1": "vector", "cov1": "array", "mean2": "vector", "cov2": "array"},
    ),
    "mixture_w2": Case(
        A.mixture_w2,
        {
            "weights1": W,
            "means1": M,
            "covs1": C,
            "weights2": W[::-1],
            "means2": M[::-1],
            "covs2": C[::-1],
        },
        {"weights1": "vector", "means1": "array", "covs1": "array", "weights2": "vector"},
    ),
    "mixture_error": Case(
        A.mixture_error,
        {"true": MIX, "estimate": (W, M + 0.1, C)},
        {"true": "object", "estimate": "object"},
        check=_is(A.MixtureError),
    ),
    "MixtureError": Case(lambda: A.mixture_error(MIX, MIX), {}, {}, check=_is(A.MixtureError)),
    # toys
    "heterogeneous_mixture": Case(
        T.heterogeneous_mixture,
        {"k": 3, "radius": 4.0, "narrow": 0.01, "wide": 1.0},
        {"k": "int", "radius": "nonneg", "narrow": "pos", "wide": "pos"},
    ),
    "sample_heterogeneous_mixture": Case(
        T.sample_heterogeneous_mixture,
        {"mixture": MIX, "n": 4, "rng": 0},
        {"mixture": "object", "n": "int", "rng": "rng"},
    ),
    "mixture_scenario_errors": Case(
        T.mixture_scenario_errors,
        {"n": 60, "sigma": 0.5, "k": 2, "rng": 0},
        {"n": "int", "sigma": "pos", "k": "int", "rng": "rng"},
    ),
}


def test_covered_is_the_public_api():
    assert frozenset(CASES) == COVERED


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


@given(n=st.integers(1, 20), sigma=st.floats(0.0, 100.0), seed=st.integers(0, 2**31))
def test_corrupt_keeps_clean_rows_and_noise_levels(n, sigma, seed):
    x = np.random.default_rng(seed).normal(size=(n, 2))
    s = np.where(np.arange(n) % 2 == 0, 0.0, sigma)
    ds = A.corrupt(x, s, rng=seed)
    np.testing.assert_array_equal(ds.sigma_n, s)
    np.testing.assert_array_equal(ds.y[s == 0], x[s == 0])
    assert ds.n_clean == int(np.sum(s == 0))


@given(smin=st.floats(0.0, 50.0), p_mean=st.floats(-3, 3), p_std=st.floats(0.1, 2.0))
def test_truncated_lognormal_respects_its_floor(smin, p_mean, p_std):
    s = A.truncated_lognormal_sigma(
        torch.full((50,), smin, dtype=torch.float64), p_mean=p_mean, p_std=p_std, rng=0
    )
    assert torch.isfinite(s).all() and bool((s >= smin * (1 - 1e-12)).all())


@given(
    var=st.floats(0.01, 10.0),
    sigma=st.floats(0.0, 10.0),
)
def test_fisher_value_of_the_mean_is_the_variance_ratio(var, sigma):
    fv = A.gaussian_fisher_value(var, sigma)
    assert fv.value == pytest.approx(var / (var + sigma**2), rel=1e-9)
    assert 0 < fv.value <= 1 and fv.price == pytest.approx(1 / fv.value)


@given(shift=st.floats(-5, 5), scale=st.floats(0.1, 3.0))
def test_gaussian_w2_closed_form_in_1d(shift, scale):
    assert A.gaussian_w2([0.0], [[1.0]], [shift], [[scale**2]]) == pytest.approx(
        np.hypot(shift, 1 - scale), abs=1e-9
    )
