"""Run every benchmark in ``benchmarks/`` and write one markdown table of their ratios.

Each ``bench_*.py`` runs in its own child process (a fresh interpreter, so that one
benchmark's imports, caches and thread pools cannot change another's), from the
repository root with this checkout's ``sciddm`` first on ``PYTHONPATH``, under a time
limit, with the same thread settings for all: every BLAS/OpenMP pool and torch limited to
one thread through the environment (``OMP_NUM_THREADS`` etc., printed), which is also what
each benchmark pins with threadpoolctl for both of its sides.

The convention a benchmark follows (see ``benchmarks/README.md``): a ``--quick`` flag (and
``main(quick=False)``), the thread settings printed, and a last line
``SUMMARY {json}`` whose ratio entries are named ``<a>_over_<b>[_qualifier]``
(time of a / time of b) or ``<a>_vs_<b>[_qualifier]`` (time of b / time of a: how many
times faster a is), or are described in :data:`LABELS` or in the summary's own
``"labels"`` mapping. A benchmark without the convention is run only without ``--quick``,
and its printed lines of the form ``... ratio ... = <number>`` are taken as its ratios.

Usage::

    python benchmarks/run_all.py --quick                   # table on stdout
    python benchmarks/run_all.py --quick --out perf.md     # table into a file
    python benchmarks/run_all.py --readme                  # rewrite README.md's section
    python benchmarks/run_all.py --only leastsquares sensitivity

``--readme`` replaces what lies between the lines ``<!-- performance:start -->`` and
``<!-- performance:end -->`` of README.md (an error if they are missing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START, END = "<!-- performance:start -->", "<!-- performance:end -->"
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
# readable descriptions of the ratio keys of the benchmarks' summaries (first match wins);
# groups of the pattern fill the {} of the text
LABELS: list[tuple[str, str]] = [
    (r"dpp_over_matmul_cpu_N(1000|2000)$",
     "time(projection-DPP sample) / time(one N x N matmul), N = {}, CPU time; goal <= 3"),
    (r"dpp_over_matmul_cpu_N(\d+)",
     "time(projection-DPP sample) / time(one N x N matmul), N = {}, CPU time"),
    (r"dpp_total_degree_over_matmul_cpu_m(\d+)",
     "time(projection-DPP sample, total-degree index set: no separable kernel) / "
     "time(one m x m matmul), m = {}, CPU time"),
    (r"dppy_over_dpp_cpu_N(\d+)",
     "time(DPPy MultivariateJacobiOPE) / time(sciddm projection DPP), N = {}, CPU time"),
    (r"lev_over_gram_cpu", "time(exact leverage scores) / time(one A^T A), CPU time; goal <= 2.5"),
    (r"qr_over_lev_cpu", "time(numpy Householder-QR leverage) / time(sciddm leverage), CPU time"),
    (r"lewis1_damped_levs_cpu",
     "time(Lewis weights p = 1, damped iteration) / time(leverage scores), CPU time"),
    (r"lewis(\d+)_tol(.+)_levs_cpu",
     "time(Lewis weights p = {}, tol {}) / time(leverage scores), CPU time"),
    (r"fit_over_curve_fit", "time(fit_learning_curve) / time(scipy curve_fit, trf)"),
    (r"allocate_(\w+)_over_slsqp_G(\d+)", "time(allocate, {}) / time(scipy SLSQP), {} groups"),
    (r"greedy_loop_over_jump_B(.+)",
     "time(one-at-a-time greedy loop) / time(greedy_allocate), budget {}"),
    (r"chem_nocache_vs_rdkit_loop", "time(RDKit QED + SA loop) / time(ChemReward, no cache)"),
    (r"chem_warm_cache_vs_rdkit_loop", "time(RDKit QED + SA loop) / time(ChemReward, warm cache)"),
    (r"pool_speedup_by_batch\[(\d+)\]",
     "time(ChemReward, 1 process) / time(process pool), batch {}, wall time"),
    (r"pwm_vs_biopython", "time(Biopython PSSM loop) / time(sciddm pwm_scores)"),
]  # fmt: skip
_NOT_RATIOS = {"bench", "quick", "threads", "labels"}


@dataclass
class Row:
    bench: str
    compared: str
    ratio: str
    settings: str


@dataclass
class Outcome:
    bench: str
    seconds: float = 0.0
    rows: list[Row] = field(default_factory=list)
    note: str = ""


def describe(key: str, labels: dict[str, str]) -> str | None:
    """What a summary key compares, as ``time(a) / time(b)`` text; None if not a ratio."""
    if key in labels:
        return labels[key]
    for pattern, text in LABELS:
        m = re.fullmatch(pattern, key)
        if m:
            return text.format(*m.groups())
    m = re.fullmatch(r"(.+?)_(over|vs)_(.+)", key)
    if m is None:
        return None
    a, how, b = m.group(1), m.group(2), m.group(3)
    a, b = a.replace("_", " "), b.replace("_", " ")
    return f"time({a}) / time({b})" if how == "over" else f"time({b}) / time({a})"


def _threads(value: Any) -> str:
    if isinstance(value, int):
        return f"{value} thread{'s' * (value != 1)}"
    if isinstance(value, dict):
        pools = value.get("threadpools")
        pools = ", ".join(pools) if isinstance(pools, list) else ""
        torch = f", torch {value['torch_threads']}" if "torch_threads" in value else ""
        return f"threads: {pools}{torch}".strip()
    return "threads as in the environment"


def _sizes(key: str, summary: dict[str, Any]) -> str:
    """Size entries of the summary that belong to ``key`` (``n``, ``d``, ``<prefix>_n``)."""
    prefix = key.split("_")[0]
    out = []
    for k, v in summary.items():
        if isinstance(v, int) and not isinstance(v, bool):
            if k in ("n", "d", "G") or k in (f"{prefix}_n", f"{prefix}_d"):
                out.append(f"{k.split('_')[-1]} = {v:,}")
    return ", ".join(out)


def rows_from_summary(bench: str, summary: dict[str, Any]) -> list[Row]:
    """The ratio rows of one ``SUMMARY`` (nested numeric dicts give one row per entry)."""
    labels = summary.get("labels") or {}
    mode = "quick" if summary.get("quick") else "full"
    threads = _threads(summary.get("threads"))
    flat: list[tuple[str, Any, str]] = []
    for key, value in summary.items():
        if key in _NOT_RATIOS:
            continue
        if isinstance(value, dict):
            flat += [(f"{key}[{k}]", v, key) for k, v in value.items()]
        else:
            flat.append((key, value, key))
    rows = []
    for key, value, base in flat:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        text = describe(key, labels)
        if text is None:
            continue
        settings = ", ".join(filter(None, [mode, threads, _sizes(base, summary)]))
        rows.append(Row(bench, text, f"{value:.3g}", settings))
    return sorted(rows, key=lambda r: _natural(r.compared))


def _natural(text: str) -> list[Any]:
    """Sort key that orders "3 groups" before "10 groups"."""
    return [
        (0, float(t), "") if t[0].isdigit() else (1, 0.0, t)
        for t in re.findall(r"\d+\.?\d*|\D+", text)
    ]


_RATIO_LINE = re.compile(
    r"^\s*(?P<label>.*?\bratio\b.*?)\s*[=:]\s*(?P<value>[0-9][0-9,]*\.?[0-9]*)x?\b"
)


def rows_from_text(bench: str, text: str) -> list[Row]:
    """Rows of a benchmark without a SUMMARY line: its ``... ratio ... = <number>`` lines."""
    rows = []
    for line in text.splitlines():
        m = _RATIO_LINE.match(line)
        if m:
            label = " ".join(m.group("label").split())
            rows.append(Row(bench, label, m.group("value"), "as printed (no SUMMARY line)"))
    return rows


def follows_convention(path: Path) -> bool:
    src = path.read_text()
    return "--quick" in src and ("print_summary" in src or '"SUMMARY "' in src)


def _run_child(cmd: list[str], timeout: float, log: Path | None) -> tuple[int | None, str, float]:
    """Run ``cmd`` in its own process group; on time-out the whole group is killed."""
    env = {**os.environ, **THREAD_ENV, "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        code = None
    seconds = time.perf_counter() - t0
    if log is not None:
        log.write_text(out)
    return code, out, seconds


def run_one(path: Path, quick: bool, timeout: float, log_dir: Path | None) -> Outcome:
    bench = path.stem.removeprefix("bench_")
    conforming = follows_convention(path)
    if quick and not conforming:
        return Outcome(bench, note="skipped: no --quick flag and SUMMARY line yet")
    cmd = [sys.executable, str(path)] + (["--quick"] if quick else [])
    log = log_dir / f"{path.stem}.log" if log_dir else None
    code, out, seconds = _run_child(cmd, timeout, log)
    if code is None:
        return Outcome(bench, seconds, note=f"timed out after {timeout:.0f} s")
    if code != 0:
        tail = out.strip().splitlines()[-1:] or ["(no output)"]
        return Outcome(bench, seconds, note=f"failed (exit {code}): {tail[0][:120]}")
    summaries = [ln for ln in out.splitlines() if ln.startswith("SUMMARY ")]
    if summaries:
        rows = rows_from_summary(bench, json.loads(summaries[-1][len("SUMMARY ") :]))
    else:
        rows = rows_from_text(bench, out)
    return Outcome(bench, seconds, rows, "" if rows else "no ratios found in its output")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {os.cpu_count()} CPUs ({usable} usable), load average {load} at start"


def _versions() -> str:
    import numpy
    import scipy

    parts = [
        f"Python {platform.python_version()}",
        f"numpy {numpy.__version__}",
        f"scipy {scipy.__version__}",
    ]
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return ", ".join(parts)


def _cell(text: str) -> str:
    """A table cell's text with its pipes escaped (``|V| = 1024`` must not split the row)."""
    return text.replace("|", "\\|")


