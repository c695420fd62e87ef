import math

import numpy as np
import pytest
from scipy import special

from sciddm.leastsquares import (
    BetaMeasure,
    Chebyshev,
    DiscreteBasis,
    DiscreteMeasure,
    GammaMeasure,
    GaussianMeasure,
    Hermite,
    Jacobi,
    Laguerre,
    Legendre,
    ProductMeasure,
    TensorBasis,
    Trigonometric,
    UniformMeasure,
    check_downward_closed,
    full_tensor,
    hyperbolic_cross,
    is_downward_closed,
    orthonormalize,
    total_degree,
    uniform_box,
)

FAMILIES = [
    Legendre(),
    Legendre(0.0, 3.0),
    Chebyshev(),
    Jacobi(0.5, -0.5),
    Jacobi(2.0, 0.3),
    Jacobi(-0.7, 1.5),
    Hermite(),
    Hermite(1.0, 2.0),
    Laguerre(),
    Laguerre(1.5, 2.0),
    Trigonometric(),
]


@pytest.mark.parametrize("fam", FAMILIES, ids=repr)
def test_orthonormal_on_independent_gauss_rule(fam):
    # scipy's Gauss rules are an independent computation of the measure's moments
    K = 15
    x, w = fam.measure.quadrature(40)
    P = fam(x[:, 0], K)
    assert np.allclose(P.T @ (w[:, None] * P), np.eye(K + 1), atol=1e-11)


@pytest.mark.parametrize("fam", FAMILIES, ids=repr)
def test_row_layout_tables_equal_the_column_layout(fam):
    """The tensor basis evaluates its one-dimensional tables one row per degree
    (``_eval_rows``) and the squared-density samplers one degree alone
    (``_eval_one``); both must be the column-layout values exactly."""
    t = fam.measure.to_standard(fam.measure.sample(53, rng=2)[:, 0])
    for K in (0, 1, 17):
        R = fam._eval_rows(t, K)
        assert R.flags.c_contiguous and R.shape == (K + 1, t.size)
        assert np.array_equal(R, fam._eval(t, K).T)
        # one degree alone (the samplers' densities and CDFs): the same values too
        assert np.array_equal(fam._eval_one(t, K), fam._eval(t, K)[:, K])


def test_recurrences_match_scipy_closed_forms():
    t = np.linspace(-0.99, 0.99, 37)
    K = 30
    k = np.arange(K + 1)
    P = Legendre()(t, K)
    assert np.allclose(P, special.eval_legendre(k, t[:, None]) * np.sqrt(2 * k + 1), atol=1e-11)
    P = Chebyshev()(t, K)
    ref = special.eval_chebyt(k, t[:, None]) * np.where(k == 0, 1.0, np.sqrt(2))
    assert np.allclose(P, ref, atol=1e-11)
    x = np.linspace(-4, 4, 21)
    P = Hermite()(x, 12)
    kk = np.arange(13)
    fact = np.sqrt([math.factorial(i) for i in kk])
    assert np.allclose(P, special.eval_hermitenorm(kk, x[:, None]) / fact, atol=1e-9)
    x = np.linspace(0.01, 10, 15)
    a = 1.5
    P = Laguerre(a)(x, 10)
    kk = np.arange(11)
    norm = np.exp(
        0.5 * (special.gammaln(kk + a + 1) - special.gammaln(kk + 1) - special.gammaln(a + 1))
    )
    # the recurrence's p_k has a positive leading coefficient; L_k^(a) has sign (-1)^k
    ref = (-1.0) ** kk * special.eval_genlaguerre(kk, a, x[:, None]) / norm
    assert np.allclose(P, ref, atol=1e-9)


def test_high_degree_stays_bounded():
    # |p_k(t)| <= sqrt(2k + 1) for orthonormal Legendre; a Vandermonde route overflows
    t = np.linspace(-1, 1, 1001)
    P = Legendre()(t, 400)
    assert np.all(np.isfinite(P))
    assert np.all(np.abs(P) <= np.sqrt(2 * np.arange(401) + 1) * (1 + 1e-9))


@pytest.mark.parametrize(
    "fams",
    [[Legendre(), Hermite()], [Chebyshev(), Laguerre(0.5)], [Trigonometric(), Jacobi(1.0, 2.0)]],
    ids=["leg-her", "cheb-lag", "trig-jac"],
)
def test_tensor_basis_orthonormal_and_christoffel_integrates_to_m(fams):
    basis = TensorBasis(fams, total_degree(2, 5))
    x, w = basis.measure.quadrature(40)  # Gauss-Legendre is not exact for the trig system
    P = basis(x)
    assert np.allclose(P.T @ (w[:, None] * P), np.eye(basis.m), atol=1e-10)
    assert math.isclose(float(w @ basis.christoffel(x)), basis.m, rel_tol=1e-10)
    assert np.allclose(basis.weight(x), basis.m / basis.christoffel(x))


