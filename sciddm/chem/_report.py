"""The MOSES metric table of a set of generated molecules, against a reference set.

:func:`reference_statistics` computes once what the metrics need of a reference set
(MOSES: the test split): Morgan fingerprints (SNN), BRICS fragment and Bemis-Murcko
scaffold counts (Frag, Scaf), property values (Wasserstein distances) and the ChemNet
Gaussian (FCD). :func:`molecule_report` computes every MOSES metric of a generated set
against it, and :func:`plot_property_histograms` draws the property distributions.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sciddm._core.plotting import get_ax
from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int
from sciddm.chem._fcd import chemnet_activations, frechet_distance, gaussian_statistics
from sciddm.chem._filters import passes_filters
from sciddm.chem._metrics import (
    DIST_PROPERTIES,
    _batch,
    _fraction_unique,
    _internal_diversity,
    _novelty,
    _snn,
    _subsample,
    _valid_canonical,
    cosine_similarity,
    fingerprint_bits,
    fragments,
    scaffolds,
)
from sciddm.chem._props import PropertyCache, _chem, _smiles_list, molecule_properties

__all__ = [
    "MoleculeReport",
    "ReferenceStats",
    "molecule_report",
    "plot_property_histograms",
    "reference_statistics",
]


@dataclasses.dataclass(frozen=True, repr=False)
class ReferenceStats(Result):
    """What the MOSES metrics need of a reference set, computed once.

    Attributes
    ----------
    name : str
        A label (e.g. ``"MOSES test"``).
    n : int
        Number of input SMILES.
    n_valid : int
        Number of valid ones (the statistics use these).
    canonical : frozenset of str
        Distinct canonical SMILES (for novelty when the reference is the training set).
    fingerprints : ndarray of uint8, shape (n_valid, 1024)
        Morgan (r = 2) bits, for SNN.
    fragments, scaffolds : dict of str -> int
        BRICS fragment and (two-ring or larger) Bemis-Murcko scaffold counts.
    properties : dict of str -> ndarray
        logP, SA, QED and molecular weight of the valid molecules.
    fcd_mu, fcd_sigma : ndarray or None
        Mean (512,) and covariance (512, 512) of the ChemNet activations; None when
        not computed (``fcd=False`` or ``fcd_torch`` missing).

    Examples
    --------
    >>> from sciddm.chem import reference_statistics
    >>> ref = reference_statistics(["CCO", "c1ccccc1"], name="toy", fcd=False)
    >>> ref.name, ref.n_valid, ref.fcd_mu is None
    ('toy', 2, True)
    """

    name: str
    n: int
    n_valid: int
    canonical: frozenset[str] = dataclasses.field(repr=False)
    fingerprints: np.ndarray = dataclasses.field(repr=False)
    fragments: dict[str, int] = dataclasses.field(repr=False)
    scaffolds: dict[str, int] = dataclasses.field(repr=False)
    properties: dict[str, np.ndarray] = dataclasses.field(repr=False)
    fcd_mu: np.ndarray | None = dataclasses.field(repr=False, default=None)
    fcd_sigma: np.ndarray | None = dataclasses.field(repr=False, default=None)


def _fcd_available() -> bool:
    return importlib.util.find_spec("fcd_torch") is not None


def reference_statistics(
    smiles: Sequence[str],
    *,
    name: str = "reference",
    fcd: bool | None = None,
    device: str = "cpu",
) -> ReferenceStats:
    """Precompute a reference set's statistics for :func:`molecule_report`.

    Parameters
    ----------
    smiles : sequence of str
        Reference SMILES (MOSES: the test split, see :func:`load_moses_test`); at
        least one must be valid.
    name : str, default "reference"
        Label used in tables.
    fcd : bool or None, default None
        Compute the ChemNet statistics: None does so when ``fcd_torch`` is installed,
        True requires it (ImportError otherwise).
    device : str, default "cpu"
        Where ChemNet runs.

    Returns
    -------
    ReferenceStats

    Raises
    ------
    TypeError
        If ``smiles`` is not a sequence of ``str``.
    ValueError
        If no reference molecule is valid, or ``fcd`` is requested with fewer than two.

    Examples
    --------
    >>> from sciddm.chem import reference_statistics
    >>> ref = reference_statistics(["CCO", "c1ccccc1O", "CC(=O)Nc1ccccc1"], fcd=False)
    >>> ref.n_valid, ref.fingerprints.shape, sorted(ref.properties)
    (3, (3, 1024), ['logp', 'mw', 'qed', 'sa'])
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, got {type(name).__name__}")
    if fcd is not None and not isinstance(fcd, (bool, np.bool_)):
        raise TypeError(f"`fcd` must be True, False or None, got {fcd!r}")
    seq = _batch(smiles, "smiles")
    cache = PropertyCache()
    valid = _valid_canonical(seq, cache)
    if not valid:
        raise ValueError(f"`smiles` holds no valid molecule (of {len(seq)})")
    props = molecule_properties(valid, DIST_PROPERTIES, cache=cache)
    mu = sigma = None
    if fcd and len(valid) < 2:
        raise ValueError(f"`smiles` holds {len(valid)} valid molecule(s); the FCD needs 2")
    if fcd or (fcd is None and _fcd_available() and len(valid) >= 2):
        mu, sigma = gaussian_statistics(chemnet_activations(valid, device=device))
    return ReferenceStats(
        name=name,
        n=len(seq),
        n_valid=len(valid),
        canonical=frozenset(valid),
        fingerprints=fingerprint_bits(valid),
        fragments=dict(fragments(valid)),
        scaffolds=dict(scaffolds(valid)),
        properties={k: props[k] for k in DIST_PROPERTIES},
        fcd_mu=mu,
        fcd_sigma=sigma,
    )


