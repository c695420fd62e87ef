"""Command line: sample a trained molecule model and write its MOSES table.

``python -m sciddm.discrete.sample_molecules RUN --n 10000 --out table.md`` loads the
model of a training folder (or file), draws ``--n`` molecules with the first-hitting
sampler, computes the MOSES metrics against a MOSES test sample (FCD included when
``fcd_torch`` is installed) and writes a Markdown table beside the published MOSES
baselines and the training data's own row (:func:`sciddm.discrete.moses_benchmark`).

Examples
--------
The CPU-hour recipe (SMILES; ``--preset cpu-hour-selfies`` for SELFIES)::

    python -m sciddm.discrete.training moses --preset cpu-hour --out-dir runs/moses
    python -m sciddm.discrete.sample_molecules runs/moses --n 10000 --out table.md
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_parser", "main"]

_PROG = "python -m sciddm.discrete.sample_molecules"


def _n_ref(text: str) -> int | None:
    if text.lower() in ("all", "none"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer >= 2 or 'all', got {text!r}"
        ) from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be an integer >= 2 or 'all', got {text!r}")
    return value


def build_parser(prog: str = _PROG) -> argparse.ArgumentParser:
    """The parser of the command (one option per argument of ``moses_benchmark``).

    Parameters
    ----------
    prog : str
        Program name in the usage line.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from sciddm.discrete.sample_molecules import build_parser
    >>> a = build_parser().parse_args(["runs/moses", "--n", "100", "--n-ref", "all"])
    >>> a.model, a.n, a.n_ref
    ('runs/moses', 100, None)
    """
    p = argparse.ArgumentParser(
        prog=prog,
        description="Sample a trained molecule model (SMILES or SELFIES) and write the MOSES "
        "table of its samples beside the published MOSES baselines and the training data's "
        "own row.",
    )
    p.add_argument("model", help="a training folder (model.pt or checkpoint.pt) or a model file")
    p.add_argument("--n", type=int, default=10_000, help="molecules to sample (default: 10000)")
    p.add_argument("--out", default=None, help="write the Markdown table here (default: print)")
    p.add_argument("--json", default=None, help="also write the rows and timings as JSON here")
    p.add_argument("--figure", default=None, help="also save the property histograms here")
    p.add_argument(
        "--method",
        default="fhs",
        choices=("fhs", "ancestral", "cached", "fhs-parallel"),
        help="sampler (default: fhs)",
    )
    p.add_argument("--k", type=int, default=1, help="tokens per call of fhs-parallel (default 1)")
    p.add_argument("--batch-size", type=int, default=500, help="samples per batch (default 500)")
    p.add_argument(
        "--n-ref",
        type=_n_ref,
        default=10_000,
        help="MOSES test molecules in the reference (default 10000; 'all': the whole split, "
        "as in the MOSES paper, slow on a CPU)",
    )
    p.add_argument(
        "--no-data-row",
        dest="data_row",
        action="store_false",
        help="skip the training data's own row",
    )
    p.add_argument("--no-fcd", dest="fcd", action="store_const", const=False, default=None,
                   help="skip the FCD")  # fmt: skip
    p.add_argument("--name", default="MDLM (sciddm)", help="label of the model's row")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples and subsets")
    p.add_argument("--device", default=None, help="where the model samples (default: cpu)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="progress bar while sampling")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="log warnings only")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, sample, score, write the table; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The options (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input (one line on stderr, before any sampling).

    Examples
    --------
    >>> from sciddm.discrete.sample_molecules import main
    >>> main(["no-such-run", "--quiet"])
    2
    """
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING if args.quiet else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
        )
    from sciddm.discrete import load_model, moses_benchmark

    try:
        model = load_model(args.model, map_location=args.device or "cpu")
        res = moses_benchmark(
            model, n=args.n, method=args.method, k=args.k, batch_size=args.batch_size,
            n_reference=args.n_ref, data_row=args.data_row, name=args.name, fcd=args.fcd,
            device=args.device, rng=args.seed, progress=args.progress and not args.quiet,
        )  # fmt: skip
    except (ValueError, TypeError, FileNotFoundError, ImportError) as exc:
        msg = " ".join(str(exc).split())
        print(f"{_PROG}: error: {msg}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(res.table + "\n")
    print(res.table)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "model": str(args.model),
                    "n": args.n,
                    "method": args.method,
                    "n_reference": res.n_reference,
                    "rows": res.rows(),
                    "wasserstein": res.report.wasserstein,
                    "sample_time": res.sample_time,
                    "metrics_time": res.metrics_time,
                    "samples_per_second": args.n / res.sample_time if res.sample_time else None,
                },
                indent=2,
                default=float,
            )
            + "\n"
        )
    if args.figure:
        fig = res.report.plot()[0].figure
        fig.savefig(args.figure, dpi=120, bbox_inches="tight")
    print(
        f"sampled {args.n} molecules in {res.sample_time:.1f} s ({args.method}); metrics in "
        f"{res.metrics_time:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
