"""Training-ready sequence data for masked diffusion (nothing is downloaded).

The raw readers live in the domain packages (:mod:`sciddm.chem.data`,
:mod:`sciddm.dna.data`, imported lazily); this module cleans their output
(RDKit canonicalisation, validity, deduplication, length filtering), splits it
by seed and turns it into tensors of token ids.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sciddm._core.extras import require
from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._data._tokenizers import split_smiles

__all__ = [
    "SequenceData",
    "as_str_list",
    "load_ars_sequences",
    "load_moses_smiles",
    "load_nci_smiles",
    "load_sequences",
    "prepare_dna",
    "prepare_smiles",
    "read_sequence_file",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, repr=False)
class SequenceData(Result):
    """Cleaned sequences and what the cleaning removed.

    Attributes
    ----------
    sequences : list of str
    kind : {"smiles", "dna"}
    values : numpy.ndarray or None
        A per-sequence measurement when the source has one (ARS:
        log-enrichment), aligned with ``sequences``.
    n_read, n_invalid, n_duplicates, n_too_long : int
        Sequences read, and removed as invalid, duplicate or too long.
    source : str
    """

    sequences: list[str]
    kind: str
    values: np.ndarray | None = None
    n_read: int = 0
    n_invalid: int = 0
    n_duplicates: int = 0
    n_too_long: int = 0
    source: str = "memory"

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[str]:
        return iter(self.sequences)

    def __getitem__(self, i: int) -> str:
        return self.sequences[i]


@contextlib.contextmanager
def _quiet_rdkit() -> Iterator[None]:
    from rdkit import RDLogger

    rdlog: Any = RDLogger
    rdlog.DisableLog("rdApp.*")
    try:
        yield
    finally:
        rdlog.EnableLog("rdApp.*")


def as_str_list(seqs: Any, name: str) -> list[str]:
    if isinstance(seqs, str):
        raise ValueError(f"`{name}` must be a sequence of strings, not a single str")
    out = list(seqs)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise ValueError(f"`{name}[{i}]` must be a str, got {type(s).__name__}")
    return out


def _finish(
    kept: list[str],
    values: list[float] | None,
    *,
    kind: str,
    dedup: bool,
    max_length: int | None,
    length_of: Any,
    n_read: int,
    n_invalid: int,
    source: str,
) -> SequenceData:
    n_dup = n_long = 0
    seen: set[str] = set()
    out: list[str] = []
    vals: list[float] = []
    for i, s in enumerate(kept):
        if dedup:
            if s in seen:
                n_dup += 1
                continue
            seen.add(s)
        if max_length is not None and length_of(s) > max_length:
            n_long += 1
            continue
        out.append(s)
        if values is not None:
            vals.append(values[i])
    if n_invalid or n_dup or n_long:
        logger.info(
            "%s: kept %d of %d sequences (%d invalid, %d duplicates, %d too long)",
            source,
            len(out),
            n_read,
            n_invalid,
            n_dup,
            n_long,
        )
    return SequenceData(
        sequences=out,
        kind=kind,
        values=None if values is None else np.asarray(vals, dtype=np.float64),
        n_read=n_read,
        n_invalid=n_invalid,
        n_duplicates=n_dup,
        n_too_long=n_long,
        source=source,
    )


def prepare_smiles(
    smiles: Sequence[str],
    *,
    canonicalize: bool = True,
    dedup: bool = True,
    invalid: str = "skip",
    max_length: int | None = None,
    source: str = "memory",
) -> SequenceData:
    """Validate, canonicalise, deduplicate and length-filter SMILES.

    Parameters
    ----------
    smiles : sequence of str
    canonicalize : bool, default True
        Replace each SMILES by RDKit's canonical form (needs RDKit, extra
        ``chem``), so that one molecule has one string.
    dedup : bool, default True
        Drop repeated strings (after canonicalisation).
    invalid : {"skip", "error", "keep"}, default "skip"
        SMILES that RDKit cannot parse (or that contain characters the
        tokenizer does not know) are dropped and counted (``"skip"``), raise
        ValueError naming the first one (``"error"``), or are kept unchecked
        (``"keep"``; only with ``canonicalize=False``, and no RDKit needed).
    max_length : int, optional
        Drop SMILES with more than this many atom-level tokens.
    source : str
        Name recorded in the result.

    Returns
    -------
    SequenceData

    Examples
    --------
    >>> from sciddm.discrete import prepare_smiles
    >>> d = prepare_smiles(["OCC", "CCO", "C1CC", "c1ccccc1"], max_length=4)
    >>> d.sequences, d.n_invalid, d.n_duplicates, d.n_too_long
    (['CCO'], 1, 1, 1)
    >>> prepare_smiles(["CCO", "C1CC"], invalid="error")
    Traceback (most recent call last):
    ...
    ValueError: invalid SMILES at index 1: 'C1CC' ...
    """
    smiles = as_str_list(smiles, "smiles")
    check_choice(invalid, "invalid", ("skip", "error", "keep"))
    if max_length is not None:
        max_length = check_int(max_length, "max_length", lo=1)
    if invalid == "keep" and canonicalize:
        raise ValueError("`invalid='keep'` needs `canonicalize=False` (RDKit cannot canonicalise)")
    kept: list[str] = []
    n_invalid = 0
    kept_idx: list[int] = []
    if invalid == "keep":
        kept, kept_idx = smiles, list(range(len(smiles)))
    else:
        Chem = require("rdkit.Chem", "chem", purpose="checking SMILES")
        with _quiet_rdkit():
            for i, s in enumerate(smiles):
                mol = Chem.MolFromSmiles(s) if s.strip() else None
                out = s
                if mol is not None and canonicalize:
                    out = Chem.MolToSmiles(mol)
                ok = mol is not None
                if ok:
                    try:
                        split_smiles(out)
                    except ValueError:
                        ok = False
                if not ok:
                    if invalid == "error":
                        raise ValueError(
                            f"invalid SMILES at index {i}: {s!r} (RDKit cannot parse it); "
                            "pass invalid='skip' to drop and count such entries"
                        )
                    n_invalid += 1
                    continue
                kept.append(out)
                kept_idx.append(i)
    return _finish(
        kept,
        None,
        kind="smiles",
        dedup=dedup,
        max_length=max_length,
        length_of=lambda s: len(split_smiles(s)),
        n_read=len(smiles),
        n_invalid=n_invalid,
        source=source,
    )


def prepare_dna(
    sequences: Sequence[str],
    *,
    values: Sequence[float] | np.ndarray | None = None,
    dedup: bool = True,
    invalid: str = "error",
    allow_n: bool = False,
    max_length: int | None = None,
    source: str = "memory",
) -> SequenceData:
    """Upper-case, validate, deduplicate and length-filter DNA sequences.

    Parameters
    ----------
    sequences : sequence of str
    values : sequence of float, optional
        Per-sequence measurements carried along (first occurrence kept).
    dedup : bool, default True
    invalid : {"error", "skip"}, default "error"
        Sequences with a character other than A, C, G, T (and N when
        ``allow_n``) raise ValueError naming it, or are dropped and counted.
    allow_n : bool, default False
    max_length : int, optional

    Examples
    --------
    >>> from sciddm.discrete import prepare_dna
    >>> prepare_dna(["acgt", "ACGT", "ACNT"], invalid="skip").sequences
    ['ACGT']
    >>> prepare_dna(["ACXT"])
    Traceback (most recent call last):
    ...
    ValueError: invalid DNA sequence at index 0: unknown symbol 'X' at position 2 ...
    """
    seqs = as_str_list(sequences, "sequences")
    check_choice(invalid, "invalid", ("skip", "error"))
    if max_length is not None:
        max_length = check_int(max_length, "max_length", lo=1)
    if values is not None and len(values) != len(seqs):
        raise ValueError(
            f"`values` and `sequences` must have the same length, got {len(values)} and {len(seqs)}"
        )
    alphabet = set("ACGTN" if allow_n else "ACGT")
    kept: list[str] = []
    kept_vals: list[float] | None = None if values is None else []
    n_invalid = 0
    for i, s in enumerate(seqs):
        up = s.upper()
        bad = next((j for j, c in enumerate(up) if c not in alphabet), None)
        if bad is not None or not up:
            if invalid == "error":
                what = (
                    "empty sequence" if not up else f"unknown symbol {s[bad]!r} at position {bad}"  # type: ignore[index]
                )
                raise ValueError(f"invalid DNA sequence at index {i}: {what} of {s[:60]!r}")
            n_invalid += 1
            continue
        kept.append(up)
        if kept_vals is not None:
            kept_vals.append(float(values[i]))  # type: ignore[index]
    return _finish(
        kept,
        kept_vals,
        kind="dna",
        dedup=dedup,
        max_length=max_length,
        length_of=len,
        n_read=len(seqs),
        n_invalid=n_invalid,
        source=source,
    )


def load_nci_smiles(
    *,
    canonicalize: bool = True,
    dedup: bool = True,
    invalid: str = "skip",
    max_length: int | None = None,
) -> SequenceData:
    """RDKit's NCI sample (``rdkit/Data/NCI/first_5K.smi``, 4,999 molecules), cleaned.

    Reads with :func:`sciddm.chem.data.read_nci_smiles` and cleans with
    :func:`prepare_smiles` (same options). Needs RDKit (extra ``chem``).
    Eight entries of the file (hypervalent Al, Hg, Si, P, Be complexes and
    one broken ring) do not parse with current RDKit and are skipped.

    Examples
    --------
    >>> from sciddm.discrete import load_nci_smiles
    >>> d = load_nci_smiles(max_length=40)
    >>> d.n_read, len(d) > 3000, d.n_invalid
    (4999, True, 8)
    """
    require("rdkit", "chem", purpose="the NCI SMILES")
    from sciddm.chem.data import read_nci_smiles

    return prepare_smiles(
        read_nci_smiles(),
        canonicalize=canonicalize,
        dedup=dedup,
        invalid=invalid,
        max_length=max_length,
        source="nci",
    )


def load_moses_smiles(
    split: str = "train",
    *,
    limit: int | None = None,
    canonicalize: bool = False,
    dedup: bool = True,
    invalid: str = "keep",
    max_length: int | None = None,
) -> SequenceData:
    """MOSES SMILES from the ``molsets`` wheel (located without importing ``moses``).

    The MOSES files are already canonical, valid and distinct, so by default
    they are only length-filtered (``canonicalize=False``, ``invalid="keep"``);
    see :func:`prepare_smiles` for the options. Install the data with
    ``pip install --no-deps molsets``.

    Parameters
    ----------
    split : {"train", "test", "test_scaffolds"}, default "train"
    limit : int, optional
        First ``limit`` molecules of the file.

    Examples
    --------
    >>> from sciddm.discrete import load_moses_smiles
    >>> len(load_moses_smiles("test", limit=100))
    100
    """
    from sciddm.chem.data import read_moses_smiles

    raw = read_moses_smiles(split, limit=limit)
    return prepare_smiles(
        raw,
        canonicalize=canonicalize,
        dedup=dedup,
        invalid=invalid,
        max_length=max_length,
        source=f"moses-{split}",
    )


def load_ars_sequences(*, limit: int | None = None, dedup: bool = True) -> SequenceData:
    """The yeast ARS1 150-bp variant library shipped with ``logomaker``.

    ``values`` holds each variant's centred log-enrichment (see
    :class:`sciddm.dna.data.ArsLibrary`). Needs logomaker (extra ``dna``).

    Parameters
    ----------
    limit : int, optional
        First ``limit`` variants of the file (sorted by decreasing library count).

    Examples
    --------
    >>> from sciddm.discrete import load_ars_sequences
    >>> d = load_ars_sequences(limit=50)
    >>> len(d), len(d.sequences[0]), d.values.shape
    (50, 150, (50,))
    """
    require("logomaker", "dna", purpose="the ARS1 library")
    from sciddm.dna.data import read_ars

    ars = read_ars(limit=limit)
    return prepare_dna(
        ars.sequences, values=ars.log_enrichment, dedup=dedup, invalid="skip", source="ars"
    )


def read_sequence_file(path: str | os.PathLike[str], *, column: str | None = None) -> list[str]:
    """Read one sequence per line from a text, ``.smi`` or ``.csv`` file (optionally ``.gz``).

    Text and ``.smi`` files: the first whitespace-separated field of each
    non-empty line not starting with ``#``. CSV files: the column named
    ``column``, else one called ``smiles``/``sequence`` (any case), else the
    first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sciddm.discrete import read_sequence_file
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.smi"
    >>> _ = p.write_text("CCO 1\\n# comment\\n\\nc1ccccc1 2\\n")
    >>> read_sequence_file(p)
    ['CCO', 'c1ccccc1']
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no sequence file at {str(p)!r}")
    opener: Any = gzip.open if p.suffix == ".gz" else open
    stem_suffix = Path(p.stem).suffix if p.suffix == ".gz" else p.suffix
    with opener(p, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if stem_suffix == ".csv":
        import csv

        rows = list(csv.reader(lines))
        if not rows:
            return []
        header = [h.strip() for h in rows[0]]
        lower = [h.lower() for h in header]
        if column is not None:
            if column not in header:
                raise ValueError(f"`column` {column!r} is not in the header {header} of {p}")
            col = header.index(column)
        else:
            col = next((lower.index(c) for c in ("smiles", "sequence") if c in lower), 0)
        return [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]
    out = []
    for line in lines:
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(s.split()[0])
    return out


def load_sequences(
    source: str | os.PathLike[str] | Sequence[str],
    *,
    kind: str | None = None,
    limit: int | None = None,
    max_length: int | None = None,
    invalid: str = "skip",
    canonicalize: bool | None = None,
    dedup: bool = True,
) -> SequenceData:
    """Load and clean a named dataset, a file, or in-memory strings.

    Parameters
    ----------
    source : str, path or sequence of str
        ``"nci"``, ``"moses"`` (train; ``"moses:test"`` for a split),
        ``"ars"``, a path (see :func:`read_sequence_file`), or the strings.
    kind : {"smiles", "dna"}, optional
        Required for files and strings unless guessed: strings made only of
        ``ACGTN`` (any case) are DNA.
    limit : int, optional
        Keep the first ``limit`` raw entries.
    max_length : int, optional
        Drop sequences longer than this (tokens).
    invalid : {"skip", "error"}, default "skip"
        Invalid entries are dropped and counted, or raise ValueError.
    canonicalize : bool, optional
        SMILES only; default True except for MOSES (already canonical).

    Examples
    --------
    >>> from sciddm.discrete import load_sequences
    >>> load_sequences(["ACGT", "acgt", "TTTT"]).sequences
    ['ACGT', 'TTTT']
    """
    check_choice(invalid, "invalid", ("skip", "error"))
    if limit is not None:
        limit = check_int(limit, "limit", lo=1)
    if (
        isinstance(source, str)
        and source.lower() in ("nci", "ars")
        or (isinstance(source, str) and source.lower().split(":")[0] == "moses")
    ):
        name = source.lower()  # type: ignore[union-attr]
        if name == "ars":
            if kind not in (None, "dna"):
                raise ValueError(f"`kind` must be 'dna' for the ARS data, got {kind!r}")
            d = load_ars_sequences(limit=limit, dedup=dedup)
            if max_length is not None:
                d = prepare_dna(d.sequences, values=d.values, max_length=max_length, source="ars")
            return d
        if kind not in (None, "smiles"):
            raise ValueError(f"`kind` must be 'smiles' for {name!r}, got {kind!r}")
        if name == "nci":
            require("rdkit", "chem", purpose="the NCI SMILES")
            from sciddm.chem.data import read_nci_smiles

            raw = read_nci_smiles()[:limit]
            return prepare_smiles(
                raw,
                canonicalize=True if canonicalize is None else canonicalize,
                dedup=dedup,
                invalid=invalid,
                max_length=max_length,
                source="nci",
            )
        split = name.split(":", 1)[1] if ":" in name else "train"
        return load_moses_smiles(
            split,
            limit=limit,
            canonicalize=bool(canonicalize),
            dedup=dedup,
            invalid="keep" if not canonicalize else invalid,
            max_length=max_length,
        )
    if isinstance(source, (str, os.PathLike)):
        raw = read_sequence_file(source)
        name = str(source)
    else:
        raw = as_str_list(source, "source")
        name = "memory"
    raw = raw[:limit]
    if not raw:
        raise ValueError(f"no sequences in {name!r}: the dataset is empty")
    if kind is None:
        kind = "dna" if all(set(s.upper()) <= set("ACGTN") for s in raw[:1000]) else "smiles"
    check_choice(kind, "kind", ("smiles", "dna"))
    if kind == "dna":
        return prepare_dna(raw, dedup=dedup, invalid=invalid, max_length=max_length, source=name)
    return prepare_smiles(
        raw,
        canonicalize=True if canonicalize is None else canonicalize,
        dedup=dedup,
        invalid=invalid,
        max_length=max_length,
        source=name,
    )
