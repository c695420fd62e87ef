r"""Distribution-level metrics of generated molecules, in MOSES's definitions.

All metrics take raw SMILES strings. Invalid strings are counted by :func:`validity`
and dropped by the others, which work on the RDKit canonical SMILES of the valid
molecules, duplicates included (as MOSES does). Fingerprints are Morgan, radius 2,
1024 bits (MOSES's choice), and the Tanimoto similarity of two bit vectors is
:math:`T(a, b) = |a \wedge b| / |a \vee b|` (1 when both are empty).

A set with no valid molecule has no uniqueness, diversity or similarity: those
functions raise ``ValueError`` for it (:func:`sciddm.chem.molecule_report` reports NaN
instead, and says so).

References
----------
.. [1] Polykovskiy D. et al., "Molecular Sets (MOSES): A Benchmarking Platform for
   Molecular Generation Models", Frontiers in Pharmacology 11:565644 (2020).
"""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int, check_scalar
from sciddm.chem._filters import matches_pains, passes_filters
from sciddm.chem._props import PropertyCache, _chem, _smiles_list, molecule_properties

__all__ = [
    "filters_pass_rate",
    "fragment_similarity",
    "internal_diversity",
    "nearest_neighbour_similarity",
    "novelty",
    "pains_pass_rate",
    "property_distances",
    "scaffold_similarity",
    "tanimoto_matrix",
    "uniqueness",
    "validity",
]

#: Properties whose distributions :func:`property_distances` compares by default
#: (MOSES: logP, SA, QED, molecular weight).
DIST_PROPERTIES = ("logp", "sa", "qed", "mw")
FP_SIZE = 1024


def _batch(smiles: Any, name: str = "smiles") -> list[str]:
    seq = _smiles_list(smiles, name, allow_str=False)
    if not seq:
        raise ValueError(f"`{name}` must hold at least one SMILES string")
    return seq


def _valid_canonical(smiles: Sequence[str], cache: PropertyCache | None = None) -> list[str]:
    """Canonical SMILES of the valid strings, in order, duplicates kept."""
    canon = (cache or PropertyCache()).canonical(smiles)
    return [c for c in canon if c is not None]


def _need_valid(valid: list[str], name: str, what: str, at_least: int = 1) -> None:
    if len(valid) < at_least:
        raise ValueError(
            f"`{name}` holds {len(valid)} valid molecule(s); {what} needs at least {at_least}"
        )


def validity(smiles: Sequence[str]) -> float:
    """Fraction of SMILES that RDKit parses (empty strings are invalid).

    Parameters
    ----------
    smiles : sequence of str
        At least one SMILES string.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    TypeError
        If ``smiles`` is not a sequence of ``str``.
    ValueError
        If it is empty.

    Examples
    --------
    >>> from sciddm.chem import validity
    >>> validity(["CCO", "C1CC", "", "c1ccccc1"])
    0.5
    """
    seq = _batch(smiles)
    return len(_valid_canonical(seq)) / len(seq)


def _fraction_unique(valid: list[str], k: int | None) -> float:
    head = valid if k is None else valid[:k]
    return len(set(head)) / len(head) if head else math.nan


def uniqueness(smiles: Sequence[str], k: int | None = None) -> float:
    """Distinct canonical SMILES among the valid ones, divided by the number valid.

    Parameters
    ----------
    smiles : sequence of str
        Generated SMILES; invalid ones are dropped first.
    k : int, optional
        Use only the first ``k`` valid molecules (MOSES's unique@k, e.g. k = 1000
        and 10000); with fewer than ``k`` valid molecules all are used.

    Returns
    -------
    float
        In (0, 1].

    Raises
    ------
    ValueError
        If no molecule is valid, or ``k < 1``.

    Examples
    --------
    >>> from sciddm.chem import uniqueness
    >>> uniqueness(["CCO", "OCC", "c1ccccc1", "C1CC"])   # ethanol twice
    0.6666666666666666
    >>> uniqueness(["CCO", "OCC", "c1ccccc1"], k=2)
    0.5
    """
    if k is not None:
        k = check_int(k, "k", lo=1)
    valid = _valid_canonical(_batch(smiles))
    _need_valid(valid, "smiles", "uniqueness")
    return _fraction_unique(valid, k)


