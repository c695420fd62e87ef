import numpy as np
import pytest
import torch

from sciddm.hallucination import (
    Recipe,
    denoiser_along_segment,
    exact_denoiser,
    generate,
    grid_2d,
    mixture_1d,
    plot_segment_profile,
    recursive_training,
    train_sampler,
)


class _Identity(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))

    def forward(self, x, sigma):
        return x * self.w


def test_exact_denoiser_matches_two_mode_closed_form():
    m = mixture_1d((-0.5, 0.5), std=0.05)
    den = exact_denoiser(m)
    x = np.linspace(-1, 1, 41)[:, None]
    for sigma in (0.05, 0.3):
        v = 0.05**2 + sigma**2
        closed = 0.05**2 / v * x[:, 0] + sigma**2 / v * 0.5 * np.tanh(0.5 * x[:, 0] / v)
        np.testing.assert_allclose(np.asarray(den.denoise(x, sigma))[:, 0], closed, atol=1e-10)
    with pytest.raises(TypeError, match="`mixture`"):
        exact_denoiser(np.zeros(3))


def test_segment_profile_projection_and_step():
    g = grid_2d()
    a, b = g.means[0], g.means[1]
    prof = denoiser_along_segment(
        _Identity(), a, b, [0.1, 1.0], n_points=11, exact=exact_denoiser(g)
    )
    np.testing.assert_allclose(prof.learned[0], prof.s, atol=1e-12)  # D = x projects to s
    step = prof.exact[0]  # at sigma = 0.1 << spacing the exact denoiser snaps to a mode
    assert np.all(step[prof.s < 0.3] < 0.02) and np.all(step[prof.s > 0.7] > 0.98)
    assert step[5] == pytest.approx(0.5, abs=1e-6)  # symmetric midpoint
    ax = plot_segment_profile(prof)
    assert len(ax.lines) == 4
    with pytest.raises(ValueError, match="`a` and `b` must differ"):
        denoiser_along_segment(_Identity(), a, a, [0.1])
    with pytest.raises(ValueError, match="`sigmas` must be positive"):
        denoiser_along_segment(_Identity(), a, b, [0.0])
    with pytest.raises(ValueError, match="`a` and `b` must have the same shape"):
        denoiser_along_segment(_Identity(), a, [1.0], [0.1])


@pytest.mark.parametrize("kind", ["ddpm", "edm"])
def test_train_and_generate_are_reproducible(kind):
    X = mixture_1d().sample(256, rng=0)
    r = Recipe(kind=kind, steps=3, batch_size=32, sample_steps=12, window=4, hidden=16, depth=1)
    t1, t2 = train_sampler(X, r, rng=1), train_sampler(X, r, rng=1)
    r1 = generate(t1, 50, rng=2, batch_size=20)
    r2 = generate(t2, 50, rng=2, batch_size=50)
    x1, tr1, x2 = r1.samples, r1.trajectory, r2.samples
    assert x1.shape == (50, 1) and tr1.x0_hat.shape == (4, 50, 1)
    np.testing.assert_allclose(t1.losses, t2.losses)
    assert np.isfinite(x1).all()
    # same seed and batch split: the same samples, from independently trained twins
    np.testing.assert_allclose(generate(t1, 50, rng=2, batch_size=50).samples, x2, rtol=1e-6)
    assert not np.allclose(generate(t1, 50, rng=3).samples, x2)


def test_recipe_validation():
    with pytest.raises(ValueError, match="`kind`"):
        Recipe(kind="vae")
    with pytest.raises(ValueError, match="`window`"):
        Recipe(sample_steps=5, window=10)
    assert Recipe.paper().sample_steps == 1000 and Recipe.paper().window == 10


def test_recursive_training_shapes_and_errors():
    r = Recipe(kind="edm", steps=3, batch_size=32, sample_steps=8, window=3, hidden=16, depth=1)
    res = recursive_training(mixture_1d(), r, generations=2, n_samples=40, strategy="random", rng=0)
    assert res.hallucination_rate.shape == (2,) and len(res.rows()) == 2
    assert np.all((res.hallucination_rate >= 0) & (res.hallucination_rate <= 1))
    with pytest.raises(ValueError, match="`strategy`"):
        recursive_training(mixture_1d(), r, strategy="best")
    with pytest.raises(ValueError, match="`drop_fraction`"):
        recursive_training(mixture_1d(), r, drop_fraction=1.0)
    with pytest.raises(ValueError, match="`window`"):
        recursive_training(mixture_1d(), r, window=r.window + 1)


def test_recursive_strategies_share_the_first_generation():
    r = Recipe(kind="edm", steps=3, batch_size=32, sample_steps=8, window=3, hidden=16, depth=1)
    a = recursive_training(mixture_1d(), r, generations=2, n_samples=40, strategy="none", rng=5)
    b = recursive_training(mixture_1d(), r, generations=2, n_samples=40, strategy="variance", rng=5)
    assert a.hallucination_rate[0] == b.hallucination_rate[0]
    assert a.modes_covered[0] == b.modes_covered[0]


def test_exact_score_sample_has_the_data_mode_shares():
    """The exact-score baseline starts from the exact marginal at sigma_max.

    The PF-ODE transports the marginal exactly, so the mode shares of its samples are
    the mixture weights: a chi-squared test at false-alarm rate 1e-3. The old start,
    N(0, 80^2), ignores the data mean 2 and fails the same test (p ~ 2e-8 at this seed).
    """
    import torch
    from scipy import stats

    from sciddm.diffusion import karras_sigmas, sample_heun
    from sciddm.hallucination import exact_score_sample

    m = mixture_1d()
    n = 40_000
    res = exact_score_sample(m, n, steps=50, rng=0)
    assert res.nfe == 99 and res.samples.shape == (n, 1)
    counts = np.bincount(m.nearest_mode(res.samples.numpy()), minlength=3)
    assert stats.chisquare(counts, n * m.weights).pvalue > 1e-3
    old_start = 80.0 * torch.randn(n, 1, generator=torch.Generator().manual_seed(0)).double()
    old = sample_heun(exact_denoiser(m), old_start, karras_sigmas(50)).samples.numpy()
    old_counts = np.bincount(m.nearest_mode(old), minlength=3)
    assert stats.chisquare(old_counts, n * m.weights).pvalue < 1e-3
    with pytest.raises(TypeError, match="`mixture`"):
        exact_score_sample("grid", 10)
