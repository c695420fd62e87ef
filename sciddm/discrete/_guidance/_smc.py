"""Twisted sequential Monte Carlo for reward-guided decoding (see :func:`sciddm.discrete.svdd`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.rng import RNGLike
from sciddm._core.validation import check_choice, check_int, check_scalar
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

__all__ = ["smc"]


def _systematic(w: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Systematic resampling indices (rows of ``w`` (n, K) normalised; ``u`` (n,) uniforms)."""
    k = w.shape[1]
    cdf = torch.cumsum(w, dim=1)
    cdf[:, -1] = 1.0
    pos = (u[:, None] + torch.arange(k, device=w.device, dtype=w.dtype)) / k
    return torch.searchsorted(cdf.contiguous(), pos.contiguous(), right=True).clamp_max(k - 1)


def _smc_iv(
    K: Any, alpha: float, resample: Any, ess_threshold: Any, x0: Any, value_model: Any
) -> tuple[int, str, float, str]:
    K = check_int(K, "K", lo=2, hi=100_000)
    if alpha <= 0:
        raise ValueError(f"`alpha` must be > 0 for SMC, got {alpha}")
    resample = check_choice(resample, "resample", ("systematic", "multinomial"))
    ess_threshold = check_scalar(ess_threshold, "ess_threshold", lo=0.0, hi=1.0)
    x0 = check_choice(x0, "x0", ("argmax", "sample"))
    if value_model is not None and not callable(value_model):
        raise TypeError(f"`value_model` must be callable, got {type(value_model).__name__}")
    return K, resample, ess_threshold, x0


