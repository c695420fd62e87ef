"""Tokenizers for masked discrete diffusion: SMILES (atom level) and DNA.

Both tokenizers number the ordinary symbols first and the special tokens last,
so that ``mask_id == vocab_size - 1``. They are saved with a model through
:meth:`to_dict` / :func:`tokenizer_from_dict` (plain data, loadable with
``torch.load(..., weights_only=True)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sciddm._core.validation import check_choice, check_int

if TYPE_CHECKING:
    from sciddm.discrete._data._selfies import SelfiesTokenizer

__all__ = [
    "SMILES_REGEX",
    "DnaTokenizer",
    "SmilesTokenizer",
    "split_smiles",
    "tokenizer_from_dict",
]

MASK = "[MASK]"
PAD = "[PAD]"

#: Atom-level SMILES regex of Schwaller et al. (2019): bracket atoms, two-letter
#: halogens, aromatic atoms, bonds, branches, ring closures (``%nn`` and digits).
SMILES_REGEX = (
    r"(\[[^\[\]]+\]|Br|Cl|N|O|S|P|F|I|B|C|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$"
    r"|%[0-9]{2}|[0-9])"
)
_SMILES_RE = re.compile(SMILES_REGEX)


def split_smiles(smiles: str) -> list[str]:
    """Split a SMILES string into atom-level tokens.

    Parameters
    ----------
    smiles : str
        The SMILES string.

    Returns
    -------
    list of str
        Its tokens, by the regex :data:`SMILES_REGEX` of Schwaller et al. (2019).

    Raises
    ------
    ValueError
        If a character is not covered by :data:`SMILES_REGEX`; the message
        names the character and its position.

    Examples
    --------
    >>> from sciddm.discrete import split_smiles
    >>> split_smiles("C[C@@H](Cl)c1ccccc1Br")
    ['C', '[C@@H]', '(', 'Cl', ')', 'c', '1', 'c', 'c', 'c', 'c', 'c', '1', 'Br']
    >>> split_smiles("CC&C")
    Traceback (most recent call last):
    ...
    ValueError: unknown SMILES character '&' at position 2 of 'CC&C'

    References
    ----------
    .. [1] P. Schwaller et al., "Molecular Transformer: A Model for
       Uncertainty-Calibrated Chemical Reaction Prediction", ACS Cent. Sci.
       5 (2019), the tokenisation regex.
    """
    if not isinstance(smiles, str):
        raise TypeError(f"`smiles` must be a str, got {type(smiles).__name__}")
    tokens: list[str] = []
    pos = 0
    for m in _SMILES_RE.finditer(smiles):
        if m.start() != pos:
            raise ValueError(
                f"unknown SMILES character {smiles[pos]!r} at position {pos} of {smiles!r}"
            )
        tokens.append(m.group(0))
        pos = m.end()
    if pos != len(smiles):
        raise ValueError(
            f"unknown SMILES character {smiles[pos]!r} at position {pos} of {smiles!r}"
        )
    return tokens


class _Tokenizer:
    """Shared machinery: a symbol list, special tokens and batch coding."""

    symbols: tuple[str, ...]
    specials: tuple[str, ...]
    length: int | None

    def _build(self) -> None:
        self.itos: tuple[str, ...] = tuple(self.symbols) + tuple(self.specials)
        if len(set(self.itos)) != len(self.itos):
            raise ValueError("`vocab` must not contain duplicates or special tokens")
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included."""
        return len(self.itos)

    @property
    def mask_id(self) -> int:
        """Id of [MASK] (always the last id)."""
        return self.stoi[MASK]

    @property
    def pad_id(self) -> int | None:
        """Id of [PAD], or None when sequences have a fixed length."""
        return self.stoi.get(PAD)

    @property
    def special_ids(self) -> tuple[int, ...]:
        """Ids of the special tokens."""
        return tuple(self.stoi[s] for s in self.specials)

    def _symbols_of(self, text: str) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _join(self, symbols: list[str]) -> str:
        return "".join(symbols)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no padding).

        Raises ValueError naming the symbol and its position when a symbol is
        not in the vocabulary, TypeError when ``text`` is not a str.
        """
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str, got {type(text).__name__}")
        ids = []
        for i, sym in enumerate(self._symbols_of(text)):
            idx = self.stoi.get(sym)
            if idx is None or sym in self.specials:
                raise ValueError(
                    f"unknown symbol {sym!r} at token position {i} of {text!r} "
                    f"(not in this tokenizer's vocabulary of {len(self.symbols)} symbols)"
                )
            ids.append(idx)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The string of ``ids``; [PAD] is dropped and [MASK] is written ``[MASK]``."""
        out = []
        pad = self.pad_id
        if isinstance(ids, (str, bytes)) or not np.iterable(ids):
            raise TypeError(f"`ids` must be a sequence of token ids, got {type(ids).__name__}")
        for i in ids:
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"`ids` must hold integer token ids, got {i!r}")
            i = int(i)
            if i == pad:
                continue
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"`ids` must hold ids in [0, {self.vocab_size}), got {i}")
            out.append(self.itos[i])
        return self._join(out)

    def encode_batch(self, texts: Sequence[str], *, length: int | None = None) -> np.ndarray:
        """Encode ``texts`` into an ``int64`` array of shape ``(n, length)``.

        Parameters
        ----------
        texts : sequence of str
        length : int, optional
            Row length; defaults to the tokenizer's ``length`` and else to the
            longest sequence. Shorter sequences are padded with [PAD] (an error
            when the tokenizer has none); longer ones raise ValueError.
        """
        if isinstance(texts, (str, bytes)) or not np.iterable(texts):
            raise TypeError(f"`texts` must be a sequence of strings, got {type(texts).__name__}")
        texts = list(texts)
        encoded = [self.encode(t) for t in texts]
        if length is None:
            length = self.length
        if length is None:
            length = max((len(e) for e in encoded), default=0)
            if length == 0:
                raise ValueError("`texts` must hold at least one non-empty sequence")
        length = check_int(length, "length", lo=1)
        out = np.empty((len(encoded), length), dtype=np.int64)
        for r, e in enumerate(encoded):
            if len(e) > length:
                raise ValueError(
                    f"sequence {r} has {len(e)} tokens, longer than the context length "
                    f"{length}: {texts[r]!r}; filter it out (e.g. `max_length`) or use a "
                    "longer `length`"
                )
            if len(e) < length:
                if self.pad_id is None:
                    raise ValueError(
                        f"sequence {r} has {len(e)} tokens but the length is {length}, and "
                        f"{type(self).__name__} has no [PAD] token: all sequences must have "
                        "the same length"
                    )
                e = e + [self.pad_id] * (length - len(e))
            out[r] = e
        return out

    def decode_batch(self, ids: Any) -> list[str]:
        """Decode each row of an ``(n, L)`` array or tensor."""
        if hasattr(ids, "detach"):
            ids = ids.detach().cpu().numpy()
        arr = np.asarray(ids)
        if arr.ndim != 2:
            raise ValueError(f"`ids` must have 2 dimensions, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"`ids` must hold integer token ids, got dtype {arr.dtype}")
        return [self.decode(row) for row in arr.tolist()]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Tokenizer) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.itos, self.length))

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, length={self.length}, "
            f"mask_id={self.mask_id}, pad_id={self.pad_id})"
        )


