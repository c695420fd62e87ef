"""The manifest that `sciddm list` reads equals the live registry (times excluded)."""

from __future__ import annotations

import json

from sciddm.reproduce._catalog import MANIFEST_PATH, CatalogEntry, manifest_entries
from sciddm.reproduce._registry import EXPERIMENT_MODULES
from sciddm.reproduce.manifest import build_manifest, builtin_entries, stale_fields


def test_manifest_matches_registry():
    diffs = stale_fields()
    assert diffs == [], (
        "sciddm/reproduce/manifest.json is out of date; run `python -m sciddm.reproduce.manifest`"
        " (and `--time` for the quick/demo times):\n" + "\n".join(diffs)
    )


def test_manifest_format():
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    entries = manifest_entries()
    assert entries is not None and len(entries) == len(data["experiments"])
    modules = {f"sciddm.reproduce.{m}" for m in EXPERIMENT_MODULES}
    for e in entries.values():
        assert e.module in modules and e.name.startswith(e.family + ".")
        for t in (e.quick_seconds, e.demo_seconds):
            assert t is None or t >= 0
        if not e.demo:
            assert e.demo_seconds is None
    assert [d["name"] for d in data["experiments"]] == sorted(entries)


def test_stale_manifest_is_detected():
    data = build_manifest()  # keeps the stored times, measures nothing
    assert stale_fields(data) == []
    first = data["experiments"][0]
    first["description"] = "changed"
    data["experiments"].append({**first, "name": "gone.experiment"})
    diffs = stale_fields(data)
    assert any("description" in d for d in diffs)
    assert any(d.startswith("gone.experiment: in the manifest but not registered") for d in diffs)


def test_builtin_entries_are_catalog_entries():
    entries = builtin_entries()
    assert all(isinstance(e, CatalogEntry) for e in entries.values())
    assert {e.module for e in entries.values()} <= {
        f"sciddm.reproduce.{m}" for m in EXPERIMENT_MODULES
    }


def _fake_run(folder, mode, records):
    (folder / "experiments").mkdir(parents=True)
    run = {"mode": mode, "n_jobs": 2, "started": "2026-01-01 00:00 UTC", "environment": {}}
    (folder / "run.json").write_text(json.dumps(run))
    for name, status, seconds in records:
        rec = {"name": name, "mode": mode, "status": status, "seconds": seconds}
        (folder / "experiments" / f"{name}.json").write_text(json.dumps(rec))


def test_times_come_from_finished_runs(tmp_path):
    import pytest

    from sciddm.reproduce.manifest import main

    entries = builtin_entries()
    demo = sorted(n for n, e in entries.items() if e.demo)[0]
    other = sorted(n for n, e in entries.items() if not e.demo)[0]
    _fake_run(tmp_path / "q", "quick", [(demo, "ok", 12.34), (other, "failed", 99.0)])
    _fake_run(tmp_path / "d", "demo", [(demo, "ok", 3.21), (other, "ok", 5.0)])
    data = build_manifest(from_runs=[tmp_path / "q", tmp_path / "d"])
    rows = {d["name"]: d for d in data["experiments"]}
    assert rows[demo]["quick_seconds"] == 12.3 and rows[demo]["demo_seconds"] == 3.2
    stored = {d["name"]: d for d in build_manifest()["experiments"]}
    assert rows[other]["quick_seconds"] == stored[other]["quick_seconds"]  # a failed run: kept
    assert rows[other]["demo_seconds"] is None  # not in the demo set
    assert data["timing"]["quick_run"]["n_jobs"] == 2
    _fake_run(tmp_path / "f", "full", [])
    with pytest.raises(ValueError, match="'full' run"):
        build_manifest(from_runs=[tmp_path / "f"])
    out = tmp_path / "m.json"
    assert main(["--from-runs", str(tmp_path / "f"), "--out", str(out)]) == 2
    assert main(["--from-runs", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert not out.exists()
