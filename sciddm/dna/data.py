"""Raw DNA datasets shipped inside pip packages (nothing is downloaded).

:func:`read_ars` reads the yeast ARS1 mutational library shipped with ``logomaker``
(``logomaker/examples/datafiles/ars_sequences.txt.gz``): 603,569 variants of the 150-bp
ARS1 (ARS416) origin of replication with their read counts before (``library_ct``) and
after (``selected_ct``) a selection for replication, as in the arsMut-seq assay of
Liachko et al. (2013). It is a real sequence -> fitness dataset.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np

from sciddm._core.results import Result
from sciddm._core.validation import check_int

__all__ = ["ArsLibrary", "ars_path", "read_ars"]

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def _logomaker_dir() -> Path:
    # the data file is located without importing logomaker (which imports matplotlib
    # and pandas); a missing package gets sciddm's usual message naming the extra
    spec = importlib.util.find_spec("logomaker")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "logomaker is required for the ARS data but is not installed; "
            "install the extra with: pip install 'sciddm[dna]'"
        )
    return Path(list(spec.submodule_search_locations)[0])


def ars_path() -> Path:
    """Path of ``ars_sequences.txt.gz`` inside the installed ``logomaker``.

    Raises
    ------
    ImportError
        If logomaker (extra ``dna``) is not installed.
    """
    path = _logomaker_dir() / "examples" / "datafiles" / "ars_sequences.txt.gz"
    if not path.exists():  # pragma: no cover - stripped wheel
        raise FileNotFoundError(f"logomaker is installed but {path} is missing")
    return path


@dataclasses.dataclass(frozen=True, repr=False)
class ArsLibrary(Result):
    """The ARS1 variant library: sequences, read counts and log-enrichment.

    Attributes
    ----------
    sequences : list of str
        Upper-case ACGT sequences, all 150 bp, in file order (all distinct).
    library_ct : ndarray of int64
        Reads of each variant in the unselected library (the file's ``library_ct``).
    selected_ct : ndarray of int64
        Reads of each variant after selection (the file's ``selected_ct``).
    log_enrichment : ndarray of float64
        ``log((selected_ct + 1) / (library_ct + 1))`` minus its median over the whole
        file, i.e. the natural-log enrichment with a pseudo-count of one read, centred
        so that the typical variant scores 0 (the centring also absorbs the different
        sequencing depths of the two columns). Variants with few reads are noisy; see
        ``total_ct``.
    wild_type : str
        The 150-bp ARS1 wild-type sequence in the library's orientation (the reverse
        complement of logomaker's ``ars_wt_sequence.txt``, which is on the minus strand).

    Notes
    -----
    The median used for centring is computed once over all 603,569 variants, so a
    ``limit``-ed read has the same values as the head of the full one.

    Examples
    --------
    >>> from sciddm.dna import read_ars
    >>> ars = read_ars(limit=2)
    >>> len(ars), ars.length, ars.total_ct.tolist()
    (2, 150, [666, 292])
    """

    sequences: list[str]
    library_ct: np.ndarray
    selected_ct: np.ndarray
    log_enrichment: np.ndarray
    wild_type: str

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def total_ct(self) -> np.ndarray:
        """``library_ct + selected_ct``, a proxy of each measurement's precision."""
        return self.library_ct + self.selected_ct

    @property
    def length(self) -> int:
        """The common sequence length (150)."""
        return len(self.wild_type)


@functools.lru_cache(maxsize=1)
def _read_all() -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float, str]:
    path = ars_path()
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    body = [ln for ln in raw.split(b"\n") if ln.strip() and not ln.startswith(b"#")]
    if body and body[0].startswith(b"library_ct"):
        body = body[1:]
    tokens = b" ".join(body).split()  # library_ct, selected_ct, sequence per line
    if len(tokens) % 3:  # pragma: no cover - a damaged file
        raise ValueError(f"{path} does not hold three columns per line")
    lib_a = np.array(tokens[0::3]).astype(np.int64)
    sel_a = np.array(tokens[1::3]).astype(np.int64)
    seqs = tuple(t.decode("ascii").upper() for t in tokens[2::3])
    median = float(np.median(np.log((sel_a + 1.0) / (lib_a + 1.0))))
    wt_file = path.parent / "ars_wt_sequence.txt"
    wt = ""
    if wt_file.exists():
        lines = [ln.strip() for ln in wt_file.read_text().splitlines()]
        wt = "".join(ln for ln in lines if ln and not ln.startswith("#")).upper()
        wt = wt[::-1].translate(_COMPLEMENT)
    lib_a.setflags(write=False)
    sel_a.setflags(write=False)
    return seqs, lib_a, sel_a, median, wt


def read_ars(*, limit: int | None = None) -> ArsLibrary:
    """Read logomaker's yeast ARS1 library (sequences, counts, log-enrichment).

    Parameters
    ----------
    limit : int, optional
        Keep only the first ``limit`` variants (file order, which is sorted by
        decreasing ``library_ct``).

    Returns
    -------
    ArsLibrary

    Raises
    ------
    ImportError
        If logomaker (extra ``dna``) is not installed.
    ValueError
        If ``limit`` is negative.

    Notes
    -----
    The whole file (603,569 lines, 11 MB gzipped) is parsed once per process and
    cached; later calls only slice.

    References
    ----------
    .. [1] Liachko I. et al., "High-resolution mapping, characterization, and
       optimization of autonomously replicating sequences in yeast", Genome Research
       23(4):698-704 (2013).
    .. [2] Tareen A. & Kinney J. B., "Logomaker: beautiful sequence logos in Python",
       Bioinformatics 36(7):2272-2274 (2020) (ships the data file).

    Examples
    --------
    >>> from sciddm.dna.data import read_ars
    >>> ars = read_ars(limit=3)
    >>> len(ars), len(ars.sequences[0]), ars.library_ct.tolist(), ars.selected_ct.tolist()
    (3, 150, [666, 292, 224], [0, 0, 0])
    """
    if limit is not None:
        limit = check_int(limit, "limit", lo=0)
    seqs, lib, sel, median, wt = _read_all()
    stop = len(seqs) if limit is None else min(limit, len(seqs))
    lib_s = np.array(lib[:stop])
    sel_s = np.array(sel[:stop])
    le = np.log((sel_s + 1.0) / (lib_s + 1.0)) - median
    return ArsLibrary(
        sequences=list(seqs[:stop]),
        library_ct=lib_s,
        selected_ct=sel_s,
        log_enrichment=le,
        wild_type=wt,
    )
