"""Tests of the data model, Fisher values, mixture distances and scaling laws."""

import numpy as np
import pytest

from sciddm.ambient import (
    SCENARIOS,
    NoisyDataset,
    corrupt,
    fit_scaling_law,
    gaussian_fisher_value,
    gaussian_w2,
    make_clean_noisy,
    mixture_fisher_value,
    mixture_w2,
    paper_scenarios,
)


def test_corrupt_is_fixed_by_seed_and_has_right_noise():
    x = np.zeros((20_000, 2))
    a = corrupt(x, 0.5, rng=3)
    b = corrupt(x, 0.5, rng=3)
    np.testing.assert_array_equal(a.y, b.y)
    # sample std of 40k N(0, 0.25) draws: SE 0.5/sqrt(80k) ~ 0.0018; 0.01 is > 5 SE
    assert abs(a.y.std() - 0.5) < 0.01
    per = corrupt(np.zeros((4, 3, 3)), [0.0, 1.0, 0.0, 2.0], rng=0)
    assert np.all(per.y[[0, 2]] == 0) and np.all(per.y[[1, 3]] != 0)
    assert per.min_sigma == 0.0 and per.n_clean == 2


def test_scenarios_share_the_clean_subset_and_noise():
    x = np.random.default_rng(0).normal(size=(100, 3))
    sc = paper_scenarios(x, sigma=0.2, clean_fraction=0.1, rng=1)
    assert tuple(sc) == SCENARIOS
    mixed, clean10, noisy = sc["90% noisy + 10% clean"], sc["10% clean only"], sc["100% noisy"]
    assert mixed.n == 100 and mixed.n_clean == 10 and clean10.n == 10 and clean10.n_noisy == 0
    np.testing.assert_array_equal(mixed.clean_only().y, clean10.y)
    np.testing.assert_array_equal(mixed.noisy_only().y, noisy.y[~mixed.is_clean])
    np.testing.assert_array_equal(sc["100% clean"].y, x)
    ds = make_clean_noisy(x, clean_fraction=0.25, sigma=1.0, keep_noisy=False, rng=0)
    assert ds.n == 25 and ds.n_noisy == 0
    y, s = mixed.as_tensors()
    assert tuple(y.shape) == (100, 3) and tuple(s.shape) == (100,)


def test_data_bad_input():
    with pytest.raises(ValueError, match="`sigma_n` must be non-negative"):
        corrupt(np.zeros((3, 2)), -0.1)
    with pytest.raises(ValueError, match="`sigma_n` must have one entry per sample"):
        corrupt(np.zeros((3, 2)), [0.1, 0.2])
    with pytest.raises(ValueError, match="`x` must not contain NaN"):
        corrupt(np.array([[np.nan]]), 0.1)
    with pytest.raises(ValueError, match="`clean_fraction` must be in"):
        make_clean_noisy(np.zeros((3, 2)), clean_fraction=1.5, sigma=0.1)
    with pytest.raises(ValueError, match=r"`sigma` must be in \(0, inf\)"):
        paper_scenarios(np.zeros((3, 2)), sigma=0.0)
    with pytest.raises(ValueError, match="`x` and `y` must have the same shape"):
        NoisyDataset(y=np.zeros((3, 2)), sigma_n=np.zeros(3), x=np.zeros((3, 1)))


def test_gaussian_fisher_values_closed_forms():
    # one dimension: mean value s^2/(s^2+sigma^2), variance value s^4/(s^2+sigma^2)^2
    for s2, sig in [(2.0, 1.0), (0.1, 0.5), (1.0, 0.0)]:
        assert np.isclose(gaussian_fisher_value(s2, sig).value, s2 / (s2 + sig**2))
        fv = gaussian_fisher_value(s2, sig, parameter="covariance")
        assert np.isclose(fv.value, s2**2 / (s2 + sig**2) ** 2)
    cov = np.diag([4.0, 1.0, 0.25])
    fv = gaussian_fisher_value(cov, 1.0)
    np.testing.assert_allclose(fv.efficiencies, np.sort([4 / 5, 1 / 2, 0.25 / 1.25]))
    assert np.isclose(fv.value, 5.25 / 8.25) and np.isclose(fv.price, 8.25 / 5.25)


def test_gaussian_covariance_fisher_matches_sample_covariance_variance():
    # the inverse Fisher information of vech(Sigma) is the asymptotic covariance of the
    # sample covariance: Var(S_jk) = (C_jj C_kk + C_jk^2)/n; check its trace.
    c = np.array([[1.0, 0.3], [0.3, 0.5]])
    fv = gaussian_fisher_value(c, 0.0, parameter="covariance")
    tr = np.trace(np.linalg.inv(fv.info_clean))
    expect = (c[0, 0] ** 2 * 2) + (c[1, 1] ** 2 * 2) + (c[0, 0] * c[1, 1] + c[0, 1] ** 2)
    assert np.isclose(tr, expect)


