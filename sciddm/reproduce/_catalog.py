"""What experiments exist, without importing them: the manifest and the user's modules.

``sciddm list`` and the argument checks of ``sciddm reproduce`` read
``sciddm/reproduce/manifest.json`` (written by ``python -m
sciddm.reproduce.manifest``) instead of importing every experiment module, so
that they take a fraction of a second and import neither torch nor scipy.
Experiments of the user's own modules are added by importing those modules:

* the environment variable ``SCIDDM_EXPERIMENTS``, a comma-separated list of
  importable modules (``SCIDDM_EXPERIMENTS=mypkg.experiments``), and
* the entry-point group ``sciddm.experiments`` of installed packages
  (``[project.entry-points."sciddm.experiments"] mypkg = "mypkg.experiments"``).

This module imports only the standard library (numpy comes in with the user's
modules, if at all).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_VAR",
    "ENTRY_POINT_GROUP",
    "MANIFEST_PATH",
    "CatalogEntry",
    "SelectionError",
    "catalog",
    "import_plugins",
    "plugin_modules",
    "read_manifest",
    "select",
]

#: Environment variable naming the user's experiment modules (comma-separated).
ENV_VAR = "SCIDDM_EXPERIMENTS"
#: Entry-point group whose entries name experiment modules.
ENTRY_POINT_GROUP = "sciddm.experiments"
#: The manifest of the built-in experiments.
MANIFEST_PATH = Path(__file__).with_name("manifest.json")
#: Version of the manifest layout.
MANIFEST_FORMAT = 1


class SelectionError(ValueError):
    """A requested experiment name matches nothing (the message is one line)."""


@dataclasses.dataclass(frozen=True)
class CatalogEntry:
    """One experiment as ``sciddm list`` shows it.

    ``quick_seconds`` and ``demo_seconds`` are measured wall times (``None``:
    not measured; ``demo_seconds`` is ``None`` for experiments outside the
    demo set).
    """

    name: str
    module: str
    family: str
    description: str
    requires: tuple[str, ...] = ()
    demo: bool = False
    quick_seconds: float | None = None
    demo_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["requires"] = list(self.requires)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CatalogEntry:
        def seconds(v: Any) -> float | None:
            return None if v is None else float(v)

        return cls(
            name=str(d["name"]),
            module=str(d["module"]),
            family=str(d.get("family") or str(d["name"]).split(".", 1)[0]),
            description=str(d.get("description", "")),
            requires=tuple(str(r) for r in d.get("requires", ())),
            demo=bool(d.get("demo", False)),
            quick_seconds=seconds(d.get("quick_seconds")),
            demo_seconds=seconds(d.get("demo_seconds")),
        )


def read_manifest(path: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The manifest as a dict (``"experiments"``: list of entries), or ``None``
    when the file is missing or unreadable."""
    p = MANIFEST_PATH if path is None else Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("experiments"), list):
        return None
    return data


def manifest_entries(path: str | os.PathLike[str] | None = None) -> dict[str, CatalogEntry] | None:
    """The manifest's experiments by name, or ``None`` without a usable manifest."""
    data = read_manifest(path)
    if data is None:
        return None
    try:
        entries = [CatalogEntry.from_dict(d) for d in data["experiments"]]
    except (KeyError, TypeError, ValueError):
        return None
    return {e.name: e for e in entries}


def plugin_modules(environ: Mapping[str, str] | None = None) -> list[str]:
    """The user's experiment modules: ``$SCIDDM_EXPERIMENTS``, then entry points."""
    env = os.environ if environ is None else environ
    mods = [m.strip() for m in env.get(ENV_VAR, "").replace(";", ",").split(",") if m.strip()]
    try:
        from importlib.metadata import entry_points

        eps = entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution must not break the CLI
        eps = ()  # type: ignore[assignment]
    for ep in eps:
        mod = ep.value.split(":", 1)[0].strip()
        if mod and mod not in mods:
            mods.append(mod)
    return mods


