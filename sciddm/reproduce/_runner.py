"""The crash-safe run loop behind ``sciddm reproduce``.

For every selected experiment, in order:

1. with ``resume``, an earlier record of it in ``<out>/experiments/`` that
   finished (``"ok"``/``"skipped"``) with the same sciddm version, mode, seed,
   device and parameters is reused instead of running it again;
2. otherwise it runs, and its record (the :class:`ExperimentRun` as JSON) is
   written atomically to ``<out>/experiments/<name>.json`` as soon as it ends;
3. ``report.md``, ``report.html``, ``claims.json`` and ``run.json`` are
   rewritten, so the folder always holds the report of what has finished.

An exception inside an experiment marks it ``"error"`` (traceback in
``<out>/sciddm-reproduce.log``) and the run goes on. SIGINT or SIGTERM stops the
run: the running experiment is recorded as ``"interrupted"`` with what it had
measured, the run is marked interrupted in the report, joblib's worker
processes are shut down, and the exit status is 130 (SIGINT) or 143 (SIGTERM).
A second signal during that clean-up exits at once.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from sciddm import __version__
from sciddm._core.io import atomic_write_text
from sciddm.reproduce._console import ConsoleLogHandler, RunProgress
from sciddm.reproduce._env import collect_environment
from sciddm.reproduce._outdir import RECORDS
from sciddm.reproduce._registry import (
    Experiment,
    ExperimentRun,
    collect_run,
    execute,
    make_context,
    missing_requirements,
)
from sciddm.reproduce._report import write_report

__all__ = ["LOG_NAME", "RunInterrupted", "RunSettings", "record_path", "run_all"]

logger = logging.getLogger(__name__)

#: The log file of a run, inside its folder.
LOG_NAME = "sciddm-reproduce.log"
_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class RunInterrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT or SIGTERM during a run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclasses.dataclass
class RunSettings:
    """What ``sciddm reproduce`` was asked to do."""

    names: list[str]
    out: Path
    mode: str = "quick"
    seed: int = 0
    device: str = "cpu"
    n_jobs: int = 1
    resume: bool = False
    progress: bool = True
    command: str = "sciddm reproduce"
    requested: str = "all"
    registered: int = 0


def record_path(out: Path, name: str) -> Path:
    """Where the record of experiment ``name`` is written."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Path(out) / RECORDS / f"{safe}.json"


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str, allow_nan=True))


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def load_reusable(
    out: Path, exp: Experiment, s: RunSettings
) -> tuple[ExperimentRun | None, str | None]:
    """The earlier record of ``exp`` that ``--resume`` may reuse, or why not."""
    path = record_path(out, exp.name)
    if not path.exists():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        run = ExperimentRun.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return None, f"unreadable record ({exc})"
    want = {
        "sciddm_version": __version__,
        "mode": s.mode,
        "seed": s.seed,
        "device": s.device,
        "params": _jsonable(exp.params(s.mode)),
    }
    for key, value in want.items():
        if data.get(key) != value:
            return None, f"{key} differs"
    if run.status not in ("ok", "skipped"):
        return None, f"status was {run.status}"
    if run.status == "skipped" and not missing_requirements(exp):
        return None, "its requirements are installed now"
    return run, None


def save_record(out: Path, run: ExperimentRun) -> None:
    """Write the record of ``run`` atomically."""
    data = run.to_dict()
    data["figures"] = {k: v for k, v in data["figures"].items() if isinstance(v, str)}
    atomic_write_text(
        record_path(out, run.name), json.dumps(_jsonable(data), indent=1, allow_nan=True) + "\n"
    )


