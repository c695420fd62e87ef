import numpy as np
import pytest
from sklearn.linear_model import Ridge

from sciddm.equitable import evaluate_prs, prs_estimator, simulate_prs


def test_balding_nichols_moments():
    # E p_k = p and Var p_k = F p (1 - p): regress over 4000 SNPs (fixed seed)
    d = simulate_prs([2, 2], n_snps=4000, n_causal=5, fst=[0.05, 0.2], rng=0)
    p = d.ancestral_freq
    for k, f in enumerate([0.05, 0.2]):
        dev = d.freq[k] - p
        assert abs(dev.mean()) < 4 * np.sqrt(f * np.mean(p * (1 - p)) / p.size)
        ratio = np.mean(dev**2) / np.mean(f * p * (1 - p))
        assert 0.9 < ratio < 1.1  # sd of this ratio is ~0.03 here


def test_genotype_frequencies_ld_and_heritability():
    d = simulate_prs([4000], n_snps=40, n_causal=8, h2=0.4, block_size=10, ld=0.8, rng=1)
    X = d.X
    # allele frequency: mean genotype / 2 (binomial sd <= 0.008)
    assert np.max(np.abs(X.mean(0) / 2 - d.freq[0])) < 0.04
    r = np.corrcoef(X.T)
    adjacent = np.array([r[i, i + 1] for i in range(39) if (i + 1) % 10])
    across = np.array([r[i, i + 1] for i in range(9, 39, 10)])
    assert adjacent.mean() > 0.2
    assert np.all(np.abs(across) < 0.1)
    assert d.genetic_value.var() == pytest.approx(0.4, rel=1e-10)
    assert d.liability.var() == pytest.approx(1.0, abs=0.06)


def test_binary_trait_prevalence_and_auc():
    d = simulate_prs([3000, 3000], n_snps=30, n_causal=10, h2=0.5, prevalence=0.2, rng=2)
    assert set(np.unique(d.y)) == {0.0, 1.0}
    assert d.y.mean() == pytest.approx(0.2, abs=0.03)
    test = simulate_prs([3000, 3000], architecture=d, rng=3)
    assert test.binary and test.threshold == d.threshold
    model = prs_estimator("ridge", 10.0).fit(d.X, d.liability)
    ev = evaluate_prs(model, test)
    assert np.all(ev.auc > 0.7) and np.all(ev.auc < 0.95)
    assert np.all(ev.r2 > 0.3)


def test_prs_r2_approaches_heritability_and_architecture_reuse():
    d = simulate_prs([4000], n_snps=20, n_causal=10, h2=0.5, rng=4)
    test = simulate_prs([4000], architecture=d, rng=5)
    np.testing.assert_array_equal(test.beta, d.beta)
    assert test.genetic_value.var() == pytest.approx(0.5, rel=0.1)
    for method, alpha in (("ridge", 1.0), ("lasso", 1e-3)):
        ev = evaluate_prs(prs_estimator(method, alpha).fit(d.X, d.y), test)
        # with n/p = 200 the out-of-sample R^2 is within a few % of h^2 = 0.5
        assert ev.r2[0] == pytest.approx(0.5, abs=0.05)


def test_effect_correlation_between_populations():
    d = simulate_prs([2, 2], n_snps=2000, n_causal=2000, rho=0.5, fst=0.1, rng=6)
    assert np.corrcoef(d.beta[0], d.beta[1])[0, 1] == pytest.approx(0.5, abs=0.06)


def test_bad_inputs():
    with pytest.raises(ValueError, match="`fst` must be in"):
        simulate_prs([10, 10], fst=[0.1, 1.5])
    with pytest.raises(ValueError, match="`n_causal` must be an integer in"):
        simulate_prs([10], n_snps=5, n_causal=6)
    with pytest.raises(ValueError, match="`h2` must be a scalar or have one entry per group"):
        simulate_prs([10, 10], h2=[0.1, 0.2, 0.3])
    d = simulate_prs([10, 10], n_snps=5, n_causal=2, rng=0)
    with pytest.raises(ValueError, match="`architecture` has 2"):
        simulate_prs([10], architecture=d)
    with pytest.raises(ValueError, match="`method` must be one of"):
        prs_estimator("elastic")
    assert isinstance(prs_estimator(), Ridge)
