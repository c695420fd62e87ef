"""Per-molecule RDKit properties with a canonical-SMILES cache and a process pool.

Every property is computed from one RDKit parse of the SMILES. Invalid SMILES (RDKit
returns no molecule, or the string is empty) get NaN here; the reward functions of
:mod:`sciddm.chem._rewards` turn NaN into a documented floor value.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sciddm._core.extras import require
from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int

__all__ = [
    "PROPERTIES",
    "MoleculeProperties",
    "PropertyCache",
    "canonical_smiles",
    "molecule_properties",
    "sa_score",
]

logger = logging.getLogger(__name__)

#: The properties :func:`molecule_properties` can compute.
PROPERTIES = (
    "qed",
    "sa",
    "sa_norm",
    "logp",
    "mw",
    "heavy_atoms",
    "n_rings",
    "max_ring_size",
)

_SASCORER: ModuleType | None = None


def _chem() -> Any:
    chem = require("rdkit.Chem", "chem", purpose="molecule rewards")
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # invalid SMILES are expected, not errors
    return chem


def _sascorer() -> ModuleType:
    """Import RDKit's Contrib ``SA_Score/sascorer.py`` (Ertl & Schuffenhauer 2009)."""
    global _SASCORER
    if _SASCORER is not None:
        return _SASCORER
    _chem()
    spec = importlib.util.find_spec("rdkit")
    assert spec is not None and spec.submodule_search_locations
    path = Path(list(spec.submodule_search_locations)[0]) / "Contrib" / "SA_Score" / "sascorer.py"
    if not path.exists():  # pragma: no cover - stripped RDKit build
        raise ImportError(f"RDKit's SA scorer {path} is missing; reinstall rdkit")
    mod_spec = importlib.util.spec_from_file_location("_sciddm_sascorer", path)
    assert mod_spec is not None and mod_spec.loader is not None
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    mod.readFragmentScores()  # load fpscores.pkl.gz once
    _SASCORER = mod
    return mod


def _mol(smiles: str) -> Any:
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    return _chem().MolFromSmiles(smiles)


def canonical_smiles(smiles: str) -> str | None:
    """RDKit canonical SMILES of ``smiles``, or None if it does not parse.

    Examples
    --------
    >>> from sciddm.chem import canonical_smiles
    >>> canonical_smiles("OC(=O)c1ccccc1OC(C)=O")
    'CC(=O)Oc1ccccc1C(=O)O'
    >>> canonical_smiles("C1CC") is None
    True
    """
    mol = _mol(smiles)
    return None if mol is None else _chem().MolToSmiles(mol)


def sa_score(smiles: str) -> float:
    """Synthetic accessibility score (1 = easy ... 10 = hard); NaN if invalid.

    Notes
    -----
    RDKit's Contrib implementation of Ertl & Schuffenhauer: fragment contributions
    from PubChem frequencies minus complexity penalties (size, stereo centres,
    macrocycles, spiro/bridgehead atoms), rescaled to [1, 10].

    References
    ----------
    .. [1] Ertl P., Schuffenhauer A., "Estimation of synthetic accessibility score of
       drug-like molecules based on molecular complexity and fragment contributions",
       J. Cheminformatics 1:8 (2009).

    Examples
    --------
    >>> from sciddm.chem import sa_score
    >>> round(sa_score("CC(=O)Oc1ccccc1C(=O)O"), 2)
    1.58
    """
    mol = _mol(smiles)
    return math.nan if mol is None else float(_sascorer().calculateScore(mol))