def markdown(outcomes: list[Outcome], quick: bool, header: dict[str, str]) -> str:
    """The table (one row per ratio), then the benchmarks without rows and why."""
    lines = [
        f"Generated by `python benchmarks/run_all.py{' --quick' if quick else ''}` on "
        f"{header['date']}: {header['machine']}; {header['versions']}. Every benchmark ran in "
        f"its own process with {header['threads']}; those that follow the convention also pin "
        "their BLAS/OpenMP pools (threadpoolctl) and torch to one thread for both sides. A "
        "ratio is time(first) / time(second), so above 1 means the second is faster.",
        "",
        "| Benchmark | What is compared | Ratio | Settings |",
        "|---|---|---:|---|",
    ]
    for o in outcomes:
        lines += [
            "| " + " | ".join(_cell(c) for c in (r.bench, r.compared, r.ratio, r.settings)) + " |"
            for r in o.rows
        ]
    notes = [f"- {o.bench}: {o.note}" for o in outcomes if o.note]
    if notes:
        lines += ["", "Not in the table:", "", *notes]
    return "\n".join(lines) + "\n"


def rewrite_readme(readme: Path, table: str) -> None:
    """Replace the text between the performance markers of ``readme`` by ``table``."""
    text = readme.read_text()
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(
            f"{readme} must contain the lines {START} and {END} (once each, in that order) "
            "around its performance section"
        )
    head, rest = text.split(START)
    _, tail = rest.split(END)
    readme.write_text(f"{head}{START}\n{table}{END}{tail}")


