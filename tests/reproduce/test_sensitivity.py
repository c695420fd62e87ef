import pytest

from sciddm.reproduce import get_registry, run_experiment

NAMES = [
    "sensitivity.distortion-vs-size",
    "sensitivity.reference-p1",
    "sensitivity.size-vs-total-sensitivity",
    "sensitivity.hypercube",
    "sensitivity.lewis-convergence",
]


def test_registered():
    reg = get_registry()
    for name in NAMES:
        assert name in reg and reg[name].quick and reg[name].full


@pytest.mark.parametrize(
    "name, params",
    [
        ("sensitivity.hypercube", {"ds": [4]}),
        ("sensitivity.lewis-convergence", {"n": 300, "d": 3, "ps": [1.0, 6.0]}),
        (
            "sensitivity.distortion-vs-size",
            {
                "n": 120,
                "d": 2,
                "sizes": [30, 60],
                "reps": 1,
                "ps": [1.5],
                "instances": ["heavy-tailed"],
            },
        ),
    ],
)
def test_small_runs(name, params, tmp_path):
    run = run_experiment(name, params=params, figure_dir=tmp_path, raise_errors=True)
    assert run.status == "ok" and run.claims
    if name != "sensitivity.distortion-vs-size":  # exact statements: they must hold
        assert all(c.holds for c in run.claims)


def test_demo_is_registered_with_a_figure():
    reg = get_registry()
    exp = reg["sensitivity.distortion-vs-size"]
    assert exp.in_demo
    params = exp.params("demo")
    assert params["instances"] == ["heavy-tailed"] and len(params["ps"]) == 2
