import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sciddm.leastsquares import (
    DiscreteBasis,
    DiscreteMeasure,
    Hermite,
    Legendre,
    TensorBasis,
    WeightedLeastSquares,
    l2_errors,
    plot_design,
    plot_error_curves,
    sample_optimal,
    total_degree,
    weighted_least_squares,
)


@parametrize_with_checks([WeightedLeastSquares(), WeightedLeastSquares(degree=2, weighting="none")])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_function_in_span_is_recovered_exactly_by_every_method():
    basis = TensorBasis([Legendre(), Hermite()], total_degree(2, 3))
    rng = np.random.default_rng(0)
    a = rng.standard_normal(basis.m)

    def f(x):
        return basis.features(x) @ a

    for method, n in [
        ("iid", 30),
        ("dpp", 10),
        ("volume", 14),
        ("repeated_dpp", 20),
        ("uniform", 40),
    ]:
        r = weighted_least_squares(f, basis, n, method=method, rng=1, error_quadrature=8)
        assert np.allclose(r.coefficients, a, atol=1e-9), method
        assert r.l2_error < 1e-9 and r.best_error < 1e-9
        assert np.allclose(r.predict(r.points), r.values)


def test_error_ratio_is_moderate_with_oversampling():
    basis = TensorBasis(Legendre(), total_degree(1, 8))

    def f(x):
        return 1 / (1 + 5 * x[:, 0] ** 2)

    r = weighted_least_squares(f, basis, 60, method="iid", rng=3, error_quadrature=80, delta=0.5)
    assert r.gram_deviation <= 0.5
    # with ||G - I|| <= 1/2 the error is at most (1 + 2 sqrt(...)) best; here well below 3
    assert 1.0 <= r.error_ratio < 3.0


def test_l2_errors_against_closed_form():
    basis = TensorBasis(Legendre(), total_degree(1, 0))
    err, best = l2_errors(lambda x: x[:, 0], basis, [0.5], quadrature=10)
    # ||x - 0.5||^2 = 1/3 + 1/4 under uniform(-1, 1); best constant is 0: ||x||^2 = 1/3
    assert np.isclose(err, np.sqrt(1 / 3 + 1 / 4)) and np.isclose(best, np.sqrt(1 / 3))


def test_regressor_matches_function_on_same_design():
    basis = TensorBasis(Legendre(), total_degree(2, 3))
    d = sample_optimal(basis, 50, rng=2)
    y = np.sin(d.points[:, 0]) + d.points[:, 1] ** 2
    est = WeightedLeastSquares(basis).fit(d.points, y)
    ref = np.linalg.lstsq(
        np.sqrt(d.weights)[:, None] * d.features, np.sqrt(d.weights) * y, rcond=None
    )[0]
    assert np.allclose(est.coef_, ref)
    assert np.isfinite(est.gram_condition_) and est.gram_condition_ >= 1


def test_bad_inputs():
    basis = TensorBasis(Legendre(), total_degree(1, 4))

    def f(x):
        return x[:, 0]

    with pytest.raises(ValueError, match=r"`n` must be >= m = 5 for method='iid'"):
        weighted_least_squares(f, basis, 3)
    with pytest.raises(ValueError, match=r"`n` must be >= m = 5 for method='volume'"):
        weighted_least_squares(f, basis, 4, method="volume")
    with pytest.raises(ValueError, match=r"`f` returned nan"):
        weighted_least_squares(lambda x: np.full(len(x), np.nan), basis, 10, rng=0)
    with pytest.raises(ValueError, match=r"`f` returned inf"):
        weighted_least_squares(lambda x: np.full(len(x), np.inf), basis, 10, rng=0)
    with pytest.raises(ValueError, match="`f` must return one value per point"):
        weighted_least_squares(lambda x: np.zeros((len(x), 2)), basis, 10, rng=0)
    with pytest.raises(ValueError, match="`f` must be callable"):
        weighted_least_squares(np.zeros(3), basis, 10)
    with pytest.raises(ValueError, match="`X` has points outside the support"):
        WeightedLeastSquares(basis).fit(np.array([[0.5], [2.0]] * 5), np.ones(10))
    with pytest.raises(ValueError, match="`X` has 2 features but the basis has dimension 1"):
        WeightedLeastSquares(basis).fit(np.zeros((10, 2)), np.ones(10))
    with pytest.raises(ValueError, match="`weighting` must be one of"):
        WeightedLeastSquares(weighting="uniform").fit(np.zeros((10, 2)), np.ones(10))
    mu = DiscreteMeasure(np.linspace(-1, 1, 9))
    with pytest.raises(ValueError, match="`features` must be orthonormal"):
        DiscreteBasis(lambda x: np.column_stack([np.ones(len(x)), 3 * x[:, 0]]), mu)


def test_plots_return_axes():
    basis = TensorBasis(Legendre(), total_degree(1, 3))
    ax = plot_design(sample_optimal(basis, 200, rng=0), basis)
    assert ax.get_ylabel() == "density" and len(ax.lines) == 1
    ax = plot_error_curves({"a": ([1, 2], [2.0, 1.5]), "b": ([1, 2], [3.0, 1.2])})
    assert len(ax.lines) == 2


def test_error_quadrature_errors_name_the_argument():
    """Regression (issue 17): `error_quadrature=0` was reported as a bad `q`."""
    basis = TensorBasis(Legendre(), total_degree(2, 2))

    def f(x):
        return x[:, 0]

    for bad, msg in [
        (0, r"`error_quadrature` must be an integer >= 1, got 0"),
        (2.5, r"`error_quadrature` must be a positive int .* or a pair"),
        ((np.zeros((3, 1)), np.ones(3)), r"`error_quadrature\[0\]` \(the nodes\) must have 2"),
        ((np.zeros((3, 2)), np.ones(2)), r"`error_quadrature\[1\]` must have shape \(3\)"),
        (10**6, r"`error_quadrature` = 1000000 gives a tensor rule"),
    ]:
        with pytest.raises(ValueError, match=msg):
            weighted_least_squares(f, basis, 20, rng=0, error_quadrature=bad)
    with pytest.raises(ValueError, match=r"`quadrature` must be an integer >= 1"):
        l2_errors(f, basis, np.zeros(basis.m), quadrature=0)
    with pytest.raises(ValueError, match=r"`coefficients` must have shape \(6\)"):
        l2_errors(f, basis, np.zeros(3))


def test_sample_weight_is_checked_without_private_sklearn_helpers():
    basis = TensorBasis(Legendre(), total_degree(1, 2))
    X = np.linspace(-0.9, 0.9, 12)[:, None]
    y = X[:, 0] ** 2
    est = WeightedLeastSquares(basis)
    with pytest.raises(ValueError, match="`sample_weight` must be non-negative"):
        est.fit(X, y, sample_weight=-np.ones(12))
    with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(12\)"):
        est.fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="`sample_weight` must not be all zero"):
        est.fit(X, y, sample_weight=0.0)
    a = est.fit(X, y, sample_weight=2.0).coef_
    np.testing.assert_allclose(a, est.fit(X, y).coef_, atol=1e-12)


def test_sparse_input_is_refused_with_the_fix():
    import scipy.sparse as sp

    from sciddm.leastsquares import gram_matrix

    with pytest.raises(TypeError, match=r"`features` is a sparse matrix.*toarray"):
        gram_matrix(sp.eye(3, format="csr"), np.ones(3))
    with pytest.raises(TypeError, match=r"`nodes` is a sparse matrix"):
        DiscreteMeasure(sp.eye(3, format="csr"))
