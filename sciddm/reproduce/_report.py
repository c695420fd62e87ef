"""Writing the results of ``sciddm reproduce``.

The report folder holds ``report.md`` (a summary, the environment, then per
experiment its claims table — claim, source, measured, expected, holds — its
tables, figures and notes), the same as one self-contained ``report.html``
(figures embedded), ``claims.json`` (one record per claim) and
``figures/*.png``. Every file is written atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sciddm._core.io import atomic_write_text
from sciddm.reproduce._registry import STATUSES, Claim, ExperimentRun

__all__ = ["format_number", "markdown_table", "write_report"]


def format_number(x: Any) -> str:
    """Numbers to 4 significant digits; everything else via ``str``.

    Parameters
    ----------
    x : object
        A number (Python or NumPy), a bool (``"yes"``/``"no"``), a list or tuple
        (formatted item by item) or anything else.

    Returns
    -------
    str
        Integers in full, floats with ``"{:.4g}"``, NaN as ``"nan"``.

    Examples
    --------
    >>> from sciddm.reproduce import format_number
    >>> format_number(0.123456), format_number(12345678.0), format_number([1, 2.5])
    ('0.1235', '1.235e+07', '[1, 2.5]')
    """
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        return f"{x:.4g}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(format_number(v) for v in x) + "]"
    try:
        return (
            format_number(float(x))
            if hasattr(x, "__float__") and not isinstance(x, str)
            else str(x)
        )
    except (TypeError, ValueError):
        return str(x)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured markdown table of ``rows`` (dicts).

    Parameters
    ----------
    rows : sequence of dict
        One dict per row; cells are formatted by :func:`format_number`, a missing
        key gives an empty cell, ``|`` and newlines are escaped.
    columns : sequence of str, optional
        The columns, in order (default: the keys of the first row).

    Returns
    -------
    str
        The table (``"_(empty)_"`` when ``rows`` is empty).

    Examples
    --------
    >>> from sciddm.reproduce import markdown_table
    >>> print(markdown_table([{"n": 10, "err": 0.5}]))
    | n | err |
    | --- | --- |
    | 10 | 0.5 |
    """
    if not rows:
        return "_(empty)_"
    cols = list(columns) if columns is not None else list(rows[0])
    esc = lambda s: format_number(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    lines += ["| " + " | ".join(esc(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def expected_text(c: Claim) -> str:
    """The ``expected`` column of a claim: ``≤ 2 ± 0.1``, ``in [0, 1]`` ..."""
    if c.op == "in":
        lo, hi = c.expected  # type: ignore[misc]
        text = f"in [{format_number(lo)}, {format_number(hi)}]"
    elif c.op == "~=":
        text = f"≈ {format_number(c.expected)}"
    else:
        text = f"{'≤' if c.op == '<=' else '≥'} {format_number(c.expected)}"
    if c.tolerance and c.op != "in":
        text += f" ± {format_number(c.tolerance)}"
    return text


def _claim_rows(claims: Sequence[Claim]) -> list[dict[str, Any]]:
    rows = []
    for c in claims:
        measured = format_number(c.measured)
        if c.ci is not None:
            measured += f" [{format_number(c.ci[0])}, {format_number(c.ci[1])}]"
        rows.append(
            {
                "claim": c.claim,
                "source": c.source,
                "measured": measured,
                "expected": expected_text(c),
                "holds": "✅ yes" if c.holds else "❌ no",
            }
        )
    return rows


def _meta_lines(d: Mapping[str, Any]) -> list[str]:
    return [f"- **{k}**: {v if isinstance(v, str) else format_number(v)}" for k, v in d.items()]


_BANNERS = {
    "interrupted": "> **This run was interrupted.** The experiments below are those that "
    "finished; the one marked `interrupted` was stopped. Continue it with `--resume`.",
    "running": "> **This run is still going** (or was killed): the report is brought up "
    "to date after each experiment.",
}


def _markdown(
    runs: Sequence[ExperimentRun], meta: Mapping[str, Any], environment: Mapping[str, Any]
) -> str:
    lines = ["# sciddm reproduce — report", ""]
    banner = _BANNERS.get(str(meta.get("status", "")))
    if banner:
        lines += [banner, ""]
    lines += [*_meta_lines(meta), ""]
    if not runs:
        lines += [
            "No experiments were run: "
            + (
                "the registry is empty (no method family has registered a reproduction yet)."
                if not meta.get("registered")
                else "none matched the requested names."
            ),
            "",
        ]
    else:
        n_claims = sum(len(r.claims) for r in runs)
        n_hold = sum(c.holds for r in runs for c in r.claims)
        statuses = ", ".join(
            f"{sum(r.status == s for r in runs)} {s}"
            for s in STATUSES
            if s == "ok" or any(r.status == s for r in runs)
        )
        lines += [
            f"**{n_hold} of {n_claims} claims hold** across {len(runs)} experiment(s) "
            f"({statuses}).",
            "",
            "## Summary",
            "",
            markdown_table(
                [
                    {
                        "experiment": f"[{r.name}](#{r.name.replace('.', '').lower()})",
                        "status": r.status,
                        "claims holding": f"{sum(c.holds for c in r.claims)}/{len(r.claims)}",
                        "time (s)": round(r.seconds, 1),
                    }
                    for r in runs
                ]
            ),
            "",
        ]
    lines += ["## Environment", "", *_meta_lines(environment), ""]
    for r in runs:
        lines += [f"## {r.name}", "", r.description, ""]
        lines += [f"_status: {r.status}, {r.seconds:.1f} s, mode {r.mode}_", ""]
        if r.error:
            lines += [f"> **{r.status}**: {r.error}", ""]
        if r.claims:
            lines += [markdown_table(_claim_rows(r.claims)), ""]
        for title, rows in r.tables:
            lines += [f"**{title}**", "", markdown_table(rows), ""]
        for note in r.notes:
            lines += [note, ""]
        for fname, path in r.figures.items():
            if isinstance(path, str):
                lines += [f"![{r.name} {fname}]({path})", ""]
    return "\n".join(lines)


def write_report(
    out: str | Path,
    runs: Sequence[ExperimentRun],
    meta: Mapping[str, Any],
    *,
    environment: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report.md``, ``report.html`` and ``claims.json`` into ``out``.

    Parameters
    ----------
    out : path
        The report folder (created if needed); figure paths of ``runs`` are
        relative to it.
    runs : sequence of ExperimentRun
    meta : dict
        The run's description (command, mode, seed, status ...), shown first.
        ``meta["status"] == "interrupted"`` marks the run as interrupted.
    environment : dict, optional
        Versions, platform, device; by default collected here
        (:func:`collect_environment`).

    Returns
    -------
    pathlib.Path
        The path of ``report.md``. Every file is written atomically.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from sciddm.reproduce import Experiment, run_experiment, write_report
    >>> def half(ctx):
    ...     ctx.claim("1/2 is at most 0.6", source="arithmetic", measured=0.5, expected=0.6)
    >>> run = run_experiment(Experiment("doc.half", "A one-claim toy.", half, {}, {}))
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = write_report(out, [run], {"mode": "quick", "seed": 0}, environment={})
    ...     names = sorted(p.name for p in Path(out).iterdir())
    ...     records = json.loads((Path(out) / "claims.json").read_text())
    >>> path.name, names
    ('report.md', ['claims.json', 'report.html', 'report.md'])
    >>> records[0]["claim"], records[0]["holds"]
    ('1/2 is at most 0.6', True)
    """
    from sciddm.reproduce._env import collect_environment
    from sciddm.reproduce._html import render_html

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if environment is None:
        environment = collect_environment(
            **{k: meta[k] for k in ("mode", "seed", "device") if k in meta}
        )
    report = out / "report.md"
    atomic_write_text(report, _markdown(runs, meta, environment))
    atomic_write_text(out / "report.html", render_html(runs, meta, environment, out))
    records = [c.to_dict() for r in runs for c in r.claims]
    atomic_write_text(out / "claims.json", json.dumps(records, indent=2, allow_nan=True) + "\n")
    return report
