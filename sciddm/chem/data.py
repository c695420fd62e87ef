"""Raw molecule datasets shipped inside pip packages (nothing is downloaded).

- :func:`read_nci_smiles`: the 4,999 SMILES of RDKit's ``Data/NCI/first_5K.smi``
  (always present with RDKit).
- :func:`read_moses_smiles`: the MOSES benchmark splits (Polykovskiy et al. 2020)
  shipped in the ``molsets`` wheel as ``moses/dataset/data/<split>.csv.gz``.
  ``import moses`` fails on current RDKit, so the file is located with
  :func:`importlib.util.find_spec` and read directly, without importing the package.

These readers return the strings as stored; tokenisation and training loaders live in
:func:`sciddm.discrete.load_sequences` and the tokenizers of :mod:`sciddm.discrete`.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

from sciddm._core.validation import check_choice, check_int

__all__ = ["MOSES_SPLITS", "moses_path", "nci_path", "read_moses_smiles", "read_nci_smiles"]

MOSES_SPLITS = ("train", "test", "test_scaffolds")


def _package_dir(module: str) -> Path | None:
    """Folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # pragma: no cover - broken metadata
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    if spec.origin:  # pragma: no cover - single-module package
        return Path(spec.origin).parent
    return None  # pragma: no cover


def nci_path() -> Path:
    """Path of RDKit's ``Data/NCI/first_5K.smi``.

    Raises
    ------
    ImportError
        If RDKit (extra ``chem``) is not installed.
    """
    root = _package_dir("rdkit")
    if root is None:
        raise ImportError(
            "rdkit is required for the NCI molecules but is not installed; "
            "install the extra with: pip install 'sciddm[chem]'"
        )
    path = root / "Data" / "NCI" / "first_5K.smi"
    if not path.exists():  # pragma: no cover - stripped RDKit build
        raise FileNotFoundError(f"RDKit is installed but {path} is missing")
    return path


def read_nci_smiles() -> list[str]:
    """SMILES of RDKit's NCI sample ``Data/NCI/first_5K.smi``, in file order.

    Returns
    -------
    list of str
        4,999 SMILES strings (the first column of the file; the second column, an
        index, is dropped).

    Raises
    ------
    ImportError
        If RDKit (extra ``chem``) is not installed.

    Examples
    --------
    >>> from sciddm.chem.data import read_nci_smiles
    >>> smiles = read_nci_smiles()
    >>> len(smiles), smiles[0]
    (4999, 'CC1=CC(=O)C=CC1=O')
    """
    out: list[str] = []
    with open(nci_path(), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if parts:
                out.append(parts[0])
    return out


def moses_path(split: str = "train") -> Path:
    """Path of the MOSES ``<split>.csv.gz`` inside the installed ``molsets`` wheel.

    Raises
    ------
    ImportError
        If ``molsets`` is not installed.
    """
    check_choice(split, "split", MOSES_SPLITS)
    root = _package_dir("moses")
    hint = (
        "the MOSES data need the `molsets` package, installed without its (unbuildable) "
        "pinned dependencies: pip install --no-deps molsets"
    )
    if root is None:
        raise ImportError(hint)
    path = root / "dataset" / "data" / f"{split}.csv.gz"
    if not path.exists():
        raise ImportError(f"{path} is missing; {hint}")
    return path


def read_moses_smiles(split: str = "train", *, limit: int | None = None) -> list[str]:
    """SMILES of a MOSES split, read from the ``molsets`` wheel without importing it.

    Parameters
    ----------
    split : {"train", "test", "test_scaffolds"}, default "train"
        The MOSES split (1,584,663 / 176,074 / 176,226 molecules).
    limit : int, optional
        Read only the first ``limit`` molecules (file order).

    Returns
    -------
    list of str

    Raises
    ------
    ImportError
        If ``molsets`` is missing (install it with ``pip install --no-deps molsets``).
    ValueError
        If ``split`` is unknown or ``limit`` is negative.

    References
    ----------
    .. [1] Polykovskiy et al., "Molecular Sets (MOSES): A Benchmarking Platform for
       Molecular Generation Models", Frontiers in Pharmacology 11 (2020).

    Examples
    --------
    >>> from sciddm.chem.data import read_moses_smiles
    >>> read_moses_smiles("test", limit=2)
    ['CC1C2CCC(C2)C1CN(CCO)C(=O)c1ccc(Cl)cc1', 'COc1ccc(-c2cc(=O)c3c(O)c(OC)c(OC)cc3o2)cc1O']
    """
    check_choice(split, "split", MOSES_SPLITS)
    if limit is not None:
        limit = check_int(limit, "limit", lo=0)
    path = moses_path(split)
    if split != "train" and (limit is None or limit > 10_000):  # the test splits: cached
        return list(_read_split(str(path))[:limit])
    return _read_file(path, limit)


@functools.lru_cache(maxsize=1)
def _read_split(path: str) -> tuple[str, ...]:
    """A whole test split, parsed once per process (0.3 s, about 15 MB)."""
    return tuple(_read_file(Path(path), None))


def _read_file(path: Path, limit: int | None) -> list[str]:
    out: list[str] = []
    if limit == 0:
        return out
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
        col = header.index("SMILES") if "SMILES" in header else 0
        for line in fh:
            line = line.strip()
            if not line:
                continue
            out.append(line.split(",")[col] if len(header) > 1 else line)
            if limit is not None and len(out) >= limit:
                break
    return out