def smc(
    model: Denoiser,
    reward: Reward,
    n: int,
    *,
    K: int = 10,
    alpha: float = 0.1,
    resample: str = "systematic",
    ess_threshold: float = 0.5,
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
    r"""Twisted sequential Monte Carlo: ``n`` independent populations of ``K`` particles.

    Parameters
    ----------
    model : Denoiser
        The pretrained masked diffusion model (see :class:`~sciddm.discrete.Denoiser`).
    reward : callable
        ``reward(batch)`` with ``batch`` the decoded strings (when the model
        has a tokenizer and ``decode`` is not False) or an int64 array (m, L)
        of ids; returns m finite floats.
    n : int
        Number of returned samples (one per population, >= 1).
    K : int, default 10
        Particles per population (>= 2).
    alpha : float, default 0.1
        Temperature (> 0) of the target
        :math:`p^{\mathrm{pre}}(x_0)\, e^{r(x_0)/\alpha}`.
    resample : {"systematic", "multinomial"}, default "systematic"
        Resampling scheme.
    ess_threshold : float, default 0.5
        Resample a population when its effective sample size falls below
        ``ess_threshold * K`` (in [0, 1]).
    value_model : callable, optional
        Twisting values ``value_model(x_t, t) -> (m,)``; default
        :math:`r(\hat x_0(x_t))` (one more network evaluation of each particle,
        reused by the next step).
    x0 : {"argmax", "sample"}, default "argmax"
        :math:`\hat x_0` of the default twist (see :func:`~sciddm.discrete.svdd`).
    length : int, optional
        Sequence length; defaults to ``model.length``.
    steps : int, optional
        Steps of the ancestral chain (default ``length``).
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
        One seed per population (data, not a random source): output ``i``
        depends only on ``seeds[i]``.
    rng : None, int, numpy.random.Generator, torch.Generator or list of torch.Generator
        Source of the per-population seeds when ``seeds`` is not given (see
        :func:`~sciddm.discrete.sample`); give ``seeds`` or ``rng``, not both.
    device : str or torch.device, optional
        Defaults to the device of the model's parameters, else CPU.
    batch_size : int, optional
        Populations per batch (default all ``n``).
    decode : bool, optional
        Pass decoded strings to ``reward`` (default: when the model has a tokenizer).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    GuidanceResult
        With ``ess`` (effective sample size after each step's reweighting)
        and ``n_resamples``.

    Notes
    -----
    Proposal: the pretrained step :math:`q(x_s \mid x_t)`; incremental weight

    .. math:: G_s = \exp\big((\hat v_s(x_s) - \hat v_t(x_t))/\alpha\big),
       \qquad \hat v_0 = r.

    The product of the weights telescopes to
    :math:`\exp((r(x_0) - \hat v_1(x_1))/\alpha)`, so the weighted particles
    target :math:`p^{\mathrm{pre}}(x_0)\, e^{r(x_0)/\alpha}` whatever the
    twist, exactly as :math:`K \to \infty`; good values (the soft value) keep
    the weights even and the ESS high. The returned sample is one particle
    drawn by its final weight.

    References
    ----------
    .. [1] L. Wu, B. L. Trippe, C. A. Naesseth, D. M. Blei, J. P. Cunningham,
       "Practical and asymptotically exact conditional sampling in diffusion
       models", NeurIPS 2023 (TDS).
    .. [2] X. Li et al., "Derivative-free guidance in continuous and discrete
       diffusion models with soft value-based decoding", arXiv:2408.08252
       (2024), Sec. 6 (SMC baseline).
    .. [3] M. Skreta et al., "Feynman-Kac correctors in diffusion", 2025.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, smc
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2)
    >>> res = smc(m, lambda x: x.sum(1), 4, K=16, alpha=0.5, length=6, steps=6, seeds=range(4))
    >>> res.tokens.shape, res.ess.shape
    ((4, 6), (4, 7))
    >>> bool(res.rewards.mean() > 3)
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
    K, resample, ess_threshold, x0 = _smc_iv(K, alpha, resample, ess_threshold, x0, value_model)
    run = _SmcRun(st, K=K, alpha=alpha, x0=x0, precision=precision)
    run.value_fn = ValueFn(value_model) if value_model is not None else None
    run.resample, run.ess_threshold = resample, ess_threshold
    g, run.betas, sch = learned_chain(sampler, st.steps, t_min, sch)
    parts = st.run_batches(lambda chunk: run.batch(chunk, g, sch))
    return st.result(
        parts,
        n_calls=run.counter.calls,
        method="smc",
        params={
            "K": K,
            "alpha": alpha,
            "resample": resample,
            "ess_threshold": ess_threshold,
            "steps": st.steps,
            "sampler": None if sampler is None else sampler.name,
        },
    )


class _SmcRun:
    """One SMC run; :meth:`batch` runs the populations of one batch of seeds."""

    def __init__(self, st: Setup, *, K: int, alpha: float, x0: str, precision: str) -> None:
        self.st, self.K, self.alpha, self.x0, self.precision = st, K, alpha, x0, precision
        self.counter = NetworkCounter()
        self.value_fn: ValueFn | None = None
        self.betas: list[float] = []  # logit scale of every step (1: the pretrained step)
        self.resample, self.ess_threshold = "systematic", 0.5

    def batch(self, chunk: np.ndarray, g: list[float], sch: Any) -> dict[str, torch.Tensor]:
        st, K, dev = self.st, self.K, self.st.device
        b, mid, v = len(chunk), st.info.mask_id, st.info.vocab_size
        self.ggen = RowGenerator(chunk, device=dev)  # resampling and final pick
        pseeds = np.concatenate([child_seeds(s, K + 1) for s in chunk]).reshape(b, K + 1)
        self.pgen = RowGenerator(pseeds[:, :K].ravel(), device=dev)  # particle moves
        self.xgen = RowGenerator(pseeds[:, K].ravel(), device=dev)  # x0-hat draws ("sample")
        self.x = torch.full((b * K, st.length), mid, dtype=torch.long, device=dev)
        self.nfe, self.rc, self.vc = (torch.zeros(b, dtype=torch.long, device=dev) for _ in "abc")
        ess = torch.zeros(b, len(g) - 1, dtype=torch.float64, device=dev)
        self.n_res = torch.zeros(b, dtype=torch.long, device=dev)
        self.p, used = self.counter.probs(st.model, self.x, g[0], mid, v)
        self.nfe += used.reshape(b, K).sum(1)
        self.cur_v = self.values(g[0])
        self.logw = torch.zeros(b, K, dtype=torch.float64, device=dev)
        for i in progress_bar(range(len(g) - 1), enabled=st.progress, desc="smc"):
            ess[:, i] = self.step(g[i], g[i + 1], sch, self.betas[i])
        pick = categorical(torch.softmax(self.logw, dim=1), rng=self.ggen)
        flat = pick + torch.arange(b, device=dev) * K
        return {
            "tokens": self.x[flat],
            "rewards": self.cur_v[flat],
            "nfe": self.nfe,
            "reward_calls": self.rc,
            "value_calls": self.vc,
            "ess": ess,
            "n_resamples": self.n_res,
        }

    def step(self, t: float, s: float, sch: Any, beta: float = 1.0) -> torch.Tensor:
        """Move every particle by the pretrained step, reweight, resample; return the ESS."""
        st, K, mid = self.st, self.K, self.st.info.mask_id
        b = self.logw.shape[0]
        q = transition_probs(sharpen(self.p, beta), self.x, t, s, mask_id=mid, schedule=sch)
        self.x = categorical(q, rng=self.pgen, precision=self.precision)
        if s != 0.0:
            self.p, used = self.counter.probs(st.model, self.x, s, mid, st.info.vocab_size)
            self.nfe += used.reshape(b, K).sum(1)
        new_v = self.values(s)
        self.logw = self.logw + ((new_v - self.cur_v) / self.alpha).reshape(b, K)
        self.cur_v = new_v
        w = torch.softmax(self.logw, dim=1)
        ess = 1.0 / (w**2).sum(1)
        u = self.ggen.uniform()  # one draw per step for every population
        if s == 0.0:
            return ess
        do = ess < self.ess_threshold * K
        if bool(do.any()):
            self._resample(w, u, do)
        elif self.resample == "multinomial":
            self.ggen.counter += 1
        return ess

    def _resample(self, w: torch.Tensor, u: torch.Tensor, do: torch.Tensor) -> None:
        b, K, dev = w.shape[0], self.K, w.device
        if self.resample == "systematic":
            idx = _systematic(w, u)
        else:
            idx = categorical(w[:, None].expand(b, K, K), rng=self.ggen)
        keep = torch.arange(K, device=dev).expand(b, K)
        idx = torch.where(do[:, None], idx, keep)
        flat = (idx + torch.arange(b, device=dev)[:, None] * K).reshape(-1)
        self.x, self.p, self.cur_v = self.x[flat], self.p[flat], self.cur_v[flat]
        self.logw = torch.where(do[:, None], torch.zeros_like(self.logw), self.logw)
        self.n_res += do.long()

    def values(self, s: float) -> torch.Tensor:
        """Twisting values of the particles at time ``s`` (counts added)."""
        st, K, xs = self.st, self.K, self.x
        b = xs.shape[0] // K
        if s == 0.0:
            self.rc += K
            return st.reward(xs)
        if self.value_fn is not None:
            self.vc += K
            return self.value_fn(xs, s)
        xh = predict_x0(
            self.p.reshape(b, K, st.length, st.info.vocab_size),
            xs.reshape(b, K, st.length),
            mask_id=st.info.mask_id,
            mode=self.x0,
            rng=self.xgen if self.x0 == "sample" else None,
            precision=self.precision,
        ).reshape(b * K, st.length)
        self.rc += K
        return st.reward(xh)
