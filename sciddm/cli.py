"""Command line: ``sciddm`` and ``python -m sciddm``.

Subcommands
-----------
``sciddm list``
    Print the registered experiments.
``sciddm reproduce [NAME ...] [--quick | --full] [--device cpu|cuda] [--n-jobs N] [--out DIR] [--seed S] [--quiet]``
    Run experiments (all by default; a name may be a family prefix such as
    ``leastsquares``) and write ``DIR/report.md``, ``DIR/claims.json`` and
    ``DIR/figures/``.
``sciddm train-discrete ...``
    Train a masked discrete diffusion model (see ``sciddm.discrete.train``).

Errors in the arguments (an unknown experiment, an unavailable device) print
one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


class _UsageError(Exception):
    pass


def _build_parser() -> argparse.ArgumentParser:
    from sciddm import __version__

    p = argparse.ArgumentParser(
        prog="sciddm",
        description="sciddm: scientific sampling and its theory. Reproduce the papers' claims.",
    )
    p.add_argument("--version", action="version", version=f"sciddm {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list the registered experiments")

    r = sub.add_parser("reproduce", help="run experiments and write a report")
    r.add_argument(
        "names", nargs="*", metavar="NAME", help="experiments or families (default: all)"
    )
    size = r.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", dest="mode", action="store_const", const="quick", help="small sizes (default)"
    )
    size.add_argument(
        "--full", dest="mode", action="store_const", const="full", help="paper-scale sizes"
    )
    r.set_defaults(mode="quick")
    r.add_argument(
        "--device", default="cpu", choices=("cpu", "cuda"), help="torch device (default cpu)"
    )
    r.add_argument(
        "--n-jobs", type=int, default=1, help="parallel workers for sweeps (default 1, -1: all)"
    )
    r.add_argument("--out", default="results", help="output folder (default results/)")
    r.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    r.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")

    t = sub.add_parser(
        "train-discrete",
        help="train a masked discrete diffusion model (arguments as sciddm.discrete.train)",
        add_help=False,
    )
    t.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _select(names: Sequence[str], registry: dict) -> list[str]:
    if not names:
        return list(registry)
    chosen: list[str] = []
    for n in names:
        hits = [k for k in registry if k == n or k.startswith(n + ".")]
        if not hits:
            known = ", ".join(registry) or "none registered yet"
            raise _UsageError(f"unknown experiment {n!r} (known: {known})")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _cmd_list() -> int:
    from sciddm.reproduce import get_registry

    reg = get_registry()
    if not reg:
        print("No experiments are registered yet.")
        return 0
    width = max(len(k) for k in reg)
    for name, exp in reg.items():
        req = f"  [needs {', '.join(exp.requires)}]" if exp.requires else ""
        print(f"{name:<{width}}  {exp.description}{req}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from sciddm import __version__
    from sciddm.reproduce import get_registry, run_experiment, write_report

    if args.n_jobs == 0 or args.n_jobs < -1:
        raise _UsageError(f"--n-jobs must be a positive integer or -1, got {args.n_jobs}")
    if args.seed < 0:
        raise _UsageError(f"--seed must be non-negative, got {args.seed}")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise _UsageError(
                "--device cuda requested but no CUDA device is available; use --device cpu"
            )
    registry = get_registry()
    names = _select(args.names, registry)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    progress = not args.quiet
    runs = []
    t0 = time.perf_counter()
    bar = None
    if progress and names:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(names), desc="reproduce", unit="exp", dynamic_ncols=True)
    for name in names:
        if bar is not None:
            bar.set_postfix_str(name)
        run = run_experiment(
            registry[name],
            mode=args.mode,
            seed=args.seed,
            device=args.device,
            n_jobs=args.n_jobs,
            progress=progress,
            figure_dir=out / "figures",
        )
        runs.append(run)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    meta = {
        "command": "sciddm " + " ".join(sys.argv[1:]) if sys.argv[1:] else "sciddm reproduce",
        "sciddm": __version__,
        "python": platform.python_version(),
        "mode": args.mode,
        "seed": args.seed,
        "device": args.device,
        "n_jobs": args.n_jobs,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "total time (s)": round(time.perf_counter() - t0, 1),
        "registered": len(registry),
        "requested": ", ".join(args.names) if args.names else "all",
    }
    report = write_report(out, runs, meta)
    n_claims = sum(len(r.claims) for r in runs)
    n_hold = sum(c.holds for r in runs for c in r.claims)
    errors = [r.name for r in runs if r.status == "error"]
    if not runs:
        print(f"No experiments registered yet; wrote {report}")
    else:
        print(f"{len(runs)} experiment(s), {n_hold}/{n_claims} claims hold; report: {report}")
    if errors:
        print(f"experiments that raised an error: {', '.join(errors)}", file=sys.stderr)
        return 1
    return 0


def _cmd_train_discrete(argv: Sequence[str]) -> int:
    import importlib

    try:
        mod = importlib.import_module("sciddm.discrete.train")
    except ModuleNotFoundError as exc:
        raise _UsageError(f"discrete training is not available: {exc}") from exc
    return int(mod.main(list(argv)) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciddm`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-discrete"]:
        # forwarded verbatim: the training command parses its own options and --help
        try:
            return _cmd_train_discrete(argv[1:])
        except _UsageError as exc:
            print(f"sciddm: error: {exc}", file=sys.stderr)
            return 2
    parser = _build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if getattr(args, "quiet", False) else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "reproduce":
            return _cmd_reproduce(args)
        if args.command == "train-discrete":
            return _cmd_train_discrete(args.args)
        parser.print_help()
        return 0
    except _UsageError as exc:
        print(f"sciddm: error: {exc}", file=sys.stderr)
        return 2
