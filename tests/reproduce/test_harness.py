"""``sciddm reproduce`` as a user runs it: child processes, signals, resumed runs.

The experiments are the toys of ``tests/reproduce/toy_experiments.py``, added to the
CLI through ``SCIDDM_EXPERIMENTS``. Every wait is bounded (``tests/_proc.py``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests._proc import kill_group, run_bounded, start

REPO = Path(__file__).resolve().parents[2]
TOYS = "tests.reproduce.toy_experiments"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCIDDM_", "TOY_"))}
    env.update(
        PYTHONPATH=str(REPO),
        SCIDDM_EXPERIMENTS=TOYS,
        TOY_COUNTER=str(tmp_path / "counter.txt"),
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    env.update(extra)
    return env


def _sciddm(*args: str) -> list[str]:
    return [sys.executable, "-m", "sciddm", *args]


def _counts(tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "counter.txt"
    names = path.read_text().split() if path.exists() else []
    return {n: names.count(n) for n in set(names)}


def _wait_for(cond, proc, timeout: float) -> None:
    t_end = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"the run ended early ({proc.returncode}):\n{out}\n{err}")
        if time.monotonic() > t_end:
            kill_group(proc)
            raise AssertionError(f"nothing happened within {timeout} s")
        time.sleep(0.1)


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid`` (Linux /proc; else [])."""
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - somebody else's process now
        return False
    try:  # a zombie waiting for its reaper is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_keeps_finished_work_and_resume_skips_it(tmp_path, signum, code):
    out = tmp_path / "o"
    pids = tmp_path / "pids"
    pids.mkdir()
    env = _env(tmp_path, TOY_SLOW_SECONDS="120", TOY_PIDS=str(pids))
    proc = start(
        _sciddm("reproduce", "toy.first", "toy.slow", "toy.third", "--out", str(out)),
        env=env,
        cwd=tmp_path,
    )
    try:
        record = out / "experiments" / "toy.first.json"
        _wait_for(lambda: record.exists() and len(list(pids.glob("*.pid"))) >= 2, proc, 120)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert stderr.strip().splitlines()[-1].startswith("sciddm: interrupted by "), stderr
    # everything that finished is on disk, the run and the experiment are marked
    claims = json.loads((out / "claims.json").read_text())
    assert {c["experiment"] for c in claims} >= {"toy.first"}
    assert [c["claim"] for c in claims if c["experiment"] == "toy.first"][0].startswith("the ")
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted"
    slow = json.loads((out / "experiments" / "toy.slow.json").read_text())
    assert slow["status"] == "interrupted" and slow["claims"][0]["claim"] == "started"
    assert not (out / "experiments" / "toy.third.json").exists()
    report = (out / "report.md").read_text()
    assert "This run was interrupted" in report and "| toy.slow | interrupted |" in report.replace(
        "[toy.slow](#toyslow)", "toy.slow"
    )
    assert "interrupted" in (out / "report.html").read_text()
    log = (out / "sciddm-reproduce.log").read_text()
    assert "Traceback" in log and signal.Signals(signum).name in log
    # the loky workers the experiment started did not outlive the run
    # (and nothing else of the run's process group: resource trackers end with it)
    workers = [int(p.stem) for p in pids.glob("*.pid")]
    t_end = time.monotonic() + 20
    while (
        any(_alive(p) for p in workers) or _group_members(proc.pid)
    ) and time.monotonic() < t_end:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), workers
    assert not _group_members(proc.pid)
    assert _counts(tmp_path) == {"toy.first": 1, "toy.slow": 1}

    # --resume: the finished experiment is not run again; the rest is
    env["TOY_SLOW_SECONDS"] = "0"
    done = run_bounded(
        _sciddm("reproduce", "--resume", "--out", str(out), "--quiet"),
        timeout=180,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "1 reused" in done.stdout
    assert _counts(tmp_path) == {"toy.first": 1, "toy.slow": 2, "toy.third": 1}
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and run["reused"] == ["toy.first"]
    assert run["names"] == ["toy.first", "toy.slow", "toy.third"]
    claims = json.loads((out / "claims.json").read_text())
    assert [c["experiment"] for c in claims].count("toy.first") == 2
    assert {c["experiment"] for c in claims} == {"toy.first", "toy.slow", "toy.third"}


def test_default_folders_latest_and_plain_progress(tmp_path):
    env = _env(tmp_path, SCIDDM_PROGRESS_INTERVAL="0")
    outs = []
    for _ in range(2):
        done = run_bounded(
            _sciddm("reproduce", "toy.first", "other"), timeout=180, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        for stream in (done.stdout, done.stderr):
            assert "\r" not in stream and "\x1b" not in stream
        assert "[reproduce] 1/2 toy.first done in " in done.stderr
        assert "(1/2 claims hold)" in done.stderr
        assert "[toy loop] 3/3" in done.stderr  # the experiment's own (inner) progress
        outs.append(Path(done.stdout.split("report: ")[1].split()[0]).parent)
    results = tmp_path / "results"
    runs = sorted(p for p in results.iterdir() if p.name != "latest")
    assert len(runs) == 2 and [r.name for r in runs] == sorted(o.name for o in outs)
    for r in runs:
        assert (r / "report.md").exists() and (r / "report.html").exists()
    assert (results / "latest").resolve() == (tmp_path / outs[1]).resolve()
    assert _counts(tmp_path) == {"toy.first": 2, "other.solo": 2}
    # --resume without --out continues results/latest: the same names, nothing re-run
    done = run_bounded(
        _sciddm("reproduce", "--resume", "--quiet"), timeout=180, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "2 reused" in done.stdout and outs[1].name in done.stdout
    assert _counts(tmp_path) == {"toy.first": 2, "other.solo": 2}
    assert len([p for p in results.iterdir() if p.name != "latest"]) == 2


def test_reproduce_imports_only_the_experiment_modules_it_runs(tmp_path):
    code = (
        "import sys\n"
        "from sciddm.cli import main\n"
        "rc = main(['reproduce', 'sensitivity.hypercube', '--quiet', '--out', 'o'])\n"
        "mods = sorted(m for m in sys.modules if m.startswith('sciddm.reproduce.')\n"
        "              and not m.rsplit('.', 1)[1].startswith('_'))\n"
        "print(rc, mods)\n"
    )
    env = _env(tmp_path)
    del env["SCIDDM_EXPERIMENTS"]
    done = run_bounded([sys.executable, "-c", code], timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 ['sciddm.reproduce.sensitivity']"
    assert json.loads((tmp_path / "o" / "run.json").read_text())["status"] == "complete"


def test_user_experiments_in_list(tmp_path):
    done = run_bounded(_sciddm("list"), timeout=120, env=_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "toy.first" in done.stdout and "sensitivity.hypercube" in done.stdout
    bad = run_bounded(
        _sciddm("list"),
        timeout=120,
        cwd=tmp_path,
        env=_env(tmp_path, SCIDDM_EXPERIMENTS="no_such_module_xyz"),
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "no_such_module_xyz" in bad.stderr and "Traceback" not in bad.stderr
