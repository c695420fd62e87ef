"""Command line of MDLM training: ``sciddm train-discrete``, ``python -m`` and ``torchrun -m``.

The training function itself is :func:`sciddm.discrete.train`; this module
only parses options into a :class:`~sciddm.discrete.TrainConfig` and runs it.

Examples
--------
One process (CPU or one GPU)::

    sciddm train-discrete nci --steps 2000 --out-dir runs/nci
    python -m sciddm.discrete.training --data ars --limit 50000 --out-dir runs/ars

Several GPUs, or CPU processes on gloo (the same code path)::

    torchrun --nproc_per_node 4 -m sciddm.discrete.training --data moses --model base \\
        --steps 100000 --batch-size 512 --out-dir runs/moses

Re-running a command with the same ``--out-dir`` resumes from its checkpoint
(``--no-resume`` starts afresh).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import typing
from collections.abc import Sequence
from typing import Any

from sciddm.discrete._training import CHOICES, FIELD_HELP, TrainConfig, Trainer
from sciddm.discrete._training._presets import TRAIN_PRESETS, preset_help

__all__ = ["build_parser", "main"]

_PROG = "sciddm train-discrete"


def _field_type(f: dataclasses.Field[Any]) -> Any:
    hints = typing.get_type_hints(TrainConfig)
    tp = hints[f.name]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if f.name == "data":
        return str
    return args[0] if args else tp


def build_parser(prog: str = _PROG) -> argparse.ArgumentParser:
    """An argparse parser with one ``--flag`` per field of :class:`~sciddm.discrete.TrainConfig`.

    Every option's help says what it does, its allowed values and its default.

    Parameters
    ----------
    prog : str, default "sciddm train-discrete"
        The program name shown in usage lines.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from sciddm.discrete.training import build_parser
    >>> args = build_parser().parse_args(["ars", "--steps", "10", "--no-resume"])
    >>> args.data_pos, args.steps, args.resume
    ('ars', 10, False)
    """
    p = argparse.ArgumentParser(
        prog=prog,
        description="Train a masked discrete diffusion model (MDLM) on SMILES or DNA. The same "
        "command runs under torchrun for several GPUs or CPU processes (DDP); re-running it "
        "with the same --out-dir resumes from its checkpoint.",
    )
    p.add_argument(
        "data_pos",
        nargs="?",
        default=None,
        metavar="DATA",
        help="same as --data: nci, moses, moses:test, ars, or a file of sequences",
    )
    p.add_argument(
        "--preset",
        choices=tuple(TRAIN_PRESETS),
        default=None,
        help="start from a named recipe (options given explicitly override it): "
        f"{preset_help()} (default: none)",
    )
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        tp = _field_type(f)
        default = True if f.name == "progress" else f.default  # bars on in the CLI
        shown = "none" if default is None else default
        helptext = f"{FIELD_HELP[f.name]} (default: {shown})"
        if tp is bool:
            p.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=default, help=helptext
            )
        elif f.name in CHOICES:
            p.add_argument(flag, choices=CHOICES[f.name], default=default, help=helptext)
        else:
            p.add_argument(flag, type=tp, default=default, help=helptext, metavar=f.name.upper())
    p.add_argument("--quiet", action="store_true", help="log warnings only")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, train, print a summary; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The options (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input (one line ``sciddm train-discrete: error: ...``
        on stderr, before any training), 1 when training diverges, 130 when
        interrupted (the message says which step the checkpoint on disk holds).

    Examples
    --------
    >>> from sciddm.discrete.training import main
    >>> main(["--data", "no-such-file.txt", "--quiet"])
    2
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # ``sciddm train-discrete -- --data ...``
        argv = argv[1:]
    args = parser.parse_args(argv)
    if args.preset is not None:  # the recipe's values become the defaults
        parser.set_defaults(**TRAIN_PRESETS[args.preset])
        args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING if args.quiet else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
        )
    kw = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    if args.data_pos is not None:
        kw["data"] = args.data_pos
    try:
        trainer = Trainer(TrainConfig(**kw))
    except (ValueError, TypeError, FileNotFoundError, ImportError) as exc:
        msg = " ".join(str(exc).split())  # one line
        print(f"{_PROG}: error: {msg}", file=sys.stderr)
        return 2
    try:
        res = trainer.run()
    except KeyboardInterrupt:
        if trainer.rank == 0:
            print(f"interrupted at step {trainer.step}; {trainer.on_disk()}", file=sys.stderr)
        return 130
    except FloatingPointError as exc:
        if trainer.rank == 0:
            print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        trainer.close()
    if trainer.rank == 0:
        vb = res.val_bits_per_token[-1] if len(res.val_bits_per_token) else float("nan")
        print(
            f"trained {res.n_parameters:,} parameters for {trainer.step} steps on "
            f"{res.n_train} sequences; validation {vb:.4f} bits/token "
            f"(unigram {res.unigram_bits_per_token:.4f}); "
            f"{res.tokens_per_second:,.0f} tokens/s; checkpoint: {res.checkpoint}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
