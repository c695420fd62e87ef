"""Dated result folders, the `latest` pointer and the checks of an explicit --out."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from sciddm.reproduce import _outdir
from sciddm.reproduce._outdir import (
    OutDirError,
    check_out_dir,
    new_run_dir,
    point_latest,
    resolve_latest,
)

NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def test_new_run_dirs_never_collide(tmp_path):
    a = new_run_dir(tmp_path / "results", now=NOW)
    b = new_run_dir(tmp_path / "results", now=NOW)
    assert a.name == "2025-01-02T03-04-05Z" and b.name == "2025-01-02T03-04-05Z-2"
    assert a.is_dir() and b.is_dir()


def test_latest_symlink_and_file_fallback(tmp_path, monkeypatch):
    root = tmp_path / "results"
    a = new_run_dir(root, now=NOW)
    b = new_run_dir(root, now=NOW)
    assert point_latest(root, a) == "symlink" and resolve_latest(root) == a.resolve()
    assert point_latest(root, b) == "symlink" and resolve_latest(root) == b.resolve()
    assert os.readlink(root / "latest") == b.name  # relative: the folder can be moved

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks are not supported here")

    monkeypatch.setattr(_outdir.os, "symlink", no_symlinks)
    assert point_latest(root, a) == "file"
    assert (root / "latest").read_text().strip() == a.name and resolve_latest(root) == a
    assert point_latest(root, b) == "file" and resolve_latest(root) == b
    assert sorted(p.name for p in root.iterdir()) == sorted([a.name, b.name, "latest"])


def test_latest_real_folder_is_left_alone(tmp_path):
    root = tmp_path / "results"
    (root / "latest").mkdir(parents=True)
    (root / "latest" / "mine.txt").write_text("keep")
    run = new_run_dir(root, now=NOW)
    assert point_latest(root, run) is None
    assert (root / "latest" / "mine.txt").read_text() == "keep"


def test_check_out_dir(tmp_path):
    out = check_out_dir(tmp_path / "new" / "deep", resume=False, force=False)
    assert out.is_dir()
    (out / "claims.json").write_text("[]")
    with pytest.raises(OutDirError, match="already holds a report .claims.json"):
        check_out_dir(out, resume=False, force=False)
    assert check_out_dir(out, resume=True, force=False) == out
    assert check_out_dir(out, resume=False, force=True) == out
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(OutDirError, match="exists and is not a directory"):
        check_out_dir(f, resume=False, force=False)
    with pytest.raises(OutDirError, match="is not a directory"):
        check_out_dir(f / "x", resume=False, force=False)
