"""``report.html``: one self-contained page (figures embedded as base64 PNG).

Everything that comes from an experiment (claims, notes, table cells, errors)
is HTML-escaped; the page loads nothing from elsewhere.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from sciddm.reproduce._registry import ExperimentRun
from sciddm.reproduce._report import expected_text, format_number

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
max-width:72em;padding:0 1em;color:#1f2328;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.holds td{background:#dafbe1}tr.fails td{background:#ffebe9}
td.holds{color:#1a7f37;font-weight:600}td.fails{color:#cf222e;font-weight:600}
.status{display:inline-block;padding:0 .5em;border-radius:.8em;font-size:.85em;color:#fff}
.status.ok{background:#1a7f37}.status.error{background:#cf222e}
.status.skipped{background:#6e7781}.status.interrupted{background:#bf8700}
.status.running{background:#0969da}.status.complete{background:#1a7f37}
.banner{padding:.6em 1em;border-radius:.4em;margin:1em 0}
.banner.interrupted{background:#fff8c5;border:1px solid #d4a72c}
.banner.running{background:#ddf4ff;border:1px solid #54aeff}
.banner.complete{background:#dafbe1;border:1px solid #4ac26b}
.counts span{margin-right:1.2em}
pre.error{background:#ffebe9;padding:.6em;white-space:pre-wrap}
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #d0d7de}
.meta{color:#57606a;font-size:.9em}
"""


def _anchor(name: str) -> str:
    return "exp-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "<p><em>(empty)</em></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(format_number(r.get(c, '')))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _claims_table(run: ExperimentRun) -> str:
    rows = []
    for c in run.claims:
        measured = format_number(c.measured)
        if c.ci is not None:
            measured += f" [{format_number(c.ci[0])}, {format_number(c.ci[1])}]"
        cls = "holds" if c.holds else "fails"
        rows.append(
            f'<tr class="{cls}"><td>{escape(c.claim)}</td><td>{escape(c.source)}</td>'
            f"<td>{escape(measured)}</td><td>{escape(expected_text(c))}</td>"
            f'<td class="{cls}">{"yes" if c.holds else "no"}</td></tr>'
        )
    return (
        '<table class="claims"><thead><tr><th>claim</th><th>source</th><th>measured</th>'
        "<th>expected</th><th>holds</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _png_base64(fig: Any, out: Path) -> str | None:
    """The PNG bytes of a saved figure (a path relative to ``out``) or of a
    matplotlib figure, base64-encoded; ``None`` if unreadable."""
    try:
        if isinstance(fig, str | Path):
            data = (out / fig).read_bytes()
        elif hasattr(fig, "savefig"):
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
            data = buf.getvalue()
        else:
            return None
    except OSError:
        return None
    return base64.b64encode(data).decode("ascii")


def _experiment(run: ExperimentRun, out: Path) -> str:
    n_hold = sum(c.holds for c in run.claims)
    parts = [
        f'<section class="experiment" id="{_anchor(run.name)}">',
        f"<h2>{escape(run.name)}</h2>",
        f"<p>{escape(run.description)}</p>",
        f'<p class="meta"><span class="status {escape(run.status)}">{escape(run.status)}</span> '
        f"{run.seconds:.1f} s, mode {escape(run.mode)}, seed {run.seed}, "
        f"{n_hold}/{len(run.claims)} claims hold</p>",
    ]
    if run.error:
        parts.append(f'<pre class="error">{escape(run.error)}</pre>')
    if run.claims:
        parts.append(_claims_table(run))
    for title, rows in run.tables:
        parts += [f"<h3>{escape(title)}</h3>", _table(rows)]
    parts += [f"<p>{escape(note)}</p>" for note in run.notes]
    for name, fig in run.figures.items():
        b64 = _png_base64(fig, out)
        if b64 is None:
            parts.append(f"<p><em>figure {escape(name)} is missing</em></p>")
        else:
            alt = escape(f"{run.name} {name}")
            parts.append(
                f'<figure><img alt="{alt}" src="data:image/png;base64,{b64}">'
                f"<figcaption>{escape(name)}</figcaption></figure>"
            )
    parts.append("</section>")
    return "\n".join(parts)


def _summary(runs: Sequence[ExperimentRun]) -> str:
    n_claims = sum(len(r.claims) for r in runs)
    n_hold = sum(c.holds for r in runs for c in r.claims)
    by_status = {s: sum(r.status == s for r in runs) for s in ("ok", "error", "skipped")}
    by_status["interrupted"] = sum(r.status == "interrupted" for r in runs)
    counts = (
        f'<p class="counts"><span><strong>{n_hold} of {n_claims} claims hold</strong></span>'
        f"<span>{n_claims - n_hold} fail</span><span>{len(runs)} experiment(s): "
        + ", ".join(f"{v} {k}" for k, v in by_status.items() if v or k == "ok")
        + "</span></p>"
    )
    rows = []
    for r in runs:
        ok = sum(c.holds for c in r.claims)
        cls = "holds" if ok == len(r.claims) and r.status == "ok" else "fails"
        rows.append(
            f'<tr class="{cls}"><td><a href="#{_anchor(r.name)}">{escape(r.name)}</a></td>'
            f'<td><span class="status {escape(r.status)}">{escape(r.status)}</span></td>'
            f"<td>{ok}/{len(r.claims)}</td><td>{r.seconds:.1f}</td></tr>"
        )
    table = (
        '<table class="summary"><thead><tr><th>experiment</th><th>status</th>'
        "<th>claims holding</th><th>time (s)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    return counts + table


def _kv_table(d: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(v if isinstance(v, str) else format_number(v))}"
        "</td></tr>"
        for k, v in d.items()
    )
    return f"<table>{rows}</table>"


def render_html(
    runs: Sequence[ExperimentRun],
    meta: Mapping[str, Any],
    environment: Mapping[str, Any],
    out: str | Path,
) -> str:
    """The report page of ``runs`` (figure paths resolved against ``out``)."""
    out = Path(out)
    status = str(meta.get("status", "complete"))
    banner = {
        "interrupted": "This run was interrupted: the experiments below are those that "
        "finished; the one marked <em>interrupted</em> was stopped.",
        "running": "This run is still going (or was killed): the report is brought up to "
        "date after each experiment.",
        "complete": "This run is complete.",
    }.get(status, escape(status))
    body = [
        "<h1>sciddm reproduce &mdash; report</h1>",
        f'<p class="banner {escape(status)}">{banner}</p>',
        "<h2>Run</h2>",
        _kv_table(meta),
        "<h2>Summary</h2>",
        _summary(runs) if runs else "<p>No experiments were run.</p>",
        "<h2>Environment</h2>",
        _kv_table(environment),
        *(_experiment(r, out) for r in runs),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>sciddm reproduce report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
