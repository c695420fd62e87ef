"""search_schedule, sample_mixed, gaussian_output_law, standard_schedules (issue 21)."""

import math

import numpy as np
import pytest
import torch

from sciddm.diffusion import (
    SOLVERS,
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    NFECounter,
    ScheduleSearchResult,
    frechet_distance,
    gaussian_output_law,
    gaussian_w2,
    karras_sigmas,
    levels_for_nfe,
    plan_nfe,
    sample,
    sample_ancestral,
    sample_ddim,
    sample_dpmpp_2m,
    sample_euler,
    sample_heun,
    sample_mixed,
    search_schedule,
    standard_schedules,
)
from sciddm.diffusion.toys import ring_mixture, ring_mixture_params

SAMPLERS = {
    "euler": sample_euler,
    "heun": sample_heun,
    "ddim": sample_ddim,
    "dpmpp_2m": sample_dpmpp_2m,
    "ancestral": sample_ancestral,
}


def _gauss(d=3, seed=0, lam=(0.01, 0.2, 1.5)):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return GaussianDenoiser(rng.normal(size=d), (Q * np.asarray(lam)) @ Q.T)


def _mixture():
    w, m, c = ring_mixture_params(k=4, radius=1.5, std=0.2)
    return GaussianMixtureDenoiser(m, c, w)


def _x(n, d, sigma=80.0, seed=1):
    g = torch.Generator().manual_seed(seed)
    return sigma * torch.randn(n, d, generator=g, dtype=torch.float64)


# --------------------------------------------------------------------------- schedules


def test_standard_schedules_share_endpoints_and_descend():
    for n in (2, 5, 18):
        sch = standard_schedules(n, sigma_min=0.01, sigma_max=50.0)
        assert set(sch) == {"karras", "linear", "log_snr", "vp"}
        for s in sch.values():
            assert s.shape == (n + 1,) and s[0] == 50.0 and s[-2] == pytest.approx(0.01)
            assert s[-1] == 0 and np.all(np.diff(s) < 0)
        np.testing.assert_allclose(
            np.diff(np.log(sch["log_snr"][:-1])), np.log(0.01 / 50) / (n - 1)
        )
        np.testing.assert_allclose(np.diff(sch["linear"][:-1]), (0.01 - 50) / (n - 1))
        np.testing.assert_allclose(sch["karras"], karras_sigmas(n, sigma_min=0.01, sigma_max=50.0))
    # VP: uniform in t for sigma(t) = sqrt(exp(19.9 t^2/2 + 0.1 t) - 1)
    vp = standard_schedules(6, sigma_min=0.01, sigma_max=50.0)["vp"][:-1]
    b = np.log1p(vp**2)
    t = (-0.1 + np.sqrt(0.01 + 2 * 19.9 * b)) / 19.9
    np.testing.assert_allclose(np.diff(t), np.diff(t)[0], rtol=1e-9)
    assert standard_schedules(1)["karras"].tolist() == [80.0, 0.0]


def test_levels_for_nfe():
    assert [levels_for_nfe("heun", k) for k in (1, 2, 3, 4, 35)] == [1, 1, 2, 2, 18]
    assert levels_for_nfe("euler", 7) == 7
    for k in range(1, 12):
        n = levels_for_nfe("heun", k)
        assert 2 * n - 1 <= k < 2 * (n + 1) - 1


# --------------------------------------------------------------------------- sample_mixed


@pytest.mark.parametrize(
    ("kind", "fn"), [("heun", sample_heun), ("2m", sample_dpmpp_2m), ("euler", sample_euler)]
)
def test_pure_plans_are_the_samplers(kind, fn):
    g, x, s = _gauss(), _x(6, 3), karras_sigmas(7)
    a, b = sample_mixed(g, x, s, solvers=kind), fn(g, x, s)
    torch.testing.assert_close(a.samples, b.samples, rtol=1e-12, atol=1e-10)
    assert a.nfe == b.nfe == plan_nfe(s, kind)


@pytest.mark.parametrize("kind", ["heun", "heun_data", "2m", "2m_noise"])
def test_second_order_kinds_converge_at_rate_two(kind):
    g, x = _gauss(lam=(0.05, 0.5, 2.0)), _x(16, 3)
    exact = g.pf_ode(x, 80.0, 0.0)
    err = [
        float((sample_mixed(g, x, karras_sigmas(n), solvers=kind).samples - exact).abs().max())
        for n in (40, 160)
    ]
    order = math.log(err[0] / err[1]) / math.log(4)
    assert 1.7 < order < 2.4, (kind, err, order)


