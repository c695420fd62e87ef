"""benchmarks/gpu_run.sh --smoke runs on CPU; its time caps skip instead of overrunning."""

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest
import torch

from tests._proc import run_bounded

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_run.sh"


def _driver():
    spec = importlib.util.spec_from_file_location("gpu_run", ROOT / "benchmarks" / "gpu_run.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gpu_run"] = mod  # dataclasses look the module up
    spec.loader.exec_module(mod)
    return mod


def test_smoke_run_writes_every_section(tmp_path):
    pytest.importorskip("rdkit")
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = run_bounded(
        ["bash", str(SCRIPT), "--smoke", "--device", "cpu", "--out", str(tmp_path)],
        timeout=400, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((tmp_path / "gpu_run.json").read_text())
    md = (tmp_path / "gpu_run.md").read_text()
    assert res["smoke"] is True and res["env"]["device"] == "cpu"
    rows = {(r["model"], r["variant"]): r for r in res["train"]}
    assert rows[("tiny", "fp32")]["tokens_per_second"] > 0
    assert "skipped" in rows[("tiny", "bf16+compile")]
    assert {r["method"] for r in res["sample"]} == {"ancestral", "cached", "fhs"}
    assert all(r["samples_per_second"] > 0 for r in res["sample"])
    assert all(r["n_calls"] <= 17 for r in res["sample"])  # L = 16 calls (+1 ancestral)
    assert res["svdd"][0]["samples_per_second"] > 0
    assert res["moses"]["steps"] >= 1 and "MDLM (sciddm)" in res["moses"]["table"]
    assert "No GPU figure exists yet" in md  # said plainly while no GPU ran it
    assert "## Sampling throughput" in md and "CharRNN (MOSES paper)" in md


def test_time_caps_skip_instead_of_running():
    gr = _driver()
    sizes = gr.smoke_sizes()
    past = time.perf_counter() - 1.0
    dev = torch.device("cpu")
    assert all(r["skipped"] == "time cap" for r in gr.train_throughput(sizes, dev, past))
    assert all(r["skipped"] == "time cap" for r in gr.sample_throughput(sizes, dev, past))
    assert gr.svdd_throughput(sizes, dev, past)[0]["skipped"] == "time cap"
    clock = gr.Clock(0.0)
    assert clock.left() <= 0 and clock.section(100.0) <= time.perf_counter()
    md = gr.markdown({"smoke": True, "env": {"device": "cpu", "gpu": None},
                      "train": [{"model": "tiny", "variant": "fp32", "skipped": "time cap"}]})  # fmt: skip
    assert "skipped: time cap" in md and gr.NO_GPU_NOTE in md
