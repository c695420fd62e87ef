"""Training of MDLM models: configuration, the loop (CPU, GPU, DDP) and ``train``."""

from sciddm.discrete._training._config import TrainConfig, TrainResult
from sciddm.discrete._training._train import train
from sciddm.discrete._training._trainer import CHECKPOINT, MODEL_FILE, Trainer, step_seed

__all__ = [
    "CHECKPOINT",
    "MODEL_FILE",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "step_seed",
    "train",
]
