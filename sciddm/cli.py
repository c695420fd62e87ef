"""Command line: ``sciddm`` and ``python -m sciddm``.

Subcommands
-----------
``sciddm list [--demo]``
    The registered experiments: name, measured quick time, demo mark,
    description, requirements, and the totals. Reads the manifest, so it
    imports neither torch nor any experiment.
``sciddm reproduce [NAME|FAMILY ...] [--demo | --quick | --full] [--device cpu|cuda] [--n-jobs N] [--out DIR] [--resume | --force] [--seed S] [--quiet]``
    Run experiments (all by default; ``--demo``: the curated few-minute set; a
    family or any prefix such as ``sensitivity`` or ``discrete.guidance``
    selects all its experiments) and write ``report.md``, ``report.html``,
    ``claims.json``, ``figures/``, one record per experiment in
    ``experiments/`` and the log ``sciddm-reproduce.log`` into a new
    ``results/<UTC date-time>/`` (``results/latest`` points at it) or ``DIR``.
    ``--resume`` continues an interrupted run (default: ``results/latest``),
    ``--force`` overwrites the report in ``DIR``.
``sciddm train-discrete ...``
    Train a masked discrete diffusion model (see ``sciddm.discrete.training``).

Errors in the arguments (an unknown experiment, an unusable ``--out``, an
unavailable device) print one line, ``sciddm: error: ...``, and exit with
status 2 before any work. An experiment that raises gives status 1 at the end;
Ctrl-C gives 130 and SIGTERM 143, after writing the report of what finished.

Your own experiments: name their modules in ``SCIDDM_EXPERIMENTS``
(comma-separated) or in the entry-point group ``sciddm.experiments``; see
:mod:`sciddm.reproduce`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["main"]

#: The folder under which default runs go (relative to the working directory).
RESULTS_ROOT = Path("results")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``sciddm: error: ...``, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _build_parser() -> argparse.ArgumentParser:
    from sciddm import __version__

    p = _Parser(
        prog="sciddm",
        description="sciddm: scientific sampling and its theory. Reproduce the papers' claims.",
    )
    p.add_argument("--version", action="version", version=f"sciddm {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ls = sub.add_parser("list", help="list the registered experiments and their quick times")
    ls.add_argument("--demo", action="store_true", help="only the --demo set")

    r = sub.add_parser("reproduce", help="run experiments and write a report")
    r.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="experiments, families or name prefixes (default: all)",
    )
    size = r.add_mutually_exclusive_group()
    for flag, text in (
        ("demo", "the curated set of a few minutes (what `make demo` runs)"),
        ("quick", "every experiment, small sizes (default)"),
        ("full", "paper-scale sizes"),
    ):
        size.add_argument(f"--{flag}", dest="mode", action="store_const", const=flag, help=text)
    r.add_argument("--device", choices=("cpu", "cuda"), help="torch device (default cpu)")
    r.add_argument(
        "--n-jobs", type=int, default=1, help="parallel workers for sweeps (default 1, -1: all)"
    )
    r.add_argument(
        "--out",
        help="output folder (default: a new results/<UTC date-time>/, linked as results/latest)",
    )
    again = r.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out (default results/latest): skip what finished",
    )
    again.add_argument(
        "--force", action="store_true", help="write into an --out that already holds a report"
    )
    r.add_argument("--seed", type=int, help="global seed (default 0)")
    r.add_argument("--quiet", action="store_true", help="no progress display, warnings only")

    t = sub.add_parser(
        "train-discrete",
        help="train a masked discrete diffusion model (arguments as sciddm.discrete.training)",
        add_help=False,
    )
    t.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _seconds(s: float | None) -> str:
    if s is None:
        return "?"
    return f"{s:.0f} s" if s < 100 else f"{s / 60:.1f} min"


def _cmd_list(args: argparse.Namespace) -> int:
    from sciddm.reproduce._catalog import catalog, read_manifest

    try:
        entries, _ = catalog()
    except ImportError as exc:
        raise _UsageError(str(exc)) from exc
    if args.demo:
        entries = {k: e for k, e in entries.items() if e.demo}
    if not entries:
        print("No experiments are registered." if not args.demo else "The --demo set is empty.")
        return 0
    width = max(len(k) for k in entries)
    print(f"{'NAME':<{width}}  {'QUICK':>7}  DEMO  DESCRIPTION")
    for name, e in entries.items():
        req = f"  [needs {', '.join(e.requires)}]" if e.requires else ""
        mark = "*" if e.demo else " "
        print(f"{name:<{width}}  {_seconds(e.quick_seconds):>7}   {mark}    {e.description}{req}")
    quick = [e.quick_seconds for e in entries.values()]
    demo = [e.demo_seconds for e in entries.values() if e.demo]
    total = f"{len(entries)} experiments, {len(demo)} in the --demo set (*)"
    if all(t is not None for t in quick):
        timing = (read_manifest() or {}).get("timing") or {}
        where = f", measured {timing['measured']}" if timing.get("measured") else ""
        jobs = f" at --n-jobs {timing['n_jobs']}" if timing.get("n_jobs") else ""
        total += f"; quick total {_seconds(sum(quick))}{jobs}{where}"  # type: ignore[arg-type]
        if demo and all(t is not None for t in demo):
            total += f"; demo total {_seconds(sum(demo))}"  # type: ignore[arg-type]
    else:
        total += (
            "; some quick times are not measured yet (python -m sciddm.reproduce.manifest --time)"
        )
    print(total)
    return 0


def _check_numbers(args: argparse.Namespace) -> None:
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise _UsageError(f"--n-jobs must be a positive integer or -1, got {args.n_jobs}")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise _UsageError(f"--seed must be a non-negative integer, got {args.seed}")


def _previous_run(args: argparse.Namespace) -> tuple[Path | None, dict[str, Any]]:
    """The explicit or resumed output folder and the earlier run's settings."""
    from sciddm.reproduce._outdir import read_run_info, resolve_latest

    if args.out is not None:
        out: Path | None = Path(args.out)
    elif args.resume:
        out = resolve_latest(RESULTS_ROOT)
    else:
        out = None
    prev = (read_run_info(out) or {}) if args.resume and out is not None else {}
    return out, prev


