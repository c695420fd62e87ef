import json
import sys

import pytest

from sciddm import cli
from sciddm.reproduce import _registry as reg
from tests._proc import run_bounded


@pytest.fixture
def toy_registry(monkeypatch):
    monkeypatch.setattr(reg, "_REGISTRY", {})
    monkeypatch.setattr(reg, "get_registry", lambda load=True: dict(sorted(reg._REGISTRY.items())))

    @reg.register("toy.one", description="first", quick={"v": 1.0}, full={"v": 2.0})
    def one(ctx):
        ctx.claim("v is one", source="toy", measured=ctx.params["v"], expected=1.0, op="~=")

    @reg.register("other.two", description="second", quick={}, full={})
    def two(ctx):
        raise ValueError("broken")

    return reg._REGISTRY


def test_reproduce_subset_and_modes(toy_registry, tmp_path, capsys):
    assert cli.main(["reproduce", "toy", "--quiet", "--out", str(tmp_path)]) == 0
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["holds"] for c in claims] == [True]
    assert cli.main(["reproduce", "toy.one", "--full", "--quiet", "--out", str(tmp_path)]) == 0
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert claims[0]["measured"] == 2.0 and claims[0]["holds"] is False  # reported, not raised
    assert "1 experiment(s), 0/1 claims hold" in capsys.readouterr().out


def test_reproduce_error_is_reported(toy_registry, tmp_path):
    assert cli.main(["reproduce", "--quiet", "--out", str(tmp_path)]) == 1
    assert "broken" in (tmp_path / "report.md").read_text()


def test_usage_errors_exit_2(toy_registry, tmp_path, capsys):
    assert cli.main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown experiment 'nope'" in err
    import torch

    if not torch.cuda.is_available():
        assert cli.main(["reproduce", "--device", "cuda", "--out", str(tmp_path)]) == 2
        assert "no CUDA device" in capsys.readouterr().err
    assert cli.main(["reproduce", "--n-jobs", "0", "--out", str(tmp_path)]) == 2


def test_list(toy_registry, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy.one" in out and "second" in out


def test_module_entry_point_runs(tmp_path):
    out = run_bounded([sys.executable, "-m", "sciddm", "--version"], timeout=120, check=True)
    assert out.stdout.startswith("sciddm ")


def test_train_discrete_forwards_options(monkeypatch):
    import types

    seen = {}
    fake = types.SimpleNamespace(main=lambda argv: seen.setdefault("argv", argv) and 0)
    monkeypatch.setitem(sys.modules, "sciddm.discrete.train", fake)
    assert cli.main(["train-discrete", "--data", "nci", "--steps", "3"]) == 0
    assert seen["argv"] == ["--data", "nci", "--steps", "3"]
