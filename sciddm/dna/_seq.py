"""DNA sequence encoding and simple sequence rewards (GC content, homopolymers).

Bases are coded A=0, C=1, G=2, T=3. ``N`` (any base) is rejected by default
(``n_policy="error"``, the message names the sequence and position) or coded 4 with
``n_policy="neutral"``, in which case motif scores treat it as background (log-odds 0).
Other characters always raise. Lower case is accepted. Inputs must be ``str`` (or
sequences of ``str``): bytes, token-id arrays and other types raise ``TypeError``
naming the argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sciddm._core.validation import check_array, check_choice, check_int, is_sparse

__all__ = [
    "N_POLICIES",
    "decode_dna",
    "encode_dna",
    "gc_content",
    "homopolymer_penalty",
    "max_homopolymer",
    "reverse_complement",
]

N_POLICIES = ("error", "neutral")
PAD = 5

_LUT = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    _LUT[ord(_b)] = _i
    _LUT[ord(_b.lower())] = _i
_LUT[ord("N")] = _LUT[ord("n")] = 4
_COMP = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def _as_list(sequences: Any, name: str = "sequences") -> list[str]:
    """Validate DNA input: a ``str`` or an iterable of ``str`` (TypeError naming ``name``)."""
    if isinstance(sequences, str):
        return [sequences]
    what = "a DNA string or a sequence of DNA strings (str)"
    if sequences is None or isinstance(sequences, (bytes, bytearray)) or is_sparse(sequences):
        raise TypeError(f"`{name}` must be {what}, got {type(sequences).__name__}")
    dtype = getattr(sequences, "dtype", None)
    if dtype is not None and not (isinstance(dtype, np.dtype) and dtype.kind in "UO"):
        raise TypeError(
            f"`{name}` must be {what}, got a {type(sequences).__name__} of {dtype}; token or "
            "base codes must be decoded to strings first (e.g. decode_dna for encode_dna codes)"
        )
    if not isinstance(sequences, Iterable):
        raise TypeError(f"`{name}` must be {what}, got {type(sequences).__name__}")
    out = list(sequences)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise TypeError(f"`{name}[{i}]` must be a DNA string (str), got {type(s).__name__}")
    return [str(s) for s in out]


def _encode(seqs: list[str], *, n_policy: str, pad: bool, name: str = "sequences") -> np.ndarray:
    """:func:`encode_dna` on an already validated list; messages name ``name``."""
    if not seqs:
        return np.zeros((0, 0), dtype=np.uint8)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if lengths.min() == 0:
        i = int(np.argmin(lengths))
        raise ValueError(f"`{name}[{i}]` is empty")
    width = int(lengths.max())
    if not pad and lengths.min() != width:
        i = int(np.argmax(lengths != lengths[0]))
        raise ValueError(
            f"all sequences must have the same length with pad=False; `{name}[0]` has "
            f"length {lengths[0]} but `{name}[{i}]` has length {lengths[i]}"
        )
    try:
        raw = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raw = None
    codes = None if raw is None else _LUT[raw]
    limit = 5 if n_policy == "neutral" else 4
    if codes is None or (codes.size and int(codes.max()) >= limit):
        _raise_bad_base(seqs, n_policy, name)
    assert codes is not None
    if lengths.min() == width:
        return codes.reshape(len(seqs), width)
    out = np.full((len(seqs), width), PAD, dtype=np.uint8)
    mask = np.arange(width)[None, :] < lengths[:, None]
    out[mask] = codes
    return out


def _raise_bad_base(seqs: list[str], n_policy: str, name: str) -> None:
    """Raise the ValueError naming the first disallowed character."""
    allowed = set("ACGTacgt" + ("Nn" if n_policy == "neutral" else ""))
    for i, seq in enumerate(seqs):
        for j, ch in enumerate(seq):
            if ch not in allowed:
                hint = " (use n_policy='neutral' to allow N)" if ch in "Nn" else ""
                raise ValueError(
                    f"`{name}[{i}]` has {ch!r} at position {j}; only A, C, G, T "
                    f"(and N with n_policy='neutral') are allowed{hint}"
                )
    raise AssertionError("unreachable: a disallowed character was found")  # pragma: no cover


def encode_dna(
    sequences: str | Sequence[str], *, n_policy: str = "error", pad: bool = True
) -> np.ndarray:
    """Code DNA strings as a uint8 array (A=0, C=1, G=2, T=3, N=4, padding=5).

    Parameters
    ----------
    sequences : str or sequence of str
        One DNA string or several; upper or lower case.
    n_policy : {"error", "neutral"}, default "error"
        What to do with ``N``: raise, or keep it as code 4.
    pad : bool, default True
        Allow sequences of different lengths, right-padded with code 5; if False they
        must all have the same length.

    Returns
    -------
    ndarray of uint8, shape (n, max_length)
        One row per sequence; ``(0, 0)`` for an empty list.

    Raises
    ------
    TypeError
        If ``sequences`` is not a ``str`` or a sequence of ``str`` (bytes, token-id
        arrays, None ...).
    ValueError
        On an empty sequence, a character outside ACGT(N) (naming the sequence, the
        position and the character), ``N`` under ``n_policy="error"``, or unequal
        lengths with ``pad=False``.

    Examples
    --------
    >>> from sciddm.dna import encode_dna
    >>> encode_dna(["ACGT", "TTA"]).tolist()
    [[0, 1, 2, 3], [3, 3, 0, 5]]
    >>> encode_dna(["ACXT"])
    Traceback (most recent call last):
    ...
    ValueError: `sequences[0]` has 'X' at position 2; only A, C, G, T (and N with n_policy='neutral') are allowed
    """
    check_choice(n_policy, "n_policy", N_POLICIES)
    return _encode(_as_list(sequences), n_policy=n_policy, pad=bool(pad))


def decode_dna(codes: ArrayLike) -> list[str]:
    """Inverse of :func:`encode_dna`: strings from a code array (padding dropped).

    Parameters
    ----------
    codes : array_like of int, shape (n, L)
        Codes in {0, ..., 5} (A, C, G, T, N, padding), e.g. from :func:`encode_dna`.

    Returns
    -------
    list of str
        One string per row, without its padding.

    Raises
    ------
    ValueError
        If ``codes`` is not 2-D or holds a value outside {0, ..., 5}.

    Examples
    --------
    >>> from sciddm.dna import decode_dna, encode_dna
    >>> decode_dna(encode_dna(["ACGN", "T"], n_policy="neutral"))
    ['ACGN', 'T']
    """
    arr = check_array(codes, "codes", ndim=2, dtype=None)
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(
                f"`codes` must hold integer codes in {{0, ..., 5}}, got dtype {arr.dtype}"
            )
    if arr.size and (arr.min() < 0 or arr.max() > PAD):
        raise ValueError(
            f"`codes` must hold integer codes in {{0, ..., 5}}, found {arr.min()}..{arr.max()}"
        )
    alphabet = np.frombuffer(b"ACGTN\x00", dtype=np.uint8)
    out = alphabet[arr.astype(np.uint8)]
    return [row.tobytes().rstrip(b"\x00").decode("ascii") for row in out]


def reverse_complement(sequence: str) -> str:
    """Reverse complement of one DNA string (A<->T, C<->G, N->N; case kept).

    Parameters
    ----------
    sequence : str
        Letters A, C, G, T, N in either case.

    Returns
    -------
    str
        The sequence read 3' to 5' on the other strand.

    Raises
    ------
    TypeError
        If ``sequence`` is not a ``str``.
    ValueError
        If it holds another character (named with its position).

    Examples
    --------
    >>> from sciddm.dna import reverse_complement
    >>> reverse_complement("AACGN")
    'NCGTT'
    """
    if not isinstance(sequence, str):
        raise TypeError(f"`sequence` must be a DNA string (str), got {type(sequence).__name__}")
    bad = next((j for j, ch in enumerate(sequence) if ch not in "ACGTNacgtn"), None)
    if bad is not None:
        raise ValueError(
            f"`sequence` has {sequence[bad]!r} at position {bad}; only A, C, G, T, N are allowed"
        )
    return sequence[::-1].translate(_COMP)


def gc_content(sequences: str | Sequence[str], *, n_policy: str = "error") -> np.ndarray:
    r"""Fraction of G and C among the A/C/G/T bases of each sequence (N excluded).

    .. math:: \mathrm{GC}(x) = \frac{\#\{\ell : x_\ell \in \{C, G\}\}}
       {\#\{\ell : x_\ell \in \{A, C, G, T\}\}}

    Parameters
    ----------
    sequences : str or sequence of str
        DNA strings (see :func:`encode_dna`).
    n_policy : {"error", "neutral"}, default "error"
        Reject ``N``, or leave it out of both counts.

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in [0, 1].

    Raises
    ------
    TypeError
        If ``sequences`` is not a ``str`` or a sequence of ``str``.
    ValueError
        On invalid characters, or a sequence made only of ``N`` (its GC content is
        undefined).

    Examples
    --------
    >>> from sciddm.dna import gc_content
    >>> gc_content(["GGCC", "ATGC", "ANNG"], n_policy="neutral").tolist()
    [1.0, 0.5, 0.5]
    """
    check_choice(n_policy, "n_policy", N_POLICIES)
    x = _encode(_as_list(sequences), n_policy=n_policy, pad=True)
    gc = ((x == 1) | (x == 2)).sum(axis=1)
    acgt = (x < 4).sum(axis=1)
    if np.any(acgt == 0):
        i = int(np.argmin(acgt))
        raise ValueError(f"`sequences[{i}]` has no A, C, G or T base; its GC content is undefined")
    return gc / acgt


def max_homopolymer(sequences: str | Sequence[str], *, n_policy: str = "error") -> np.ndarray:
    """Length of the longest run of one base in each sequence (N runs are not counted).

    Parameters
    ----------
    sequences : str or sequence of str
        DNA strings (see :func:`encode_dna`).
    n_policy : {"error", "neutral"}, default "error"
        Reject ``N``, or allow it (an ``N`` breaks a run and never forms one).

    Returns
    -------
    ndarray of int64, shape (n,)
        0 for a sequence made only of ``N``.

    Examples
    --------
    >>> from sciddm.dna import max_homopolymer
    >>> max_homopolymer(["ACGT", "AAAAC", "CGGGGGA"]).tolist()
    [1, 4, 5]
    """
    check_choice(n_policy, "n_policy", N_POLICIES)
    x = _encode(_as_list(sequences), n_policy=n_policy, pad=True).astype(np.int16)
    n, width = x.shape
    run = np.ones((n,), dtype=np.int64)
    best = np.where(x[:, 0] < 4, 1, 0) if width else np.zeros(n, dtype=np.int64)
    for j in range(1, width):
        same = (x[:, j] == x[:, j - 1]) & (x[:, j] < 4)
        run = np.where(same, run + 1, 1)
        best = np.maximum(best, np.where(x[:, j] < 4, run, 0))
    return np.asarray(best, dtype=np.int64)


def homopolymer_penalty(
    sequences: str | Sequence[str], *, max_run: int = 6, n_policy: str = "error"
) -> np.ndarray:
    """``max(0, longest run - max_run)``: bases of homopolymer beyond the allowed run.

    Long single-base runs are hard to synthesise and sequence; use this as a
    non-negative penalty with a negative weight.

    Parameters
    ----------
    sequences : str or sequence of str
        DNA strings (see :func:`encode_dna`).
    max_run : int, default 6
        Longest run that costs nothing (>= 1).
    n_policy : {"error", "neutral"}, default "error"
        As in :func:`max_homopolymer`.

    Returns
    -------
    ndarray of int64, shape (n,)
        Non-negative penalties.

    Examples
    --------
    >>> from sciddm.dna import homopolymer_penalty
    >>> homopolymer_penalty(["ACGT", "AAAAAAAAC"], max_run=6).tolist()
    [0, 2]
    """
    max_run = check_int(max_run, "max_run", lo=1)
    return np.maximum(max_homopolymer(sequences, n_policy=n_policy) - max_run, 0)
