"""Best-of-N: the best of N pretrained samples by reward."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.rng import RNGLike
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._guidance._common import (
    GuidanceResult,
    Reward,
    child_seeds,
    guidance_setup,
)
from sciddm.discrete._protocol import Denoiser
from sciddm.discrete._sampling import METHODS, LSDSampler, sample

__all__ = ["best_of_n"]


def best_of_n(
    model: Denoiser,
    reward: Reward,
    n: int,
    *,
    N: int,
    length: int | None = None,
    method: str | LSDSampler = "fhs",
    steps: int | None = None,
    seeds: Sequence[int] | np.ndarray | None = None,
    rng: RNGLike = None,
    device: Any = None,
    batch_size: int | None = None,
    decode: bool | None = None,
    progress: bool = False,
) -> GuidanceResult:
    r"""Best of ``N`` pretrained samples by reward, ``n`` times.

    Parameters
    ----------
    model : Denoiser
        The pretrained masked diffusion model (see :class:`~sciddm.discrete.Denoiser`).
    reward : callable
        ``reward(batch)`` with ``batch`` the decoded strings (when the model
        has a tokenizer and ``decode`` is not False) or an int64 array (m, L)
        of ids; returns m finite floats.
    n : int
        Number of returned samples (>= 1).
    N : int
        Candidates per returned sample (>= 1; ``N = 1`` is the pretrained model).
    length : int, optional
        Sequence length; defaults to ``model.length``.
    method : {"fhs", "ancestral", "cached", "fhs-parallel"} or LSDSampler, default "fhs"
        Sampler of the candidates (see :func:`~sciddm.discrete.sample`; a
        learned :class:`~sciddm.discrete.LSDSampler` brings its own steps).
    steps : int, optional
        Steps of an ancestral ``method`` (default ``length``).
    seeds : sequence of int, optional
        One seed per returned sample (data, not a random source): the ``N``
        candidates of sample ``i`` use seeds derived from ``seeds[i]`` only.
    rng : None, int, numpy.random.Generator, torch.Generator or list of torch.Generator
        Source of the per-sample seeds when ``seeds`` is not given (see
        :func:`~sciddm.discrete.sample`); give ``seeds`` or ``rng``, not both.
    device : str or torch.device, optional
        Defaults to the device of the model's parameters, else CPU.
    batch_size : int, optional
        Candidate sequences per network batch (default all ``n N``).
    decode : bool, optional
        Pass decoded strings to ``reward`` (default: when the model has a tokenizer).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    GuidanceResult
        The best candidate of each sample; ``reward_calls`` is ``N`` per sample.

    Notes
    -----
    If :math:`F` is the CDF of :math:`r(X)`, :math:`X \sim p^{\mathrm{pre}}`,
    the reward of the output has CDF :math:`F^N` and the output's law is

    .. math:: P(Y = y) = p^{\mathrm{pre}}(y)\,
       \frac{F(r_y)^N - F(r_y^-)^N}{P(r(X) = r_y)}

    (ties are broken by the first candidate, which is uniform among tied ones).

    References
    ----------
    .. [1] X. Li et al., "Derivative-free guidance in continuous and discrete
       diffusion models with soft value-based decoding", arXiv:2408.08252
       (2024), Sec. 6 (baseline "Best-of-N").

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, best_of_n
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> res = best_of_n(m, lambda x: x.sum(1), 4, N=8, length=6, seeds=range(4))
    >>> res.tokens.shape, res.reward_calls.tolist()
    ((4, 6), [8, 8, 8, 8])
    >>> bool((res.rewards >= 3).all())
    True
    """
    st = guidance_setup(
        model,
        reward,
        n,
        length=length,
        steps=steps,
        seeds=seeds,
        rng=rng,
        device=device,
        batch_size=batch_size,
        decode=decode,
        progress=progress,
    )
    N = check_int(N, "N", lo=1, hi=1_000_000)
    if not isinstance(method, LSDSampler):  # a learned sampler is checked by sample()
        check_choice(method, "method", METHODS)
    inner = np.concatenate([child_seeds(s, N) for s in st.seeds])
    res = sample(
        model,
        st.n * N,
        length=st.length,
        method=method,
        steps=steps,
        seeds=inner,
        device=st.device,
        batch_size=st.batch_size,
        progress=st.progress,
    )
    r = st.reward(torch.as_tensor(res.tokens)).reshape(st.n, N)
    best = r.argmax(1)
    rows = torch.arange(st.n)
    tokens = torch.as_tensor(res.tokens).reshape(st.n, N, -1)[rows, best]
    return st.result(
        {
            "tokens": [tokens],
            "rewards": [r[rows, best]],
            "nfe": [torch.as_tensor(res.nfe).reshape(st.n, N).sum(1)],
            "reward_calls": [torch.full((st.n,), N)],
            "value_calls": [torch.zeros(st.n)],
        },
        n_calls=res.n_calls,
        method="best-of-n" if N > 1 else "pretrained",
        params={"N": N, "sampler": res.method, "steps": res.steps},
    )
