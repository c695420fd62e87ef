"""Sampling split over processes or GPUs: sample i depends only on seeds[i]."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_int
from sciddm.discrete._sampling._categorical import RowGenerator
from sciddm.discrete._sampling._sample import SampleResult, sample

__all__ = ["merge_rank_results", "sample_distributed", "split_seeds"]


def split_seeds(seeds: Sequence[int] | np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Seeds of ``rank`` among ``world_size`` processes: ``seeds[rank::world_size]``.

    Parameters
    ----------
    seeds : sequence of int
        All per-sample seeds (data; see :func:`~sciddm.discrete.sample`).
    rank : int
        This process, in ``[0, world_size)``.
    world_size : int
        Number of processes (>= 1).

    Returns
    -------
    ndarray of int64
        This process's seeds.

    Examples
    --------
    >>> from sciddm.discrete import split_seeds
    >>> split_seeds(range(7), 1, 3).tolist()
    [1, 4]
    """
    w = check_int(world_size, "world_size", lo=1)
    r = check_int(rank, "rank", lo=0, hi=w - 1)
    return _seed_array(seeds)[r::w]


def _seed_array(seeds: Any) -> np.ndarray:
    if isinstance(seeds, (str, bytes)) or not np.iterable(seeds):
        raise TypeError(f"`seeds` must be a sequence of integers, got {type(seeds).__name__}")
    return np.asarray(RowGenerator(list(np.ravel(np.asarray(seeds, dtype=object)))).seeds)


def merge_rank_results(results: Sequence[SampleResult]) -> SampleResult:
    """Reassemble the per-rank results of :func:`sample_distributed` in seed order.

    Parameters
    ----------
    results : sequence of SampleResult
        ``results[r]`` holds the seeds ``seeds[r::len(results)]``.

    Returns
    -------
    SampleResult
        All rows in seed order; ``n_calls`` and ``wall_time`` are the maxima
        over ranks (they ran in parallel).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, merge_rank_results, sample
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2, length=4)
    >>> parts = [sample(m, 2, seeds=[0, 2]), sample(m, 1, seeds=[1])]
    >>> merge_rank_results(parts).seeds.tolist()
    [0, 1, 2]
    """
    if isinstance(results, (str, bytes)) or not np.iterable(results):
        raise TypeError(f"`results` must be a sequence of SampleResult, got {results!r}")
    results = list(results)
    w = len(results)
    if w == 0:
        raise ValueError("`results` must not be empty")
    for item in results:
        if not isinstance(item, SampleResult):
            raise TypeError(f"`results` must hold SampleResult objects, got {type(item).__name__}")
    sizes = [len(item.tokens) for item in results]
    if (
        any(b > a or a - b > 1 for a, b in zip(sizes, sizes[1:]))
        or len({item.tokens.shape[1] for item in results}) > 1
    ):
        raise ValueError(
            f"`results` do not come from one split of seeds (sizes {sizes}); pass the results "
            "of sample_distributed for ranks 0, 1, ... in order"
        )
    n = sum(sizes)
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

    Parameters
    ----------
    model : Denoiser
        The model (on this process's device).
    seeds : sequence of int
        All per-sample seeds (data, not a random source).
    rank, world_size : int, optional
        This process and the number of processes; default those of the
        initialised :mod:`torch.distributed` group, else 0 and 1.
    gather : bool, default True
        Exchange and merge the results of all processes (with a group).
    **kwargs
        Passed to :func:`~sciddm.discrete.sample` (not ``n``, ``seeds`` or ``rng``).

    Returns
    -------
    SampleResult
        This process's rows, or all rows in seed order when gathered.

    Notes
    -----
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
    seeds = _seed_array(seeds)
    world_size = check_int(world_size, "world_size", lo=1)
    rank = check_int(rank, "rank", lo=0, hi=world_size - 1)
    for bad in ("n", "seeds", "rng", "generator"):
        if bad in kwargs:
            raise TypeError(f"sample_distributed() takes the seeds; `{bad}` is not accepted")
    if world_size > len(seeds):
        raise ValueError(f"`world_size` ({world_size}) exceeds the number of seeds ({len(seeds)})")
    mine = split_seeds(seeds, rank, world_size)
    res = sample(model, len(mine), seeds=mine, **kwargs)
    if gather and initialised and world_size > 1:
        parts: list[Any] = [None] * world_size
        dist.all_gather_object(parts, res)
        return merge_rank_results(parts)
    return res
