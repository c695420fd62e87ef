"""The ambient reproductions' table cell."""

import numpy as np
import pytest


@pytest.mark.parametrize(
    ("dataset", "net", "hidden", "metrics"),
    [("mixture2d", "mlp", 16, {"fd"}), ("digits", "unet", 4, {"fd", "fdpca", "fdclf"})],
)
def test_diffusion_table_cell_scores_every_scenario(dataset, net, hidden, metrics):
    from sciddm.ambient import SCENARIOS
    from sciddm.reproduce.ambient import diffusion_table_cell

    kw = dict(
        dataset=dataset,
        seed=0,
        n=60,
        sigma=0.2,
        hidden=hidden,
        depth=1,
        steps=3,
        n_gen=40,
        pca=4,
        clean_repeat=2,
        net=net,
    )
    out = diffusion_table_cell(**kw, rng=np.random.default_rng(0))
    # every cell has every column; feature distances are NaN where undefined
    assert set(out) == {f"{m}|{s}" for m in ("fd", "fdpca", "fdclf") for s in SCENARIOS}
    for key, v in out.items():
        assert (np.isfinite(v) and v >= 0) if key.split("|")[0] in metrics else np.isnan(v)
    again = diffusion_table_cell(**kw, rng=np.random.default_rng(0))
    np.testing.assert_equal(again, out)  # seeded (NaN equals NaN here)


def test_mixture_table_runs_tiny_and_is_in_the_demo():
    import sciddm.reproduce.ambient  # noqa: F401  (registers)
    from sciddm.reproduce import get_registry, run_experiment

    assert get_registry()["ambient.mixture-table"].demo is not None
    run = run_experiment(
        "ambient.mixture-table",
        params={"n": 120, "k": 2, "n_init": 1, "seeds": 3},
        raise_errors=True,
    )
    assert run.status == "ok" and len(run.claims) == 3 and run.figures


def test_quick_diffusion_table_makes_only_the_claim_its_size_supports():
    import sciddm.reproduce.ambient  # noqa: F401
    from sciddm.reproduce import get_registry

    exp = get_registry()["ambient.diffusion-table"]
    assert exp.params("quick")["claims"] == ["noisy"]
    assert exp.params("full")["claims"] == ["few", "noisy", "clean"]
