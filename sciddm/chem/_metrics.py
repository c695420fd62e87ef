"""Distribution-level metrics of generated molecules (MOSES-style).

All metrics accept raw SMILES; invalid strings are counted by :func:`validity` and
ignored by the others, which work on RDKit canonical SMILES of the valid molecules.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sciddm._core.extras import require
from sciddm._core.plotting import get_ax
from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int, check_scalar
from sciddm.chem._props import PropertyCache, _chem, molecule_properties

__all__ = [
    "MoleculeReport",
    "fcd",
    "internal_diversity",
    "molecule_report",
    "nearest_neighbour_similarity",
    "novelty",
    "pains_pass_rate",
    "property_distances",
    "tanimoto_matrix",
    "uniqueness",
    "validity",
]

_DIST_PROPS = ("logp", "sa", "qed", "mw")


def _valid_canonical(smiles: Sequence[str], cache: PropertyCache | None = None) -> list[str]:
    if isinstance(smiles, str):
        raise ValueError("`smiles` must be a sequence of SMILES strings, got a single str")
    canon = (cache or PropertyCache()).canonical(list(smiles))
    return [c for c in canon if c is not None]


def validity(smiles: Sequence[str]) -> float:
    """Fraction of SMILES that RDKit parses (empty strings are invalid).

    Examples
    --------
    >>> from sciddm.chem import validity
    >>> validity(["CCO", "C1CC", "", "c1ccccc1"])
    0.5
    """
    smiles = list(smiles)
    if not smiles:
        return math.nan
    return len(_valid_canonical(smiles)) / len(smiles)


def uniqueness(smiles: Sequence[str]) -> float:
    """Distinct canonical SMILES among the valid ones, divided by the number valid.

    Examples
    --------
    >>> from sciddm.chem import uniqueness
    >>> uniqueness(["CCO", "OCC", "c1ccccc1", "C1CC"])   # ethanol twice
    0.6666666666666666
    """
    valid = _valid_canonical(smiles)
    return len(set(valid)) / len(valid) if valid else math.nan


def novelty(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Fraction of the distinct valid molecules that are not in ``reference``.

    Molecules are compared by canonical SMILES (as in MOSES).

    Examples
    --------
    >>> from sciddm.chem import novelty
    >>> novelty(["OCC", "CCN", "CCN"], reference=["CCO", "CCC"])
    0.5
    """
    gen = set(_valid_canonical(smiles))
    if not gen:
        return math.nan
    ref = set(_valid_canonical(reference))
    return len(gen - ref) / len(gen)


@functools.lru_cache(maxsize=4)
def _morgan(fp_size: int) -> Any:
    _chem()
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=fp_size)


def _fingerprints(canon: Sequence[str], fp_size: int = 2048) -> list[Any]:
    chem = _chem()
    gen = _morgan(fp_size)
    return [gen.GetFingerprint(chem.MolFromSmiles(s)) for s in canon]


