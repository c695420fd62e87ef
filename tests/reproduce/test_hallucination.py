"""The hallucination reproductions run at tiny sizes and report what they claim."""

import math

import pytest

import sciddm.reproduce.hallucination  # noqa: F401  (registers)
from sciddm.reproduce import get_registry, run_experiment

TINY = {"steps": 30, "n_train": 500, "n_eval": 300, "n_exact": 300, "exact_steps": 10}


@pytest.mark.parametrize(
    ("name", "extra", "n_claims"),
    [
        ("hallucination.detector-1d", {}, 3),
        ("hallucination.detector-2d", {}, 2),  # the removal claim is --full only
        ("hallucination.mode-interpolation", {}, 3),
        (
            "hallucination.recursive",
            {
                "n_samples": 50,
                "generations": 2,
                "sample_steps": 10,
                "window": 5,
                "filter_window": 3,
            },
            0,
        ),
    ],
)
def test_experiments_run_tiny(name, extra, n_claims):
    run = run_experiment(name, params={**TINY, **extra}, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == n_claims and run.figures
    assert all(math.isfinite(c.measured) for c in run.claims)


def test_the_demo_experiment_is_the_cheap_one():
    reg = get_registry()
    demos = [n for n, e in reg.items() if n.startswith("hallucination.") and e.demo is not None]
    assert demos == ["hallucination.mode-interpolation"]
