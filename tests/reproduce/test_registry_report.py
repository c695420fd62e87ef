import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sciddm.reproduce import Context, markdown_table, register, run_experiment, write_report
from sciddm.reproduce import _registry as reg


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(reg, "_REGISTRY", {})
    return reg._REGISTRY


def _ctx():
    return Context(name="x.y", mode="quick", params={}, rng=np.random.default_rng(0), seed=0)


@pytest.mark.parametrize(
    ("measured", "expected", "op", "tol", "holds"),
    [
        (1.0, 2.0, "<=", 0.0, True),
        (2.5, 2.0, "<=", 0.4, False),
        (2.5, 2.0, "<=", 0.5, True),
        (1.0, 2.0, ">=", 0.0, False),
        (1.9, 2.0, "~=", 0.1, True),
        (1.8, 2.0, "~=", 0.1, False),
        (1.5, (1.0, 2.0), "in", 0.0, True),
        (2.5, (1.0, 2.0), "in", 0.0, False),
        (float("nan"), 2.0, "<=", 1e9, False),
    ],
)
def test_claim_comparisons(measured, expected, op, tol, holds):
    assert (
        _ctx()
        .claim("c", source="s", measured=measured, expected=expected, op=op, tolerance=tol)
        .holds
        is holds
    )


def test_claim_bad_op_and_override():
    ctx = _ctx()
    with pytest.raises(ValueError, match="`op`"):
        ctx.claim("c", source="s", measured=1, expected=1, op="<")
    with pytest.raises(ValueError, match="pair"):
        ctx.claim("c", source="s", measured=1, expected=1, op="in")
    assert ctx.claim("c", source="s", measured=5, expected=1, holds=True).holds


def test_run_experiment_collects_and_reports(clean_registry, tmp_path):
    @register("toy.good", description="a toy", quick={"n": 3}, full={"n": 300})
    def good(ctx):
        assert ctx.params["n"] == (3 if ctx.quick else 300)
        x = ctx.rng.normal(size=ctx.params["n"])
        ctx.claim("mean is small", source="CLT", measured=abs(x.mean()), expected=10.0)
        ctx.claim("fails", source="nobody", measured=1.0, expected=0.0, op="<=")
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        ctx.figure(fig, "line")
        ctx.table("sizes", [{"n": ctx.params["n"], "err": 0.5}])
        ctx.note("a note")

    @register("toy.bad", description="raises", quick={}, full={})
    def bad(ctx):
        raise RuntimeError("boom")

    @register(
        "toy.needs", description="needs a module", quick={}, full={}, requires=["no_such_mod_xyz"]
    )
    def needs(ctx):
        raise AssertionError("must not run")

    r1 = run_experiment("toy.good", seed=3, figure_dir=tmp_path / "figures")
    r1b = run_experiment("toy.good", seed=3)
    assert r1.status == "ok" and [c.holds for c in r1.claims] == [True, False]
    assert r1.claims[0].measured == r1b.claims[0].measured  # seeded per experiment
    assert (tmp_path / "figures" / "toy_good_line.png").exists()
    r2 = run_experiment("toy.bad")
    assert r2.status == "error" and "boom" in r2.error
    r3 = run_experiment("toy.needs")
    assert r3.status == "skipped" and "no_such_mod_xyz" in r3.error
    with pytest.raises(RuntimeError):
        run_experiment("toy.bad", raise_errors=True)

    report = write_report(tmp_path, [r1, r2, r3], {"mode": "quick"})
    text = report.read_text()
    assert "1 of 2 claims hold" in text and "❌ no" in text and "boom" in text
    assert "figures/toy_good_line.png" in text and "a note" in text
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert {"experiment", "claim", "source", "measured", "expected", "holds"} <= set(claims[0])
    assert claims[1]["holds"] is False


def test_empty_report(tmp_path):
    text = write_report(tmp_path, [], {"registered": 0}).read_text()
    assert "registry is empty" in text
    assert json.loads((tmp_path / "claims.json").read_text()) == []


def test_markdown_table_escapes():
    assert "a\\|b" in markdown_table([{"x": "a|b"}])