def tanimoto_matrix(
    a: Sequence[str], b: Sequence[str] | None = None, *, fp_size: int = 2048
) -> np.ndarray:
    """Tanimoto similarities of Morgan (r = 2, ``fp_size`` bits) fingerprints.

    Parameters
    ----------
    a, b : sequence of str
        Valid SMILES; ``b`` defaults to ``a``. Invalid strings raise ValueError.
    fp_size : int, default 2048
        Bits of the folded fingerprint (MOSES uses 1024).

    Returns
    -------
    ndarray of shape (len(a), len(b))

    Examples
    --------
    >>> from sciddm.chem import tanimoto_matrix
    >>> tanimoto_matrix(["CCO", "OCC"]).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    from rdkit import DataStructs

    def fps(x: Sequence[str], name: str) -> list[Any]:
        canon = PropertyCache().canonical(list(x))
        bad = [i for i, c in enumerate(canon) if c is None]
        if bad:
            raise ValueError(f"`{name}` holds invalid SMILES at index {bad[0]}: {x[bad[0]]!r}")
        return _fingerprints([c for c in canon if c is not None], fp_size)

    fp_size = check_int(fp_size, "fp_size", lo=8)
    fa = fps(a, "a")
    fb = fa if b is None else fps(b, "b")
    out = np.empty((len(fa), len(fb)))
    for i, f in enumerate(fa):
        out[i] = DataStructs.BulkTanimotoSimilarity(f, fb)
    return out


def _subsample(x: list[str], max_n: int | None, rng: SeedLike) -> list[str]:
    if max_n is None or len(x) <= max_n:
        return x
    idx = as_generator(rng).choice(len(x), size=max_n, replace=False)
    return [x[i] for i in np.sort(idx)]


def internal_diversity(
    smiles: Sequence[str],
    *,
    p: float = 1.0,
    max_molecules: int | None = 2000,
    fp_size: int = 2048,
    rng: SeedLike = None,
) -> float:
    r"""Internal diversity :math:`1 - (\overline{T^p})^{1/p}` over distinct pairs.

    Parameters
    ----------
    smiles : sequence of str
        Invalid SMILES are dropped; duplicates are kept (a set with repeats is less
        diverse).
    p : float, default 1
        ``p = 1`` is one minus the mean Tanimoto similarity; ``p = 2`` (MOSES IntDiv2)
        weighs similar pairs more.
    max_molecules : int or None, default 2000
        Use a uniform random subset of this size (``rng``) for larger sets.
    fp_size : int, default 2048
        Fingerprint bits (MOSES: 1024).
    rng : numpy.random.Generator, int or None

    Notes
    -----
    With valid molecules :math:`m_1..m_n` and Morgan r = 2 fingerprints,
    :math:`\mathrm{IntDiv}_p = 1 - \big(\binom{n}{2}^{-1}\sum_{i<j} T(m_i, m_j)^p\big)^{1/p}`.
    MOSES averages over all :math:`n^2` ordered pairs, the diagonal included, which
    gives a value smaller by a factor about :math:`1 - 1/n` in the mean; we leave the
    trivial self-pairs out.

    References
    ----------
    .. [1] Polykovskiy et al., "Molecular Sets (MOSES)", Front. Pharmacol. 11 (2020).

    Examples
    --------
    >>> from sciddm.chem import internal_diversity
    >>> internal_diversity(["CCO", "OCC"])   # one molecule twice
    0.0
    """
    p = check_scalar(p, "p", lo=1.0)
    if max_molecules is not None:
        max_molecules = check_int(max_molecules, "max_molecules", lo=2)
    valid = _subsample(_valid_canonical(smiles), max_molecules, rng)
    n = len(valid)
    if n < 2:
        return math.nan
    t = tanimoto_matrix(valid, fp_size=fp_size)
    iu = np.triu_indices(n, k=1)
    return float(1.0 - np.mean(t[iu] ** p) ** (1.0 / p))


def nearest_neighbour_similarity(
    smiles: Sequence[str],
    reference: Sequence[str],
    *,
    max_molecules: int | None = 2000,
    fp_size: int = 2048,
    rng: SeedLike = None,
) -> float:
    """Mean over valid generated molecules of the max Tanimoto to ``reference`` (SNN).

    Examples
    --------
    >>> from sciddm.chem import nearest_neighbour_similarity
    >>> nearest_neighbour_similarity(["OCC"], ["CCO", "c1ccccc1"])
    1.0
    """
    gen = _subsample(_valid_canonical(smiles), max_molecules, rng)
    ref = _valid_canonical(reference)
    if not gen or not ref:
        return math.nan
    return float(tanimoto_matrix(gen, ref, fp_size=fp_size).max(axis=1).mean())


@functools.lru_cache(maxsize=1)
def _pains() -> Any:
    """A FilterCatalog of the 480 SMARTS in RDKit's ``Data/Pains/wehi_pains.csv``."""
    _chem()
    from rdkit.Chem import FilterCatalog

    spec = importlib.util.find_spec("rdkit")
    assert spec is not None and spec.submodule_search_locations
    path = Path(list(spec.submodule_search_locations)[0]) / "Data" / "Pains" / "wehi_pains.csv"
    catalog = FilterCatalog.FilterCatalog()
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if row:
                name = row[1] if len(row) > 1 else row[0]
                matcher = FilterCatalog.SmartsMatcher(name, row[0], 1)
                if matcher.IsValid():
                    catalog.AddEntry(FilterCatalog.FilterCatalogEntry(name, matcher))
    return catalog