def _novelty(valid: list[str], reference_canonical: set[str]) -> float:
    gen = set(valid)
    return len(gen - reference_canonical) / len(gen) if gen else math.nan


def novelty(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Fraction of the distinct valid molecules that are not in ``reference``.

    Parameters
    ----------
    smiles : sequence of str
        Generated SMILES.
    reference : sequence of str
        The training set (MOSES: its train split); compared by canonical SMILES.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If no generated molecule is valid.

    Examples
    --------
    >>> from sciddm.chem import novelty
    >>> novelty(["OCC", "CCN", "CCN"], reference=["CCO", "CCC"])
    0.5
    """
    valid = _valid_canonical(_batch(smiles))
    ref = _smiles_list(reference, "reference", allow_str=False)
    _need_valid(valid, "smiles", "novelty")
    return _novelty(valid, set(_valid_canonical(ref)))


@functools.lru_cache(maxsize=4)
def _morgan(fp_size: int) -> Any:
    _chem()
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=fp_size)


def fingerprint_bits(canonical: Sequence[str], fp_size: int = FP_SIZE) -> np.ndarray:
    """Morgan (r = 2) bit vectors of valid canonical SMILES, as a (n, fp_size) uint8 array."""
    chem = _chem()
    gen = _morgan(fp_size)
    out = np.zeros((len(canonical), fp_size), dtype=np.uint8)
    for i, s in enumerate(canonical):
        out[i] = gen.GetFingerprintAsNumPy(chem.MolFromSmiles(s))
    return out


def _tanimoto_blocks(a: np.ndarray, b: np.ndarray, block: int = 2048) -> Any:
    """Yield (row slice, Tanimoto block) of bit matrices ``a`` (n, d) and ``b`` (m, d)."""
    bf = b.astype(np.float32)
    nb = bf.sum(axis=1, dtype=np.float64)
    for s in range(0, a.shape[0], block):
        af = a[s : s + block].astype(np.float32)
        inter = (af @ bf.T).astype(np.float64)  # integer counts, exact in float32
        union = af.sum(axis=1, dtype=np.float64)[:, None] + nb[None, :] - inter
        t = np.where(union > 0, inter / np.maximum(union, 1.0), 1.0)
        yield slice(s, s + af.shape[0]), t


def tanimoto_matrix(
    a: Sequence[str], b: Sequence[str] | None = None, *, fp_size: int = FP_SIZE
) -> np.ndarray:
    """Tanimoto similarities of Morgan (r = 2, ``fp_size`` bits) fingerprints.

    Parameters
    ----------
    a : sequence of str
        Valid SMILES.
    b : sequence of str, optional
        Valid SMILES; defaults to ``a``.
    fp_size : int, default 1024
        Bits of the folded fingerprint (MOSES uses 1024).

    Returns
    -------
    ndarray of shape (len(a), len(b))
        Similarities in [0, 1].

    Raises
    ------
    ValueError
        If a string is not a valid SMILES (the message names the argument and index).

    Examples
    --------
    >>> from sciddm.chem import tanimoto_matrix
    >>> tanimoto_matrix(["CCO", "OCC"]).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """

    def canon(x: Sequence[str], name: str) -> list[str]:
        seq = _smiles_list(x, name, allow_str=False)
        c = PropertyCache().canonical(seq)
        bad = [i for i, v in enumerate(c) if v is None]
        if bad:
            raise ValueError(f"`{name}` holds invalid SMILES at index {bad[0]}: {seq[bad[0]]!r}")
        return [v for v in c if v is not None]

    fp_size = check_int(fp_size, "fp_size", lo=8, hi=1 << 16)
    fa = fingerprint_bits(canon(a, "a"), fp_size)
    fb = fa if b is None else fingerprint_bits(canon(b, "b"), fp_size)
    out = np.empty((fa.shape[0], fb.shape[0]))
    for rows, t in _tanimoto_blocks(fa, fb):
        out[rows] = t
    return out


def _subsample(x: list[str], max_n: int | None, rng: SeedLike) -> list[str]:
    if max_n is None or len(x) <= max_n:
        return x
    idx = as_generator(rng).choice(len(x), size=max_n, replace=False)
    return [x[i] for i in np.sort(idx)]


def _internal_diversity(fps: np.ndarray, p: float) -> float:
    """MOSES IntDiv_p of a fingerprint matrix (all ordered pairs, diagonal included)."""
    per_row = np.empty(fps.shape[0])
    for rows, t in _tanimoto_blocks(fps, fps):
        per_row[rows] = np.mean(t**p, axis=1) ** (1.0 / p)
    return float(1.0 - per_row.mean())


def internal_diversity(
    smiles: Sequence[str],
    *,
    p: float = 1.0,
    max_molecules: int | None = None,
    fp_size: int = FP_SIZE,
    rng: SeedLike = None,
) -> float:
    r"""Internal diversity :math:`\mathrm{IntDiv}_p` of the valid molecules (MOSES).

    .. math:: \mathrm{IntDiv}_p(G) = 1 - \frac{1}{|G|} \sum_{m_1 \in G}
       \Big(\frac{1}{|G|} \sum_{m_2 \in G} T(m_1, m_2)^p\Big)^{1/p}

    Parameters
    ----------
    smiles : sequence of str
        Invalid SMILES are dropped; duplicates are kept (a set with repeats is less
        diverse).
    p : float, default 1
        ``p = 1`` is one minus the mean Tanimoto similarity (MOSES IntDiv1);
        ``p = 2`` (IntDiv2) weighs similar pairs more.
    max_molecules : int or None, default None
        Use a uniform random subset of this size (drawn with ``rng``) of larger sets;
        None uses all (cost quadratic in the set size).
    fp_size : int, default 1024
        Fingerprint bits.
    rng : numpy.random.Generator, int or None
        For the subset.

    Returns
    -------
    float
        In [0, 1).

    Raises
    ------
    ValueError
        If no molecule is valid, or ``p < 1``.

    Notes
    -----
    As in MOSES the sums run over all :math:`|G|^2` ordered pairs, self-pairs
    included (they contribute similarity 1), so a set of one molecule has
    diversity 0 and two disjoint molecules :math:`1 - 1/2`.

    References
    ----------
    .. [1] Polykovskiy et al., "Molecular Sets (MOSES)", Front. Pharmacol. 11 (2020).

    Examples
    --------
    >>> from sciddm.chem import internal_diversity
    >>> internal_diversity(["CCO", "OCC"])   # one molecule twice
    0.0
    >>> internal_diversity(["C", "[Ne]"])     # no shared bit: only self-pairs are similar
    0.5
    """
    p = check_scalar(p, "p", lo=1.0)
    if max_molecules is not None:
        max_molecules = check_int(max_molecules, "max_molecules", lo=1)
    fp_size = check_int(fp_size, "fp_size", lo=8, hi=1 << 16)
    valid = _valid_canonical(_batch(smiles))
    _need_valid(valid, "smiles", "internal diversity")
    valid = _subsample(valid, max_molecules, rng)
    return _internal_diversity(fingerprint_bits(valid, fp_size), p)


def _snn(gen_fps: np.ndarray, ref_fps: np.ndarray) -> float:
    best = np.empty(gen_fps.shape[0])
    for rows, t in _tanimoto_blocks(gen_fps, ref_fps):
        best[rows] = t.max(axis=1)
    return float(best.mean())


def nearest_neighbour_similarity(
    smiles: Sequence[str],
    reference: Sequence[str],
    *,
    max_molecules: int | None = None,
    fp_size: int = FP_SIZE,
    rng: SeedLike = None,
) -> float:
    r"""SNN: mean Tanimoto similarity of each valid molecule to its nearest reference.

    .. math:: \mathrm{SNN}(G, R) = \frac{1}{|G|} \sum_{m_G \in G}
       \max_{m_R \in R} T(m_G, m_R)

    Parameters
    ----------
    smiles : sequence of str
        Generated SMILES (invalid dropped, duplicates kept).
    reference : sequence of str
        Reference SMILES (MOSES: the test set).
    max_molecules : int or None, default None
        Subsample the generated molecules to this many (with ``rng``).
    fp_size : int, default 1024
        Fingerprint bits.
    rng : numpy.random.Generator, int or None
        For the subsample.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``smiles`` or ``reference`` holds no valid molecule.

    Examples
    --------
    >>> from sciddm.chem import nearest_neighbour_similarity
    >>> nearest_neighbour_similarity(["OCC"], ["CCO", "c1ccccc1"])
    1.0
    """
    if max_molecules is not None:
        max_molecules = check_int(max_molecules, "max_molecules", lo=1)
    fp_size = check_int(fp_size, "fp_size", lo=8, hi=1 << 16)
    gen = _valid_canonical(_batch(smiles))
    ref = _valid_canonical(_batch(reference, "reference"))
    _need_valid(gen, "smiles", "SNN")
    _need_valid(ref, "reference", "SNN")
    gen = _subsample(gen, max_molecules, rng)
    return _snn(fingerprint_bits(gen, fp_size), fingerprint_bits(ref, fp_size))


def fragments(canonical: Sequence[str]) -> collections.Counter[str]:
    """Counts of BRICS fragments (canonical SMILES) over valid canonical SMILES."""
    chem = _chem()
    out: collections.Counter[str] = collections.Counter()
    for s in canonical:
        frag = chem.FragmentOnBRICSBonds(chem.MolFromSmiles(s))
        out.update(chem.MolToSmiles(frag).split("."))
    return out


def scaffolds(canonical: Sequence[str], min_rings: int = 2) -> collections.Counter[str]:
    """Counts of Bemis-Murcko scaffolds with at least ``min_rings`` rings (MOSES: 2)."""
    chem = _chem()
    from rdkit.Chem.Scaffolds import MurckoScaffold

    out: collections.Counter[str] = collections.Counter()
    for s in canonical:
        try:
            scaf = MurckoScaffold.GetScaffoldForMol(chem.MolFromSmiles(s))
        except (ValueError, RuntimeError):  # pragma: no cover - RDKit failures
            continue
        smi = chem.MolToSmiles(scaf)
        if smi and scaf.GetRingInfo().NumRings() >= min_rings:
            out[smi] += 1
    return out


def cosine_similarity(a: collections.Counter[str], b: collections.Counter[str]) -> float:
    """Cosine similarity of two count vectors given as mappings (NaN if either is empty)."""
    if not a or not b:
        return math.nan
    keys = sorted(set(a) | set(b))
    x = np.array([a.get(k, 0) for k in keys], dtype=np.float64)
    y = np.array([b.get(k, 0) for k in keys], dtype=np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def fragment_similarity(smiles: Sequence[str], reference: Sequence[str]) -> float:
    r"""Frag: cosine similarity of the BRICS fragment counts of two sets (MOSES).

    .. math:: \mathrm{Frag}(G, R) = \frac{\sum_f c_f(G) c_f(R)}
       {\lVert c(G) \rVert \, \lVert c(R) \rVert}

    with :math:`c_f(A)` the number of times fragment f (a BRICS fragment, RDKit's
    ``FragmentOnBRICSBonds``) occurs in the valid molecules of A.

    Parameters
    ----------
    smiles, reference : sequence of str
        Generated and reference SMILES (invalid dropped).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If either set holds no valid molecule.

    References
    ----------
    .. [1] Degen J. et al., "On the art of compiling and using 'drug-like' chemical
       fragment spaces", ChemMedChem 3:1503-1507 (2008) (BRICS).

    Examples
    --------
    >>> from sciddm.chem import fragment_similarity
    >>> fragment_similarity(["CCOC(=O)c1ccccc1"], ["c1ccccc1C(=O)OCC"])
    1.0
    """
    gen = _valid_canonical(_batch(smiles))
    ref = _valid_canonical(_batch(reference, "reference"))
    _need_valid(gen, "smiles", "Frag")
    _need_valid(ref, "reference", "Frag")
    return cosine_similarity(fragments(gen), fragments(ref))


def scaffold_similarity(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Scaf: cosine similarity of the Bemis-Murcko scaffold counts of two sets (MOSES).

    As in MOSES's code, only scaffolds with at least two rings are counted.

    Parameters
    ----------
    smiles, reference : sequence of str
        Generated and reference SMILES (invalid dropped).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If either set holds no valid molecule, or no scaffold of two rings or more
        (where MOSES's code gives NaN).

    References
    ----------
    .. [1] Bemis G. W., Murcko M. A., "The properties of known drugs. 1. Molecular
       frameworks", J. Med. Chem. 39:2887-2893 (1996).

    Examples
    --------
    >>> from sciddm.chem import scaffold_similarity
    >>> scaffold_similarity(["Cc1ccc(-c2ccccc2)cc1"], ["c1ccc(-c2ccccc2)cc1O"])
    1.0
    """
    gen = _valid_canonical(_batch(smiles))
    ref = _valid_canonical(_batch(reference, "reference"))
    _need_valid(gen, "smiles", "Scaf")
    _need_valid(ref, "reference", "Scaf")
    counts = {"smiles": scaffolds(gen), "reference": scaffolds(ref)}
    for name, c in counts.items():
        if not c:
            raise ValueError(f"`{name}` has no scaffold of two rings or more; Scaf is undefined")
    return cosine_similarity(counts["smiles"], counts["reference"])


def filters_pass_rate(smiles: Sequence[str]) -> float:
    """Fraction of the valid molecules that pass the MOSES filters (MCF, PAINS, ...).

    A molecule passes when it has no ring of 8 or more atoms, no charge, only
    C, N, S, O, F, Cl, Br, H atoms, and matches none of MOSES's 22 medicinal-chemistry
    filters (MCF) and 480 PAINS substructures.

    Parameters
    ----------
    smiles : sequence of str
        Generated SMILES (invalid dropped, duplicates kept).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If no molecule is valid.

    References
    ----------
    .. [1] Polykovskiy et al., "Molecular Sets (MOSES)", Front. Pharmacol. 11 (2020).
    .. [2] Baell J. B., Holloway G. A., J. Med. Chem. 53:2719-2740 (2010) (PAINS).

    Examples
    --------
    >>> from sciddm.chem import filters_pass_rate
    >>> filters_pass_rate(["CCOc1ccccc1", "CC=O", "C[N+](C)(C)C"])  # aldehyde; charge
    0.3333333333333333
    """
    chem = _chem()
    valid = _valid_canonical(_batch(smiles))
    _need_valid(valid, "smiles", "the filters pass rate")
    return float(np.mean([passes_filters(chem.MolFromSmiles(s)) for s in valid]))


def pains_pass_rate(smiles: Sequence[str]) -> float:
    """Fraction of valid molecules matching none of the 480 PAINS substructures.

    Explicit hydrogens in the patterns are matched after ``AddHs``.

    Parameters
    ----------
    smiles : sequence of str
        SMILES strings (invalid dropped, duplicates kept).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If no molecule is valid.

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
    valid = _valid_canonical(_batch(smiles))
    _need_valid(valid, "smiles", "the PAINS pass rate")
    return float(np.mean([not matches_pains(chem.MolFromSmiles(s)) for s in valid]))


def property_distances(
    smiles: Sequence[str],
    reference: Sequence[str],
    properties: Sequence[str] = DIST_PROPERTIES,
    *,
    cache: PropertyCache | None = None,
) -> dict[str, float]:
    r"""1-D Wasserstein-1 distances between property distributions of valid molecules.

    .. math:: W_1(P, Q) = \int_{-\infty}^{\infty} |F_P(x) - F_Q(x)|\, dx

    for the empirical distributions of one property over the valid generated and
    reference molecules (MOSES reports logP, SA, QED and molecular weight).

    Parameters
    ----------
    smiles, reference : sequence of str
        Generated and reference SMILES (invalid dropped).
    properties : sequence of str, default ("logp", "sa", "qed", "mw")
        Any of :data:`sciddm.chem.PROPERTIES`.
    cache : PropertyCache, optional
        Reused across calls.

    Returns
    -------
    dict of str -> float
        Non-negative distances.

    Raises
    ------
    ValueError
        If either set holds no valid molecule.

    Examples
    --------
    >>> from sciddm.chem import property_distances
    >>> d = property_distances(["CCO", "CCCO"], ["CCCO", "CCO"])
    >>> d["logp"], d["qed"]
    (0.0, 0.0)
    """
    from scipy.stats import wasserstein_distance

    gen = _batch(smiles)
    ref = _batch(reference, "reference")
    cache = cache or PropertyCache()
    a = molecule_properties(gen, properties, cache=cache)
    b = molecule_properties(ref, properties, cache=cache)
    if not a.valid.any():
        raise ValueError("`smiles` holds no valid molecule; property distances need one")
    if not b.valid.any():
        raise ValueError("`reference` holds no valid molecule; property distances need one")
    return {
        name: float(wasserstein_distance(a[name][a.valid], b[name][b.valid])) for name in a.values
    }
