"""The training loop of MDLM models: one code path for CPU, one GPU and DDP (torchrun)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciddm._core.io import torch_save_atomic
from sciddm._core.progress import progress_bar
from sciddm.discrete._data import (
    DnaTokenizer,
    SmilesTokenizer,
    TokenDataset,
    load_sequences,
    split_smiles,
    train_val_split,
)
from sciddm.discrete._model import MDLM, MODEL_FORMAT, MDLMConfig, model_payload
from sciddm.discrete._nelbo import (
    evaluate_nelbo,
    nelbo_terms,
    sample_training_noise,
    unigram_bits_per_token,
)
from sciddm.discrete._training._config import TrainConfig, TrainResult

__all__ = ["CHECKPOINT", "MODEL_FILE", "TRAIN_FORMAT", "Trainer", "step_seed"]

logger = logging.getLogger(__name__)

TRAIN_FORMAT = MODEL_FORMAT + "-train"
CHECKPOINT = "checkpoint.pt"
MODEL_FILE = "model.pt"


def step_seed(seed: int, step: int, stream: int = 0) -> int:
    ss = np.random.SeedSequence([seed, step, stream, 0x5C1DD])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class _Lr:
    """Picklable warm-up + decay multiplier (LambdaLR state stays plain)."""

    def __init__(self, warmup: int, total: int, kind: str, floor: float) -> None:
        self.warmup, self.total, self.kind, self.floor = warmup, total, kind, floor

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        if self.kind == "constant" or self.total <= self.warmup:
            return 1.0
        frac = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        if self.kind == "cosine":
            return self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * frac))
        return 1.0 - (1.0 - self.floor) * frac


class Trainer:
    """The training loop behind :func:`train` (one object per process).

    Under ``torchrun`` (``WORLD_SIZE > 1``) it joins the process group (nccl
    on CUDA, gloo on CPU), wraps the model in DDP and reads its rows through
    a :class:`~torch.utils.data.DistributedSampler`; otherwise the same code
    runs with one replica.

    Notes
    -----
    A step uses a global batch of ``batch_size`` rows: rows ``perm[k B : (k+1) B]``
    of the epoch's seeded permutation, whatever the number of processes (the
    sampler gives rank ``r`` the rows at positions ``r, r + W, ...``). The
    noise (antithetic times and masks) of the whole global batch is drawn from
    a generator seeded by ``(seed, step)`` and each process takes its rows, so
    gradients do not depend on the number of processes or on ``grad_accum``,
    and a resumed run replays exactly the same randomness.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        callback: Callable[[int, dict[str, float]], Any] | None = None,
    ) -> None:
        import torch.distributed as dist

        self.config = cfg = config
        self.callback = callback
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
        if use_cuda and not torch.cuda.is_available():
            raise ValueError("`device` is 'cuda' but no CUDA device is available")
        self.device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        per = self.world * cfg.grad_accum
        if cfg.batch_size % per:
            raise ValueError(
                f"`batch_size` ({cfg.batch_size}) must be divisible by world_size * grad_accum "
                f"({self.world} * {cfg.grad_accum})"
            )
        self.micro = cfg.batch_size // per
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and use_cuda)
        if self.bf16 and not use_cuda:
            logger.warning("bf16 autocast on CPU is slow; consider precision='fp32'")
        self.distributed = self.world > 1
        self._own_group = False
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo")
            self._own_group = True
        self.step = 0
        self.history: dict[str, list[float]] = {"step": [], "loss": [], "lr": []}
        self.val: dict[str, list[float]] = {"step": [], "bits": []}
        self._stop = self._stop_agreed = False
        try:
            self._setup_data()
            self._setup_model()
            self._maybe_resume()
        except BaseException:
            self.close()
            raise

    # -- set-up ---------------------------------------------------------------
    def _setup_data(self) -> None:
        cfg = self.config
        data = load_sequences(
            cfg.data if isinstance(cfg.data, str) else list(cfg.data),
            kind=cfg.kind,
            limit=cfg.limit,
            max_length=cfg.max_length,
            invalid=cfg.invalid,
        )
        if len(data) < 2:
            raise ValueError(
                f"the dataset has {len(data)} usable sequence(s) after cleaning "
                f"({data.n_invalid} invalid, {data.n_duplicates} duplicates, "
                f"{data.n_too_long} too long); at least 2 are needed"
            )
        self.data_info = data
        if data.kind == "dna":
            lengths = [len(s) for s in data.sequences]
        else:
            lengths = [len(split_smiles(s)) for s in data.sequences]
        L = cfg.length if cfg.length is not None else max(lengths)
        if max(lengths) > L:
            i = int(np.argmax(lengths))
            raise ValueError(
                f"sequence {i} has {lengths[i]} tokens, longer than the context `length` = {L}; "
                "drop long sequences with `max_length` or raise `length`"
            )
        if data.kind == "dna":
            self.tokenizer: Any = DnaTokenizer(length=L)
        else:
            self.tokenizer = SmilesTokenizer.from_smiles(data.sequences, length=L)
        split = train_val_split(data.sequences, val_fraction=cfg.val_fraction, rng=cfg.seed)
        self.train_set = TokenDataset(split.train, self.tokenizer)
        self.val_set = TokenDataset(split.val, self.tokenizer)
        self.length = L
        if len(self.train_set) < cfg.batch_size:
            raise ValueError(
                f"`batch_size` ({cfg.batch_size}) exceeds the {len(self.train_set)} training "
                "sequences"
            )
        self.sampler: torch.utils.data.DistributedSampler = torch.utils.data.DistributedSampler(
            range(len(self.train_set)),  # type: ignore[arg-type]
            num_replicas=self.world,
            rank=self.rank,
            shuffle=True,
            seed=cfg.seed,
            drop_last=True,
        )
        self.rows_per_step = cfg.batch_size // self.world
        self.steps_per_epoch = len(self.sampler) // self.rows_per_step
        self._epoch_cache: tuple[int, list[int]] | None = None

    def _setup_model(self) -> None:
        cfg = self.config
        over = {k: getattr(cfg, k) for k in ("d_model", "n_layers", "n_heads") if getattr(cfg, k)}
        self.model_config = MDLMConfig.preset(
            cfg.model,
            vocab_size=self.tokenizer.vocab_size,
            length=self.length,
            dropout=cfg.dropout,
            time_conditioned=cfg.time_conditioned,
            mask_id=self.tokenizer.mask_id,
            **over,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.model = MDLM(self.model_config, tokenizer=self.tokenizer)
        self.model.to(self.device)
        self.ema = (
            [p.detach().clone().float() for p in self.model.parameters()] if cfg.ema > 0 else None
        )
        decay: list[torch.nn.Parameter] = []
        no_decay: list[torch.nn.Parameter] = []
        for p in self.model.parameters():
            (decay if p.ndim >= 2 else no_decay).append(p)
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=cfg.lr,
            betas=(0.9, 0.98),
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            _Lr(min(cfg.warmup_steps, cfg.steps), cfg.steps, cfg.lr_schedule, cfg.min_lr_ratio),
        )
        net: Any = self.model
        if self.distributed:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(
                net, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.ddp = net
        self.net = torch.compile(net) if cfg.compile else net

    # -- checkpoints ----------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        """``out_dir/checkpoint.pt`` or None."""
        return None if self.config.out_dir is None else Path(self.config.out_dir) / CHECKPOINT

    def _maybe_resume(self) -> None:
        path = self.checkpoint_path
        if path is None or not self.config.resume or not path.exists():
            return
        ck = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(ck, dict) or ck.get("format") != TRAIN_FORMAT:
            raise ValueError(f"{str(path)!r} is not a sciddm training checkpoint")
        if ck["tokenizer"] != self.tokenizer.to_dict():
            raise ValueError(
                f"the checkpoint {str(path)!r} was trained with another vocabulary "
                f"({ck['tokenizer'].get('kind')}, {len(ck['tokenizer'].get('vocab', ''))} "
                f"symbols, length {ck['tokenizer'].get('length')}) than this data "
                f"({self.tokenizer!r}); use another `out_dir` or resume=False"
            )
        if ck["config"] != self.model_config.to_dict():
            raise ValueError(
                f"the checkpoint {str(path)!r} has model config {ck['config']}, "
                f"which differs from {self.model_config.to_dict()}"
            )
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
        self.scheduler._last_lr = lrs  # type: ignore[attr-defined]
        self.step = int(ck["step"])
        self.history = {k: list(v) for k, v in ck["history"].items()}
        self.val = {k: list(v) for k, v in ck["val"].items()}
        logger.info("resumed from %s at step %d", path, self.step)

    def _ema_state(self) -> dict[str, torch.Tensor] | None:
        if self.ema is None:
            return None
        names = [n for n, _ in self.model.named_parameters()]
        state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        for n, e in zip(names, self.ema):
            state[n] = e.detach().cpu().to(state[n].dtype)
        return state

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoint.pt`` atomically (rank 0); return its path."""
        path = self.checkpoint_path
        if path is None or self.rank != 0:
            return path
        payload = {
            "format": TRAIN_FORMAT,
            "version": 1,
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
        torch_save_atomic(payload, path)
        logger.info("saved %s at step %d", path, self.step)
        return path

    def final_model(self) -> MDLM:
        """A copy of the model with the EMA weights (or the raw ones), in eval mode."""
        m = MDLM(self.model_config, tokenizer=self.tokenizer)
        state = self._ema_state() or {k: v.cpu() for k, v in self.model.state_dict().items()}
        m.load_state_dict(state)
        return m.to(self.device).eval()

    # -- one step -------------------------------------------------------------
    def _rows(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.steps_per_epoch)
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            self.sampler.set_epoch(epoch)
            self._epoch_cache = (epoch, list(self.sampler))
        return self._epoch_cache[1][k * self.rows_per_step : (k + 1) * self.rows_per_step]

    def forward_backward(self, step: int) -> float:
        """Accumulate the gradients of step ``step`` (0-based); return the global loss.

        The loss is the mean over the global batch of the NELBO estimate per
        position (nats); gradients are those of that mean, identical for any
        number of processes.
        """
        cfg = self.config
        B, L, W = cfg.batch_size, self.length, self.world
        rows = self._rows(step)
        gen = torch.Generator().manual_seed(step_seed(cfg.seed, step))
        t_all, u_all = sample_training_noise(B, L, generator=gen)
        pos = torch.arange(len(rows)) * W + self.rank
        x = self.train_set.ids[rows].long()
        self.model.train()
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        for i in range(cfg.grad_accum):
            sl = slice(i * self.micro, (i + 1) * self.micro)
            xb = x[sl].to(self.device, non_blocking=True)
            tb = t_all[pos[sl]].to(self.device)
            ub = u_all[pos[sl]].to(self.device)
            sync = i == cfg.grad_accum - 1 or not self.distributed
            ctx = self.ddp.no_sync() if not sync else contextlib.nullcontext()
            with ctx:
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    terms = nelbo_terms(
                        self.net,
                        xb,
                        tb,
                        ub,
                        self.model.schedule,
                        mask_id=self.model.mask_id,
                        time_cond=self.model.time_conditioned,
                    )
                loss = terms.sum() * (W / (B * L))
                loss.backward()
            total += terms.detach().sum().double()  # no host sync per micro-batch
        if self.distributed:
            import torch.distributed as dist

            flag = torch.tensor(float(self._stop), dtype=torch.float64, device=self.device)
            buf = torch.stack([total, flag])
            dist.all_reduce(buf)
            total = buf[0]
            self._stop_agreed = bool(buf[1].item() > 0)
        return float(total.item()) / (B * L)

    def _optimizer_step(self) -> None:
        cfg = self.config
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            d = min(cfg.ema, (1 + self.step) / (10 + self.step))
            params = [p.detach().float() for p in self.model.parameters()]
            torch._foreach_mul_(self.ema, d)
            torch._foreach_add_(self.ema, params, alpha=1 - d)

    def evaluate(self) -> float:
        """Validation NELBO in bits per position of the EMA (or raw) weights (rank 0)."""
        val = self.val_set.ids[: self.config.eval_max].long()
        res = evaluate_nelbo(self.final_model(), val, rng=self.config.seed, batch_size=256)
        return res.bits_per_token

    # -- the loop -------------------------------------------------------------
    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop = True
        # a second signal acts at once
        signal.signal(
            signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        )
        logger.warning(
            "%s: finishing step %d and saving a checkpoint",
            signal.Signals(signum).name,
            self.step + 1,
        )

    def run(self) -> TrainResult:
        """Train up to ``config.steps``; return a :class:`TrainResult`."""
        cfg = self.config
        main = threading.current_thread() is threading.main_thread()
        sigs = (signal.SIGINT, signal.SIGTERM)
        old = {sg: signal.signal(sg, self._on_signal) for sg in sigs} if main else {}
        interrupted = stopped = False
        t0, start = time.perf_counter(), self.step
        try:
            bar = progress_bar(
                range(self.step, cfg.steps),
                enabled=cfg.progress and self.rank == 0,
                total=cfg.steps - self.step,
                desc="train",
            )
            for s in bar:
                loss = self.forward_backward(s)
                lr = float(self.scheduler.get_last_lr()[0])
                self._optimizer_step()
                self.step = s + 1
                self.history["step"].append(float(self.step))
                self.history["loss"].append(loss)
                self.history["lr"].append(lr)
                if self.rank == 0 and cfg.log_every and self.step % cfg.log_every == 0:
                    logger.info("step %d  loss %.4f nats/token  lr %.3g", self.step, loss, lr)
                if cfg.eval_every and self.step % cfg.eval_every == 0 and self.step < cfg.steps:
                    self._validate()
                if self.callback is not None and self.callback(self.step, {"loss": loss, "lr": lr}):
                    stopped = True
                # under DDP every rank stops at the same step (the flag is all-reduced)
                if self._stop_agreed if self.distributed else self._stop:
                    interrupted = True
                    break
                if stopped:
                    break
                if cfg.save_every and self.step % cfg.save_every == 0 and self.step < cfg.steps:
                    self.save_checkpoint()
            elapsed = time.perf_counter() - t0
            if interrupted:
                self.save_checkpoint()
                raise KeyboardInterrupt(f"training interrupted after step {self.step}")
            if self.step >= cfg.steps and (
                not self.val["step"] or self.val["step"][-1] != self.step
            ):
                self._validate()
            ck = self.save_checkpoint()
            if self.rank == 0 and cfg.out_dir is not None and self.step >= cfg.steps:
                torch_save_atomic(
                    model_payload(self.model, self._ema_state()), Path(cfg.out_dir) / MODEL_FILE
                )
        finally:
            for sg, handler in old.items():
                signal.signal(sg, handler)
        tokens = (self.step - start) * cfg.batch_size * self.length
        train_ids = self.train_set.ids.numpy()
        return TrainResult(
            model=self.final_model(),
            tokenizer=self.tokenizer,
            steps=np.asarray(self.history["step"], dtype=np.int64),
            loss=np.asarray(self.history["loss"]),
            lr=np.asarray(self.history["lr"]),
            val_steps=np.asarray(self.val["step"], dtype=np.int64),
            val_bits_per_token=np.asarray(self.val["bits"]),
            unigram_bits_per_token=unigram_bits_per_token(
                train_ids, self.val_set.ids.numpy(), self.tokenizer.vocab_size
            ),
            n_parameters=self.model.num_parameters(),
            n_train=len(self.train_set),
            n_val=len(self.val_set),
            tokens_per_second=tokens / elapsed if elapsed > 0 else float("nan"),
            checkpoint=None if ck is None else str(ck),
            interrupted=stopped,
        )

    def _validate(self) -> None:
        if self.rank == 0:
            bits = self.evaluate()
            logger.info("step %d  validation %.4f bits/token", self.step, bits)
        else:
            bits = float("nan")
        if self.distributed:
            import torch.distributed as dist

            buf = torch.tensor([bits if self.rank == 0 else 0.0], device=self.device)
            dist.broadcast(buf, 0)
            bits = float(buf.item())
        self.val["step"].append(float(self.step))
        self.val["bits"].append(bits)

    def close(self) -> None:
        """Leave the process group if this trainer created it."""
        if self._own_group:
            import torch.distributed as dist

            dist.destroy_process_group()
            self._own_group = False
