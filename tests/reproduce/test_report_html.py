"""report.html is one valid, self-contained, escaped page; report.md has the environment."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import pytest

from sciddm.reproduce import ExperimentRun, register, run_experiment, write_report
from sciddm.reproduce import _registry as reg
from sciddm.reproduce._env import collect_environment, git_commit

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr", "source"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setattr(reg, "_REGISTRY", {})

    @register("toy.fig", description="A toy with <b>markup</b> & a figure.", quick={}, full={})
    def fig(ctx):
        ctx.claim("holds <here>", source="A & B", measured=1.0, expected=2.0)
        ctx.claim("fails", source="C", measured=3.0, expected=2.0, ci=(2.5, 3.5))
        f, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [1, 0])
        ctx.figure(f, "line")
        ctx.table("t <1>", [{"a": 1, "b": "<i>x</i>"}])
        ctx.note("<script>alert('x')</script>")

    @register("toy.err", description="raises", quick={}, full={})
    def err(ctx):
        raise RuntimeError("bad <thing>")


def test_html_is_valid_self_contained_and_escaped(toys, tmp_path):
    runs = [
        run_experiment("toy.fig", figure_dir=tmp_path / "figures"),
        run_experiment("toy.err"),
    ]
    write_report(tmp_path, runs, {"status": "interrupted", "mode": "quick", "seed": 0})
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    p = _Checker()
    p.feed(html)
    p.close()
    assert not p.problems and not p.stack, (p.problems, p.stack)
    tags = [t for t, _ in p.tags]
    assert "script" not in tags and "b" not in tags and "i" not in tags  # escaped, not markup
    text = "".join(p.text)
    assert "<script>alert('x')</script>" in text and "bad <thing>" in text
    assert "A toy with <b>markup</b> & a figure." in text
    # figures are embedded PNGs; nothing is loaded from elsewhere
    imgs = [a for t, a in p.tags if t == "img"]
    assert len(imgs) == 1 and imgs[0]["src"].startswith("data:image/png;base64,")
    png = base64.b64decode(imgs[0]["src"].split(",", 1)[1])
    assert (
        png[:8] == b"\x89PNG\r\n\x1a\n" and png == (tmp_path / runs[0].figures["line"]).read_bytes()
    )
    for tag, attrs in p.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith(("data:", "#")), (tag, value)
    # the claims are coloured by holds/fails, statuses and summary shown
    rows = [a.get("class") for t, a in p.tags if t == "tr"]
    assert "holds" in rows and "fails" in rows
    assert "tr.holds td{background:" in html and "tr.fails td{background:" in html
    assert "1 of 2 claims hold" in text and "1 error" in text and "interrupted" in text
    for key in ("sciddm", "python", "numpy", "torch", "platform", "git commit", "seed", "mode"):
        assert key in text
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Environment" in md and "**numpy**" in md and "This run was interrupted" in md
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["holds"] for c in claims] == [True, False]


def test_figures_in_memory_are_embedded_too(toys, tmp_path):
    run = run_experiment("toy.fig")  # no figure folder: the Figure object itself
    write_report(tmp_path, [run], {})
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 1


def test_record_round_trip(toys, tmp_path):
    run = run_experiment("toy.fig", seed=4, figure_dir=tmp_path / "figures")
    data = json.loads(json.dumps(run.to_dict()))
    back = ExperimentRun.from_dict(data)
    assert back.claims == run.claims and back.tables == run.tables and back.seed == 4
    assert back.params == {} and back.sciddm_version == run.sciddm_version


def test_environment_never_fails_without_git(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the path
    assert git_commit() is None
    env = collect_environment(device="cpu", seed=1)
    assert env["git commit"] == "unknown" and env["seed"] == 1 and env["numpy"][0].isdigit()
    assert git_commit(tmp_path) is None  # not a repository
