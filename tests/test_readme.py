"""The README's code runs as printed: every ``python`` block, and the registration example
through the command line it documents."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *extra.get("PYTHONPATH", "").split(os.pathsep)]
    ).rstrip(os.pathsep)
    return env


def test_the_readme_has_its_examples():
    assert len(BLOCKS) >= 3
    assert sum("@register(" in b for b in BLOCKS) == 1


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_python_block_runs(i, tmp_path):
    code = BLOCKS[i]
    if "@register(" in code:
        pytest.skip("the registration example is run through the CLI below")
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]


def test_registration_example_runs_through_the_cli(tmp_path):
    (block,) = [b for b in BLOCKS if "@register(" in b]
    pkg = tmp_path / "mylab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "experiments.py").write_text(block)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "sciddm", "reproduce", "mylab", "--out", str(out), "--quiet"],
        cwd=tmp_path,
        env=_env(PYTHONPATH=str(tmp_path), SCIDDM_EXPERIMENTS="mylab.experiments"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    report = (out / "report.md").read_text()
    assert "mylab.mean" in report and "1 of 1 claims hold" in report
    assert (out / "report.html").exists() and (out / "claims.json").exists()
