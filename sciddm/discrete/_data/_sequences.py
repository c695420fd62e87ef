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
import zlib
from collections.abc import Callable, Iterator, Sequence
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
    "read_sequence_lines",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, repr=False)
class SequenceData(Result):
    """Cleaned sequences and what the cleaning removed.

    Attributes
    ----------
    sequences : list of str
        The cleaned sequences.
    kind : {"smiles", "dna"}
        What they are.
    values : numpy.ndarray or None
        A per-sequence measurement when the source has one (ARS:
        log-enrichment), aligned with ``sequences``.
    n_read, n_invalid, n_duplicates, n_too_long : int
        Sequences read, and removed as invalid, duplicate or too long.
    source : str
        Where the sequences came from.

    Examples
    --------
    >>> from sciddm.discrete import prepare_dna
    >>> d = prepare_dna(["ACGT", "acgt", "AXGT"], invalid="skip")
    >>> d.sequences, d.n_read, d.n_duplicates, d.n_invalid
    (['ACGT'], 3, 1, 1)
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
    """``seqs`` as a list of str; TypeError naming ``name`` otherwise."""
    if isinstance(seqs, (str, bytes)):
        raise TypeError(
            f"`{name}` must be a sequence of strings, not a single {type(seqs).__name__}"
        )
    if not np.iterable(seqs):
        raise TypeError(f"`{name}` must be a sequence of strings, got {type(seqs).__name__}")
    out = list(seqs)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise TypeError(f"`{name}[{i}]` must be a str, got {type(s).__name__}")
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
        The SMILES strings.
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
    return _smiles(
        as_str_list(smiles, "smiles"),
        canonicalize=canonicalize,
        dedup=dedup,
        invalid=invalid,
        max_length=max_length,
        source=source,
        where=_at_index,
    )


def _at_index(i: int) -> str:
    return f"index {i}"


def _smiles(
    smiles: list[str],
    *,
    canonicalize: bool,
    dedup: bool,
    invalid: str,
    max_length: int | None,
    source: str,
    where: Callable[[int], str],
) -> SequenceData:
    """:func:`prepare_smiles` on checked strings; ``where(i)`` locates entry ``i`` in messages."""
    check_choice(invalid, "invalid", ("skip", "error", "keep"))
    if max_length is not None:
        max_length = check_int(max_length, "max_length", lo=1)
    if invalid == "keep" and canonicalize:
        raise ValueError("`invalid='keep'` needs `canonicalize=False` (RDKit cannot canonicalise)")
    kept: list[str] = []
    n_invalid = 0
    if invalid == "keep":
        kept = smiles
    else:
        Chem = require("rdkit.Chem", "chem", purpose="checking SMILES")
        with _quiet_rdkit():
            for i, s in enumerate(smiles):
                out = _check_one_smiles(Chem, s, canonicalize)
                if out is None:
                    if invalid == "error":
                        raise ValueError(
                            f"invalid SMILES at {where(i)}: {s[:80]!r} (RDKit cannot parse it); "
                            "pass invalid='skip' to drop and count such entries"
                        )
                    n_invalid += 1
                    continue
                kept.append(out)
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


def _check_one_smiles(Chem: Any, s: str, canonicalize: bool) -> str | None:
    """The (canonical) SMILES, or None when RDKit or the tokenizer cannot read it."""
    mol = Chem.MolFromSmiles(s) if s.strip() else None
    if mol is None:
        return None
    out = Chem.MolToSmiles(mol) if canonicalize else s
    try:
        split_smiles(out)
    except ValueError:
        return None
    return str(out)


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
        DNA strings (any case).
    values : sequence of float, optional
        Finite per-sequence measurements carried along (first occurrence kept).
    dedup : bool, default True
        Drop repeated sequences.
    invalid : {"error", "skip"}, default "error"
        Sequences with a character other than A, C, G, T (and N when
        ``allow_n``) raise ValueError naming it, or are dropped and counted.
    allow_n : bool, default False
        Accept ``N`` (unknown base).
    max_length : int, optional
        Drop longer sequences.
    source : str, default "memory"
        Name recorded in the result.

    Returns
    -------
    SequenceData

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
    return _dna(
        as_str_list(sequences, "sequences"),
        values=values,
        dedup=dedup,
        invalid=invalid,
        allow_n=allow_n,
        max_length=max_length,
        source=source,
        where=_at_index,
    )


def _values_iv(values: Any, n: int) -> np.ndarray | None:
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not np.iterable(values):
        raise TypeError(f"`values` must be a sequence of numbers, got {type(values).__name__}")
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`values` must be a sequence of numbers: {exc}") from None
    if arr.shape[0] != n:
        raise ValueError(
            f"`values` and `sequences` must have the same length, got {arr.shape[0]} and {n}"
        )
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"`values` must be finite, got {arr[bad]} at index {bad}")
    return arr


def _dna(
    seqs: list[str],
    *,
    values: Any,
    dedup: bool,
    invalid: str,
    allow_n: bool,
    max_length: int | None,
    source: str,
    where: Callable[[int], str],
) -> SequenceData:
    """:func:`prepare_dna` on checked strings; ``where(i)`` locates entry ``i`` in messages."""
    check_choice(invalid, "invalid", ("skip", "error"))
    if max_length is not None:
        max_length = check_int(max_length, "max_length", lo=1)
    vals = _values_iv(values, len(seqs))
    alphabet = set("ACGTN" if allow_n else "ACGT")
    kept: list[str] = []
    kept_vals: list[float] | None = None if vals is None else []
    n_invalid = 0
    for i, s in enumerate(seqs):
        up = s.upper()
        bad = next((j for j, c in enumerate(up) if c not in alphabet), None)
        if bad is not None or not up:
            if invalid == "error":
                what = (
                    "empty sequence"
                    if bad is None
                    else f"unknown symbol {s[bad]!r} at position {bad}"
                )
                raise ValueError(f"invalid DNA sequence at {where(i)}: {what} of {s[:60]!r}")
            n_invalid += 1
            continue
        kept.append(up)
        if kept_vals is not None and vals is not None:
            kept_vals.append(float(vals[i]))
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


def _loader_iv(**kw: Any) -> None:
    """Checks of the loaders' options, before anything is read."""
    for name in ("canonicalize", "dedup"):
        if name in kw and not isinstance(kw[name], (bool, np.bool_)):
            raise TypeError(f"`{name}` must be True or False, got {kw[name]!r}")
    for name in ("max_length", "limit"):
        if kw.get(name) is not None:
            check_int(kw[name], name, lo=1)


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

    Parameters
    ----------
    canonicalize : bool, default True
        RDKit canonical SMILES.
    dedup : bool, default True
        Drop repeated molecules.
    invalid : {"skip", "error"}, default "skip"
        What to do with unparsable entries.
    max_length : int, optional
        Drop molecules with more atom-level tokens.

    Returns
    -------
    SequenceData

    Examples
    --------
    >>> from sciddm.discrete import load_nci_smiles
    >>> d = load_nci_smiles(max_length=40)
    >>> d.n_read, len(d) > 3000, d.n_invalid
    (4999, True, 8)
    """
    _loader_iv(canonicalize=canonicalize, dedup=dedup, max_length=max_length)
    check_choice(invalid, "invalid", ("skip", "error"))
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
        The MOSES file.
    limit : int, optional
        First ``limit`` molecules of the file.
    canonicalize, dedup, invalid, max_length
        As in :func:`prepare_smiles`.

    Returns
    -------
    SequenceData

    Examples
    --------
    >>> from sciddm.discrete import load_moses_smiles
    >>> len(load_moses_smiles("test", limit=100))
    100
    """
    check_choice(split, "split", ("train", "test", "test_scaffolds"))
    _loader_iv(canonicalize=canonicalize, dedup=dedup, max_length=max_length, limit=limit)
    check_choice(invalid, "invalid", ("skip", "error", "keep"))
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
    dedup : bool, default True
        Drop repeated sequences.

    Returns
    -------
    SequenceData

    Examples
    --------
    >>> from sciddm.discrete import load_ars_sequences
    >>> d = load_ars_sequences(limit=50)
    >>> len(d), len(d.sequences[0]), d.values.shape
    (50, 150, (50,))
    """
    _loader_iv(dedup=dedup, limit=limit)
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
    first. The file must be UTF-8 text: a bad byte or a short CSV row raises
    ValueError naming the file and the line.

    Parameters
    ----------
    path : str or path-like
        The file.
    column : str, optional
        CSV column to read.

    Returns
    -------
    list of str
        The sequences, in file order.

    Raises
    ------
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sciddm.discrete import read_sequence_file
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.smi"
    >>> _ = p.write_text("CCO 1\\n# comment\\n\\nc1ccccc1 2\\n")
    >>> read_sequence_file(p)
    ['CCO', 'c1ccccc1']
    """
    return read_sequence_lines(path, column=column)[0]


