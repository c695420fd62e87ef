"""Diagnostics of samples: unigram statistics and per-sequence entropy (Zheng et al. 2024, Sec. 4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result

__all__ = ["SampleDiagnostics", "sample_diagnostics", "sequence_entropy", "unigram_distribution"]


def unigram_distribution(
    tokens: Any, vocab_size: int, *, exclude: Sequence[int] = ()
) -> np.ndarray:
    """Frequency of each token id in ``tokens`` (ids in ``exclude`` dropped).

    Examples
    --------
    >>> from sciddm.discrete import unigram_distribution
    >>> unigram_distribution([[0, 1, 1, 2]], 4).tolist()
    [0.25, 0.5, 0.25, 0.0]
    """
    t = np.asarray(tokens.cpu() if isinstance(tokens, torch.Tensor) else tokens).ravel()
    if t.size and (t.min() < 0 or t.max() >= vocab_size):
        raise ValueError(
            f"`tokens` must be ids in [0, {vocab_size}), got range [{t.min()}, {t.max()}]"
        )
    counts = np.bincount(t, minlength=vocab_size).astype(np.float64)
    if len(exclude):
        counts[np.asarray(exclude, dtype=np.int64)] = 0.0
    s = counts.sum()
    return counts / s if s > 0 else counts


def sequence_entropy(tokens: Any, *, exclude: Sequence[int] = ()) -> np.ndarray:
    """Entropy (nats) of the unigram distribution of each sequence (row).

    The diagnostic of Zheng et al. (2024), Sec. 4: a sampler whose effective
    temperature is too low produces repetitive sequences of lower entropy.

    Examples
    --------
    >>> from sciddm.discrete import sequence_entropy
    >>> sequence_entropy([[0, 0, 0, 0], [0, 1, 2, 3]]).round(4).tolist()
    [0.0, 1.3863]
    """
    t = np.atleast_2d(np.asarray(tokens.cpu() if isinstance(tokens, torch.Tensor) else tokens))
    out = np.empty(t.shape[0])
    excl = set(int(e) for e in exclude)
    for i, row in enumerate(t):
        _, c = np.unique([v for v in row.tolist() if v not in excl], return_counts=True)
        p = c / max(c.sum(), 1)
        out[i] = float(-(p * np.log(p)).sum()) if c.size else 0.0
    return out


@dataclasses.dataclass(frozen=True, repr=False)
class SampleDiagnostics(Result):
    """Entropy and unigram statistics of samples, optionally against reference data.

    Attributes
    ----------
    mean_sequence_entropy : float
        Mean over samples of the entropy (nats) of each sample's own unigram
        distribution (Zheng et al. 2024's "entropy").
    unigram_entropy : float
        Entropy (nats) of the pooled unigram distribution.
    unigram : ndarray (V,)
        Pooled token frequencies (excluded ids at zero).
    reference_unigram_entropy, unigram_tv, unigram_kl : float
        With reference tokens: the reference's pooled entropy, the total
        variation between the unigrams and ``KL(reference || samples)`` with
        add-half smoothing of the sample counts (NaN without reference).
    reference_mean_sequence_entropy : float
    molecules : object or None
        :func:`sciddm.chem.molecule_report` of the decoded strings when
        ``molecules=True``.
    """

    mean_sequence_entropy: float
    unigram_entropy: float
    unigram: np.ndarray
    reference_mean_sequence_entropy: float
    reference_unigram_entropy: float
    unigram_tv: float
    unigram_kl: float
    molecules: Any = None


def _entropy(p: np.ndarray) -> float:
    q = p[p > 0]
    return float(-(q * np.log(q)).sum())


def sample_diagnostics(
    samples: Any,
    vocab_size: int,
    *,
    reference: Any = None,
    exclude: Sequence[int] = (),
    molecules: bool = False,
    reference_texts: Sequence[str] | None = None,
) -> SampleDiagnostics:
    """Entropy / unigram diagnostics of samples, and molecule metrics when asked.

    Parameters
    ----------
    samples : SampleResult or array (n, L) of token ids
    vocab_size : int
    reference : array (m, L') of token ids, optional
        Data to compare with (e.g. the encoded training set).
    exclude : sequence of int
        Ids left out of every statistic (e.g. PAD).
    molecules : bool, default False
        Also run :func:`sciddm.chem.molecule_report` on ``samples.texts``
        (validity, uniqueness, novelty vs ``reference_texts``, diversity, ...);
        needs the ``chem`` extra.
    reference_texts : sequence of str, optional
        Training molecules for novelty and property distances.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import sample_diagnostics
    >>> d = sample_diagnostics(np.array([[0, 1], [1, 1]]), 3, reference=np.array([[0, 1]]))
    >>> round(d.unigram_tv, 3), round(d.mean_sequence_entropy, 4)
    (0.25, 0.3466)
    """
    tokens = getattr(samples, "tokens", samples)
    tokens = np.asarray(tokens.cpu() if isinstance(tokens, torch.Tensor) else tokens)
    uni = unigram_distribution(tokens, vocab_size, exclude=exclude)
    nan = float("nan")
    ref_seq = ref_ent = tv = kl = nan
    if reference is not None:
        ref = np.asarray(reference.cpu() if isinstance(reference, torch.Tensor) else reference)
        ref_uni = unigram_distribution(ref, vocab_size, exclude=exclude)
        ref_seq = float(sequence_entropy(ref, exclude=exclude).mean())
        ref_ent = _entropy(ref_uni)
        tv = 0.5 * float(np.abs(uni - ref_uni).sum())
        counts = np.bincount(tokens.ravel(), minlength=vocab_size).astype(float)
        keep = np.ones(vocab_size, bool)
        keep[list(exclude)] = False
        sm = (counts + 0.5) * keep
        sm /= sm.sum()
        pos = ref_uni > 0
        kl = float(np.sum(ref_uni[pos] * np.log(ref_uni[pos] / sm[pos])))
    report = None
    if molecules:
        texts = getattr(samples, "texts", None)
        if texts is None:
            raise ValueError("`molecules=True` needs samples with decoded `texts` (a tokenizer)")
        import importlib

        from sciddm._core.extras import require

        require("rdkit", "chem", purpose="molecule metrics")
        chem = importlib.import_module("sciddm.chem")
        if not hasattr(chem, "molecule_report"):
            raise ImportError("`molecules=True` needs sciddm.chem.molecule_report (the chem issue)")
        report = chem.molecule_report(list(texts), reference_texts)
    return SampleDiagnostics(
        mean_sequence_entropy=float(sequence_entropy(tokens, exclude=exclude).mean()),
        unigram_entropy=_entropy(uni),
        unigram=uni,
        reference_mean_sequence_entropy=ref_seq,
        reference_unigram_entropy=ref_ent,
        unigram_tv=tv,
        unigram_kl=kl,
        molecules=report,
    )
