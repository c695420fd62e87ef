"""Masked discrete diffusion (MDLM) for molecules and DNA: data, training, exact fast samplers and reward-guided decoding."""

from sciddm.discrete._schedule import DEFAULT_EPS, LogLinearSchedule
from sciddm.discrete._train import TrainConfig, TrainResult, train
from sciddm.discrete.data import (
    SequenceData,
    Split,
    TokenDataset,
    load_ars_sequences,
    load_moses_smiles,
    load_nci_smiles,
    load_sequences,
    prepare_dna,
    prepare_smiles,
    read_sequence_file,
    train_val_split,
)
from sciddm.discrete.model import (
    MDLM,
    MDLMConfig,
    NelboResult,
    evaluate_nelbo,
    exact_nelbo,
    load_model,
    nelbo,
    sample_training_noise,
    save_model,
    unigram_bits_per_token,
)
from sciddm.discrete.tokenizers import (
    DnaTokenizer,
    SmilesTokenizer,
    split_smiles,
    tokenizer_from_dict,
)

__all__ = [
    "DEFAULT_EPS",
    "MDLM",
    "DnaTokenizer",
    "LogLinearSchedule",
    "MDLMConfig",
    "NelboResult",
    "SequenceData",
    "SmilesTokenizer",
    "Split",
    "TokenDataset",
    "TrainConfig",
    "TrainResult",
    "evaluate_nelbo",
    "exact_nelbo",
    "load_ars_sequences",
    "load_model",
    "load_moses_smiles",
    "load_nci_smiles",
    "load_sequences",
    "nelbo",
    "prepare_dna",
    "prepare_smiles",
    "read_sequence_file",
    "sample_training_noise",
    "save_model",
    "split_smiles",
    "tokenizer_from_dict",
    "train",
    "train_val_split",
    "unigram_bits_per_token",
]
