import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from sciddm.leastsquares import (
    Chebyshev,
    DiscreteBasis,
    DiscreteMeasure,
    Hermite,
    Jacobi,
    Laguerre,
    Legendre,
    ProposalBudgetError,
    TensorBasis,
    Trigonometric,
    sample_best_of,
    sample_conditioned,
    sample_design,
    sample_generalized_volume,
    sample_optimal,
    sample_projection_dpp,
    sample_repeated_dpp,
    sample_volume,
    total_degree,
)
from sciddm.reproduce import chisquare_gof, mean_ci

# Each statistical test below uses level alpha = 1e-3; with ~15 of them the false-alarm rate of
# the file is below 2 % (the seeds are fixed, so a pass is reproducible).
ALPHA = 1e-3


def _bin_probabilities(fam, k, edges):
    """Probabilities of p_k^2 dmu on the bins, by adaptive quadrature of the density
    (independent of the samplers' envelopes and CDF formulas)."""
    meas = fam.measure

    def dens(x):
        t = meas.to_standard(np.array([x]))
        p = fam.eval_std(t, k)[0, k]
        return p * p * meas.std_pdf(t)[0] / meas.scale

    return np.array(
        [integrate.quad(dens, a, b, limit=200)[0] for a, b in zip(edges[:-1], edges[1:])]
    )


@pytest.mark.parametrize(
    "fam,k,edges",
    [
        (Legendre(), 3, np.linspace(-1, 1, 17)),  # arcsine-envelope rejection
        (Chebyshev(), 2, np.linspace(-1, 1, 17)),
        (Jacobi(0.5, -0.5), 4, np.linspace(-1, 1, 17)),
        (Jacobi(2.0, 0.3), 3, np.linspace(-1, 1, 17)),  # inverse CDF, Gauss-Jacobi quadrature
        (Hermite(1.0, 2.0), 2, np.r_[-np.inf, 1 + 2 * np.linspace(-3.5, 3.5, 15), np.inf]),
        (Hermite(), 5, np.r_[-np.inf, np.linspace(-4, 4, 15), np.inf]),  # closed-form CDF
        (Laguerre(0.5), 3, np.r_[np.linspace(0, 20, 16), np.inf]),  # inverse CDF, quadrature
        (Trigonometric(), 3, np.linspace(0, 1, 17)),  # uniform-envelope rejection
    ],
    ids=lambda v: repr(v) if not isinstance(v, np.ndarray) else "",
)
def test_one_dimensional_squared_density_sampler_chi2(fam, k, edges):
    x = fam.sample_squared(k, 4000, rng=11)
    counts, _ = np.histogram(x, edges)
    probs = _bin_probabilities(fam, k, edges)
    assert abs(probs.sum() - 1) < 1e-7 and counts.sum() == 4000
    assert chisquare_gof(counts, probs) > ALPHA


@pytest.mark.parametrize("fam", [Legendre(), Jacobi(0.5, -0.5)], ids=repr)
def test_many_degree_squared_sampler_chi2(fam):
    # the vectorised sampler of the i.i.d. and DPP proposals (Legendre evaluates P_k by
    # scipy's eval_legendre, other Jacobi families by eval_jacobi): each degree's draws
    # follow p_k^2 dmu, at low and high degree
    degrees = (3, 17, 40)
    ks = np.repeat(degrees, 3000)
    x = fam.sample_squared_many(np.random.default_rng(5).permutation(ks), rng=12)
    order = np.random.default_rng(5).permutation(ks)
    edges = np.linspace(-1, 1, 17)
    for k in degrees:
        counts, _ = np.histogram(x[order == k], edges)
        assert chisquare_gof(counts, _bin_probabilities(fam, k, edges)) > ALPHA


