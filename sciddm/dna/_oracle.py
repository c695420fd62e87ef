"""CNN oracles of ARS1 fitness, trained on two disjoint splits of the real data.

Guidance must not be judged by the model it optimises: :func:`train_ars_oracles`
splits the ARS1 variants into three disjoint parts, trains a *guidance* oracle on the
first, an *evaluation* oracle on the second, and reports both on the third (held out
from both). A sequence pushed to a high guidance score that is only an adversarial
artefact of the guidance network will typically not score high under the evaluation one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.io import torch_save_atomic
from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator, seed_from
from sciddm._core.validation import check_int, check_scalar, warn_convergence
from sciddm.dna._seq import encode_dna

__all__ = ["ArsOracle", "OracleFit", "load_oracle", "save_oracle", "train_ars_oracles"]

logger = logging.getLogger(__name__)


class ArsOracle(nn.Module):
    """A small 1-D CNN regressor of fitness from a one-hot DNA sequence.

    Conv(4 -> c, k=11) - BatchNorm - GELU - MaxPool(3) - Conv(c -> c, k=5) - BatchNorm -
    GELU - [global max, global mean] - Linear(2c -> c) - GELU - Linear(c -> 1).
    (Batch normalisation and GELU keep small networks from collapsing to a constant
    output on these noisy targets, which plain ReLU networks sometimes did.)

    Parameters
    ----------
    channels : int, default 32

    Notes
    -----
    Call it on a float one-hot tensor (n, 4, L), or use :meth:`predict` on strings.
    ``target_mean`` / ``target_std`` buffers undo the standardisation of the targets.
    """

    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.channels = int(channels)
        self.conv1 = nn.Conv1d(4, channels, 11, padding=5)
        self.norm1 = nn.BatchNorm1d(channels)
        self.pool = nn.MaxPool1d(3)
        self.conv2 = nn.Conv1d(channels, channels, 5, padding=2)
        self.norm2 = nn.BatchNorm1d(channels)
        self.head = nn.Sequential(
            nn.Linear(2 * channels, channels), nn.ReLU(), nn.Linear(channels, 1)
        )
        self.register_buffer("target_mean", torch.zeros(()))
        self.register_buffer("target_std", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = nn.functional.gelu(self.norm1(self.conv1(x)))
        h = nn.functional.gelu(self.norm2(self.conv2(self.pool(h))))
        z = torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)
        return self.head(z)[:, 0] * self.target_std + self.target_mean

    def predict(self, sequences: Sequence[str], *, batch_size: int = 4096) -> np.ndarray:
        """Predicted log-enrichment of DNA strings (ACGT; N counts as 0.25 each)."""
        x = encode_dna(list(sequences), n_policy="neutral", pad=False)
        dev = next(self.parameters()).device
        out = []
        self.eval()
        with torch.no_grad():
            for a in range(0, len(x), batch_size):
                out.append(self(_one_hot(x[a : a + batch_size], dev)).cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if (
            args
            and isinstance(args[0], (list, tuple))
            and (not args[0] or isinstance(args[0][0], str))
        ):
            return self.predict(args[0], **kwargs)
        return super().__call__(*args, **kwargs)


def _one_hot(codes: np.ndarray, device: Any = "cpu") -> torch.Tensor:
    table = np.zeros((6, 4), dtype=np.float32)
    table[:4] = np.eye(4, dtype=np.float32)
    table[4] = 0.25
    return torch.from_numpy(table[codes].transpose(0, 2, 1).copy()).to(device)


@dataclasses.dataclass(frozen=True, repr=False)
class OracleFit(Result):
    """Two oracles on disjoint splits and their held-out accuracy.

    Attributes
    ----------
    guidance, evaluation : ArsOracle
        Trained on disjoint splits A and B.
    pearson, spearman : dict
        Correlations of each oracle's predictions with the measured log-enrichment on
        the held-out split C (``{"guidance": r, "evaluation": r}``).
    agreement : float
        Pearson correlation between the two oracles' predictions on C.
    n_train : tuple of int
        Sizes of splits A and B; ``n_test`` the size of C.
    test_sequences : list of str
    test_targets : ndarray
    """

    guidance: Any
    evaluation: Any
    pearson: dict[str, float]
    spearman: dict[str, float]
    agreement: float
    n_train: tuple[int, int]
    n_test: int
    test_sequences: list[str] = dataclasses.field(repr=False)
    test_targets: np.ndarray = dataclasses.field(repr=False)


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    *,
    channels: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: bool,
    device: Any,
) -> ArsOracle:
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, global state restored
        torch.manual_seed(seed)
        model = ArsOracle(channels)
    gen = torch.Generator().manual_seed(seed)  # batch order, drawn on the CPU
    model.target_mean.fill_(float(y.mean()))
    model.target_std.fill_(float(y.std() or 1.0))
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt = _one_hot(x, device)
    yt = torch.from_numpy(y.astype(np.float32)).to(device)
    n = len(y)
    model.train()
    for _ in progress_bar(range(epochs), enabled=progress, desc="oracle"):
        perm = torch.randperm(n, generator=gen)
        for a in range(0, n, batch_size):
            idx = perm[a : a + batch_size].to(device)
            if len(idx) < 2:  # batch normalisation needs two samples
                continue
            pred = model(xt[idx])
            loss = torch.mean(((pred - yt[idx]) / model.target_std) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def train_ars_oracles(
    *,
    n_train: int | None = 20000,
    n_test: int = 5000,
    min_reads: int = 0,
    epochs: int = 3,
    channels: int = 32,
    batch_size: int = 128,
    lr: float = 2e-3,
    rng: SeedLike = None,
    progress: bool = False,
    data: Any = None,
    device: str | torch.device = "cpu",
) -> OracleFit:
    """Train the guidance and evaluation ARS oracles on disjoint splits.

    Parameters
    ----------
    n_train : int or None, default 20000
        Variants per training split (None: all remaining after the test split, halved).
    n_test : int, default 5000
        Held-out variants, disjoint from both training splits.
    min_reads : int, default 0
        Keep variants with ``library_ct + selected_ct >= min_reads``. Most variants
        have a handful of reads, and their signal is mostly "selected or not"; keeping
        them gives the highest held-out correlation (0.65 against 0.27 with
        ``min_reads=10`` at 20k / 16k training variants).
    epochs, channels, batch_size, lr
        Training knobs (Adam, mean squared error on standardised targets).
    rng : numpy.random.Generator, int or None
        Draws the split and the two torch seeds; an int makes training reproducible.
    data : ArsLibrary, optional
        Defaults to :func:`sciddm.dna.read_ars`.
    device : str or torch.device, default "cpu"
        Where to train; the oracles stay there. Results on CUDA are reproducible up to
        the non-determinism of cuDNN convolutions.

    Returns
    -------
    OracleFit

    Notes
    -----
    Targets are the ARS log-enrichment ``log((selected+1)/(library+1))`` centred at the
    median. Split C is drawn first, then A and B, all uniformly without replacement
    from the filtered variants.

    Examples
    --------
    >>> from sciddm.dna import train_ars_oracles
    >>> fit = train_ars_oracles(n_train=300, n_test=200, epochs=1, channels=4, rng=0)
    >>> fit.n_train, fit.n_test
    ((300, 300), 200)
    """
    from scipy import stats

    n_test = check_int(n_test, "n_test", lo=10)
    min_reads = check_int(min_reads, "min_reads", lo=0)
    epochs = check_int(epochs, "epochs", lo=1)
    channels = check_int(channels, "channels", lo=1)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    lr = check_scalar(lr, "lr", lo=0, closed="neither")
    rng = as_generator(rng)
    if data is None:
        from sciddm.dna.data import read_ars

        data = read_ars()
    keep = np.flatnonzero(data.total_ct >= min_reads)
    available = (len(keep) - n_test) // 2
    if available < 10:
        raise ValueError(
            f"only {len(keep)} variants have >= {min_reads} reads; lower `min_reads` or `n_test`"
        )
    if n_train is None:
        n_train = available
    n_train = check_int(n_train, "n_train", lo=10)
    if n_train > available:
        raise ValueError(f"`n_train` must be <= {available} with n_test={n_test}, got {n_train}")
    perm = rng.permutation(keep)
    idx_c = perm[:n_test]
    idx_a = perm[n_test : n_test + n_train]
    idx_b = perm[n_test + n_train : n_test + 2 * n_train]
    seqs = data.sequences
    y = data.log_enrichment

    def enc(idx: np.ndarray) -> np.ndarray:
        return encode_dna([seqs[i] for i in idx], n_policy="neutral", pad=False)

    seeds = [seed_from(rng) % (2**31), seed_from(rng) % (2**31)]
    kw = dict(
        channels=channels,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        progress=progress,
        device=torch.device(device),
    )
    guidance = _fit(enc(idx_a), y[idx_a], seed=seeds[0], **kw)  # type: ignore[arg-type]
    evaluation = _fit(enc(idx_b), y[idx_b], seed=seeds[1], **kw)  # type: ignore[arg-type]
    test_seqs = [seqs[i] for i in idx_c]
    yc = y[idx_c]
    pg, pe = guidance.predict(test_seqs), evaluation.predict(test_seqs)
    pearson = {
        "guidance": _corr(pg, yc, stats.pearsonr),
        "evaluation": _corr(pe, yc, stats.pearsonr),
    }
    spearman = {
        "guidance": _corr(pg, yc, stats.spearmanr),
        "evaluation": _corr(pe, yc, stats.spearmanr),
    }
    agreement = _corr(pg, pe, stats.pearsonr)
    if not all(np.isfinite(v) for v in pearson.values()):
        warn_convergence("an ARS oracle predicts a constant", "epochs")
    logger.info("ARS oracles: held-out Pearson %s, Spearman %s", pearson, spearman)
    return OracleFit(
        guidance=guidance,
        evaluation=evaluation,
        pearson=pearson,
        spearman=spearman,
        agreement=agreement,
        n_train=(n_train, n_train),
        n_test=n_test,
        test_sequences=test_seqs,
        test_targets=yc,
    )


def _corr(a: np.ndarray, b: np.ndarray, fn: Any) -> float:
    """Correlation, NaN (without a warning) when either input is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(fn(a, b)[0])


def save_oracle(oracle: ArsOracle, path: str | os.PathLike[str]) -> None:
    """Save an oracle atomically (a plain dict of tensors and ints).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sciddm.dna import ArsOracle, load_oracle, save_oracle
    >>> oracle = ArsOracle(channels=4).eval()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "oracle.pt"
    >>> save_oracle(oracle, path)
    >>> again = load_oracle(path)                  # torch.load(..., weights_only=True)
    >>> seqs = ["ACGT" * 10, "TTGA" * 10]
    >>> bool(np.array_equal(again.predict(seqs), oracle.predict(seqs)))
    True
    """
    torch_save_atomic({"channels": oracle.channels, "state_dict": oracle.state_dict()}, path)


def load_oracle(path: str | os.PathLike[str], *, device: str = "cpu") -> ArsOracle:
    """Load an oracle saved by :func:`save_oracle` with ``torch.load(weights_only=True)``."""
    blob = torch.load(path, map_location=device, weights_only=True)
    model = ArsOracle(int(blob["channels"]))
    model.load_state_dict(blob["state_dict"])
    return model.to(device).eval()