def test_euler_is_first_order():
    g, x = _gauss(lam=(0.05, 0.5, 2.0)), _x(16, 3)
    exact = g.pf_ode(x, 80.0, 0.0)
    err = [
        float((sample_mixed(g, x, karras_sigmas(n), solvers="euler").samples - exact).abs().max())
        for n in (40, 160)
    ]
    assert 0.8 < math.log(err[0] / err[1]) / math.log(4) < 1.2


def test_mixed_plan_counts_and_callback():
    g, x, s = _gauss(), _x(2, 3), karras_sigmas(5)
    plan = ["heun", "2m_noise", "heun_data", "2m", "heun"]
    seen = []
    counter = NFECounter(g)
    res = sample_mixed(counter, x, s, solvers=plan, callback=seen.append)
    assert res.nfe == counter.nfe == plan_nfe(s, plan) == 2 + 1 + 2 + 1 + 1
    assert [d["i"] for d in seen] == list(range(5)) and res.sampler == "mixed"


def test_mixed_validation():
    g, x = _gauss(), _x(2, 3)
    with pytest.raises(ValueError, match="`solvers` must hold one solver per step"):
        sample_mixed(g, x, karras_sigmas(3), solvers=["heun"])
    with pytest.raises(ValueError, match="`solvers` must be one of"):
        sample_mixed(g, x, karras_sigmas(2), solvers=["heun", "rk4"])
    with pytest.raises(TypeError, match="`solvers`"):
        sample_mixed(g, x, karras_sigmas(2), solvers=3)
    with pytest.raises(ValueError, match="strictly decreasing"):
        sample_mixed(g, x, [2.0, 1.0, 1.0, 0.0], solvers="euler")
    with pytest.raises(TypeError, match="`rng`"):
        sample_mixed(g, x, karras_sigmas(2), rng="seed")


# --------------------------------------------------------------------------- closed form


@pytest.mark.parametrize("sampler", ["euler", "heun", "ddim", "dpmpp_2m"])
def test_deterministic_law_is_the_sampler_map(sampler):
    """The closed form's affine map equals the sampler run on any start points."""
    g = _gauss()
    s = karras_sigmas(6, sigma_max=20.0)
    x = _x(5, 3, sigma=20.0)
    law = gaussian_output_law(g, s, sampler=sampler)
    out = SAMPLERS[sampler](g, x, s).samples.numpy()
    B, C, mu = law.basis, law.coef, g.mean_
    pred = mu + ((x.numpy() - mu) @ B) * C @ B.T
    np.testing.assert_allclose(out, pred, rtol=1e-10, atol=1e-10)
    assert law.nfe == SAMPLERS[sampler](g, x, s).nfe


def test_plan_law_is_the_plan_map():
    g = _gauss()
    s = karras_sigmas(6, sigma_max=20.0)
    plan = ["2m_noise", "heun_data", "heun", "2m", "2m_noise", "euler"]
    x = _x(5, 3, sigma=20.0)
    law = gaussian_output_law(g, s, solvers=plan)
    out = sample_mixed(g, x, s, solvers=plan).samples.numpy()
    pred = g.mean_ + ((x.numpy() - g.mean_) @ law.basis) * law.coef @ law.basis.T
    np.testing.assert_allclose(out, pred, rtol=1e-10, atol=1e-10)


def test_law_w2_agrees_with_gaussian_w2_of_its_mean_and_cov():
    g = _gauss()
    for kw in ({"sampler": "heun"}, {"sampler": "ancestral", "eta": 0.7}, {"solvers": "2m"}):
        law = gaussian_output_law(g, karras_sigmas(5), **kw)
        assert law.w2 == pytest.approx(gaussian_w2(law.mean, law.cov, g.mean_, g.cov_), rel=1e-8)


def test_law_low_rank_complement():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    g = GaussianDenoiser(rng.normal(size=4), (Q[:, :2], np.array([0.3, 1.0])))
    s = karras_sigmas(5, sigma_max=10.0)
    law = gaussian_output_law(g, s, sampler="euler")
    x = _x(3, 4, sigma=10.0)
    out = sample_euler(g, x, s).samples.numpy()
    pred = g.mean_ + ((x.numpy() - g.mean_) @ law.basis) * law.coef @ law.basis.T
    np.testing.assert_allclose(out, pred, atol=1e-10)
    # the matrix square root of a singular covariance loses about half the digits
    assert law.w2 == pytest.approx(gaussian_w2(law.mean, law.cov, g.mean_, g.cov_), rel=1e-6)


