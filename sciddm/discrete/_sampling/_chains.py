"""The sampling chains behind :func:`sciddm.discrete.sample`: ancestral (and cached) and first-hitting."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm.discrete._protocol import ModelInfo, call_model, subs_probs
from sciddm.discrete._sampling._categorical import RowGenerator, gumbel_argmax32, inverse_cdf

__all__ = ["DTYPES", "band_draw", "run_ancestral", "run_fhs"]

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _draw(q: torch.Tensor, u: torch.Tensor, precision: str) -> torch.Tensor:
    return inverse_cdf(q, u) if precision == "float64" else gumbel_argmax32(q, u)


def band_draw(
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
    Equal to ``inverse_cdf(q, u)`` up to float64 rounding.
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


def run_ancestral(
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
                new = band_draw(src, where, pre_m, u, move, stay, mid)
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
                new = gumbel_argmax32(q, u)
        x[masked] = new
        changed = masked & (x != mid)
        times[changed] = s
        if cached:
            valid &= ~changed.any(1)
    return x, nfe, calls, times


def run_fhs(
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
    dt = DTYPES[precision]
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
