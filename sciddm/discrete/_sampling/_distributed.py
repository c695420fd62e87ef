"""Sampling split over processes or GPUs: sample i depends only on seeds[i]."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_int
from sciddm.discrete._sampling._sample import SampleResult, sample

__all__ = ["merge_rank_results", "sample_distributed", "split_seeds"]


def split_seeds(seeds: Sequence[int] | np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Seeds of ``rank`` among ``world_size`` processes: ``seeds[rank::world_size]``.

    Examples
    --------
    >>> from sciddm.discrete import split_seeds
    >>> split_seeds(range(7), 1, 3).tolist()
    [1, 4]
    """
    w = check_int(world_size, "world_size", lo=1)
    r = check_int(rank, "rank", lo=0, hi=w - 1)
    return np.asarray(seeds, dtype=np.int64)[r::w]


def merge_rank_results(results: Sequence[SampleResult]) -> SampleResult:
    """Reassemble the per-rank results of :func:`sample_distributed` in seed order.

    ``results[r]`` must hold the seeds ``seeds[r::len(results)]``.
    """
    w = len(results)
    if w == 0:
        raise ValueError("`results` must not be empty")
    n = sum(len(r.tokens) for r in results)
    first = results[0]
    tokens = np.empty((n, first.tokens.shape[1]), dtype=np.int64)
    times = np.empty((n, first.tokens.shape[1]))
    seeds = np.empty(n, dtype=np.int64)
    nfe = np.empty(n, dtype=np.int64)
    texts: list[str] | None = [""] * n if all(r.texts is not None for r in results) else None
    for r, res in enumerate(results):
        tokens[r::w], times[r::w], seeds[r::w], nfe[r::w] = (
            res.tokens,
            res.unmask_times,
            res.seeds,
            res.nfe,
        )
        if texts is not None and res.texts is not None:
            for j, s in enumerate(res.texts):
                texts[r + j * w] = s
    return dataclasses.replace(
        first,
        tokens=tokens,
        texts=texts,
        nfe=nfe,
        unmask_times=times,
        seeds=seeds,
        n_calls=max(r.n_calls for r in results),
        wall_time=max(r.wall_time for r in results),
    )


def sample_distributed(
    model: Any,
    seeds: Sequence[int] | np.ndarray,
    *,
    rank: int | None = None,
    world_size: int | None = None,
    gather: bool = True,
    **kwargs: Any,
) -> SampleResult:
    """Sample ``seeds`` split across processes (one GPU each); sample i depends only on seeds[i].

    Each process samples ``seeds[rank::world_size]`` with :func:`sample`. With
    an initialised :mod:`torch.distributed` group, ``rank`` and ``world_size``
    default to the group's and, with ``gather``, the results are exchanged
    with ``all_gather_object`` and merged by :func:`merge_rank_results`, so
    every process returns the same rows as one process sampling all seeds.
    ``kwargs`` go to :func:`sample` (``device`` is typically ``f"cuda:{local_rank}"``).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, merge_rank_results, sample, sample_distributed
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 5), vocab_size=5, mask_id=4)
    >>> parts = [sample_distributed(m, range(10), rank=r, world_size=3, length=6) for r in range(3)]
    >>> whole = sample(m, 10, length=6, seeds=range(10))
    >>> bool((merge_rank_results(parts).tokens == whole.tokens).all())
    True
    """
    dist = torch.distributed
    initialised = dist.is_available() and dist.is_initialized()
    if rank is None:
        rank = dist.get_rank() if initialised else 0
    if world_size is None:
        world_size = dist.get_world_size() if initialised else 1
    seeds = np.asarray(list(seeds), dtype=np.int64)
    if world_size > len(seeds):
        raise ValueError(f"`world_size` ({world_size}) exceeds the number of seeds ({len(seeds)})")
    mine = split_seeds(seeds, rank, world_size)
    res = sample(model, len(mine), seeds=mine, **kwargs)
    if gather and initialised and world_size > 1:
        parts: list[Any] = [None] * world_size
        dist.all_gather_object(parts, res)
        return merge_rank_results(parts)
    return res
