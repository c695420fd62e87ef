"""Run a child Python process with a wait that is bounded however the child misbehaves.

``subprocess.run(..., timeout=T)`` kills only the child it started and then waits,
without a limit, for its pipes to close; a grandchild that inherited them (a joblib
worker, a resource tracker, a gloo rank) keeps that wait open for ever. Here the child
leads its own process group and the whole group is killed when the time is up.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

__all__ = ["kill_group", "run_bounded", "start"]


def start(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen:
    """Start ``cmd`` in a new process group with text pipes for stdout and stderr."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(list(cmd), start_new_session=True, text=True, **kwargs)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and everything it started, then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def run_bounded(
    cmd: Sequence[str], *, timeout: float, check: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess:
    """Like ``subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)``.

    On time-out the whole process group is killed and ``AssertionError`` is raised with
    the tail of what the child printed.
    """
    proc = start(cmd, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise AssertionError(f"{' '.join(cmd)} ran past {timeout} s") from None
    finally:
        if proc.poll() is None:  # an exception other than the time-out
            kill_group(proc)
    done = subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done