def test_gaussian_w2_closed_forms():
    # commuting covariances: sum of (sqrt a - sqrt b)^2 plus the mean term
    w = gaussian_w2([0, 0], np.diag([1.0, 9.0]), [1.0, 2.0], np.diag([4.0, 1.0]))
    assert w == pytest.approx(math.sqrt(5 + 1 + 4))
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert gaussian_w2([1.0, 0.0], A, [1.0, 0.0], A) == pytest.approx(0.0, abs=1e-7)
    B = np.array([[1.0, -0.3], [-0.3, 0.5]])
    assert gaussian_w2([0, 0], A, [1, 1], B) == pytest.approx(gaussian_w2([1, 1], B, [0, 0], A))
    with pytest.raises(ValueError, match="`cov2`"):
        gaussian_w2([0, 0], A, [0, 0], np.eye(3))


def test_law_validation():
    g = _gauss()
    with pytest.raises(TypeError, match="`gaussian`"):
        gaussian_output_law(_mixture(), karras_sigmas(3))
    with pytest.raises(TypeError, match="`eta`"):
        gaussian_output_law(g, karras_sigmas(3), sampler="heun", eta=1.0)
    with pytest.raises(ValueError, match="`sampler`"):
        gaussian_output_law(g, karras_sigmas(3), sampler="rk45")
    with pytest.raises(ValueError, match="`sigmas`"):
        gaussian_output_law(g, [3.0, 1.0])


# --------------------------------------------------------------------------- search


def test_search_is_reproducible_and_rng_matters():
    g = _gauss()
    a = search_schedule(g, 6, sampler="euler", budget=900, rng=3)
    b = search_schedule(g, 6, sampler="euler", budget=900, rng=3)
    c = search_schedule(g, 6, sampler="euler", budget=900, rng=4)
    np.testing.assert_array_equal(a.sigmas, b.sigmas)
    np.testing.assert_array_equal(a.trace_fitness, b.trace_fitness)
    assert not np.array_equal(a.trace_fitness, c.trace_fitness)
    m = _mixture()
    kw = {
        "sampler": "dpmpp_2m",
        "fitness": "flow",
        "shape": (2,),
        "n_samples": 64,
        "reference_steps": 16,
        "budget": 150,
    }
    f1, f2 = search_schedule(m, 4, rng=0, **kw), search_schedule(m, 4, rng=0, **kw)
    np.testing.assert_array_equal(f1.sigmas, f2.sigmas)
    assert f1.fitness == f2.fitness


@pytest.mark.parametrize("method", ["evolution", "local"])
@pytest.mark.parametrize("sampler", ["euler", "heun", "dpmpp_2m", "ancestral"])
def test_search_beats_or_equals_the_best_fixed_schedule(method, sampler):
    g = _gauss()
    res = search_schedule(g, 7, sampler=sampler, method=method, budget=700, rng=0)
    assert res.fitness <= min(res.baselines.values())
    # independent recomputation of the result's and the baselines' fitness
    opts = {}
    assert res.fitness == pytest.approx(gaussian_output_law(g, res.sigmas, sampler=sampler).w2)
    for name, s in res.baseline_sigmas.items():
        assert res.baselines[name] == pytest.approx(
            gaussian_output_law(g, s, sampler=sampler, **opts).w2
        )
    assert np.all(np.diff(res.sigmas) < 0) and res.sigmas[0] == 80.0 and res.sigmas[-1] == 0
    assert res.sigmas[-2] >= 0.002 and res.nfe_used <= 7


def test_search_improves_strongly_on_a_gaussian():
    res = search_schedule(_gauss(), 6, sampler="dpmpp_2m", budget=3000, rng=0)
    assert res.improvement > 0.5, res.improvement


