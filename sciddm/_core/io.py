"""Atomic file writes: a temporary name in the same folder, then a rename.

An interrupted run never leaves a half-written report or checkpoint: either
the old file or the complete new one is on disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "atomic_path",
    "atomic_write_text",
    "load_checkpoint",
    "save_checkpoint",
    "save_figure",
    "torch_save_atomic",
]

#: Version of the layout that :func:`save_checkpoint` writes.
CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A file is not a readable sciddm checkpoint of the expected kind."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sciddm._core.io import atomic_path
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the file the mode a plain open() would have
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        fh: IO[Any]
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return Path(path)


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically (format from ``path``'s suffix)."""
    target = Path(path)
    kwargs.setdefault("dpi", 110)
    kwargs.setdefault("bbox_inches", "tight")
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix.lstrip(".") or "png", **kwargs)
    return target


def torch_save_atomic(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` to a temporary file, then rename onto ``path``.

    Load with ``torch.load(path, weights_only=True)``.
    """
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike[str], *, kind: str) -> Path:
    """Save ``payload`` as a sciddm ``kind`` file, atomically, with a format header.

    The file holds ``{"sciddm_format": CHECKPOINT_FORMAT, "sciddm_version": ...,
    "kind": kind, **payload}`` and is read back by :func:`load_checkpoint`.
    Only tensors, numbers, strings, lists and dicts may be stored (it is loaded
    with ``weights_only=True``).

    Parameters
    ----------
    payload : dict
        What to store (state dicts, configuration, step counters).
    path : path-like
        Destination; written to a temporary name and renamed.
    kind : str
        What the file is, e.g. ``"discrete model"`` or ``"denoiser checkpoint"``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sciddm._core.io import load_checkpoint, save_checkpoint
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ck.pt"
    >>> _ = save_checkpoint({"step": 3}, p, kind="demo checkpoint")
    >>> load_checkpoint(p, kind="demo checkpoint")["step"]
    3
    """
    from sciddm import __version__

    blob = {"sciddm_format": CHECKPOINT_FORMAT, "sciddm_version": __version__, "kind": kind}
    blob.update(payload)
    return torch_save_atomic(blob, path)


def load_checkpoint(
    path: str | os.PathLike[str], *, kind: str, map_location: Any = "cpu"
) -> dict[str, Any]:
    """Load a file written by :func:`save_checkpoint`, safely, or say why it cannot be read.

    The file is read with ``torch.load(..., weights_only=True)`` (no code in it
    is run). Any failure — a missing, empty, truncated or foreign file, another
    kind, a newer format — raises :class:`CheckpointError` (a ``ValueError``)
    with the message "``<path>`` is not a readable sciddm <kind> file (<reason>)".

    Parameters
    ----------
    path : path-like
        The file.
    kind : str
        The kind that :func:`save_checkpoint` was given.
    map_location : str or torch.device, default "cpu"
        Where tensors are loaded.

    Returns
    -------
    dict
        The payload, with the header keys ``sciddm_format``, ``sciddm_version``
        and ``kind``.

    Raises
    ------
    CheckpointError
        If the file cannot be read as a sciddm ``kind`` file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sciddm._core.io import CheckpointError, load_checkpoint
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "empty.pt"
    >>> _ = p.write_bytes(b"")
    >>> try:
    ...     load_checkpoint(p, kind="demo checkpoint")
    ... except CheckpointError as e:
    ...     print(str(e).split(" is not")[1])
    a readable sciddm demo checkpoint file (the file is empty)
    """
    import pickle
    import zipfile

    import torch

    p = Path(path)

    def fail(reason: str) -> CheckpointError:
        return CheckpointError(f"{str(p)!r} is not a readable sciddm {kind} file ({reason})")

    if not p.exists():
        raise fail("no such file")
    if p.is_dir():
        raise fail("it is a directory")
    if p.stat().st_size == 0:
        raise fail("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns on foreign pickle protocols
            blob = torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message advises weights_only=False, which would run code from the file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in first or "Weights only load failed" in str(exc):
            first = "it holds objects other than tensors and plain data"
        raise fail(first) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "zip archive" in msg or "central directory" in msg or isinstance(exc, EOFError):
            msg = "the file is truncated or not a torch file"
        raise fail(msg) from None
    except Exception as exc:  # any other failure of a foreign file is still "not readable"
        raise fail(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    if not isinstance(blob, dict) or "sciddm_format" not in blob:
        raise fail("it was not written by sciddm")
    fmt = blob.get("sciddm_format")
    if not isinstance(fmt, int) or fmt > CHECKPOINT_FORMAT:
        raise fail(
            f"format {fmt!r}, written by sciddm {blob.get('sciddm_version', '?')}; this sciddm "
            f"reads formats up to {CHECKPOINT_FORMAT}: upgrade sciddm"
        )
    if blob.get("kind") != kind:
        raise fail(f"it is a sciddm {blob.get('kind')!r} file")
    return blob
