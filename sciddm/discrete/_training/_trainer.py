"""The training loop of MDLM models: one code path for CPU, one GPU and DDP (torchrun)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm.discrete._data import (
    DnaTokenizer,
    SelfiesTokenizer,
    SmilesTokenizer,
    TokenDataset,
    load_sequences,
    split_smiles,
    train_val_split,
)
from sciddm.discrete._data._selfies import selfies_training_data
from sciddm.discrete._model import MDLM, MDLMConfig
from sciddm.discrete._nelbo import (
    evaluate_nelbo,
    nelbo_terms,
    sample_training_noise,
    unigram_bits_per_token,
)
from sciddm.discrete._protocol import model_info
from sciddm.discrete._training._checkpoint import CHECKPOINT, MODEL_FILE, Checkpoints
from sciddm.discrete._training._config import TrainConfig, TrainResult

__all__ = ["CHECKPOINT", "MODEL_FILE", "Trainer", "step_seed"]

logger = logging.getLogger(__name__)

#: With ``on_nonfinite="skip"``, this many skipped steps in a row stop training anyway.
MAX_CONSECUTIVE_SKIPS = 10


def step_seed(seed: int, step: int, stream: int = 0) -> int:
    """A 63-bit seed that depends only on ``(seed, step, stream)`` (noise of one step)."""
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


class Trainer(Checkpoints):
    """The training loop behind :func:`~sciddm.discrete.train` (one object per process).

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
    and a resumed run replays exactly the same randomness. The initial weights
    depend only on ``seed``, and dropout (if any) on ``(seed, step)``; torch's
    global generator is never touched.
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
        self.saved_step: int | None = None
        self.history: dict[str, list[float]] = {"step": [], "loss": [], "lr": [], "skipped": []}
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
        selfies_tok: SelfiesTokenizer | None = None
        if cfg.tokenizer == "selfies":
            selfies_tok, data, lengths = selfies_training_data(
                data, length=cfg.length, invalid=cfg.invalid
            )
            self.data_info = data
        elif cfg.tokenizer == "smiles" and data.kind != "smiles":
            raise ValueError(
                f"`tokenizer`='smiles' needs SMILES data, but the data is {data.kind!r}"
            )
        elif data.kind == "dna":
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
        if selfies_tok is not None:
            self.tokenizer: Any = selfies_tok
        elif data.kind == "dna":
            self.tokenizer = DnaTokenizer(length=L)
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
        self.model = MDLM(self.model_config, tokenizer=self.tokenizer, rng=cfg.seed)
        self.model.to(self.device)
        self.info = model_info(self.model)
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

    # -- one step -------------------------------------------------------------
    def _rows(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.steps_per_epoch)
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            self.sampler.set_epoch(epoch)
            self._epoch_cache = (epoch, list(self.sampler))
        return self._epoch_cache[1][k * self.rows_per_step : (k + 1) * self.rows_per_step]

    @contextlib.contextmanager
    def _dropout_rng(self, step: int) -> Iterator[None]:
        """Dropout draws from torch's default generators: seed them by ``(seed, step)``
        inside a fork, so that dropout is reproducible and the global state untouched."""
        if self.config.dropout == 0:
            yield
            return
        cuda = self.device.type == "cuda"
        with torch.random.fork_rng(devices=[self.device] if cuda else []):
            s = step_seed(self.config.seed, step, stream=1)
            torch.default_generator.manual_seed(s)
            if cuda:
                torch.cuda.default_generators[self.device.index or 0].manual_seed(s)
            yield

    def forward_backward(self, step: int) -> float:
        """Accumulate the gradients of step ``step`` (0-based); return the global loss.

        The loss is the mean over the global batch of the NELBO estimate per
        position (nats) of MDLM's training objective; gradients are those of
        that mean, identical for any number of processes.
        """
        cfg = self.config
        B, L, W = cfg.batch_size, self.length, self.world
        rows = self._rows(step)
        gen = torch.Generator().manual_seed(step_seed(cfg.seed, step))
        t_all, u_all = sample_training_noise(B, L, rng=gen)
        pos = torch.arange(len(rows)) * W + self.rank
        x = self.train_set.ids[rows].long()
        self.model.train()
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        with self._dropout_rng(step):
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
                            self.net, self.info, xb, tb, ub, self.model.schedule, check=False
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

    def clip_gradients(self) -> float:
        """Clip the gradients to ``grad_clip`` (if > 0); return their norm before clipping."""
        clip = self.config.grad_clip
        norm = torch.nn.utils.clip_grad_norm_(
            self.model.parameters(), clip if clip > 0 else math.inf
        )
        return float(norm)

    def apply_step(self) -> None:
        """The optimiser, scheduler and EMA updates of one step (gradients already clipped)."""
        cfg = self.config
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            d = min(cfg.ema, (1 + self.step) / (10 + self.step))
            params = [p.detach().float() for p in self.model.parameters()]
            torch._foreach_mul_(self.ema, d)
            torch._foreach_add_(self.ema, params, alpha=1 - d)

    def skip_step(self, step: int, loss: float, norm: float) -> None:
        """Handle a non-finite loss or gradient at 0-based ``step``: raise, or skip it."""
        cfg = self.config
        self.optimizer.zero_grad(set_to_none=True)
        what = f"the loss is {loss}" if not math.isfinite(loss) else f"the gradient norm is {norm}"
        skips = self.history["skipped"]
        run = 1
        while run <= len(skips) and skips[-run] == step + 1 - run:
            run += 1
        if cfg.on_nonfinite == "error" or run >= MAX_CONSECUTIVE_SKIPS:
            again = f" ({run} steps in a row)" if run > 1 else ""
            raise FloatingPointError(
                f"training diverged at step {step + 1}: {what}{again}. Lower `lr` (now "
                f"{cfg.lr:g}) or clip gradients with `grad_clip` (now {cfg.grad_clip:g}; 0 "
                "disables it)"
                + (", or pass on_nonfinite='skip' to skip such steps" if not again else "")
                + f"; {self.on_disk()}"
            )
        self.scheduler.step()  # the schedule stays indexed by the step number
        self.history["skipped"].append(float(step + 1))
        logger.warning("step %d skipped: %s", step + 1, what)

    def evaluate(self) -> float:
        """Validation NELBO in bits per position of the EMA (or raw) weights (rank 0)."""
        val = self.val_set.ids[: self.config.eval_max].long()
        try:
            res = evaluate_nelbo(self.final_model(), val, rng=self.config.seed, batch_size=256)
        except ValueError as exc:
            if not str(exc).startswith("the model"):
                raise
            raise FloatingPointError(
                f"validation at step {self.step} failed ({exc}): the weights have diverged; "
                f"lower `lr` (now {self.config.lr:g}) or clip gradients with `grad_clip` (now "
                f"{self.config.grad_clip:g}); {self.on_disk()}"
            ) from None
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

    def train_step(self, s: int) -> tuple[float, float]:
        """Step ``s`` (0-based): gradients, guard, update, history; returns (loss, lr)."""
        loss = self.forward_backward(s)
        lr = float(self.scheduler.get_last_lr()[0])
        norm = self.clip_gradients()
        if math.isfinite(loss) and math.isfinite(norm):
            self.apply_step()
        else:
            self.skip_step(s, loss, norm)
        self.step = s + 1
        self.history["step"].append(float(self.step))
        self.history["loss"].append(loss)
        self.history["lr"].append(lr)
        return loss, lr

    def run(self) -> TrainResult:
        """Train up to ``config.steps``; return a :class:`TrainResult`."""
        cfg = self.config
        main = threading.current_thread() is threading.main_thread()
        sigs = (signal.SIGINT, signal.SIGTERM)
        old = {sg: signal.signal(sg, self._on_signal) for sg in sigs} if main else {}
        t0, start = time.perf_counter(), self.step
        try:
            stopped = self._loop()
            if self.step >= cfg.steps and (
                not self.val["step"] or self.val["step"][-1] != self.step
            ):
                self._validate()
            ck = self.save_checkpoint()
            if self.step >= cfg.steps:
                self.save_model_file()
        finally:
            for sg, handler in old.items():
                signal.signal(sg, handler)
        return self._result(time.perf_counter() - t0, start, ck, stopped)

    def _loop(self) -> bool:
        """The steps; returns True when the callback stopped the run."""
        cfg = self.config
        bar = progress_bar(
            range(self.step, cfg.steps),
            enabled=cfg.progress and self.rank == 0,
            total=cfg.steps - self.step,
            desc="train",
        )
        for s in bar:
            loss, lr = self.train_step(s)
            if self.rank == 0 and cfg.log_every and self.step % cfg.log_every == 0:
                logger.info("step %d  loss %.4f nats/token  lr %.3g", self.step, loss, lr)
            if cfg.eval_every and self.step % cfg.eval_every == 0 and self.step < cfg.steps:
                self._validate()
            stopped = bool(
                self.callback is not None and self.callback(self.step, {"loss": loss, "lr": lr})
            )
            # under DDP every rank stops at the same step (the flag is all-reduced)
            if self._stop_agreed if self.distributed else self._stop:
                self.save_checkpoint()
                raise KeyboardInterrupt(f"training interrupted after step {self.step}")
            if stopped:
                return True
            if cfg.save_every and self.step % cfg.save_every == 0 and self.step < cfg.steps:
                self.save_checkpoint()
        return False

    def _result(self, elapsed: float, start: int, ck: Any, stopped: bool) -> TrainResult:
        cfg = self.config
        tokens = (self.step - start) * cfg.batch_size * self.length
        return TrainResult(
            model=self.final_model(),
            losses=np.asarray(self.history["loss"]),
            wall_time=elapsed,
            tokenizer=self.tokenizer,
            steps=np.asarray(self.history["step"], dtype=np.int64),
            lr=np.asarray(self.history["lr"]),
            val_steps=np.asarray(self.val["step"], dtype=np.int64),
            val_bits_per_token=np.asarray(self.val["bits"]),
            unigram_bits_per_token=unigram_bits_per_token(
                self.train_set.ids.numpy(), self.val_set.ids.numpy(), self.tokenizer.vocab_size
            ),
            n_parameters=self.model.num_parameters(),
            n_train=len(self.train_set),
            n_val=len(self.val_set),
            tokens_per_second=tokens / elapsed if elapsed > 0 else float("nan"),
            checkpoint=None if ck is None else str(ck),
            interrupted=stopped,
            skipped_steps=np.asarray(self.history.get("skipped", []), dtype=np.int64),
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