@dataclasses.dataclass(frozen=True, repr=False)
class MoleculeReport(Result):
    """The MOSES metrics of :func:`molecule_report` (NaN where undefined).

    Attributes
    ----------
    n : int
        Number of generated SMILES.
    validity : float
        Fraction RDKit parses (MOSES "Valid").
    uniqueness : float
        Distinct among all valid molecules.
    unique_at : dict of int -> float
        MOSES unique@k for each requested k (first k valid molecules; all of them
        when fewer are valid).
    novelty : float
        Distinct valid molecules not in the training set.
    fcd : float or None
        Fréchet ChemNet distance to the reference; None when not computed.
    snn, frag, scaf : float
        Nearest-neighbour Tanimoto similarity, fragment and scaffold cosine
        similarity to the reference.
    internal_diversity_1, internal_diversity_2 : float
        MOSES IntDiv and IntDiv2.
    filters : float
        Fraction of valid molecules passing the MOSES filters (MCF, PAINS, ...).
    wasserstein : dict of str -> float
        W1 distances of logP, SA, QED, molecular weight to the reference.
    property_means : dict of str -> float
        Mean of each property over the valid generated molecules.
    properties, reference_properties : dict of str -> ndarray
        Property values of the valid generated / reference molecules (for plots).
    reference : str
        The reference's label ("" without one).

    Notes
    -----
    Metrics of a set without valid molecules (or without a reference, or with a
    single valid molecule for FCD) are NaN; every other value is finite.

    Examples
    --------
    >>> from sciddm.chem import molecule_report
    >>> rep = molecule_report(["CCO", "c1ccccc1", "C1CC"], ["CCO", "CCN"], fcd=False)
    >>> round(rep.validity, 3), rep.row()["Novelty"]
    (0.667, 0.5)
    """

    n: int
    validity: float
    uniqueness: float
    unique_at: dict[int, float]
    novelty: float
    fcd: float | None
    snn: float
    frag: float
    scaf: float
    internal_diversity_1: float
    internal_diversity_2: float
    filters: float
    wasserstein: dict[str, float]
    property_means: dict[str, float]
    properties: dict[str, np.ndarray] = dataclasses.field(repr=False)
    reference_properties: dict[str, np.ndarray] = dataclasses.field(repr=False)
    reference: str = ""

    @property
    def nn_similarity(self) -> float:
        """Alias of :attr:`snn`."""
        return self.snn

    def row(self) -> dict[str, float | None]:
        """The MOSES table columns of this report (Valid, Unique@1k, ..., Novelty).

        Returns
        -------
        dict of str -> float
            Keys ``"Valid"``, ``"Unique@1k"``, ``"Unique@10k"`` (those computed),
            ``"FCD"``, ``"SNN"``, ``"Frag"``, ``"Scaf"``, ``"IntDiv"``, ``"IntDiv2"``,
            ``"Filters"``, ``"Novelty"``.
        """
        out: dict[str, float | None] = {"Valid": self.validity}
        for k, v in self.unique_at.items():
            out[f"Unique@{k // 1000}k" if k % 1000 == 0 else f"Unique@{k}"] = v
        out.update(
            {
                "FCD": self.fcd,
                "SNN": self.snn,
                "Frag": self.frag,
                "Scaf": self.scaf,
                "IntDiv": self.internal_diversity_1,
                "IntDiv2": self.internal_diversity_2,
                "Filters": self.filters,
                "Novelty": self.novelty,
            }
        )
        return out

    def plot(self, axes: Any = None) -> Any:
        """Property histograms against the reference; see :func:`plot_property_histograms`.

        Parameters
        ----------
        axes : sequence of matplotlib Axes, optional
            One per property.

        Returns
        -------
        ndarray of matplotlib Axes
        """
        return plot_property_histograms(self, axes=axes)