def test_tensor_optimal_sampler_marginals_chi2():
    # d = 2, Legendre degree <= 2: rho(x) = K(x)/(m) * (1/4); check the x1 marginal on bins
    basis = TensorBasis(Legendre(), total_degree(2, 2))
    x = sample_optimal(basis, 6000, rng=3).points
    edges = np.linspace(-1, 1, 11)
    qx, qw = basis.measure.quadrature(30)
    counts, _ = np.histogram(x[:, 0], edges)
    # bin probabilities of rho by Gauss-Legendre on each bin x full second coordinate
    probs = []
    t, w = special.roots_legendre(20)
    for a, b in zip(edges[:-1], edges[1:]):
        x1 = (a + b) / 2 + (b - a) / 2 * t
        X = np.column_stack([np.repeat(x1, 20), np.tile(t, 20)])
        W = np.repeat(w, 20) * np.tile(w, 20) * (b - a) / 2 / 4
        probs.append(W @ basis.christoffel(X) / basis.m)
    assert math.isclose(sum(probs), 1.0, rel_tol=1e-10)
    assert chisquare_gof(counts, probs) > ALPHA


def test_rejection_budget_raises():
    with pytest.raises(ProposalBudgetError, match="increase `budget`"):
        Legendre().sample_squared(5, 100, rng=0, budget=120)
    basis = TensorBasis(Legendre(), total_degree(1, 20))
    with pytest.raises(ProposalBudgetError, match="increase `max_proposals`"):
        sample_projection_dpp(basis, rng=0, max_proposals=30)


# ----- projection DPP -----------------------------------------------------------


def _gauss_discrete(nodes=8, deg=2):
    t, w = special.roots_legendre(nodes)
    mu = DiscreteMeasure(t, w / 2)
    fam = Legendre()
    return DiscreteBasis(lambda x: fam(x[:, 0], deg), mu)


def test_discrete_dpp_subset_frequencies_match_determinants():
    import itertools

    b = _gauss_discrete()
    F, q = b.node_features, b.measure.weights
    subsets = list(itertools.combinations(range(8), 3))
    probs = np.array([np.linalg.det(F[list(S)]) ** 2 * np.prod(q[list(S)]) for S in subsets])
    assert math.isclose(probs.sum(), 1.0, rel_tol=1e-12)
    g = np.random.default_rng(5)
    index = {S: i for i, S in enumerate(subsets)}
    counts = np.zeros(len(subsets))
    for _ in range(3000):
        d = sample_projection_dpp(b, rng=g)
        counts[index[tuple(sorted(d.node_indices.tolist()))]] += 1
        assert d.n_proposals == 3
    assert chisquare_gof(counts, probs) > ALPHA


def test_continuous_dpp_marginal_is_rho_and_proposals_m_harmonic():
    basis = TensorBasis(Legendre(), total_degree(1, 4))  # m = 5
    m = basis.m
    g = np.random.default_rng(8)
    pts, props = [], []
    for _ in range(400):
        d = sample_projection_dpp(basis, rng=g)
        pts.append(d.points[0, 0])  # first point of a uniformly permuted sample
        props.append(d.n_proposals)
    # rho = K_m/m * dx/2 ; its CDF by quadrature
    t, w = special.roots_legendre(40)

    def cdf(v):
        v = np.atleast_1d(v)
        out = []
        for a in v:
            x = -1 + (a + 1) * (t + 1) / 2
            out.append(((a + 1) / 2) * (w @ basis.christoffel(x[:, None])) / 2 / m)
        return np.array(out)

    assert stats.kstest(np.array(pts), cdf).pvalue > ALPHA
    # E[#proposals] = m H_m exactly; 99.9 % t-interval must cover it
    mean, lo, hi = mean_ci(props, level=1 - ALPHA)
    hm = m * sum(1 / j for j in range(1, m + 1))
    assert lo <= hm <= hi


