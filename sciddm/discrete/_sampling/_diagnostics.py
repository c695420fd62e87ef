"""Diagnostics of samples: unigram statistics and per-sequence entropy (Zheng et al. 2024, Sec. 4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.validation import check_int

__all__ = [
    "SampleDiagnostics",
    "sample_diagnostics",
    "sequence_entropy",
    "token_array",
    "unigram_distribution",
]


def token_array(tokens: Any, name: str, *, ndim: int | None = None) -> np.ndarray:
    """``tokens`` (array, tensor or nested lists) as an int64 array; TypeError/ValueError
    naming ``name`` for non-integer or wrongly shaped input."""
    if isinstance(tokens, torch.Tensor):
        tokens = tokens.detach().cpu().numpy()
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of token ids, got {type(tokens).__name__}")
    try:
        arr = np.asarray(tokens)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be an array of token ids: {exc}") from None
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integer token ids, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimensions, got shape {arr.shape}")
    return arr


def _exclude_iv(exclude: Any, vocab_size: int | None = None) -> list[int]:
    if isinstance(exclude, (str, bytes)) or not np.iterable(exclude):
        raise TypeError(f"`exclude` must be a sequence of token ids, got {exclude!r}")
    out = []
    for e in exclude:
        hi = None if vocab_size is None else vocab_size - 1
        out.append(check_int(e, "exclude", lo=0, hi=hi))
    return out


def unigram_distribution(
    tokens: Any, vocab_size: int, *, exclude: Sequence[int] = ()
) -> np.ndarray:
    """Frequency of each token id in ``tokens`` (ids in ``exclude`` dropped).

    Parameters
    ----------
    tokens : array_like of int
        Token ids, any shape.
    vocab_size : int
        Number of ids (1 to 2**24); every id must be below it.
    exclude : sequence of int, default ()
        Ids left out (e.g. PAD); their frequency is 0.

    Returns
    -------
    ndarray (vocab_size,)
        Frequencies summing to one (all zero when nothing is counted).

    Examples
    --------
    >>> from sciddm.discrete import unigram_distribution
    >>> unigram_distribution([[0, 1, 1, 2]], 4).tolist()
    [0.25, 0.5, 0.25, 0.0]
    """
    vocab_size = check_int(vocab_size, "vocab_size", lo=1, hi=2**24)
    t = token_array(tokens, "tokens").ravel()
    excl = _exclude_iv(exclude, vocab_size)
    if t.size and (t.min() < 0 or t.max() >= vocab_size):
        raise ValueError(
            f"`tokens` must be ids in [0, {vocab_size}), got range [{t.min()}, {t.max()}]"
        )
    counts = np.bincount(t, minlength=vocab_size).astype(np.float64)
    if excl:
        counts[np.asarray(excl, dtype=np.int64)] = 0.0
    s = counts.sum()
    return counts / s if s > 0 else counts


def sequence_entropy(tokens: Any, *, exclude: Sequence[int] = ()) -> np.ndarray:
    r"""Entropy (nats) of the unigram distribution of each sequence (row).

    The diagnostic of Zheng et al. (2024), Sec. 4: a sampler whose effective
    temperature is too low produces repetitive sequences of lower entropy.

    Parameters
    ----------
    tokens : array_like of int, shape (n, L) or (L,)
        Token ids; a 1-D input is one sequence.
    exclude : sequence of int, default ()
        Ids left out of every row.

    Returns
    -------
    ndarray (n,)
        :math:`-\sum_v \hat p_v \log \hat p_v` of each row (0 for an empty row).

    References
    ----------
    .. [1] K. Zheng et al., "Masked diffusion models are secretly time-agnostic
       masked models and exploit inaccurate categorical sampling",
       arXiv:2409.02908 (2024), Sec. 4.

    Examples
    --------
    >>> from sciddm.discrete import sequence_entropy
    >>> sequence_entropy([[0, 0, 0, 0], [0, 1, 2, 3]]).round(4).tolist()
    [0.0, 1.3863]
    """
    t = np.atleast_2d(token_array(tokens, "tokens"))
    if t.ndim != 2:
        raise ValueError(f"`tokens` must have shape (n, L) or (L,), got {t.shape}")
    excl = set(_exclude_iv(exclude))
    out = np.empty(t.shape[0])
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
        Mean sequence entropy of the reference (NaN without reference).
    molecules : object or None
        :func:`sciddm.chem.molecule_report` of the decoded strings when
        ``molecules=True``.

    Examples
    --------
    >>> from sciddm.discrete import sample_diagnostics
    >>> d = sample_diagnostics([[0, 1, 2, 3], [0, 0, 0, 0]], 5)
    >>> d.unigram.round(3).tolist(), round(d.mean_sequence_entropy, 4)
    ([0.625, 0.125, 0.125, 0.125, 0.0], 0.6931)
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
        The samples.
    vocab_size : int
        Number of ids, [MASK] included.
    reference : array (m, L') of token ids, optional
        Data to compare with (e.g. the encoded training set).
    exclude : sequence of int, default ()
        Ids left out of every statistic (e.g. PAD).
    molecules : bool, default False
        Also run :func:`sciddm.chem.molecule_report` on ``samples.texts``
        (validity, uniqueness, novelty vs ``reference_texts``, diversity, ...);
        needs the ``chem`` extra.
    reference_texts : sequence of str, optional
        Training molecules for novelty and property distances.

    Returns
    -------
    SampleDiagnostics

    References
    ----------
    .. [1] K. Zheng et al., "Masked diffusion models are secretly time-agnostic
       masked models and exploit inaccurate categorical sampling",
       arXiv:2409.02908 (2024), Sec. 4 (entropy as a temperature diagnostic).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import sample_diagnostics
    >>> d = sample_diagnostics(np.array([[0, 1], [1, 1]]), 3, reference=np.array([[0, 1]]))
    >>> round(d.unigram_tv, 3), round(d.mean_sequence_entropy, 4)
    (0.25, 0.3466)
    """
    tokens = token_array(getattr(samples, "tokens", samples), "samples", ndim=2)
    uni = unigram_distribution(tokens, vocab_size, exclude=exclude)
    nan = float("nan")
    ref_seq = ref_ent = tv = kl = nan
    if reference is not None:
        ref = token_array(reference, "reference")
        if ref.ndim not in (1, 2) or ref.size == 0:
            raise ValueError(f"`reference` must be a non-empty (m, L) array, got {ref.shape}")
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
