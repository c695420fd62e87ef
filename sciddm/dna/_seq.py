"""DNA sequence encoding and simple sequence rewards (GC content, homopolymers).

Bases are coded A=0, C=1, G=2, T=3. ``N`` (any base) is rejected by default
(``n_policy="error"``, the message names the sequence and position) or coded 4 with
``n_policy="neutral"``, in which case motif scores treat it as background (log-odds 0).
Other characters always raise. Lower case is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sciddm._core.validation import check_choice, check_int

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


def _as_list(sequences: str | Sequence[str], name: str = "sequences") -> list[str]:
    if isinstance(sequences, str):
        return [sequences]
    out = list(sequences)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise ValueError(f"`{name}[{i}]` must be a str, got {type(s).__name__}")
    return out


def encode_dna(
    sequences: str | Sequence[str], *, n_policy: str = "error", pad: bool = True
) -> np.ndarray:
    """Code DNA strings as a uint8 array (A=0, C=1, G=2, T=3, N=4, padding=5).

    Parameters
    ----------
    sequences : str or sequence of str
    n_policy : {"error", "neutral"}, default "error"
        What to do with ``N``: raise, or keep it as code 4.
    pad : bool, default True
        Allow sequences of different lengths, right-padded with code 5; if False they
        must all have the same length.

    Returns
    -------
    ndarray of uint8, shape (n, max_length)

    Raises
    ------
    ValueError
        On an empty sequence, a character outside ACGT(N) (naming the sequence, the
        position and the character), or ``N`` under ``n_policy="error"``.

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
    seqs = _as_list(sequences)
    if not seqs:
        return np.zeros((0, 0), dtype=np.uint8)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if lengths.min() == 0:
        i = int(np.argmin(lengths))
        raise ValueError(f"`sequences[{i}]` is empty")
    width = int(lengths.max())
    if not pad and lengths.min() != width:
        i = int(np.argmin(lengths != width) if lengths[0] != width else np.argmax(lengths != width))
        raise ValueError(
            f"all sequences must have the same length with pad=False; `sequences[{i}]` has "
            f"length {lengths[i]}, not {width}"
        )
    try:
        raw = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        allowed = set("ACGTacgt" + ("Nn" if n_policy == "neutral" else ""))
        for i, seq in enumerate(seqs):  # report the first disallowed character
            for j, ch in enumerate(seq):
                if ch not in allowed:
                    hint = " (use n_policy='neutral' to allow N)" if ch in "Nn" else ""
                    raise ValueError(
                        f"`sequences[{i}]` has {ch!r} at position {j}; only A, C, G, T "
                        f"(and N with n_policy='neutral') are allowed{hint}"
                    ) from None
        raise  # pragma: no cover - unreachable: a non-ASCII character is disallowed
    codes = _LUT[raw]
    if codes.size and int(codes.max()) >= (5 if n_policy == "neutral" else 4):
        bad = codes == 255
        if n_policy == "error":
            bad |= codes == 4
        k = int(np.argmax(bad))
        ends = np.cumsum(lengths)
        i = int(np.searchsorted(ends, k, side="right"))
        j = k - (int(ends[i - 1]) if i else 0)
        ch = seqs[i][j]
        hint = " (use n_policy='neutral' to allow N)" if ch in "Nn" else ""
        raise ValueError(
            f"`sequences[{i}]` has {ch!r} at position {j}; only A, C, G, T "
            f"(and N with n_policy='neutral') are allowed{hint}"
        )
    if lengths.min() == width:
        return codes.reshape(len(seqs), width)
    out = np.full((len(seqs), width), PAD, dtype=np.uint8)
    mask = np.arange(width)[None, :] < lengths[:, None]
    out[mask] = codes
    return out


def decode_dna(codes: np.ndarray) -> list[str]:
    """Inverse of :func:`encode_dna` (padding dropped).

    Examples
    --------
    >>> from sciddm.dna import decode_dna, encode_dna
    >>> decode_dna(encode_dna(["ACGN", "T"], n_policy="neutral"))
    ['ACGN', 'T']
    """
    alphabet = np.frombuffer(b"ACGTN\x00", dtype=np.uint8)
    arr = alphabet[np.asarray(codes, dtype=np.uint8)]
    return [row.tobytes().rstrip(b"\x00").decode("ascii") for row in arr]


def reverse_complement(sequence: str) -> str:
    """Reverse complement (A<->T, C<->G, N->N; case kept).

    Examples
    --------
    >>> from sciddm.dna import reverse_complement
    >>> reverse_complement("AACGN")
    'NCGTT'
    """
    return sequence[::-1].translate(_COMP)


def gc_content(sequences: str | Sequence[str], *, n_policy: str = "error") -> np.ndarray:
    """Fraction of G and C among the A/C/G/T bases of each sequence (N excluded).

    Examples
    --------
    >>> from sciddm.dna import gc_content
    >>> gc_content(["GGCC", "ATGC", "ANNG"], n_policy="neutral").tolist()
    [1.0, 0.5, 0.5]
    """
    x = encode_dna(sequences, n_policy=n_policy)
    gc = ((x == 1) | (x == 2)).sum(axis=1)
    acgt = (x < 4).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acgt > 0, gc / np.maximum(acgt, 1), np.nan)


def max_homopolymer(sequences: str | Sequence[str], *, n_policy: str = "error") -> np.ndarray:
    """Length of the longest run of one base in each sequence (N runs are not counted).

    Examples
    --------
    >>> from sciddm.dna import max_homopolymer
    >>> max_homopolymer(["ACGT", "AAAAC", "CGGGGGA"]).tolist()
    [1, 4, 5]
    """
    x = encode_dna(sequences, n_policy=n_policy).astype(np.int16)
    n, width = x.shape
    run = np.ones((n,), dtype=np.int64)
    best = np.where(x[:, 0] < 4, 1, 0) if width else np.zeros(n, dtype=np.int64)
    for j in range(1, width):
        same = (x[:, j] == x[:, j - 1]) & (x[:, j] < 4)
        run = np.where(same, run + 1, 1)
        best = np.maximum(best, np.where(x[:, j] < 4, run, 0))
    return best.astype(np.int64)


def homopolymer_penalty(
    sequences: str | Sequence[str], *, max_run: int = 6, n_policy: str = "error"
) -> np.ndarray:
    """``max(0, longest run - max_run)``: bases of homopolymer beyond the allowed run.

    Long single-base runs are hard to synthesise and sequence; use this as a
    non-negative penalty with a negative weight.

    Examples
    --------
    >>> from sciddm.dna import homopolymer_penalty
    >>> homopolymer_penalty(["ACGT", "AAAAAAAAC"], max_run=6).tolist()
    [0, 2]
    """
    max_run = check_int(max_run, "max_run", lo=1)
    return np.maximum(max_homopolymer(sequences, n_policy=n_policy) - max_run, 0)
