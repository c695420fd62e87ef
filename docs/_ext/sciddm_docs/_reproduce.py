"""The "Reproducing the papers" page, from the registry of ``sciddm.reproduce``.

Every registered experiment is listed with its description, sizes, command and
the claims it checks. The claims are read from the experiment's source (the
statements passed to ``ctx.claim``; parts computed at run time show as ``…``),
since the registry only knows them once the experiment has run. When
``SCIDDM_DOCS_DEMO`` names the folder of a ``sciddm reproduce --demo`` run (as
``make docs`` does), its measured claims and figures are shown too.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.util import logging

from sciddm_docs._util import write_if_changed

logger = logging.getLogger(__name__)


def _module_constants(tree: ast.Module) -> dict[str, str]:
    consts: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            consts[node.targets[0].id] = node.value.value
    return consts


def _text(node: ast.AST | None, consts: dict[str, str]) -> str:
    """A string expression as text: literal parts kept, computed parts as ``…``."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v, consts) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        inner = node.value
        if isinstance(inner, ast.Name) and inner.id in consts:
            return consts[inner.id]
        return "…"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left, consts) + _text(node.right, consts)
    return "…"


def static_claims(func: Any) -> list[tuple[str, str]]:
    """The ``(claim, source)`` statements an experiment function records.

    Follows calls to other functions of the same module, so that claims made
    in helpers count.
    """
    module = sys.modules[func.__module__]
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return []
    consts = _module_constants(tree)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    seen: set[str] = set()
    out: list[tuple[str, str]] = []

    def visit(name: str) -> None:
        if name in seen or name not in defs:
            return
        seen.add(name)
        for node in ast.walk(defs[name]):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "claim" and node.args:
                source = next((k.value for k in node.keywords if k.arg == "source"), None)
                item = (_text(node.args[0], consts), _text(source, consts))
                if item not in out:
                    out.append(item)
            elif isinstance(f, ast.Name):
                visit(f.id)

    visit(func.__name__)
    return out


def _cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _num(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_num(v) for v in x) + "]"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.4g}"
    return str(x)


def _sizes(d: dict[str, Any] | None) -> str:
    if not d:
        return "the quick sizes" if d is not None else "—"
    return ", ".join(f"`{k}={v!r}`" for k, v in d.items())


def demo_section(src: Path) -> str:
    """The claims (and figures) of the demo run named by ``SCIDDM_DOCS_DEMO``."""
    demo = os.environ.get("SCIDDM_DOCS_DEMO")
    figdir = src / "reproducing" / "figures"
    if figdir.exists():
        shutil.rmtree(figdir)
    if not demo:
        return (
            ":::{note}\nThis build of the documentation did not run the demo "
            "(`make docs-fast`). `make docs` runs `sciddm reproduce --demo` first and "
            "shows the claims it measured here.\n:::\n"
        )
    path = Path(demo) / "claims.json"
    if not path.exists():
        logger.warning("SCIDDM_DOCS_DEMO=%s holds no claims.json", demo)
        return ":::{warning}\nThe demo run wrote no claims.\n:::\n"
    claims = json.loads(path.read_text(encoding="utf-8"))
    hold = sum(bool(c.get("holds")) for c in claims)
    lines = [
        f"The documentation was built with a `sciddm reproduce --demo` run: **{hold} of "
        f"{len(claims)} claims hold**. A claim that does not hold is reported, not hidden.",
        "",
    ]
    by_experiment: dict[str, list[dict[str, Any]]] = {}
    for c in claims:
        by_experiment.setdefault(str(c.get("experiment")), []).append(c)
    for name, rows in by_experiment.items():
        lines += [
            f"**[`{name}`](#{_anchor(name)})**",
            "",
            "| claim (source) | measured | expected | holds |",
            "| --- | --- | --- | --- |",
        ]
        for c in rows:
            tol = c.get("tolerance") or 0
            expected = f"{c.get('op', '')} {_num(c.get('expected'))}" + (
                f" ± {_num(tol)}" if tol else ""
            )
            lines.append(
                f"| {_cell(c.get('claim'))} (*{_cell(c.get('source'))}*) "
                f"| {_num(c.get('measured'))} | {_cell(expected)} | "
                f"{'yes' if c.get('holds') else '**no**'} |"
            )
        lines.append("")
    figures = sorted((Path(demo) / "figures").glob("*.png"))
    if figures:
        figdir.mkdir(parents=True, exist_ok=True)
        lines += ["", "### Figures of the demo run", ""]
        for fig in figures:
            shutil.copy2(fig, figdir / fig.name)
            lines += [
                f"```{{image}} figures/{fig.name}",
                f":alt: {fig.stem}",
                ":width: 600px",
                "```",
                "",
            ]
    return "\n".join(lines) + "\n"


def generate(src: Path) -> None:
    """Write ``reproducing/index.md``."""
    from sciddm.reproduce import get_registry

    registry = get_registry()
    rows = []
    sections = []
    for name, exp in registry.items():
        demo = "yes" if exp.demo is not None else ""
        rows.append(f"| [`{name}`](#{_anchor(name)}) | {demo} | {_cell(exp.description)} |")
        claims = static_claims(exp.func)
        sec = [
            f"({_anchor(name)})=",
            f"### `{name}`",
            "",
            exp.description,
            "",
            f"- **Command**: `sciddm reproduce {name} --quick` (or `--full` for the paper's sizes)",
            f"- **Quick sizes**: {_sizes(exp.quick)}",
            f"- **Full sizes**: {_sizes(exp.full)}",
        ]
        if exp.demo is not None:
            sec.append(f"- **In `--demo`**, with {_sizes(exp.demo)}")
        if exp.requires:
            sec.append(f"- **Needs**: {', '.join(f'`{r}`' for r in exp.requires)}")
        sec += ["", "Claims it checks:" if claims else "Claims: recorded at run time.", ""]
        for claim, source in claims:
            sec.append(f"- {_cell(claim)}" + (f" — *{_cell(source)}*" if source else ""))
        sections.append("\n".join(sec) + "\n")
    text = f"""# Reproducing the papers

`sciddm reproduce` runs *experiments* that check the claims of the papers behind each
family: the paper's statement, the number measured, the tolerance it is held to, and
whether it holds. It writes `report.md`, `claims.json` and `figures/` into a results
folder.

```bash
sciddm list                          # the registered experiments
sciddm reproduce --demo              # the curated few-minute set (make demo)
sciddm reproduce diffusion --quick   # every experiment of one family, small sizes
sciddm reproduce leastsquares.error-ratio --full --n-jobs 4   # one experiment, paper scale
```

The same from Python: {{func}}`sciddm.reproduce.run_experiment` runs one experiment and
returns its {{class}}`~sciddm.reproduce.ExperimentRun`; {{func}}`sciddm.reproduce.register`
adds your own. The sizes and seeds are fixed, so a run is reproducible; the confidence
intervals in the reports are explained in the theory note
[Confidence intervals](../theory/00_confidence_intervals.md).

## The claims of a demo run

{demo_section(src)}
## The registered experiments

{len(registry)} experiments are registered (`yes`: part of `--demo`).

| experiment | demo | what it reproduces |
| --- | --- | --- |
{chr(10).join(rows)}

{chr(10).join(sections)}"""
    write_if_changed(src / "reproducing" / "index.md", text)


def _anchor(name: str) -> str:
    return "exp-" + name.replace(".", "-").replace("_", "-").lower()
