"""Soft value-based decoding (SVDD, Li et al. 2024): M pretrained candidates per step, pick by value."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._guidance._common import (
    GuidanceResult,
    RewardFn,
    ValueFn,
    _common_iv,
    _Counter,
    _decode,
    _device,
    _grid,
    _seeds_iv,
    child_seeds,
)
from sciddm.discrete._protocol import resolve_schedule
from sciddm.discrete._sampling import RowGenerator, categorical, predict_x0, transition_probs

__all__ = ["svdd"]


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
    >>> from sciddm.discrete import svdd
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