def _decode_lines(p: Path) -> list[str]:
    """The lines of ``p`` (gzip when it ends in .gz), UTF-8; errors name the file and line."""
    if not p.exists():
        raise FileNotFoundError(f"no sequence file at {str(p)!r}")
    if p.is_dir():
        raise ValueError(f"{str(p)!r} is a folder, not a sequence file")
    try:
        if p.suffix == ".gz":
            with gzip.open(p, "rb") as fh:
                data = fh.read()
        else:
            data = p.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"cannot read the sequence file {str(p)!r}: {exc}") from None
    lines = []
    for i, raw in enumerate(data.split(b"\n")):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{str(p)!r}, line {i + 1}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                f"column {exc.start + 1}); a sequence file must be UTF-8 text"
            ) from None
        if "\x00" in lines[-1]:
            raise ValueError(f"{str(p)!r}, line {i + 1}: a NUL byte; is this a binary file?")
    return lines


def read_sequence_lines(
    path: str | os.PathLike[str], *, column: str | None = None
) -> tuple[list[str], list[int]]:
    """:func:`read_sequence_file` and the 1-based line number of each sequence."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a path, got {type(path).__name__}")
    p = Path(path)
    lines = _decode_lines(p)
    stem_suffix = Path(p.stem).suffix if p.suffix == ".gz" else p.suffix
    if stem_suffix != ".csv":
        out, where = [], []
        for i, line in enumerate(lines):
            s = line.strip()
            if s and not s.startswith("#"):
                out.append(s.split()[0])
                where.append(i + 1)
        return out, where
    import csv

    rows = list(csv.reader(lines))
    if not rows:
        return [], []
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    if column is not None:
        if column not in header:
            raise ValueError(f"`column` {column!r} is not in the header {header} of {str(p)!r}")
        col = header.index(column)
    else:
        col = next((lower.index(c) for c in ("smiles", "sequence") if c in lower), 0)
    out, where = [], []
    for i, r in enumerate(rows[1:], start=2):
        if not any(f.strip() for f in r):
            continue
        if len(r) <= col:
            raise ValueError(
                f"{str(p)!r}, line {i}: {len(r)} field(s), but the column {header[col]!r} is "
                f"field {col + 1} of the header"
            )
        if r[col].strip():
            out.append(r[col].strip())
            where.append(i)
    return out, where


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
    dedup : bool, default True
        Drop repeated sequences.

    Returns
    -------
    SequenceData
        The cleaned sequences; with a file, error messages name its lines.

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
    where: Callable[[int], str] = _at_index
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise ValueError(
                f"no sequence file at {str(source)!r}, and `source` is not a dataset name "
                "(nci, moses, moses:test, ars)"
            )
        raw, lines = read_sequence_lines(source)
        name = str(source)
        where = lambda i: f"line {lines[i]} of {name!r}"  # noqa: E731
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
        return _dna(raw, values=None, dedup=dedup, invalid=invalid, allow_n=False,
                    max_length=max_length, source=name, where=where)  # fmt: skip
    return _smiles(
        raw,
        canonicalize=True if canonicalize is None else canonicalize,
        dedup=dedup,
        invalid=invalid,
        max_length=max_length,
        source=name,
        where=where,
    )
