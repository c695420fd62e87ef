"""Masked discrete diffusion (MDLM) for molecules and DNA: data, training, exact fast samplers and reward-guided decoding.

The package is organised in rooms, all re-exported here:

* the denoiser protocol (:class:`Denoiser`, :class:`FunctionModel`), the
  schedule and the MDLM network with its NELBO;
* sampling: exact categorical draws with per-row streams, single steps of the
  reverse chain, the ancestral / cached / first-hitting samplers, diagnostics;
* reward-guided decoding: best-of-N, SVDD, twisted SMC and value models;
* training: :func:`train` (its command line is ``python -m sciddm.discrete.training``,
  also under ``torchrun``);
* data: tokenizers, cleaned sequence sets, splits and token datasets.

Exact toy problems shared by tests, tutorials and experiments live in
:mod:`sciddm.discrete.toys`.
"""

from sciddm.discrete._data import (
    DnaTokenizer,
    SequenceData,
    SmilesTokenizer,
    Split,
    TokenDataset,
    load_ars_sequences,
    load_moses_smiles,
    load_nci_smiles,
    load_sequences,
    prepare_dna,
    prepare_smiles,
    read_sequence_file,
    split_smiles,
    tokenizer_from_dict,
    train_val_split,
)
from sciddm.discrete._guidance import (
    GuidanceResult,
    ValueFit,
    ValueModel,
    best_of_n,
    load_value_model,
    save_value_model,
    smc,
    svdd,
    train_value_model,
)
from sciddm.discrete._model import MDLM, MDLMConfig, load_model, save_model
from sciddm.discrete._nelbo import (
    NelboResult,
    evaluate_nelbo,
    exact_nelbo,
    nelbo,
    sample_training_noise,
    unigram_bits_per_token,
)
from sciddm.discrete._protocol import Denoiser, FunctionModel, ModelInfo, model_info
from sciddm.discrete._sampling import (
    METHODS,
    RowGenerator,
    SampleDiagnostics,
    SampleResult,
    Transition,
    categorical,
    denoiser_probs,
    merge_rank_results,
    predict_x0,
    sample,
    sample_diagnostics,
    sample_distributed,
    sample_transition,
    sequence_entropy,
    split_seeds,
    transition_probs,
    unigram_distribution,
)
from sciddm.discrete._schedule import DEFAULT_EPS, LogLinearSchedule
from sciddm.discrete._training import TrainConfig, TrainResult, train

# molecules at benchmark quality (issue 19): SELFIES, training recipes, the MOSES table
from sciddm.discrete._data import SelfiesTokenizer  # isort: skip
from sciddm.discrete._moses import MosesBenchmark, moses_benchmark  # isort: skip
from sciddm.discrete._training._presets import TRAIN_PRESETS  # isort: skip
from sciddm.discrete._sampling import DistillResult, LSDSampler, distill_sampler  # isort: skip

__all__: list[str] = [
    "DEFAULT_EPS",
    "MDLM",
    "METHODS",
    "Denoiser",
    "DnaTokenizer",
    "FunctionModel",
    "GuidanceResult",
    "LogLinearSchedule",
    "MDLMConfig",
    "ModelInfo",
    "NelboResult",
    "RowGenerator",
    "SampleDiagnostics",
    "SampleResult",
    "SequenceData",
    "SmilesTokenizer",
    "Split",
    "TokenDataset",
    "TrainConfig",
    "TrainResult",
    "Transition",
    "ValueFit",
    "ValueModel",
    "best_of_n",
    "categorical",
    "denoiser_probs",
    "evaluate_nelbo",
    "exact_nelbo",
    "load_ars_sequences",
    "load_model",
    "load_moses_smiles",
    "load_nci_smiles",
    "load_sequences",
    "load_value_model",
    "merge_rank_results",
    "model_info",
    "nelbo",
    "predict_x0",
    "prepare_dna",
    "prepare_smiles",
    "read_sequence_file",
    "sample",
    "sample_diagnostics",
    "sample_distributed",
    "sample_training_noise",
    "sample_transition",
    "save_model",
    "save_value_model",
    "sequence_entropy",
    "smc",
    "split_seeds",
    "split_smiles",
    "svdd",
    "tokenizer_from_dict",
    "train",
    "train_val_split",
    "train_value_model",
    "transition_probs",
    "unigram_bits_per_token",
    "unigram_distribution",
]

__all__ += [  # molecules at benchmark quality (issue 19)
    "TRAIN_PRESETS",
    "MosesBenchmark",
    "SelfiesTokenizer",
    "moses_benchmark",
]

__all__ += ["DistillResult", "LSDSampler", "distill_sampler"]  # LSD / LSD+ (issue 21)
