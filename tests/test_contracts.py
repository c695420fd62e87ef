"""Library-wide contracts: the random source, imports across sub-packages, the layout
of the families, and the coverage of the property-based suite."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import sciddm
from sciddm._core.rng import UNSET

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "sciddm"
FAMILIES = sciddm.SUBPACKAGES
RNG_OLD = ("generator", "seed", "seeds", "random_state")


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(path: Path) -> str:
    """The package (directory) a file sits in, dotted."""
    return ".".join(path.parent.relative_to(ROOT).parts)


def _top(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def _resolve(node: ast.ImportFrom, path: Path) -> str:
    if node.level == 0:
        return node.module or ""
    base = _dotted(path).split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield _resolve(node, path), [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno


def test_no_private_imports_across_packages():
    """Private names (``_x``) are imported only within one package directory; across
    families (and from the harness) only public modules are imported; ``_core`` is the
    plumbing every family may use."""
    bad = []
    for path in _modules():
        here_pkg, here_fam = _package_of(path), _top(_dotted(path))
        if here_fam in ("cli", "__main__"):  # the command line is the harness's front end
            here_pkg, here_fam = "sciddm.reproduce", "reproduce"
        for mod, names, line in _imports(path):
            if not mod.startswith("sciddm.") or mod.startswith("sciddm._core"):
                continue
            fam = _top(mod)
            where = f"{path.relative_to(ROOT)}:{line}: from {mod} import {', '.join(names)}"
            mod_pkg = mod if (ROOT / Path(*mod.split("."))).is_dir() else mod.rpartition(".")[0]
            private_names = [n for n in names if n.startswith("_")]
            if fam != here_fam:
                private_mod = any(seg.startswith("_") for seg in mod.split(".")[2:])
                if private_mod or private_names:
                    bad.append(where)
            elif private_names and mod_pkg != here_pkg:
                bad.append(where)
    assert not bad, "private imports across packages:\n" + "\n".join(bad)


def test_families_never_import_the_harness_or_experiments():
    bad = []
    for path in _modules():
        if _top(_dotted(path)) in ("reproduce", "cli", "__main__"):
            continue
        for mod, _names, line in _imports(path):
            if mod.startswith("sciddm.reproduce"):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {mod}")
    for folder in ("tests", "tutorials", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parts[-2] == "reproduce":
                continue
            for mod, names, line in _imports(path):
                mods = [mod] + [f"{mod}.{n}" for n in names]
                if any(
                    m.startswith("sciddm.reproduce.") and m.split(".")[2] in _experiment_modules()
                    for m in mods
                ):
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {mod} {names}")
    assert not bad, "imports of the harness from a family, or of experiment modules:\n" + "\n".join(
        bad
    )


def _experiment_modules() -> set[str]:
    from sciddm.reproduce._registry import EXPERIMENT_MODULES

    return set(EXPERIMENT_MODULES)


def _public_callables():
    for fam in FAMILIES:
        mods = [importlib.import_module(f"sciddm.{fam}")]
        try:
            mods.append(importlib.import_module(f"sciddm.{fam}.toys"))
        except ModuleNotFoundError:
            pass
        for mod in mods:
            for name in getattr(mod, "__all__", []):
                obj = getattr(mod, name)
                if inspect.isclass(obj):
                    yield f"{mod.__name__}.{name}", obj, obj.__init__, True
                    for meth_name, meth in inspect.getmembers(obj, inspect.isfunction):
                        if not meth_name.startswith("_"):
                            yield f"{mod.__name__}.{name}.{meth_name}", obj, meth, False
                elif callable(obj):
                    yield f"{mod.__name__}.{name}", None, obj, False


#: Parameters that look like a random source but are something else, and why.
_SEEDS_AS_DATA = (
    "per-sample integer seeds: data naming each sample's own stream (EDM-style), so that a "
    "sample does not depend on its batch; `rng` stays the random source"
)
EXCEPTIONS: dict[str, str] = {
    "sciddm.diffusion.seeded_noise.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.sample.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.best_of_n.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.svdd.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.smc.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.sample_distributed.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.split_seeds.seeds": "splits a list of per-sample seeds over ranks",
    "sciddm.discrete.RowGenerator.seeds": _SEEDS_AS_DATA,
    "sciddm.discrete.SampleResult.seeds": "result field: the per-sample seeds that were used",
    "sciddm.discrete.GuidanceResult.seeds": "result field: the per-sample seeds that were used",
    "sciddm.discrete.TrainConfig.seed": (
        "a field of a JSON-serialisable training configuration (an int, saved with the run)"
    ),
}


def _is_sklearn_estimator(cls) -> bool:
    if cls is None:
        return False
    from sklearn.base import BaseEstimator

    return issubclass(cls, BaseEstimator)


def test_one_name_for_the_random_source():
    """No public parameter is called generator / seed / seeds / random_state unless it is
    a deprecated spelling (default UNSET), an estimator constructor's random_state, or a
    documented exception; any `rng` is keyword-only."""
    bad = []
    for qual, cls, fn, is_init in _public_callables():
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        params = sig.parameters
        if "rng" in params and params["rng"].kind is not inspect.Parameter.KEYWORD_ONLY:
            bad.append(f"{qual}: `rng` is not keyword-only")
        for old in RNG_OLD:
            if old not in params:
                continue
            p = params[old]
            if p.default is UNSET:
                continue
            if old == "random_state" and is_init and _is_sklearn_estimator(cls):
                continue
            if f"{qual}.{old}" in EXCEPTIONS:
                continue
            bad.append(f"{qual}: parameter `{old}`")
    assert not bad, "random-source names outside the contract:\n" + "\n".join(sorted(bad))


@pytest.mark.parametrize("fam", FAMILIES)
def test_property_suite_covers_every_public_name(fam):
    mod = importlib.import_module(f"sciddm.{fam}")
    names = set(mod.__all__)
    try:
        names |= set(importlib.import_module(f"sciddm.{fam}.toys").__all__)
    except ModuleNotFoundError:
        pass
    covered: set[str] = set()
    for path in sorted((ROOT / "tests" / fam).glob("test_properties*.py")):
        covered |= set(importlib.import_module(f"tests.{fam}.{path.stem}").COVERED)
    missing = names - covered
    stale = covered - names
    assert not missing, f"tests/{fam}/test_properties.py does not cover {sorted(missing)}"
    assert not stale, f"tests/{fam}/test_properties.py lists names not public: {sorted(stale)}"


#: Public modules besides ``__init__.py`` and ``toys.py``, and why each is public.
PUBLIC_MODULES = {
    "discrete/training.py": "command line: python -m sciddm.discrete.training",
    "discrete/sample_molecules.py": "command line: python -m sciddm.discrete.sample_molecules",
    "chem/data.py": "raw molecule dataset readers, read by sciddm.discrete's loaders",
    "dna/data.py": "raw DNA dataset reader, read by sciddm.discrete's loaders",
}


@pytest.mark.parametrize("fam", FAMILIES)
def test_family_layout(fam):
    """<family>/__init__.py with __all__; other modules private, except toys.py and the
    documented PUBLIC_MODULES; sub-packages private too."""
    folder = PKG / fam
    mod = importlib.import_module(f"sciddm.{fam}")
    assert isinstance(getattr(mod, "__all__", None), list) and mod.__all__
    public = []
    for p in folder.iterdir():
        if p.name in ("__init__.py", "toys.py", "__pycache__", "__main__.py"):
            continue
        if p.name.startswith("_") or f"{fam}/{p.name}" in PUBLIC_MODULES:
            continue
        public.append(p.name)
    assert not public, f"sciddm/{fam} has public modules besides toys.py: {public}"
