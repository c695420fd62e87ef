"""Metrics of sets of generated DNA sequences.

Reward quantiles, k-mer spectra and their correlation with reference data, pairwise
diversity, motif occurrence counts, and a Monte Carlo bound on the log-likelihood
under a masked-diffusion denoiser that follows the model protocol of
``sciddm.discrete`` (any object with ``vocab_size``, ``mask_id`` and
``__call__(x_t, t=None) -> logits``; this module does not import ``sciddm.discrete``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_int, check_scalar
from sciddm.dna._pwm import motif_occurrences
from sciddm.dna._seq import encode_dna

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

EPS = 1e-3  # the log-linear schedule's epsilon (DISCRETE_INTERFACES.md)


def reward_quantiles(
    rewards: Any, quantiles: Sequence[float] = (0.1, 0.5, 0.9)
) -> dict[str, float]:
    """Mean and quantiles of a reward array (keys ``"mean"``, ``"q10"``, ``"q50"`` ...).

    Examples
    --------
    >>> from sciddm.dna import reward_quantiles
    >>> reward_quantiles([1.0, 2.0, 3.0, 4.0, 5.0], (0.5, 0.9))
    {'mean': 3.0, 'q50': 3.0, 'q90': 4.6}
    """
    r = check_array(rewards, "rewards", ndim=1, min_rows=1)
    out = {"mean": float(r.mean())}
    for q in quantiles:
        q = check_scalar(q, "quantiles", lo=0, hi=1)
        out[f"q{round(100 * q):d}"] = float(np.quantile(r, q))
    return out


def kmer_spectrum(sequences: Sequence[str], k: int = 3, *, n_policy: str = "error") -> np.ndarray:
    """Frequencies of the :math:`4^k` k-mers (lexicographic ACGT order) over a set.

    k-mers that contain N or padding are skipped. Returns a probability vector.

    Examples
    --------
    >>> from sciddm.dna import kmer_spectrum
    >>> kmer_spectrum(["AAC"], k=2)[:2].tolist()   # AA and AC, one each
    [0.5, 0.5]
    """
    k = check_int(k, "k", lo=1, hi=10)
    x = encode_dna(sequences, n_policy=n_policy).astype(np.int64)
    if x.shape[1] < k:
        return np.full(4**k, np.nan)
    n_win = x.shape[1] - k + 1
    code = np.zeros((x.shape[0], n_win), dtype=np.int64)
    ok = np.ones_like(code, dtype=bool)
    for i in range(k):
        col = x[:, i : i + n_win]
        code = code * 4 + np.minimum(col, 3)
        ok &= col < 4
    counts = np.bincount(code[ok], minlength=4**k).astype(float)
    total = counts.sum()
    return counts / total if total else np.full(4**k, np.nan)


def kmer_spectrum_correlation(
    sequences: Sequence[str], reference: Sequence[str], k: int = 3
) -> float:
    """Pearson correlation of the k-mer spectra of two sets (3-mers by default).

    Examples
    --------
    >>> from sciddm.dna import kmer_spectrum_correlation
    >>> kmer_spectrum_correlation(["ACGTAC", "GGTA"], ["GGTA", "ACGTAC"])
    1.0
    """
    a, b = kmer_spectrum(sequences, k), kmer_spectrum(reference, k)
    return float(np.corrcoef(a, b)[0, 1])


def hamming_diversity(
    sequences: Sequence[str], *, max_pairs: int | None = 200_000, rng: SeedLike = None
) -> float:
    """Mean normalised Hamming distance over distinct pairs of equal-length sequences.

    With more than ``max_pairs`` pairs, a uniform random sample of pairs is used.

    Examples
    --------
    >>> from sciddm.dna import hamming_diversity
    >>> hamming_diversity(["AAAA", "AAAT", "TTTT"])   # (1 + 4 + 3) / 3 / 4
    0.6666666666666666
    """
    x = encode_dna(sequences, n_policy="neutral", pad=False)
    n = x.shape[0]
    if n < 2:
        return float("nan")
    total = n * (n - 1) // 2
    if max_pairs is None or total <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        g = as_generator(rng)
        i = g.integers(0, n, size=max_pairs)
        j = (i + g.integers(1, n, size=max_pairs)) % n
    return float(np.mean(x[i] != x[j]))


def kmer_diversity(sequences: Sequence[str], k: int = 6) -> float:
    """Distinct k-mers in the set divided by the number of k-mer positions.

    1 when no k-mer repeats; small for a collapsed set.

    Examples
    --------
    >>> from sciddm.dna import kmer_diversity
    >>> kmer_diversity(["AAAA"], k=2), kmer_diversity(["ACGT"], k=2)
    (0.3333333333333333, 1.0)
    """
    k = check_int(k, "k", lo=1, hi=20)
    seen: set[str] = set()
    total = 0
    for s in sequences:
        for p in range(len(s) - k + 1):
            seen.add(s[p : p + k])
            total += 1
    return len(seen) / total if total else float("nan")


def motif_counts(
    sequences: Sequence[str], motifs: Any, *, threshold: float = 0.8
) -> dict[str, float]:
    """Mean number of motif sites per sequence (relative score >= ``threshold``).

    Keys are the motifs' ``"ID name"`` labels.

    Examples
    --------
    >>> from sciddm.dna import motif_counts
    >>> motif_counts(["TTTCCAAAGTCCAAATTT", "A" * 18], ["MA0114.4"])
    {'MA0114.4 HNF4A': 0.5}
    """
    from sciddm.dna._pwm import _as_motifs

    ms = _as_motifs(motifs)
    occ = motif_occurrences(list(sequences), ms, threshold=threshold)
    return {f"{m.matrix_id} {m.name}": float(occ[:, k].mean()) for k, m in enumerate(ms)}


@dataclasses.dataclass(frozen=True, repr=False)
class LikelihoodEstimate(Result):
    """Monte Carlo lower bound on log p(x) (nats) under a masked-diffusion model.

    Attributes
    ----------
    log_likelihood : ndarray (n,)
        Estimate of :math:`-\\mathrm{NELBO}(x)` per sequence (a lower bound on log p).
    std_error : ndarray (n,)
        Monte Carlo standard error of each estimate.
    bits_per_token : float
        Mean NELBO in bits divided by the sequence length.
    n_samples : int
    """

    log_likelihood: np.ndarray
    std_error: np.ndarray
    bits_per_token: float
    n_samples: int


def approx_log_likelihood(
    model: Any,
    sequences: Any,
    *,
    n_samples: int = 32,
    tokenizer: Any = None,
    batch_size: int = 256,
    rng: SeedLike = None,
) -> LikelihoodEstimate:
    r"""Lower bound on :math:`\log p_\theta(x)` under a masked diffusion model (MDLM NELBO).

    Parameters
    ----------
    model : masked-diffusion denoiser
        Follows the protocol of DISCRETE_INTERFACES.md: ``vocab_size``, ``mask_id``,
        optional ``time_conditioned``, ``__call__(x_t, t=None) -> (n, L, V) logits``.
    sequences : list of str, or int array / LongTensor (n, L) of token ids
    n_samples : int, default 32
        Monte Carlo draws of (t, mask) per sequence; t is stratified over [0, 1].
    tokenizer : object with ``encode_batch``, optional
        Turns strings into ids; defaults to ``model.tokenizer`` or, for DNA strings,
        A, C, G, T -> 0, 1, 2, 3.
    batch_size : int, default 256
    rng : numpy.random.Generator, int or None

    Returns
    -------
    LikelihoodEstimate

    Notes
    -----
    With the log-linear schedule :math:`\alpha_t = 1 - (1-\epsilon)t`,
    :math:`\epsilon = 10^{-3}`, each token is masked at time t with probability
    :math:`1-\alpha_t` and the MDLM bound reads (Sahoo et al. 2024, eq. 10)

    .. math:: -\log p_\theta(x) \le \int_0^1 \frac{-\alpha_t'}{1-\alpha_t}
       \mathbb{E}_{x_t}\Big[\sum_{\ell: x_t^\ell = m} -\log p_\theta(x^\ell \mid x_t)\Big] dt
       = \mathbb{E}_{t}\Big[\frac{1}{t} \sum_{\ell \text{ masked}} -\log p_\theta(x^\ell\mid x_t)\Big].

    The SUBS parameterisation is applied here (the mask logit is excluded), so any
    protocol model works.

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
    ...         return torch.zeros(*x_t.shape, 5)
    >>> est = approx_log_likelihood(Uniform(), ["ACGTACGT"], n_samples=64, rng=0)
    >>> round(est.bits_per_token, 2)             # (1 - eps) * 2 bits, up to Monte Carlo error
    2.0
    """
    import torch

    n_samples = check_int(n_samples, "n_samples", lo=1)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    g = as_generator(rng)
    if isinstance(sequences, (list, tuple)) and sequences and isinstance(sequences[0], str):
        tok = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        if tok is not None:
            ids = np.asarray(tok.encode_batch(list(sequences)), dtype=np.int64)
        else:
            ids = encode_dna(list(sequences), pad=False).astype(np.int64)
    elif isinstance(sequences, torch.Tensor):
        ids = sequences.detach().cpu().numpy().astype(np.int64)
    else:
        ids = np.asarray(sequences, dtype=np.int64)
    if ids.ndim != 2:
        raise ValueError(f"`sequences` must be a batch of equal-length sequences, got {ids.shape}")
    mask_id = int(model.mask_id)
    vocab = int(model.vocab_size)
    if np.any(ids == mask_id) or np.any(ids < 0) or np.any(ids >= vocab):
        raise ValueError("`sequences` must hold token ids in [0, vocab_size) other than mask_id")
    timed = bool(getattr(model, "time_conditioned", False))
    n, length = ids.shape
    # stratified times, one stratum per Monte Carlo draw
    t = (np.arange(n_samples)[None, :] + g.random((n, n_samples))) / n_samples
    t = np.clip(t, 1e-6, 1.0)
    masked_prob = (1 - EPS) * t
    masks = g.random((n, n_samples, length)) < masked_prob[..., None]
    flat_x = np.repeat(ids, n_samples, axis=0)
    flat_t = t.reshape(-1)
    flat_m = masks.reshape(-1, length)
    terms = np.empty(n * n_samples)
    param = next(iter(getattr(model, "parameters", lambda: iter(()))()), None)
    device = param.device if param is not None else torch.device("cpu")
    with torch.no_grad():
        for a in range(0, len(flat_x), batch_size):
            x0 = torch.from_numpy(flat_x[a : a + batch_size]).to(device)
            m = torch.from_numpy(flat_m[a : a + batch_size]).to(device)
            xt = torch.where(m, torch.full_like(x0, mask_id), x0)
            tt = torch.from_numpy(flat_t[a : a + batch_size]).to(device=device, dtype=torch.float32)
            logits = model(xt, tt) if timed else model(xt)
            logits = logits.to(torch.float64).clone()
            logits[..., mask_id] = -torch.inf
            logp = torch.log_softmax(logits, dim=-1).gather(-1, x0[..., None])[..., 0]
            nll = -(logp * m).sum(dim=1).cpu().numpy()
            terms[a : a + batch_size] = nll / flat_t[a : a + batch_size]
    per = terms.reshape(n, n_samples)
    nelbo = per.mean(axis=1)
    se = per.std(axis=1, ddof=1) / np.sqrt(n_samples) if n_samples > 1 else np.full(n, np.nan)
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
    gc_mean : float
        Mean GC fraction.
    kmer_correlation : float
        3-mer spectrum correlation with ``reference`` (NaN without one).
    hamming_diversity, kmer_diversity : float
    motif_counts : dict
        Mean sites per sequence of each motif (relative score >= 0.8).
    rewards : dict
        :func:`reward_quantiles` of each named reward.
    bits_per_token : float
        MDLM bound under ``model`` (NaN without one).
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
    rewards: dict[str, Any] | None = None,
    motifs: Any = None,
    model: Any = None,
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
    model : masked-diffusion denoiser, optional
        For :func:`approx_log_likelihood` (``n_samples`` draws per sequence).
    rng : numpy.random.Generator, int or None

    Examples
    --------
    >>> from sciddm.dna import MotifReward, sequence_report
    >>> seqs = ["TTTCCAAAGTCCAAATTT", "ACGTACGTACGTACGTAC"]
    >>> rep = sequence_report(seqs, seqs, rewards={"hnf4a": MotifReward("MA0114.4")},
    ...                       motifs=["MA0114.4"], rng=0)
    >>> rep.kmer_correlation, rep.motif_counts
    (1.0, {'MA0114.4 HNF4A': 0.5})
    """
    seqs = list(sequences)
    if not seqs:
        raise ValueError("`sequences` must not be empty")
    g = as_generator(rng)
    from sciddm.dna._seq import gc_content

    return SequenceReport(
        n=len(seqs),
        gc_mean=float(np.mean(gc_content(seqs))),
        kmer_correlation=(
            kmer_spectrum_correlation(seqs, list(reference)) if reference is not None else np.nan
        ),
        hamming_diversity=hamming_diversity(seqs, rng=g),
        kmer_diversity=kmer_diversity(seqs),
        motif_counts=motif_counts(seqs, motifs) if motifs is not None else {},
        rewards={
            k: reward_quantiles(np.asarray(f(seqs), float)) for k, f in (rewards or {}).items()
        },
        bits_per_token=(
            approx_log_likelihood(model, seqs, n_samples=n_samples, rng=g).bits_per_token
            if model is not None
            else np.nan
        ),
    )
