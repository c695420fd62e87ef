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