def _compute(mol: Any, names: Iterable[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    ring_sizes: list[int] | None = None
    for name in names:
        if name == "qed":
            from rdkit.Chem import QED

            out[name] = float(QED.qed(mol))
        elif name in ("sa", "sa_norm"):
            if "sa" not in out:
                out["sa"] = float(_sascorer().calculateScore(mol))
            out["sa_norm"] = (10.0 - out["sa"]) / 9.0
        elif name == "logp":
            from rdkit.Chem import Crippen

            out[name] = float(Crippen.MolLogP(mol))  # type: ignore[attr-defined]
        elif name == "mw":
            from rdkit.Chem import Descriptors

            out[name] = float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]
        elif name == "heavy_atoms":
            out[name] = float(mol.GetNumHeavyAtoms())
        elif name in ("n_rings", "max_ring_size"):
            if ring_sizes is None:
                ring_sizes = [len(r) for r in mol.GetRingInfo().AtomRings()]
            out["n_rings"] = float(len(ring_sizes))
            out["max_ring_size"] = float(max(ring_sizes, default=0))
        else:  # pragma: no cover - validated upstream
            raise ValueError(name)
    return {k: out[k] for k in names}


def _compute_batch(canon: Sequence[str], names: tuple[str, ...]) -> list[dict[str, float]]:
    chem = _chem()
    return [_compute(chem.MolFromSmiles(s), names) for s in canon]


class PropertyCache:
    """Memo of molecule properties keyed by canonical SMILES.

    Two maps: raw input string -> canonical SMILES (``None`` if invalid), and
    canonical SMILES -> {property: value}. Different spellings of one molecule share
    one entry. When either map exceeds ``max_size`` entries the oldest half is dropped.

    Parameters
    ----------
    max_size : int, default 1_000_000

    Attributes
    ----------
    hits, misses : int
        Property look-ups served from / added to the cache.

    Examples
    --------
    >>> from sciddm.chem import PropertyCache, molecule_properties
    >>> cache = PropertyCache()
    >>> _ = molecule_properties(["CCO", "OCC", "C1CC"], ["qed"], cache=cache)
    >>> len(cache), cache.misses, cache.hits
    (1, 1, 1)
    """

    def __init__(self, max_size: int = 1_000_000) -> None:
        self.max_size = check_int(max_size, "max_size", lo=1)
        self._canon: dict[str, str | None] = {}
        self._values: dict[str, dict[str, float]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget everything."""
        self._canon.clear()
        self._values.clear()
        self.hits = self.misses = 0

    @staticmethod
    def _trim(d: dict[Any, Any], max_size: int) -> None:
        if len(d) > max_size:
            for key in list(d)[: len(d) - max_size // 2]:
                del d[key]

    def canonical(
        self, smiles: Sequence[str], mols: dict[str, Any] | None = None
    ) -> list[str | None]:
        """Canonical SMILES of each string (None if invalid), memoised.

        If ``mols`` is a dict, the molecules parsed on the way are stored in it by
        canonical SMILES, so that callers need not parse them again.
        """
        out: list[str | None] = []
        chem = None
        for s in smiles:
            c = self._canon.get(s, "") if isinstance(s, str) else None
            if c == "":
                if chem is None:
                    chem = _chem()
                mol = _mol(s)
                c = None if mol is None else chem.MolToSmiles(mol)
                self._canon[s] = c
                if mols is not None and c is not None:
                    mols.setdefault(c, mol)
            out.append(c)
        self._trim(self._canon, self.max_size)
        return out


def _parallel_compute(
    todo: list[str], names: tuple[str, ...], n_jobs: int
) -> list[dict[str, float]]:
    from joblib import Parallel, delayed

    n_chunks = min(len(todo), 4 * n_jobs)
    bounds = np.linspace(0, len(todo), n_chunks + 1).astype(int)
    chunks = [todo[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    parts = Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(_compute_batch)(c, names) for c in chunks
    )
    return [d for part in parts for d in part]


@dataclasses.dataclass(frozen=True, repr=False)
class MoleculeProperties(Result):
    """Properties of a batch of SMILES (NaN where the SMILES is invalid).

    Attributes
    ----------
    smiles : list of str
        The inputs.
    canonical : list of str or None
        RDKit canonical SMILES, None for invalid inputs.
    valid : ndarray of bool
    values : dict of str -> ndarray of float64
        One array per requested property; see :data:`PROPERTIES`.
    """

    smiles: list[str]
    canonical: list[str | None]
    valid: np.ndarray
    values: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def molecule_properties(
    smiles: Sequence[str],
    properties: Sequence[str] = ("qed", "sa_norm"),
    *,
    cache: PropertyCache | None = None,
    n_jobs: int = 1,
    parallel_threshold: int = 2000,
) -> MoleculeProperties:
    """RDKit properties of a batch of SMILES, cached and optionally in parallel.

    Parameters
    ----------
    smiles : sequence of str
        Invalid or empty strings are allowed: their properties are NaN.
    properties : sequence of str, default ("qed", "sa_norm")
        Any of :data:`PROPERTIES`: ``qed`` (Bickerton et al. 2012, ``rdkit.Chem.QED``),
        ``sa`` (Ertl & Schuffenhauer SA score in [1, 10]), ``sa_norm`` = (10 - SA)/9 in
        [0, 1] (higher = easier), ``logp`` (Crippen), ``mw`` (average molecular weight),
        ``heavy_atoms``, ``n_rings``, ``max_ring_size`` (0 when acyclic).
    cache : PropertyCache, optional
        Memo keyed by canonical SMILES, reused across calls.
    n_jobs : int, default 1
        Worker processes (joblib/loky) for the molecules not in the cache; used only
        when at least ``parallel_threshold`` molecules need computing.
    parallel_threshold : int, default 2000

    Returns
    -------
    MoleculeProperties

    Examples
    --------
    >>> from sciddm.chem import molecule_properties
    >>> p = molecule_properties(["CC(=O)Oc1ccccc1C(=O)O", "not a smiles"], ["qed", "sa"])
    >>> p.valid.tolist(), round(float(p["qed"][0]), 3), round(float(p["sa"][0]), 2)
    ([True, False], 0.55, 1.58)
    """
    names = tuple(dict.fromkeys(check_choice(p, "properties", PROPERTIES) for p in properties))
    if not names:
        raise ValueError("`properties` must name at least one property")
    n_jobs = check_int(n_jobs, "n_jobs", lo=1)
    parallel_threshold = check_int(parallel_threshold, "parallel_threshold", lo=1)
    smiles = list(smiles)
    local = cache if cache is not None else PropertyCache()
    parsed: dict[str, Any] = {}
    canon = local.canonical(smiles, parsed)
    # unique canonical SMILES whose requested properties are not all known
    todo: list[str] = []
    seen: set[str] = set()
    for c in canon:
        if c is None or c in seen:
            continue
        seen.add(c)
        known = local._values.get(c)
        if known is None or any(n not in known for n in names):
            todo.append(c)
    n_unique = len(seen)
    local.misses += len(todo)
    local.hits += sum(c is not None for c in canon) - len(todo)
    if todo:
        if n_jobs > 1 and len(todo) >= parallel_threshold:
            computed = _parallel_compute(todo, names, n_jobs)
        else:
            chem = _chem()
            computed = [
                _compute(parsed[c] if c in parsed else chem.MolFromSmiles(c), names) for c in todo
            ]
        for c, d in zip(todo, computed):
            local._values.setdefault(c, {}).update(d)
        local._trim(local._values, local.max_size)
    logger.debug(
        "molecule_properties: %d inputs, %d unique, %d computed", len(smiles), n_unique, len(todo)
    )
    valid = np.array([c is not None for c in canon], dtype=bool)
    values = {n: np.full(len(smiles), np.nan) for n in names}
    for i, c in enumerate(canon):
        if c is None:
            continue
        known = local._values.get(c)
        d = known if known is not None else _compute_batch([c], names)[0]  # evicted
        for n in names:
            values[n][i] = d[n]
    return MoleculeProperties(smiles=smiles, canonical=canon, valid=valid, values=values)
