"""Exact samplers of masked diffusion models: ancestral, cached, first-hitting.

All samplers start from the all-[MASK] sequence at ``t = 1`` and accept any
:class:`~sciddm.discrete.Denoiser`. With a schedule ``alpha_t`` (probability
that a token is clean at time t; log-linear by default) the reverse
transition of one masked position from t to s < t is (MDLM, Sahoo et al.
2024, eq. 7)

.. math::

    q(x_s = v \\mid x_t = \\mathrm{m}) =
        \\frac{\\alpha_s - \\alpha_t}{1 - \\alpha_t}\\, p_\\theta(x_0 = v \\mid x_t),
    \\qquad
    q(x_s = \\mathrm{m} \\mid x_t = \\mathrm{m}) = \\frac{1 - \\alpha_s}{1 - \\alpha_t},

and unmasked positions are copied. The samplers here differ only in how they
simulate this chain; the single-step functions (:func:`denoiser_probs`,
:func:`transition_probs`, :func:`sample_transition`, :func:`predict_x0`) are
public (in :mod:`sciddm.discrete._protocol`) so that guidance methods (SVDD,
SMC) reuse them.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._categorical import (
    RowGenerator,
    _gumbel_argmax32,
    _inverse_cdf,
    draw_seeds,
)
from sciddm.discrete._protocol import (
    ModelInfo,
    call_model,
    model_info,
    resolve_schedule,
    subs_probs,
)

__all__ = [
    "METHODS",
    "SampleResult",
    "merge_rank_results",
    "sample",
    "sample_distributed",
    "split_seeds",
]

logger = logging.getLogger(__name__)

METHODS = ("ancestral", "cached", "fhs", "fhs-parallel")
_DTYPES = {"float64": torch.float64, "float32": torch.float32}


# --------------------------------------------------------------------------- samplers


def _draw(q: torch.Tensor, u: torch.Tensor, precision: str) -> torch.Tensor:
    return _inverse_cdf(q, u) if precision == "float64" else _gumbel_argmax32(q, u)


def _band_draw(
    cdf_src: torch.Tensor,
    where: tuple[torch.Tensor, torch.Tensor] | None,
    pre: torch.Tensor,
    u: torch.Tensor,
    move: float,
    stay: float,
    mid: int,
) -> torch.Tensor:
    """Inverse-CDF draw from ``q = move * p`` on the tokens and ``stay`` on [MASK].

    ``pre`` (M,) is the mass of ``p`` on ids below ``mask_id``. The float64
    CDF of ``p`` of masked position ``j`` is ``cdf_src[j]`` (``where`` None) or
    ``cdf_src[rows[j], cols[j]]`` (``where = (rows, cols)``); it is read only
    for the positions that unmask, so positions that stay masked cost O(1).
    Equal to ``_inverse_cdf(q, u)`` up to float64 rounding.
    """
    total = move + stay
    target = u * total
    a = move * pre
    low = target < a
    high = target >= a + stay
    tok = torch.full_like(pre, mid, dtype=torch.long)
    go = (low | high).nonzero(as_tuple=True)[0]
    if go.numel():
        cdf = cdf_src[go] if where is None else cdf_src[where[0][go], where[1][go]]
        lo_g, tg, pre_g = low[go], target[go], pre[go]
        xq = torch.where(lo_g, tg / move, (tg - stay) / move)
        top = torch.nextafter(cdf[:, -1], torch.zeros_like(cdf[:, -1]))
        below = torch.nextafter(pre_g, torch.zeros_like(pre_g))
        xq = torch.where(lo_g, torch.minimum(xq, below), torch.maximum(xq, pre_g))
        xq = torch.minimum(xq, top)
        idx = torch.searchsorted(cdf.contiguous(), xq[:, None].contiguous(), right=True)[:, 0]
        tok[go] = idx.clamp_max(cdf.shape[1] - 1)
    return tok


def _ancestral(
    model: Any,
    info: ModelInfo,
    x: torch.Tensor,
    gen: RowGenerator,
    *,
    steps: int,
    cached: bool,
    precision: str,
    schedule: Any,
    noise_removal: str,
    t_min: float,
    progress: bool,
) -> tuple[torch.Tensor, np.ndarray, int, torch.Tensor]:
    n, length = x.shape
    v, mid = info.vocab_size, info.mask_id
    dev = x.device
    f64 = precision == "float64"
    grid = torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64).tolist()
    nfe = np.zeros(n, dtype=np.int64)
    calls = 0
    times = torch.full((n, length), float("nan"), dtype=torch.float64, device=dev)
    # cached: float64 CDF of p_theta (float64 path) or raw output (float32 path) per position
    buf: torch.Tensor | None = None
    pre_buf = torch.zeros(n, length, dtype=torch.float64, device=dev)
    valid = torch.zeros(n, dtype=torch.bool, device=dev)
    x = x.clone()
    for i in progress_bar(range(steps + 1), enabled=progress, desc="ancestral"):
        masked = x == mid
        active = masked.any(1)
        if not bool(active.any()):
            break
        t = grid[i]
        s = grid[i + 1] if i < steps else 0.0
        # one draw per step for every row (keeps the row streams aligned); only the
        # masked entries are computed
        u = gen.uniform_where(masked) if f64 else gen.uniform_where(masked, v, dtype=torch.float32)
        need = active & ~valid if cached else active
        cdf_now = pre_now = None
        if bool(need.any()):
            xs = x[need] if cached else x
            tt = torch.full((xs.shape[0],), t, device=dev)
            out = call_model(
                model, info, xs, tt if info.time_conditioned else None, check=calls == 0
            )
            calls += 1
            nfe[need.cpu().numpy()] += 1
            mrows = xs == mid
            if f64:
                cdf = torch.cumsum(subs_probs(out[mrows], info, torch.float64), dim=-1)
                pre = cdf[:, mid - 1] if mid > 0 else torch.zeros_like(cdf[:, 0])
                if cached:
                    if buf is None:
                        buf = torch.zeros(n, length, v, dtype=torch.float64, device=dev)
                    sub_mask = torch.zeros_like(masked)
                    sub_mask[need] = mrows
                    buf[sub_mask] = cdf
                    pre_buf[sub_mask] = pre
                else:
                    cdf_now, pre_now = cdf, pre
            elif cached:
                if buf is None:
                    buf = torch.zeros(n, length, v, dtype=out.dtype, device=dev)
                buf[need] = out
            else:
                cdf_now = out[masked]
            if cached:
                valid |= need
        a_t, a_s = schedule.alpha(t), schedule.alpha(s)
        move, stay = (a_s - a_t) / (1 - a_t), (1 - a_s) / (1 - a_t)
        if i == steps:
            move, stay = 1.0, 0.0
        if f64:
            if cached:
                assert buf is not None
                r_idx, c_idx = masked.nonzero(as_tuple=True)
                src, where, pre_m = buf, (r_idx, c_idx), pre_buf[masked]
            else:
                assert cdf_now is not None and pre_now is not None
                src, where, pre_m = cdf_now, None, pre_now
            if i == steps and noise_removal == "argmax":
                allc = src if where is None else src[where]
                new = torch.diff(allc, dim=-1, prepend=torch.zeros_like(allc[:, :1])).argmax(-1)
            else:
                new = _band_draw(src, where, pre_m, u, move, stay, mid)
        else:
            if cached:
                assert buf is not None
                raw = buf[masked]
            else:
                assert cdf_now is not None
                raw = cdf_now
            p = subs_probs(raw, info, torch.float32)
            if i == steps and noise_removal == "argmax":
                new = p.argmax(-1)
            else:
                q = p * move
                q[:, mid] = stay
                new = _gumbel_argmax32(q, u)
        x[masked] = new
        changed = masked & (x != mid)
        times[changed] = s
        if cached:
            valid &= ~changed.any(1)
    return x, nfe, calls, times


def _fhs(
    model: Any,
    info: ModelInfo,
    x: torch.Tensor,
    gen: RowGenerator,
    *,
    k: int,
    precision: str,
    schedule: Any,
    progress: bool,
) -> tuple[torch.Tensor, np.ndarray, int, torch.Tensor]:
    n, length = x.shape
    v, mid = info.vocab_size, info.mask_id
    dt = _DTYPES[precision]
    t = torch.ones(n, dtype=torch.float64, device=x.device)
    times = torch.full((n, length), float("nan"), dtype=torch.float64, device=x.device)
    n_masked = int((x[0] == mid).sum())
    calls = 0
    for _ in progress_bar(range(math.ceil(n_masked / k)), enabled=progress, desc="fhs"):
        kk = min(k, n_masked)
        u_all = gen.uniform(length + 2 * kk)  # positions, times, tokens: one draw per call
        u_pos, u_time, u_tok = u_all[:, :length], u_all[:, length:-kk], u_all[:, -kk:]
        one_minus_a = 1 - schedule.alpha(t)
        taus = []
        for j in range(kk):
            one_minus_a = one_minus_a * u_time[:, j] ** (1.0 / (n_masked - j))
            taus.append(schedule.alpha_inv(1 - one_minus_a))
        tau = torch.stack(taus, 1).clamp(0.0, 1.0)
        tt = tau[:, 0].to(torch.float32)
        out = call_model(model, info, x, tt if info.time_conditioned else None, check=calls == 0)
        calls += 1
        keys = u_pos.masked_fill(x != mid, 2.0)
        sel = keys.topk(kk, dim=1, largest=False).indices
        rows = out.gather(1, sel[..., None].expand(n, kk, v))
        p = subs_probs(rows, info, dt)
        if precision == "float32":
            u_tok = gen.uniform(kk, v, dtype=torch.float32)
        tok = _draw(p, u_tok, precision)
        x = x.scatter(1, sel, tok)
        times = times.scatter(1, sel, tau)
        t = tau[:, -1]
        n_masked -= kk
    return x, np.full(n, calls, dtype=np.int64), calls, times


# --------------------------------------------------------------------------- sample()


@dataclasses.dataclass(frozen=True, repr=False)
class SampleResult(Result):
    """Samples of a masked diffusion model and what they cost.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n, L)
    texts : list of str or None
        ``model.tokenizer.decode_batch(tokens)`` when the model has a tokenizer.
    nfe : ndarray of int64, shape (n,)
        Network evaluations each sample took part in.
    n_calls : int
        Batched forward passes (network calls) made.
    wall_time : float
        Seconds, decoding excluded.
    seeds : ndarray of int64, shape (n,)
        Seed of each sample: ``sample(..., seeds=[seeds[i]])`` reproduces row i.
    unmask_times : ndarray of float64, shape (n, L)
        Time at which each position was unmasked (the step's ``s`` for the
        ancestral samplers, the first-hitting time for FHS).
    method, steps, k, precision : as requested.
    """

    tokens: np.ndarray
    texts: list[str] | None
    nfe: np.ndarray
    n_calls: int
    wall_time: float
    seeds: np.ndarray
    unmask_times: np.ndarray
    method: str
    steps: int | None
    k: int
    precision: str

    @property
    def mean_nfe(self) -> float:
        """Average network evaluations per sample."""
        return float(np.mean(self.nfe))

    @property
    def time_per_sample(self) -> float:
        """Wall time divided by the number of samples."""
        return self.wall_time / max(len(self.tokens), 1)


def _default_device(model: Any) -> torch.device:
    if isinstance(model, torch.nn.Module):
        for prm in model.parameters():
            return prm.device
    return torch.device("cpu")


def _sample_iv(
    model: Any,
    n: Any,
    length: Any,
    method: str,
    steps: Any,
    k: Any,
    precision: str,
    seeds: Any,
    generator: Any,
    batch_size: Any,
    noise_removal: str,
    t_min: Any,
) -> tuple[ModelInfo, int, int, int | None, int, np.ndarray, int]:
    n = check_int(n, "n", lo=1)
    check_choice(method, "method", METHODS)
    check_choice(precision, "precision", tuple(_DTYPES))
    check_choice(noise_removal, "noise_removal", ("sample", "argmax"))
    check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="left")
    info = model_info(model)
    if length is None:
        if info.length is None:
            raise ValueError("`length` is required when the model has no fixed `length`")
        length = info.length
    length = check_int(length, "length", lo=1)
    if info.length is not None and length != info.length:
        raise ValueError(f"`length` must equal model.length = {info.length}, got {length}")
    k = check_int(k, "k", lo=1, hi=length)
    if method == "fhs" and k != 1:
        raise ValueError(f"`k` must be 1 for method='fhs' (use 'fhs-parallel'), got {k}")
    if method in ("ancestral", "cached"):
        steps = length if steps is None else check_int(steps, "steps", lo=1)
    elif steps is not None:
        check_int(steps, "steps", lo=1)
        steps = None
    if method == "cached" and info.time_conditioned:
        raise ValueError(
            "method='cached' reuses p_theta(x0 | x_t) across times and needs a time-agnostic "
            "model; this model is time_conditioned"
        )
    if seeds is not None and generator is not None:
        raise ValueError("give either `seeds` or `generator`, not both")
    if seeds is not None:
        seed_arr = np.asarray(RowGenerator(list(np.ravel(np.asarray(seeds, dtype=object)))).seeds)
        if seed_arr.shape[0] != n:
            raise ValueError(f"`seeds` must have n = {n} entries, got {seed_arr.shape[0]}")
    else:
        seed_arr = draw_seeds(n, generator)
    bs = n if batch_size is None else check_int(batch_size, "batch_size", lo=1)
    return info, n, length, steps, k, seed_arr, bs


def sample(
    model: Any,
    n: int,
    *,
    length: int | None = None,
    method: str = "fhs",
    steps: int | None = None,
    k: int = 1,
    precision: str = "float64",
    seeds: Sequence[int] | np.ndarray | None = None,
    generator: Any = None,
    device: Any = None,
    batch_size: int | None = None,
    noise_removal: str = "sample",
    schedule: Any = None,
    t_min: float = 1e-5,
    progress: bool = False,
) -> SampleResult:
    """Draw ``n`` sequences from a masked diffusion model.

    Parameters
    ----------
    model : Denoiser
        See :mod:`sciddm.discrete._protocol`; e.g. the MDLM model or a
        :class:`FunctionModel`.
    n : int
        Number of samples (>= 1).
    length : int, optional
        Sequence length; defaults to ``model.length``.
    method : {"fhs", "ancestral", "cached", "fhs-parallel"}, default "fhs"
        * ``"ancestral"``: MDLM's ``ddpm`` sampler, ``steps`` steps on the
          grid ``linspace(1, t_min, steps + 1)`` then a final noise-removal
          step from ``t_min`` to 0; one network call per step.
        * ``"cached"``: the same chain, but ``p_theta`` is recomputed only for
          samples whose sequence changed since their last call (exact for
          time-agnostic models): at most ``L`` network evaluations per sample
          whatever ``steps``.
        * ``"fhs"``: first-hitting sampler: with ``m`` masked tokens at time t
          the next unmasking time is ``alpha^{-1}(1 - u^{1/m}(1 - alpha_t))``;
          one uniformly chosen masked position is unmasked there with a token
          drawn from ``p_theta``. Exactly ``L`` calls; the continuous-time
          limit of ``"ancestral"``.
        * ``"fhs-parallel"``: ``k`` positions per call, each drawn independently
          from the same ``p_theta`` (``ceil(L/k)`` calls; an approximation for
          ``k > 1``: it ignores the dependence between tokens unmasked together).
    steps : int, optional
        Steps of the ancestral samplers (default ``L``); ignored by FHS.
    k : int, default 1
        Tokens per call for ``"fhs-parallel"``; ``1 <= k <= L``.
    precision : {"float64", "float32"}, default "float64"
        Categorical draws by float64 inverse CDF (exact), or MDLM's float32
        Gumbel-max (biased towards likely tokens; for demonstration).
    seeds : sequence of int, optional
        One seed per sample; sample ``i`` depends only on ``seeds[i]`` (not on
        ``n``, ``batch_size`` or the device): its random numbers are the same
        everywhere (integer hashing, :class:`RowGenerator`), so tokens can only
        differ where the network's own outputs differ in floating point across
        batch shapes or devices.
    generator : numpy Generator, int, torch.Generator or None
        Source of the seeds when ``seeds`` is not given.
    device : str or torch.device, optional
        Defaults to the device of the model's parameters (CPU otherwise).
    batch_size : int, optional
        Samples per batch (default all ``n``).
    noise_removal : {"sample", "argmax"}, default "sample"
        Final step of the ancestral samplers from ``t_min`` to 0: ``"sample"``
        keeps the chain exact; ``"argmax"`` is MDLM's released behaviour.
    schedule : object with ``alpha`` and ``alpha_inv``, optional
        Log-linear ``alpha_t = 1 - (1 - 1e-3) t`` by default.
    t_min : float, default 1e-5
        Last time of the ancestral grid (MDLM's ``eps``).
    progress : bool, default False

    Returns
    -------
    SampleResult

    Notes
    -----
    Exactness. For a time-agnostic model, every sampler's output law is a
    mixture over unmasking orders of products of ``p_theta`` factors; FHS
    (and the ancestral chain as ``steps -> inf``) unmasks one token per call,
    which reproduces exactly the law of the continuous-time reverse chain.
    The step-wise ancestral chain unmasks several tokens at once when two
    positions fall in the same step, each from the same ``p_theta``.
    Validation: every network output is checked (shape, NaN, +inf, the
    normalisation of declared probabilities) before any draw uses it, so a
    bad model fails at the first call.

    Cost per sample (n_calls network calls of batch size n, plus sampling
    work): ancestral ``steps + 1`` calls and a float64 softmax over the masked
    positions' ``V`` logits at each step; cached at most ``L`` calls, the
    softmax only after a call, and O(1) work per masked position per step
    otherwise (the float64 draw first decides "stays masked" from a stored
    partial sum); FHS ``L`` calls and one softmax row per call. float32
    sampling draws ``V`` Gumbel variables per masked position per step.

    See Also
    --------
    sample_distributed : split seeds over processes / GPUs.
    sample_transition, denoiser_probs, transition_probs, predict_x0 :
        single steps, for guidance methods.

    References
    ----------
    .. [1] Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, Sec. 3 and the ``ddpm``/``ddpm_cache`` samplers.
    .. [2] Zheng et al., "Masked diffusion models are secretly time-agnostic
       masked models and exploit inaccurate categorical sampling",
       arXiv:2409.02908 (2024), Sec. 3 (FHS, Prop. 3.1) and Sec. 4.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, sample
    >>> logits = torch.log(torch.tensor([0.5, 0.3, 0.2, 0.0]))
    >>> m = FunctionModel(lambda x: logits.expand(*x.shape, 4), vocab_size=4, mask_id=3)
    >>> r = sample(m, 8, length=5, method="fhs", seeds=range(8))
    >>> r.tokens.shape, r.n_calls, bool((r.tokens != 3).all())
    ((8, 5), 5, True)
    >>> r2 = sample(m, 3, length=5, method="fhs", seeds=[5, 6, 7])
    >>> bool((r2.tokens == r.tokens[5:]).all())     # per-seed reproducibility
    True
    """
    info, n, length, steps, k, seed_arr, bs = _sample_iv(
        model,
        n,
        length,
        method,
        steps,
        k,
        precision,
        seeds,
        generator,
        batch_size,
        noise_removal,
        t_min,
    )
    sch = resolve_schedule(schedule)
    dev = torch.device(device) if device is not None else _default_device(model)
    toks, nfes, tms = [], [], []
    calls = 0
    t0 = time.perf_counter()
    for start in range(0, n, bs):
        chunk = seed_arr[start : start + bs]
        gen = RowGenerator(chunk, device=dev)
        x = torch.full((len(chunk), length), info.mask_id, dtype=torch.long, device=dev)
        if method in ("ancestral", "cached"):
            assert steps is not None
            x, nfe, c, tm = _ancestral(
                model,
                info,
                x,
                gen,
                steps=steps,
                cached=method == "cached",
                precision=precision,
                schedule=sch,
                noise_removal=noise_removal,
                t_min=float(t_min),
                progress=progress,
            )
        else:
            x, nfe, c, tm = _fhs(
                model, info, x, gen, k=k, precision=precision, schedule=sch, progress=progress
            )
        toks.append(x.cpu())
        nfes.append(nfe)
        tms.append(tm.cpu())
        calls += c
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = time.perf_counter() - t0
    tokens = torch.cat(toks).numpy().astype(np.int64)
    tok = getattr(model, "tokenizer", None)
    texts = (
        list(tok.decode_batch(tokens)) if tok is not None and hasattr(tok, "decode_batch") else None
    )
    logger.debug("sampled %d x %d with %s in %.3fs (%d calls)", n, length, method, wall, calls)
    return SampleResult(
        tokens=tokens,
        texts=texts,
        nfe=np.concatenate(nfes),
        n_calls=calls,
        wall_time=wall,
        seeds=seed_arr,
        unmask_times=torch.cat(tms).numpy(),
        method=method,
        steps=steps,
        k=k,
        precision=precision,
    )


# --------------------------------------------------------------------------- several devices


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