def _check_device(device: str) -> None:
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise _UsageError(
                "--device cuda requested but no CUDA device is available; use --device cpu"
            )


def _select(tokens: Sequence[str], *, demo: bool) -> tuple[list[str], dict[str, Any]]:
    """The names to run and the catalog they come from.

    Explicit names are looked up in the manifest, so that only their modules
    are imported; the demo set, "everything", and a name the manifest does not
    know (a stale manifest) are decided by the live registry.
    """
    from sciddm.reproduce._catalog import SelectionError, catalog, select

    live = demo or not tokens
    entries, from_manifest = catalog(live=live)
    try:
        return select(tokens, entries, demo=demo), entries
    except SelectionError:
        if live or not from_manifest:
            raise
    entries, _ = catalog(live=True)
    return select(tokens, entries, demo=demo), entries


def _load_experiments(names: Sequence[str], entries: dict[str, Any]) -> dict[str, Any]:
    """Import only the modules of ``names`` and return their registered experiments."""
    import importlib

    for mod in dict.fromkeys(entries[n].module for n in names):
        try:
            importlib.import_module(mod)
        except Exception as exc:
            raise _UsageError(
                f"cannot import the experiment module {mod!r}: {type(exc).__name__}: {exc}"
            ) from exc
    from sciddm.reproduce._registry import _REGISTRY

    missing = [n for n in names if n not in _REGISTRY]
    if missing:
        raise _UsageError(
            f"the experiment manifest is out of date ({missing[0]!r} is not registered by "
            f"{entries[missing[0]].module}); run: python -m sciddm.reproduce.manifest"
        )
    return {n: _REGISTRY[n] for n in names}


def _cmd_reproduce(args: argparse.Namespace, argv: Sequence[str]) -> int:
    import shlex

    from sciddm.reproduce._catalog import SelectionError
    from sciddm.reproduce._outdir import OutDirError, check_out_dir, new_run_dir, point_latest

    _check_numbers(args)
    out, prev = _previous_run(args)
    mode = args.mode or prev.get("mode") or "quick"
    seed = args.seed if args.seed is not None else int(prev.get("seed", 0))
    device = args.device or prev.get("device") or "cpu"
    tokens = list(args.names) or list(prev.get("names") or [])
    _check_device(device)
    try:
        names, entries = _select(tokens, demo=mode == "demo")
    except (ImportError, SelectionError) as exc:
        raise _UsageError(str(exc)) from exc
    experiments = _load_experiments(names, entries)
    try:
        if out is not None:
            out = check_out_dir(out, resume=args.resume, force=args.force)
        else:
            out = check_out_dir(new_run_dir(RESULTS_ROOT), resume=False, force=False)
            point_latest(RESULTS_ROOT, out)
    except OutDirError as exc:
        raise _UsageError(str(exc)) from exc

    from sciddm.reproduce._runner import LOG_NAME, RunSettings, run_all

    settings = RunSettings(
        names=names,
        out=out,
        mode=mode,
        seed=seed,
        device=device,
        n_jobs=args.n_jobs,
        resume=args.resume,
        progress=not args.quiet,
        command="sciddm " + " ".join(shlex.quote(a) for a in argv),
        requested=" ".join(tokens) if tokens else ("the demo set" if mode == "demo" else "all"),
        registered=len(entries),
    )
    code, runs, line = run_all(settings, experiments)
    if code in (0, 1):
        print(line, flush=True)
        errors = [r.name for r in runs.values() if r.status == "error"]
        if errors:
            print(
                f"sciddm: {len(errors)} experiment(s) raised an error: {', '.join(errors)} "
                f"(tracebacks in {out / LOG_NAME})",
                file=sys.stderr,
            )
    else:
        print(line, file=sys.stderr, flush=True)
    return code


def _cmd_train_discrete(argv: Sequence[str]) -> int:
    import importlib

    try:
        mod = importlib.import_module("sciddm.discrete.training")
    except ModuleNotFoundError as exc:
        raise _UsageError(f"discrete training is not available: {exc}") from exc
    return int(mod.main(list(argv)) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciddm`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["train-discrete"]:
            # forwarded verbatim: the training command parses its own options and --help
            return _cmd_train_discrete(argv[1:])
        parser = _build_parser()
        args = parser.parse_args(argv)
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "reproduce":
            return _cmd_reproduce(args, argv)
        if args.command == "train-discrete":
            return _cmd_train_discrete(args.args)
        parser.print_help()
        return 0
    except _UsageError as exc:
        print(f"sciddm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run (while importing, say): no traceback
        print("sciddm: interrupted", file=sys.stderr)
        return 130
