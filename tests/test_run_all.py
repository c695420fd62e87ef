"""benchmarks/run_all.py: reading the benchmarks' summaries, running them, the README section.

No benchmark of the library is run here (and nothing is timed): the child processes are
tiny stand-in scripts.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
run_all = importlib.util.module_from_spec(_spec)
sys.modules["run_all"] = run_all  # dataclasses look their module up
_spec.loader.exec_module(run_all)


def test_describe_known_generic_and_non_ratio_keys():
    assert run_all.describe("dpp_over_matmul_cpu_N1000", {}) == (
        "time(projection-DPP sample) / time(one N x N matmul), N = 1000, CPU time; goal <= 3"
    )
    # the goal is stated at N = 1000 and 2000 only
    assert run_all.describe("dpp_over_matmul_cpu_N300", {}) == (
        "time(projection-DPP sample) / time(one N x N matmul), N = 300, CPU time"
    )
    assert run_all.describe("dpp_total_degree_over_matmul_cpu_m990", {}) == (
        "time(projection-DPP sample, total-degree index set: no separable kernel) / "
        "time(one m x m matmul), m = 990, CPU time"
    )
    assert run_all.describe("lewis1_damped_levs_cpu", {}).startswith(
        "time(Lewis weights p = 1, damped"
    )
    assert run_all.describe("lewis6_tol1e-8_levs_cpu", {}) == (
        "time(Lewis weights p = 6, tol 1e-8) / time(leverage scores), CPU time"
    )
    assert run_all.describe("foo_over_bar_baz", {}) == "time(foo) / time(bar baz)"
    assert run_all.describe("ours_vs_theirs", {}) == "time(theirs) / time(ours)"
    assert run_all.describe("iid_points_per_cpu_s", {}) is None
    assert run_all.describe("iid_points_per_cpu_s", {"iid_points_per_cpu_s": "x"}) == "x"


def test_rows_from_summary():
    summary = {
        "bench": "demo",
        "quick": True,
        "threads": 1,
        "pwm_n": 5000,
        "pwm_vs_biopython": 71.234,
        "pool_speedup_by_batch": {"250": 0.5, "1000": 1.25},
        "greedy_same_B1e+03": True,
        "iid_points_per_cpu_s": 12345,
        "allocate_maxmin_over_slsqp_G10": 0.02,
        "allocate_maxmin_over_slsqp_G3": 0.03,
    }
    rows = run_all.rows_from_summary("demo", summary)
    got = {r.compared: (r.ratio, r.settings) for r in rows}
    assert got["time(Biopython PSSM loop) / time(sciddm pwm_scores)"] == (
        "71.2",
        "quick, 1 thread, n = 5,000",
    )
    assert (
        got["time(ChemReward, 1 process) / time(process pool), batch 1000, wall time"][0] == "1.25"
    )
    assert len(rows) == 5  # the bool and the throughput are not ratios
    compared = [r.compared for r in rows]
    assert compared.index("time(allocate, maxmin) / time(scipy SLSQP), 3 groups") < compared.index(
        "time(allocate, maxmin) / time(scipy SLSQP), 10 groups"
    )
    assert "torch 1" in run_all._threads({"threadpools": ["openblas:1"], "torch_threads": 1})


def test_rows_from_printed_ratio_lines():
    text = (
        "mixture (clean data, n=2000)\n"
        "  time ratio sciddm/sklearn = 0.85  (0.1s vs 0.2s)\n"
        "     2 ratio time(ancestral 1000)/time(fhs)        = 5.21\n"
        "ratio time(sciddm svdd-pm) / time(svdd-ref):   1.07\n"
        "no number here\n"
    )
    rows = run_all.rows_from_text("legacy", text)
    assert [(r.compared, r.ratio) for r in rows] == [
        ("time ratio sciddm/sklearn", "0.85"),
        ("2 ratio time(ancestral 1000)/time(fhs)", "5.21"),
        ("ratio time(sciddm svdd-pm) / time(svdd-ref)", "1.07"),
    ]


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"bench_{name}.py"
    path.write_text(
        "import json, os, sys, time\nquick = '--quick' in sys.argv  # the convention\n" + body
    )
    return path


def test_run_one_runs_conforming_scripts_with_pinned_threads(tmp_path):
    path = _script(
        tmp_path,
        "ok",
        "print('SUMMARY ' + json.dumps({'bench': 'ok', 'quick': quick, "
        "'threads': int(os.environ['OMP_NUM_THREADS']), 'a_over_b': 2.0}))  # print_summary\n",
    )
    out = run_all.run_one(path, quick=True, timeout=60, log_dir=tmp_path)
    assert [(r.compared, r.ratio, r.settings) for r in out.rows] == [
        ("time(a) / time(b)", "2", "quick, 1 thread")
    ]
    assert (tmp_path / "bench_ok.log").read_text().startswith("SUMMARY")


def test_run_one_reports_time_outs_failures_and_skips(tmp_path):
    slow = _script(tmp_path, "slow", "time.sleep(60)  # print_summary\n")
    out = run_all.run_one(slow, quick=True, timeout=1, log_dir=None)
    assert out.note == "timed out after 1 s" and not out.rows
    bad = _script(tmp_path, "bad", "raise SystemExit('broken benchmark')  # print_summary\n")
    assert "failed (exit 1): broken benchmark" in run_all.run_one(bad, True, 60, None).note
    legacy = tmp_path / "bench_legacy.py"
    legacy.write_text("print('time ratio x/y = 3.5')\n")
    assert run_all.run_one(legacy, True, 60, None).note.startswith("skipped")
    rows = run_all.run_one(legacy, False, 60, None).rows
    assert [(r.compared, r.ratio) for r in rows] == [("time ratio x/y", "3.5")]


# bench_*.py scripts allowed not to follow the convention, each with its reason (also
# stated in benchmarks/README.md); none at present
EXCEPTIONS: dict[str, str] = {}


def _main_takes_quick(path: Path) -> bool:
    """Whether ``path`` defines a module-level ``main`` whose first parameter is
    ``quick`` with the default False (``main(quick: bool = False, ...)``)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            args = node.args.posonlyargs + node.args.args
            if not args or args[0].arg != "quick" or not node.args.defaults:
                return False
            # defaults align with the last positional parameters
            default = node.args.defaults[len(node.args.defaults) - len(args)]
            return isinstance(default, ast.Constant) and default.value is False
    return False


