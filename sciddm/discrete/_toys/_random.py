"""A random-weight denoiser for cost measurements."""

from __future__ import annotations

from typing import Any

import torch

from sciddm._core.rng import UNSET, RNGLike, check_rng, renamed_rng, torch_init
from sciddm._core.validation import check_int

__all__ = ["RandomDenoiser"]


class RandomDenoiser(torch.nn.Module):
    r"""A transformer-free random-weight denoiser for cost measurements.

    Token + position embeddings, one mixing layer with a mean-pooled context,
    and an output projection to ``vocab_size`` logits. Time-agnostic. Its cost
    per call, :math:`O(n L d (d + V))`, is that of a small transformer's output head.

    Parameters
    ----------
    vocab_size : int
        Number of ids, [MASK] (the last one) included (2 to 2**24).
    length : int
        Longest sequence length (1 to 2**20).
    width : int, default 64
        Hidden width :math:`d` (1 to 8192).
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source of the weights (``None``: torch's default generator);
        the same ``rng`` gives the same weights.
    seed : int, optional
        Deprecated spelling of ``rng``.

    Attributes
    ----------
    vocab_size, mask_id, length, time_conditioned
        The denoiser protocol (``mask_id = vocab_size - 1``).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete.toys import RandomDenoiser
    >>> m = RandomDenoiser(5, 8, width=16, rng=0)
    >>> m(torch.full((2, 8), m.mask_id)).shape
    torch.Size([2, 8, 5])
    >>> bool(torch.equal(m.out, RandomDenoiser(5, 8, width=16, rng=0).out))
    True
    """

    def __init__(
        self,
        vocab_size: int,
        length: int,
        *,
        width: int = 64,
        rng: RNGLike = None,
        seed: Any = UNSET,
    ) -> None:
        super().__init__()
        rng = renamed_rng(rng, seed, "seed", func="RandomDenoiser")
        check_rng(rng, torch_ok=True)
        vocab_size = check_int(vocab_size, "vocab_size", lo=2, hi=2**24)
        length = check_int(length, "length", lo=1, hi=2**20)
        width = check_int(width, "width", lo=1, hi=8192)
        self.vocab_size, self.mask_id, self.length = vocab_size, vocab_size - 1, length
        self.time_conditioned = False
        with torch_init(rng):
            self.emb = torch.nn.Parameter(torch.randn(vocab_size, width) / 4)
            self.pos = torch.nn.Parameter(torch.randn(length, width) / 4)
            self.mix = torch.nn.Parameter(torch.randn(width, width) / width**0.5)
            self.out = torch.nn.Parameter(torch.randn(width, vocab_size) * 2 / width**0.5)

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (n, L, vocab_size) of the ids ``x`` (n, L)."""
        if x.ndim != 2 or x.shape[1] > self.length:
            raise ValueError(f"`x` must have shape (n, L <= {self.length}), got {tuple(x.shape)}")
        h = self.emb[x] + self.pos[: x.shape[1]]
        h = h + torch.tanh((h + h.mean(1, keepdim=True)) @ self.mix)
        return h @ self.out
