"""Progress output: tqdm on a terminal, rate-limited plain lines elsewhere."""

from __future__ import annotations

import io

from sciddm._core.progress import plain_progress, progress_bar
from sciddm.reproduce._console import RunProgress
from sciddm.reproduce._registry import Claim, ExperimentRun


class _Tty(io.StringIO):
    def isatty(self):
        return True


def _run(status="ok"):
    c = Claim(
        experiment="a.b",
        claim="c",
        source="s",
        measured=1.0,
        expected=1.0,
        op="~=",
        tolerance=0.0,
        holds=True,
    )
    return ExperimentRun(
        name="a.b",
        description="d",
        mode="quick",
        status=status,
        seconds=1.25,
        claims=[c],
        figures={},
        tables=[],
        notes=[],
    )


def test_plain_lines_when_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("SCIDDM_PROGRESS", raising=False)
    assert plain_progress(io.StringIO()) and not plain_progress(_Tty())
    monkeypatch.setenv("SCIDDM_PROGRESS_INTERVAL", "0")
    assert list(progress_bar(range(3), enabled=True, desc="loop")) == [0, 1, 2]
    err = capsys.readouterr().err
    assert err.splitlines() == ["[loop] 1/3 (0 s)", "[loop] 2/3 (0 s)", "[loop] 3/3 (0 s)"]
    # a loop shorter than the interval prints nothing: no spam in CI logs
    monkeypatch.setenv("SCIDDM_PROGRESS_INTERVAL", "30")
    assert list(progress_bar(range(1000), enabled=True, desc="fast")) == list(range(1000))
    assert capsys.readouterr().err == ""
    assert list(progress_bar(iter([1, 2]), enabled=False)) == [1, 2]


def test_forced_style(monkeypatch):
    monkeypatch.setenv("SCIDDM_PROGRESS", "bar")
    assert not plain_progress(io.StringIO())
    monkeypatch.setenv("SCIDDM_PROGRESS", "plain")
    assert plain_progress(_Tty())


def test_run_progress_plain_and_bar(monkeypatch):
    monkeypatch.delenv("SCIDDM_PROGRESS", raising=False)
    s = io.StringIO()
    p = RunProgress(2, enabled=True, stream=s)
    p.start(1, "a.b")
    p.done(1, _run())
    p.done(2, _run("error"))
    p.close()
    assert s.getvalue().splitlines() == [
        "[reproduce] 1/2 a.b ...",
        "[reproduce] 1/2 a.b done in 1.2 s (1/1 claims hold)",
        "[reproduce] 2/2 a.b error after 1.2 s (1/1 claims hold)",
    ]
    t = _Tty()
    p = RunProgress(2, enabled=True, stream=t)
    p.start(1, "a.b")
    p.done(1, _run())
    p.close()
    assert "reproduce 1/2: a.b" in t.getvalue() and "\r" in t.getvalue()  # a tqdm bar
    quiet = io.StringIO()
    p = RunProgress(2, enabled=False, stream=quiet)
    p.start(1, "a.b")
    p.done(1, _run())
    p.close()
    assert quiet.getvalue() == ""