def pains_pass_rate(smiles: Sequence[str]) -> float:
    """Fraction of valid molecules matching none of the 480 PAINS substructures.

    The SMARTS are RDKit's ``Data/Pains/wehi_pains.csv`` (Baell & Holloway 2010).
    Explicit hydrogens in the patterns are matched after ``AddHs``.

    References
    ----------
    .. [1] Baell J. B., Holloway G. A., "New substructure filters for removal of pan
       assay interference compounds (PAINS)", J. Med. Chem. 53:2719-2740 (2010).

    Examples
    --------
    >>> from sciddm.chem import pains_pass_rate
    >>> pains_pass_rate(["CCO", "O=C1C=CC(=O)C=C1"])  # p-benzoquinone is a PAINS hit
    0.5
    """
    chem = _chem()
    valid = _valid_canonical(smiles)
    if not valid:
        return math.nan
    catalog = _pains()
    passed = 0
    for s in valid:
        if not catalog.HasMatch(chem.AddHs(chem.MolFromSmiles(s))):
            passed += 1
    return passed / len(valid)


def property_distances(
    smiles: Sequence[str],
    reference: Sequence[str],
    properties: Sequence[str] = _DIST_PROPS,
    *,
    cache: PropertyCache | None = None,
) -> dict[str, float]:
    """1-D Wasserstein-1 distances between property distributions of valid molecules.

    Examples
    --------
    >>> from sciddm.chem import property_distances
    >>> d = property_distances(["CCO", "CCCO"], ["CCCO", "CCO"])
    >>> d["logp"], d["qed"]
    (0.0, 0.0)
    """
    from scipy.stats import wasserstein_distance

    cache = cache or PropertyCache()
    a = molecule_properties(smiles, properties, cache=cache)
    b = molecule_properties(reference, properties, cache=cache)
    out = {}
    for name in properties:
        x, y = a[name][a.valid], b[name][b.valid]
        out[name] = float(wasserstein_distance(x, y)) if x.size and y.size else math.nan
    return out


def fcd(smiles: Sequence[str], reference: Sequence[str], *, device: str = "cpu") -> float:
    """Fréchet ChemNet distance through ``fcd_torch`` (ImportError if it is missing).

    References
    ----------
    .. [1] Preuer K. et al., "Fréchet ChemNet Distance", J. Chem. Inf. Model. 58 (2018).
    """
    mod = require("fcd_torch", "chem", purpose="the Fréchet ChemNet distance")
    model = mod.FCD(device=device, n_jobs=1)
    return float(model(_valid_canonical(smiles), _valid_canonical(reference)))


@dataclasses.dataclass(frozen=True, repr=False)
class MoleculeReport(Result):
    """The metrics of :func:`molecule_report` (NaN where undefined).

    ``fcd`` is None when ``fcd_torch`` is not installed; ``properties`` and
    ``reference_properties`` hold the valid molecules' property values for plots.
    """

    n: int
    validity: float
    uniqueness: float
    novelty: float
    internal_diversity_1: float
    internal_diversity_2: float
    pains_pass_rate: float
    nn_similarity: float
    wasserstein: dict[str, float]
    fcd: float | None
    property_means: dict[str, float]
    properties: dict[str, np.ndarray] = dataclasses.field(repr=False)
    reference_properties: dict[str, np.ndarray] = dataclasses.field(repr=False)

    def plot(self, axes: Any = None) -> Any:
        """Histograms of logP, SA, QED, MW (generated vs reference); returns the Axes."""
        names = list(self.properties)
        if axes is None:
            import matplotlib.pyplot as plt

            _, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8))
        axes = np.atleast_1d(axes)
        for ax, name in zip(axes, names):
            ax = get_ax(ax)
            x = self.properties[name]
            y = self.reference_properties.get(name, np.empty(0))
            both = np.concatenate([x, y])
            if both.size:
                bins = np.linspace(np.min(both), np.max(both) + 1e-9, 30)
                ax.hist(x, bins=bins, density=True, alpha=0.55, label="samples")
                if y.size:
                    ax.hist(y, bins=bins, density=True, alpha=0.55, label="reference")
            w = self.wasserstein.get(name)
            ax.set_title(name if w is None else f"{name} (W1 = {w:.3g})")
        axes[0].legend(fontsize=8)
        return axes