class SmilesTokenizer(_Tokenizer):
    """Atom-level SMILES tokenizer with [PAD] and [MASK].

    Parameters
    ----------
    vocab : sequence of str
        The ordinary tokens (ids ``0 .. len(vocab)-1``); [PAD] and [MASK]
        follow. Build it from data with :meth:`from_smiles`.
    length : int, optional
        Fixed length of encoded rows (molecules are right-padded with [PAD]).

    Notes
    -----
    Tokens follow :data:`SMILES_REGEX` (Schwaller et al., 2019): bracket
    atoms such as ``[C@@H]`` or ``[nH]`` are single tokens, as are ``Cl``,
    ``Br`` and ``%nn`` ring closures. Decoding concatenates the tokens and
    drops [PAD], so ``decode(encode(s)) == s`` for every string made of known
    tokens.

    References
    ----------
    .. [1] P. Schwaller et al., "Molecular Transformer: A Model for
       Uncertainty-Calibrated Chemical Reaction Prediction", ACS Cent. Sci.
       5 (2019), the tokenisation regex.

    Examples
    --------
    >>> from sciddm.discrete import SmilesTokenizer
    >>> tok = SmilesTokenizer.from_smiles(["CCO", "c1ccccc1Cl"], length=12)
    >>> tok.vocab_size, tok.pad_id, tok.mask_id
    (7, 5, 6)
    >>> ids = tok.encode_batch(["CCO"])
    >>> ids.shape
    (1, 12)
    >>> tok.decode_batch(ids)
    ['CCO']
    >>> tok.encode("CCBr")
    Traceback (most recent call last):
    ...
    ValueError: unknown symbol 'Br' at token position 2 of 'CCBr' ...
    """

    kind = "smiles"

    def __init__(self, vocab: Sequence[str], *, length: int | None = None) -> None:
        if isinstance(vocab, (str, bytes)) or not np.iterable(vocab):
            raise TypeError(f"`vocab` must be a sequence of str tokens, got {type(vocab).__name__}")
        self.symbols = tuple(vocab)
        if not self.symbols:
            raise ValueError("`vocab` must not be empty")
        for v in self.symbols:
            if not isinstance(v, str) or not v:
                raise TypeError(f"`vocab` must hold non-empty str tokens, got {v!r}")
        self.specials = (PAD, MASK)
        self.length = None if length is None else check_int(length, "length", lo=1)
        self._build()

    @classmethod
    def from_smiles(
        cls, smiles: Iterable[str], *, length: int | None = None, extra: Iterable[str] = ()
    ) -> SmilesTokenizer:
        """Build the vocabulary from the tokens of ``smiles`` (sorted), plus ``extra``.

        Parameters
        ----------
        smiles : iterable of str
            Training molecules.
        length : int, optional
            Fixed length of encoded rows.
        extra : iterable of str, default ()
            Tokens to add even if absent from ``smiles``.

        Returns
        -------
        SmilesTokenizer
        """
        if isinstance(smiles, (str, bytes)) or not np.iterable(smiles):
            raise TypeError(f"`smiles` must be a sequence of strings, got {type(smiles).__name__}")
        if isinstance(extra, (str, bytes)) or not np.iterable(extra):
            raise TypeError(f"`extra` must be a sequence of tokens, got {type(extra).__name__}")
        seen: set[str] = set(extra)
        n = 0
        for s in smiles:
            seen.update(split_smiles(s))
            n += 1
        if n == 0:
            raise ValueError("`smiles` must not be empty")
        return cls(sorted(seen), length=length)

    def _symbols_of(self, text: str) -> list[str]:
        return split_smiles(text)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"kind": "smiles", "vocab": [...], "length": ...}``."""
        return {"kind": "smiles", "vocab": list(self.symbols), "length": self.length}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SmilesTokenizer:
        """Inverse of :meth:`to_dict`."""
        return cls(d["vocab"], length=d.get("length"))


class DnaTokenizer(_Tokenizer):
    """DNA tokenizer: A, C, G, T (ids 0-3) and [MASK] (id 4); no padding.

    Parameters
    ----------
    length : int, optional
        Fixed sequence length (checked by :meth:`encode_batch`).
    n_policy : {"error", "token"}, default "error"
        What to do with ``N`` (unknown base): ``"error"`` raises ValueError
        naming its position; ``"token"`` adds ``N`` as a fifth symbol (id 4,
        [MASK] becomes 5).

    Notes
    -----
    Input is upper-cased first (soft-masked genomes write repeats in lower
    case). Any other character raises ValueError naming it and its position.

    Examples
    --------
    >>> from sciddm.discrete import DnaTokenizer
    >>> tok = DnaTokenizer()
    >>> tok.encode("ACgT"), tok.vocab_size, tok.mask_id, tok.pad_id
    ([0, 1, 2, 3], 5, 4, None)
    >>> tok.decode([3, 2, 1, 0])
    'TGCA'
    >>> tok.encode("ACNT")
    Traceback (most recent call last):
    ...
    ValueError: unknown symbol 'N' at position 2 of 'ACNT' ...
    >>> DnaTokenizer(n_policy="token").encode("ACNT")
    [0, 1, 4, 3]
    """

    kind = "dna"

    def __init__(self, *, length: int | None = None, n_policy: str = "error") -> None:
        self.n_policy = check_choice(n_policy, "n_policy", ("error", "token"))
        self.symbols = ("A", "C", "G", "T") + (("N",) if n_policy == "token" else ())
        self.specials = (MASK,)
        self.length = None if length is None else check_int(length, "length", lo=1)
        self._build()

    def _symbols_of(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str, got {type(text).__name__}")
        up = text.upper()
        for i, ch in enumerate(up):
            if ch not in self.stoi or ch in self.specials:
                hint = " (pass n_policy='token' to keep N)" if ch == "N" else ""
                raise ValueError(f"unknown symbol {ch!r} at position {i} of {text!r}{hint}")
        return list(up)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; raises ValueError naming an unknown base and its position."""
        return [self.stoi[c] for c in self._symbols_of(text)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"kind": "dna", "length": ..., "n_policy": ...}``."""
        return {"kind": "dna", "length": self.length, "n_policy": self.n_policy}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DnaTokenizer:
        """Inverse of :meth:`to_dict`."""
        return cls(length=d.get("length"), n_policy=d.get("n_policy", "error"))


def tokenizer_from_dict(d: dict[str, Any]) -> SmilesTokenizer | DnaTokenizer | SelfiesTokenizer:
    """Rebuild a tokenizer saved with ``to_dict()``.

    Parameters
    ----------
    d : dict
        ``tokenizer.to_dict()`` of a :class:`SmilesTokenizer`, a
        :class:`~sciddm.discrete.SelfiesTokenizer` or a :class:`DnaTokenizer`.

    Returns
    -------
    SmilesTokenizer, SelfiesTokenizer or DnaTokenizer

    Examples
    --------
    >>> from sciddm.discrete import DnaTokenizer, tokenizer_from_dict
    >>> tokenizer_from_dict(DnaTokenizer(length=8).to_dict())
    DnaTokenizer(vocab_size=5, length=8, mask_id=4, pad_id=None)
    """
    if not isinstance(d, dict):
        raise TypeError(f"`d` must be a dict (tokenizer.to_dict()), got {type(d).__name__}")
    kind = d.get("kind")
    try:
        if kind == "smiles":
            return SmilesTokenizer.from_dict(d)
        if kind == "dna":
            return DnaTokenizer.from_dict(d)
        if kind == "selfies":
            from sciddm.discrete._data._selfies import SelfiesTokenizer

            return SelfiesTokenizer.from_dict(d)
    except KeyError as exc:
        raise ValueError(f"`d` lacks the key {exc} of a {kind} tokenizer") from None
    raise ValueError(
        f"`d` has unknown tokenizer kind {kind!r}; expected 'smiles', 'selfies' or 'dna'"
    )
