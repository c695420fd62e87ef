import math

import pytest

import sciddm.reproduce.diffusion  # noqa: F401  (registers)
from sciddm.reproduce import run_experiment

TINY_EXPLAIN = {
    "ring_steps": 20,
    "hidden": 16,
    "depth": 1,
    "steps": 20,
    "batch": 32,
    "n_eval": 40,
    "n_gen": 10,
}
TINY_TELEPORT = {
    "hidden": 16,
    "depth": 1,
    "steps": 20,
    "batch": 32,
    "n": 60,
    "N": 18,
    "ks": [0, 4],
    "clf_epochs": 5,
}


def test_gaussian_explains_runs_tiny():
    run = run_experiment("diffusion.gaussian-explains", params=TINY_EXPLAIN, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 4
    assert all(math.isfinite(c.measured) for c in run.claims)
    # the memorisation claim does not depend on training: it must hold
    assert run.claims[-1].holds


def test_teleport_runs_tiny():
    run = run_experiment("diffusion.teleport", params=TINY_TELEPORT, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 2
    rows = run.tables[0][1]
    heun = [r for r in rows if r["sampler"] == "heun"]
    assert [r["NFE"] for r in heun] == [35, 27]  # 2N - 1 and 2(N - 4) - 1


@pytest.mark.slow
def test_teleport_claim_quick():
    run = run_experiment("diffusion.teleport", mode="quick", raise_errors=True)
    assert all(c.holds for c in run.claims), [c.to_dict() for c in run.claims]


def test_teleport_is_in_the_demo_with_smaller_sizes():
    from sciddm.reproduce import get_registry

    exp = get_registry()["diffusion.teleport"]
    demo, quick = exp.params("demo"), exp.params("quick")
    assert exp.demo is not None and demo["steps"] < quick["steps"] and demo["n"] < quick["n"]
