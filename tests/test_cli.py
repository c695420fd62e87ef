import dataclasses
import json
import os
import sys
from pathlib import Path

import pytest

from sciddm import cli
from sciddm.reproduce import _registry as reg
from tests._proc import run_bounded


@pytest.fixture
def toy_registry(monkeypatch):
    monkeypatch.setattr(reg, "_REGISTRY", {})
    monkeypatch.delenv("SCIDDM_EXPERIMENTS", raising=False)

    @reg.register("toy.one", description="first", quick={"v": 1.0}, full={"v": 2.0})
    def one(ctx):
        ctx.claim("v is one", source="toy", measured=ctx.params["v"], expected=1.0, op="~=")

    @reg.register("toy.demo", description="in the demo", quick={"v": 1.0}, full={}, demo={"v": 3})
    def demo(ctx):
        ctx.claim("v is three", source="toy", measured=ctx.params["v"], expected=3.0, op="~=")

    @reg.register("other.two", description="second", quick={}, full={})
    def two(ctx):
        raise ValueError("broken")

    return reg._REGISTRY


def _err_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sciddm: error: "), err
    return err


def test_reproduce_subset_and_modes(toy_registry, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["reproduce", "toy.one", "--quiet", "--out", str(out)]) == 0
    claims = json.loads((out / "claims.json").read_text())
    assert [c["holds"] for c in claims] == [True]
    rc = cli.main(["reproduce", "toy.one", "--full", "--quiet", "--force", "--out", str(out)])
    assert rc == 0
    claims = json.loads((out / "claims.json").read_text())
    assert claims[0]["measured"] == 2.0 and claims[0]["holds"] is False  # reported, not raised
    assert "1 experiment(s), 0/1 claims hold" in capsys.readouterr().out
    record = json.loads((out / "experiments" / "toy.one.json").read_text())
    assert record["mode"] == "full" and record["params"] == {"v": 2.0} and record["status"] == "ok"


def test_demo_selects_the_demo_set(toy_registry, tmp_path, capsys):
    out = tmp_path / "d"
    assert cli.main(["reproduce", "toy", "--demo", "--quiet", "--out", str(out)]) == 0
    claims = json.loads((out / "claims.json").read_text())
    assert [(c["experiment"], c["measured"]) for c in claims] == [("toy.demo", 3.0)]
    capsys.readouterr()
    assert cli.main(["reproduce", "other", "--demo", "--out", str(tmp_path / "e")]) == 2
    assert "--demo set" in _err_line(capsys)