@pytest.mark.parametrize("fitness", ["flow", "frechet"])
def test_budget_is_respected_and_counts_the_real_calls(fitness):
    m = _mixture()
    counter = NFECounter(m)
    ref = ring_mixture(300, k=4, radius=1.5, std=0.2, rng=0)
    res = search_schedule(
        counter,
        5,
        sampler="heun",
        fitness=fitness,
        reference=ref if fitness == "frechet" else None,
        shape=(2,),
        n_samples=32,
        reference_steps=8,
        budget=97,
        rng=0,
    )
    assert res.network_calls == counter.nfe <= 97
    assert res.trace_calls[-1] == res.network_calls and np.all(np.diff(res.trace_calls) > 0)
    assert res.network_calls > 97 - 5  # no room for another candidate
    if fitness == "flow":
        assert res.reference_error is not None and res.reference_error >= 0
    with pytest.raises(ValueError, match="`budget` must cover"):
        search_schedule(
            counter,
            5,
            sampler="heun",
            fitness=fitness,
            shape=(2,),
            reference=ref,
            reference_steps=8,
            budget=10,
            rng=0,
        )


def test_flow_fitness_is_the_rms_distance_to_the_reference_solution():
    m = _mixture()
    res = search_schedule(
        m,
        4,
        sampler="euler",
        fitness="flow",
        shape=(2,),
        n_samples=50,
        reference_steps=32,
        budget=200,
        rng=5,
    )
    z = torch.as_tensor(np.random.default_rng(5).standard_normal((50, 2)))
    x = 80.0 * z
    ref = sample_heun(m, x, karras_sigmas(32)).samples
    for name, s in res.baseline_sigmas.items():
        y = sample_euler(m, x, s).samples
        rms = float((y - ref).pow(2).sum(1).mean().sqrt())
        assert res.baselines[name] == pytest.approx(rms, rel=1e-10)


def test_frechet_fitness_matches_frechet_distance():
    m = _mixture()
    ref = ring_mixture(400, k=4, radius=1.5, std=0.2, rng=1)
    res = search_schedule(
        m, 4, sampler="dpmpp_2m", fitness="frechet", reference=ref, n_samples=100, budget=40, rng=2
    )
    z = torch.as_tensor(np.random.default_rng(2).standard_normal((100, 2)))
    for name, s in res.baseline_sigmas.items():
        y = sample_dpmpp_2m(m, 80.0 * z, s).samples.numpy()
        assert res.baselines[name] == pytest.approx(frechet_distance(y, ref), rel=1e-8)


def test_local_search_stops_when_converged():
    res = search_schedule(_gauss(), 4, sampler="euler", method="local", budget=10**6, rng=0)
    assert res.network_calls < 10**6 and res.fitness <= min(res.baselines.values())


def test_per_step_solver_plan():
    g = _gauss()
    res = search_schedule(g, 6, sampler="heun", per_step_solver=True, budget=1200, rng=0)
    assert res.solvers is not None and len(res.solvers) == len(res.sigmas) - 1
    assert set(res.solvers) <= set(SOLVERS)
    assert res.nfe_used == plan_nfe(res.sigmas, res.solvers) <= 6
    assert res.fitness == pytest.approx(gaussian_output_law(g, res.sigmas, solvers=res.solvers).w2)
    assert res.fitness <= min(res.baselines.values())
    # the baselines are plain Heun (5 NFE at nfe = 6)
    law = gaussian_output_law(g, res.baseline_sigmas["karras"], sampler="heun")
    assert res.baselines["karras"] == pytest.approx(law.w2) and law.nfe == 5
    x = _x(4, 3)
    out = res.sample(g, x)
    assert out.nfe == res.nfe_used and out.sampler == "mixed"


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_searched_ladder_plugs_into_every_sampler_and_teleportation(name):
    g = _gauss()
    res = search_schedule(g, 8, sampler="euler", budget=400, rng=0)
    x = _x(4, 3)
    out = SAMPLERS[name](g, x, res.sigmas, rng=0)
    assert torch.isfinite(out.samples).all() and out.nfe >= len(res.sigmas) - 1
    k = 2
    tele = sample(g, x, res.sigmas, sampler=name, teleport_to=float(res.sigmas[k]), rng=0)
    assert tele.nfe < out.nfe + 1 and torch.isfinite(tele.samples).all()
    np.testing.assert_array_equal(tele.sigmas, res.sigmas[k:])
    assert res.sample(g, x).nfe == res.nfe_used


