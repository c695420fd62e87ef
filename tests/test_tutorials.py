"""Execute every tutorial with SCIDDM_FAST=1 and the Agg backend."""

import os
import sys
from pathlib import Path

import pytest

from tests._proc import run_bounded

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))


def test_there_are_tutorials():
    assert TUTORIALS, "tutorials/ holds no NN_topic.py file"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {
        **os.environ,
        "SCIDDM_FAST": "1",
        "MPLBACKEND": "Agg",
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": pythonpath,
        # one BLAS/OpenMP/torch thread per tutorial unless the caller chose: the tests run
        # two at a time (pytest -n 2), and oversubscribed threads made them 3-8x slower
        **{
            k: os.environ.get(k, "1")
            for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
    }
    proc = run_bounded([sys.executable, str(path)], cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, (
        f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_is_percent_format(path):
    text = path.read_text()
    assert text.count("# %% [markdown]") >= 2, "a tutorial alternates markdown and code cells"
    assert "# %%\n" in text
