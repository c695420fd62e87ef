"""Two gloo processes (the torchrun code path) give the single-process gradients."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests._proc import kill_group, run_bounded, start

ROOT = Path(__file__).resolve().parents[2]
DNA = ["".join(np.random.default_rng(i).choice(list("ACGT"), 10)) for i in range(48)]
CFG = dict(
    data=tuple(DNA),
    d_model=32,
    n_layers=1,
    n_heads=2,
    batch_size=8,
    steps=4,
    warmup_steps=1,
    val_fraction=0.25,
    grad_clip=0.5,
    seed=3,
)


def _two_steps(cfg_kw):
    """Gradients of steps 0 and 1 (with an optimiser step between) and the losses."""
    from sciddm.discrete import TrainConfig
    from sciddm.discrete._training import Trainer

    tr = Trainer(TrainConfig(**cfg_kw))
    out = {}
    for step in (0, 1):
        out[f"loss{step}"] = torch.tensor(tr.forward_backward(step))
        for n, p in tr.model.named_parameters():
            out[f"{step}.{n}"] = p.grad.detach().clone()
        tr.step = step
        tr.clip_gradients()
        tr.apply_step()
    for n, p in tr.model.named_parameters():
        out[f"param.{n}"] = p.detach().clone()
    tr.close()
    return out


def _worker(path):  # run in each child process, with torchrun's environment variables
    import datetime

    import torch.distributed as dist

    torch.set_num_threads(1)
    # a bounded wait: a rank that cannot reach the other fails instead of hanging
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    try:
        out = _two_steps({**CFG, "grad_accum": 2})  # the trainer joins the existing group
    finally:
        dist.destroy_process_group()
    torch.save(out, path)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_ranks(tmp_path, world=2, timeout=240):
    """Run ``world`` gloo ranks as child processes; every wait is bounded."""
    base = {
        **os.environ,
        "WORLD_SIZE": str(world),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        # gloo would otherwise resolve the host name, which may not resolve in a sandbox
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PYTHONWARNINGS": "ignore",
    }
    children = []
    for rank in range(world):
        code = (
            "from tests.discrete.test_train_ddp import _worker; "
            f"_worker({str(tmp_path / f'r{rank}.pt')!r})"
        )
        env = {**base, "RANK": str(rank), "LOCAL_RANK": str(rank)}
        children.append(
            start([sys.executable, "-c", code], env=env, cwd=ROOT, stderr=subprocess.STDOUT)
        )
    try:
        outs = [c.communicate(timeout=timeout)[0] for c in children]
    finally:
        for c in children:  # a failed rank leaves the other waiting on the collective
            if c.poll() is None:
                kill_group(c)
    for rank, (c, out) in enumerate(zip(children, outs)):
        assert c.returncode == 0, f"rank {rank}:\n{out[-3000:]}"
    return [torch.load(tmp_path / f"r{rank}.pt", weights_only=True) for rank in range(world)]


@pytest.mark.distributed
def test_gloo_ddp_matches_single_process_gradients(tmp_path):
    rank0, rank1 = _run_ranks(tmp_path)
    single = _two_steps(CFG)  # one process, no accumulation
    lr = 3e-4
    for key, want in single.items():
        assert torch.equal(rank0[key], rank1[key]), key  # replicas stay identical
        if key.startswith("param."):
            # Adam moves each weight by at most ~lr per step; tiny gradients (e.g. the key
            # bias, which softmax ignores) may flip sign with summation order
            torch.testing.assert_close(rank0[key], want, rtol=0, atol=4 * lr, msg=key)
        else:
            torch.testing.assert_close(rank0[key], want, rtol=1e-5, atol=1e-7, msg=key)


@pytest.mark.slow
@pytest.mark.distributed
def test_torchrun_cli_runs_and_matches_one_process(tmp_path):
    from sciddm.discrete import load_model

    f = tmp_path / "seqs.txt"
    f.write_text("\n".join(DNA))
    common = [
        "--steps",
        "3",
        "--batch-size",
        "8",
        "--d-model",
        "32",
        "--n-heads",
        "2",
        "--n-layers",
        "1",
        "--val-fraction",
        "0.25",
        "--quiet",
        "--seed",
        "3",
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "GLOO_SOCKET_IFNAME": "lo",
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "sciddm.discrete.training",
        str(f),
        *common,
        "--out-dir",
        str(tmp_path / "ddp"),
    ]
    proc = run_bounded(cmd, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    one = [
        sys.executable,
        "-m",
        "sciddm.discrete.training",
        str(f),
        *common,
        "--out-dir",
        str(tmp_path / "one"),
    ]
    proc = run_bounded(one, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ck = [torch.load(tmp_path / d / "checkpoint.pt", weights_only=True) for d in ("ddp", "one")]
    assert ck[0]["world_size"] == 2 and ck[1]["world_size"] == 1
    np.testing.assert_allclose(ck[0]["history"]["loss"], ck[1]["history"]["loss"], rtol=1e-5)
    assert load_model(tmp_path / "ddp").tokenizer == load_model(tmp_path / "one").tokenizer
