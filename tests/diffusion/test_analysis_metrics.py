import numpy as np
import pytest
import torch
from scipy import linalg, stats
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sciddm.diffusion import (
    ClassifierFeatures,
    EmpiricalDenoiser,
    PCAFeatures,
    explained_variance,
    fit_gaussian,
    frechet_distance,
    memorization,
    mmd,
    nearest_neighbor_distances,
    sliced_wasserstein,
)


def test_frechet_matches_scipy_sqrtm():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    y = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4)) + 1.0
    Cx, Cy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    ref = ((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(Cx + Cy - 2 * linalg.sqrtm(Cx @ Cy).real)
    assert frechet_distance(x, y) == pytest.approx(ref, rel=1e-8)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    f = PCAFeatures(2).fit(x)
    assert frechet_distance(x, y, features=f) == pytest.approx(frechet_distance(f(x), f(y)))


def test_sliced_wasserstein_1d_is_wasserstein():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(500, 1)), rng.exponential(size=(500, 1))
    # in 1-D every direction is +-1: SW_1 = W_1
    ref = stats.wasserstein_distance(x.ravel(), y.ravel())
    assert sliced_wasserstein(x, y, p=1, rng=0) == pytest.approx(ref, rel=1e-10)
    # rotation invariance in expectation, exact zero for identical samples
    assert sliced_wasserstein(x, x, rng=0) == 0.0


def test_mmd_against_naive():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(30, 2)) + 0.5
    h = 0.8

    def k(a, b):
        return np.exp(-((a - b) ** 2).sum() / (2 * h * h))

    kxx = np.mean([k(a, b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j])
    kyy = np.mean([k(a, b) for i, a in enumerate(y) for j, b in enumerate(y) if i != j])
    kxy = np.mean([k(a, b) for a in x for b in y])
    assert mmd(x, y, bandwidth=h) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-10)


def test_classifier_features_on_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    before = torch.random.get_rng_state()
    f = ClassifierFeatures(epochs=150, random_state=0).fit(X[:1000] / 16, y[:1000])
    assert torch.equal(torch.random.get_rng_state(), before)
    acc = np.mean(f.predict(X[1000:] / 16) == y[1000:])
    assert acc > 0.85
    np.testing.assert_array_equal(
        f(X[:5] / 16),
        ClassifierFeatures(epochs=150, random_state=0).fit(X[:1000] / 16, y[:1000])(X[:5] / 16),
    )
    with pytest.raises(NotFittedError):
        ClassifierFeatures().transform(X)
    with pytest.warns(DeprecationWarning, match="`rng` is deprecated"):
        old = ClassifierFeatures(epochs=3, rng=0).fit(X[:100] / 16, y[:100])
    new = ClassifierFeatures(epochs=3, random_state=0).fit(X[:100] / 16, y[:100])
    np.testing.assert_array_equal(old.transform(X[:3] / 16), new.transform(X[:3] / 16))


def test_feature_maps_flatten_images_and_keep_their_arguments():
    X = np.random.default_rng(0).normal(size=(30, 1, 2, 3))
    f = PCAFeatures(50).fit(X)
    assert f.n_components == 50 and f.components_.shape == (6, 6) and f.n_features_in_ == 6
    assert f(X).shape == (30, 6)
    with pytest.raises(NotFittedError):
        PCAFeatures().transform(X)


@parametrize_with_checks(
    [PCAFeatures(2), ClassifierFeatures(hidden=4, n_features=3, epochs=3, random_state=0)]
)
def test_feature_maps_are_sklearn_transformers(estimator, check):
    check(estimator)


def test_explained_variance_extremes():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3)) * [1.0, 0.5, 2.0]
    g = fit_gaussian(X)
    const = lambda x, s: torch.zeros_like(x) + torch.as_tensor(X.mean(0), dtype=x.dtype)  # noqa: E731
    r = explained_variance(
        g, {"same": g, "mean": const}, X, [0.3, 3.0], n=500, rng=0, target="denoiser"
    )
    np.testing.assert_allclose(r.ev[0], 1.0, atol=1e-6)
    # the constant mean output explains (up to sampling of the mean) nothing of D
    assert np.all(np.abs(r.ev[1]) < 0.05)
    # score target: a reference returning x itself (score 0) explains nothing of the score
    ident = lambda x, s: x  # noqa: E731
    r2 = explained_variance(g, {"identity": ident}, X, [0.3, 3.0], n=500, rng=0)
    assert np.all(r2.ev[0] < 0.05) and r2.target == "score"
    ax = r.plot()
    assert len(ax.lines) == 2


def test_explained_variance_gaussian_vs_empirical_shape():
    # for the empirical denoiser the Gaussian explains almost all at high sigma, less at low
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(-2, 0.1, (100, 2)), rng.normal(2, 0.1, (100, 2))])
    E, G = EmpiricalDenoiser(X), fit_gaussian(X, ddof=0)
    r = explained_variance(
        E, {"gaussian": G}, X, [0.1, 1.0, 20.0], n=500, rng=0, dtype=torch.float64
    )
    assert r.ev[0, 2] > 0.99 and r.ev[0, 0] < r.ev[0, 2]


def test_nearest_neighbors_and_memorization():
    rng = np.random.default_rng(5)
    T = rng.normal(size=(300, 3))
    S = rng.normal(size=(20, 3))
    d, i = nearest_neighbor_distances(S, T, k=3, chunk_size=7)
    full = np.sqrt(((S[:, None] - T[None]) ** 2).sum(-1))
    np.testing.assert_allclose(d, np.sort(full, 1)[:, :3], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(i, np.argsort(full, 1)[:, :3])
    m = memorization(np.concatenate([T[:5] + 1e-4, S]), T)
    assert m.fraction == pytest.approx((5 + np.sum(m.ratio[5:] < 1 / 3)) / 25)
    np.testing.assert_array_equal(m.nearest[:5], np.arange(5))
    with pytest.raises(ValueError, match="same dimension"):
        nearest_neighbor_distances(S[:, :2], T)
    with pytest.raises(ValueError, match="`threshold`"):
        memorization(S, T, threshold=0.0)


def test_metric_bad_input():
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        mmd(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="`n_projections`"):
        sliced_wasserstein(np.zeros((5, 2)), np.zeros((5, 2)), n_projections=0)
    with pytest.raises(ValueError, match="`sigmas`"):
        explained_variance(lambda x, s: x, {"a": lambda x, s: x}, np.zeros((5, 2)), [0.0])
