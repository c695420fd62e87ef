import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.naive_bayes import GaussianNB

from sciddm.equitable import (
    fit_learning_curve,
    fit_learning_curves,
    learning_curve_by_group,
    power_law,
)

SIZES = np.array([10, 20, 50, 100, 200, 500, 1000, 2000])


@pytest.mark.parametrize(
    "a, b, e",
    [(2.0, 0.5, 0.1), (5.0, 0.3, 0.02), (0.5, 1.2, 0.0), (30.0, 0.8, 0.25), (1.0, 0.05, 0.3)],
)
def test_noise_free_recovery(a, b, e):
    c = fit_learning_curve(SIZES, power_law(SIZES, a, b, e))
    assert c.a == pytest.approx(a, rel=1e-6, abs=1e-6)
    assert c.b == pytest.approx(b, rel=1e-6, abs=1e-6)
    assert c.e == pytest.approx(e, rel=1e-6, abs=1e-6)
    assert c.residual_std < 1e-8


def test_noisy_recovery_within_four_standard_errors():
    # one fixed data set: each |error| <= 4 se has false-alarm rate ~6e-5 per parameter
    rng = np.random.default_rng(11)
    n = np.repeat(SIZES, 3)
    err = power_law(n, 2.0, 0.5, 0.1) + rng.normal(0, 0.01, n.size)
    c = fit_learning_curve(n, err)
    for est, true, se in zip((c.a, c.b, c.e), (2.0, 0.5, 0.1), c.se):
        assert abs(est - true) <= 4 * se
    assert c.se[1] < 0.05  # and the standard errors are informative


def test_standard_errors_are_calibrated():
    # across 100 noisy replicates the spread of b-hat matches the reported se
    rng = np.random.default_rng(3)
    n = np.repeat(SIZES, 3)
    bs, ses = [], []
    for _ in range(100):
        c = fit_learning_curve(n, power_law(n, 2.0, 0.5, 0.1) + rng.normal(0, 0.01, n.size))
        bs.append(c.b)
        ses.append(c.se[1])
    ratio = np.std(bs, ddof=1) / np.mean(ses)
    # sd of a 100-sample sd is ~7%; 0.75..1.3 is > 3.5 of those wide on either side
    assert 0.75 < ratio < 1.3


def test_prediction_uncertainty_delta_method_matches_monte_carlo():
    rng = np.random.default_rng(5)
    n = np.repeat(SIZES, 3)
    preds, stds = [], []
    for _ in range(100):
        c = fit_learning_curve(n, power_law(n, 2.0, 0.5, 0.1) + rng.normal(0, 0.01, n.size))
        m, s = c.predict([5000.0]), c.predict_std([5000.0])
        preds.append(m[0])
        stds.append(s[0])
    assert 0.75 < np.std(preds, ddof=1) / np.mean(stds) < 1.3
    lo, hi = c.predict_interval([5000.0])
    m, s_obs = c.predict([5000.0]), c.predict_std([5000.0], observation=True)
    assert lo[0] < m[0] < hi[0]
    assert s_obs[0] > s[0]


def test_return_std_is_deprecated_but_still_works():
    """Regression (issue 16): predict changed its return type with a flag."""
    c = fit_learning_curve(SIZES, power_law(SIZES, 2.0, 0.5, 0.1) + 0.001 * np.cos(SIZES))
    assert isinstance(c.predict([100.0, 200.0]), np.ndarray)
    with pytest.warns(DeprecationWarning, match="use predict\\(n\\) and predict_std"):
        m, s = c.predict([100.0, 200.0], return_std=True, observation=True)
    np.testing.assert_array_equal(m, c.predict([100.0, 200.0]))
    np.testing.assert_array_equal(s, c.predict_std([100.0, 200.0], observation=True))
    with pytest.raises(ValueError, match="`n` must be positive"):
        c.predict_std([0.0])


def test_derivative_matches_finite_difference():
    c = fit_learning_curve(SIZES, power_law(SIZES, 2.0, 0.5, 0.1))
    h = 1e-3
    fd = (c.predict(300 + h) - c.predict(300 - h)) / (2 * h)
    assert c.derivative(300) == pytest.approx(fd, rel=1e-6)


def test_sigma_weights_make_covariance_absolute():
    n = SIZES.astype(float)
    err = power_law(n, 2.0, 0.5, 0.1) + np.array([1, -1, 1, -1, 1, -1, 1, -1]) * 1e-3
    c1 = fit_learning_curve(n, err, sigma=np.full(n.size, 1e-3))
    c2 = fit_learning_curve(n, err, sigma=np.full(n.size, 2e-3))
    # doubling every sigma doubles the standard errors when sigma is absolute
    np.testing.assert_allclose(c2.se, 2 * c1.se, rtol=1e-6)
    np.testing.assert_allclose([c1.a, c1.b, c1.e], [c2.a, c2.b, c2.e], rtol=1e-8)


def test_monotone_model_is_non_increasing():
    rng = np.random.default_rng(0)
    n = np.repeat(SIZES, 2)
    err = power_law(n, 2.0, 0.5, 0.1) + rng.normal(0, 0.02, n.size)
    c = fit_learning_curve(n, err, model="monotone")
    grid = np.geomspace(10, 2000, 50)
    assert np.all(np.diff(c.predict(grid)) <= 1e-12)
    assert np.isnan(c.a)


