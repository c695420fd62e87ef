"""Metrics of sets of generated DNA sequences.

Reward quantiles, k-mer spectra and their correlation with reference data, pairwise
diversity, motif occurrence counts, and a Monte Carlo bound on the log-likelihood
under a masked-diffusion denoiser of the model protocol of :mod:`sciddm.discrete`
(any object with ``vocab_size``, ``mask_id`` and ``__call__(x_t, t=None) -> logits``);
the bound itself is :func:`sciddm.discrete.evaluate_nelbo`, imported when needed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar
from sciddm.dna._pwm import Motif, _as_motifs, motif_occurrences
from sciddm.dna._seq import N_POLICIES, _as_list, _encode

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from sciddm.discrete import Denoiser

__all__ = [
    "LikelihoodEstimate",
    "SequenceReport",
    "approx_log_likelihood",
    "hamming_diversity",
    "kmer_diversity",
    "kmer_spectrum",
    "kmer_spectrum_correlation",
    "motif_counts",
    "reward_quantiles",
    "sequence_report",
]

MotifsLike = Motif | str | Sequence[Motif | str]
MAX_SAMPLES = 100_000  # upper guards of approx_log_likelihood's Monte Carlo size
MAX_TOKENS = 100_000_000


class _Tokenizer(Protocol):
    def encode_batch(self, texts: list[str]) -> Any: ...


def reward_quantiles(
    rewards: ArrayLike, quantiles: Sequence[float] = (0.1, 0.5, 0.9)
) -> dict[str, float]:
    """Mean and quantiles of a reward array (keys ``"mean"``, ``"q10"``, ``"q50"`` ...).

    Parameters
    ----------
    rewards : array_like of shape (n,)
        Finite rewards, n >= 1.
    quantiles : sequence of float in [0, 1], default (0.1, 0.5, 0.9)
        Quantile levels; the key of level q is ``f"q{round(100 q)}"``.

    Returns
    -------
    dict of str -> float

    Examples
    --------
    >>> from sciddm.dna import reward_quantiles
    >>> reward_quantiles([1.0, 2.0, 3.0, 4.0, 5.0], (0.5, 0.9))
    {'mean': 3.0, 'q50': 3.0, 'q90': 4.6}
    """
    r = check_array(rewards, "rewards", ndim=1, min_rows=1)
    levels = check_array(quantiles, "quantiles", ndim=1)
    out = {"mean": float(r.mean())}
    for q in levels:
        q = check_scalar(q, "quantiles", lo=0, hi=1)
        out[f"q{round(100 * q):d}"] = float(np.quantile(r, q))
    return out


def _check_k(k: Any, width: int, name: str = "sequences", hi: int = 10) -> int:
    k = check_int(k, "k", lo=1, hi=hi)
    if width < k:
        raise ValueError(
            f"`k` must be at most the length of the longest sequence in `{name}` ({width}), got {k}"
        )
    return k


def _kmer_spectrum(x: np.ndarray, k: int, name: str) -> np.ndarray:
    n_win = x.shape[1] - k + 1
    code = np.zeros((x.shape[0], n_win), dtype=np.int64)
    ok = np.ones_like(code, dtype=bool)
    for i in range(k):
        col = x[:, i : i + n_win]
        code = code * 4 + np.minimum(col, 3)
        ok &= col < 4
    counts = np.bincount(code[ok], minlength=4**k).astype(float)
    total = counts.sum()
    if not total:
        raise ValueError(f"`{name}` has no k-mer free of N and padding (k = {k})")
    return np.asarray(counts / total)


def kmer_spectrum(sequences: Sequence[str], k: int = 3, *, n_policy: str = "error") -> np.ndarray:
    r"""Frequencies of the :math:`4^k` k-mers (lexicographic ACGT order) over a set.

    Parameters
    ----------
    sequences : sequence of str
        DNA strings; k-mers that contain N or run past a sequence's end are skipped.
    k : int, default 3
        k-mer length, in [1, 10] and at most the longest sequence.
    n_policy : {"error", "neutral"}, default "error"
        Reject ``N``, or allow it (k-mers containing it are skipped).

    Returns
    -------
    ndarray of float64, shape (4**k,)
        A probability vector :math:`f_u = c_u / \sum_v c_v` of the k-mer counts.

    Raises
    ------
    ValueError
        If ``sequences`` is empty, ``k`` is out of range, or no k-mer is free of N.

    Examples
    --------
    >>> from sciddm.dna import kmer_spectrum
    >>> kmer_spectrum(["AAC"], k=2)[:2].tolist()   # AA and AC, one each
    [0.5, 0.5]
    """
    from sciddm._core.validation import check_choice

    check_choice(n_policy, "n_policy", N_POLICIES)
    x = _encode(_nonempty(sequences, "sequences"), n_policy=n_policy, pad=True).astype(np.int64)
    return _kmer_spectrum(x, _check_k(k, x.shape[1]), "sequences")


def _nonempty(sequences: Any, name: str, at_least: int = 1) -> list[str]:
    seqs = _as_list(sequences, name)
    if len(seqs) < at_least:
        raise ValueError(f"`{name}` must hold at least {at_least} sequence(s), got {len(seqs)}")
    return seqs


def kmer_spectrum_correlation(
    sequences: Sequence[str], reference: Sequence[str], k: int = 3
) -> float:
    """Pearson correlation of the k-mer spectra of two sets (3-mers by default).

    Parameters
    ----------
    sequences, reference : sequence of str
        The two sets of ACGT strings.
    k : int, default 3
        k-mer length (at most the longest sequence of each set).

    Returns
    -------
    float
        In [-1, 1].

    Raises
    ------
    ValueError
        If a set is empty, or its spectrum is flat (all :math:`4^k` k-mers equally
        frequent), where the correlation is undefined.

    Examples
    --------
    >>> from sciddm.dna import kmer_spectrum_correlation
    >>> kmer_spectrum_correlation(["ACGTAC", "GGTA"], ["GGTA", "ACGTAC"])
    1.0
    """
    xa = _encode(_nonempty(sequences, "sequences"), n_policy="error", pad=True).astype(np.int64)
    xb = _encode(_nonempty(reference, "reference"), n_policy="error", pad=True, name="reference")
    k = _check_k(k, xa.shape[1])
    k = _check_k(k, xb.shape[1], "reference")
    a = _kmer_spectrum(xa, k, "sequences")
    b = _kmer_spectrum(xb.astype(np.int64), k, "reference")
    for name, v in (("sequences", a), ("reference", b)):
        if np.ptp(v) == 0:
            raise ValueError(
                f"the {k}-mer spectrum of `{name}` is flat (every k-mer equally frequent); "
                "its correlation is undefined"
            )
    return float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))


def hamming_diversity(
    sequences: Sequence[str], *, max_pairs: int | None = 200_000, rng: SeedLike = None
) -> float:
    r"""Mean normalised Hamming distance over distinct pairs of equal-length sequences.

    .. math:: D = \binom{n}{2}^{-1} \sum_{i<j} \frac{1}{L}
       \#\{\ell : x_i^\ell \ne x_j^\ell\}

    Parameters
    ----------
    sequences : sequence of str
        At least two DNA strings of one length L (N allowed, compared as a letter).
    max_pairs : int or None, default 200000
        With more pairs than this, average over this many uniformly drawn ordered
        pairs :math:`i \ne j` instead (an unbiased estimate).
    rng : numpy.random.Generator, int or None
        For the sampled pairs.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from sciddm.dna import hamming_diversity
    >>> hamming_diversity(["AAAA", "AAAT", "TTTT"])   # (1 + 4 + 3) / 3 / 4
    0.6666666666666666
    """
    if max_pairs is not None:
        max_pairs = check_int(max_pairs, "max_pairs", lo=1)
    g = as_generator(rng)
    x = _encode(_nonempty(sequences, "sequences", 2), n_policy="neutral", pad=False)
    n = x.shape[0]
    total = n * (n - 1) // 2
    if max_pairs is None or total <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        i = g.integers(0, n, size=max_pairs)
        j = (i + g.integers(1, n, size=max_pairs)) % n
    return float(np.mean(x[i] != x[j]))


def kmer_diversity(sequences: Sequence[str], k: int = 6) -> float:
    """Distinct k-mers in the set divided by the number of k-mer positions.

    1 when no k-mer repeats; small for a collapsed set.

    Parameters
    ----------
    sequences : sequence of str
        DNA strings (N allowed); sequences shorter than k contribute nothing.
    k : int, default 6
        k-mer length, in [1, 20] and at most the longest sequence.

    Returns
    -------
    float
        In (0, 1].

    Examples
    --------
    >>> from sciddm.dna import kmer_diversity
    >>> kmer_diversity(["AAAA"], k=2), kmer_diversity(["ACGT"], k=2)
    (0.3333333333333333, 1.0)
    """
    seqs = _nonempty(sequences, "sequences")
    x = _encode(seqs, n_policy="neutral", pad=True)
    k = _check_k(k, x.shape[1], hi=20)
    seen: set[str] = set()
    total = 0
    for s in seqs:
        s = s.upper()
        for p in range(len(s) - k + 1):
            seen.add(s[p : p + k])
            total += 1
    return len(seen) / total


def motif_counts(
    sequences: Sequence[str], motifs: MotifsLike, *, threshold: float = 0.8
) -> dict[str, float]:
    """Mean number of motif sites per sequence (relative score >= ``threshold``).

    Parameters
    ----------
    sequences : sequence of str
        At least one DNA string.
    motifs : Motif, JASPAR ID, or a sequence of them
        See :func:`motif_occurrences`.
    threshold : float in [0, 1], default 0.8
        Minimal relative score of a site.

    Returns
    -------
    dict of str -> float
        Keyed by the motifs' ``"ID name"`` labels.

    Examples
    --------
    >>> from sciddm.dna import motif_counts
    >>> motif_counts(["TTTCCAAAGTCCAAATTT", "A" * 18], ["MA0114.4"])
    {'MA0114.4 HNF4A': 0.5}
    """
    seqs = _nonempty(sequences, "sequences")
    ms = _as_motifs(motifs)
    occ = motif_occurrences(seqs, ms, threshold=threshold)
    return {f"{m.matrix_id} {m.name}": float(occ[:, k].mean()) for k, m in enumerate(ms)}


@dataclasses.dataclass(frozen=True, repr=False)
class LikelihoodEstimate(Result):
    r"""Monte Carlo lower bound on log p(x) (nats) under a masked-diffusion model.

    Attributes
    ----------
    log_likelihood : ndarray (n,)
        Estimate of :math:`-\mathrm{NELBO}(x)` per sequence (a lower bound on log p).
    std_error : ndarray (n,)
        Monte Carlo standard error of each estimate (NaN when ``n_samples`` is 1).
    bits_per_token : float
        Mean NELBO in bits divided by the sequence length.
    n_samples : int
        Monte Carlo draws per sequence.

    Examples
    --------
    >>> import torch
    >>> from sciddm.dna import approx_log_likelihood
    >>> class Uniform:
    ...     vocab_size, mask_id = 5, 4
    ...     def __call__(self, x_t, t=None):
    ...         return torch.zeros(*x_t.shape, 5).index_fill_(-1, torch.tensor([4]), -torch.inf)
    >>> est = approx_log_likelihood(Uniform(), ["ACGT", "TTTT"], n_samples=8, rng=0)
    >>> est.log_likelihood.shape, est.n_samples
    ((2,), 8)
    """

    log_likelihood: np.ndarray
    std_error: np.ndarray
    bits_per_token: float
    n_samples: int


def _ids_iv(model: Any, sequences: Any, tokenizer: _Tokenizer | None) -> np.ndarray:
    """Token ids (n, L) of ``sequences``, checked against the model's vocabulary."""
    import torch

    for attr in ("vocab_size", "mask_id"):
        if not isinstance(getattr(model, attr, None), (int, np.integer)):
            raise TypeError(
                f"`model` must follow the masked-diffusion protocol (integer `{attr}`), "
                f"got {type(model).__name__}"
            )
    if isinstance(sequences, torch.Tensor):
        ids = sequences.detach().cpu().numpy()
    elif isinstance(sequences, str) or (
        isinstance(sequences, (list, tuple)) and sequences and isinstance(sequences[0], str)
    ):
        seqs = _as_list(sequences)
        tok = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        if tok is not None:
            ids = np.asarray(tok.encode_batch(seqs))
        else:
            ids = _encode(seqs, n_policy="error", pad=False)
    else:
        ids = check_array(sequences, "sequences", ndim=2, dtype=None)
    if ids.ndim != 2 or ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(f"`sequences` must be a non-empty (n, L) batch, got shape {ids.shape}")
    if ids.dtype.kind not in "iu":
        raise ValueError(f"`sequences` must hold integer token ids, got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    mask_id, vocab = int(model.mask_id), int(model.vocab_size)
    if np.any(ids == mask_id) or np.any(ids < 0) or np.any(ids >= vocab):
        raise ValueError(
            f"`sequences` must hold token ids in [0, {vocab}) other than mask_id={mask_id}"
        )
    return ids


def approx_log_likelihood(
    model: Denoiser,
    sequences: str | Sequence[str] | np.ndarray | torch.Tensor,
    *,
    n_samples: int = 32,
    tokenizer: _Tokenizer | None = None,
    batch_size: int = 256,
    rng: SeedLike = None,
) -> LikelihoodEstimate:
    r"""Lower bound on :math:`\log p_\theta(x)` under a masked diffusion model (MDLM NELBO).

    Parameters
    ----------
    model : sciddm.discrete.Denoiser
        A model of the masked-diffusion protocol: ``vocab_size``, ``mask_id``,
        optional ``time_conditioned``, ``__call__(x_t, t=None) -> (n, L, V)`` logits.
    sequences : str, list of str, or int array / LongTensor (n, L) of token ids
        Equal-length sequences.
    n_samples : int, default 32
        Monte Carlo draws of (t, mask) per sequence (at most 100,000, and at most
        1e8 tokens in all).
    tokenizer : object with ``encode_batch``, optional
        Turns strings into ids; defaults to ``model.tokenizer`` or, for DNA strings,
        A, C, G, T -> 0, 1, 2, 3.
    batch_size : int, default 256
        Rows per forward pass.
    rng : numpy.random.Generator, int or None
        Seeds the times and masks.

    Returns
    -------
    LikelihoodEstimate

    Raises
    ------
    TypeError
        If ``model`` does not follow the protocol or ``sequences`` has the wrong type.
    ValueError
        If the ids are outside ``[0, vocab_size)``, equal ``mask_id``, or the batch
        is empty or ragged.

    Notes
    -----
    The bound is :func:`sciddm.discrete.evaluate_nelbo`, the same estimator that
    training and validation use (one implementation in the library). Each
    sequence is repeated ``n_samples`` times, the copies of different sequences
    interleaved, and every row gets its own time :math:`t \sim U(0, 1]` (stratified
    across a batch) and mask; with the log-linear schedule
    :math:`\alpha_t = 1 - (1-\epsilon)t` the row's estimate is (Sahoo et al. 2024,
    eq. 10)

    .. math:: \frac{1}{t} \sum_{\ell:\, x_t^\ell = m} -\log p_\theta(x^\ell \mid x_t),

    an unbiased estimate of the NELBO. ``std_error`` treats the copies as
    independent draws; stratification makes them negatively correlated, so it is
    conservative.

    References
    ----------
    .. [1] Sahoo S. S. et al., "Simple and Effective Masked Diffusion Language
       Models", NeurIPS 2024.

    Examples
    --------
    >>> import torch
    >>> from sciddm.dna import approx_log_likelihood
    >>> class Uniform:                           # p(x0 | x_t) uniform over A, C, G, T
    ...     vocab_size, mask_id = 5, 4
    ...     def __call__(self, x_t, t=None):
    ...         logits = torch.zeros(*x_t.shape, 5)
    ...         logits[..., 4] = -torch.inf          # never predict [MASK]
    ...         return logits
    >>> est = approx_log_likelihood(Uniform(), ["ACGTACGT"], n_samples=64, rng=0)
    >>> round(est.bits_per_token, 2)             # (1 - eps) * 2 bits, up to Monte Carlo error
    2.0
    """
    from sciddm.discrete import evaluate_nelbo

    n_samples = check_int(n_samples, "n_samples", lo=1, hi=MAX_SAMPLES)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    g = as_generator(rng)
    ids = _ids_iv(model, sequences, tokenizer)
    n, length = ids.shape
    if n * n_samples * length > MAX_TOKENS:
        raise ValueError(
            f"`n_samples` = {n_samples} copies of the {n} x {length} tokens of `sequences` "
            f"exceed {MAX_TOKENS:.0e} tokens; lower `n_samples` or score in chunks"
        )
    tiled = np.tile(ids, (n_samples, 1))  # row r is sequence r % n
    res = evaluate_nelbo(model, tiled, n_repeats=1, batch_size=batch_size, rng=g)
    per = np.asarray(res.nelbo, dtype=np.float64).reshape(n_samples, n)
    nelbo = per.mean(axis=0)
    se = per.std(axis=0, ddof=1) / np.sqrt(n_samples) if n_samples > 1 else np.full(n, np.nan)
    return LikelihoodEstimate(
        log_likelihood=-nelbo,
        std_error=se,
        bits_per_token=float(nelbo.mean() / np.log(2) / length),
        n_samples=n_samples,
    )


@dataclasses.dataclass(frozen=True, repr=False)
class SequenceReport(Result):
    """The metrics of :func:`sequence_report` (NaN / empty where not requested).

    Attributes
    ----------
    n : int
        Number of sequences.
    gc_mean : float
        Mean GC fraction.
    kmer_correlation : float
        3-mer spectrum correlation with ``reference`` (NaN without one).
    hamming_diversity : float
        See :func:`hamming_diversity` (NaN for a single sequence).
    kmer_diversity : float
        See :func:`kmer_diversity` (6-mers, or shorter for short sequences).
    motif_counts : dict
        Mean sites per sequence of each motif (relative score >= 0.8).
    rewards : dict
        :func:`reward_quantiles` of each named reward.
    bits_per_token : float
        MDLM bound under ``model`` (NaN without one).

    Examples
    --------
    >>> from sciddm.dna import sequence_report
    >>> rep = sequence_report(["ACGTACGT", "AAAACCCC"], rng=0)
    >>> rep.n, rep.gc_mean, rep.hamming_diversity
    (2, 0.5, 0.75)
    """

    n: int
    gc_mean: float
    kmer_correlation: float
    hamming_diversity: float
    kmer_diversity: float
    motif_counts: dict[str, float]
    rewards: dict[str, dict[str, float]]
    bits_per_token: float


def sequence_report(
    sequences: Sequence[str],
    reference: Sequence[str] | None = None,
    *,
    rewards: Mapping[str, Callable[[list[str]], Any]] | None = None,
    motifs: MotifsLike | None = None,
    model: Denoiser | None = None,
    n_samples: int = 16,
    rng: SeedLike = None,
) -> SequenceReport:
    """All DNA-set metrics in one call.

    Parameters
    ----------
    sequences : sequence of str
        Equal-length ACGT sequences (e.g. samples of a diffusion model).
    reference : sequence of str, optional
        Data to compare the 3-mer spectrum with.
    rewards : dict of name -> callable, optional
        Rewards (``MotifReward``, an ``ArsOracle``, ...) summarised by their quantiles.
    motifs : motif IDs or Motifs, optional
        For :func:`motif_counts`.
    model : sciddm.discrete.Denoiser, optional
        For :func:`approx_log_likelihood` (``n_samples`` draws per sequence).
    n_samples : int, default 16
        Monte Carlo draws per sequence of the likelihood bound.
    rng : numpy.random.Generator, int or None
        For the sampled pairs and the likelihood bound.

    Returns
    -------
    SequenceReport

    Examples
    --------
    >>> from sciddm.dna import MotifReward, sequence_report
    >>> seqs = ["TTTCCAAAGTCCAAATTT", "ACGTACGTACGTACGTAC"]
    >>> rep = sequence_report(seqs, seqs, rewards={"hnf4a": MotifReward("MA0114.4")},
    ...                       motifs=["MA0114.4"], rng=0)
    >>> rep.kmer_correlation, rep.motif_counts
    (1.0, {'MA0114.4 HNF4A': 0.5})
    """
    seqs = _nonempty(sequences, "sequences")
    x = _encode(seqs, n_policy="error", pad=False)
    ref = None if reference is None else _nonempty(reference, "reference")
    n_samples = check_int(n_samples, "n_samples", lo=1)
    if rewards is not None and not isinstance(rewards, Mapping):
        raise TypeError(f"`rewards` must be a dict of name -> callable, got {type(rewards)}")
    g = as_generator(rng)
    from sciddm.dna._seq import gc_content

    scored = {}
    for k, f in (rewards or {}).items():
        if not callable(f):
            raise TypeError(f"`rewards[{k!r}]` must be callable, got {type(f).__name__}")
        scored[k] = reward_quantiles(np.asarray(f(seqs), float))
    return SequenceReport(
        n=len(seqs),
        gc_mean=float(np.mean(gc_content(seqs))),
        kmer_correlation=(
            kmer_spectrum_correlation(seqs, ref, k=min(3, x.shape[1])) if ref else np.nan
        ),
        hamming_diversity=hamming_diversity(seqs, rng=g) if len(seqs) > 1 else np.nan,
        kmer_diversity=kmer_diversity(seqs, k=min(6, x.shape[1])),
        motif_counts=motif_counts(seqs, motifs) if motifs is not None else {},
        rewards=scored,
        bits_per_token=(
            approx_log_likelihood(model, seqs, n_samples=n_samples, rng=g).bits_per_token
            if model is not None
            else np.nan
        ),
    )
