"""Best-of-N: the best of N pretrained samples by reward."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_int
from sciddm.discrete._guidance._common import (
    GuidanceResult,
    RewardFn,
    _decode,
    _seeds_iv,
    child_seeds,
)
from sciddm.discrete._protocol import model_info
from sciddm.discrete._sampling import sample

__all__ = ["best_of_n"]


def best_of_n(
    model: Any,
    reward: Callable[[Any], Any],
    n: int,
    *,
    N: int,
    length: int | None = None,
    method: str = "fhs",
    steps: int | None = None,
    seeds: Sequence[int] | np.ndarray | None = None,
    rng: Any = None,
    device: Any = None,
    batch_size: int | None = None,
    decode: bool | None = None,
    progress: bool = False,
) -> GuidanceResult:
    """Best of ``N`` pretrained samples by reward, ``n`` times.

    Parameters
    ----------
    model : Denoiser
    reward : callable
        ``reward(batch)`` with ``batch`` the decoded strings (when the model
        has a tokenizer and ``decode`` is not False) or an int64 array (m, L)
        of ids; returns m finite floats.
    n : int
        Number of returned samples.
    N : int
        Candidates per returned sample (``N = 1``: the pretrained model).
    length, method, steps
        Passed to :func:`~sciddm.discrete.sample`.
    seeds : sequence of int, optional
        One per returned sample; the ``N`` candidates of sample ``i`` use
        seeds derived from ``seeds[i]``.
    rng : seed-like or torch.Generator, optional
        Source of ``seeds`` when not given.
    device, batch_size, progress
        ``batch_size`` counts candidate sequences per network batch.
    decode : bool, optional

    Returns
    -------
    GuidanceResult
        ``reward_calls`` is ``N`` per sample.

    Notes
    -----
    If ``F`` is the CDF of ``r(X)``, ``X ~ p^pre``, the reward of the output
    has CDF ``F^N`` and the output's law is
    ``P(Y = y) = p(y) [F(r_y)^N - F(r_y^-)^N] / P(r(X) = r_y)`` (ties broken
    by the first candidate, which is uniform among tied ones).

    References
    ----------
    .. [1] Li et al., "Derivative-free guidance in continuous and discrete
       diffusion models with soft value-based decoding", arXiv:2408.08252
       (2024), Sec. 6 (baseline "Best-of-N").

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel
    >>> from sciddm.discrete import best_of_n
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> res = best_of_n(m, lambda x: x.sum(1), 4, N=8, length=6, seeds=range(4))
    >>> res.tokens.shape, res.reward_calls.tolist()
    ((4, 6), [8, 8, 8, 8])
    >>> bool((res.rewards >= 3).all())
    True
    """
    info = model_info(model)
    n = check_int(n, "n", lo=1)
    N = check_int(N, "N", lo=1)
    rf = RewardFn(reward, getattr(model, "tokenizer", None), decode)
    seed_arr = _seeds_iv(n, seeds, rng)
    inner = np.concatenate([child_seeds(s, N) for s in seed_arr])
    t0 = time.perf_counter()
    res = sample(
        model,
        n * N,
        length=length,
        method=method,
        steps=steps,
        seeds=inner,
        device=device,
        batch_size=batch_size,
        progress=progress,
    )
    toks = torch.as_tensor(res.tokens)
    r = rf(toks).cpu().numpy().reshape(n, N)
    best = r.argmax(1)
    tokens = res.tokens.reshape(n, N, -1)[np.arange(n), best]
    wall = time.perf_counter() - t0
    del info
    return GuidanceResult(
        tokens=tokens,
        texts=_decode(model, tokens),
        rewards=r[np.arange(n), best],
        nfe=res.nfe.reshape(n, N).sum(1),
        reward_calls=np.full(n, N, dtype=np.int64),
        value_calls=np.zeros(n, dtype=np.int64),
        n_calls=res.n_calls,
        wall_time=wall,
        seeds=seed_arr,
        method="best-of-n" if N > 1 else "pretrained",
        params={"N": N, "sampler": method, "steps": res.steps},
    )