def test_expected_gram_is_identity_all_schemes():
    basis = TensorBasis([Legendre(), Chebyshev()], total_degree(2, 2))  # m = 6
    g = np.random.default_rng(2)
    m = basis.m
    for method, n, reps in [("iid", 1, 3000), ("dpp", 6, 300), ("volume", 9, 300)]:
        if method == "iid":  # one design of 3000 i.i.d. points: per-point Gram matrices
            d = sample_design(basis, reps, method="iid", rng=g)
            Gs = d.weights[:, None, None] * d.features[:, :, None] * d.features[:, None, :]
        else:
            Gs = np.array(
                [sample_design(basis, n, method=method, rng=g).gram() for _ in range(reps)]
            )
        mean = Gs.mean(0)
        se = Gs.std(0, ddof=1) / np.sqrt(reps)
        # each entry within 4.5 standard errors (family-wise false alarm < 3e-4 for the 21
        # distinct entries, Gaussian approximation; w*phi_j*phi_k is bounded by m)
        assert np.all(np.abs(mean - np.eye(m)) <= 4.5 * se + 1e-12), method


def test_dpp_points_are_distinct_and_gram_invertible_large_m():
    basis = TensorBasis(Legendre(), total_degree(2, 12))  # m = 91
    d = sample_projection_dpp(basis, rng=4)
    assert d.points.shape == (91, 2)
    assert np.linalg.matrix_rank(d.features) == 91
    assert np.all(d.weights > 0)
    assert np.allclose(d.weights, basis.weight(d.points))


def test_volume_and_generalized_volume_structure():
    basis = TensorBasis(Hermite(), total_degree(1, 3))
    d = sample_volume(basis, 9, rng=0)
    assert d.n == 9 and np.allclose(d.weights, basis.weight(d.points))
    d = sample_generalized_volume(basis, 9, base="measure", rng=0)
    assert np.all(d.weights == 1.0) and d.method == "generalized_volume"
    big = TensorBasis(Hermite(), total_degree(1, 6))
    d = sample_generalized_volume(basis, 9, base=big, rng=0)
    assert np.allclose(d.weights, big.weight(d.points))
    r = sample_repeated_dpp(basis, 3, rng=0)
    assert r.n == 12 and r.method == "repeated_dpp"


def test_conditioned_and_best_of():
    basis = TensorBasis(Legendre(), total_degree(1, 3))
    d = sample_conditioned(basis, 20, delta=0.5, rng=1)
    assert d.gram_deviation <= 0.5
    with pytest.raises(ProposalBudgetError, match="increase `n` or `max_draws`"):
        sample_conditioned(basis, 4, method="dpp", delta=0.01, max_draws=3, rng=1)
    g = np.random.default_rng(3)
    best = sample_best_of(basis, 8, n_draws=5, rng=g)
    g = np.random.default_rng(3)
    draws = [sample_design(basis, 8, rng=g) for _ in range(5)]
    assert math.isclose(best.gram_deviation, min(x.gram_deviation for x in draws))


def test_reproducible_with_seed():
    basis = TensorBasis(Legendre(), total_degree(2, 4))
    a = sample_projection_dpp(basis, rng=7).points
    b = sample_projection_dpp(basis, rng=7).points
    assert np.array_equal(a, b)


def test_sampler_bad_input():
    basis = TensorBasis(Legendre(), total_degree(1, 3))
    with pytest.raises(ValueError, match=r"`n` must be an integer >= 4"):
        sample_volume(basis, 3)
    with pytest.raises(ValueError, match=r"`n` must equal m = 4"):
        sample_design(basis, 5, method="dpp")
    with pytest.raises(ValueError, match=r"`n` must be a multiple of m = 4"):
        sample_design(basis, 6, method="repeated_dpp")
    with pytest.raises(ValueError, match="`method` must be one of"):
        sample_design(basis, 6, method="lhs")
    with pytest.raises(ValueError, match="`base` must be"):
        sample_generalized_volume(basis, 6, base="uniform")
    with pytest.raises(ValueError, match="`base` must be a Basis on the same measure"):
        sample_generalized_volume(basis, 6, base=TensorBasis(Hermite(), total_degree(1, 3)))
    with pytest.raises(ValueError, match="`basis` must be a sciddm.leastsquares Basis"):
        sample_optimal(np.eye(3), 5)
    with pytest.raises(ValueError, match=r"`delta` must be in \(0, 1\)"):
        sample_conditioned(basis, 8, delta=1.5)


