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
