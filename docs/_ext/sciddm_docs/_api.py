"""The API reference: one page per public module, one autosummary page per name.

Generated from each module's ``__all__`` at build time, so that it follows the
package; nothing here lists a name by hand.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from sciddm_docs._util import first_line, public_modules, public_names, write_if_changed

KINDS = (("Classes", "class"), ("Functions", "function"), ("Constants", "data"))


def kind_of(obj: object) -> str:
    """``"class"``, ``"function"`` or ``"data"``: how autosummary documents ``obj``."""
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _underline(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


def module_page(module: str) -> str:
    """The reStructuredText of ``api/<module>.rst``."""
    full = f"sciddm.{module}"
    mod = importlib.import_module(full)
    groups: dict[str, list[str]] = {k: [] for _, k in KINDS}
    for name in public_names(module):
        groups[kind_of(getattr(mod, name))].append(name)
    lines = [
        f".. _api-{module}:",
        "",
        _underline(f"``{full}``", "="),
        f".. automodule:: {full}",
        "   :no-members:",
        "",
        f".. currentmodule:: {full}",
        "",
    ]
    for title, kind in KINDS:
        names = groups[kind]
        if not names:
            continue
        lines += [_underline(title, "-"), ".. autosummary::", "   :toctree: generated", ""]
        if kind != "class":
            lines.insert(-1, "   :nosignatures:")
        lines += [f"   {n}" for n in names] + [""]
    return "\n".join(lines)


def index_page(modules: list[str]) -> str:
    """The MyST text of ``api/index.md``."""
    rows = []
    for module in modules:
        mod = importlib.import_module(f"sciddm.{module}")
        summary = first_line(mod.__doc__).replace("|", "\\|")
        rows.append(
            f"| [`sciddm.{module}`](#api-{module}) | {len(public_names(module))} | {summary} |"
        )
    toctree = "\n".join(modules)
    return f"""# API reference

One page per public function and class of every family, generated from the
family's `__all__` (and its `toys` module's, where it has one), with the numpydoc
sections of its docstring: parameters, returns, notes with the maths, references
and an example that the test suite runs as a doctest.

| module | public names | what it is for |
| --- | --- | --- |
{chr(10).join(rows)}

```{{toctree}}
:hidden:
:maxdepth: 1

{toctree}
```
"""


def generate(src: Path) -> None:
    """Write ``api/index.md`` and ``api/<module>.rst`` under ``src``."""
    modules = public_modules()
    out = src / "api"
    for module in modules:
        write_if_changed(out / f"{module}.rst", module_page(module))
    write_if_changed(out / "index.md", index_page(modules))
    # pages of modules that no longer exist would be orphans: remove them
    keep = {f"{m}.rst" for m in modules} | {"index.md"}
    for path in out.glob("*.rst"):
        if path.name not in keep:
            path.unlink()
    # and so would autosummary's pages of names that left an __all__
    names = {f"sciddm.{m}.{n}.rst" for m in modules for n in public_names(m)}
    for path in (out / "generated").glob("*.rst"):
        if path.name not in names:
            path.unlink()