def plot_property_histograms(report: MoleculeReport, *, axes: Any = None) -> Any:
    """Histograms of logP, SA, QED and molecular weight, generated against reference.

    Parameters
    ----------
    report : MoleculeReport
        From :func:`molecule_report` (its valid molecules' property values).
    axes : sequence of matplotlib Axes, optional
        One per property; a new figure with one row of panels by default.

    Returns
    -------
    ndarray of matplotlib Axes
        Each titled with the property and its Wasserstein-1 distance.

    Examples
    --------
    >>> from sciddm.chem import molecule_report, plot_property_histograms
    >>> rep = molecule_report(["CCO", "CCCN", "c1ccccc1"], ["CCC", "CCO"], fcd=False)
    >>> axes = plot_property_histograms(rep)
    >>> [ax.get_title() for ax in axes][:2]
    ['logP (W1 = 0.326)', 'SA (W1 = 0.298)']
    """
    if not isinstance(report, MoleculeReport):
        raise TypeError(f"`report` must be a MoleculeReport, got {type(report).__name__}")
    labels = {"logp": "logP", "sa": "SA", "qed": "QED", "mw": "MW"}
    names = list(report.properties)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8))
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    if axes.size < len(names):
        raise ValueError(f"`axes` must hold {len(names)} Axes, got {axes.size}")
    for ax, name in zip(axes.ravel(), names):
        ax = get_ax(ax)
        x = report.properties[name]
        y = report.reference_properties.get(name, np.empty(0))
        both = np.concatenate([x, y])
        if both.size:
            bins = np.linspace(np.min(both), np.max(both) + 1e-9, 30)
            if x.size:
                ax.hist(x, bins=bins, density=True, alpha=0.55, label="samples")
            if y.size:
                ax.hist(
                    y, bins=bins, density=True, alpha=0.55, label=report.reference or "reference"
                )
        w = report.wasserstein.get(name, math.nan)
        title = labels.get(name, name)
        ax.set_title(title if math.isnan(w) else f"{title} (W1 = {w:.3g})")
    first = axes.ravel()[0]
    if first.get_legend_handles_labels()[0]:
        first.legend(fontsize=8)
    return axes.ravel()


def _reference_iv(
    reference: Sequence[str] | ReferenceStats | None, fcd: bool | None, device: str
) -> ReferenceStats | None:
    if reference is None or isinstance(reference, ReferenceStats):
        if fcd and reference is not None and reference.fcd_mu is None:
            raise ValueError(
                "`reference` holds no ChemNet statistics; build it with "
                "reference_statistics(..., fcd=True)"
            )
        return reference
    seq = _smiles_list(reference, "reference", allow_str=False)
    n_valid = len(_valid_canonical(seq))
    if not n_valid:
        raise ValueError(f"`reference` holds no valid molecule (of {len(seq)})")
    if fcd and n_valid < 2:
        raise ValueError("`reference` needs at least 2 valid molecules for the FCD")
    return reference_statistics(seq, fcd=fcd, device=device)


def _set_metrics(
    valid: list[str], ref: ReferenceStats | None, fps: np.ndarray, want_fcd: bool, device: str
) -> dict[str, Any]:
    """SNN, Frag, Scaf and FCD of the valid set against ``ref`` (NaN / None if undefined)."""
    nan = math.nan
    out: dict[str, Any] = {"snn": nan, "frag": nan, "scaf": nan, "fcd": None}
    if ref is None or not valid:
        return out
    out["snn"] = _snn(fps, ref.fingerprints)
    out["frag"] = cosine_similarity(fragments(valid), ref.fragments)  # type: ignore[arg-type]
    out["scaf"] = cosine_similarity(scaffolds(valid), ref.scaffolds)  # type: ignore[arg-type]
    if want_fcd and ref.fcd_mu is not None and ref.fcd_sigma is not None:
        if len(valid) >= 2:
            mu, sigma = gaussian_statistics(chemnet_activations(valid, device=device))
            out["fcd"] = max(frechet_distance(mu, sigma, ref.fcd_mu, ref.fcd_sigma), 0.0)
        else:
            out["fcd"] = nan
    return out