@pytest.mark.parametrize("mode", ["span", "complement", "screen1", "separable"])
def test_continuous_dpp_pair_statistic(mode, monkeypatch):
    # second-order check of the joint law (repulsion), for both residual representations
    # of the chain rule: E sum_{i != j} (x_i - x_j)^2 = int int (x - y)^2 (K(x,x)K(y,y) - K(x,y)^2)
    # ("screen1": pools screened one direction at a time, so that early rejection by the
    # partial-residual bound decides most proposals; "separable": kernel values from the
    # separable factors, then the complement phase)
    import sciddm.leastsquares._dpp as S

    if mode == "complement":
        monkeypatch.setattr(S, "_SWITCH_MIN_M", 1)
        monkeypatch.setattr(S, "_SWITCH", 0.2)
    if mode == "screen1":
        monkeypatch.setattr(S, "_SCREEN_BLOCK", 1)
    if mode == "separable":  # kernel values from the separable factors (d = 1: one group)
        monkeypatch.setattr(S, "_SEPARABLE_MAX", 1e9)
        monkeypatch.setattr(S, "_SWITCH_MIN_M", 1)
    basis = TensorBasis(Legendre(), total_degree(1, 4))  # m = 5
    t, w = special.roots_legendre(30)
    w = w / 2
    P = basis.features(t[:, None])
    Kxy = P @ P.T
    Kd = np.diag(Kxy)
    D2 = (t[:, None] - t[None, :]) ** 2
    expected = float(w @ ((np.outer(Kd, Kd) - Kxy**2) * D2) @ w)
    g = np.random.default_rng(21)
    vals = []
    for _ in range(400):
        x = sample_projection_dpp(basis, rng=g).points[:, 0]
        vals.append(float(((x[:, None] - x[None, :]) ** 2).sum()))
    # i.i.d. points from rho would give m(m-1) * 2 Var_rho(x): a different value
    iid = basis.m * (basis.m - 1) * 2 * float(w @ (Kd / basis.m * t**2))
    assert abs(iid - expected) > 0.5
    mean, lo, hi = mean_ci(vals, level=1 - ALPHA)
    assert lo <= expected <= hi, (mean, expected)


@pytest.mark.slow
def test_continuous_dpp_pair_statistic_large_m():
    # m = 91 >= 64: the complement phase of the sampler is used as in production
    basis = TensorBasis(Legendre(), total_degree(2, 12))
    t, w = special.roots_legendre(40)
    X = np.column_stack([np.repeat(t, 40), np.tile(t, 40)])
    W = np.repeat(w, 40) * np.tile(w, 40) / 4
    P = basis.features(X)
    Kxy = P @ P.T
    Kd = np.diag(Kxy)
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    expected = float(W @ ((np.outer(Kd, Kd) - Kxy**2) * D2) @ W)
    g = np.random.default_rng(3)
    vals = []
    for _ in range(300):
        x = sample_projection_dpp(basis, rng=g).points
        vals.append(float(((x[:, None, :] - x[None, :, :]) ** 2).sum()))
    mean, lo, hi = mean_ci(vals, level=1 - ALPHA)
    assert lo <= expected <= hi, (mean, expected)


def test_huge_sizes_are_refused_at_once():
    """Regression (issue 17): sample_optimal(basis, 10**9) sat in C code for a minute."""
    import time

    basis = TensorBasis(Legendre(), total_degree(2, 3))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"`n` = 1000000000 asks for .* at most \d+ fit"):
        sample_optimal(basis, 10**9, rng=0)
    with pytest.raises(ValueError, match=r"`n` = 1000000000 asks for"):
        basis.sample_optimal_points(10**9, rng=0)
    with pytest.raises(ValueError, match=r"`r` = \d+ asks for"):
        sample_repeated_dpp(basis, 10**8, rng=0)
    with pytest.raises(ValueError, match=r"`size` = 1000000000 asks for"):
        Legendre().sample_squared(3, 10**9, rng=0)
    with pytest.raises(ValueError, match=r"`q` = 100000 gives a tensor rule"):
        basis.measure.quadrature(10**5)
    assert time.perf_counter() - t0 < 5.0  # refused before any sampling