def molecule_report(
    smiles: Sequence[str],
    reference: Sequence[str] | None = None,
    *,
    max_molecules: int | None = 2000,
    pains: bool = True,
    fp_size: int = 2048,
    rng: SeedLike = None,
) -> MoleculeReport:
    """All molecule metrics in one call.

    Parameters
    ----------
    smiles : sequence of str
        Generated molecules (invalid strings allowed).
    reference : sequence of str, optional
        Training / reference molecules for novelty, nearest-neighbour similarity,
        property Wasserstein distances and FCD (NaN / None without it).
    max_molecules : int or None, default 2000
        Subsample size for the pairwise-similarity metrics.
    pains : bool, default True
        Compute the PAINS pass rate (the slowest metric: 480 substructure searches
        per molecule).
    fp_size : int, default 2048
        Morgan fingerprint bits for the similarity metrics (MOSES: 1024).
    rng : numpy.random.Generator, int or None
        For the subsamples.

    Returns
    -------
    MoleculeReport

    Examples
    --------
    >>> from sciddm.chem import molecule_report
    >>> rep = molecule_report(["CCO", "OCC", "c1ccccc1", "C1CC"], ["CCO"], rng=0)
    >>> rep.validity, rep.uniqueness, rep.novelty
    (0.75, 0.6666666666666666, 0.5)
    """
    smiles = list(smiles)
    rng = as_generator(rng)
    cache = PropertyCache()
    gen = molecule_properties(smiles, _DIST_PROPS, cache=cache)
    props = {k: gen[k][gen.valid] for k in _DIST_PROPS}
    ref_props: dict[str, np.ndarray] = {}
    nan = math.nan
    if reference is not None:
        reference = list(reference)
        ref = molecule_properties(reference, _DIST_PROPS, cache=cache)
        ref_props = {k: ref[k][ref.valid] for k in _DIST_PROPS}
        dists = property_distances(smiles, reference, cache=cache)
        nov = novelty(smiles, reference)
        snn = nearest_neighbour_similarity(
            smiles, reference, max_molecules=max_molecules, fp_size=fp_size, rng=rng
        )
        fcd_value: float | None = None
        if importlib.util.find_spec("fcd_torch") is not None:  # pragma: no cover
            fcd_value = fcd(smiles, reference)
    else:
        dists, nov, snn, fcd_value = {k: nan for k in _DIST_PROPS}, nan, nan, None
    return MoleculeReport(
        n=len(smiles),
        validity=validity(smiles) if smiles else nan,
        uniqueness=uniqueness(smiles),
        novelty=nov,
        internal_diversity_1=internal_diversity(
            smiles, p=1, max_molecules=max_molecules, fp_size=fp_size, rng=rng
        ),
        internal_diversity_2=internal_diversity(
            smiles, p=2, max_molecules=max_molecules, fp_size=fp_size, rng=rng
        ),
        pains_pass_rate=pains_pass_rate(smiles) if pains else nan,
        nn_similarity=snn,
        wasserstein=dists,
        fcd=fcd_value,
        property_means={k: float(np.mean(v)) if v.size else nan for k, v in props.items()},
        properties=props,
        reference_properties=ref_props,
    )
