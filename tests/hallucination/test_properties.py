"""Property-based tests of sciddm.hallucination (issue 17): every public name, bad inputs.

Each name of ``sciddm.hallucination.__all__`` has a case: valid arguments (finite
result, a property) and argument kinds from which hypothesis draws one bad value at a
time. The call must return a finite result or raise ValueError/TypeError naming the
argument. Training and sampling use tiny recipes (2 steps, 4 levels).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sciddm.hallucination as H
from tests.diffusion._props import Case, corrupt_one, fresh

COVERED = frozenset(H.__all__)

MIX = H.mixture_1d()
GRID = H.grid_2d(2)
TINY = H.Recipe(steps=2, batch_size=8, sample_steps=4, window=3, hidden=4, depth=1)
DATA = MIX.sample(32, rng=0)
TRAINED = H.train_sampler(DATA, TINY, rng=0)
GEN = H.generate(TRAINED, 6, rng=0)
TRAJ = GEN.trajectory
LABELS = np.array([0, 0, 2, 0, 2, 1])
IMAGES = H.simple_shapes(3, size=12, rng=0)[0]


def _is(cls):
    def check(out):
        assert isinstance(out, cls), type(out)

    return check


def _labels_in_range(lab):
    assert set(np.unique(lab)) <= {H.IN_SUPPORT, H.INTERMEDIATE, H.HALLUCINATION}


def _detector(X, y, window, retention):
    det = H.TrajectoryVarianceDetector(window=window, retention=retention).fit(X, y)
    return det.predict(X), det.score_samples(X)


def _recorder(x, denoised, sigma):
    rec = H.TrajectoryRecorder()
    rec({"x": x, "denoised": denoised, "sigma": sigma})
    return rec.trajectory()


def _mode_mixture(means, std, weights):
    return H.ModeMixture(means=means, std=std, weights=weights).sample(4, rng=0)


def _constants():
    assert (H.IN_SUPPORT, H.INTERMEDIATE, H.HALLUCINATION) == (0, 1, 2)
    assert H.SHAPES == ("triangle", "square", "pentagon")


CASES: dict[str, Case] = {
    "ModeMixture": Case(
        _mode_mixture,
        {"means": np.array([[0.0], [1.0]]), "std": 0.1, "weights": np.array([0.5, 0.5])},
        {"means": "array", "std": "pos", "weights": "vector"},
    ),
    "mixture_1d": Case(
        H.mixture_1d,
        {"modes": (1.0, 2.0), "std": 0.05, "weights": [0.3, 0.7]},
        {"modes": "vector", "std": "pos", "weights": "vector"},
        check=_is(H.ModeMixture),
    ),
    "grid_2d": Case(
        H.grid_2d,
        {"size": 2, "spacing": 2.0, "std": 0.05, "rotated": True},
        {"size": "int", "spacing": "pos", "std": "pos", "rotated": "bool"},
        check=_is(H.ModeMixture),
    ),
    "outside_mass": Case(H.outside_mass, {"k": 3.0, "dim": 2}, {"k": "nonneg", "dim": "int"}),
    "mode_coverage": Case(
        H.mode_coverage,
        {"x": DATA, "mixture": MIX, "k": 3.0, "min_share": 0.25},
        {"x": "array", "mixture": "callable", "k": "pos", "min_share": "unit"},
    ),
    "IN_SUPPORT": Case(
        lambda x, k_support: MIX.classify(x, k_support=k_support),
        {"x": DATA, "k_support": 3.0},
        {"x": "array", "k_support": "pos"},
        check=_labels_in_range,
    ),
    "INTERMEDIATE": Case(
        lambda x, k_hallucination: MIX.classify(x, k_hallucination=k_hallucination),
        {"x": DATA, "k_hallucination": 5.0},
        {"x": "array", "k_hallucination": "pos"},
        check=_labels_in_range,
    ),
    "HALLUCINATION": Case(lambda n: MIX.sample(n, rng=0), {"n": 4}, {"n": "int"}),
    "SHAPES": Case(lambda: _constants(), {}, {}),
    "exact_denoiser": Case(
        lambda mixture, sigma: H.exact_denoiser(mixture).denoise(DATA, sigma),
        {"mixture": MIX, "sigma": 0.1},
        {"mixture": "callable", "sigma": "nonneg"},
    ),
    "exact_score_sample": Case(
        H.exact_score_sample,
        {"mixture": MIX, "n": 5, "steps": 3, "sigma_max": 10.0, "rng": 0},
        {"mixture": "callable", "n": "int", "steps": "int", "sigma_max": "pos", "rng": "rng"},
    ),
    "denoiser_along_segment": Case(
        H.denoiser_along_segment,
        {
            "denoiser": H.exact_denoiser(MIX),
            "a": [1.0],
            "b": [2.0],
            "sigmas": [0.1, 0.5],
            "n_points": 5,
        },
        {
            "denoiser": "callable",
            "a": "vector",
            "b": "vector",
            "sigmas": "vector",
            "n_points": "int",
        },
        check=_is(H.SegmentProfile),
    ),
    "SegmentProfile": Case(
        lambda: H.denoiser_along_segment(TRAINED.model, [1.0], [2.0], [0.1]),
        {},
        {},
        check=_is(H.SegmentProfile),
    ),
    "plot_segment_profile": Case(
        lambda profile: H.plot_segment_profile(profile) and None,
        {
            "profile": H.denoiser_along_segment(
                H.exact_denoiser(MIX), [1.0], [2.0], [0.1], n_points=3
            )
        },
        {"profile": "callable"},
    ),
    "trajectory_variance": Case(
        H.trajectory_variance,
        {"trajectory": TRAJ, "window": 2},
        {"trajectory": "array", "window": "int"},
    ),
    "Trajectory": Case(
        lambda x, x0_hat: H.trajectory_variance(
            H.Trajectory(x=x, x0_hat=x0_hat, sigmas=np.ones(3)), 2
        ),
        {"x": np.zeros((3, 2, 1)), "x0_hat": np.ones((3, 2, 1))},
        {"x": "array", "x0_hat": "array"},
        blame={"x": ("x", "sigmas", "x0_hat")},
    ),
    "TrajectoryRecorder": Case(
        _recorder,
        {"x": np.zeros((2, 1)), "denoised": np.ones((2, 1)), "sigma": 0.5},
        {"x": "array", "denoised": "array", "sigma": "nonneg"},
        check=_is(H.Trajectory),
    ),
    "TrajectoryVarianceDetector": Case(
        _detector,
        {"X": TRAJ, "y": LABELS, "window": 2, "retention": 0.9},
        {"X": "array", "y": "vector", "window": "int", "retention": "unit"},
        blame={"X": ("X", "y")},
    ),
    "DetectionReport": Case(
        lambda X, y: H.TrajectoryVarianceDetector(window=2).fit(TRAJ, LABELS).evaluate(X, y),
        {"X": TRAJ, "y": LABELS},
        {"X": "array", "y": "vector"},
        check=_is(H.DetectionReport),
        skip=frozenset({"removed", "auroc"}),
        blame={"X": ("X", "y")},
    ),
    "Recipe": Case(
        H.Recipe,
        {"kind": "edm", "steps": 2, "sample_steps": 4, "window": 3, "hidden": 4, "lr": 1e-3},
        {
            "kind": "choice",
            "steps": "int",
            "sample_steps": "int",
            "window": "int",
            "hidden": "int",
            "lr": "pos",
        },
    ),
    "train_sampler": Case(
        H.train_sampler,
        {"data": DATA, "recipe": TINY, "rng": 0},
        {"data": "array", "recipe": "object", "rng": "rng"},
        check=_is(H.TrainedSampler),
    ),
    "TrainedSampler": Case(lambda: TRAINED, {}, {}, check=_is(H.TrainedSampler)),
    "generate": Case(
        H.generate,
        {"trained": TRAINED, "n": 3, "rng": 0, "batch_size": 2},
        {"trained": "callable", "n": "int", "rng": "rng", "batch_size": "int"},
        check=_is(H.GenerationResult),
    ),
    "GenerationResult": Case(lambda: GEN, {}, {}, check=_is(H.GenerationResult)),
    "recursive_training": Case(
        H.recursive_training,
        {
            "mixture": MIX,
            "recipe": TINY,
            "generations": 1,
            "n_samples": 10,
            "strategy": "variance",
            "drop_fraction": 0.2,
            "window": 2,
            "rng": 0,
        },
        {
            "mixture": "callable",
            "recipe": "object",
            "generations": "int",
            "n_samples": "int",
            "strategy": "choice",
            "drop_fraction": "unit",
            "window": "int",
            "rng": "rng",
        },
        check=_is(H.RecursiveResult),
    ),
    "RecursiveResult": Case(
        lambda: H.recursive_training(MIX, TINY, generations=1, n_samples=10, rng=1),
        {},
        {},
        check=_is(H.RecursiveResult),
    ),
    "simple_shapes": Case(
        H.simple_shapes,
        {"n": 2, "size": 12, "p": 0.5, "rng": 0},
        {"n": "int", "size": "int", "p": "unit", "rng": "rng"},
    ),
    "render_shape": Case(
        H.render_shape,
        {"shape": "square", "size": 12, "center": (6.0, 6.0), "radius": 3.0},
        {"shape": "choice", "size": "int", "center": "vector", "radius": "pos"},
    ),
    "classify_shapes": Case(
        H.classify_shapes,
        {"images": IMAGES, "min_correlation": 0.75, "min_ink": 0.25},
        {"images": "array", "min_correlation": "unit", "min_ink": "unit"},
        check=_is(H.ShapeLabels),
    ),
    "ShapeLabels": Case(lambda: H.classify_shapes(IMAGES), {}, {}, check=_is(H.ShapeLabels)),
}


def test_covered_is_the_public_api():
    assert frozenset(CASES) == COVERED


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_input_gives_a_finite_valid_result(name):
    case = CASES[name]
    case.run({k: fresh(v) for k, v in case.kwargs.items()})


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n].kinds))
@given(data=st.data())
def test_bad_input_gives_a_named_error_or_a_valid_result(name, data):
    case = CASES[name]
    slot, bad = data.draw(corrupt_one(case))
    kw = {k: fresh(v) for k, v in case.kwargs.items()}
    kw[slot] = bad
    case.run(kw, slot)


# --- properties of valid, generated inputs -------------------------------------------


@given(k=st.floats(0.0, 8.0), dim=st.integers(1, 4))
def test_outside_mass_is_a_probability_decreasing_in_k(k, dim):
    p = H.outside_mass(k, dim)
    assert 0.0 <= p <= 1.0 and H.outside_mass(k + 0.5, dim) <= p


@given(
    steps=st.integers(3, 12),
    n=st.integers(1, 5),
    window=st.integers(2, 3),
    seed=st.integers(0, 2**31),
)
def test_detector_scores_match_the_variance_over_the_window(steps, n, window, seed):
    x0 = np.random.default_rng(seed).normal(size=(steps, n, 2))
    tr = H.Trajectory(x=x0, x0_hat=x0, sigmas=np.ones(steps))
    direct = x0[-window:].var(axis=0).mean(-1)
    np.testing.assert_allclose(H.trajectory_variance(tr, window), direct, rtol=1e-12)
    det = H.TrajectoryVarianceDetector(window=window).fit(tr)
    np.testing.assert_allclose(det.score_samples(np.moveaxis(x0, 0, 1)), direct, rtol=1e-12)
    assert det.predict(tr).sum() <= n  # a threshold at a quantile flags at most the rest


@given(
    modes=st.lists(st.floats(-10, 10), min_size=1, max_size=4, unique=True),
    seed=st.integers(0, 2**31),
)
def test_samples_near_a_mode_are_in_support(modes, seed):
    m = H.mixture_1d(modes, std=0.01)
    lab = m.classify(np.asarray(modes, dtype=float)[:, None])
    assert np.all(lab == H.IN_SUPPORT)
    assert m.sample(3, rng=seed).shape == (3, 1)