def test_index_set_sizes():
    assert len(total_degree(3, 4)) == math.comb(7, 3)
    assert len(full_tensor(2, 3)) == 16
    hc = hyperbolic_cross(3, 5)
    assert all(np.prod(a + 1) <= 6 for a in hc)
    for s in (total_degree(3, 4), full_tensor(2, 3), hc):
        assert is_downward_closed(s)
        assert len({tuple(r) for r in s.tolist()}) == len(s)


def test_measures_sample_and_contain():
    mu = ProductMeasure(
        [UniformMeasure(0, 2), GaussianMeasure(), GammaMeasure(1.0), BetaMeasure(1, 2)]
    )
    x = mu.sample(50, rng=0)
    assert x.shape == (50, 4) and np.all(mu.contains(x))
    assert not mu.contains(np.array([[3.0, 0.0, 1.0, 0.0]]))[0]
    box = uniform_box([-1, 0], [1, 5])
    assert np.all(box.contains(box.sample(20, rng=1)))


def test_orthonormalize_spans_same_space():
    mu = DiscreteMeasure(np.linspace(-1, 1, 30), np.linspace(1, 2, 30))

    def feats(x):
        return np.column_stack([np.ones(len(x)), x[:, 0], x[:, 0] ** 2, np.abs(x[:, 0])])

    b = orthonormalize(feats, mu)
    F = b(mu.nodes)
    assert np.allclose(F.T @ (mu.weights[:, None] * F), np.eye(4), atol=1e-12)
    # same span: regressing the raw features on phi is exact
    raw = feats(mu.nodes)
    coef, res, *_ = np.linalg.lstsq(F, raw, rcond=None)
    assert np.allclose(F @ coef, raw, atol=1e-10)
    # optimal probabilities on the nodes: q_i K(x_i) / m
    p = b.optimal_probabilities()
    assert math.isclose(p.sum(), 1.0) and np.allclose(p, mu.weights * (F**2).sum(1) / 4)


# ----- bad input -----------------------------------------------------------------


def test_not_downward_closed_raises():
    with pytest.raises(ValueError, match="`index_set` must be downward closed"):
        TensorBasis(Legendre(), [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="`index_set` holds a repeated"):
        check_downward_closed([[0], [0]])
    with pytest.raises(ValueError, match="non-negative"):
        check_downward_closed([[0], [-1]])


def test_wrong_index_set_width_raises():
    with pytest.raises(ValueError, match="`index_set` must have 2 columns"):
        TensorBasis([Legendre(), Hermite()], total_degree(3, 1))


def test_non_orthonormal_features_raise():
    mu = DiscreteMeasure(np.linspace(0, 1, 10))
    with pytest.raises(ValueError, match="`features` must be orthonormal"):
        DiscreteBasis(lambda x: np.column_stack([np.ones(len(x)), x[:, 0]]), mu)
    with pytest.raises(ValueError, match="linearly dependent"):
        orthonormalize(lambda x: np.column_stack([x[:, 0], 2 * x[:, 0]]), mu)
    with np.errstate(divide="ignore"), pytest.raises(ValueError, match="NaN or inf"):
        orthonormalize(lambda x: np.log(x), mu)


def test_points_outside_support_raise():
    b = TensorBasis(Legendre(), total_degree(2, 2))
    with pytest.raises(ValueError, match="`x` has points outside the support"):
        b(np.array([[0.0, 1.5]]))
    with pytest.raises(ValueError, match="`x` must have 2 column"):
        b(np.zeros((3, 3)))
    lag = TensorBasis(Laguerre(), total_degree(1, 2))
    with pytest.raises(ValueError, match="outside the support"):
        lag.christoffel([[-0.1]])


def test_bad_measure_parameters():
    with pytest.raises(ValueError, match="`alpha` must be in"):
        BetaMeasure(-1.0, 0.0)
    with pytest.raises(ValueError, match="`high` must be > `low`"):
        UniformMeasure(1.0, 1.0)
    with pytest.raises(ValueError, match="`std` must be in"):
        GaussianMeasure(0.0, 0.0)
    with pytest.raises(ValueError, match="`weights` must be non-negative"):
        DiscreteMeasure([0.0, 1.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="`family` must be one of|`families` must be one of"):
        TensorBasis("bessel", total_degree(1, 1))


@pytest.mark.parametrize(
    "alpha,beta", [(0.0, 0.0), (-0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (0.3, -0.2)]
)
def test_jacobi_rejection_envelope_holds_on_a_fine_grid(alpha, beta):
    # pi (1-t)^{a+1/2} (1+t)^{b+1/2} p_k(t)^2 w(t)/w-normalisation <= C_k (Chow-Gatteschi-Wong)
    fam = Jacobi(alpha, beta)
    t = np.cos(np.linspace(1e-6, np.pi - 1e-6, 20001))
    P = fam.eval_std(t, 60)
    arcsine = 1 / (np.pi * np.sqrt((1 - t) * (1 + t)))
    for k in range(1, 61):
        ratio = P[:, k] ** 2 * fam.measure.std_pdf(t) / arcsine
        assert ratio.max() <= fam._cgw_bound(k) * (1 + 1e-9), k