def molecule_report(
    smiles: Sequence[str],
    reference: Sequence[str] | ReferenceStats | None = None,
    *,
    train: Sequence[str] | None = None,
    k: Sequence[int] = (1000, 10000),
    max_molecules: int | None = None,
    fcd: bool | None = None,
    device: str = "cpu",
    rng: SeedLike = None,
) -> MoleculeReport:
    """The MOSES metrics of a generated set, in MOSES's definitions.

    Parameters
    ----------
    smiles : sequence of str
        Generated molecules (invalid strings allowed; at least one string).
    reference : sequence of str or ReferenceStats, optional
        The set to compare with (MOSES: the test split, :func:`load_moses_test`) for
        FCD, SNN, Frag, Scaf and the property distances (NaN without one). Pass a
        :class:`ReferenceStats` to reuse precomputed statistics.
    train : sequence of str, optional
        Training molecules for novelty. Defaults to ``reference`` when that is a
        list of SMILES (older calls passed the training set there); NaN otherwise.
    k : sequence of int, default (1000, 10000)
        The unique@k sizes.
    max_molecules : int or None, default None
        Subsample the valid generated molecules to this many (with ``rng``) for the
        fingerprint metrics (IntDiv, SNN), whose cost grows with the set sizes;
        None uses all, as MOSES does.
    fcd : bool or None, default None
        Compute the FCD: None does so when ``fcd_torch`` is installed and a reference
        is given; True requires it; False skips it (``fcd`` is None).
    device : str, default "cpu"
        Where ChemNet runs.
    rng : numpy.random.Generator, int or None
        For the subsample.

    Returns
    -------
    MoleculeReport

    Raises
    ------
    TypeError
        If ``smiles``, ``reference`` or ``train`` is not a sequence of ``str``.
    ValueError
        If ``smiles`` is empty, a ``k`` is below 1, or the reference has no valid
        molecule.

    Notes
    -----
    Definitions follow MOSES's metrics code: fingerprints are Morgan r = 2,
    1024 bits; IntDiv averages over all ordered pairs, self-pairs included; Scaf
    counts scaffolds of at least two rings; molecules are compared by RDKit
    canonical SMILES; duplicates are kept except where a metric counts distinct
    molecules (uniqueness, novelty).

    References
    ----------
    .. [1] Polykovskiy D. et al., "Molecular Sets (MOSES): A Benchmarking Platform for
       Molecular Generation Models", Frontiers in Pharmacology 11:565644 (2020).
    .. [2] Preuer K. et al., "Fréchet ChemNet Distance", J. Chem. Inf. Model. 58 (2018).

    Examples
    --------
    >>> from sciddm.chem import molecule_report
    >>> rep = molecule_report(["CCO", "OCC", "c1ccccc1", "C1CC"], ["CCO"], fcd=False)
    >>> rep.validity, rep.uniqueness, rep.novelty
    (0.75, 0.6666666666666666, 0.5)
    """
    seq = _batch(smiles)
    ks = tuple(check_int(v, "k", lo=1) for v in ([k] if isinstance(k, int) else k))
    if max_molecules is not None:
        max_molecules = check_int(max_molecules, "max_molecules", lo=1)
    if not isinstance(device, str):
        raise TypeError(f"`device` must be a str such as 'cpu' or 'cuda', got {device!r}")
    if fcd is not None and not isinstance(fcd, (bool, np.bool_)):
        raise TypeError(f"`fcd` must be True, False or None, got {fcd!r}")
    g = as_generator(rng)
    if train is not None:
        train_set: set[str] | None = set(
            _valid_canonical(_smiles_list(train, "train", allow_str=False))
        )
    else:
        train_set = None
    ref = _reference_iv(reference, fcd, device)
    if train_set is None and ref is not None and not isinstance(reference, ReferenceStats):
        train_set = set(ref.canonical)
    want_fcd = bool(fcd) or (fcd is None and _fcd_available())
    cache = PropertyCache()
    valid = _valid_canonical(seq, cache)
    props = molecule_properties(valid, DIST_PROPERTIES, cache=cache) if valid else None
    values = {p: (props[p] if props is not None else np.empty(0)) for p in DIST_PROPERTIES}
    sub = _subsample(valid, max_molecules, g)
    fps = fingerprint_bits(sub)
    chem = _chem()
    nan = math.nan
    sets = _set_metrics(valid, ref, fps, want_fcd, device)
    if ref is not None and valid:
        from scipy.stats import wasserstein_distance

        w1 = {p: float(wasserstein_distance(values[p], ref.properties[p])) for p in values}
    else:
        w1 = {p: nan for p in values}
    return MoleculeReport(
        n=len(seq),
        validity=len(valid) / len(seq),
        uniqueness=_fraction_unique(valid, None),
        unique_at={kk: _fraction_unique(valid, kk) for kk in ks},
        novelty=_novelty(valid, train_set) if train_set is not None else nan,
        fcd=sets["fcd"],
        snn=sets["snn"],
        frag=sets["frag"],
        scaf=sets["scaf"],
        internal_diversity_1=_internal_diversity(fps, 1.0) if sub else nan,
        internal_diversity_2=_internal_diversity(fps, 2.0) if sub else nan,
        filters=float(np.mean([passes_filters(chem.MolFromSmiles(s)) for s in valid]))
        if valid
        else nan,
        wasserstein=w1,
        property_means={p: float(v.mean()) if v.size else nan for p, v in values.items()},
        properties=values,
        reference_properties=dict(ref.properties) if ref is not None else {},
        reference=ref.name if ref is not None else "",
    )
