"""The environment block of a report: versions, platform, device, git commit."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["collect_environment", "git_commit"]


def _version(module: str) -> str:
    """The version of ``module`` without importing it when it is not imported yet."""
    mod = sys.modules.get(module)
    if mod is not None and getattr(mod, "__version__", None):
        return str(mod.__version__)
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def git_commit(where: str | Path | None = None, *, timeout: float = 5.0) -> str | None:
    """The git commit of the sciddm source tree (``+dirty`` with local changes).

    ``None`` when sciddm is not in a git checkout, git is missing, or it does
    not answer within ``timeout`` seconds; never raises.
    """
    cwd = Path(where) if where is not None else Path(__file__).resolve().parents[2]
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout.strip()
        if not top or Path(top).resolve() != cwd.resolve():
            return None  # sciddm is installed inside some other repository
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not head:
        return None
    return head + ("+dirty" if dirty else "")


def collect_environment(**run: Any) -> dict[str, Any]:
    """Versions (sciddm, python, torch, numpy), platform, CPUs, git commit, and
    the entries of ``run`` (device, seed, mode, command line ...)."""
    import os

    from sciddm import __version__

    env: dict[str, Any] = {
        "sciddm": __version__,
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    torch = sys.modules.get("torch")
    if torch is not None and run.get("device") == "cuda":
        try:
            env["gpu"] = torch.cuda.get_device_name(0)
        except Exception:
            pass
    env.update({k: v for k, v in run.items() if v is not None})
    commit = git_commit()
    env["git commit"] = commit if commit is not None else "unknown"
    return env
