"""Data for masked diffusion: tokenizers (SMILES, SELFIES, DNA), cleaned sequence sets, splits and datasets."""

from sciddm.discrete._data._datasets import Split, TokenDataset, train_val_split
from sciddm.discrete._data._selfies import SelfiesTokenizer
from sciddm.discrete._data._sequences import (
    SequenceData,
    load_ars_sequences,
    load_moses_smiles,
    load_nci_smiles,
    load_sequences,
    prepare_dna,
    prepare_smiles,
    read_sequence_file,
)
from sciddm.discrete._data._tokenizers import (
    DnaTokenizer,
    SmilesTokenizer,
    split_smiles,
    tokenizer_from_dict,
)

__all__ = [
    "DnaTokenizer",
    "SelfiesTokenizer",
    "SequenceData",
    "SmilesTokenizer",
    "Split",
    "TokenDataset",
    "load_ars_sequences",
    "load_moses_smiles",
    "load_nci_smiles",
    "load_sequences",
    "prepare_dna",
    "prepare_smiles",
    "read_sequence_file",
    "split_smiles",
    "tokenizer_from_dict",
    "train_val_split",
]