def test_family_and_prefix_selection(toy_registry, tmp_path):
    out = tmp_path / "f"
    assert cli.main(["reproduce", "toy", "--quiet", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["names"] == ["toy.demo", "toy.one"]
    out2 = tmp_path / "g"
    assert cli.main(["reproduce", "toy.o", "oth", "--quiet", "--out", str(out2)]) == 1
    assert json.loads((out2 / "run.json").read_text())["names"] == ["toy.one", "other.two"]


def test_reproduce_error_is_reported(toy_registry, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["reproduce", "other", "toy.one", "--quiet", "--out", str(out)]) == 1
    assert "broken" in (out / "report.md").read_text()
    record = json.loads((out / "experiments" / "other.two.json").read_text())
    assert record["status"] == "error" and "ValueError: broken" in record["error"]
    assert json.loads((out / "experiments" / "toy.one.json").read_text())["status"] == "ok"
    log = (out / "sciddm-reproduce.log").read_text()
    assert "Traceback" in log and "ValueError: broken" in log
    err = capsys.readouterr().err
    assert "other.two" in err and "sciddm-reproduce.log" in err and "Traceback" not in err


def test_usage_errors_exit_2_before_any_work(toy_registry, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["reproduce", "toy.onw", "--out", str(out)]) == 2
    err = _err_line(capsys)
    assert "unknown experiment 'toy.onw' (did you mean 'toy.one'" in err
    assert cli.main(["reproduce", "zzzzzz", "--out", str(out)]) == 2
    assert "sciddm list" in _err_line(capsys)
    import torch

    if not torch.cuda.is_available():
        assert cli.main(["reproduce", "toy.one", "--device", "cuda", "--out", str(out)]) == 2
        assert "no CUDA device" in _err_line(capsys)
    for bad in (["--n-jobs", "0"], ["--n-jobs", "-2"], ["--n-jobs", "x"], ["--seed", "-1"]):
        assert cli.main(["reproduce", "toy.one", *bad, "--out", str(out)]) == 2, bad
        _err_line(capsys)
    assert cli.main(["reproduce", "toy.one", "--resume", "--force"]) == 2
    assert "not allowed with" in _err_line(capsys)
    assert not out.exists()  # nothing was created


def test_out_folder_errors(toy_registry, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, msg in ((afile, "is not a directory"), (afile / "sub", "is not a directory")):
        assert cli.main(["reproduce", "toy.one", "--out", str(out)]) == 2
        assert msg in _err_line(capsys)
    out = tmp_path / "o"
    assert cli.main(["reproduce", "toy.one", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    before = (out / "report.md").read_text()
    assert cli.main(["reproduce", "toy.one", "--out", str(out)]) == 2
    assert "already holds a report" in _err_line(capsys)
    assert (out / "report.md").read_text() == before  # never silently replaced
    weird = tmp_path / "w"
    (weird / "report.md").mkdir(parents=True)
    assert cli.main(["reproduce", "toy.one", "--force", "--out", str(weird)]) == 2
    assert "not a regular file" in _err_line(capsys)


def test_unwritable_out(toy_registry, tmp_path, capsys):
    if os.geteuid() == 0:  # root writes through permissions; a read-only file system does not
        target = Path("/sys/sciddm-test-out")
        if os.access("/sys", os.W_OK) and Path("/sys").is_dir():
            try:
                target.mkdir()
            except OSError:
                pass
            else:  # pragma: no cover - a writable /sys
                target.rmdir()
                pytest.skip("no unwritable place to test with as root")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = ro / "out"
    assert cli.main(["reproduce", "toy.one", "--out", str(target)]) == 2
    err = _err_line(capsys)
    assert "--out" in err and str(target) in err


def test_list(toy_registry, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy.one" in out and "second" in out
    assert "sensitivity.hypercube" in out  # from the manifest
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "QUICK", "DEMO"]
    demo_line = next(line for line in lines if line.startswith("toy.demo"))
    assert "*" in demo_line.split("in the demo")[0]
    assert "experiments" in lines[-1] and "--demo set" in lines[-1]
    assert cli.main(["list", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "toy.demo" in out and "toy.one" not in out


def test_list_imports_no_heavy_module():
    code = (
        "import sys, io, contextlib\n"
        "from sciddm.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
        "    rc = main(['list'])\n"
        "heavy = ('torch', 'sklearn', 'scipy', 'matplotlib')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "bad += [m for m in sys.modules if m.startswith('sciddm.reproduce.')\n"
        "        and not m.rsplit('.', 1)[1].startswith('_')]\n"
        "print(rc, len(buf.getvalue().splitlines()), sorted(bad))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SCIDDM_EXPERIMENTS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out = run_bounded([sys.executable, "-c", code], timeout=120, check=True, env=env)
    rc, n_lines, bad = out.stdout.split(" ", 2)
    assert rc == "0" and int(n_lines) > 10
    assert bad.strip() == "[]"


def test_module_entry_point_runs(tmp_path):
    out = run_bounded([sys.executable, "-m", "sciddm", "--version"], timeout=120, check=True)
    assert out.stdout.startswith("sciddm ")


def test_train_discrete_forwards_options(monkeypatch):
    import types

    seen = {}
    fake = types.SimpleNamespace(main=lambda argv: seen.setdefault("argv", argv) and 0)
    monkeypatch.setitem(sys.modules, "sciddm.discrete.training", fake)
    assert cli.main(["train-discrete", "--data", "nci", "--steps", "3"]) == 0
    assert seen["argv"] == ["--data", "nci", "--steps", "3"]


def test_stale_manifest_falls_back_to_the_registry(toy_registry, tmp_path, monkeypatch, capsys):
    from sciddm.reproduce import _catalog

    stale = tmp_path / "manifest.json"
    entry = {"name": "toy.one", "module": __name__, "description": "old", "demo": False}
    stale.write_text(json.dumps({"format": 1, "experiments": [entry]}))
    monkeypatch.setattr(_catalog, "MANIFEST_PATH", stale)
    monkeypatch.setattr(reg, "load_builtin_experiments", lambda: None)
    assert cli.main(["list"]) == 0
    assert "old" in capsys.readouterr().out  # `sciddm list` trusts the manifest
    # the demo set and names the manifest does not know come from the live registry
    out = tmp_path / "demo"
    assert cli.main(["reproduce", "--demo", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["names"] == ["toy.demo"]
    out = tmp_path / "named"
    assert cli.main(["reproduce", "other.two", "--quiet", "--out", str(out)]) == 1
    assert json.loads((out / "run.json").read_text())["names"] == ["other.two"]


def test_resume_reuses_only_matching_records(toy_registry, tmp_path, monkeypatch, capsys):
    from sciddm.reproduce import _runner

    calls = []

    @reg.register("toy.count", description="counts", quick={"k": 1}, full={"k": 2})
    def count(ctx):
        calls.append((ctx.mode, ctx.seed, ctx.params["k"]))
        ctx.claim("k", source="toy", measured=ctx.params["k"], expected=0.0, op=">=")

    out = str(tmp_path / "o")
    base = ["reproduce", "toy.count", "--quiet", "--out", out]
    assert cli.main(base) == 0
    assert cli.main([*base, "--resume"]) == 0  # same everything: reused
    assert calls == [("quick", 0, 1)]
    assert cli.main([*base, "--resume", "--seed", "1"]) == 0  # another seed: run again
    assert cli.main([*base, "--resume", "--seed", "1", "--full"]) == 0  # another mode
    assert calls == [("quick", 0, 1), ("quick", 1, 1), ("full", 1, 2)]
    toy_registry["toy.count"] = dataclasses.replace(toy_registry["toy.count"], full={"k": 3})
    assert cli.main([*base, "--resume", "--seed", "1", "--full"]) == 0  # other params
    version = _runner.__version__
    monkeypatch.setattr(_runner, "__version__", "999")
    assert cli.main([*base, "--resume", "--seed", "1", "--full"]) == 0  # another version
    assert calls[3:] == [("full", 1, 3), ("full", 1, 3)]
    monkeypatch.setattr(_runner, "__version__", version)
    # --resume with nothing else given keeps the earlier run's names, mode and seed
    assert cli.main(["reproduce", "--resume", "--quiet", "--out", out]) == 0
    assert len(calls) == 5
    assert json.loads((tmp_path / "o" / "run.json").read_text())["reused"] == ["toy.count"]
    assert "1 reused" in capsys.readouterr().out.splitlines()[-1]
