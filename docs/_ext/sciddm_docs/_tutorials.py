"""The tutorials: jupytext percent-format scripts rendered as notebook pages.

``tutorials/NN_topic.py`` becomes ``tutorials/NN_topic.ipynb`` (the page, which
myst-nb executes in ``make docs``), with the unexecuted ``.ipynb`` and the
``.py`` next to it in ``tutorials/files/`` for download.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat

from sciddm_docs._util import copy_if_changed, write_if_changed

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def sources(tutorials: Path) -> list[Path]:
    """The tutorial scripts, ``NN_topic.py``, in order."""
    return sorted(tutorials.glob("[0-9][0-9]_*.py"))


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first level-1 heading of the notebook's first markdown cell."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            return m.group(1).strip() if m else fallback
    return fallback


def _header(stem: str, executed: bool) -> str:
    run = (
        "This page was executed when the documentation was built, with `SCIDDM_FAST=1` "
        "(small sizes); unset it to run the tutorial at full size."
        if executed
        else "This build shows the notebook **without its outputs** (`make docs-fast`); "
        "`make docs` executes it and shows its figures."
    )
    return (
        ":::{admonition} Run this tutorial yourself\n:class: tip\n\n"
        f"{{download}}`Download the notebook (.ipynb) <files/{stem}.ipynb>` · "
        f"{{download}}`Download the script (.py) <files/{stem}.py>`\n\n"
        f"The source is `tutorials/{stem}.py` in the repository, a "
        "[jupytext](https://jupytext.readthedocs.io) percent-format script: run it with "
        f"`python tutorials/{stem}.py`, or open it in Jupyter (`make notebooks` writes the "
        f"`.ipynb`). {run}\n:::\n"
    )


def _page(nb: nbformat.NotebookNode, stem: str, executed: bool) -> nbformat.NotebookNode:
    """The notebook of the page: the title, the download box, then the tutorial."""
    page = nbformat.reads(nbformat.writes(nb), as_version=4)
    header = nbformat.v4.new_markdown_cell(_header(stem, executed))
    first = page.cells[0] if page.cells else None
    if first is not None and first.cell_type == "markdown" and first.source.startswith("# "):
        title, _, rest = first.source.partition("\n")
        first.source = title
        cells = [first, header]
        if rest.strip():
            cells.append(nbformat.v4.new_markdown_cell(rest.strip("\n")))
        page.cells = cells + page.cells[1:]
    else:
        page.cells.insert(0, header)
    return page


def generate(src: Path, tutorials: Path, *, executed: bool) -> None:
    """Write ``tutorials/index.md``, the notebook pages and the download copies."""
    out = src / "tutorials"
    rows = []
    stems = []
    for path in sources(tutorials):
        stem = path.stem
        nb = jupytext.read(path, fmt="py:percent")
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        nb.metadata.pop("jupytext", None)
        for cell in nb.cells:
            cell.metadata.pop("lines_to_next_cell", None)
        copy_if_changed(path, out / "files" / f"{stem}.py")
        write_if_changed(out / "files" / f"{stem}.ipynb", nbformat.writes(nb) + "\n")
        write_if_changed(out / f"{stem}.ipynb", nbformat.writes(_page(nb, stem, executed)) + "\n")
        rows.append(f"| [{title_of(nb, stem)}]({stem}.ipynb) | `tutorials/{stem}.py` |")
        stems.append(stem)
    for old in list(out.glob("*.ipynb")) + list((out / "files").glob("*")):
        if old.name.split(".")[0] not in stems:
            old.unlink()
    toctree = "\n".join(stems)
    index = f"""# Tutorials

Textbook-style notebooks, one per topic: the motivation, the maths, the code, a plot,
and what to conclude. Each is a [jupytext](https://jupytext.readthedocs.io)
percent-format script in the repository's `tutorials/` folder; every page below has
links to download it as a notebook (`.ipynb`) or a script (`.py`). The pages are
executed when the documentation is built, with `SCIDDM_FAST=1` (small sizes); the
test suite runs each tutorial the same way.

| tutorial | source |
| --- | --- |
{chr(10).join(rows)}

```{{toctree}}
:hidden:
:maxdepth: 1

{toctree}
```
"""
    write_if_changed(out / "index.md", index)
