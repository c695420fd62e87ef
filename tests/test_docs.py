"""The documentation's sources: theory notes, README links, user-guide examples, generators.

The site itself is built by ``make docs`` / ``make docs-fast`` (``make test`` runs the
latter, with warnings as errors); these tests check what a build cannot: that the
examples of the user guide run, that every family has its pages, and that the page
generators of ``docs/_ext`` find what they look for.
"""

import importlib
import re
import sys
from pathlib import Path

import pytest

import sciddm

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTES = sorted((ROOT / "theory").glob("[0-9][0-9]_*.md"))
GUIDE = sorted([*DOCS.glob("*.md"), *(DOCS / "user_guide").glob("*.md")])
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.M | re.S)


@pytest.fixture(scope="module")
def ext():
    """The page generators of docs/_ext, importable as ``sciddm_docs``."""
    for module in ("sphinx", "jupytext", "nbformat"):  # the `docs` extra
        pytest.importorskip(module)
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        yield importlib.import_module("sciddm_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


@pytest.mark.parametrize("note", NOTES, ids=[n.stem for n in NOTES])
def test_theory_note_names_existing_tests(note):
    text = note.read_text()
    refs = re.findall(r"tests/theory/(test_\w+\.py)::(test_\w+)", text)
    assert refs, f"{note.name} must name its check as tests/theory/test_x.py::test_name"
    for fname, test in refs:
        path = ROOT / "tests" / "theory" / fname
        assert path.exists(), f"{note.name} names missing file {fname}"
        assert re.search(rf"def {test}\b", path.read_text()), (
            f"{note.name} names missing test {test}"
        )
    for section in ("Statement", "Source", "Used by", "Check"):
        assert f"## {section}" in text, f"{note.name} lacks a '## {section}' section"


def test_theory_index_lists_every_note_under_its_own_title():
    """theory/README.md's table has one row per note, titled as the note's heading (the
    titles are the sidebar of the documentation: no number prefixes, one style)."""
    rows = dict(
        re.findall(r"^\| \[(\d\d_\w+\.md)\]\(\1\) \| [^|]+ \| (.*) \|$",
                   (ROOT / "theory" / "README.md").read_text(), flags=re.M)
    )  # fmt: skip
    assert sorted(rows) == [n.name for n in NOTES]
    for note in NOTES:
        title = note.read_text().split("\n", 1)[0]
        assert title.startswith("# ") and not re.match(r"# \d+ ", title), note.name
        assert rows[note.name] == title[2:].strip(), note.name


def test_readme_links_exist():
    text = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\(((?:theory|tutorials|docs)/[^)#]+)\)", text):
        assert (ROOT / link).exists(), f"README links to missing {link}"


def _blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", [p for p in GUIDE if _blocks(p)], ids=lambda p: p.stem)
def test_user_guide_examples_run(page):
    """Every ```python block of a page runs, in order, in one namespace."""
    namespace: dict = {"__name__": f"docs_example_{page.stem}"}
    for i, block in enumerate(_blocks(page)):
        code = compile(block, f"{page.relative_to(ROOT)}[block {i + 1}]", "exec")
        exec(code, namespace)


def test_user_guide_references_resolve():
    """Every {py:...}`sciddm.x.y` of the hand-written pages names an existing object.

    (Sphinx renders an unresolved reference as plain code without a warning.)
    """
    missing = []
    for page in DOCS.rglob("*.md"):
        if "_build" in page.parts:
            continue
        for ref in re.findall(r"\{py:\w+\}`~?(sciddm\.[\w.]+)`", page.read_text()):
            parts = ref.split(".")
            for i in range(len(parts), 1, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ImportError:
                    continue
                try:
                    for attr in parts[i:]:
                        obj = getattr(obj, attr)
                except AttributeError:
                    missing.append(f"{page.relative_to(ROOT)}: {ref}")
                break
    assert not missing, "references to missing objects:\n" + "\n".join(missing)


def test_every_family_has_a_guide_page_and_a_gallery_figure(ext):
    from sciddm_docs import _gallery

    for family in sciddm.SUBPACKAGES:
        assert (DOCS / "user_guide" / f"{family}.md").exists(), f"no user guide for {family}"
        assert family in _gallery.FIGURES, f"no gallery figure for {family}"
    index = (DOCS / "user_guide" / "index.md").read_text()
    for family in sciddm.SUBPACKAGES:
        assert re.search(rf"^{family}$", index, flags=re.M), f"{family} not in the guide's toctree"


def test_user_guide_links_resolve():
    """Relative links of the guide point at pages that exist or are generated."""
    generated = {
        "tutorials": {p.stem for p in (ROOT / "tutorials").glob("[0-9][0-9]_*.py")},
        "theory": {p.stem for p in NOTES},
    }
    for page in GUIDE:
        for target in re.findall(
            r"\]\(\.\./(tutorials|theory)/([\w.]+?)\.(?:ipynb|md)\)", page.read_text()
        ):
            kind, stem = target
            assert stem in generated[kind], f"{page.name} links to missing {kind}/{stem}"


def test_api_pages_list_every_public_name_once(ext):
    from sciddm_docs import _api, _util

    modules = _util.public_modules()
    assert {"reproduce", *sciddm.SUBPACKAGES} <= set(modules)
    for module in modules:
        page = _api.module_page(module)
        listed = re.findall(r"^   (\w+)$", page, flags=re.M)
        assert sorted(listed) == sorted(_util.public_names(module)), module


def test_theory_rewrite_links_every_named_test(ext):
    from collections import defaultdict

    from sciddm_docs import _theory

    for note in NOTES:
        text = note.read_text()
        refs: dict = defaultdict(list)
        out = _theory.rewrite(text, note.name, refs)
        named = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", text))
        linked = {(path, t) for path, tests in refs.items() for t in tests}
        assert named == linked, f"{note.name}: not linked: {named - linked}"
        for path, test in named:
            assert f"(#{_theory.label(path, test)})" in out
            source = (ROOT / path).read_text()
            assert _theory.find_test(source, test), f"{path} has no {test}"


def test_reproduce_page_finds_the_claims_of_every_experiment(ext):
    from sciddm_docs import _reproduce

    from sciddm.reproduce import get_registry
    from sciddm.reproduce.manifest import builtin_entries

    # the built-in experiments (the docstring examples register a toy of their own)
    builtin = builtin_entries()
    registry = {n: e for n, e in get_registry().items() if n in builtin}
    assert registry
    missing = [n for n, e in registry.items() if not _reproduce.static_claims(e.func)]
    assert not missing, f"no ctx.claim(...) found in the source of {missing}"