def import_plugins(modules: Iterable[str] | None = None) -> list[str]:
    """Import the user's experiment modules (which registers their experiments).

    Raises
    ------
    ImportError
        Naming the module and where it was configured.
    """
    mods = plugin_modules() if modules is None else list(modules)
    for mod in mods:
        try:
            importlib.import_module(mod)
        except Exception as exc:
            raise ImportError(
                f"cannot import experiment module {mod!r} (from ${ENV_VAR} or the "
                f"{ENTRY_POINT_GROUP!r} entry points): {type(exc).__name__}: {exc}"
            ) from exc
    return mods


def entry_of(exp: Any, timing: Mapping[str, Any] | None = None) -> CatalogEntry:
    """The :class:`CatalogEntry` of a registered ``Experiment``."""
    t = timing or {}
    return CatalogEntry(
        name=exp.name,
        module=exp.module,
        family=exp.family,
        description=exp.description,
        requires=tuple(exp.requires),
        demo=bool(exp.in_demo),
        quick_seconds=t.get("quick_seconds"),
        demo_seconds=t.get("demo_seconds"),
    )


def catalog(*, plugins: bool = True, live: bool = False) -> tuple[dict[str, CatalogEntry], bool]:
    """Every known experiment, sorted by name, and whether the manifest was used.

    Built-in experiments come from the manifest (nothing is imported); without a
    readable manifest, or with ``live``, the built-in modules are imported and
    the registry decides (keeping the manifest's measured times). With
    ``plugins`` the user's modules are imported; every experiment registered in
    this process is added.
    """
    entries = None if live else manifest_entries()
    out: dict[str, CatalogEntry] = dict(entries or {})
    if entries is None:
        from sciddm.reproduce._registry import load_builtin_experiments

        load_builtin_experiments()
    if plugins:
        import_plugins()
    # whatever this process has registered (the user's modules, a script that
    # registers experiments and then calls sciddm.cli.main) joins the manifest
    registry = sys.modules.get("sciddm.reproduce._registry")
    times = (manifest_entries() or {}) if entries is None else {}
    for name, exp in getattr(registry, "_REGISTRY", {}).items():
        if name not in out:
            t = times.get(name)
            out[name] = entry_of(exp, t.to_dict() if t is not None else None)
    return dict(sorted(out.items())), entries is not None


def _groups(names: Iterable[str]) -> list[str]:
    """Every dotted prefix of the names (``discrete``, ``discrete.guidance``)."""
    out: set[str] = set()
    for n in names:
        parts = n.split(".")
        out.update(".".join(parts[:k]) for k in range(1, len(parts)))
    return sorted(out)


def _match(token: str, names: Sequence[str]) -> list[str]:
    if token in names:
        return [token]
    hits = [n for n in names if n.startswith(token + ".")]
    return hits or [n for n in names if n.startswith(token)]


def select(
    tokens: Sequence[str], entries: Mapping[str, CatalogEntry], *, demo: bool = False
) -> list[str]:
    """The experiment names that ``tokens`` (names, families or prefixes) select.

    No tokens: every experiment (with ``demo``: the demo set). A token selects
    the experiment of that name, else every experiment whose name starts with
    ``token + "."`` (a family such as ``sensitivity`` or a group such as
    ``discrete.guidance``), else every name starting with ``token``.

    Raises
    ------
    SelectionError
        For a token that matches nothing (with close matches), or when
        ``demo`` leaves nothing to run.
    """
    names = list(entries)
    chosen: list[str] = []
    for tok in tokens:
        hits = _match(tok, names)
        if not hits:
            pool = names + _groups(names)
            close = difflib.get_close_matches(tok, pool, n=3, cutoff=0.6)
            hint = (
                "did you mean " + ", ".join(repr(c) for c in close) + "?"
                if close
                else "see 'sciddm list'"
            )
            raise SelectionError(f"unknown experiment {tok!r} ({hint})")
        chosen += [h for h in hits if h not in chosen]
    if not tokens:
        chosen = names
    if demo:
        in_demo = [n for n in chosen if entries[n].demo]
        if not in_demo:
            what = " ".join(tokens) if tokens else "the registry"
            raise SelectionError(
                f"no experiment of {what!r} is in the --demo set; use --quick instead"
            )
        chosen = in_demo
    return chosen
