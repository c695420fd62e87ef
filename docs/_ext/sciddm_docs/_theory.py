"""The theory notes, rendered with their equations and linked to the tests that check them.

Each ``theory/NN_name.md`` names its check as ``tests/theory/test_x.py::test_name``
(in a code span). Every such name becomes a link to ``theory/checks/<file>.md``, a
page showing the source of that test (and of the whole test file). Code spans
holding a dotted ``sciddm.<module>.<name>`` become links to the API reference.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from sphinx.util import logging

from sciddm_docs._util import write_if_changed

logger = logging.getLogger(__name__)

#: A named test in a code span: `tests/<path>.py::test_name` (optional [param]).
TEST_SPAN = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(\[[^\]`]*\])?`")
#: The same without the backticks, to find names that could not be linked.
TEST_LOOSE = re.compile(r"tests/[\w/]+\.py::\w+")
#: A dotted name of the package in a code span.
OBJ_SPAN = re.compile(r"`(sciddm(?:\.\w+)+)`")


def label(path: str, test: str | None = None) -> str:
    """The cross-reference label of a test file, or of one test in it."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.removesuffix(".py").lower()).strip("-")
    return f"check-{slug}" + (f"-{test.lower().replace('_', '-')}" if test else "")


def page_name(path: str) -> str:
    """The document name of a test file's page, relative to ``theory/``."""
    return "checks/" + path.removesuffix(".py").replace("/", "__")


def find_test(source: str, name: str) -> str | None:
    """``name`` or ``Class.name`` for literalinclude's ``:pyobject:``; None if absent."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return name
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and sub.name == name:
                    return f"{node.name}.{name}"
    return None


def rewrite(text: str, note: str, refs: dict[str, list[str]]) -> str:
    """The note's text with test names and package names turned into links.

    ``refs`` collects ``{test file: [test names]}`` in order of appearance.
    """

    def test_link(m: re.Match[str]) -> str:
        path, test, param = m.group(1), m.group(2), m.group(3) or ""
        if test not in refs[path]:
            refs[path].append(test)
        return f"[`{path}::{test}{param}`](#{label(path, test)})"

    out = TEST_SPAN.sub(test_link, text)
    for loose in TEST_LOOSE.findall(TEST_SPAN.sub("", text)):
        logger.warning(
            "theory/%s names %s outside a one-line code span: it cannot be linked "
            "(write it as `%s`)",
            note,
            loose,
            loose,
        )
    return OBJ_SPAN.sub(lambda m: f"{{py:obj}}`{m.group(1)}`", out)


def check_page(root: Path, path: str, tests: list[str], notes: list[tuple[str, str]]) -> str:
    """The MyST text of the page of one test file."""
    source = (root / path).read_text(encoding="utf-8")
    rel = "../../../" + path
    cited = ", ".join(f"[{title}](../{stem}.md)" for stem, title in notes)
    lines = [
        f"({label(path)})=",
        f"# `{path}`",
        "",
        f"The checks of the theory notes {cited}. Run them with `python -m pytest {path}`.",
        "",
    ]
    for test in tests:
        obj = find_test(source, test)
        if obj is None:
            logger.warning("%s has no test %s (named by %s)", path, test, cited)
            continue
        lines += [
            f"({label(path, test)})=",
            f"## `{test}`",
            "",
            f"```{{literalinclude}} {rel}",
            ":language: python",
            f":pyobject: {obj}",
            "```",
            "",
        ]
    lines += [
        "## The whole file",
        "",
        f"```{{literalinclude}} {rel}",
        ":language: python",
        ":linenos:",
        "```",
        "",
    ]
    return "\n".join(lines)


def generate(src: Path, theory: Path, root: Path) -> None:
    """Write ``theory/index.md``, the notes and ``theory/checks/*.md``."""
    out = src / "theory"
    notes = sorted(theory.glob("[0-9][0-9]_*.md"))
    refs_by_note: dict[str, dict[str, list[str]]] = {}
    titles: dict[str, str] = {}
    for note in notes:
        text = note.read_text(encoding="utf-8")
        m = re.search(r"^#\s+(.+)$", text, flags=re.M)
        titles[note.stem] = m.group(1).strip() if m else note.stem
        refs: dict[str, list[str]] = defaultdict(list)
        write_if_changed(out / note.name, rewrite(text, note.name, refs))
        refs_by_note[note.stem] = refs
    # one page per test file, with every test any note names
    files: dict[str, list[str]] = defaultdict(list)
    citing: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for stem, refs in refs_by_note.items():
        for path, tests in refs.items():
            files[path] += [t for t in tests if t not in files[path]]
            citing[path].append((stem, titles[stem]))
    pages = []
    for path in sorted(files):
        if not (root / path).exists():
            logger.warning("theory notes name a missing test file %s", path)
            continue
        name = page_name(path)
        pages.append(name)
        write_if_changed(out / f"{name}.md", check_page(root, path, files[path], citing[path]))
    for old in (out / "checks").glob("*.md"):
        if f"checks/{old.stem}" not in pages:
            old.unlink()
    for old in out.glob("[0-9][0-9]_*.md"):
        if old.stem not in titles:
            old.unlink()
    readme = theory / "README.md"
    intro = readme.read_text(encoding="utf-8") if readme.exists() else "# Theory notes\n"
    notes_toc = "\n".join(n.stem for n in notes)
    checks_toc = "\n".join(pages)
    index = f"""{intro.rstrip()}

Each test named by a note links to a page with its source. The notes are rendered
from the repository's `theory/` folder when the documentation is built.

```{{toctree}}
:hidden:
:maxdepth: 1

{notes_toc}
```

```{{toctree}}
:hidden:
:caption: The checks
:maxdepth: 1

{checks_toc}
```
"""
    write_if_changed(out / "index.md", index)
