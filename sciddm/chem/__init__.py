"""Rewards and metrics for generated molecules (extra `chem`: RDKit).

RDKit is imported lazily, on the first call that needs it, so ``import sciddm.chem``
works without it. Raw datasets (NCI, MOSES) are read by :mod:`sciddm.chem.data`.
"""

from sciddm.chem._metrics import (
    MoleculeReport,
    fcd,
    internal_diversity,
    molecule_report,
    nearest_neighbour_similarity,
    novelty,
    pains_pass_rate,
    property_distances,
    tanimoto_matrix,
    uniqueness,
    validity,
)
from sciddm.chem._props import (
    PROPERTIES,
    MoleculeProperties,
    PropertyCache,
    canonical_smiles,
    molecule_properties,
    sa_score,
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

__all__ = [
    "INVALID_FLOOR",
    "PROPERTIES",
    "REWARD_TERMS",
    "ChemReward",
    "MoleculeProperties",
    "MoleculeReport",
    "PropertyCache",
    "canonical_smiles",
    "composite_reward",
    "fcd",
    "internal_diversity",
    "molecule_properties",
    "molecule_report",
    "nearest_neighbour_similarity",
    "novelty",
    "pains_pass_rate",
    "penalized_logp",
    "property_distances",
    "qed_reward",
    "read_moses_smiles",
    "read_nci_smiles",
    "sa_reward",
    "sa_score",
    "tanimoto_matrix",
    "uniqueness",
    "validity",
    "validity_reward",
]
