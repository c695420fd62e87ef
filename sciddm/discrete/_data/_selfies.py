"""SELFIES tokenizer: SMILES in, SELFIES symbols as tokens, canonical SMILES out.

SELFIES (Krenn et al., 2020) writes a molecule as a string of bracketed symbols
whose grammar keeps every atom within its valence: *any* string of symbols of
the alphabet decodes to a molecule. A masked diffusion model trained on SELFIES
tokens therefore samples only valid molecules, by construction (a string with no
atom symbol decodes to the empty molecule, see :class:`SelfiesTokenizer`).
Needs the ``selfies`` package (extra ``chem``) and RDKit for canonical SMILES.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from sciddm._core.extras import require
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._data._sequences import SequenceData, _quiet_rdkit, as_str_list
from sciddm.discrete._data._tokenizers import MASK, PAD, _Tokenizer

__all__ = ["SelfiesTokenizer", "selfies_training_data"]

logger = logging.getLogger(__name__)

_SYMBOL = re.compile(r"\[[^\[\]]+\]|\.")  # a bracketed symbol, or "." between fragments


def _sf() -> Any:
    return require("selfies", "chem", purpose="SELFIES tokens")


def _to_selfies(sf: Any, smiles: str, name: str) -> str:
    """The SELFIES string of ``smiles``; ValueError naming ``name`` when it cannot be encoded."""
    if not smiles.strip():
        raise ValueError(f"`{name}` is an empty SMILES string, which SELFIES cannot encode")
    try:
        out = sf.encoder(smiles, strict=True)
    except sf.EncoderError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise ValueError(
            f"`{name}` = {smiles[:80]!r}: cannot encode this SMILES as SELFIES ({reason})"
        ) from None
    if out is None:  # pragma: no cover - selfies < 2 returned None
        raise ValueError(f"`{name}` = {smiles[:80]!r}: cannot encode this SMILES as SELFIES")
    return str(out)


class SelfiesTokenizer(_Tokenizer):
    """SELFIES tokenizer with [PAD] and [MASK]: encodes SMILES, decodes canonical SMILES.

    Parameters
    ----------
    vocab : sequence of str
        The SELFIES symbols (ids ``0 .. len(vocab)-1``), such as ``"[C]"``,
        ``"[=O]"``, ``"[Branch1]"``, ``"[Ring1]"`` (and ``"."`` between the
        fragments of a salt); [PAD] and [MASK] follow.
        Each must be one symbol that the SELFIES decoder reads. Build it from
        data with :meth:`from_smiles`.
    length : int, optional
        Fixed length of encoded rows (right-padded with [PAD]).

    Attributes
    ----------
    symbols : tuple of str
        The SELFIES symbols (``vocab``).
    length : int or None
        The fixed row length.

    Notes
    -----
    :meth:`encode` takes a SMILES string, writes it in SELFIES (Kekulé form,
    ``selfies.encoder``) and returns the ids of its symbols. :meth:`decode`
    drops [PAD] (and [MASK], so that a partly masked row decodes to the
    molecule of its visible symbols), decodes the symbols with
    ``selfies.decoder`` and returns RDKit's canonical SMILES of the result.

    Validity by construction: the SELFIES grammar derives every atom's bonds
    from the valence left to it, so *every* sequence of symbols of the
    vocabulary decodes to a valid molecule (Krenn et al. 2020, Sec. 2). The
    one exception is a sequence without an atom symbol (only [PAD], branch
    and ring symbols), which decodes to the empty string ``""`` — no molecule;
    it is reported as such, never replaced.

    Round trip: ``decode(encode(s))`` is the canonical SMILES of ``s`` for
    almost every molecule; for a few fused aromatic systems RDKit perceives
    the aromaticity of the Kekulé form differently, and the canonical string
    differs while the molecule (its InChIKey) is the same.

    References
    ----------
    .. [1] M. Krenn, F. Häse, A. Nigam, P. Friederich, A. Aspuru-Guzik,
       "Self-referencing embedded strings (SELFIES): A 100% robust molecular
       string representation", Mach. Learn.: Sci. Technol. 1 (2020) 045024.

    Examples
    --------
    >>> from sciddm.discrete import SelfiesTokenizer
    >>> tok = SelfiesTokenizer.from_smiles(["CCO", "c1ccccc1Cl"], length=10)
    >>> tok.symbols
    ('[=Branch1]', '[=C]', '[C]', '[Cl]', '[O]', '[Ring1]')
    >>> ids = tok.encode_batch(["OCC"])
    >>> ids.shape, tok.decode_batch(ids)
    ((1, 10), ['CCO'])
    >>> tok.decode([tok.stoi["[Ring1]"], tok.stoi["[C]"], tok.stoi["[=C]"], tok.pad_id])
    'C=C'
    """

    kind = "selfies"

    def __init__(self, vocab: Sequence[str], *, length: int | None = None) -> None:
        if isinstance(vocab, (str, bytes)) or not np.iterable(vocab):
            raise TypeError(
                f"`vocab` must be a sequence of SELFIES symbols, got {type(vocab).__name__}"
            )
        self.symbols = tuple(vocab)
        if not self.symbols:
            raise ValueError("`vocab` must not be empty")
        sf = _sf()
        for v in self.symbols:
            if not isinstance(v, str):
                raise TypeError(f"`vocab` must hold str symbols, got {v!r}")
            if not _SYMBOL.fullmatch(v) or v in (PAD, MASK):
                raise ValueError(
                    f"`vocab` must hold single SELFIES symbols such as '[C]', got {v!r}"
                )
            try:
                sf.decoder(v)
            except sf.DecoderError:
                raise ValueError(
                    f"`vocab` holds {v!r}, which the SELFIES decoder does not read"
                ) from None
        self.specials = (PAD, MASK)
        self.length = None if length is None else check_int(length, "length", lo=1)
        # SMILES -> SELFIES computed by from_smiles, consumed (popped) by encode
        self._memo: dict[str, str] = {}
        self._build()

    @classmethod
    def from_smiles(
        cls, smiles: Iterable[str], *, length: int | None = None, extra: Iterable[str] = ()
    ) -> SelfiesTokenizer:
        """Build the vocabulary from the SELFIES symbols of ``smiles`` (sorted), plus ``extra``.

        Parameters
        ----------
        smiles : iterable of str
            Training molecules (SMILES).
        length : int, optional
            Fixed length of encoded rows.
        extra : iterable of str, default ()
            SELFIES symbols to add even if absent from ``smiles``.

        Returns
        -------
        SelfiesTokenizer
            Its first :meth:`encode` of each of ``smiles`` reuses the SELFIES
            string computed here (the encoder is the slow part).

        Raises
        ------
        ValueError
            If ``smiles`` is empty or holds a SMILES that SELFIES cannot
            encode (the message names it).

        Examples
        --------
        >>> from sciddm.discrete import SelfiesTokenizer
        >>> SelfiesTokenizer.from_smiles(["C=O"], extra=["[N]"]).symbols
        ('[=O]', '[C]', '[N]')
        """
        seqs = as_str_list(smiles, "smiles")
        if isinstance(extra, (str, bytes)) or not np.iterable(extra):
            raise TypeError(f"`extra` must be a sequence of symbols, got {type(extra).__name__}")
        if not seqs:
            raise ValueError("`smiles` must not be empty")
        sf = _sf()
        seen: set[str] = set(extra)
        memo: dict[str, str] = {}
        for i, s in enumerate(seqs):
            enc = _to_selfies(sf, s, f"smiles[{i}]")
            memo[s] = enc
            seen.update(sf.split_selfies(enc))
        tok = cls(sorted(seen), length=length)
        tok._memo = memo
        return tok

    def to_selfies(self, smiles: str) -> str:
        """The SELFIES string of a SMILES string (as :meth:`encode` tokenises it).

        Parameters
        ----------
        smiles : str
            A molecule.

        Returns
        -------
        str

        Examples
        --------
        >>> from sciddm.discrete import SelfiesTokenizer
        >>> SelfiesTokenizer(["[C]", "[O]"]).to_selfies("OC")
        '[O][C]'
        """
        if not isinstance(smiles, str):
            raise TypeError(f"`smiles` must be a str, got {type(smiles).__name__}")
        hit = self._memo.pop(smiles, None)
        return hit if hit is not None else _to_selfies(_sf(), smiles, "smiles")

    def _symbols_of(self, text: str) -> list[str]:
        hit = self._memo.pop(text, None)
        enc = hit if hit is not None else _to_selfies(_sf(), text, "text")
        return list(_sf().split_selfies(enc))

    def decode_selfies(self, ids: Iterable[int]) -> str:
        """The SELFIES string of ``ids`` ([PAD] and [MASK] dropped), before decoding.

        Parameters
        ----------
        ids : sequence of int
            Token ids.

        Returns
        -------
        str

        Examples
        --------
        >>> from sciddm.discrete import SelfiesTokenizer
        >>> tok = SelfiesTokenizer(["[C]", "[O]"])
        >>> tok.decode_selfies([0, 1, tok.pad_id, tok.mask_id])
        '[C][O]'
        """
        return self._join_symbols(self._symbol_list(ids))

    def _symbol_list(self, ids: Iterable[int]) -> list[str]:
        """The symbols of ``ids`` ([PAD] dropped, [MASK] kept), checked as in ``decode``."""
        if isinstance(ids, (str, bytes)) or not np.iterable(ids):
            raise TypeError(f"`ids` must be a sequence of token ids, got {type(ids).__name__}")
        out = []
        for i in ids:
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"`ids` must hold integer token ids, got {i!r}")
            if int(i) == self.pad_id:
                continue
            if not 0 <= int(i) < self.vocab_size:
                raise ValueError(f"`ids` must hold ids in [0, {self.vocab_size}), got {int(i)}")
            out.append(self.itos[int(i)])
        return out

    @staticmethod
    def _join_symbols(symbols: list[str]) -> str:
        return "".join(s for s in symbols if s != MASK)

    def _join(self, symbols: list[str]) -> str:
        text = self._join_symbols(symbols)
        if not text:
            return ""
        smiles = _sf().decoder(text)
        if not smiles:
            return ""
        Chem = require("rdkit.Chem", "chem", purpose="canonical SMILES")
        with _quiet_rdkit():
            mol = Chem.MolFromSmiles(smiles)
        # a decoder output RDKit cannot read is returned as is (and counts as invalid)
        return str(smiles) if mol is None else str(Chem.MolToSmiles(mol))

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"kind": "selfies", "vocab": [...], "length": ...}``.

        Returns
        -------
        dict
        """
        return {"kind": "selfies", "vocab": list(self.symbols), "length": self.length}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SelfiesTokenizer:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            ``tokenizer.to_dict()``.

        Returns
        -------
        SelfiesTokenizer
        """
        return cls(d["vocab"], length=d.get("length"))


def selfies_training_data(
    data: SequenceData, *, length: int | None, invalid: str
) -> tuple[SelfiesTokenizer, SequenceData, list[int]]:
    """The tokenizer, the SMILES SELFIES can encode, and their lengths in symbols.

    ``invalid="skip"`` drops (and counts in ``n_invalid``) the molecules the
    SELFIES encoder rejects; ``"error"`` raises ValueError naming the first.
    The tokenizer's ``length`` is ``length`` or the longest SELFIES.
    """
    check_choice(invalid, "invalid", ("skip", "error"))
    if data.kind != "smiles":
        raise ValueError(
            f"`tokenizer`='selfies' needs SMILES data, but the data is {data.kind!r}; "
            "use tokenizer='auto'"
        )
    sf = _sf()
    kept: list[str] = []
    vals: list[float] = []
    memo: dict[str, str] = {}
    lengths: list[int] = []
    seen: set[str] = set()
    for i, s in enumerate(data.sequences):
        try:
            enc = _to_selfies(sf, s, f"data[{i}]")
        except ValueError as exc:
            if invalid == "error":
                raise ValueError(f"{exc}; pass invalid='skip' to drop such molecules") from None
            continue
        symbols = list(sf.split_selfies(enc))
        seen.update(symbols)
        memo[s] = enc
        kept.append(s)
        lengths.append(len(symbols))
        if data.values is not None:
            vals.append(float(data.values[i]))
    dropped = len(data.sequences) - len(kept)
    if dropped:
        logger.info("%s: %d molecules SELFIES cannot encode were dropped", data.source, dropped)
    if not kept:
        raise ValueError(f"no molecule of {data.source!r} can be encoded as SELFIES")
    tok = SelfiesTokenizer(
        sorted(seen), length=length if length is not None else max(lengths, default=1)
    )
    tok._memo = memo
    cleaned = SequenceData(
        sequences=kept,
        kind="smiles",
        values=None if data.values is None else np.asarray(vals),
        n_read=data.n_read,
        n_invalid=data.n_invalid + dropped,
        n_duplicates=data.n_duplicates,
        n_too_long=data.n_too_long,
        source=data.source,
    )
    return tok, cleaned, lengths