def test_too_few_points_names_the_group():
    with pytest.raises(ValueError, match="group 'minority'.*at least 3 distinct sizes"):
        fit_learning_curve([10, 10, 20], [0.5, 0.4, 0.3], group="minority")
    with pytest.raises(ValueError, match="`n` must be positive"):
        fit_learning_curve([0, 10, 20], [0.5, 0.4, 0.3])
    with pytest.raises(ValueError, match="same length"):
        fit_learning_curve([5, 10, 20], [0.5, 0.4])
    with pytest.raises(ValueError, match="`model` must be one of"):
        fit_learning_curve([5, 10, 20], [0.5, 0.4, 0.3], model="spline")
    with pytest.raises(ValueError, match="`sigma` must be positive"):
        fit_learning_curve([5, 10, 20], [0.5, 0.4, 0.3], sigma=[1, 0, 1])


def test_learning_curve_by_group_measures_the_right_curves():
    # group 1 has 4x the noise of group 0: its error (1 - R^2) must be higher at every size
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(2 * n, 5))
    beta = np.arange(1.0, 6.0)
    g = np.repeat([0, 1], n)
    y = X @ beta + rng.normal(size=2 * n) * np.where(g == 0, 1.0, 4.0)
    lc = learning_curve_by_group(Ridge(1e-3), X, y, g, [10, 40, 0.5, 1.0], metric="r2",
                                 n_repeats=3, rng=1)  # fmt: skip
    assert lc.sizes.tolist() == [[10, 40, 225, 450], [10, 40, 225, 450]]
    assert np.all(lc.mean_error[1] > lc.mean_error[0])
    # theory for OLS with d=5: E[1 - R^2] -> noise share, 1/56 and 16/71
    assert lc.mean_error[0, -1] == pytest.approx(1 / 56, abs=0.02)
    assert lc.mean_error[1, -1] == pytest.approx(16 / 71, abs=0.06)
    curves = lc.fit_curves()
    assert set(curves) == {0, 1}
    assert curves[1].e > curves[0].e


def test_learning_curve_by_group_pooled_and_errors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    g = np.repeat(["a", "b"], 100)
    lc = learning_curve_by_group(GaussianNB(), X, y, g, [5, 20, 60], pooled=True,
                                 n_repeats=2, rng=0)  # fmt: skip
    assert lc.groups == ["a", "b"]
    assert lc.errors.shape == (2, 3, 2)
    with pytest.raises(ValueError, match="group 'a': size 100"):
        learning_curve_by_group(GaussianNB(), X, y, g, [100], rng=0)
    with pytest.raises(ValueError, match="`sizes` must be a non-empty sequence"):
        learning_curve_by_group(GaussianNB(), X, y, g, [], rng=0)


def test_shared_exponent_fit():
    rng = np.random.default_rng(4)
    n = np.repeat([20, 50, 100, 200, 500], 2)
    data = {
        "A": (n, power_law(n, 2.0, 0.6, 0.1)),
        "B": (n, power_law(n, 6.0, 0.6, 0.3)),
        "C": (n[:4], power_law(n[:4], 1.0, 0.6, 0.0)),  # two distinct sizes suffice
    }
    curves = fit_learning_curves(data)
    for g, (a, e) in {"A": (2.0, 0.1), "B": (6.0, 0.3), "C": (1.0, 0.0)}.items():
        assert curves[g].b == pytest.approx(0.6, rel=1e-6)
        assert curves[g].a == pytest.approx(a, rel=1e-6)
        assert curves[g].e == pytest.approx(e, abs=1e-7)
    assert curves["A"].se[1] == 0.0  # conditional on the shared exponent
    # a fixed exponent fits (a, e) by linear least squares
    noisy = power_law(n, 2.0, 0.6, 0.1) + rng.normal(0, 0.005, n.size)
    c = fit_learning_curve(n, noisy, exponent=0.6)
    assert abs(c.a - 2.0) <= 4 * c.se[0] and abs(c.e - 0.1) <= 4 * c.se[2]
    separate = fit_learning_curves({k: v for k, v in data.items() if k != "C"},
                                   shared_exponent=False)  # fmt: skip
    assert separate["B"].b == pytest.approx(0.6, rel=1e-6)
    with pytest.raises(ValueError, match="group 'C'.*at least 2 distinct sizes"):
        fit_learning_curves({"C": ([10, 10], [0.3, 0.2])})
    with pytest.raises(ValueError, match="non-empty dict"):
        fit_learning_curves({})


def test_group_curves_fit_is_deprecated_for_fit_curves():
    """Regression (issue 16): a frozen result's `fit` returned a dict."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    g = np.repeat([0, 1], 200)
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=400)
    lc = learning_curve_by_group(Ridge(1e-3), X, y, g, [10, 30, 100], metric="r2",
                                 n_repeats=2, rng=1)  # fmt: skip
    with pytest.warns(DeprecationWarning, match="use fit_curves"):
        old = lc.fit(model="monotone")
    new = lc.fit_curves(model="monotone")
    assert old.keys() == new.keys() == {0, 1}
    np.testing.assert_array_equal(old[0].err, new[0].err)
    shared = lc.fit_curves(shared_exponent=True)
    assert shared[0].b == shared[1].b


def test_learning_curve_by_group_accepts_sparse_X_and_checks_sizes():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    g = np.repeat([0, 1], 100)
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=200)
    dense = learning_curve_by_group(Ridge(1.0), X, y, g, [10, 30], metric="r2", rng=1)
    sparse = learning_curve_by_group(Ridge(1.0), sp.csr_matrix(X), y, g, [10, 30],
                                     metric="r2", rng=1)  # fmt: skip
    np.testing.assert_allclose(sparse.errors, dense.errors, rtol=1e-8)
    with pytest.raises(ValueError, match="`sizes` must"):
        learning_curve_by_group(Ridge(1.0), X, y, g, [10, -3], metric="r2", rng=1)
    with pytest.raises(ValueError, match="`sizes` must"):
        learning_curve_by_group(Ridge(1.0), X, y, g, [10, float("nan")], metric="r2", rng=1)
