"""Soft value-based decoding (SVDD, Li et al. 2024): M pretrained candidates per step, pick by value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.rng import RNGLike
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._guidance._common import (
    GuidanceResult,
    NetworkCounter,
    Reward,
    Setup,
    ValueFn,
    ValueFunction,
    chain_iv,
    child_seeds,
    guidance_setup,
    learned_chain,
    learned_steps_iv,
    sharpen,
)
from sciddm.discrete._protocol import Denoiser
from sciddm.discrete._sampling import (
    LSDSampler,
    RowGenerator,
    categorical,
    predict_x0,
    transition_probs,
)

__all__ = ["svdd"]


def _svdd_iv(M: Any, variant: Any, value_model: Any, x0: Any) -> tuple[int, str, str]:
    M = check_int(M, "M", lo=1, hi=100_000)
    variant = check_choice(variant, "variant", ("pm", "mc"))
    x0 = check_choice(x0, "x0", ("argmax", "sample"))
    if variant == "mc" and value_model is None:
        raise ValueError("`variant='mc'` needs a `value_model` (see train_value_model)")
    if value_model is not None and not callable(value_model):
        raise TypeError(f"`value_model` must be callable, got {type(value_model).__name__}")
    return M, variant, x0


def svdd(
    model: Denoiser,
    reward: Reward,
    n: int,
    *,
    M: int = 10,
    alpha: float = 0.0,
    variant: str = "pm",
    value_model: ValueFunction | None = None,
    x0: str = "argmax",
    length: int | None = None,
    steps: int | None = None,
    t_min: float = 1e-5,
    schedule: Any = None,
    precision: str = "float64",
    sampler: LSDSampler | None = None,
    seeds: Sequence[int] | np.ndarray | None = None,
    rng: RNGLike = None,
    device: Any = None,
    batch_size: int | None = None,
    decode: bool | None = None,
    progress: bool = False,
) -> GuidanceResult:
    r"""Soft value-based decoding (SVDD): ``M`` pretrained candidates per step, pick by value.

    Parameters
    ----------
    model : Denoiser
        The pretrained masked diffusion model (see :class:`~sciddm.discrete.Denoiser`).
    reward : callable
        ``reward(batch)`` with ``batch`` the decoded strings (when the model
        has a tokenizer and ``decode`` is not False) or an int64 array (m, L)
        of ids; returns m finite floats. Scores the final samples (and, for
        SVDD-PM, the predicted clean sequences of the candidates).
    n : int
        Number of samples (>= 1).
    M : int, default 10
        Candidates per step (``M = 1``: the pretrained ancestral sampler).
    alpha : float, default 0
        Temperature (>= 0). ``alpha > 0`` selects candidate :math:`m` with
        probability :math:`\mathrm{softmax}(\hat v/\alpha)_m`; ``alpha = 0``
        takes the argmax (the released code).
    variant : {"pm", "mc"}, default "pm"
        ``"pm"``: posterior-mean value :math:`\hat v(x_s) = r(\hat x_0(x_s))`
        with :math:`\hat x_0` predicted by one more network evaluation of each
        candidate (which also gives the next step's :math:`p_\theta`).
        ``"mc"``: :math:`\hat v = ` ``value_model(x_s, s)``.
    value_model : callable, optional
        ``value_model(x (m, L) LongTensor, t (m,) Tensor) -> (m,)``, e.g. the
        :class:`ValueModel` of :func:`train_value_model` or exact values.
    x0 : {"argmax", "sample"}, default "argmax"
        SVDD-PM's :math:`\hat x_0`: most probable token per masked position, or a draw.
    length : int, optional
        Sequence length; defaults to ``model.length``.
    steps : int, optional
        Steps of the ancestral chain (default ``length``): ``steps`` steps on
        ``linspace(1, t_min, steps + 1)``, then ``t_min -> 0``, as in
        :func:`~sciddm.discrete.sample`.
    t_min : float, default 1e-5
        Last time of the grid, in (0, 1).
    schedule : object with ``alpha`` and ``alpha_inv``, optional
        Log-linear by default.
    precision : {"float64", "float32"}, default "float64"
        Categorical draws (see :func:`~sciddm.discrete.categorical`).
    sampler : LSDSampler, optional
        A learned few-step sampler (:func:`~sciddm.discrete.distill_sampler`)
        whose chain replaces the ancestral one as the proposal: its time grid
        (``steps``, ``t_min`` and ``schedule`` are then taken from it;
        ``steps`` may only repeat its ``K``, ``schedule`` must be None,
        ``precision`` "float64") and, at step :math:`k`, the prediction
        :math:`p_\theta^{\beta_k}/\sum p_\theta^{\beta_k}` with its learned logit
        scale. The values still use the model's own :math:`p_\theta`; the
        target is the learned chain's law tilted by the reward.
    seeds : sequence of int, optional
        One seed per sample (data, not a random source): output ``i``
        depends only on ``seeds[i]``.
    rng : None, int, numpy.random.Generator, torch.Generator or list of torch.Generator
        Source of the per-sample seeds when ``seeds`` is not given (see
        :func:`~sciddm.discrete.sample`); give ``seeds`` or ``rng``, not both.
    device : str or torch.device, optional
        Defaults to the device of the model's parameters, else CPU.
    batch_size : int, optional
        Samples per batch (default all ``n``); each batch evaluates ``M``
        candidates per sample.
    decode : bool, optional
        Pass decoded strings to ``reward`` (default: when the model has a tokenizer).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    GuidanceResult
        The samples, their rewards and their cost (network evaluations,
        reward and value calls).

    Notes
    -----
    All guided decoders target the soft-optimal law of the pretrained model
    :math:`p^{\mathrm{pre}}` tilted by the reward,

    .. math:: p^\star(x_0) \propto p^{\mathrm{pre}}(x_0)\, e^{r(x_0)/\alpha},
       \qquad v_t(x_t) = \alpha \log \mathbb{E}_{p^{\mathrm{pre}}}
       \big[e^{r(x_0)/\alpha} \mid x_t\big],

    whose optimal policy is the pretrained step re-weighted by
    :math:`e^{v_s/\alpha}` (theory note 76). At each step from :math:`t` to
    :math:`s` (Li et al. 2024, Alg. 1), SVDD

    1. draws :math:`x_s^{(1)}, \dots, x_s^{(M)} \sim q(x_s \mid x_t)` i.i.d.
       from one network call :math:`p_\theta(x_0 \mid x_t)`;
    2. weights :math:`w_m = e^{\hat v(x_s^{(m)})/\alpha}` and picks
       :math:`m \sim \mathrm{Categorical}(w / \sum_j w_j)` (the argmax when
       :math:`\alpha = 0`).

    With the exact soft value the picked candidate has law
    :math:`\propto q(x_s \mid x_t)\, e^{v_s(x_s)/\alpha}` as
    :math:`M \to \infty` (self-normalised importance resampling), the step
    of the soft-optimal policy. At the last step (:math:`s = 0`) the value
    is the reward itself, for both variants. Rows without masked tokens are
    left as they are and cost nothing.

    References
    ----------
    .. [1] X. Li, Y. Zhao, C. Wang, G. Scalia, G. Eraslan, S. Nair,
       T. Biancalani, S. Ji, A. Regev, S. Levine, M. Uehara, "Derivative-free
       guidance in continuous and discrete diffusion models with soft
       value-based decoding", arXiv:2408.08252 (2024), Alg. 1, eq. (4)-(6).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, svdd
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> res = svdd(m, lambda x: x.sum(1), 4, M=8, length=6, steps=6, seeds=range(4))
    >>> res.tokens.shape, bool((res.reward_calls <= 7 * 8).all())   # M per step while masked
    ((4, 6), True)
    >>> bool(res.rewards.mean() > 4)
    True
    """
    steps = learned_steps_iv(sampler, steps, schedule, precision)
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
    alpha, t_min, sch = chain_iv(alpha, t_min, schedule, precision)
    M, variant, x0 = _svdd_iv(M, variant, value_model, x0)
    run = _SvddRun(st, M=M, alpha=alpha, variant=variant, x0=x0, precision=precision)
    run.value_fn = ValueFn(value_model) if variant == "mc" else None
    g, run.betas, sch = learned_chain(sampler, st.steps, t_min, sch)
    parts = st.run_batches(lambda chunk: run.batch(chunk, g, sch))
    return st.result(
        parts,
        n_calls=run.counter.calls,
        method=f"svdd-{variant}",
        params={
            "M": M,
            "alpha": alpha,
            "variant": variant,
            "x0": x0,
            "steps": st.steps,
            "sampler": None if sampler is None else sampler.name,
        },
    )


class _SvddRun:
    """One SVDD run; :meth:`batch` decodes the samples of one batch of seeds."""

    def __init__(
        self, st: Setup, *, M: int, alpha: float, variant: str, x0: str, precision: str
    ) -> None:
        self.st, self.M, self.alpha, self.variant, self.x0 = st, M, alpha, variant, x0
        self.precision = precision
        self.counter = NetworkCounter()
        self.value_fn: ValueFn | None = None
        self.betas: list[float] = []  # logit scale of every step (1: the pretrained step)

    def batch(self, chunk: np.ndarray, g: list[float], sch: Any) -> dict[str, torch.Tensor]:
        st, dev = self.st, self.st.device
        b, mid = len(chunk), st.info.mask_id
        self.gen = RowGenerator(chunk, device=dev)
        self.xgen = RowGenerator(np.concatenate([child_seeds(s, 1) for s in chunk]), device=dev)
        self.x = torch.full((b, st.length), mid, dtype=torch.long, device=dev)
        self.nfe, self.rc, self.vc = (torch.zeros(b, dtype=torch.long, device=dev) for _ in "abc")
        self.p, used = self.counter.probs(st.model, self.x, g[0], mid, st.info.vocab_size)
        self.nfe += used
        self.val = torch.full((b,), float("nan"), dtype=torch.float64, device=dev)
        self.exact = torch.zeros(b, dtype=torch.bool, device=dev)  # val == reward(x)
        steps = progress_bar(range(len(g) - 1), enabled=st.progress, desc=f"svdd-{self.variant}")
        for i in steps:
            self.step(g[i], g[i + 1], sch, self.betas[i])
        need = ~self.exact
        if bool(need.any()):
            self.val[need] = st.reward(self.x[need])
            self.rc[need] += 1
        return {
            "tokens": self.x,
            "rewards": self.val,
            "nfe": self.nfe,
            "reward_calls": self.rc,
            "value_calls": self.vc,
        }

    def step(self, t: float, s: float, sch: Any, beta: float = 1.0) -> None:
        """Propose ``M`` candidates per row from ``q(x_s | x_t)``, value them, pick one."""
        st, M, x = self.st, self.M, self.x
        b, length, v, mid = x.shape[0], st.length, st.info.vocab_size, st.info.mask_id
        active = (x == mid).any(-1)
        q = transition_probs(sharpen(self.p, beta), x, t, s, mask_id=mid, schedule=sch)
        cand = categorical(
            q[:, None].expand(b, M, length, v), rng=self.gen, precision=self.precision
        )  # (b, M, L)
        act = active.nonzero(as_tuple=True)[0]
        vals, pc = self.values(cand, act, s)
        if self.x0 == "sample":
            self.xgen.counter += 1  # keep the x0-hat streams aligned for every row
        if self.alpha > 0:
            pick = categorical(torch.softmax(vals / self.alpha, dim=1), rng=self.gen)
        else:
            self.gen.counter += 1  # same stream positions whatever alpha
            pick = vals.argmax(1)
        rows = torch.arange(b, device=x.device)
        self.x = torch.where(active[:, None], cand[rows, pick], x)
        self.val = torch.where(active, vals[rows, pick], self.val)
        now_clean = ~(self.x == mid).any(-1)
        last = s == 0.0
        self.exact = torch.where(active, now_clean & (self.variant == "pm" or last), self.exact)
        if last:
            return
        self.p = self.p.clone()
        if pc is not None:  # SVDD-PM: p_theta of the picked candidates is known
            arange = torch.arange(len(act), device=x.device)
            self.p[act] = pc.reshape(len(act), M, length, v)[arange, pick[act]]
        else:  # SVDD-MC: one network call on the picked candidates
            p_new, used = self.counter.probs(st.model, self.x[act], s, mid, v)
            self.p[act] = p_new
            self.nfe[act] += used

    def values(
        self, cand: torch.Tensor, act: torch.Tensor, s: float
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Values (b, M) of the candidates of the active rows; SVDD-PM also returns their
        ``p_theta(x0 | x_s)`` (one network call), reused by the next step."""
        st, M = self.st, self.M
        b, length, v, mid = cand.shape[0], st.length, st.info.vocab_size, st.info.mask_id
        ca = cand[act].reshape(-1, length)
        vals = torch.zeros(b, M, dtype=torch.float64, device=cand.device)
        if s == 0.0:
            vals[act] = st.reward(ca).reshape(-1, M)
            self.rc[act] += M
            return vals, None
        if self.variant == "mc":
            assert self.value_fn is not None
            vals[act] = self.value_fn(ca, s).reshape(-1, M)
            self.vc[act] += M
            return vals, None
        pc, used_c = self.counter.probs(st.model, ca, s, mid, v)
        self.nfe[act] += used_c.reshape(-1, M).sum(1)
        xh = predict_x0(
            pc.reshape(len(act), M, length, v),
            ca.reshape(len(act), M, length),
            mask_id=mid,
            mode=self.x0,
            rng=self.xgen[act] if self.x0 == "sample" else None,
            precision=self.precision,
        ).reshape(-1, length)
        vals[act] = st.reward(xh).reshape(-1, M)
        self.rc[act] += M
        return vals, pc
