"""Progress bars (tqdm), off by default in the library and on in the CLI.

On a terminal (or in Jupyter) :func:`progress_bar` shows a tqdm bar. When
standard error is not a terminal — a CI log, ``| tee``, a file — tqdm's cursor
codes would fill the log, so plain one-line messages are written instead, at
most one every ``SCIDDM_PROGRESS_INTERVAL`` seconds (default 30) and a last
one when a long loop ends; a loop shorter than the interval prints nothing.
``SCIDDM_PROGRESS=plain`` or ``=bar`` forces either style.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["plain_progress", "progress_bar"]

_DEFAULT_INTERVAL = 30.0


def plain_progress(stream: Any = None) -> bool:
    """Whether progress should be plain lines rather than a tqdm bar.

    ``SCIDDM_PROGRESS=plain|bar`` decides when set; otherwise plain lines are
    used when ``stream`` (default: standard error) is not a terminal, except in
    a Jupyter kernel, where tqdm draws a widget.
    """
    forced = os.environ.get("SCIDDM_PROGRESS", "").strip().lower()
    if forced in ("plain", "bar"):
        return forced == "plain"
    if "ipykernel" in sys.modules:
        return False
    s = sys.stderr if stream is None else stream
    try:
        return not s.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return True


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("SCIDDM_PROGRESS_INTERVAL", _DEFAULT_INTERVAL)))
    except ValueError:
        return _DEFAULT_INTERVAL


def _plain(iterable: Iterable[T], total: int | None, desc: str | None) -> Iterator[T]:
    label = desc or "progress"
    every = _interval()
    t0 = last = time.monotonic()
    i = shown = 0
    of = f"/{total}" if total is not None else ""
    for item in iterable:
        yield item
        i += 1
        now = time.monotonic()
        if now - last >= every:
            sys.stderr.write(f"[{label}] {i}{of} ({now - t0:.0f} s)\n")
            sys.stderr.flush()
            last, shown = now, i
    now = time.monotonic()
    if now - t0 >= every and shown != i:
        sys.stderr.write(f"[{label}] {i}{of} done ({now - t0:.0f} s)\n")
        sys.stderr.flush()


def progress_bar(
    iterable: Iterable[T],
    *,
    enabled: bool = False,
    total: int | None = None,
    desc: str | None = None,
    **kw: Any,
) -> Iterator[T]:
    """Wrap ``iterable`` in a progress display when ``enabled``; otherwise return it as is.

    A tqdm bar on a terminal (it disappears when done); plain, rate-limited
    lines on standard error otherwise (see the module docstring).
    """
    if not enabled:
        return iter(iterable)
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if plain_progress():
        return _plain(iterable, total, desc)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, **kw))