def test_result_plots_and_summary():
    import matplotlib.pyplot as plt

    res = search_schedule(_gauss(), 5, sampler="euler", budget=300, rng=0)
    assert isinstance(res, ScheduleSearchResult)
    ax = res.plot()
    assert ax.get_xlabel() == "network calls spent" and len(ax.lines) >= 5
    ax2 = res.plot_schedules()
    assert len(ax2.lines) == 5
    assert "ScheduleSearchResult" in res.summary()
    assert res.to_dict()["fitness_name"] == "w2"
    plt.close("all")


def test_search_validation_names_the_argument():
    g = _gauss()
    bad = [
        ({"nfe": 0}, "`nfe`"),
        ({"sampler": "rk4"}, "`sampler`"),
        ({"fitness": "fid"}, "`fitness`"),
        ({"method": "bayes"}, "`method`"),
        ({"sigma_min": -1.0}, "`sigma_min`"),
        ({"sigma_max": 0.001}, "`sigma_max`"),
        ({"budget": 3}, "`budget`"),
        ({"population": 1}, "`population`"),
        ({"sampler_options": {"eta": 1.0}}, "`sampler_options`"),
        ({"sampler": "ancestral", "per_step_solver": True}, "`per_step_solver"),
        ({"fitness": "frechet"}, "`reference`"),
    ]
    for kw, msg in bad:
        args = {"nfe": 4, **kw}
        with pytest.raises((ValueError, TypeError), match=msg):
            search_schedule(g, args.pop("nfe"), **args)
    with pytest.raises(ValueError, match="GaussianDenoiser"):
        search_schedule(_mixture(), 4, fitness="w2")
    with pytest.raises(ValueError, match="deterministic"):
        search_schedule(_mixture(), 4, fitness="flow", sampler="ancestral", shape=(2,))
    with pytest.raises(ValueError, match="`shape`"):
        search_schedule(lambda x, s: 0 * x, 4, fitness="flow")
    with pytest.raises(TypeError, match="`rng`"):
        search_schedule(g, 4, rng="seed")
    with pytest.raises(TypeError, match="`denoiser`"):
        search_schedule(3, 4)


def test_init_warm_starts_the_search():
    g = _gauss()
    first = search_schedule(g, 6, sampler="euler", budget=1200, rng=0)
    again = search_schedule(g, 6, sampler="euler", budget=120, rng=1, init=first)
    assert again.fitness <= first.fitness  # the init is evaluated right after the baselines
    assert again.trace_fitness[4] == pytest.approx(first.fitness)
    local = search_schedule(
        g,
        6,
        sampler="euler",
        method="local",
        budget=600,
        rng=0,
        init=[first.sigmas, first.baseline_sigmas["karras"]],
    )
    assert local.fitness <= first.fitness
    with pytest.raises(ValueError, match="`init`.*sigma_max"):
        search_schedule(g, 6, sampler="euler", init=first.sigmas * 0.5)
    with pytest.raises(ValueError, match="`init`.*levels"):
        search_schedule(g, 6, sampler="euler", init=karras_sigmas(4))
    with pytest.raises(ValueError, match="`init`"):
        search_schedule(g, 6, sampler="euler", init=[3.0, 1.0])
    per = search_schedule(g, 6, sampler="dpmpp_2m", per_step_solver=True, budget=300, rng=0)
    warm = search_schedule(
        g, 6, sampler="dpmpp_2m", per_step_solver=True, budget=120, rng=0, init=per
    )
    assert warm.fitness <= per.fitness


def test_frechet_with_a_stochastic_sampler_uses_common_random_numbers():
    m = _mixture()
    ref = ring_mixture(300, k=4, radius=1.5, std=0.2, rng=0)
    kw = {
        "sampler": "ancestral",
        "fitness": "frechet",
        "reference": ref,
        "n_samples": 64,
        "budget": 60,
        "population": 4,
    }
    a, b = search_schedule(m, 3, rng=7, **kw), search_schedule(m, 3, rng=7, **kw)
    np.testing.assert_array_equal(a.trace_fitness, b.trace_fitness)
    assert a.fitness <= min(a.baselines.values())


@pytest.mark.parametrize("sampler", ["heun", "euler", "dpmpp_2m"])
def test_per_step_local_search_keeps_the_plan_within_nfe(sampler):
    g = _gauss()
    for seed in range(3):
        r = search_schedule(
            g, 7, sampler=sampler, per_step_solver=True, method="local", budget=2000, rng=seed
        )
        assert r.nfe_used == plan_nfe(r.sigmas, r.solvers) <= 7
        assert r.fitness <= min(r.baselines.values())
