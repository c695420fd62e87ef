"""The report folders of ``sciddm reproduce``: new dated folders, ``latest``, checks.

A run writes into ``results/<UTC date-time>/`` by default (a suffix ``-2``,
``-3`` ... if that name is taken) and points ``results/latest`` at it: a
relative symbolic link, or, where links cannot be made, a one-line text file
holding the folder's name. An explicit folder that already holds a report is
never silently reused.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "LATEST",
    "REPORT_FILES",
    "OutDirError",
    "check_out_dir",
    "existing_report",
    "new_run_dir",
    "point_latest",
    "read_run_info",
    "resolve_latest",
]

#: The name of the pointer to the newest run inside the results root.
LATEST = "latest"
#: What a report folder holds (any of them means "holds a report").
REPORT_FILES = ("report.md", "report.html", "claims.json", "run.json")
#: The folder of the per-experiment records.
RECORDS = "experiments"


class OutDirError(ValueError):
    """The output folder cannot be used (the message is one line)."""


def new_run_dir(root: str | os.PathLike[str], now: _dt.datetime | None = None) -> Path:
    """Create and return a new ``root/<UTC date-time>`` folder (``-2``, ``-3``... if taken)."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutDirError(
            f"cannot create the results folder {str(root)!r}: {exc.strerror}"
        ) from exc
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%dT%H-%M-%SZ")
    for k in range(1, 10_000):
        path = root / (stamp if k == 1 else f"{stamp}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutDirError(f"cannot create {str(path)!r}: {exc.strerror}") from exc
        return path
    raise OutDirError(f"too many runs named {stamp!r} in {str(root)!r}")  # pragma: no cover


def point_latest(root: str | os.PathLike[str], target: str | os.PathLike[str]) -> str | None:
    """Point ``root/latest`` at ``target`` (a folder inside ``root``).

    Returns ``"symlink"``, ``"file"`` (where symbolic links fail: a text file
    holding the folder's name) or ``None`` when ``latest`` is a real folder
    that is left alone. The pointer is replaced atomically.
    """
    root, target = Path(root), Path(target)
    latest = root / LATEST
    if latest.is_dir() and not latest.is_symlink():
        return None
    rel = os.path.relpath(target, root)
    tmp = root / f".{LATEST}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        os.symlink(rel, tmp, target_is_directory=True)
        os.replace(tmp, latest)
        return "symlink"
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
    try:
        tmp.write_text(rel + "\n", encoding="utf-8")
        os.replace(tmp, latest)
        return "file"
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None


def resolve_latest(root: str | os.PathLike[str]) -> Path | None:
    """The folder that ``root/latest`` points at, or ``None``."""
    latest = Path(root) / LATEST
    if latest.is_symlink() or latest.is_dir():
        return latest.resolve() if latest.exists() else None
    if latest.is_file():
        try:
            name = latest.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        path = Path(root) / name
        return path if name and path.is_dir() else None
    return None


def existing_report(out: str | os.PathLike[str]) -> Path | None:
    """The first report file found in ``out`` (``None``: no report there)."""
    out = Path(out)
    for name in (*REPORT_FILES, RECORDS):
        if (out / name).exists() or (out / name).is_symlink():
            return out / name
    return None


def _probe(out: Path) -> None:
    """Create and delete a file in ``out``; raise ``OutDirError`` if impossible."""
    try:
        fd, name = tempfile.mkstemp(prefix=".sciddm-probe-", dir=out)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise OutDirError(f"--out {str(out)!r} is not writable ({exc.strerror})") from exc


def check_out_dir(out: str | os.PathLike[str], *, resume: bool, force: bool) -> Path:
    """Check (and create) an explicit output folder; return it.

    Raises
    ------
    OutDirError
        When ``out`` is a file, lies under a file, cannot be created or
        written, holds a report and neither ``resume`` nor ``force`` is set,
        or holds a report file that is not a regular file.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutDirError(f"--out {str(out)!r} exists and is not a directory")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutDirError(f"--out {str(out)!r}: {str(parent)!r} is not a directory")
            break
    if out.is_dir():
        found = existing_report(out)
        if found is not None and not (resume or force):
            raise OutDirError(
                f"--out {str(out)!r} already holds a report ({found.name}); use --resume to "
                "continue it, --force to overwrite it, or another folder"
            )
        for name in REPORT_FILES:
            p = out / name
            if p.exists() and not p.is_file():
                raise OutDirError(f"cannot write the report: {str(p)!r} is not a regular file")
        rec = out / RECORDS
        if rec.exists() and not rec.is_dir():
            raise OutDirError(f"cannot write the records: {str(rec)!r} is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutDirError(f"cannot create --out {str(out)!r} ({exc.strerror})") from exc
    _probe(out)
    return out


def read_run_info(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``run.json`` of a report folder, or ``None``."""
    try:
        data = json.loads((Path(out) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
