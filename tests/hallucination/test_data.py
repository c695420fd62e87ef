import numpy as np
import pytest
from scipy import stats

from sciddm.hallucination import (
    HALLUCINATION,
    IN_SUPPORT,
    INTERMEDIATE,
    SHAPES,
    classify_shapes,
    grid_2d,
    mixture_1d,
    outside_mass,
    render_shape,
    simple_shapes,
)
from sciddm.hallucination._shapes import _strip_centers
from sciddm.reproduce import chisquare_gof


def test_grid_is_normalised_to_unit_variance():
    g = grid_2d()
    x = g.sample(200_000, rng=0)
    # per-axis variance 1 by construction; MC standard error ~ 0.003
    np.testing.assert_allclose(x.var(axis=0), 1.0, atol=0.02)
    assert g.n_modes == 25 and g.std == pytest.approx(0.05 / np.sqrt(0.05**2 + 8))
    r = grid_2d(rotated=True)
    # rotation keeps distances between modes
    d = lambda m: np.sort(np.linalg.norm(m.means[:, None] - m.means[None], axis=-1).ravel())  # noqa: E731
    np.testing.assert_allclose(d(g), d(r), atol=1e-12)
    assert not np.allclose(np.sort(g.means[:, 0]), np.sort(r.means[:, 0]))


def test_mode_frequencies_match_weights():
    m = mixture_1d((1, 2, 4, 5), weights=[0.1, 0.2, 0.3, 0.4])
    _, k = m.sample(20_000, rng=1, return_modes=True)
    # chi-squared test at a fixed seed; false-alarm rate 1e-3
    assert chisquare_gof(np.bincount(k, minlength=4), m.weights) > 1e-3


@pytest.mark.parametrize(
    ("k", "dim", "ref"), [(3, 1, 2.70e-3), (4, 1, 6.33e-5), (5, 1, 5.73e-7), (3, 2, np.exp(-4.5))]
)
def test_outside_mass_reference_values(k, dim, ref):
    assert outside_mass(k, dim) == pytest.approx(ref, rel=5e-3)
    assert outside_mass(k, 3) == pytest.approx(stats.chi2.sf(k * k, 3))


def test_classification_rates_match_exact_masses():
    m = grid_2d()
    x = m.sample(400_000, rng=2)
    lab = m.classify(x, k_support=2.0, k_hallucination=3.0)
    # exact: P(R > 2) = e^-2 = 0.1353 (not in support), P(R > 3) = e^-4.5 = 0.0111
    n = len(x)
    for frac, p in [
        ((lab != IN_SUPPORT).mean(), np.exp(-2)),
        ((lab == HALLUCINATION).mean(), np.exp(-4.5)),
    ]:
        se = np.sqrt(p * (1 - p) / n)
        assert abs(frac - p) < 5 * se  # 5 standard errors: false alarm < 1e-6


def test_classify_labels_and_errors():
    m = mixture_1d()
    lab = m.classify(np.array([[1.0], [2.2], [2.5], [3.2]]))
    np.testing.assert_array_equal(lab, [IN_SUPPORT, INTERMEDIATE, HALLUCINATION, INTERMEDIATE])
    with pytest.raises(ValueError, match="`x` must have shape"):
        m.classify(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="`k_hallucination`"):
        m.classify(np.zeros((3, 1)), k_hallucination=1.0)
    with pytest.raises(ValueError, match="`weights`"):
        mixture_1d((1, 2), weights=[-1, 2])
    with pytest.raises(ValueError, match="`std`"):
        grid_2d(std=0)


def test_simple_shapes_distribution_and_classifier():
    x, present = simple_shapes(700, size=48, rng=3)
    assert x.shape == (700, 48, 48) and set(np.unique(x)) <= {-1.0, 1.0}
    assert present.any(axis=1).all()
    # each of the 7 non-empty combinations has probability 1/7
    codes = present @ np.array([1, 2, 4])
    assert chisquare_gof(np.bincount(codes, minlength=8)[1:], np.full(7, 1 / 7)) > 1e-3
    lab = classify_shapes(x)
    assert not lab.hallucination.any()
    expected = np.where(present, np.array(SHAPES), "empty")
    np.testing.assert_array_equal(lab.strips, expected)


def test_shape_in_foreign_strip_is_a_hallucination():
    size = 48
    radius = 0.3 * size / 3 * 1.4
    img = 2 * render_shape("pentagon", size, _strip_centers(size)[0], radius) - 1
    lab = classify_shapes(img[None])
    assert lab.strips[0, 0] == "pentagon" and lab.hallucination[0]
    with pytest.raises(ValueError, match="`shape`"):
        render_shape("circle", size, (1, 1), 2)