def test_mixture_fisher_value_single_component_and_separation():
    # one component: MC estimate of the mean value matches s^2/(s^2+sigma^2) = 2/3;
    # 200k draws give an MC relative error ~0.5 %; tolerance 0.02 is > 5 SE
    fv = mixture_fisher_value([1.0], [[0.0]], [[[2.0]]], 1.0, n_mc=200_000, rng=0)
    assert abs(fv.value - 2 / 3) < 0.02
    fvv = mixture_fisher_value([1.0], [[0.0]], [[[2.0]]], 1.0, parameter="variances", rng=0)
    assert abs(fvv.value - 4 / 9) < 0.02
    # two overlapping components: noise destroys more information than for one Gaussian
    w, m, c = [0.5, 0.5], [[-1.0], [1.0]], [[[0.25]], [[0.25]]]
    two = mixture_fisher_value(w, m, c, 1.0, n_mc=100_000, rng=1)
    assert two.value < gaussian_fisher_value(0.25, 1.0).value


def test_fisher_bad_input():
    with pytest.raises(ValueError, match="`sigma` must be in"):
        gaussian_fisher_value(1.0, -1.0)
    with pytest.raises(ValueError, match="`cov` must be positive definite"):
        gaussian_fisher_value(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="`parameter` must be one of"):
        gaussian_fisher_value(1.0, 1.0, parameter="weights")
    with pytest.raises(ValueError, match="`weights` must be positive and sum to 1"):
        mixture_fisher_value([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]], 1.0)


def test_w2_closed_forms_and_mixture_bound():
    # commuting covariances: W2^2 = |dm|^2 + |sqrt(C1) - sqrt(C2)|_F^2
    c1, c2 = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
    d = gaussian_w2([0, 0], c1, [1, 1], c2)
    assert np.isclose(d**2, 2 + (1 - 3) ** 2 + (2 - 1) ** 2)
    # MW2 between two Gaussians is W2; it is symmetric and vanishes on equal mixtures
    assert np.isclose(mixture_w2([1.0], [[0, 0]], [c1], [1.0], [[1, 1]], [c2]), d)
    w, m, c = [0.3, 0.7], [[0.0], [5.0]], [[[1.0]], [[2.0]]]
    w2_, m2_, c2_ = [0.5, 0.5], [[0.5], [4.0]], [[[1.5]], [[1.0]]]
    assert np.isclose(mixture_w2(w, m, c, w2_, m2_, c2_), mixture_w2(w2_, m2_, c2_, w, m, c))
    assert mixture_w2(w, m, c, w, m, c) < 1e-7
    # MW2 >= W2 computed between the mixtures numerically in 1-D (quantile functions)
    from scipy.stats import norm

    q = np.linspace(1e-4, 1 - 1e-4, 20001)

    def quantile(wts, mus, cs, p):
        grid = np.linspace(-15, 25, 40001)
        cdf = sum(wk * norm.cdf(grid, mk[0], np.sqrt(ck[0][0])) for wk, mk, ck in zip(wts, mus, cs))
        return np.interp(p, cdf, grid)

    w2_true = np.sqrt(np.mean((quantile(w, m, c, q) - quantile(w2_, m2_, c2_, q)) ** 2))
    assert mixture_w2(w, m, c, w2_, m2_, c2_) >= w2_true - 1e-3


def test_scaling_law_recovers_known_law_with_noise():
    rng = np.random.default_rng(0)
    nc = np.r_[[20, 40, 80, 160, 320], [20] * 5]
    nn = np.r_[[0] * 5, [100, 200, 400, 800, 1600]]
    truth = 3.0 * (nc + 0.2 * nn) ** -0.5
    err = truth * np.exp(0.01 * rng.normal(size=truth.size))
    fit = fit_scaling_law(nc, nn, err)
    assert abs(fit.exponent - 0.5) < 0.05
    assert abs(fit.noisy_value - 0.2) < 0.03
    assert abs(fit.price - 5.0) < 4 * fit.stderr["price"] + 0.2
    np.testing.assert_allclose(fit.predict(nc, nn), truth, rtol=0.05)
    fit2 = fit_scaling_law(nc, nn, 3.0 * (nc + 0.2 * nn) ** -0.5 + 0.01, fit_floor=True)
    assert abs(fit2.floor - 0.01) < 2e-3 and abs(fit2.noisy_value - 0.2) < 0.02


def test_scaling_law_bad_input():
    with pytest.raises(ValueError, match="must have the same length"):
        fit_scaling_law([1, 2], [0, 1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="`error` must be positive"):
        fit_scaling_law([1, 2, 3, 4], [0, 0, 1, 2], [1.0, 0.0, 0.3, 0.2])
    with pytest.raises(ValueError, match="must both vary"):
        fit_scaling_law([1, 1, 1, 1], [0, 1, 2, 3], [1.0, 0.9, 0.8, 0.7])
    with pytest.raises(ValueError, match="need at least 4 measurements"):
        fit_scaling_law([1, 2, 3], [0, 1, 2], [1.0, 0.9, 0.8])
    with pytest.raises(ValueError, match="`error` must not contain NaN"):
        fit_scaling_law([1, 2, 3, 4], [0, 1, 2, 3], [1.0, np.nan, 0.8, 0.7])
