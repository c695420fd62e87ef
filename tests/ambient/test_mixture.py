"""Tests of heteroscedastic Gaussian and mixture estimation."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sciddm._core.validation import ConvergenceWarning
from sciddm.ambient import (
    NoisyGaussianMixture,
    clipped_covariance,
    corrupt,
    heteroscedastic_gaussian_mle,
    mixture_error,
    noisy_log_likelihood,
)

MEAN = np.array([1.0, -0.5])
COV = np.array([[1.0, 0.6], [0.6, 0.5]])


def _draw(n, sigma, seed):
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal(MEAN, COV, size=n)
    return corrupt(x, sigma, rng=rng)


def test_mle_is_consistent():
    # heterogeneous noise levels; the error of the MLE falls like n^-1/2:
    # over 8 seeds at n = 500 and n = 8000 the mean error must shrink by > 2x
    # (the expected shrink is 4x; a factor-2 fall happening by chance is
    # negligible with 8 seeds), and at n = 8000 be below 0.1.
    errs = {}
    for n in (500, 8000):
        e = []
        for seed in range(8):
            rng = np.random.default_rng(seed)
            sig = rng.choice([0.0, 0.5, 2.0], size=n)
            ds = _draw(n, sig, 100 + seed)
            fit = heteroscedastic_gaussian_mle(ds.y, ds.sigma_n)
            assert fit.converged
            e.append(np.linalg.norm(fit.mean - MEAN) + np.linalg.norm(fit.covariance - COV))
        errs[n] = np.mean(e)
    assert errs[8000] < errs[500] / 2
    assert errs[8000] < 0.1


def test_mle_maximises_likelihood():
    ds = _draw(600, np.r_[np.zeros(100), np.full(500, 1.5)], 3)
    fit = heteroscedastic_gaussian_mle(ds.y, ds.sigma_n)
    ll = noisy_log_likelihood(ds.y, ds.sigma_n, [1.0], fit.mean[None], fit.covariance[None]).mean()
    assert np.isclose(ll, fit.log_likelihood, atol=1e-8)
    rng = np.random.default_rng(0)
    for _ in range(20):  # random perturbations never increase the likelihood
        dm = 0.02 * rng.normal(size=2)
        a = 0.02 * rng.normal(size=(2, 2))
        cov = fit.covariance + (a + a.T) / 2
        if np.linalg.eigvalsh(cov)[0] <= 0:
            continue
        llp = noisy_log_likelihood(ds.y, ds.sigma_n, [1.0], (fit.mean + dm)[None], cov[None]).mean()
        assert llp <= fit.log_likelihood + 1e-9
    # and it beats the clipped moment estimator in likelihood
    assert fit.log_likelihood >= clipped_covariance(ds.y, ds.sigma_n).log_likelihood - 1e-9


def test_equal_noise_mle_matches_closed_form():
    # equal sigma: MLE covariance = sample covariance (divisor n) - sigma^2 I, if PSD
    ds = _draw(3000, 0.7, 5)
    fit = heteroscedastic_gaussian_mle(ds.y, ds.sigma_n)
    ref = np.cov(ds.y, rowvar=False, bias=True) - 0.49 * np.eye(2)
    assert np.all(np.linalg.eigvalsh(ref) > 0)
    np.testing.assert_allclose(fit.mean, ds.y.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(fit.covariance, ref, atol=1e-5)


def test_clipped_estimator_unbiased_before_clipping_and_psd():
    covs = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        sig = rng.uniform(0, 1.0, size=50)
        ds = _draw(50, sig, 1000 + seed)
        covs.append(np.cov(ds.y, rowvar=False) - np.mean(sig**2) * np.eye(2))
    covs = np.array(covs)
    m = covs.mean(axis=0)
    se = covs.std(axis=0, ddof=1) / np.sqrt(len(covs))
    assert np.all(np.abs(m - COV) < 4 * se)  # 4 SE per entry: false alarm ~2.5e-4 total
    fit = clipped_covariance(_draw(30, 3.0, 9).y, 3.0)
    assert np.linalg.eigvalsh(fit.covariance)[0] >= -1e-12


def test_em_recovers_known_mixture():
    rng = np.random.default_rng(0)
    w = np.array([0.3, 0.7])
    mu = np.array([[-2.0, 0.0], [2.0, 1.0]])
    cov = np.array([[[0.3, 0.1], [0.1, 0.2]], [[1.0, -0.3], [-0.3, 0.6]]])
    n = 6000
    comp = rng.choice(2, size=n, p=w)
    x = np.array([rng.multivariate_normal(mu[c], cov[c]) for c in comp])
    sig = rng.choice([0.0, 0.8], size=n)
    ds = corrupt(x, sig, rng=1)
    gm = NoisyGaussianMixture(2, random_state=0, n_init=2).fit(ds.y, sigma_n=ds.sigma_n)
    err = mixture_error((w, mu, cov), (gm.weights_, gm.means_, gm.covariances_))
    assert err.mean_error < 0.06
    assert err.cov_error < 0.1
    assert err.weight_error < 0.03
    # MW2 moves mass |dw| across the ~4.1 gap between components: ~ sqrt(17 |dw|)
    assert err.w2 < 0.5
    # a naive mixture fit that ignores the noise overestimates the covariances
    naive = NoisyGaussianMixture(2, random_state=0).fit(ds.y)
    err_naive = mixture_error((w, mu, cov), (naive.weights_, naive.means_, naive.covariances_))
    assert err_naive.cov_error > 2 * err.cov_error


def test_mixture_api():
    ds = corrupt(np.random.default_rng(0).normal(size=(300, 2)), 0.5, rng=0)
    gm = NoisyGaussianMixture(1, random_state=0).fit(ds.y, sigma_n=ds.sigma_n)
    assert gm.predict_proba(ds.y, ds.sigma_n).shape == (300, 1)
    assert np.isclose(gm.score(ds.y, sigma_n=ds.sigma_n), gm.lower_bound_, atol=1e-6)
    s = gm.sample(50, rng=0)
    assert s.shape == (50, 2)
    np.testing.assert_array_equal(s, gm.sample(50, rng=0))


def test_em_warns_when_not_converged():
    ds = _draw(200, 1.0, 0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        NoisyGaussianMixture(1, max_iter=2, random_state=0).fit(ds.y, sigma_n=ds.sigma_n)


def test_bad_input():
    y = np.zeros((5, 2))
    with pytest.raises(ValueError, match="`sigma_n` must be non-negative"):
        heteroscedastic_gaussian_mle(y, -1.0)
    with pytest.raises(ValueError, match="`sigma_n` must have one entry per row"):
        clipped_covariance(y, np.ones(4))
    with pytest.raises(ValueError, match="`y` must not contain NaN"):
        clipped_covariance(np.full((5, 2), np.nan), 1.0)
    with pytest.raises(ValueError, match="`y` must have 2 dimension"):
        clipped_covariance(np.zeros(5), 1.0)
    with pytest.raises(ValueError, match=r"`n_components` must be an integer in \[1, "):
        NoisyGaussianMixture(0).fit(y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NoisyGaussianMixture(1).score_samples(y)


def test_a_positional_second_argument_is_refused_not_ignored():
    # fit(y, sigma) used to put sigma in scikit-learn's ignored `y` slot and fit as if
    # sigma_n = 0: a silent wrong answer. It must raise and say how to pass it.
    ds = _draw(500, 1.0, 0)
    gm = NoisyGaussianMixture(1, random_state=0)
    with pytest.raises(TypeError, match=r"keyword `sigma_n`.*fit\(X, sigma_n=sigma_n\)"):
        gm.fit(ds.y, ds.sigma_n)
    with pytest.raises(TypeError, match="keyword `sigma_n`"):
        gm.fit(ds.y, 1.0)
    gm.fit(ds.y, sigma_n=ds.sigma_n)
    with pytest.raises(TypeError, match="keyword `sigma_n`"):
        gm.score(ds.y, ds.sigma_n)
    assert np.isfinite(gm.score(ds.y, sigma_n=ds.sigma_n))


class _DropsY(NoisyGaussianMixture):
    """The estimator with the scikit-learn convention of ignoring `y` (checks only)."""

    def fit(self, X, y=None, *, sigma_n=None):
        return super().fit(X, sigma_n=sigma_n)

    def score(self, X, y=None, *, sigma_n=None):
        return super().score(X, sigma_n=sigma_n)


# NoisyGaussianMixture refuses a target `y` (that slot silently swallowed the noise
# levels); scikit-learn's checks pass one to every fit, so they run on a subclass whose
# only change is to drop `y`. Everything else they check is the estimator's own code.
@parametrize_with_checks([_DropsY(1, random_state=0, max_iter=200)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
