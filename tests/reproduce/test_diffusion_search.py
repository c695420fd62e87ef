"""Tiny runs of the schedule-search experiments (sciddm/reproduce/diffusion_search.py)."""

import math

import numpy as np

import sciddm.reproduce.diffusion_search as ds
from sciddm.reproduce import run_experiment

TINY_MIXTURE = {
    "sampler": "dpmpp_2m",
    "nfes": [4, 6],
    "candidates": 12,
    "population": 4,
    "n_search": 100,
    "n_eval": 200,
    "n_ref": 500,
    "n_features": 16,
    "bandwidth": 0.3,
}
TINY_DIGITS = {
    "sampler": "dpmpp_2m",
    "nfes": [4],
    "hidden": 16,
    "depth": 1,
    "steps": 20,
    "candidates": 10,
    "population": 4,
    "n_search": 100,
    "n_eval": 200,
    "mix_components": 3,
    "mix_candidates": 5,
    "clf_epochs": 5,
}


def test_search_mixture_runs_tiny():
    run = run_experiment("diffusion.search-mixture", params=TINY_MIXTURE, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 2
    fd_rows = run.tables[0][1]
    assert [r["NFE"] for r in fd_rows] == [4, 6, 18]
    for r in fd_rows[:2]:
        best = min(r["Karras rho=7"], r["uniform-t"], r["log-SNR"])
        assert math.isclose(
            r["searched / best of Karras, uniform-t, log-SNR"], r["searched"] / best, rel_tol=0.02
        )
    assert "fd_vs_nfe" in run.figures


def test_search_digits_runs_tiny():
    run = run_experiment("diffusion.search-digits", params=TINY_DIGITS, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 6
    w2 = run.tables[3][1]
    # the searched W2 never exceeds the best fixed schedule's (they seed the search)
    assert all(r["searched / best fixed"] <= 1.0 for r in w2)
    assert all(math.isfinite(c.measured) or c.measured == math.inf for c in run.claims)


def test_extend_inserts_geometric_midpoints():
    s = np.array([80.0, 1.0, 0.01, 0.0])
    out = ds._extend(s, 5)
    assert out[-1] == 0 and len(out) == 6 and np.all(np.diff(out) < 0)
    assert math.isclose(out[1], math.sqrt(80.0), rel_tol=1e-12)


def test_fourier_features_mean_embedding():
    f = ds.FourierFeatures(2, 2000, 0.5, np.random.default_rng(0))
    x = np.zeros((1, 2))
    y = np.array([[0.3, 0.4]])
    # <phi(x), phi(y)> approximates the Gaussian kernel exp(-|x - y|^2 / (2 l^2))
    assert abs((f(x) @ f(y).T).item() - math.exp(-0.25 / 0.5)) < 0.05