def test_chunked_draw_is_exact_and_matches_the_law():
    """Above one chunk (65536 points) the sampler loops over chunks; the points still
    follow rho: E_rho[x^2] = int x^2 K_m(x)/m dmu (Legendre, m = 3 on [-1, 1])."""
    basis = TensorBasis(Legendre(), total_degree(1, 2))
    x = basis.sample_optimal_points(70_000, rng=0)[:, 0]
    t, w = special.roots_legendre(20)
    K = (basis.features(t[:, None]) ** 2).sum(axis=1)
    expected = float((w / 2) @ (t**2 * K / basis.m))
    se = np.std(x**2) / np.sqrt(x.size)
    assert abs(np.mean(x**2) - expected) < 4 * se  # false-alarm rate ~6e-5


def test_chain_rule_runs_on_one_blas_thread_and_restores_the_setting():
    """Issue 20: the chain rule (a sequence of small products) runs under a one-thread
    BLAS limit; the caller's setting is restored afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    basis = TensorBasis(Legendre(), total_degree(2, 11))  # m = 78 >= 64: the limit applies
    seen = []
    orig = basis.features

    def spy(x):
        seen.append({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
        return orig(x)

    basis.features = spy
    with threadpool_limits(limits=2, user_api="blas"):
        d = sample_projection_dpp(basis, rng=0)
        after = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    assert d.points.shape == (78, 2)
    assert seen and all(s == {1} for s in seen)
    assert after == {2} or after == {1}  # restored (a one-core BLAS reports 1)


def _haar_rows(k, m, seed):
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((m, k)))[0].T


@pytest.mark.parametrize(
    "Qt, mix",
    [
        (_haar_rows(40, 50, 0), 0),
        (_haar_rows(40, 50, 0), 1),
        (_haar_rows(40, 50, 0), 2),  # more than 32 rows: sketched leverages
        (_haar_rows(1, 7, 1), 1),
        # the three lowest-leverage coordinates (2, 3, 4) contain the second row: the
        # coordinate selection is singular and the Gaussian fallback must answer
        (np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]]) / np.sqrt([[2], [3]]), 0),
    ],
    ids=["haar-40-of-50", "mixed-40-of-50", "graded-40-of-50", "haar-1-of-7", "singular-selection"],
)
def test_complement_basis_spans_the_orthogonal_complement(Qt, mix):
    """The complement is computed from the accepted features ``Fs`` and the Cholesky
    factor of their Gram matrix, as the chain rule holds them: orthonormal rows ``Q``
    (mix 0), or ``Fs = A Q`` with a random well-conditioned ``A`` (mix 1) or rows
    scaled over four decades (mix 2)."""
    from sciddm.leastsquares import _dpp

    k, m = Qt.shape
    g = np.random.default_rng(7)
    if mix == 0:
        Fs = Qt
    elif mix == 1:
        Fs = (np.eye(k) + g.standard_normal((k, k)) / (3 * np.sqrt(k))) @ Qt
    else:
        Fs = np.logspace(-2, 2, k)[:, None] * (Qt + 0.3 * Qt[::-1])
    L = np.linalg.cholesky(Fs @ Fs.T)
    Z = _dpp._complement_basis(L, Fs, m)
    Q = np.linalg.qr(Fs.T)[0].T  # an independent orthonormal basis of the span
    assert Z.shape == (m - k, m)
    np.testing.assert_allclose(Z @ Z.T, np.eye(m - k), atol=1e-12)
    np.testing.assert_allclose(Z @ Q.T, 0.0, atol=1e-11)
    # together they resolve the identity: Z^T Z + Q^T Q = I
    np.testing.assert_allclose(Z.T @ Z + Q.T @ Q, np.eye(m), atol=1e-11)


def test_complement_basis_falls_back_when_the_selection_is_singular(monkeypatch):
    from sciddm.leastsquares import _dpp

    calls = []
    real = _dpp._complement_sketch
    monkeypatch.setattr(_dpp, "_complement_sketch", lambda Qt, m: calls.append(m) or real(Qt, m))
    Qt = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]]) / np.sqrt([[2], [3]])
    _dpp._complement_basis(np.eye(2), Qt, 5)
    H = _haar_rows(40, 50, 0)
    _dpp._complement_basis(np.eye(40), H, 50)
    assert calls == [5]


@pytest.mark.parametrize(
    "fams, idx, scale",
    [
        (Legendre(), total_degree(2, 30), 1.0),
        (Hermite(), total_degree(2, 25), 1.0),
        # points spread three times wider: some values overflow float32 (up to 1e39),
        # and those rows must be kept (a non-finite bound rejects nothing)
        (Hermite(), total_degree(2, 25), 3.0),
        ([Legendre(), Hermite(), Chebyshev()], total_degree(3, 9), 1.0),
    ],
    ids=["legendre-2d", "hermite-2d", "hermite-2d-wide", "mixed-3d"],
)
@pytest.mark.parametrize("r", [1, 37, 200])
def test_single_precision_screen_never_rejects_a_survivor(fams, idx, scale, r):
    """The float32 screen of the second phase may only reject a proposal that the
    double-precision test rejects: with thresholds just below the exact residuals (by a
    relative 1e-12) it must keep every row, and with thresholds above them by 1 % of
    K_m (the scale of the sampler's thresholds u K_m) it must reject nearly all, so that
    the bound is not vacuous."""
    from sciddm.leastsquares._dpp import _ChainRule

    basis = TensorBasis(fams, idx)
    m = basis.m
    g = np.random.default_rng(r)
    chain = _ChainRule(basis, g, 10, None)
    chain.Zt = np.linalg.qr(g.standard_normal((m, r)))[0].T.copy()
    x = basis.sample_optimal_points(400, rng=g) * scale
    tabs = basis._grouped_tables(x)
    F, K = basis._grouped_assemble(tabs)
    chain.pK = basis._grouped_christoffel(tabs)
    np.testing.assert_allclose(chain.pK, K, rtol=1e-13)
    y = chain.Zt @ F.T
    r2 = np.einsum("ij,ij->j", y, y)
    chain.thr = r2 * (1 - 1e-12)
    assert np.array_equal(chain.single_screen(tabs), np.arange(400))
    if scale == 1.0:
        chain.thr = r2 + 0.01 * chain.pK
        assert chain.single_screen(tabs).size < 4


def test_separable_kernel_equals_the_features_kernel():
    """The kernel of a tensor basis from its separable factors (sums of Hadamard
    products of small Gram matrices) equals phi(x) . phi(y), and the factors give K_m."""
    from dppy.multivariate_jacobi_ope import compute_ordering

    from sciddm.leastsquares._dpp import _Separable

    cases = [
        TensorBasis(Legendre(), np.array(compute_ordering(300, 2))),  # 17 x 17 + 11
        TensorBasis([Hermite(), Legendre(), Chebyshev()], np.array(compute_ordering(200, 3))),
        TensorBasis(Hermite(), total_degree(1, 9)),  # d = 1: one run, no prefix
        TensorBasis(Legendre(), total_degree(2, 6)),
    ]
    for basis in cases:
        sep = _Separable(basis)
        x = basis.sample_optimal_points(40, rng=3)
        fac, K = sep.factors(basis._grouped_tables(x))
        F = basis.features(x)
        np.testing.assert_allclose(sep.kernel(fac[:25], fac[10:]), F[:25] @ F[10:].T, atol=1e-10)
        np.testing.assert_allclose(K, np.einsum("ij,ij->i", F, F), rtol=1e-12)
    # DPPy's ordering fills the shell of degree 17 by (a, 17), a = 0..10: two groups,
    # 11 prefixes with 18 last degrees and 6 with 17, i.e. 52 factors instead of 300
    assert _Separable(cases[0]).width == (11 + 18) + (6 + 17)


def _square(n, extra=0):
    """The n x n tensor index set and ``0 < extra < n`` indices of the next shell (a
    separable kernel of width 3n + 1: two groups of runs)."""
    idx = [(a, b) for a in range(n) for b in range(n)]
    return np.array(idx + [(a, n) for a in range(extra)])


@pytest.mark.parametrize(
    "idx",
    [total_degree(2, 4), total_degree(2, 12), _square(14, 5)],
    ids=["total-degree-m15", "total-degree-m91", "square-m201"],
)
def test_dpp_screening_and_feature_order_do_not_change_the_sample(idx, monkeypatch):
    """Issue 20: the chain rule rejects a proposal early when its partial residual
    falls below its threshold, computes kernel values from the features or from
    separable factors, and a tensor basis hands its features in lexicographic order.
    None may change a decision: for a fixed seed the sample and the proposal count are
    the same for screening blocks of 1, 2 and 7 directions and one block larger than
    the rank, for the features kernel and the separable one (whichever is not the
    default; m = 201 uses the separable one by default, the total-degree sets the
    features), without the single-precision screen of the second phase, and with the
    features in the basis's own order."""
    import sciddm.leastsquares._dpp as S

    basis = TensorBasis(Legendre(), idx)
    ref = [sample_projection_dpp(basis, rng=s) for s in range(3)]
    default_sep = S._ChainRule(basis, np.random.default_rng(0), 1, None).sep is not None
    assert default_sep == (len(idx) == 201)
    variants = []
    settings = [{"_SCREEN_BLOCK": b} for b in (1, 2, 7, 10 * basis.m)] + [
        {"_SEPARABLE_MAX": 0.0 if default_sep else 1e9},
        {"_SEPARABLE_MAX": 0.0 if default_sep else 1e9, "_SCREEN_BLOCK": 3},
        {"_SINGLE_SCREEN": False},
    ]
    for setting in settings:
        for name, value in setting.items():
            monkeypatch.setattr(S, name, value)
        variants.append([sample_projection_dpp(basis, rng=s) for s in range(3)])
        monkeypatch.undo()
    # pools of 4 acceptances (another random stream), with either kernel
    small = []
    for sep_max in (0.0, 1e9):
        monkeypatch.setattr(S, "_POOL_ACCEPTS", 4)
        monkeypatch.setattr(S, "_SEPARABLE_MAX", sep_max)
        small.append([sample_projection_dpp(basis, rng=s) for s in range(3)])
        monkeypatch.undo()
    for a, b in zip(*small):
        assert np.array_equal(a.points, b.points) and a.n_proposals == b.n_proposals
    plain = TensorBasis(Legendre(), idx)
    plain.features = lambda x: TensorBasis.features(plain, x)  # not the grouped fast path
    variants.append([sample_projection_dpp(plain, rng=s) for s in range(3)])
    for v in variants:
        for a, b in zip(ref, v):
            assert np.array_equal(a.points, b.points)
            assert a.n_proposals == b.n_proposals
            assert np.allclose(a.features, b.features, rtol=0, atol=1e-12)
    for d in ref:  # features are returned in the basis's order
        assert np.allclose(d.features, basis.features(d.points), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "fams, idx",
    [
        (Hermite(), total_degree(1, 7)),
        (Legendre(), total_degree(2, 9)),
        ([Legendre(), Hermite(), Chebyshev()], total_degree(3, 5)),
    ],
)
def test_grouped_features_are_a_column_permutation_with_christoffel(fams, idx):
    basis = TensorBasis(fams, idx[np.random.default_rng(0).permutation(len(idx))])
    x = basis.sample_optimal_points(50, rng=1)
    F, order, K = basis._grouped_features(x)
    assert sorted(order.tolist()) == list(range(basis.m))
    assert np.array_equal(F, basis.features(x)[:, order])
    assert np.allclose(K, basis.christoffel(x), rtol=1e-12, atol=0)
    # tables evaluated once for all points, assembled for a slice of them (the
    # projection DPP's pools): the same features as for the slice alone
    tables = basis._grouped_tables(x)
    Fs, Ks = basis._grouped_assemble([t[:, 10:27] for t in tables])
    assert np.array_equal(Fs, F[10:27]) and np.array_equal(Ks, K[10:27])
