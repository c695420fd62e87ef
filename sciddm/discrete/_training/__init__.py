"""Training of MDLM models: configuration, the loop (CPU, GPU, DDP), checkpoints and ``train``."""

from sciddm.discrete._training._checkpoint import CHECKPOINT, MODEL_FILE
from sciddm.discrete._training._config import CHOICES, FIELD_HELP, TrainConfig, TrainResult
from sciddm.discrete._training._train import train
from sciddm.discrete._training._trainer import Trainer, step_seed

__all__ = [
    "CHECKPOINT",
    "CHOICES",
    "FIELD_HELP",
    "MODEL_FILE",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "step_seed",
    "train",
]
