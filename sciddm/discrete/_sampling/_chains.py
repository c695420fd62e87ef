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


class _AncestralState:
    """What one ancestral (or cached) run carries from step to step.

    With ``cached``, the float64 CDF of ``p_theta`` (float64 path) or the raw
    model output (float32 path) of every masked position is kept while its
    row does not change (``valid``), so a row costs a network call only after
    one of its tokens was unmasked.
    """

    def __init__(self, info: ModelInfo, x: torch.Tensor, *, cached: bool, f64: bool) -> None:
        n, length = x.shape
        self.info, self.cached, self.f64 = info, cached, f64
        self.x = x.clone()
        self.nfe = np.zeros(n, dtype=np.int64)
        self.calls = 0
        self.times = torch.full((n, length), float("nan"), dtype=torch.float64, device=x.device)
        self.buf: torch.Tensor | None = None
        self.pre_buf = torch.zeros(n, length, dtype=torch.float64, device=x.device)
        self.valid = torch.zeros(n, dtype=torch.bool, device=x.device)
        # this step's sources when not cached
        self.cdf_now: torch.Tensor | None = None
        self.pre_now: torch.Tensor | None = None

    def evaluate(self, model: Any, t: float, masked: torch.Tensor, active: torch.Tensor) -> None:
        """One network call on the rows that need it; store what the draws read."""
        info, x = self.info, self.x
        need = active & ~self.valid if self.cached else active
        self.cdf_now = self.pre_now = None
        if not bool(need.any()):
            return
        xs = x[need] if self.cached else x
        tt = torch.full((xs.shape[0],), t, device=x.device)
        out = call_model(
            model, info, xs, tt if info.time_conditioned else None, check=self.calls == 0
        )
        self.calls += 1
        self.nfe[need.cpu().numpy()] += 1
        mid = info.mask_id
        if self.f64:
            mrows = xs == mid
            cdf = torch.cumsum(subs_probs(out[mrows], info, torch.float64), dim=-1)
            pre = cdf[:, mid - 1] if mid > 0 else torch.zeros_like(cdf[:, 0])
            if self.cached:
                if self.buf is None:
                    self.buf = torch.zeros(*x.shape, info.vocab_size, dtype=torch.float64)
                    self.buf = self.buf.to(x.device)
                sub_mask = torch.zeros_like(masked)
                sub_mask[need] = mrows
                self.buf[sub_mask] = cdf
                self.pre_buf[sub_mask] = pre
            else:
                self.cdf_now, self.pre_now = cdf, pre
        elif self.cached:
            if self.buf is None:
                self.buf = torch.zeros(*x.shape, info.vocab_size, dtype=out.dtype, device=x.device)
            self.buf[need] = out
        else:
            self.cdf_now = out[masked]
        if self.cached:
            self.valid |= need

    def draw(
        self, masked: torch.Tensor, u: torch.Tensor, move: float, stay: float, argmax: bool
    ) -> torch.Tensor:
        """New tokens (or [MASK]) of the masked positions."""
        mid = self.info.mask_id
        if self.f64:
            where: tuple[torch.Tensor, torch.Tensor] | None = None
            if self.cached:
                assert self.buf is not None
                r_idx, c_idx = masked.nonzero(as_tuple=True)
                src, where, pre_m = self.buf, (r_idx, c_idx), self.pre_buf[masked]
            else:
                assert self.cdf_now is not None and self.pre_now is not None
                src, pre_m = self.cdf_now, self.pre_now
            if argmax:
                allc = src if where is None else src[where]
                return torch.diff(allc, dim=-1, prepend=torch.zeros_like(allc[:, :1])).argmax(-1)
            return band_draw(src, where, pre_m, u, move, stay, mid)
        if self.cached:
            assert self.buf is not None
            raw = self.buf[masked]
        else:
            assert self.cdf_now is not None
            raw = self.cdf_now
        p = subs_probs(raw, self.info, torch.float32)
        if argmax:
            return p.argmax(-1)
        q = p * move
        q[:, mid] = stay
        return gumbel_argmax32(q, u)

    def update(self, masked: torch.Tensor, new: torch.Tensor, s: float) -> None:
        self.x[masked] = new
        changed = masked & (self.x != self.info.mask_id)
        self.times[changed] = s
        if self.cached:
            self.valid &= ~changed.any(1)


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
    """The ancestral chain on ``linspace(1, t_min, steps + 1)`` then ``t_min -> 0``.

    Returns the tokens, the network evaluations per row, the number of
    network calls and the unmasking time of every position.
    """
    f64 = precision == "float64"
    grid = torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64).tolist()
    st = _AncestralState(info, x, cached=cached, f64=f64)
    for i in progress_bar(range(steps + 1), enabled=progress, desc="ancestral"):
        masked = st.x == info.mask_id
        active = masked.any(1)
        if not bool(active.any()):
            break
        t = grid[i]
        s = grid[i + 1] if i < steps else 0.0
        # one draw per step for every row (keeps the row streams aligned); only the
        # masked entries are computed
        if f64:
            u = gen.uniform_where(masked)
        else:
            u = gen.uniform_where(masked, info.vocab_size, dtype=torch.float32)
        st.evaluate(model, t, masked, active)
        a_t, a_s = schedule.alpha(t), schedule.alpha(s)
        move, stay = (a_s - a_t) / (1 - a_t), (1 - a_s) / (1 - a_t)
        if i == steps:
            move, stay = 1.0, 0.0
        new = st.draw(masked, u, move, stay, argmax=i == steps and noise_removal == "argmax")
        st.update(masked, new, s)
    return st.x, st.nfe, st.calls, st.times


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
