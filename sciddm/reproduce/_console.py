"""What ``sciddm reproduce`` shows while it runs: one labelled bar, or plain lines.

On a terminal: one tqdm bar for the run, labelled ``reproduce 3/11:
sensitivity.hypercube``, above the experiments' own bars. Elsewhere (CI logs,
``| tee``): one plain line when an experiment starts and one when it ends,
``[reproduce] 3/11 sensitivity.hypercube done in 12.3 s (4/4 claims hold)``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from sciddm._core.progress import plain_progress
from sciddm.reproduce._registry import ExperimentRun

__all__ = ["ConsoleLogHandler", "RunProgress"]


def outcome(run: ExperimentRun) -> str:
    """``done in 12.3 s (4/4 claims hold)``, ``error after 1.0 s (...)`` ..."""
    ok = sum(c.holds for c in run.claims)
    claims = f"{ok}/{len(run.claims)} claims hold"
    if run.status == "ok":
        return f"done in {run.seconds:.1f} s ({claims})"
    if run.status == "skipped":
        return f"skipped ({run.error})"
    return f"{run.status} after {run.seconds:.1f} s ({claims})"


class RunProgress:
    """The run's progress display (``enabled=False``: silent)."""

    def __init__(self, total: int, *, enabled: bool, stream: Any = None) -> None:
        self.total = total
        self.enabled = enabled and total > 0
        self.stream = sys.stderr if stream is None else stream
        self.plain = plain_progress(self.stream)
        self._bar: Any = None
        if self.enabled and not self.plain:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total,
                desc="reproduce",
                unit="exp",
                position=0,
                leave=True,
                dynamic_ncols=True,
                file=self.stream,
            )

    def _line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def start(self, i: int, name: str) -> None:
        """Experiment ``i`` (1-based) starts."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_description_str(f"reproduce {i}/{self.total}: {name}")
        else:
            self._line(f"[reproduce] {i}/{self.total} {name} ...")

    def done(self, i: int, run: ExperimentRun, *, reused: bool = False) -> None:
        """Experiment ``i`` has finished (or was reused from an earlier run)."""
        if not self.enabled:
            return
        text = "reused from the earlier run" if reused else outcome(run)
        if self._bar is not None:
            if run.status not in ("ok",) or reused:
                self._line(f"[reproduce] {i}/{self.total} {run.name} {text}")
            self._bar.update(1)
        else:
            self._line(f"[reproduce] {i}/{self.total} {run.name} {text}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def write(self, text: str) -> None:
        """Write a line without breaking the bar."""
        self._line(text)


class ConsoleLogHandler(logging.Handler):
    """Log records on the console through :class:`RunProgress` (above its bar)."""

    def __init__(self, progress: RunProgress, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress.write(self.format(record))
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)
