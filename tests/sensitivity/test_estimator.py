import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sciddm.sensitivity import SampledLpRegressor


@parametrize_with_checks(
    [SampledLpRegressor(), SampledLpRegressor(p=3.0, sample_size=30, random_state=0)]
)
def test_sklearn_api(estimator, check):
    check(estimator)


def test_recovers_coefficients_under_cauchy_noise():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 3))
    coef = np.array([1.0, -2.0, 0.5])
    y = X @ coef + 3.0 + rng.standard_cauchy(3000)
    est = SampledLpRegressor(p=1, sample_size=400, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coef_, coef, atol=0.3)
    assert abs(est.intercept_ - 3.0) < 0.3
    assert len(est.sample_indices_) == len(est.sample_weights_)
    # same seed, same fit
    est2 = SampledLpRegressor(p=1, sample_size=400, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.coef_, est2.coef_)


def test_full_data_equals_exact_regression():
    from sciddm.sensitivity import lp_regression

    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 2))
    y = X @ [1.0, 2.0] + rng.standard_cauchy(100)
    est = SampledLpRegressor(p=1.5, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(est.coef_, lp_regression(X, y, 1.5).coef, rtol=1e-6)


def test_bad_p():
    with pytest.raises(ValueError, match=r"`p` must be in \[1, 100\]"):
        SampledLpRegressor(p=0.5).fit(np.ones((5, 1)), np.ones(5))
    with pytest.raises(ValueError, match="`sampling` must be one of"):
        SampledLpRegressor(sampling="x").fit(np.ones((5, 1)), np.ones(5))


def test_sample_size_errors_name_the_argument():
    X = np.random.default_rng(0).standard_normal((50, 3))
    y = X.sum(axis=1)
    with pytest.raises(ValueError, match=r"`sample_size` must be an integer >= 1, got 0"):
        SampledLpRegressor(sample_size=0).fit(X, y)
    with pytest.raises(ValueError, match=r"`sample_size` must be >= 4 \(the number of coef"):
        SampledLpRegressor(sample_size=3).fit(X, y)
    with pytest.raises(ValueError, match=r"`max_iter` must be an integer >= 1"):
        SampledLpRegressor(p=1.5, max_iter=0).fit(X, y)


def test_constructor_arguments_after_p_are_keyword_only():
    with pytest.raises(TypeError):
        SampledLpRegressor(1.0, 30)  # type: ignore[misc]
