"""Reward-guided decoding of masked diffusion models without gradients: best-of-N, SVDD, SMC.

All three methods target the *soft-optimal* distribution

.. math:: p^\\star(x_0) \\propto p^{\\mathrm{pre}}(x_0) \\exp(r(x_0) / \\alpha)

of a pretrained masked diffusion model ``p^pre`` tilted by a reward ``r``
that need not be differentiable (an RDKit property, a motif score, a trained
oracle). With the *soft value* of a partly masked sequence

.. math:: v_t(x_t) = \\alpha \\log \\mathbb{E}_{p^{\\mathrm{pre}}}
   [\\exp(r(x_0)/\\alpha) \\mid x_t],

the optimal policy is the pretrained step re-weighted by ``exp(v_s/alpha)``:
``p*(x_s | x_t) ∝ p^pre(x_s | x_t) exp(v_s(x_s)/alpha)`` (see
``theory/76_soft_optimal_policy.md``). SVDD draws ``M`` candidates from the
pretrained step and picks one with probability ∝ ``exp(v̂/alpha)`` (importance
resampling of that policy); SMC (:mod:`sciddm.discrete._guidance_smc`) carries ``K`` weighted particles with the
twisted incremental weights ``exp((v̂_s - v̂_t)/alpha)``; best-of-N keeps the
best of ``N`` pretrained samples.

Every method reuses the samplers' single-step primitives
(:func:`~sciddm.discrete.denoiser_probs`,
:func:`~sciddm.discrete.transition_probs`,
:func:`~sciddm.discrete.predict_x0`, :func:`~sciddm.discrete.categorical`
with per-row :class:`~sciddm.discrete.RowGenerator` streams), so output ``i``
depends only on ``seeds[i]``, and reports its cost in network evaluations and
reward calls.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._categorical import RowGenerator, categorical, draw_seeds
from sciddm.discrete._protocol import (
    denoiser_probs,
    model_info,
    predict_x0,
    resolve_schedule,
    transition_probs,
)
from sciddm.discrete._sampling import sample

__all__ = ["GuidanceResult", "best_of_n", "child_seeds", "svdd"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, repr=False)
class GuidanceResult(Result):
    """Samples of a reward-guided decoder, their rewards and what they cost.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n, L)
    texts : list of str or None
        Decoded by ``model.tokenizer`` when the model has one.
    rewards : ndarray of float64, shape (n,)
        ``reward`` of each returned sample.
    nfe : ndarray of int64, shape (n,)
        Sequences the network evaluated on behalf of each sample (SVDD-PM:
        ``M`` per step; SMC: ``K`` per step; best-of-N: ``N`` times the
        sampler's evaluations).
    reward_calls : ndarray of int64, shape (n,)
        Sequences scored by ``reward`` on behalf of each sample.
    value_calls : ndarray of int64, shape (n,)
        Sequences scored by ``value_model`` (SVDD-MC, SMC with a value model).
    n_calls : int
        Batched forward passes of the network.
    wall_time : float
        Seconds.
    seeds : ndarray of int64, shape (n,)
        ``method(..., seeds=[seeds[i]])`` reproduces row ``i``.
    method : str
    params : dict
        The method's knobs (M, alpha, K, N, steps, ...).
    ess : ndarray (n, steps + 1) or None
        SMC: effective sample size of each population after each step's reweighting.
    n_resamples : ndarray (n,) or None
        SMC: resampling events per population.
    """

    tokens: np.ndarray
    texts: list[str] | None
    rewards: np.ndarray
    nfe: np.ndarray
    reward_calls: np.ndarray
    value_calls: np.ndarray
    n_calls: int
    wall_time: float
    seeds: np.ndarray
    method: str
    params: dict[str, Any]
    ess: np.ndarray | None = None
    n_resamples: np.ndarray | None = None

    @property
    def total_nfe(self) -> int:
        """Network evaluations (sequences) of all samples."""
        return int(self.nfe.sum())

    @property
    def total_reward_calls(self) -> int:
        """Sequences scored by the reward for all samples."""
        return int(self.reward_calls.sum())

    @property
    def samples_per_second(self) -> float:
        return len(self.tokens) / max(self.wall_time, 1e-12)


# --------------------------------------------------------------------------- helpers


def reward_name(reward: Any) -> str:
    """A short name of a reward callable for error messages."""
    name = getattr(reward, "__name__", None)
    if name is None:
        name = type(reward).__name__
        r = repr(reward)
        if len(r) <= 60 and not r.startswith("<"):
            name = r
    return str(name)


class RewardFn:
    """Validating, counting wrapper of a user reward.

    ``reward`` receives the decoded strings (``decode=True``) or an int64
    array (m, L) of token ids, and must return m finite floats.
    """

    def __init__(self, reward: Any, tokenizer: Any, decode: bool | None, what: str = "reward"):
        if not callable(reward):
            raise ValueError(f"`{what}` must be callable, got {type(reward).__name__}")
        can = tokenizer is not None and hasattr(tokenizer, "decode_batch")
        if decode is None:
            decode = can
        if decode and not can:
            raise ValueError("`decode=True` needs a model with a `tokenizer` (decode_batch)")
        self.reward, self.tokenizer, self.decode = reward, tokenizer, bool(decode)
        self.what = what
        self.name = reward_name(reward)
        self.calls = 0

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        m = int(tokens.shape[0])
        if m == 0:
            return torch.zeros(0, dtype=torch.float64, device=tokens.device)
        ids = tokens.detach().cpu().numpy().astype(np.int64)
        arg = list(self.tokenizer.decode_batch(ids)) if self.decode else ids
        out = self.reward(arg)
        self.calls += m
        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
        try:
            arr = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"{self.what} `{self.name}` must return {m} numbers, got {type(out).__name__}"
            ) from e
        if arr.shape != (m,):
            raise ValueError(
                f"{self.what} `{self.name}` must return shape ({m},) for {m} sequences, "
                f"got {arr.shape}"
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            kind = "NaN" if np.isnan(arr).any() else "inf"
            raise ValueError(
                f"{self.what} `{self.name}` returned {kind} for {int(bad.sum())} of {m} "
                "sequences; give invalid sequences a finite floor reward"
            )
        return torch.as_tensor(arr, device=tokens.device)


class ValueFn:
    """Validating, counting wrapper of a value model ``v(x_t, t) -> (m,)``."""

    def __init__(self, value_model: Any):
        if not callable(value_model):
            raise ValueError(f"`value_model` must be callable, got {type(value_model).__name__}")
        self.fn = value_model
        self.name = reward_name(value_model)
        self.calls = 0

    def __call__(self, x: torch.Tensor, t: float) -> torch.Tensor:
        m = int(x.shape[0])
        if m == 0:
            return torch.zeros(0, dtype=torch.float64, device=x.device)
        tt = torch.full((m,), float(t), dtype=torch.float32, device=x.device)
        with torch.no_grad():
            out = self.fn(x, tt)
        self.calls += m
        out = torch.as_tensor(
            out.detach() if isinstance(out, torch.Tensor) else np.asarray(out, dtype=np.float64)
        )
        if tuple(out.shape) != (m,):
            raise ValueError(
                f"value model `{self.name}` must return shape ({m},), got {tuple(out.shape)}"
            )
        out = out.to(device=x.device, dtype=torch.float64)
        if not torch.isfinite(out).all():
            raise ValueError(f"value model `{self.name}` returned NaN or inf")
        return out


def child_seeds(seed: int, k: int) -> np.ndarray:
    """``k`` seeds in [0, 2**63) derived from ``seed`` (SeedSequence), for inner streams."""
    st = np.random.SeedSequence([int(seed), 0x6D1DE]).generate_state(k, dtype=np.uint64)
    return (st >> np.uint64(1)).astype(np.int64)


def _seeds_iv(n: int, seeds: Any, rng: Any) -> np.ndarray:
    if seeds is not None:
        arr = np.asarray(list(seeds), dtype=np.int64)
        if arr.shape != (n,):
            raise ValueError(f"`seeds` must have {n} entries (one per sample), got {arr.size}")
        if (arr < 0).any():
            raise ValueError("`seeds` must be non-negative")
        return arr
    return draw_seeds(n, rng)


def _device(model: Any, device: Any) -> torch.device:
    if device is not None:
        return torch.device(device)
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


def _grid(steps: int, t_min: float) -> list[float]:
    """``linspace(1, t_min, steps + 1)`` then 0: the ancestral grid of :func:`sample`."""
    return [*torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64).tolist(), 0.0]


def _common_iv(
    model: Any, n: Any, length: Any, steps: Any, alpha: Any, t_min: Any, batch_size: Any
) -> tuple[Any, int, int, int, float, float, int]:
    info = model_info(model)
    n = check_int(n, "n", lo=1)
    if length is None:
        length = info.length
    if length is None:
        raise ValueError("`length` must be given for a model without a fixed `length`")
    length = check_int(length, "length", lo=1)
    steps = length if steps is None else check_int(steps, "steps", lo=1)
    alpha = check_scalar(alpha, "alpha", lo=0.0)
    t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="neither")
    bs = n if batch_size is None else check_int(batch_size, "batch_size", lo=1)
    return info, n, length, steps, alpha, t_min, bs


def _decode(model: Any, tokens: np.ndarray) -> list[str] | None:
    tok = getattr(model, "tokenizer", None)
    if tok is not None and hasattr(tok, "decode_batch"):
        return list(tok.decode_batch(tokens))
    return None


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def probs(
        self, model: Any, x: torch.Tensor, t: float, mask_id: int, v: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``p_theta(x0 | x)`` of every row (one call on the rows with a mask) and the
        number of network evaluations per row (0 or 1)."""
        need = (x == mask_id).any(-1)
        p = torch.nn.functional.one_hot(x, v).to(torch.float64)
        if bool(need.any()):
            p[need] = denoiser_probs(model, x[need], t)
            self.calls += 1
        return p, need.long()


# --------------------------------------------------------------------------- best-of-N


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
    >>> from sciddm.discrete.guidance import best_of_n
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


# --------------------------------------------------------------------------- SVDD


def _svdd_iv(M: Any, variant: Any, value_model: Any, x0: Any) -> tuple[int, str, str]:
    M = check_int(M, "M", lo=1)
    variant = check_choice(variant, "variant", ("pm", "mc"))
    x0 = check_choice(x0, "x0", ("argmax", "sample"))
    if variant == "mc" and value_model is None:
        raise ValueError("`variant='mc'` needs a `value_model` (see train_value_model)")
    return M, variant, x0


def svdd(
    model: Any,
    reward: Callable[[Any], Any],
    n: int,
    *,
    M: int = 10,
    alpha: float = 0.0,
    variant: str = "pm",
    value_model: Any = None,
    x0: str = "argmax",
    length: int | None = None,
    steps: int | None = None,
    t_min: float = 1e-5,
    schedule: Any = None,
    precision: str = "float64",
    seeds: Sequence[int] | np.ndarray | None = None,
    rng: Any = None,
    device: Any = None,
    batch_size: int | None = None,
    decode: bool | None = None,
    progress: bool = False,
) -> GuidanceResult:
    """Soft value-based decoding (SVDD): ``M`` pretrained candidates per step, pick by value.

    Parameters
    ----------
    model : Denoiser
    reward : callable
        See :func:`best_of_n`. Scores the final samples (and, for SVDD-PM,
        the predicted clean sequences of the candidates).
    n : int
        Number of samples.
    M : int, default 10
        Candidates per step (``M = 1``: the pretrained ancestral sampler).
    alpha : float, default 0
        Temperature. ``alpha > 0`` selects candidate ``m`` with probability
        ``softmax(v̂/alpha)_m``; ``alpha = 0`` takes the argmax (the released code).
    variant : {"pm", "mc"}, default "pm"
        ``"pm"``: posterior-mean value ``v̂(x_s) = r(x̂0(x_s))`` with ``x̂0``
        predicted by one more network evaluation of each candidate (which
        also gives the next step's ``p_theta``). ``"mc"``: ``v̂ = value_model(x_s, s)``.
    value_model : callable, optional
        ``value_model(x (m, L) LongTensor, t (m,) Tensor) -> (m,)``, e.g. the
        :class:`ValueModel` of :func:`train_value_model` or exact values.
    x0 : {"argmax", "sample"}, default "argmax"
        SVDD-PM's ``x̂0``: most probable token per masked position, or a draw.
    length, steps, t_min, schedule, precision
        The ancestral chain of :func:`~sciddm.discrete.sample` (``steps``
        steps on ``linspace(1, t_min, steps + 1)``, then ``t_min -> 0``).
    seeds, rng, device, batch_size, decode, progress
        As in :func:`best_of_n`; ``batch_size`` counts samples.

    Returns
    -------
    GuidanceResult

    Notes
    -----
    At each step from ``t`` to ``s`` (Li et al. 2024, Alg. 1):

    1. draw ``x_s^{(1..M)} ~ q(x_s | x_t)`` i.i.d. from one ``p_theta(x0|x_t)``;
    2. weight ``w_m = exp(v̂(x_s^{(m)})/alpha)``; pick ``m ~ Categorical(w/Σw)``
       (or the argmax when ``alpha = 0``).

    With the exact soft value ``v_s`` the picked candidate has law
    ``∝ q(x_s|x_t) exp(v_s(x_s)/alpha)`` as ``M -> ∞`` (self-normalised
    importance resampling), the step of the soft-optimal policy whose final
    law is ``p*(x0) ∝ p^pre(x0) exp(r(x0)/alpha)``. At the last step
    (``s = 0``) the value is the reward itself, for both variants. Rows
    without masked tokens are left as they are and cost nothing.

    References
    ----------
    .. [1] X. Li, Y. Zhao, C. Wang, G. Scalia, G. Eraslan, S. Nair,
       T. Biancalani, S. Ji, A. Regev, S. Levine, M. Uehara, "Derivative-free
       guidance in continuous and discrete diffusion models with soft
       value-based decoding", arXiv:2408.08252 (2024), Alg. 1, eq. (4)-(6).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel
    >>> from sciddm.discrete.guidance import svdd
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> res = svdd(m, lambda x: x.sum(1), 4, M=8, length=6, steps=6, seeds=range(4))
    >>> res.tokens.shape, bool((res.reward_calls <= 7 * 8).all())   # M per step while masked
    ((4, 6), True)
    >>> bool(res.rewards.mean() > 4)
    True
    """
    info, n, length, steps, alpha, t_min, bs = _common_iv(
        model, n, length, steps, alpha, t_min, batch_size
    )
    M, variant, x0 = _svdd_iv(M, variant, value_model, x0)
    check_choice(precision, "precision", ("float64", "float32"))
    sch = resolve_schedule(schedule)
    rf = RewardFn(reward, getattr(model, "tokenizer", None), decode)
    vf = ValueFn(value_model) if variant == "mc" else None
    seed_arr = _seeds_iv(n, seeds, rng)
    dev = _device(model, device)
    grid = _grid(steps, t_min)
    mid, v = info.mask_id, info.vocab_size
    cnt = _Counter()
    out_tok, out_r, out_nfe, out_rc, out_vc = [], [], [], [], []
    t_start = time.perf_counter()
    for a in range(0, n, bs):
        chunk = seed_arr[a : a + bs]
        b = len(chunk)
        gen = RowGenerator(chunk, device=dev)
        xgen = RowGenerator(np.concatenate([child_seeds(s, 1) for s in chunk]), device=dev)
        x = torch.full((b, length), mid, dtype=torch.long, device=dev)
        nfe = torch.zeros(b, dtype=torch.long, device=dev)
        rc = torch.zeros(b, dtype=torch.long, device=dev)
        vc = torch.zeros(b, dtype=torch.long, device=dev)
        p, used = cnt.probs(model, x, grid[0], mid, v)
        nfe += used
        val = torch.full((b,), float("nan"), dtype=torch.float64, device=dev)
        exact = torch.zeros(b, dtype=torch.bool, device=dev)  # val == reward(x)
        it = progress_bar(range(len(grid) - 1), enabled=progress, desc=f"svdd-{variant}")
        for i in it:
            t, s = grid[i], grid[i + 1]
            active = (x == mid).any(-1)
            q = transition_probs(p, x, t, s, mask_id=mid, schedule=sch)
            cand = categorical(
                q[:, None].expand(b, M, length, v), generator=gen, precision=precision
            )  # (b, M, L)
            act = active.nonzero(as_tuple=True)[0]
            ca = cand[act].reshape(-1, length)
            vals = torch.zeros(b, M, dtype=torch.float64, device=dev)
            pc: torch.Tensor | None = None
            last = s == 0.0
            if last:
                vals[act] = rf(ca).reshape(-1, M)
                rc[act] += M
            elif variant == "pm":
                pc, used_c = cnt.probs(model, ca, s, mid, v)
                nfe[act] += used_c.reshape(-1, M).sum(1)
                xh = predict_x0(
                    pc.reshape(len(act), M, length, v),
                    ca.reshape(len(act), M, length),
                    mask_id=mid,
                    mode=x0,
                    generator=xgen[act] if x0 == "sample" else None,
                    precision=precision,
                ).reshape(-1, length)
                vals[act] = rf(xh).reshape(-1, M)
                rc[act] += M
            else:
                assert vf is not None
                vals[act] = vf(ca, s).reshape(-1, M)
                vc[act] += M
            if x0 == "sample":
                xgen.counter += 1  # keep the x̂0 streams aligned for every row
            if alpha > 0:
                w = torch.softmax(vals / alpha, dim=1)
                pick = categorical(w, generator=gen)
            else:
                gen.counter += 1  # same stream positions whatever alpha
                pick = vals.argmax(1)
            rows = torch.arange(b, device=dev)
            x = torch.where(active[:, None], cand[rows, pick], x)
            val = torch.where(active, vals[rows, pick], val)
            now_clean = ~(x == mid).any(-1)
            exact = torch.where(active, now_clean & (variant == "pm" or last), exact)
            if last:
                continue
            if pc is not None:  # SVDD-PM: p_theta of the picked candidates is known
                p = p.clone()
                p[act] = pc.reshape(len(act), M, length, v)[
                    torch.arange(len(act), device=dev), pick[act]
                ]
            else:  # SVDD-MC: one network call on the picked candidates
                p_new, used = cnt.probs(model, x[act], s, mid, v)
                p = p.clone()
                p[act] = p_new
                nfe[act] += used
        need = ~exact
        if bool(need.any()):
            val[need] = rf(x[need])
            rc[need] += 1
        out_tok.append(x.cpu())
        out_r.append(val.cpu())
        out_nfe.append(nfe.cpu())
        out_rc.append(rc.cpu())
        out_vc.append(vc.cpu())
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = time.perf_counter() - t_start
    tokens = torch.cat(out_tok).numpy().astype(np.int64)
    return GuidanceResult(
        tokens=tokens,
        texts=_decode(model, tokens),
        rewards=torch.cat(out_r).numpy(),
        nfe=torch.cat(out_nfe).numpy().astype(np.int64),
        reward_calls=torch.cat(out_rc).numpy().astype(np.int64),
        value_calls=torch.cat(out_vc).numpy().astype(np.int64),
        n_calls=cnt.calls,
        wall_time=wall,
        seeds=seed_arr,
        method=f"svdd-{variant}",
        params={"M": M, "alpha": alpha, "variant": variant, "x0": x0, "steps": steps},
    )
