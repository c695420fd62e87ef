"""Seeded train/validation splits and token-id datasets."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_scalar
from sciddm.discrete._data._sequences import as_str_list

__all__ = ["Split", "TokenDataset", "train_val_split"]


@dataclasses.dataclass(frozen=True, repr=False)
class Split(Result):
    """A seeded train/validation split: the items and their indices in the input.

    Attributes
    ----------
    train, val : list
        The two parts, in input order.
    train_index, val_index : ndarray of int
        Their indices in the input.

    Examples
    --------
    >>> from sciddm.discrete import train_val_split
    >>> s = train_val_split(["a", "b", "c", "d"], val_fraction=0.25, rng=1)
    >>> len(s.train), s.val_index.shape
    (3, (1,))
    """

    train: list[Any]
    val: list[Any]
    train_index: np.ndarray
    val_index: np.ndarray


def train_val_split(items: Sequence[Any], *, val_fraction: float = 0.1, rng: SeedLike = 0) -> Split:
    """Split ``items`` at random into train and validation parts.

    The split depends only on ``len(items)``, ``val_fraction`` and ``rng``;
    the validation part has ``max(1, round(val_fraction * n))`` items (none
    when ``val_fraction == 0``) and the train part keeps at least one.

    Parameters
    ----------
    items : sequence
        What to split (not empty).
    val_fraction : float, default 0.1
        Fraction held out, in [0, 1).
    rng : None, int or numpy.random.Generator, default 0
        Random source of the permutation.

    Returns
    -------
    Split
        The two parts, in their original order, and their indices.

    Examples
    --------
    >>> from sciddm.discrete import train_val_split
    >>> s = train_val_split(list("abcdefghij"), val_fraction=0.2, rng=0)
    >>> len(s.train), len(s.val), sorted(s.train + s.val) == list("abcdefghij")
    (8, 2, True)
    """
    if isinstance(items, (str, bytes)) or not np.iterable(items):
        raise TypeError(f"`items` must be a sequence, got {type(items).__name__}")
    items = list(items)
    n = len(items)
    if n == 0:
        raise ValueError("`items` must not be empty")
    val_fraction = check_scalar(val_fraction, "val_fraction", lo=0.0, hi=1.0, closed="left")
    n_val = 0 if val_fraction == 0 else max(1, int(round(val_fraction * n)))
    if n_val >= n:
        raise ValueError(
            f"`val_fraction` = {val_fraction} leaves no training data out of {n} items"
        )
    perm = as_generator(rng).permutation(n)
    vi, ti = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return Split(
        train=[items[i] for i in ti], val=[items[i] for i in vi], train_index=ti, val_index=vi
    )


class TokenDataset(torch.utils.data.Dataset):
    """Token ids of fixed-length sequences as a map-style torch dataset.

    Stored compactly (``int16`` when the vocabulary allows); items are
    ``int64`` tensors of shape ``(L,)``.

    Parameters
    ----------
    sequences : sequence of str
        The sequences (not empty).
    tokenizer : SmilesTokenizer or DnaTokenizer
        Must have a fixed ``length`` or every sequence the same length.

    Attributes
    ----------
    ids : Tensor (n, L)
        The encoded sequences.
    tokenizer : object
        The tokenizer.

    Examples
    --------
    >>> from sciddm.discrete import DnaTokenizer, TokenDataset
    >>> ds = TokenDataset(["ACGT", "TTGA"], DnaTokenizer(length=4))
    >>> len(ds), ds[1].tolist()
    (2, [3, 3, 2, 0])
    """

    def __init__(self, sequences: Sequence[str], tokenizer: Any) -> None:
        if not (hasattr(tokenizer, "encode_batch") and hasattr(tokenizer, "vocab_size")):
            raise TypeError(
                f"`tokenizer` must have `encode_batch` and `vocab_size`, got {type(tokenizer).__name__}"
            )
        seqs = as_str_list(sequences, "sequences")
        if not seqs:
            raise ValueError("`sequences` is empty: no data to train or evaluate on")
        ids = tokenizer.encode_batch(seqs)
        dtype = torch.int16 if tokenizer.vocab_size < 2**15 else torch.int32
        self.ids = torch.from_numpy(ids).to(dtype)
        self.tokenizer = tokenizer

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __getitem__(self, i: Any) -> torch.Tensor:
        return self.ids[i].long()

    @property
    def length(self) -> int:
        """Sequence length ``L``."""
        return int(self.ids.shape[1])