def main(argv: list[str] | None = None) -> list[Outcome]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="run each benchmark with --quick")
    ap.add_argument("--out", type=Path, help="write the markdown table here (default: stdout)")
    ap.add_argument(
        "--readme", nargs="?", const=ROOT / "README.md", type=Path, metavar="PATH",
        help="rewrite the performance section of README.md (or PATH) between its markers",
    )  # fmt: skip
    ap.add_argument(
        "--only", nargs="+", metavar="NAME", help="benchmarks to run (e.g. leastsquares)"
    )
    ap.add_argument(
        "--timeout", type=float, help="seconds per benchmark (default 600 quick, 3600 full)"
    )
    ap.add_argument("--log-dir", type=Path, help="keep each benchmark's full output here")
    args = ap.parse_args(argv)
    timeout = args.timeout or (600.0 if args.quick else 3600.0)
    paths = sorted(HERE.glob("bench_*.py"))
    if args.only:
        names = {p.stem.removeprefix("bench_"): p for p in paths}
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            ap.error(f"unknown benchmark(s) {unknown}; choose from {sorted(names)}")
        paths = [names[n] for n in args.only]
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    threads = ", ".join(f"{k}={v}" for k, v in THREAD_ENV.items())
    header = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "versions": _versions(),
        "threads": threads,
    }
    print(f"thread settings for every benchmark: {threads}", file=sys.stderr)
    print(f"machine: {header['machine']}; {header['versions']}", file=sys.stderr)
    outcomes = []
    for path in paths:
        print(f"{path.name} ...", end=" ", file=sys.stderr, flush=True)
        o = run_one(path, args.quick, timeout, args.log_dir)
        print(f"{o.seconds:.0f} s, {len(o.rows)} ratios {o.note}", file=sys.stderr, flush=True)
        outcomes.append(o)
    table = markdown(outcomes, args.quick, header)
    if args.out:
        args.out.write_text(table)
    if args.readme:
        rewrite_readme(args.readme, table)
    if not args.out and not args.readme:
        print(table, end="")
    return outcomes


if __name__ == "__main__":
    main()
