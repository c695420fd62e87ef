"""Rewards and metrics for generated molecules (extra `chem`: RDKit, fcd_torch).

Optional dependencies are imported at the point of use through
``sciddm._core.extras.require``, so ``import sciddm.chem`` works without them (a
function that needs one raises an ImportError naming the extra). Rewards score batches
of SMILES strings for guided generation; :func:`molecule_report` computes the MOSES
metric table (validity, unique@k, novelty, FCD, SNN, Frag, Scaf, IntDiv, filters,
property distances) against a reference set such as the MOSES test split, and
:func:`moses_table` puts it beside the published MOSES baselines. Raw datasets (NCI,
MOSES) are read by :mod:`sciddm.chem.data`.
"""

from typing import TYPE_CHECKING

__all__ = [
    "INVALID_FLOOR",
    "MOSES_BASELINES",
    "MOSES_BASELINES_SOURCE",
    "MOSES_COLUMNS",
    "PARALLEL_THRESHOLD",
    "PROPERTIES",
    "REWARD_TERMS",
    "ChemReward",
    "MoleculeProperties",
    "MoleculeReport",
    "PropertyCache",
    "ReferenceStats",
    "canonical_smiles",
    "composite_reward",
    "fcd",
    "filters_pass_rate",
    "fragment_similarity",
    "internal_diversity",
    "load_moses_test",
    "molecule_properties",
    "molecule_report",
    "moses_table",
    "moses_table_rows",
    "nearest_neighbour_similarity",
    "novelty",
    "pains_pass_rate",
    "penalized_logp",
    "plot_property_histograms",
    "property_distances",
    "qed_reward",
    "read_moses_smiles",
    "read_nci_smiles",
    "reference_statistics",
    "sa_reward",
    "sa_score",
    "scaffold_similarity",
    "tanimoto_matrix",
    "uniqueness",
    "validity",
    "validity_reward",
]

if TYPE_CHECKING:
    from sciddm.chem._fcd import fcd
    from sciddm.chem._metrics import (
        filters_pass_rate,
        fragment_similarity,
        internal_diversity,
        nearest_neighbour_similarity,
        novelty,
        pains_pass_rate,
        property_distances,
        scaffold_similarity,
        tanimoto_matrix,
        uniqueness,
        validity,
    )
    from sciddm.chem._moses import (
        MOSES_BASELINES,
        MOSES_BASELINES_SOURCE,
        MOSES_COLUMNS,
        load_moses_test,
        moses_table,
        moses_table_rows,
    )
    from sciddm.chem._props import (
        PARALLEL_THRESHOLD,
        PROPERTIES,
        MoleculeProperties,
        PropertyCache,
        canonical_smiles,
        molecule_properties,
        sa_score,
    )
    from sciddm.chem._report import (
        MoleculeReport,
        ReferenceStats,
        molecule_report,
        plot_property_histograms,
        reference_statistics,
    )
    from sciddm.chem._rewards import (
        INVALID_FLOOR,
        REWARD_TERMS,
        ChemReward,
        composite_reward,
        penalized_logp,
        qed_reward,
        sa_reward,
        validity_reward,
    )
    from sciddm.chem.data import read_moses_smiles, read_nci_smiles
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._fcd": ("fcd",),
            "._metrics": (
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
            ),
            "._moses": (
                "MOSES_BASELINES",
                "MOSES_BASELINES_SOURCE",
                "MOSES_COLUMNS",
                "load_moses_test",
                "moses_table",
                "moses_table_rows",
            ),
            "._props": (
                "PARALLEL_THRESHOLD",
                "PROPERTIES",
                "MoleculeProperties",
                "PropertyCache",
                "canonical_smiles",
                "molecule_properties",
                "sa_score",
            ),
            "._report": (
                "MoleculeReport",
                "ReferenceStats",
                "molecule_report",
                "plot_property_histograms",
                "reference_statistics",
            ),
            "._rewards": (
                "INVALID_FLOOR",
                "REWARD_TERMS",
                "ChemReward",
                "composite_reward",
                "penalized_logp",
                "qed_reward",
                "sa_reward",
                "validity_reward",
            ),
            ".data": ("read_moses_smiles", "read_nci_smiles"),
        },
        __all__,
        submodules=("data",),
    )
