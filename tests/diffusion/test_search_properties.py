"""Property-based tests of the schedule and solver search (issue 21; issue 17's rules).

``COVERED`` lists the names that issue 21 adds to ``sciddm.diffusion.__all__``; each is
exercised below with valid generated inputs (a property that must hold) and with bad
inputs, one corrupted argument at a time: the call must return a finite, valid result or
raise ValueError/TypeError whose message names the corrupted argument.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

import sciddm.diffusion as D

COVERED = frozenset(
    {
        "SOLVERS",
        "GaussianOutputLaw",
        "ScheduleSearchResult",
        "gaussian_output_law",
        "gaussian_w2",
        "levels_for_nfe",
        "plan_nfe",
        "sample_mixed",
        "search_schedule",
        "standard_schedules",
    }
)

NAN, INF = float("nan"), float("inf")
G2 = D.GaussianDenoiser([0.5, -0.5], [[1.0, 0.3], [0.3, 0.5]])
MIX = D.GaussianMixtureDenoiser(
    [[-1.0, 0.0], [1.0, 0.0]], np.full((2, 2, 2), 0.0) + 0.1 * np.eye(2)
)
LADDER = D.karras_sigmas(3, sigma_max=10.0)
X0 = 10.0 * torch.randn(3, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

BAD_INT = [0, -1, 10**12, 2.5, NAN, "3", None, True, [2]]
BAD_POS = [0.0, -1.0, NAN, INF, "1", None, [1.0]]
BAD_CHOICE = ["nope", 3, None, ""]
BAD_RNG = ["seed", 1.5, -1, np.random.RandomState(0), object()]
BAD_VECTOR = [
    np.array([NAN, 1.0, 0.0]),
    np.array([1.0, 2.0, 0.0]),
    np.array([1.0, -1.0, 0.0]),
    np.zeros(0),
    np.zeros((2, 2)),
    "abc",
    None,
    sp.csr_matrix(np.ones((1, 3))),
]
BAD_MATRIX = [
    np.array([[NAN, 0.0], [0.0, 1.0]]),
    np.array([[1.0, 2.0], [2.0, 1.0]]),
    np.zeros((3, 3)),
    np.ones(2),
    "abc",
    None,
    sp.csr_matrix(np.eye(2)),
]

#: name -> (function, valid keyword arguments, {argument: bad values}, positional names)
CASES = {
    "search_schedule": (
        D.search_schedule,
        {"denoiser": G2, "nfe": 3, "sampler": "euler", "budget": 60, "population": 4, "rng": 0},
        {
            "denoiser": [None, 3, "f"],
            "nfe": BAD_INT,
            "sampler": BAD_CHOICE,
            "budget": [0, -5, NAN, "1", None, 2.5],
            "population": [0, 1, 10**9, NAN, "4"],
            "rng": BAD_RNG,
            "sigma_min": BAD_POS + [100.0],
            "sigma_max": BAD_POS,
            "fitness": BAD_CHOICE + ["flow"],
            "method": BAD_CHOICE,
            "per_step_solver": ["yes", 2, None],
            "sampler_options": [{"eta": 1.0}, {"s_churn": NAN}, "eta", 3],
            "init": BAD_VECTOR + [np.array([80.0, 1.0, 0.0]), D.karras_sigmas(5)],
            "device": ["nope", 3.5],
        },
        ("denoiser", "nfe"),
    ),
    "search_schedule_flow": (
        D.search_schedule,
        {
            "denoiser": MIX,
            "nfe": 2,
            "sampler": "dpmpp_2m",
            "fitness": "flow",
            "shape": (2,),
            "n_samples": 8,
            "reference_steps": 4,
            "budget": 40,
            "population": 4,
            "rng": 0,
        },
        {
            "shape": [(0,), ("a",), 5, "ab", (3,)],
            "n_samples": [0, 1, 10**12, NAN, "8"],
            "reference_steps": [0, 1, 10**12, NAN],
            "reference": BAD_MATRIX[:1],
        },
        ("denoiser", "nfe"),
    ),
    "gaussian_output_law": (
        D.gaussian_output_law,
        {"gaussian": G2, "sigmas": LADDER, "sampler": "ancestral", "eta": 0.5},
        {
            "gaussian": [MIX, None, 3],
            "sigmas": BAD_VECTOR + [np.array([1.0, 0.5])],
            "sampler": BAD_CHOICE,
            "eta": [-1.0, NAN, INF, "a", None],
        },
        ("gaussian", "sigmas"),
    ),
    "gaussian_w2": (
        D.gaussian_w2,
        {
            "mean1": np.zeros(2),
            "cov1": np.eye(2),
            "mean2": np.ones(2),
            "cov2": np.diag([2.0, 0.5]),
        },
        {
            "mean1": [np.array([NAN, 0.0]), np.zeros(3), "a", None],
            "cov1": BAD_MATRIX,
            "mean2": [np.array([INF, 0.0]), np.zeros((2, 2)), None],
            "cov2": BAD_MATRIX,
        },
        ("mean1", "cov1", "mean2", "cov2"),
    ),
    "sample_mixed": (
        D.sample_mixed,
        {"denoiser": G2, "x": X0, "sigmas": LADDER, "solvers": ["heun", "2m_noise", "2m"]},
        {
            "denoiser": [None, 3],
            "x": [
                torch.full((2, 2), NAN),
                torch.zeros(0, 2),
                torch.ones(2, 2, dtype=torch.long),
                np.ones((2, 2)),
                "x",
            ],
            "sigmas": BAD_VECTOR + [np.array([2.0, 1.0, 1.0, 0.0])],
            "solvers": ["rk4", ["heun"], 3, None, ["heun", 2, "2m"]],
            "rng": BAD_RNG,
        },
        ("denoiser", "x", "sigmas"),
    ),
    "plan_nfe": (
        D.plan_nfe,
        {"sigmas": LADDER, "solvers": "heun_data"},
        {"sigmas": BAD_VECTOR, "solvers": ["rk4", ["heun"], 3, None]},
        ("sigmas", "solvers"),
    ),
    "standard_schedules": (
        D.standard_schedules,
        {"n": 4, "sigma_min": 0.01, "sigma_max": 10.0},
        {"n": BAD_INT, "sigma_min": BAD_POS, "sigma_max": BAD_POS + [0.001]},
        ("n",),
    ),
    "levels_for_nfe": (
        D.levels_for_nfe,
        {"sampler": "heun", "nfe": 5},
        {"sampler": BAD_CHOICE, "nfe": BAD_INT},
        ("sampler", "nfe"),
    ),
}


def _finite(value):
    if isinstance(value, torch.Tensor):
        assert bool(torch.isfinite(value).all())
    elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
        assert np.all(np.isfinite(value))
    elif isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            _finite(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _finite(getattr(value, name))


def _call(name, kwargs):
    fn, _, _, positional = CASES[name]
    kw = dict(kwargs)
    args = [kw.pop(k) for k in positional if k in kw]
    return fn(*args, **kw)


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_input_gives_a_finite_result(name):
    _finite(_call(name, CASES[name][1]))


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_bad_input_gives_a_named_error_or_a_finite_result(name, data):
    _, valid, bad, _ = CASES[name]
    slot = data.draw(st.sampled_from(sorted(bad)))
    value = data.draw(st.sampled_from(range(len(bad[slot]))))
    kw = dict(valid)
    kw[slot] = bad[slot][value]
    try:
        out = _call(name, kw)
    except (ValueError, TypeError) as err:
        msg = str(err)
        assert re.search(rf"(`{slot}`|\b{slot}\b)", msg), (slot, bad[slot][value], msg)
    else:
        _finite(out)


# --- properties of valid, generated inputs -------------------------------------------


@given(
    n=st.integers(1, 30),
    lo=st.floats(1e-4, 1.0),
    span=st.floats(1.5, 1e4),
)
def test_standard_schedules_descend_between_the_bounds(n, lo, span):
    for s in D.standard_schedules(n, sigma_min=lo, sigma_max=lo * span).values():
        assert s.shape == (n + 1,) and s[0] == lo * span and s[-1] == 0.0
        assert np.all(np.diff(s) < 0) and (n == 1 or math.isclose(s[-2], lo, rel_tol=1e-9))


@given(
    sampler=st.sampled_from(["heun", "euler", "ddim", "dpmpp_2m", "ancestral"]),
    nfe=st.integers(1, 60),
)
def test_levels_for_nfe_is_the_most_levels_within_the_budget(sampler, nfe):
    n = D.levels_for_nfe(sampler, nfe)
    cost = (lambda k: 2 * k - 1) if sampler == "heun" else (lambda k: k)
    assert cost(n) <= nfe < cost(n + 1)


@given(plan=st.lists(st.sampled_from(D.SOLVERS), min_size=1, max_size=6), seed=st.integers(0, 99))
def test_plans_cost_what_plan_nfe_says_and_match_their_exact_law(plan, seed):
    s = D.karras_sigmas(len(plan), sigma_max=10.0)
    res = D.sample_mixed(G2, X0, s, solvers=plan)
    assert res.nfe == D.plan_nfe(s, plan)
    law = D.gaussian_output_law(G2, s, solvers=plan)
    assert isinstance(law, D.GaussianOutputLaw) and law.nfe == res.nfe
    pred = G2.mean_ + ((X0.numpy() - G2.mean_) @ law.basis) * law.coef @ law.basis.T
    np.testing.assert_allclose(res.samples.numpy(), pred, rtol=1e-9, atol=1e-9)


@given(
    lam=st.lists(st.floats(1e-4, 10.0), min_size=1, max_size=4),
    levels=st.lists(st.floats(-6.0, 4.0), min_size=0, max_size=5, unique=True),
    sampler=st.sampled_from(["heun", "euler", "ddim", "dpmpp_2m", "ancestral"]),
)
def test_output_law_is_a_valid_gaussian_and_its_w2_is_the_closed_form(lam, levels, sampler):
    g = D.GaussianDenoiser(np.linspace(-1, 1, len(lam)), np.diag(lam))
    inner = np.sort(np.exp(np.asarray(levels, dtype=float)))[::-1]
    s = np.concatenate([[80.0], inner[inner < 80.0], [0.0]])
    law = D.gaussian_output_law(g, s, sampler=sampler)
    assert np.all(law.variances >= 0) and math.isfinite(law.w2) and law.w2 >= 0
    assert law.w2 == pytest.approx(
        D.gaussian_w2(law.mean, law.cov, g.mean_, g.cov_), rel=1e-5, abs=1e-6
    )


@given(
    nfe=st.integers(1, 5),
    sampler=st.sampled_from(["heun", "euler", "dpmpp_2m", "ancestral"]),
    method=st.sampled_from(["evolution", "local"]),
    seed=st.integers(0, 2**16),
)
def test_search_result_invariants(nfe, sampler, method, seed):
    budget = 30 * nfe
    res = D.search_schedule(
        G2, nfe, sampler=sampler, method=method, budget=budget, population=4, rng=seed
    )
    assert isinstance(res, D.ScheduleSearchResult)
    assert res.fitness <= min(res.baselines.values()) and res.improvement >= 0
    assert res.network_calls <= budget and res.nfe_used <= nfe
    assert np.all(np.diff(res.trace_best) <= 0) and res.trace_best[-1] == res.fitness
    assert np.all(np.diff(res.sigmas) < 0) and res.sigmas[0] == 80.0 and res.sigmas[-1] == 0
    again = D.search_schedule(
        G2, nfe, sampler=sampler, method=method, budget=budget, population=4, rng=seed
    )
    np.testing.assert_array_equal(res.sigmas, again.sigmas)
