"""The MOSES molecular filters: medicinal-chemistry (MCF) and PAINS substructures.

MOSES (Polykovskiy et al. 2020) built its data set from molecules that pass these
filters, and reports the fraction of generated molecules that pass them ("Filters").
A molecule passes when it has no ring of eight or more atoms, no charged atom, only the
atoms C, N, S, O, F, Cl, Br, H, and matches none of the 22 MCF SMARTS below nor any of
the 480 PAINS SMARTS (Baell & Holloway 2010), substructures being matched on the
molecule with explicit hydrogens.

The PAINS SMARTS are read from the ``molsets`` wheel's copy (``moses/metrics/
wehi_pains.csv``, the exact MOSES definition) when it is installed, else from RDKit's
``Data/Pains/wehi_pains.csv``, in which 17 of the 480 patterns were later revised.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from pathlib import Path
from typing import Any

from sciddm.chem._props import _chem

__all__ = ["MCF_SMARTS"]

#: The 22 medicinal-chemistry filter SMARTS of MOSES (``moses/metrics/mcf.csv``,
#: Polykovskiy et al. 2020): reactive or unstable groups such as Michael acceptors,
#: epoxides, aziridines, aldehydes, azo and peroxide-like N/S chains, poly-halogens.
MCF_SMARTS = (
    "[#6]=&!@[#6]-[#6]#[#7]",
    "[#6]=&!@[#6]-[#16](=[#8])=[#8]",
    "[#6]=&!@[#6&!H0]-&!@[#6](=[#8])-&!@[#7]",
    "[H]C([H])([#6])[F,Cl,Br,I]",
    "[#6]1-[#8]-[#6]-1",
    "[#6]-[#7]=[#6]=[#8]",
    "[#6&!H0]=[#8]",
    "[#6](=&!@[#7&!H0])-&!@[#6,#7,#8,#16]",
    "[#6]1-[#7]-[#6]-1",
    "[#6]~&!@[#7]~&!@[#7]~&!@[#6]",
    "[#7]=&!@[#7]",
    "[H][#6]-1=[#6]([H])-[#6]=[#6](-*)-[#8]-1",
    "[H][#6]-1=[#6]([H])-[#6]=[#6](-*)-[#16]-1",
    "[#17,#35,#53]-c(:*):[!#1!#6]:*",
    "[H][#7]([H])-[#6]-1=[#6]-[#6]=[#6]-[#6]=[#6]-1",
    "[#16]~[#16]",
    "[#7]~&!@[#7]~&!@[#7]",
    "[#7]-&!@[#6&!H0&!H1]-&!@[#7]",
    "[#6&!H0](-&!@[#8])-&!@[#8]",
    "[#35].[#35].[#35]",
    "[#17].[#17].[#17].[#17]",
    "[#9].[#9].[#9].[#9].[#9].[#9].[#9]",
)

_ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})


def _package_file(package: str, *parts: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):  # pragma: no cover - broken metadata
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    return path if path.exists() else None


def pains_source() -> Path:
    """The PAINS SMARTS file used: MOSES's copy if ``molsets`` is installed, else RDKit's."""
    path = _package_file("moses", "metrics", "wehi_pains.csv")
    if path is None:
        _chem()
        path = _package_file("rdkit", "Data", "Pains", "wehi_pains.csv")
    if path is None:  # pragma: no cover - stripped RDKit build
        raise ImportError("RDKit's Data/Pains/wehi_pains.csv is missing; reinstall rdkit")
    return path


@functools.lru_cache(maxsize=1)
def _pains_patterns() -> tuple[Any, ...]:
    chem = _chem()
    out = []
    with open(pains_source(), newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if row and row[0].strip():
                patt = chem.MolFromSmarts(row[0].strip())
                if patt is not None:
                    out.append(patt)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _mcf_patterns() -> tuple[Any, ...]:
    chem = _chem()
    return tuple(chem.MolFromSmarts(s) for s in MCF_SMARTS)


@functools.lru_cache(maxsize=2)
def _catalog(pains_only: bool) -> Any:
    """An RDKit FilterCatalog of the patterns (matches them in C++, 3x a Python loop)."""
    _chem()
    from rdkit.Chem import FilterCatalog

    patterns = list(_pains_patterns()) if pains_only else [*_mcf_patterns(), *_pains_patterns()]
    catalog = FilterCatalog.FilterCatalog()
    for i, patt in enumerate(patterns):
        matcher = FilterCatalog.SmartsMatcher(str(i), patt, 1)
        catalog.AddEntry(FilterCatalog.FilterCatalogEntry(str(i), matcher))
    return catalog


def passes_filters(mol: Any) -> bool:
    """Whether an RDKit molecule passes the MOSES filters (see the module docstring)."""
    chem = _chem()
    rings = mol.GetRingInfo()
    if any(len(r) >= 8 for r in rings.AtomRings()):
        return False
    atoms = list(mol.GetAtoms())
    if any(a.GetFormalCharge() != 0 for a in atoms):
        return False
    if any(a.GetSymbol() not in _ALLOWED_ATOMS for a in atoms):
        return False
    if _catalog(False).HasMatch(chem.AddHs(mol)):
        return False
    smiles = chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(smiles) and chem.MolFromSmiles(smiles) is not None


def matches_pains(mol: Any) -> bool:
    """Whether an RDKit molecule (hydrogens added) matches a PAINS substructure."""
    return bool(_catalog(True).HasMatch(_chem().AddHs(mol)))
