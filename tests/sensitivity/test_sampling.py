import numpy as np
import pytest
import scipy.sparse as sp

from sciddm.reproduce import chisquare_gof, mean_ci
from sciddm.sensitivity import RowSample, heavy_tailed_matrix, row_scores, sample_rows


@pytest.fixture(scope="module")
def A():
    return heavy_tailed_matrix(300, 3, rng=0)


@pytest.mark.parametrize("size", [1, 10, 100, 299, 300])
def test_waterfill_expected_size(A, size):
    s = sample_rows(A, 1, method="leverage", size=size, rng=0)
    assert abs(s.expected_size - size) < 1e-9
    q = s.probabilities
    assert np.all((q >= 0) & (q <= 1))
    # q is proportional to the scores below the cap
    tau = s.scores
    free = q < 1
    if free.sum() > 1:
        ratio = q[free] / tau[free]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)


def test_alpha_rule(A):
    s = sample_rows(A, 1.5, method="uniform", alpha=10.0, rng=0)
    np.testing.assert_allclose(s.probabilities, np.minimum(1, 1 / 300 + 1 / 10))
    np.testing.assert_allclose(s.weights, s.probabilities[s.indices] ** (-1 / 1.5))


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("p", [1.0, 3.0])
def test_unbiased(A, replace, p):
    """E||SAx||_p^p = ||Ax||_p^p: the 99.9% t-interval over 400 draws covers it
    (false-alarm rate 1e-3 per case)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(3)
    truth = np.sum(np.abs(A @ x) ** p)
    scores = row_scores(A, p, "lewis")
    vals = []
    for _ in range(400):
        s = sample_rows(A, p, scores=scores, size=40, replace=replace, rng=rng)
        vals.append(np.sum(np.abs(s.apply(A) @ x) ** p))
    _, lo, hi = mean_ci(np.array(vals) / truth, level=0.999)
    assert lo <= 1 <= hi


def test_with_replacement_draw_frequencies(A):
    s = sample_rows(A, 1, method="lewis", size=20_000, replace=True, rng=2)
    counts = np.bincount(s.indices, minlength=300)
    assert chisquare_gof(counts, s.probabilities) > 1e-3  # false-alarm rate 1e-3
    np.testing.assert_allclose(s.weights, (20_000 * s.probabilities[s.indices]) ** -1.0)


def test_bernoulli_inclusion_frequencies(A):
    rng = np.random.default_rng(3)
    q = sample_rows(A, 1, method="leverage", size=30, rng=0).probabilities
    hits = np.zeros(300)
    reps = 2000
    for _ in range(reps):
        hits[sample_rows(A, 1, scores=q, size=30, rng=rng).indices] += 1
    # each inclusion count is Binomial(reps, q_i): standardised max below 4.5 sigma
    z = (hits - reps * q) / np.sqrt(reps * q * (1 - q) + 1e-12)
    assert np.max(np.abs(z)) < 4.5


def test_apply_dense_sparse_vector(A):
    s = sample_rows(A, 1, size=50, rng=4)
    dense = s.apply(A)
    np.testing.assert_allclose(dense, A[s.indices] * s.weights[:, None])
    np.testing.assert_allclose(s.apply(sp.csr_matrix(A)).toarray(), dense)
    b = np.arange(300.0)
    np.testing.assert_allclose(s.apply(b), b[s.indices] * s.weights)
    np.testing.assert_allclose(s.sample_weights, s.weights)
    assert isinstance(s, RowSample) and s.size == s.indices.size
    with pytest.raises(ValueError, match="`X` must have 300 rows"):
        s.apply(np.ones(10))


@pytest.mark.parametrize(
    "method", ["uniform", "leverage", "root-leverage", "lewis", "sensitivity", "mixed"]
)
def test_every_method_runs(method):
    A = heavy_tailed_matrix(40, 2, rng=5)
    s = sample_rows(A, 1.5, method=method, size=10, rng=0)
    assert abs(s.expected_size - 10) < 1e-9 and s.method == method


def test_mixed_is_a_convex_combination(A):
    lev = row_scores(A, 1, "leverage")
    s = row_scores(A, 1, "mixed", mix=1.0)
    np.testing.assert_allclose(s, lev / lev.sum())


def test_bad_input(A):
    with pytest.raises(ValueError, match="exactly one of `size` and `alpha`"):
        sample_rows(A, 1)
    with pytest.raises(ValueError, match="exactly one of `size` and `alpha`"):
        sample_rows(A, 1, size=3, alpha=1.0)
    with pytest.raises(ValueError, match="`size` must be <= n = 300"):
        sample_rows(A, 1, size=301)
    with pytest.raises(ValueError, match="`size` must be an integer >= 1"):
        sample_rows(A, 1, size=0)
    with pytest.raises(ValueError, match=r"`p` must be in \[1, 100\], got 0.5"):
        sample_rows(A, 0.5, size=3)
    with pytest.raises(ValueError, match="`scores` must be non-negative"):
        sample_rows(A, 1, scores=-np.ones(300), size=3)
    with pytest.raises(ValueError, match=r"`scores` must have shape \(300\)"):
        sample_rows(A, 1, scores=np.ones(3), size=3)
    with pytest.raises(ValueError, match="`scores` must have a positive sum"):
        sample_rows(A, 1, scores=np.zeros(300), size=3)
    with pytest.raises(ValueError, match="`method` must be one of"):
        sample_rows(A, 1, method="best", size=3)
    with pytest.raises(ValueError, match="`alpha` is only supported with replace=False"):
        sample_rows(A, 1, alpha=1.0, replace=True)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 6.0])
def test_sampling_lewis_scores_are_within_the_documented_factor(p):
    """row_scores computes Lewis weights to tol = 0.1 in log w: every weight within a
    factor exp(0.1) of the exact ones (what the sampling guarantee in its Notes uses)."""
    from sciddm.sensitivity import heavy_tailed_matrix, lewis_weights, row_scores

    for seed in range(3):
        A = heavy_tailed_matrix(400, 6, df=1.5, rng=seed)
        loose = row_scores(A, p, "lewis")
        exact = lewis_weights(A, p, tol=1e-12)
        assert np.max(np.abs(np.log(loose / exact))) <= 0.1
