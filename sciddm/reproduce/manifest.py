"""Rebuild ``sciddm/reproduce/manifest.json`` from the registry.

``sciddm list`` and ``sciddm reproduce NAME`` read this manifest instead of
importing every experiment module. It holds, for each built-in experiment, its
name, module, family, description, requirements, whether it is in the
``--demo`` set, and its measured quick and demo wall times.

Usage::

    python -m sciddm.reproduce.manifest            # names, modules, descriptions (keeps times)
    python -m sciddm.reproduce.manifest --time     # also run every experiment, quick and demo
    python -m sciddm.reproduce.manifest --time --only sensitivity  # re-time some
    python -m sciddm.reproduce.manifest --check    # exit 1 if the manifest is out of date
    python -m sciddm.reproduce.manifest --from-runs results/quick results/demo
                                                   # times of finished runs, no re-run

The test suite compares the manifest with the live registry (times excluded),
so it cannot go stale unnoticed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sciddm.reproduce._catalog import (
    MANIFEST_FORMAT,
    MANIFEST_PATH,
    CatalogEntry,
    entry_of,
    read_manifest,
    select,
)

__all__ = ["build_manifest", "builtin_entries", "main", "stale_fields"]

logger = logging.getLogger(__name__)

#: The fields compared by :func:`stale_fields` (everything but the times).
STATIC_FIELDS = ("name", "module", "family", "description", "requires", "demo")


def builtin_entries() -> dict[str, CatalogEntry]:
    """The built-in experiments as catalog entries (imports every experiment module)."""
    from sciddm.reproduce._registry import (
        EXPERIMENT_MODULES,
        get_registry,
        load_builtin_experiments,
    )

    load_builtin_experiments()
    mods = {f"sciddm.reproduce.{m}" for m in EXPERIMENT_MODULES}
    return {n: entry_of(e) for n, e in get_registry(load=False).items() if e.module in mods}


def stale_fields(manifest: dict[str, Any] | None = None) -> list[str]:
    """Differences between the manifest and the live registry, one line each.

    Empty when the manifest is up to date (times are not compared).
    """
    data = read_manifest() if manifest is None else manifest
    if data is None:
        return [f"{MANIFEST_PATH} is missing or unreadable"]
    old = {d.get("name"): d for d in data["experiments"]}
    new = {n: e.to_dict() for n, e in builtin_entries().items()}
    diffs = [f"{n}: not in the manifest" for n in new if n not in old]
    diffs += [f"{n}: in the manifest but not registered" for n in old if n not in new]
    for n in new.keys() & old.keys():
        diffs += [
            f"{n}: {f} is {old[n].get(f)!r} in the manifest, {new[n][f]!r} registered"
            for f in STATIC_FIELDS
            if old[n].get(f) != new[n][f]
        ]
    return sorted(diffs)


def _time(names: Sequence[str], mode: str, n_jobs: int) -> dict[str, float]:
    from sciddm.reproduce._registry import get_registry, run_experiment

    reg = get_registry(load=False)
    out = {}
    with tempfile.TemporaryDirectory(prefix="sciddm-manifest-") as tmp:
        for i, name in enumerate(names, 1):
            run = run_experiment(
                reg[name], mode=mode, n_jobs=n_jobs, figure_dir=Path(tmp) / "figures"
            )
            if run.status == "ok":  # a skipped or failed run says nothing about its time
                out[name] = round(run.seconds, 1)
            print(
                f"[manifest] {mode} {i}/{len(names)} {name}: {run.seconds:.1f} s ({run.status})",
                file=sys.stderr,
                flush=True,
            )
    return out


def times_from_run(run_dir: Path) -> tuple[str, dict[str, float], dict[str, Any]]:
    """The mode, per-experiment wall times and settings of a finished run folder.

    Reads ``<run_dir>/run.json`` and ``<run_dir>/experiments/<name>.json``; only
    experiments whose status is ``ok`` give a time.

    Parameters
    ----------
    run_dir : path
        The ``--out`` folder of a ``sciddm reproduce`` run.

    Returns
    -------
    mode : str
        ``"quick"`` or ``"demo"`` (a ``"full"`` run is refused).
    times : dict
        Experiment name to seconds.
    settings : dict
        ``n_jobs``, ``started`` and ``environment`` of the run.
    """
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"`{run_dir}` is not a sciddm reproduce run folder ({exc})") from exc
    mode = info.get("mode")
    if mode not in ("quick", "demo"):
        raise ValueError(f"`{run_dir}` is a {mode!r} run; the manifest holds quick and demo times")
    times = {}
    for f in sorted((run_dir / "experiments").glob("*.json")):
        rec = json.loads(f.read_text())
        if rec.get("status") == "ok" and rec.get("mode") == mode:
            times[rec["name"]] = round(float(rec["seconds"]), 1)
    settings = {k: info.get(k) for k in ("n_jobs", "started", "environment")}
    return mode, times, settings


def build_manifest(
    *,
    time: bool = False,
    only: Sequence[str] = (),
    n_jobs: int = 2,
    from_runs: Sequence[Path] = (),
) -> dict[str, Any]:
    """The manifest of the built-in experiments.

    Parameters
    ----------
    time : bool
        Run the experiments (quick sizes; demo sizes for the demo set) and
        store their wall times; otherwise the current manifest's times are kept.
    only : sequence of str
        With ``time``: names, families or prefixes to re-time (default all).
    n_jobs : int
        Workers of the timed runs.
    from_runs : sequence of path
        Finished ``sciddm reproduce --quick`` / ``--demo`` run folders whose
        per-experiment times replace the stored ones (no experiment is re-run).
    """
    entries = builtin_entries()
    old = read_manifest() or {}
    old_times = {d.get("name"): d for d in old.get("experiments", [])}
    timing = dict(old.get("timing") or {})
    rows = {}
    for n, e in entries.items():
        d = e.to_dict()
        prev = old_times.get(n, {})
        d["quick_seconds"] = prev.get("quick_seconds")
        d["demo_seconds"] = prev.get("demo_seconds") if e.demo else None
        rows[n] = d
    if time:
        names = select(list(only), entries)
        for n, s in _time(names, "quick", n_jobs).items():
            rows[n]["quick_seconds"] = s
        demo = [n for n in names if entries[n].demo]
        for n, s in _time(demo, "demo", n_jobs).items():
            rows[n]["demo_seconds"] = s
        timing = {
            "measured": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "n_jobs": n_jobs,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        }
    for run_dir in from_runs:
        mode, times, settings = times_from_run(run_dir)
        for n, sec in times.items():
            if n in rows and (mode == "quick" or entries[n].demo):
                rows[n][f"{mode}_seconds"] = sec
        timing[f"{mode}_run"] = {
            "started": settings["started"],
            "n_jobs": settings["n_jobs"],
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        }
    return {
        "format": MANIFEST_FORMAT,
        "generated_by": "python -m sciddm.reproduce.manifest",
        "timing": timing or None,
        "experiments": [rows[n] for n in sorted(rows)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of ``python -m sciddm.reproduce.manifest``."""
    p = argparse.ArgumentParser(prog="python -m sciddm.reproduce.manifest", description=__doc__)
    p.add_argument("--time", action="store_true", help="measure quick and demo wall times")
    p.add_argument("--only", nargs="+", default=[], metavar="NAME", help="what to re-time")
    p.add_argument("--n-jobs", type=int, default=2, help="workers of the timed runs (default 2)")
    p.add_argument("--check", action="store_true", help="exit 1 if the manifest is out of date")
    p.add_argument(
        "--from-runs",
        nargs="+",
        type=Path,
        default=[],
        metavar="DIR",
        help="take quick/demo times from finished `sciddm reproduce` run folders",
    )
    p.add_argument("--out", type=Path, default=MANIFEST_PATH, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.check:
        diffs = stale_fields()
        for d in diffs:
            print(d)
        if diffs:
            print("run: python -m sciddm.reproduce.manifest", file=sys.stderr)
        return 1 if diffs else 0
    try:
        data = build_manifest(
            time=args.time, only=args.only, n_jobs=args.n_jobs, from_runs=args.from_runs
        )
    except ValueError as exc:
        print(f"python -m sciddm.reproduce.manifest: error: {exc}", file=sys.stderr)
        return 2
    from sciddm._core.io import atomic_write_text

    atomic_write_text(args.out, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out} ({len(data['experiments'])} experiments)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
