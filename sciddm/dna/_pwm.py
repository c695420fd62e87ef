r"""JASPAR position weight matrices and vectorised log-odds scanning.

A motif with position frequency counts :math:`c_{b,j}` (base b, column j) and
background :math:`q_b` has position probabilities
:math:`p_{b,j} = (c_{b,j} + \lambda q_b)/(N_j + \lambda)` (pseudocount
:math:`\lambda`) and log-odds (bits) :math:`W_{b,j} = \log_2(p_{b,j}/q_b)`. The score
of a window :math:`x_{1..w}` is :math:`S(x) = \sum_j W_{x_j,j}`, the log-likelihood
ratio of the motif model against the background (theory note
``theory/80_pwm_log_odds.md``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sciddm._core.extras import require
from sciddm._core.results import Result
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar
from sciddm.dna._seq import N_POLICIES, _as_list, _encode, gc_content, homopolymer_penalty

__all__ = [
    "Motif",
    "MotifReward",
    "jaspar_ids",
    "load_jaspar",
    "motif_occurrences",
    "pwm_scores",
]

DEFAULT_RELEASE = "JASPAR2026"
_BLOCK = 7  # k-mer block length of the lookup tables (4**7 entries)
_CHUNK = 512  # rows per chunk, so that the work arrays stay in cache


@dataclasses.dataclass(frozen=True, repr=False)
class Motif(Result):
    r"""A position frequency matrix with its background and pseudocount.

    Parameters
    ----------
    matrix_id : str
        JASPAR ID with version, e.g. ``"MA0114.4"`` (any label for custom motifs).
    name : str
        Transcription factor name.
    counts : array_like of shape (4, w)
        Non-negative counts (or frequencies) of A, C, G, T at each of the w columns.
    background : array_like of shape (4,), default uniform
        Background base probabilities :math:`q_b` (positive, summing to one).
    pseudocount : float, default 0.8
        Total pseudocount :math:`\lambda \ge 0`, spread as :math:`\lambda q_b`.

    Attributes
    ----------
    length : int
        Motif width w.
    probabilities : ndarray of shape (4, w)
        :math:`p_{b,j} = (c_{b,j} + \lambda q_b) / (N_j + \lambda)`.
    log_odds : ndarray of shape (4, w)
        :math:`W_{b,j} = \log_2(p_{b,j} / q_b)` in bits (``-inf`` where
        :math:`p_{b,j} = 0`, possible only with ``pseudocount=0``).
    max_score, min_score : float
        Best and worst window score.

    Raises
    ------
    TypeError
        If ``matrix_id`` or ``name`` is not a ``str``.
    ValueError
        If ``counts`` is not a finite non-negative (4, w) array with a positive total
        in each column (when ``pseudocount`` is 0), or ``background`` is not a
        probability vector.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.dna import Motif
    >>> m = Motif("toy", "toy", np.array([[3, 0], [1, 0], [0, 4], [0, 0]]), pseudocount=0)
    >>> m.length, m.max_score                     # log2(0.75/0.25) + log2(1/0.25)
    (2, 3.584962500721156)
    """

    matrix_id: str
    name: str
    counts: np.ndarray
    background: np.ndarray = dataclasses.field(default_factory=lambda: np.full(4, 0.25))
    pseudocount: float = 0.8

    def __post_init__(self) -> None:
        if not isinstance(self.matrix_id, str):
            raise TypeError(f"`matrix_id` must be a str, got {type(self.matrix_id).__name__}")
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a str, got {type(self.name).__name__}")
        c = check_array(self.counts, "counts", ndim=2)
        if c.shape[0] != 4 or c.shape[1] < 1:
            raise ValueError(f"`counts` must have shape (4, w) with w >= 1, got {c.shape}")
        if np.any(c < 0):
            raise ValueError("`counts` must be non-negative")
        bg = check_array(self.background, "background", shape=(4,))
        if np.any(bg <= 0) or abs(bg.sum() - 1) > 1e-8:
            raise ValueError("`background` must be 4 positive probabilities summing to 1")
        lam = check_scalar(self.pseudocount, "pseudocount", lo=0.0)
        if lam == 0 and np.any(c.sum(axis=0) <= 0):
            raise ValueError(
                "`counts` has a column with zero total and `pseudocount` is 0; its "
                "probabilities are undefined (use pseudocount > 0)"
            )
        object.__setattr__(self, "counts", c)
        object.__setattr__(self, "background", bg)
        object.__setattr__(self, "pseudocount", lam)

    @property
    def length(self) -> int:
        """Motif width w."""
        return int(self.counts.shape[1])

    @property
    def probabilities(self) -> np.ndarray:
        """Position probabilities :math:`p_{b,j}` (4, w)."""
        c = self.counts + self.pseudocount * self.background[:, None]
        return np.asarray(c / c.sum(axis=0, keepdims=True))

    @property
    def log_odds(self) -> np.ndarray:
        """Log-odds in bits :math:`\\log_2(p_{b,j}/q_b)`, shape (4, w); -inf if p = 0."""
        with np.errstate(divide="ignore"):
            return np.asarray(np.log2(self.probabilities / self.background[:, None]))

    @property
    def max_score(self) -> float:
        """Best possible window score (consensus)."""
        return float(self.log_odds.max(axis=0).sum())

    @property
    def min_score(self) -> float:
        """Worst possible window score."""
        return float(self.log_odds.min(axis=0).sum())

    def reverse_complement(self) -> Motif:
        """The motif read on the other strand (columns reversed, bases complemented).

        Returns
        -------
        Motif
        """
        return dataclasses.replace(
            self, counts=self.counts[::-1, ::-1].copy(), background=self.background[::-1].copy()
        )


@functools.lru_cache(maxsize=1)
def _releases() -> tuple[str, ...]:
    pj = require("pyjaspar", "dna", purpose="JASPAR motifs")
    return tuple(str(r) for r in pj.jaspardb(release=DEFAULT_RELEASE).get_releases())


def _check_release(release: Any) -> str:
    if not isinstance(release, str):
        raise TypeError(f"`release` must be a str such as {DEFAULT_RELEASE!r}, got {release!r}")
    known = _releases()
    if release not in known:
        raise ValueError(
            f"`release` must be one of {', '.join(known)} (shipped with pyjaspar), got {release!r}"
        )
    return release


@functools.lru_cache(maxsize=8)
def _jaspar_table(release: str) -> tuple[tuple[str, int, str], ...]:
    pj = require("pyjaspar", "dna", purpose="JASPAR motifs")
    db = pj.jaspardb(release=_check_release(release))
    rows = db.conn.execute("SELECT BASE_ID, VERSION, NAME FROM MATRIX").fetchall()
    return tuple((str(b), int(v), str(n)) for b, v, n in rows)


def jaspar_ids(release: str = DEFAULT_RELEASE) -> dict[str, str]:
    """All matrix IDs (``BASE.VERSION``) of a JASPAR release shipped in pyjaspar.

    Parameters
    ----------
    release : str, default "JASPAR2026"
        A release shipped with the installed pyjaspar (e.g. ``"JASPAR2024"``).

    Returns
    -------
    dict of str -> str
        Matrix ID -> transcription factor name.

    Raises
    ------
    TypeError, ValueError
        If ``release`` is not a str or not shipped with pyjaspar.
    ImportError
        If pyjaspar (extra ``dna``) is not installed.

    Examples
    --------
    >>> from sciddm.dna import jaspar_ids
    >>> jaspar_ids()["MA0114.4"]
    'HNF4A'
    """
    return {f"{b}.{v}": n for b, v, n in _jaspar_table(_check_release(release))}


def _resolve(matrix_id: str, release: str) -> str:
    table = _jaspar_table(release)
    ids = {f"{b}.{v}" for b, v, _ in table}
    if matrix_id in ids:
        return matrix_id
    versions = [v for b, v, _ in table if b == matrix_id]
    if versions:
        return f"{matrix_id}.{max(versions)}"
    by_name = sorted(f"{b}.{v} ({n})" for b, v, n in table if n.upper() == str(matrix_id).upper())
    close = difflib.get_close_matches(str(matrix_id), sorted(ids), n=5, cutoff=0.6)
    names = {f"{b}.{v}": n for b, v, n in table}
    suggestions = by_name + [f"{c} ({names[c]})" for c in close]
    hint = "; close matches: " + ", ".join(suggestions) if suggestions else ""
    raise ValueError(f"`matrix_id` {matrix_id!r} is an unknown JASPAR matrix ID in {release}{hint}")


@functools.lru_cache(maxsize=256)
def _load_one(matrix_id: str, release: str) -> tuple[str, str, np.ndarray]:
    pj = require("pyjaspar", "dna", purpose="JASPAR motifs")
    full = _resolve(matrix_id, release)
    m = pj.jaspardb(release=release).fetch_motif_by_id(full)
    counts = np.array([[float(x) for x in m.counts[b]] for b in "ACGT"])
    return full, str(m.name), counts


def load_jaspar(
    matrix_id: str,
    *,
    release: str = DEFAULT_RELEASE,
    pseudocount: float = 0.8,
    background: Sequence[float] | None = None,
) -> Motif:
    """Load a JASPAR motif from the SQLite database shipped in ``pyjaspar``.

    Parameters
    ----------
    matrix_id : str
        ``"MA0114.4"``, or a base ID such as ``"MA0114"`` for its latest version.
    release : str, default "JASPAR2026"
        A release shipped with pyjaspar.
    pseudocount : float, default 0.8
        Total pseudocount of the returned :class:`Motif`.
    background : sequence of 4 floats, optional
        Background base probabilities; uniform by default.

    Returns
    -------
    Motif
        The counts of the matrix with its JASPAR ID and factor name.

    Raises
    ------
    TypeError
        If ``matrix_id`` or ``release`` is not a str.
    ValueError
        If the ID is unknown; the message lists close IDs (and IDs of a TF of that name).
    ImportError
        If pyjaspar (extra ``dna``) is not installed.

    References
    ----------
    .. [1] Rauluseviciute I. et al., "JASPAR 2024", Nucleic Acids Research 52 (2024).

    Examples
    --------
    >>> from sciddm.dna import load_jaspar
    >>> m = load_jaspar("MA0114.4")
    >>> m.name, m.length
    ('HNF4A', 13)
    >>> load_jaspar("MA0114.9")
    Traceback (most recent call last):
    ...
    ValueError: `matrix_id` 'MA0114.9' is an unknown JASPAR matrix ID in JASPAR2026; close matches: MA0114.5 (HNF4A), ...
    """
    if not isinstance(matrix_id, str):
        raise TypeError(
            f"`matrix_id` must be a JASPAR ID (str) such as 'MA0114.4', got {matrix_id!r}"
        )
    bg = np.full(4, 0.25) if background is None else check_array(background, "background")
    lam = check_scalar(pseudocount, "pseudocount", lo=0.0)
    full, name, counts = _load_one(matrix_id, _check_release(release))
    return Motif(full, name, counts.copy(), bg, lam)


def _as_motifs(motifs: Any) -> list[Motif]:
    """Validate ``motifs``: a Motif, a JASPAR ID, or a non-empty sequence of them."""
    if isinstance(motifs, (Motif, str)):
        motifs = [motifs]
    if motifs is None or isinstance(motifs, (bytes, bytearray)) or not hasattr(motifs, "__iter__"):
        raise TypeError(
            f"`motifs` must be a Motif, a JASPAR ID (str) or a sequence of them, got "
            f"{type(motifs).__name__}"
        )
    out: list[Motif] = []
    for i, m in enumerate(motifs):
        if isinstance(m, Motif):
            out.append(m)
        elif isinstance(m, str):
            out.append(load_jaspar(m))
        else:
            raise TypeError(
                f"`motifs[{i}]` must be a Motif or a JASPAR ID (str), got {type(m).__name__}"
            )
    if not out:
        raise ValueError("`motifs` must hold at least one motif")
    return out


def _block_table(w: np.ndarray, s: int, kk: int) -> np.ndarray:
    """Partial scores of columns s..s+kk-1 for every kk-mer code (float32)."""
    idx = np.arange(4**kk)
    table = np.zeros(4**kk)
    for i in range(kk):
        table += w[(idx // 4 ** (kk - 1 - i)) % 4, s + i]
    return table.astype(np.float32)


def _block_tables(wf: np.ndarray, wr: np.ndarray | None) -> list[tuple[int, int, np.ndarray]]:
    """k-mer lookup tables of a (4, width) log-odds matrix, cut in blocks of 7 columns.

    With a reverse-strand matrix ``wr`` the forward and reverse partial scores are
    packed as the two float32 halves of one complex64 entry, so that one gather
    serves both strands.
    """
    width = wf.shape[1]
    out = []
    for s in range(0, width, _BLOCK):
        kk = min(_BLOCK, width - s)
        tf = _block_table(wf, s, kk)
        if wr is None:
            out.append((s, kk, tf))
        else:
            pair = np.stack([tf, _block_table(wr, s, kk)], axis=1)
            out.append((s, kk, np.ascontiguousarray(pair).view(np.complex64)[:, 0]))
    return out


_TABLE_CACHE: dict[bytes, list[tuple[int, int, np.ndarray]]] = {}


def _block_tables_cached(
    wf: np.ndarray, wr: np.ndarray | None
) -> list[tuple[int, int, np.ndarray]]:
    key = (
        wf.tobytes() + (b"" if wr is None else b"|" + wr.tobytes()) + bytes(str(wf.shape), "ascii")
    )
    if key not in _TABLE_CACHE:
        if len(_TABLE_CACHE) > 64:
            _TABLE_CACHE.clear()
        _TABLE_CACHE[key] = _block_tables(wf, wr)
    return _TABLE_CACHE[key]


def _kmer_codes(x: np.ndarray, lengths: set[int]) -> dict[int, np.ndarray]:
    """Base-4 codes of all k-mers for each k in ``lengths`` (k <= 8, uint16).

    ``codes[k][i, p]`` encodes ``x[i, p:p+k]``; a k-mer code is built from two shorter
    ones (k = a + b), so k = 7 takes four array operations instead of six.
    """
    length = x.shape[1]
    memo: dict[int, np.ndarray] = {1: x.astype(np.uint16)}

    def get(k: int) -> np.ndarray:
        if k not in memo:
            a = (k + 1) // 2
            b = k - a
            n_win = length - k + 1
            memo[k] = get(a)[:, :n_win] * (4**b) + get(b)[:, a : a + n_win]
        return memo[k]

    return {k: get(k) for k in lengths}


def _reduce(s: np.ndarray, how: str) -> np.ndarray:
    if how == "max":
        return s.max(axis=1)
    m = s.max(axis=1, keepdims=True)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return (safe + np.log2(np.exp2(s - safe).sum(axis=1, keepdims=True)))[:, 0]


def _scan_chunk(
    x: np.ndarray, mats: list[tuple[np.ndarray, np.ndarray | None]], how: str
) -> np.ndarray:
    """Window scores of each motif (both strands pooled when a reverse matrix is given)."""
    n, length = x.shape
    out = np.empty((n, len(mats)))
    fast = bool(x.size == 0 or x.max() < 4)
    codes = None
    if fast:
        lens = {
            min(_BLOCK, w.shape[1] - s)
            for w, _ in mats
            if w.shape[1] <= length
            for s in range(0, w.shape[1], _BLOCK)
        }
        codes = _kmer_codes(x, lens)
    for k, (wf, wr) in enumerate(mats):
        width = wf.shape[1]
        n_win = length - width + 1
        if n_win < 1:
            out[:, k] = -np.inf
            continue
        if codes is not None:
            acc: np.ndarray | None = None
            for s, kk, table in _block_tables_cached(wf, wr):
                g = table[codes[kk][:, s : s + n_win]].view(np.float32)
                if acc is None:
                    acc = g
                else:
                    acc += g
            assert acc is not None
            out[:, k] = _reduce(acc, how)
        else:  # N (log-odds 0) or padding (-inf) present: per-column gather
            parts = []
            for w in (wf,) if wr is None else (wf, wr):
                full = np.vstack([w, np.zeros((1, width)), np.full((1, width), -np.inf)])
                part = np.zeros((n, n_win))
                for j in range(width):
                    part += full[x[:, j : j + n_win], j]
                parts.append(part)
            out[:, k] = _reduce(np.concatenate(parts, axis=1), how)
    return out


def _codes_iv(sequences: Any, n_policy: str) -> np.ndarray:
    """Sequences as a validated uint8 code array (strings are encoded)."""
    if isinstance(sequences, np.ndarray) and sequences.dtype == np.uint8:
        x = sequences
        if x.ndim != 2:
            raise ValueError(f"`sequences` codes must be 2-D, got shape {x.shape}")
        if x.size and int(x.max()) > 5:
            raise ValueError(f"`sequences` codes must lie in 0..5, found {int(x.max())}")
        if n_policy == "error" and np.any(x == 4):
            i, j = np.argwhere(x == 4)[0]
            raise ValueError(
                f"`sequences[{i}]` has 'N' at position {j} (use n_policy='neutral' to allow N)"
            )
        return x
    return _encode(_as_list(sequences), n_policy=n_policy, pad=True)


def _check_long_enough(x: np.ndarray, ms: list[Motif]) -> None:
    width = max(m.length for m in ms)
    lengths = (x != 5).sum(axis=1)
    if lengths.size and int(lengths.min()) < width:
        i = int(np.argmin(lengths))
        m = max(ms, key=lambda m: m.length)
        raise ValueError(
            f"`sequences[{i}]` has {int(lengths[i])} bases, fewer than the {width} columns "
            f"of motif {m.matrix_id!r}: there is no window to score"
        )


def pwm_scores(
    sequences: str | Sequence[str] | np.ndarray,
    motifs: Motif | str | Sequence[Motif | str],
    *,
    reduce: str = "max",
    strand: str = "both",
    n_policy: str = "error",
) -> np.ndarray:
    r"""Best (or total) PWM log-odds score of each sequence, vectorised.

    Parameters
    ----------
    sequences : str, sequence of str, or uint8 array from :func:`encode_dna`
        DNA sequences, each at least as long as the widest motif.
    motifs : Motif, JASPAR ID, or a sequence of them
        The position weight matrices (IDs are loaded with :func:`load_jaspar`).
    reduce : {"max", "sum"}, default "max"
        ``"max"``: :math:`\max_{p,\pm} S(x_{p..p+w-1})`, the best site;
        ``"sum"``: :math:`\log_2 \sum_{p,\pm} 2^{S}`, the log of the summed
        likelihood ratios of all sites (an occupancy-like score).
    strand : {"both", "forward"}, default "both"
        Scan the reverse complement too.
    n_policy : {"error", "neutral"}, default "error"
        ``N`` raises, or scores log-odds 0 (background) at its column.

    Returns
    -------
    ndarray of float64, shape (n,) for one motif or (n, n_motifs)
        Scores in bits. Finite except where every window holds a base of zero motif
        probability (possible only for a :class:`Motif` with ``pseudocount=0``),
        where the score is ``-inf`` (the log-odds of probability zero).

    Raises
    ------
    TypeError
        If ``sequences`` or ``motifs`` has the wrong type.
    ValueError
        If a sequence is shorter than a motif (it has no window to score), on
        invalid characters, or on bad ``reduce``/``strand``/``n_policy``.

    Notes
    -----
    Windows are scored with k-mer lookup tables: the width-w motif is cut into
    blocks of 7 columns, each a table of :math:`4^7` partial scores indexed by the
    7-mer code, so a window costs about w/7 gathers instead of w. Chunks of 512
    sequences keep the work arrays in cache. Results equal the direct sum of
    log-odds (tested against Biopython's ``PositionSpecificScoringMatrix``).
    The reverse strand is scanned with :math:`W_{\bar b, w+1-j}`, the exact
    log-likelihood ratio when the background is strand-symmetric
    (:math:`q_A = q_T`, :math:`q_C = q_G`), as the default uniform one is.

    References
    ----------
    .. [1] Stormo G. D., "DNA binding sites: representation and discovery",
       Bioinformatics 16(1):16-23 (2000).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.dna import Motif, pwm_scores
    >>> m = Motif("toy", "toy", np.array([[8, 0], [0, 0], [0, 8], [0, 0]]), pseudocount=0)
    >>> pwm_scores(["AG", "CT", "CCT"], m).tolist()   # AG scores 2+2 bits; CT holds AG on -
    [4.0, 4.0, 4.0]
    """
    check_choice(reduce, "reduce", ("max", "sum"))
    check_choice(strand, "strand", ("both", "forward"))
    check_choice(n_policy, "n_policy", N_POLICIES)
    single = isinstance(motifs, (Motif, str))
    ms = _as_motifs(motifs)
    x = _codes_iv(sequences, n_policy)
    _check_long_enough(x, ms)
    mats: list[tuple[np.ndarray, np.ndarray | None]] = []
    for m in ms:
        lo = m.log_odds
        rev = np.ascontiguousarray(lo[::-1, ::-1]) if strand == "both" else None
        mats.append((lo, rev))
    n = x.shape[0]
    out = np.empty((n, len(mats)))
    with np.errstate(invalid="ignore"):  # -inf + -inf windows of zero-probability bases
        for a in range(0, n, _CHUNK):
            out[a : a + _CHUNK] = _scan_chunk(x[a : a + _CHUNK], mats, reduce)
    return out[:, 0] if single else out


def motif_occurrences(
    sequences: str | Sequence[str],
    motifs: Motif | str | Sequence[Motif | str],
    *,
    threshold: float = 0.8,
    strand: str = "both",
    n_policy: str = "error",
) -> np.ndarray:
    r"""Number of sites per sequence whose relative score reaches ``threshold``.

    The relative score of a window is :math:`(S - S_{\min})/(S_{\max} - S_{\min})`
    in [0, 1] (the JASPAR / TFBS convention, 0.8 = "80 %"). Sites on both strands
    count separately.

    Parameters
    ----------
    sequences : str or sequence of str
        DNA strings; a sequence shorter than a motif has no site of it (count 0).
    motifs : Motif, JASPAR ID, or a sequence of them
        The position weight matrices.
    threshold : float in [0, 1], default 0.8
        Minimal relative score of a site.
    strand : {"both", "forward"}, default "both"
        Count sites on the reverse strand too.
    n_policy : {"error", "neutral"}, default "error"
        ``N`` raises, or scores log-odds 0 at its column.

    Returns
    -------
    ndarray of int64, shape (n,) for one motif or (n, n_motifs)
        Site counts.

    Examples
    --------
    >>> from sciddm.dna import load_jaspar, motif_occurrences
    >>> hnf4a = load_jaspar("MA0114.4")
    >>> site = "TCCAAAGTCCAAA"                      # the consensus
    >>> motif_occurrences(["A" * 20, "TT" + site, "GGTTTGGACTTTGGA" + site], hnf4a).tolist()
    [0, 1, 2]
    """
    threshold = check_scalar(threshold, "threshold", lo=0.0, hi=1.0)
    check_choice(strand, "strand", ("both", "forward"))
    check_choice(n_policy, "n_policy", N_POLICIES)
    single = isinstance(motifs, (Motif, str))
    ms = _as_motifs(motifs)
    x = _encode(_as_list(sequences), n_policy=n_policy, pad=True)
    out = np.zeros((x.shape[0], len(ms)), dtype=np.int64)
    for k, m in enumerate(ms):
        cut = m.min_score + threshold * (m.max_score - m.min_score)
        lo = m.log_odds
        lo = np.where(np.isfinite(lo), lo, -1e9)
        full = np.vstack([lo, np.zeros((1, m.length)), np.full((1, m.length), -np.inf)])
        n_win = x.shape[1] - m.length + 1
        if n_win < 1:
            continue
        mats = [full] + ([full[[3, 2, 1, 0, 4, 5]][:, ::-1]] if strand == "both" else [])
        for mat in mats:
            acc = np.zeros((x.shape[0], n_win))
            for j in range(m.length):
                acc += mat[x[:, j : j + n_win], j]
            out[:, k] += (acc >= cut - 1e-9).sum(axis=1)
    return out[:, 0] if single else out


class MotifReward:
    r"""Weighted motif scores plus GC-content and homopolymer terms.

    .. math:: r(x) = \sum_m w_m S_m(x) - \gamma_{gc} |GC(x) - g^*| - \gamma_h H(x)

    with :math:`S_m` the :func:`pwm_scores` of motif m (max or sum over both strands),
    :math:`GC` the GC fraction and :math:`H` the :func:`homopolymer_penalty`.

    Parameters
    ----------
    motifs : Motif, JASPAR ID or sequence of them, or mapping motif -> weight
        The motifs :math:`m` and their weights :math:`w_m` (1 each unless a mapping).
    reduce : {"max", "sum"}, default "max"
        How :func:`pwm_scores` pools the windows of a sequence.
    gc_target : float in [0, 1], optional
        Target GC fraction :math:`g^*` (needed when ``gc_weight`` is non-zero).
    gc_weight : float, default 0
        :math:`\gamma_{gc}`.
    homopolymer_weight : float, default 0
        :math:`\gamma_h`.
    max_run : int, default 6
        Allowed homopolymer run (see :func:`homopolymer_penalty`).
    n_policy : {"error", "neutral"}, default "error"
        How ``N`` is treated (see :func:`encode_dna`).

    Attributes
    ----------
    motifs : list of Motif
    weights : ndarray of float64
    calls : int
        Sequences scored so far (the reward cost guided samplers report).

    Examples
    --------
    >>> from sciddm.dna import MotifReward
    >>> reward = MotifReward({"MA0114.4": 1.0, "MA0046": 0.5}, gc_target=0.5, gc_weight=2.0)
    >>> r = reward(["TTTCCAAAGTCCAAATTT" * 3, "A" * 54])   # 3 HNF4A sites / none
    >>> r.round(2).tolist()
    [17.23, -12.51]
    """

    def __init__(
        self,
        motifs: Motif | str | Sequence[Motif | str] | Mapping[Motif | str, float],
        *,
        reduce: str = "max",
        gc_target: float | None = None,
        gc_weight: float = 0.0,
        homopolymer_weight: float = 0.0,
        max_run: int = 6,
        n_policy: str = "error",
    ) -> None:
        if isinstance(motifs, Mapping):
            items = list(motifs.items())
        elif isinstance(motifs, (Motif, str)):
            items = [(motifs, 1.0)]
        else:
            items = [(m, 1.0) for m in _as_motifs(motifs)]
        self.motifs = _as_motifs([m for m, _ in items])
        self.weights = np.array(
            [check_scalar(w, f"motifs[{i}] weight") for i, (_, w) in enumerate(items)]
        )
        self.reduce = check_choice(reduce, "reduce", ("max", "sum"))
        self.gc_target = (
            None if gc_target is None else check_scalar(gc_target, "gc_target", lo=0, hi=1)
        )
        self.gc_weight = check_scalar(gc_weight, "gc_weight")
        if self.gc_weight and self.gc_target is None:
            raise ValueError("`gc_target` must be given when `gc_weight` is non-zero")
        self.homopolymer_weight = check_scalar(homopolymer_weight, "homopolymer_weight")
        self.max_run = check_int(max_run, "max_run", lo=1)
        self.n_policy = check_choice(n_policy, "n_policy", N_POLICIES)
        self.calls = 0

    def __call__(self, sequences: str | Sequence[str]) -> np.ndarray:
        """Rewards of a batch of DNA strings (float64 array, one per sequence).

        Parameters
        ----------
        sequences : str or sequence of str
            DNA strings at least as long as the widest motif.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        seqs = _as_list(sequences)
        x = _encode(seqs, n_policy=self.n_policy, pad=True)
        s = pwm_scores(x, self.motifs, reduce=self.reduce, n_policy=self.n_policy)
        r = s @ self.weights
        if self.gc_weight:
            assert self.gc_target is not None
            r = r - self.gc_weight * np.abs(
                gc_content(seqs, n_policy=self.n_policy) - self.gc_target
            )
        if self.homopolymer_weight:
            h = homopolymer_penalty(seqs, max_run=self.max_run, n_policy=self.n_policy)
            r = r - self.homopolymer_weight * h
        self.calls += len(seqs)
        return np.asarray(r, dtype=np.float64)

    def __repr__(self) -> str:
        ids = ", ".join(f"{m.matrix_id}:{w:g}" for m, w in zip(self.motifs, self.weights))
        return f"MotifReward({ids}, reduce={self.reduce!r})"
