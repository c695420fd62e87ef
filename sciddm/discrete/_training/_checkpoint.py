"""Training checkpoints: save (atomic, with a format header), resume, and the final model files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from sciddm._core.io import CheckpointError, load_checkpoint, save_checkpoint
from sciddm.discrete._model import (
    MDLM,
    MODEL_KIND,
    TRAIN_KIND,
    MDLMConfig,
    model_payload,
    read_legacy_checkpoint,
)
from sciddm.discrete._training._config import TrainConfig

__all__ = ["CHECKPOINT", "MODEL_FILE", "Checkpoints"]

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
MODEL_FILE = "model.pt"


class Checkpoints:
    """The checkpoint side of :class:`~sciddm.discrete._training.Trainer` (a mixin).

    ``saved_step`` is the step held by ``checkpoint.pt`` on disk (None when
    this run has written or resumed none), so that messages report the step
    actually on disk, not the one in memory.
    """

    config: TrainConfig
    model: MDLM
    model_config: MDLMConfig
    tokenizer: Any
    ema: list[torch.Tensor] | None
    optimizer: torch.optim.Optimizer
    scheduler: Any
    step: int
    history: dict[str, list[float]]
    val: dict[str, list[float]]
    world: int
    rank: int
    device: torch.device
    saved_step: int | None

    @property
    def checkpoint_path(self) -> Path | None:
        """``out_dir/checkpoint.pt`` or None."""
        return None if self.config.out_dir is None else Path(self.config.out_dir) / CHECKPOINT

    def _read_checkpoint(self, path: Path) -> dict[str, Any]:
        hint = "; remove it, use another `out_dir`, or start afresh with resume=False (--no-resume)"
        try:
            return load_checkpoint(path, kind=TRAIN_KIND, map_location="cpu")
        except CheckpointError as exc:
            if "it was not written by sciddm" in str(exc):
                legacy = read_legacy_checkpoint(str(path))
                if legacy is not None and legacy[1] == TRAIN_KIND:
                    return legacy[0]
            raise CheckpointError(str(exc) + hint) from None

    def _maybe_resume(self) -> None:
        path = self.checkpoint_path
        if path is None or not self.config.resume or not path.exists():
            return
        ck = self._read_checkpoint(path)
        if ck.get("tokenizer") != self.tokenizer.to_dict():
            tk = ck.get("tokenizer") or {}
            raise ValueError(
                f"the checkpoint {str(path)!r} was trained with another vocabulary "
                f"({tk.get('kind')}, {len(tk.get('vocab', ''))} symbols, length "
                f"{tk.get('length')}) than this data ({self.tokenizer!r}); use another "
                "`out_dir` or resume=False"
            )
        if ck.get("config") != self.model_config.to_dict():
            raise ValueError(
                f"the checkpoint {str(path)!r} has model config {ck.get('config')}, "
                f"which differs from {self.model_config.to_dict()}; use another `out_dir` "
                "or resume=False"
            )
        try:
            self._restore(ck)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(
                f"{str(path)!r} is not a readable sciddm {TRAIN_KIND} file ({reason}); remove "
                "it or start afresh with resume=False (--no-resume)"
            ) from None
        logger.info("resumed from %s at step %d", path, self.step)

    def _restore(self, ck: dict[str, Any]) -> None:
        self.model.load_state_dict(ck["model_state"])
        if self.ema is not None and ck.get("ema_state") is not None:
            for e, name in zip(self.ema, dict(self.model.named_parameters())):
                e.copy_(ck["ema_state"][name])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.scheduler.load_state_dict(ck["scheduler"])
        # the current config's schedule at the resumed step (same value when unchanged)
        lam = self.scheduler.lr_lambdas[0]
        lrs = [b * lam(self.scheduler.last_epoch) for b in self.scheduler.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.scheduler._last_lr = lrs
        self.step = int(ck["step"])
        self.history = {k: list(v) for k, v in ck["history"].items()}
        self.history.setdefault("skipped", [])
        self.val = {k: list(v) for k, v in ck["val"].items()}
        self.saved_step = self.step

    def _ema_state(self) -> dict[str, torch.Tensor] | None:
        if self.ema is None:
            return None
        names = [n for n, _ in self.model.named_parameters()]
        state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        for n, e in zip(names, self.ema):
            state[n] = e.detach().cpu().to(state[n].dtype)
        return state

    def _weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoint.pt`` atomically (rank 0); return its path.

        Weights that are not finite are never written: the checkpoint on disk
        stays the last finite one.
        """
        path = self.checkpoint_path
        if path is None or self.rank != 0:
            return path
        if not self._weights_finite():
            logger.error("not saving step %d: the weights are not finite", self.step)
            return path
        payload = {
            "config": self.model_config.to_dict(),
            "tokenizer": self.tokenizer.to_dict(),
            "train_config": self.config.to_dict(),
            "model_state": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "ema_state": self._ema_state(),
            "optimizer": self.optimizer.state_dict(),
            # the warm-up/decay shape follows the current config on resume (``steps`` may grow)
            "scheduler": {**self.scheduler.state_dict(), "lr_lambdas": [None]},
            "step": self.step,
            "history": self.history,
            "val": self.val,
            "world_size": self.world,
        }
        save_checkpoint(payload, path, kind=TRAIN_KIND)
        self.saved_step = self.step
        logger.info("saved %s at step %d", path, self.step)
        return path

    def save_model_file(self) -> None:
        """Write ``out_dir/model.pt`` (the EMA weights) when training is complete (rank 0)."""
        if self.rank != 0 or self.config.out_dir is None or not self._weights_finite():
            return
        save_checkpoint(
            model_payload(self.model, self._ema_state()),
            Path(self.config.out_dir) / MODEL_FILE,
            kind=MODEL_KIND,
        )

    def final_model(self) -> MDLM:
        """A copy of the model with the EMA weights (or the raw ones), in eval mode."""
        m = MDLM(self.model_config, tokenizer=self.tokenizer, rng=0)  # weights replaced below
        state = self._ema_state() or {k: v.cpu() for k, v in self.model.state_dict().items()}
        m.load_state_dict(state)
        return m.to(self.device).eval()

    def on_disk(self) -> str:
        """What the checkpoint on disk holds, for messages."""
        path = self.checkpoint_path
        if path is None:
            return "no checkpoint is kept (no `out_dir`)"
        if self.saved_step is None:
            return f"no checkpoint was saved in {str(path.parent)!r}"
        return f"{str(path)!r} holds step {self.saved_step}"