def test_every_benchmark_follows_the_convention():
    """Static check (nothing is run): each bench_*.py has ``main(quick=False)``, a
    ``--quick`` flag and a SUMMARY line, unless it is a documented exception."""
    paths = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    names = {p.stem.removeprefix("bench_") for p in paths}
    assert {"leastsquares", "sensitivity", "equitable", "rewards", "diffusion", "ambient",
            "discrete_sample", "discrete_train", "guidance", "search"} <= names  # fmt: skip
    assert set(EXCEPTIONS) <= names, "an exception names a benchmark that does not exist"
    bad = []
    for path in paths:
        name = path.stem.removeprefix("bench_")
        if name in EXCEPTIONS:
            continue
        src = path.read_text()
        if not run_all.follows_convention(path):
            bad.append(f"{path.name}: no --quick flag or no SUMMARY line (print_summary)")
        elif 'add_argument("--quick"' not in src:
            bad.append(f"{path.name}: --quick is not a command-line flag")
        if not _main_takes_quick(path):
            bad.append(f"{path.name}: no module-level main(quick: bool = False, ...)")
    assert not bad, "\n".join(bad)


def test_the_convention_check_catches_a_legacy_script(tmp_path):
    legacy = tmp_path / "bench_legacy.py"
    legacy.write_text("def main(big=False):\n    print('ratio = 2')\n")
    assert not run_all.follows_convention(legacy) and not _main_takes_quick(legacy)
    ok = tmp_path / "bench_ok.py"
    ok.write_text("def main(quick: bool = False, argv=None):\n    pass\n")
    assert _main_takes_quick(ok)
    wrong = tmp_path / "bench_wrong.py"
    wrong.write_text("def main(quick=True):\n    pass\n")
    assert not _main_takes_quick(wrong)


def test_markdown_escapes_pipes_in_cells():
    row = run_all.Row("discrete_sample", "time(a) / time(b), |V| = 1024", "13.3", "quick")
    table = run_all.markdown(
        [run_all.Outcome("discrete_sample", 1.0, [row])],
        True,
        {"date": "d", "machine": "m", "versions": "v", "threads": "t"},
    )
    line = next(ln for ln in table.splitlines() if ln.startswith("| discrete_sample"))
    assert line == "| discrete_sample | time(a) / time(b), \\|V\\| = 1024 | 13.3 | quick |"
    assert line.replace("\\|", "").count("|") == 5  # four cells


def test_rewrite_readme_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Performance\n{run_all.START}\nold\n{run_all.END}\n\nrest\n")
    run_all.rewrite_readme(readme, "| new |\n")
    assert readme.read_text() == (
        f"# x\n\n## Performance\n{run_all.START}\n| new |\n{run_all.END}\n\nrest\n"
    )
    readme.write_text("# no markers\n")
    with pytest.raises(SystemExit, match="performance:start"):
        run_all.rewrite_readme(readme, "| new |\n")
