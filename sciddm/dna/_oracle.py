"""CNN oracles of ARS1 fitness, trained on two disjoint splits of the real data.

Guidance must not be judged by the model it optimises: :func:`train_ars_oracles`
splits the ARS1 variants into three disjoint parts, trains a *guidance* oracle on the
first, an *evaluation* oracle on the second, and reports both on the third (held out
from both). A sequence pushed to a high guidance score that is only an adversarial
artefact of the guidance network will typically not score high under the evaluation one.

Randomness follows the library's contract (:mod:`sciddm._core.rng`): ``rng`` draws the
split, each network's initial weights (inside :func:`~sciddm._core.rng.torch_init`) and
its batch order, so two runs with the same integer ``rng`` give bit-identical weights on
the CPU without touching torch's global seed.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.io import load_checkpoint, save_checkpoint
from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import RNGLike, SeedLike, as_generator, spawn, torch_generator, torch_init
from sciddm._core.validation import (
    check_array,
    check_choice,
    check_int,
    check_scalar,
    warn_convergence,
)
from sciddm.dna._seq import _as_list, _encode
from sciddm.dna.data import ArsLibrary

__all__ = ["ArsOracle", "OracleFit", "load_oracle", "save_oracle", "train_ars_oracles"]

logger = logging.getLogger(__name__)

#: The ``kind`` of the files written by :func:`save_oracle`.
ORACLE_KIND = "ARS oracle"


class ArsOracle(nn.Module):
    """A small 1-D CNN regressor of fitness from a one-hot DNA sequence.

    Conv(4 -> c, k=11) - BatchNorm - GELU - MaxPool(3) - Conv(c -> c, k=5) - BatchNorm -
    GELU - [global max, global mean] - Linear(2c -> c) - ReLU - Linear(c -> 1).
    (Batch normalisation and GELU keep small networks from collapsing to a constant
    output on these noisy targets, which plain ReLU networks sometimes did.)

    Parameters
    ----------
    channels : int, default 32
        Width c of both convolutions (>= 1).
    rng : None, int, numpy.random.Generator or torch.Generator, optional
        Random source of the initial weights (built inside
        :func:`sciddm._core.rng.torch_init`): the same ``rng`` gives bit-identical
        weights; None draws from torch's default generator.

    Attributes
    ----------
    channels : int
    target_mean, target_std : Tensor
        Buffers that undo the standardisation of the training targets.

    Notes
    -----
    Call it on a float one-hot tensor (n, 4, L), or use :meth:`predict` (or call it)
    on a list of strings.

    Examples
    --------
    >>> import torch
    >>> from sciddm.dna import ArsOracle
    >>> a, b = ArsOracle(4, rng=0), ArsOracle(4, rng=0)
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    >>> a.predict(["ACGT" * 10]).shape
    (1,)
    """

    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(self, channels: int = 32, *, rng: RNGLike = None) -> None:
        channels = check_int(channels, "channels", lo=1)
        super().__init__()
        self.channels = channels
        with torch_init(rng):
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
        """Predicted log-enrichment of one-hot sequences ``x`` of shape (n, 4, L)."""
        h = nn.functional.gelu(self.norm1(self.conv1(x)))
        h = nn.functional.gelu(self.norm2(self.conv2(self.pool(h))))
        z = torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)
        out: torch.Tensor = self.head(z)[:, 0] * self.target_std + self.target_mean
        return out

    def predict(self, sequences: Sequence[str], *, batch_size: int = 4096) -> np.ndarray:
        """Predicted log-enrichment of DNA strings (ACGT; N counts as 0.25 each).

        Parameters
        ----------
        sequences : sequence of str
            Equal-length DNA strings (at least 3 bases, the pooling width).
        batch_size : int, default 4096
            Sequences per forward pass.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        batch_size = check_int(batch_size, "batch_size", lo=1)
        x = _encode(_as_list(sequences), n_policy="neutral", pad=False)
        if x.shape[0] and x.shape[1] < 3:
            raise ValueError(
                f"`sequences` must be at least 3 bases long for the oracle, got {x.shape[1]}"
            )
        dev = next(self.parameters()).device
        out = []
        self.eval()
        with torch.no_grad():
            for a in range(0, len(x), batch_size):
                out.append(self(_one_hot(x[a : a + batch_size], dev)).cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Forward a tensor, or :meth:`predict` a list of strings."""
        if args and isinstance(args[0], (list, tuple)) and all(isinstance(s, str) for s in args[0]):
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
    pearson, spearman : dict of str -> float
        Correlations of each oracle's predictions with the measured log-enrichment on
        the held-out split C (``{"guidance": r, "evaluation": r}``); NaN for an
        oracle that predicts a constant (a ``ConvergenceWarning`` is issued).
    agreement : float
        Pearson correlation between the two oracles' predictions on C.
    n_train : tuple of int
        Sizes of splits A and B.
    n_test : int
        Size of split C.
    test_sequences : list of str
        Split C.
    test_targets : ndarray
        Measured log-enrichment of split C.
    losses : dict of str -> ndarray
        Training loss of each step of each oracle.

    Examples
    --------
    >>> from sciddm.dna import train_ars_oracles
    >>> fit = train_ars_oracles(n_train=200, n_test=100, epochs=1, channels=4, rng=0)
    >>> sorted(fit.pearson), len(fit.test_sequences), len(fit.losses["guidance"])
    (['evaluation', 'guidance'], 100, 2)
    """

    guidance: ArsOracle
    evaluation: ArsOracle
    pearson: dict[str, float]
    spearman: dict[str, float]
    agreement: float
    n_train: tuple[int, int]
    n_test: int
    test_sequences: list[str] = dataclasses.field(repr=False)
    test_targets: np.ndarray = dataclasses.field(repr=False)
    losses: dict[str, np.ndarray] = dataclasses.field(repr=False, default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Knobs:
    channels: int
    epochs: int
    batch_size: int
    lr: float
    on_nonfinite: str
    progress: bool
    device: torch.device


def _step(
    model: ArsOracle, opt: torch.optim.Optimizer, xb: torch.Tensor, yb: torch.Tensor
) -> tuple[float, bool]:
    """One Adam step; returns the loss and whether loss and gradients are finite."""
    pred = model(xb)
    loss = torch.mean(((pred - yb) / model.target_std) ** 2)
    opt.zero_grad()
    loss.backward()
    grad = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf)
    ok = bool(torch.isfinite(loss)) and bool(torch.isfinite(grad))
    if ok:
        opt.step()
    return float(loss.detach()), ok


def _fit(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, knobs: _Knobs, name: str
) -> tuple[ArsOracle, np.ndarray]:
    """Train one oracle; ``rng`` draws its initial weights, then its batch order."""
    model = ArsOracle(knobs.channels, rng=rng)
    gen = torch_generator(rng)  # batch order, drawn on the CPU
    model.target_mean.fill_(float(y.mean()))
    model.target_std.fill_(float(y.std() or 1.0))
    model.to(knobs.device)
    opt = torch.optim.Adam(model.parameters(), lr=knobs.lr)
    xt = _one_hot(x, knobs.device)
    yt = torch.from_numpy(y.astype(np.float32)).to(knobs.device)
    n = len(y)
    losses: list[float] = []
    model.train()
    for epoch in progress_bar(range(knobs.epochs), enabled=knobs.progress, desc=name):
        perm = torch.randperm(n, generator=gen)
        for a in range(0, n, knobs.batch_size):
            idx = perm[a : a + knobs.batch_size].to(knobs.device)
            if len(idx) < 2:  # batch normalisation needs two samples
                continue
            loss, ok = _step(model, opt, xt[idx], yt[idx])
            if not ok and knobs.on_nonfinite == "error":
                raise FloatingPointError(
                    f"training the {name} oracle diverged at epoch {epoch}, step {len(losses)}: "
                    f"the loss or its gradient is not finite (loss {loss}); lower `lr` "
                    f"(got {knobs.lr:g}) or pass on_nonfinite='skip' to skip such steps"
                )
            losses.append(loss)
    model.eval()
    return model, np.asarray(losses, dtype=np.float64)


def _splits(
    data: ArsLibrary, n_train: int | None, n_test: int, min_reads: int, rng: np.random.Generator
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the held-out split C, then the disjoint training splits A and B."""
    check_array(data.log_enrichment, "data.log_enrichment", ndim=1)  # finite targets
    if len(data.sequences) != len(data.log_enrichment):
        raise ValueError("`data.sequences` and `data.log_enrichment` must have the same length")
    keep = np.flatnonzero(data.total_ct >= min_reads)
    available = (len(keep) - n_test) // 2
    if available < 10:
        raise ValueError(
            f"only {len(keep)} variants have >= {min_reads} reads, too few for n_test={n_test} "
            "and two training splits of at least 10; lower `min_reads` or `n_test`"
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
    return n_train, idx_a, idx_b, idx_c


def _corr(a: np.ndarray, b: np.ndarray, fn: Callable[..., Any]) -> float:
    """Correlation, NaN (without a warning) when either input is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(fn(a, b)[0])


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
    data: ArsLibrary | None = None,
    device: str | torch.device = "cpu",
    on_nonfinite: str = "error",
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
    epochs : int, default 3
        Passes over each training split.
    channels : int, default 32
        Width of the :class:`ArsOracle` networks.
    batch_size : int, default 128
        Sequences per Adam step.
    lr : float, default 2e-3
        Adam learning rate (mean squared error on standardised targets).
    rng : numpy.random.Generator, int or None
        Draws the split, then (through two child generators) each oracle's initial
        weights and batch order; an int makes training reproducible bit for bit on
        the CPU, whatever torch's global seed.
    progress : bool, default False
        Show a progress bar per oracle.
    data : ArsLibrary, optional
        Defaults to :func:`sciddm.dna.read_ars`.
    device : str or torch.device, default "cpu"
        Where to train; the oracles stay there. Results on CUDA are reproducible up to
        the non-determinism of cuDNN convolutions.
    on_nonfinite : {"error", "skip"}, default "error"
        A step whose loss or gradient is NaN/inf raises ``FloatingPointError`` naming
        the step and ``lr``, or is skipped (no update).

    Returns
    -------
    OracleFit

    Raises
    ------
    ValueError
        On out-of-range sizes or knobs (named), or too few variants for the splits.
    FloatingPointError
        If training diverges and ``on_nonfinite="error"``.

    Notes
    -----
    Targets are the ARS log-enrichment ``log((selected+1)/(library+1))`` centred at the
    median. Split C is drawn first, then A and B, all uniformly without replacement
    from the filtered variants.

    References
    ----------
    .. [1] Liachko I. et al., "High-resolution mapping, characterization, and
       optimization of autonomously replicating sequences in yeast", Genome Research
       23(4):698-704 (2013).

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
    if n_train is not None:
        n_train = check_int(n_train, "n_train", lo=10)
    knobs = _Knobs(
        channels=check_int(channels, "channels", lo=1),
        epochs=check_int(epochs, "epochs", lo=1),
        batch_size=check_int(batch_size, "batch_size", lo=2),
        lr=check_scalar(lr, "lr", lo=0, closed="neither"),
        on_nonfinite=check_choice(on_nonfinite, "on_nonfinite", ("error", "skip")),
        progress=bool(progress),
        device=torch.device(device),
    )
    g = as_generator(rng)
    if data is None:
        from sciddm.dna.data import read_ars

        data = read_ars()
    elif not isinstance(data, ArsLibrary):
        raise TypeError(f"`data` must be an ArsLibrary (sciddm.dna.read_ars), got {type(data)}")
    n_train, idx_a, idx_b, idx_c = _splits(data, n_train, n_test, min_reads, g)
    seqs, y = data.sequences, data.log_enrichment

    def enc(idx: np.ndarray) -> np.ndarray:
        return _encode([seqs[i] for i in idx], n_policy="neutral", pad=False)

    rng_a, rng_b = spawn(g, 2)
    guidance, loss_a = _fit(enc(idx_a), y[idx_a], rng_a, knobs, "guidance")
    evaluation, loss_b = _fit(enc(idx_b), y[idx_b], rng_b, knobs, "evaluation")
    test_seqs = [seqs[i] for i in idx_c]
    yc = y[idx_c]
    preds = {"guidance": guidance.predict(test_seqs), "evaluation": evaluation.predict(test_seqs)}
    pearson = {k: _corr(p, yc, stats.pearsonr) for k, p in preds.items()}
    spearman = {k: _corr(p, yc, stats.spearmanr) for k, p in preds.items()}
    if not all(np.isfinite(v) for v in pearson.values()):
        warn_convergence("an ARS oracle predicts a constant", "epochs")
    logger.info("ARS oracles: held-out Pearson %s, Spearman %s", pearson, spearman)
    return OracleFit(
        guidance=guidance,
        evaluation=evaluation,
        pearson=pearson,
        spearman=spearman,
        agreement=_corr(preds["guidance"], preds["evaluation"], stats.pearsonr),
        n_train=(n_train, n_train),
        n_test=n_test,
        test_sequences=test_seqs,
        test_targets=yc,
        losses={"guidance": loss_a, "evaluation": loss_b},
    )


def save_oracle(oracle: ArsOracle, path: str | os.PathLike[str]) -> None:
    """Save an oracle atomically as a sciddm "ARS oracle" file.

    Parameters
    ----------
    oracle : ArsOracle
        The network to save (its weights and target buffers).
    path : path-like
        Destination; written to a temporary name, then renamed.

    Raises
    ------
    TypeError
        If ``oracle`` is not an :class:`ArsOracle`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sciddm.dna import ArsOracle, load_oracle, save_oracle
    >>> oracle = ArsOracle(channels=4, rng=0).eval()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "oracle.pt"
    >>> save_oracle(oracle, path)
    >>> again = load_oracle(path)                  # torch.load(..., weights_only=True)
    >>> seqs = ["ACGT" * 10, "TTGA" * 10]
    >>> bool(np.array_equal(again.predict(seqs), oracle.predict(seqs)))
    True
    """
    if not isinstance(oracle, ArsOracle):
        raise TypeError(f"`oracle` must be an ArsOracle, got {type(oracle).__name__}")
    payload = {"channels": oracle.channels, "state_dict": oracle.state_dict()}
    save_checkpoint(payload, path, kind=ORACLE_KIND)


def load_oracle(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> ArsOracle:
    """Load an oracle saved by :func:`save_oracle` (safe: ``weights_only`` loading).

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_oracle`.
    device : str or torch.device, default "cpu"
        Where the oracle is put.

    Returns
    -------
    ArsOracle
        In evaluation mode.

    Raises
    ------
    sciddm._core.io.CheckpointError
        (a ``ValueError``) "``<path>`` is not a readable sciddm ARS oracle file
        (<reason>)" for a missing, empty, truncated, foreign or other-kind file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sciddm.dna import load_oracle
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "oracle.pt"
    >>> _ = bad.write_bytes(b"not a torch file")
    >>> load_oracle(bad)
    Traceback (most recent call last):
    ...
    sciddm._core.io.CheckpointError: '...oracle.pt' is not a readable sciddm ARS oracle file (...)
    """
    blob = load_checkpoint(path, kind=ORACLE_KIND, map_location=device)
    try:
        model = ArsOracle(int(blob["channels"]), rng=0)  # weights are overwritten
        model.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        from sciddm._core.io import CheckpointError

        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(
            f"{str(path)!r} is not a readable sciddm {ORACLE_KIND} file ({reason})"
        ) from None
    return model.to(device).eval()