@contextmanager
def _signals(on_signal: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Install ``on_signal`` for SIGINT and SIGTERM (main thread only), then restore."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in _EXIT}
    for s in _EXIT:
        signal.signal(s, on_signal)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class _FirstLine(logging.Formatter):
    """Console format: the first line of the message only (tracebacks go to the log file)."""

    def format(self, record: logging.LogRecord) -> str:
        first = record.getMessage().split("\n", 1)[0]
        return f"{record.levelname} {record.name}: {first}"


@contextmanager
def _run_logging(out: Path, progress: RunProgress) -> Iterator[logging.Handler]:
    """Log everything (INFO and up, warnings included) to the run's log file, and
    warnings and errors (their first line) to the console."""
    root = logging.getLogger()
    fh = logging.FileHandler(out / LOG_NAME, encoding="utf-8")
    fh.setLevel(logging.INFO)
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = ConsoleLogHandler(progress, logging.WARNING)
    console.setFormatter(_FirstLine())
    old_level = root.level
    root.addHandler(fh)
    root.addHandler(console)
    root.setLevel(min(old_level or logging.WARNING, logging.INFO))
    logging.captureWarnings(True)
    try:
        yield fh
    finally:
        logging.captureWarnings(False)
        root.removeHandler(console)
        root.removeHandler(fh)
        root.setLevel(old_level)
        fh.close()


def shutdown_worker_pools(timeout: float = 3.0) -> int:
    """Stop the worker processes that experiments started; return how many.

    joblib's reusable loky executor is shut down with its workers killed, then
    every remaining :mod:`multiprocessing` child (a loky worker that was still
    starting, a pool of the experiment's own) is terminated, waiting at most
    ``timeout`` seconds before killing it.
    """
    mod = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(mod, "_executor", None) if mod is not None else None
    if executor is not None:
        with suppress(Exception):
            executor.shutdown(wait=False, kill_workers=True)
    if "multiprocessing" not in sys.modules:
        return 0
    import multiprocessing

    children = multiprocessing.active_children()
    for p in children:
        with suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in children:
        with suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(0.5)
    return len(children)


class _Run:
    """State of one ``run_all`` call."""

    def __init__(
        self, s: RunSettings, experiments: Mapping[str, Experiment], stream: TextIO
    ) -> None:
        self.s = s
        self.experiments = experiments
        self.stream = stream
        self.runs: dict[str, ExperimentRun] = {}
        self.reused: list[str] = []
        self.status = "running"
        self.started = _now()
        self.t0 = time.perf_counter()
        self.stopping = False
        self.env = collect_environment(
            mode=s.mode, seed=s.seed, device=s.device, n_jobs=s.n_jobs, command=s.command
        )

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:  # a second signal while cleaning up: leave now
            self.stream.write(f"sciddm: {signal.Signals(signum).name} again, exiting now\n")
            self.stream.flush()
            os._exit(_EXIT.get(signal.Signals(signum), 130))
        self.stopping = True
        raise RunInterrupted(signum)

    def meta(self) -> dict[str, Any]:
        s = self.s
        done = sum(r.status != "interrupted" for r in self.runs.values())
        meta: dict[str, Any] = {
            "status": self.status,
            "started": self.started,
            "updated": _now(),
            "total time (s)": round(time.perf_counter() - self.t0, 1),
            "experiments": f"{done} of {len(s.names)} finished",
            "requested": s.requested,
            "registered": s.registered,
            "log": LOG_NAME,
        }
        if self.reused:
            meta["reused from the earlier run"] = len(self.reused)
        return meta

    def write(self) -> None:
        """Bring ``run.json`` and the report up to date (errors are logged, not raised)."""
        meta = self.meta()
        info = {
            **meta,
            "format": 1,
            "sciddm_version": __version__,
            "mode": self.s.mode,
            "seed": self.s.seed,
            "device": self.s.device,
            "n_jobs": self.s.n_jobs,
            "command": self.s.command,
            "environment": self.env,
            "names": list(self.s.names),
            "reused": list(self.reused),
        }
        try:
            atomic_write_text(self.s.out / "run.json", json.dumps(_jsonable(info), indent=1))
            runs = [self.runs[n] for n in self.s.names if n in self.runs]
            write_report(self.s.out, runs, meta, environment=self.env)
        except OSError as exc:
            logger.error("could not write the report into %s: %s", self.s.out, exc)

    def one(self, i: int, name: str, progress: RunProgress) -> None:
        exp = self.experiments[name]
        if self.s.resume:
            old, why = load_reusable(self.s.out, exp, self.s)
            if old is not None:
                self.runs[name] = old
                self.reused.append(name)
                logger.info("%s: reusing the earlier record", name)
                progress.done(i, old, reused=True)
                return
            if why:
                logger.info("%s: running again (%s)", name, why)
        progress.start(i, name)
        ctx = make_context(
            exp,
            mode=self.s.mode,
            seed=self.s.seed,
            device=self.s.device,
            n_jobs=self.s.n_jobs,
            progress=self.s.progress,
            figure_dir=self.s.out / "figures",
        )
        logger.info("%s: started (%s, params %s)", name, self.s.mode, ctx.params)
        t0 = time.perf_counter()
        try:
            run = execute(exp, ctx)
        except KeyboardInterrupt as exc:
            signame = signal.Signals(getattr(exc, "signum", signal.SIGINT)).name
            run = collect_run(
                exp, ctx, "interrupted", time.perf_counter() - t0, f"interrupted by {signame}"
            )
            self.runs[name] = run
            logger.info("%s: interrupted by %s:\n%s", name, signame, traceback.format_exc())
            with suppress(OSError):
                save_record(self.s.out, run)
            raise
        self.runs[name] = run
        logger.info("%s: %s in %.1f s", name, run.status, run.seconds)
        try:
            save_record(self.s.out, run)
        except OSError as exc:
            logger.error("could not write the record of %s: %s", name, exc)
        progress.done(i, run)

    def loop(self, progress: RunProgress) -> int | None:
        """Run everything; the exit status on interrupt, else ``None``."""
        try:
            self.write()
            for i, name in enumerate(self.s.names, 1):
                self.one(i, name, progress)
                self.write()
        except KeyboardInterrupt as exc:
            self.stopping = True
            signum = getattr(exc, "signum", signal.SIGINT)
            logger.info(
                "run interrupted by %s:\n%s", signal.Signals(signum).name, traceback.format_exc()
            )
            progress.close()
            shutdown_worker_pools()
            for run in self.runs.values():
                if not record_path(self.s.out, run.name).exists():
                    with suppress(OSError):
                        save_record(self.s.out, run)
            self.status = "interrupted"
            self.write()
            return _EXIT.get(signal.Signals(signum), 130)
        self.status = "complete"
        progress.close()
        self.write()
        return None


def run_all(
    settings: RunSettings,
    experiments: Mapping[str, Experiment],
    *,
    stream: TextIO | None = None,
) -> tuple[int, dict[str, ExperimentRun], str]:
    """Run ``settings.names`` into ``settings.out``; return (exit status, runs, summary).

    The exit status is 0 when every experiment finished without an exception,
    1 when one raised, 130/143 on SIGINT/SIGTERM. ``summary`` is the one line
    to print at the end.
    """
    s = settings
    stream = sys.stderr if stream is None else stream
    (s.out / RECORDS).mkdir(parents=True, exist_ok=True)
    (s.out / "figures").mkdir(exist_ok=True)
    state = _Run(s, experiments, stream)
    progress = RunProgress(len(s.names), enabled=s.progress, stream=stream)
    with _run_logging(s.out, progress), _signals(state.on_signal):
        logger.info("sciddm reproduce: %s into %s", s.command, s.out)
        code = state.loop(progress)
    runs = {n: state.runs[n] for n in s.names if n in state.runs}
    report = s.out / "report.md"
    if code is not None:
        current = [r.name for r in runs.values() if r.status == "interrupted"]
        during = f" during {current[0]}" if current else ""
        done = sum(r.status != "interrupted" for r in runs.values())
        signame = "SIGINT" if code == 130 else "SIGTERM"
        return (
            code,
            runs,
            (
                f"sciddm: interrupted by {signame}{during}; {done} of {len(s.names)} experiment(s) "
                f"finished, report: {report}; continue with --resume --out {s.out}"
            ),
        )
    n_claims = sum(len(r.claims) for r in runs.values())
    n_hold = sum(c.holds for r in runs.values() for c in r.claims)
    errors = [r.name for r in runs.values() if r.status == "error"]
    reused = f" ({len(state.reused)} reused)" if state.reused else ""
    line = f"{len(runs)} experiment(s){reused}, {n_hold}/{n_claims} claims hold; report: {report}"
    return (1 if errors else 0), runs, line
