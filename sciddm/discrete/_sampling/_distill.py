r"""Learnable sampler distillation (LSD / LSD+) for masked diffusion models.

:func:`distill_sampler` learns an :class:`~sciddm.discrete.LSDSampler`: ``K``
per-step logit scales (LSD) and, with ``learn_schedule``, the ``K``-step time
grid (LSD+), so that the student's trajectory follows that of a many-step
teacher sampler of the same model (Fu, Guo & Liu 2025).

The objective. Along a trajectory the *denoiser trajectory* is the sequence of
predictions :math:`\phi_{t}(x_t) \in [0, 1]^{L \times V}`: row :math:`\ell` is
:math:`p_\theta(x_0^\ell \mid x_t)` at a masked position and the one-hot of
:math:`x_t^\ell` at an unmasked one (SUBS). The student's and the teacher's
trajectories from the all-[MASK] state cannot be paired state by state (their
random unmaskings differ), so their denoiser trajectories are aligned *in
distribution*, at the student's times :math:`t_1, \dots, t_{K-1}` and at the
end (:math:`t = 0`, where :math:`\phi` is the one-hot sequence), by the
squared maximum mean discrepancy

.. math::

    \mathcal L = \sum_{j} \mathrm{MMD}^2_{k}\big(\mathrm{law}\,\phi_{t_j}(X^S_{t_j}),\,
        \mathrm{law}\,\phi_{t_j}(X^T_{t_j})\big),
    \qquad
    k(\phi, \phi') = \sum_{\lambda} \exp\Big(-\lambda\,\big(1 - \tfrac{1}{L}
        \textstyle\sum_\ell \langle \phi^\ell, \phi'^\ell \rangle\big)\Big),

where :math:`\langle\phi^\ell, \phi'^\ell\rangle` is the probability that two
independent draws from the two predictions agree at position :math:`\ell`
(at :math:`t = 0`, :math:`1 - \frac1L\sum_\ell\langle\cdot\rangle` is the
normalised Hamming distance). The kernel is strictly positive definite on
sequences, so the final term vanishes only when the student's output law
equals the teacher's. Sampling is discrete, so the gradient is the
score-function (REINFORCE) estimator of the student's path probability,
with reward-to-go and a leave-one-out baseline; the teacher's trajectories
are a pool drawn once (their states at any time follow from the tokens and
unmasking times that :func:`~sciddm.discrete.sample` returns).
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
from sciddm._core.rng import RNGLike, as_torch_generator
from sciddm._core.validation import check_int, check_scalar
from sciddm.discrete._protocol import (
    Denoiser,
    ModelInfo,
    call_model,
    check_tokens,
    model_info,
    resolve_device,
    resolve_length,
    resolve_schedule,
    subs_log_probs,
)
from sciddm.discrete._sampling._categorical import draw_seeds
from sciddm.discrete._sampling._lsd import LSDSampler, _vector
from sciddm.discrete._sampling._sample import SampleResult, sample

__all__ = ["DistillResult", "distill_sampler"]

logger = logging.getLogger(__name__)

#: Bounds of the learned log logit scales (scales in [e^-3, e^3]) and schedule logits.
_LOG_SCALE_BOUND = 3.0
_SCHEDULE_LOGIT_BOUND = 10.0


@dataclasses.dataclass(frozen=True, repr=False)
class DistillResult(Result):
    r"""Output of :func:`distill_sampler`: the learned sampler, its training curve and cost.

    Attributes
    ----------
    sampler : LSDSampler
        The learned sampler (pass it as ``method`` to :func:`~sciddm.discrete.sample`).
    losses : ndarray (iterations,)
        Unbiased estimate of the objective (the sum of squared MMDs between
        the student's and the teacher's denoiser trajectories) at each iteration.
    logit_scales_trace : ndarray (iterations, K)
        The logit scales :math:`\beta_k` used at each iteration.
    times_trace : ndarray (iterations, K + 1)
        The time grid used at each iteration.
    n_calls : int
        Batched network calls in all (teacher pool and training).
    nfe : int
        Sequences evaluated by the network in all (the rows of the calls).
    teacher_calls, teacher_nfe : int
        The part of ``n_calls`` and ``nfe`` spent drawing the teacher pool
        (0 with ``data``).
    wall_time : float
        Seconds in all.
    iterations, batch_size : int
        As requested.
    teacher_steps : int or None
        Steps of the teacher (None: the first-hitting sampler; with ``data``:
        as requested, unused).

    Examples
    --------
    >>> from sciddm.discrete import distill_sampler
    >>> from sciddm.discrete.toys import toy_problem
    >>> res = distill_sampler(toy_problem(length=3, n_tokens=2).model(), 2, teacher_steps=50,
    ...                       iterations=4, batch_size=8, n_teacher=32, rng=0)
    >>> res.losses.shape, res.times_trace.shape, res.sampler.name
    ((4,), (4, 3), 'lsd+')
    """

    sampler: LSDSampler
    losses: np.ndarray
    logit_scales_trace: np.ndarray
    times_trace: np.ndarray
    n_calls: int
    nfe: int
    teacher_calls: int
    teacher_nfe: int
    wall_time: float
    iterations: int
    batch_size: int
    teacher_steps: int | None

    def plot(self, ax: Any = None) -> Any:
        """Plot the training curve (the objective per iteration) on ``ax`` (a new one by default).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.

        Returns
        -------
        matplotlib Axes
        """
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        it = np.arange(1, len(self.losses) + 1)
        ax.plot(it, self.losses, lw=0.6, alpha=0.5, label="per iteration")
        w = max(1, len(self.losses) // 20)
        smooth = np.convolve(self.losses, np.ones(w) / w, mode="valid")
        ax.plot(it[w - 1 :], smooth, lw=1.5, label=f"mean of {w}")
        ax.set_xlabel("iteration")
        ax.set_ylabel("sum of squared MMDs")
        ax.set_title(f"{self.sampler.name}, K = {self.sampler.steps}")
        ax.legend()
        return ax


# --------------------------------------------------------------------------- validation


def _data_iv(
    data: Any, info: ModelInfo, teacher: Any, length: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``data`` as a LongTensor (m, L) of clean ids (m >= 2), with its unmasking times if any."""
    if isinstance(data, SampleResult):
        times = torch.as_tensor(np.asarray(data.unmask_times, dtype=np.float64))
        x, _ = _data_iv(data.tokens, info, teacher, length)
        if tuple(times.shape) != tuple(x.shape) or not bool(torch.isfinite(times).all()):
            raise ValueError(
                "`data` as a SampleResult must hold complete samples (finite unmask_times of "
                "the shape of its tokens)"
            )
        return x, times
    if isinstance(data, (str, bytes)):
        raise TypeError("`data` must be a sequence of sequences (strings or id rows), not a str")
    if isinstance(data, Sequence) and len(data) and all(isinstance(s, str) for s in data):
        tok = getattr(teacher, "tokenizer", None)
        if tok is None or not hasattr(tok, "encode_batch"):
            raise ValueError("`data` as strings needs a teacher with a `tokenizer`; pass ids")
        data = tok.encode_batch(list(data), length=length)
    x = check_tokens(data, info, "data")
    if x.shape[0] < 2:
        raise ValueError(f"`data` must hold at least 2 sequences, got {x.shape[0]}")
    if x.shape[1] != length:
        raise ValueError(f"`data` rows must have length {length}, got {x.shape[1]}")
    return x, None


def _distill_iv(
    teacher: Any, steps: Any, length: Any, teacher_steps: Any, options: dict[str, Any]
) -> tuple[ModelInfo, int, int, int | None]:
    info = model_info(teacher)
    steps = check_int(steps, "steps", lo=1, hi=10_000)
    length = resolve_length(info, length, "teacher")
    if teacher_steps is not None:
        teacher_steps = check_int(teacher_steps, "teacher_steps", lo=steps, hi=10_000_000)
    if not isinstance(options["learn_schedule"], (bool, np.bool_)):
        raise TypeError(f"`learn_schedule` must be a bool, got {options['learn_schedule']!r}")
    check_int(options["iterations"], "iterations", lo=1, hi=10_000_000)
    check_int(options["batch_size"], "batch_size", lo=2, hi=1_000_000)
    check_int(options["n_teacher"], "n_teacher", lo=2, hi=100_000_000)
    check_scalar(options["lr"], "lr", lo=0.0, hi=1e3, closed="right")
    check_scalar(options["t_min"], "t_min", lo=0.0, hi=1.0, closed="left")
    lam = _vector(options["bandwidths"], "bandwidths")
    if lam.size == 0 or not ((lam > 0) & (lam <= 1e4)).all():
        raise ValueError(f"`bandwidths` must be non-empty, each in (0, 1e4], got {lam!r}")
    if info.time_conditioned and teacher_steps is None:
        raise ValueError(
            "`teacher_steps=None` (the first-hitting teacher) needs a time-agnostic model; "
            "give a number of ancestral steps for a time-conditioned one"
        )
    return info, steps, length, teacher_steps


# --------------------------------------------------------------------------- pieces


def _features(out: torch.Tensor, info: ModelInfo, x: torch.Tensor) -> torch.Tensor:
    """Denoiser features (n, L*V): ``p_theta`` at masked positions, one-hot elsewhere (float64)."""
    f = torch.nn.functional.one_hot(x, info.vocab_size).to(torch.float64)
    masked = x == info.mask_id
    if bool(masked.any()):
        f[masked] = subs_log_probs(out[masked], info, torch.float64, check=False).exp()
    return f.reshape(x.shape[0], -1)


def _kernel(fa: torch.Tensor, fb: torch.Tensor, lam: torch.Tensor, length: int) -> torch.Tensor:
    """Sum over bandwidths of ``exp(-lam (1 - <fa, fb> / L))`` (matrix over the two batches)."""
    d = (1.0 - fa @ fb.T / length).clamp_min(0.0)
    return torch.exp(-lam[:, None, None] * d[None]).sum(0)


def _rewards(
    fs: torch.Tensor, ft: torch.Tensor, lam: torch.Tensor, length: int
) -> tuple[torch.Tensor, float]:
    """Per-student-sample share of the MMD^2 U-statistic, and the MMD^2 estimate itself."""
    b, bt = fs.shape[0], ft.shape[0]
    kss = _kernel(fs, fs, lam, length)
    kst = _kernel(fs, ft, lam, length)
    ktt = _kernel(ft, ft, lam, length)
    off = kss.sum(1) - kss.diagonal()
    r = 2.0 * off / (b * (b - 1)) - 2.0 * kst.sum(1) / (b * bt)
    ut = (ktt.sum() - ktt.diagonal().sum()) / (bt * (bt - 1))
    mmd = float(off.sum() / (b * (b - 1)) - 2.0 * kst.mean() + ut)
    return r, mmd


def _grid(theta: torch.Tensor, fixed: torch.Tensor | None, t_min: float) -> torch.Tensor:
    """Times (K + 1,): ``1 - (1 - t_min) cumsum(softmax(theta))`` ending at ``t_min`` (or ``fixed``)."""
    if fixed is not None:
        return fixed
    inc = torch.softmax(theta, 0) * (1.0 - t_min)
    inner = 1.0 - torch.cumsum(inc, 0)[:-1]
    one = torch.ones(1, dtype=theta.dtype)
    return torch.cat([one, inner, torch.full((1,), t_min, dtype=theta.dtype)])


class _Pool:
    """The reference trajectories: clean tokens and the time each position was unmasked."""

    def __init__(self, tokens: torch.Tensor, unmask_times: torch.Tensor, mask_id: int) -> None:
        self.tokens, self.unmask_times, self.mask_id = tokens, unmask_times, mask_id

    def states(self, idx: torch.Tensor, t: float) -> torch.Tensor:
        """States at time ``t`` of the trajectories ``idx``: positions unmasked by then keep their token."""
        tok = self.tokens[idx]
        return torch.where(self.unmask_times[idx] >= t, tok, torch.full_like(tok, self.mask_id))


def _teacher_pool(
    teacher: Any,
    info: ModelInfo,
    n: int,
    length: int,
    teacher_steps: int | None,
    gen: torch.Generator,
    dev: torch.device,
    t_min: float,
    sch: Any,
) -> tuple[_Pool, int, int]:
    seeds = draw_seeds(n, gen)
    if teacher_steps is None:
        res = sample(teacher, n, length=length, method="fhs", seeds=seeds, device=dev, schedule=sch)
    else:
        method = "ancestral" if info.time_conditioned else "cached"  # same law, <= L calls
        res = sample(
            teacher,
            n,
            length=length,
            method=method,
            steps=teacher_steps,
            seeds=seeds,
            device=dev,
            schedule=sch,
            t_min=t_min,
        )
    tok = torch.as_tensor(res.tokens, device=dev)
    tms = torch.as_tensor(res.unmask_times, device=dev)
    return _Pool(tok, tms, info.mask_id), res.n_calls, int(res.nfe.sum())


def _data_pool(
    x: torch.Tensor, info: ModelInfo, gen: torch.Generator, dev: torch.device, sch: Any
) -> _Pool:
    """The forward masking process on ``x``: i.i.d. masking times with CDF (1 - a_t) / (1 - a_1)."""
    u = torch.rand(x.shape, generator=gen, dtype=torch.float64).to(dev)
    a1 = float(sch.alpha(1.0))
    tms = sch.alpha_inv(1.0 - u * (1.0 - a1))
    return _Pool(x.to(dev), torch.as_tensor(tms, dtype=torch.float64, device=dev), info.mask_id)


# --------------------------------------------------------------------------- training


class _Trainer:
    """One REINFORCE step of the LSD objective (see the module docstring)."""

    def __init__(
        self,
        model: Any,
        info: ModelInfo,
        pool: _Pool,
        *,
        length: int,
        batch: int,
        lam: torch.Tensor,
        sch: Any,
        gen: torch.Generator,
        dev: torch.device,
    ) -> None:
        self.model, self.info, self.pool = model, info, pool
        self.length, self.batch, self.lam, self.sch = length, batch, lam, sch
        self.gen, self.dev = gen, dev
        self.calls = self.nfe = 0

    def _call(self, x: torch.Tensor, t: float) -> torch.Tensor:
        tt = torch.full((x.shape[0],), t, device=self.dev)
        out = call_model(
            self.model,
            self.info,
            x,
            tt if self.info.time_conditioned else None,
            check=self.calls == 0,
        )
        self.calls += 1
        self.nfe += x.shape[0]
        return out

    def _rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=self.gen, dtype=torch.float64).to(self.dev)

    def _step(
        self, x: torch.Tensor, out: torch.Tensor, log_beta: torch.Tensor, pi: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One student step: the new states and the log-probability of the draws (with grad)."""
        mid = self.info.mask_id
        masked = x == mid
        lp = subs_log_probs(out[masked], self.info, torch.float64, check=False)
        fin = torch.isfinite(lp)
        z = (torch.exp(log_beta) * lp.masked_fill(~fin, 0.0)).masked_fill(~fin, -math.inf)
        lpb = torch.log_softmax(z, dim=-1)
        u_move, u_tok = self._rand(x.shape[0], x.shape[1]), self._rand(x.shape[0], x.shape[1])
        move = u_move[masked] < pi.detach()
        cdf = torch.cumsum(lpb.detach().exp(), -1)
        tok = torch.searchsorted(cdf, (u_tok[masked] * cdf[:, -1])[:, None].contiguous())
        tok = tok[:, 0].clamp_max(self.info.vocab_size - 1)
        lp_tok = lpb.gather(-1, tok[:, None])[:, 0]
        per = torch.where(move, torch.log(pi) + lp_tok, torch.log1p(-pi))
        rows = masked.nonzero(as_tuple=True)[0]
        logp = torch.zeros(x.shape[0], dtype=torch.float64, device=self.dev).index_add(0, rows, per)
        new = x.clone()
        new[masked] = torch.where(move, tok, torch.full_like(tok, mid))
        return new, logp

    def iteration(self, log_beta: torch.Tensor, times: torch.Tensor) -> tuple[torch.Tensor, float]:
        """The surrogate loss (its gradient is the REINFORCE estimate) and the objective's estimate."""
        b, mid, steps = self.batch, self.info.mask_id, log_beta.shape[0]
        idx = torch.randint(0, self.pool.tokens.shape[0], (b,), generator=self.gen).to(self.dev)
        x = torch.full((b, self.length), mid, dtype=torch.long, device=self.dev)
        logps, rewards, total = [], [], 0.0
        for k in range(steps):
            t = float(times[k].detach())
            out = self._call(x, t)
            if k > 0:  # align the denoiser trajectories at t_k
                xt = self.pool.states(idx, t)
                r, mmd = _rewards(
                    _features(out, self.info, x),
                    _features(self._call(xt, t), self.info, xt),
                    self.lam,
                    self.length,
                )
                rewards.append(r)
                total += mmd
            a_t, a_s = self.sch.alpha(times[k]), self.sch.alpha(times[k + 1])
            x, logp = self._step(x, out, log_beta[k], (a_s - a_t) / (1 - a_t))
            logps.append(logp)
        masked = x == mid
        if bool(masked.any()):  # noise removal t_min -> 0 (no parameter)
            out = self._call(x, float(times[-1].detach()))
            p = subs_log_probs(out[masked], self.info, torch.float64, check=False).exp()
            cdf = torch.cumsum(p, -1)
            u = self._rand(b, self.length)[masked]
            tok = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None].contiguous())[:, 0]
            x = x.clone()
            x[masked] = tok.clamp_max(self.info.vocab_size - 1)
        one_hot = torch.nn.functional.one_hot
        fs = one_hot(x, self.info.vocab_size).to(torch.float64).reshape(b, -1)
        ft = one_hot(self.pool.tokens[idx], self.info.vocab_size).to(torch.float64).reshape(b, -1)
        r, mmd = _rewards(fs, ft, self.lam, self.length)
        rewards.append(r)
        total += mmd
        rew = torch.stack(rewards, 1)  # column j: alignment after step j + 1
        to_go = torch.flip(torch.cumsum(torch.flip(rew, [1]), 1), [1])  # step k moves columns >= k
        base = (to_go.sum(0, keepdim=True) - to_go) / (b - 1)  # leave-one-out baseline
        surrogate = ((to_go - base).detach() * torch.stack(logps, 1)).sum()
        return surrogate, total


def _train_loop(
    trainer: _Trainer,
    steps: int,
    t_min: float,
    learn_schedule: bool,
    iterations: int,
    lr: float,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Adam on the log logit scales (and schedule logits); Polyak average of the last quarter."""
    log_beta = torch.zeros(steps, dtype=torch.float64, requires_grad=True)
    theta = torch.zeros(steps, dtype=torch.float64, requires_grad=learn_schedule)
    fixed = None if learn_schedule else torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64)
    params = [log_beta, theta] if learn_schedule else [log_beta]
    opt = torch.optim.Adam(params, lr=lr)
    losses = np.zeros(iterations)
    beta_tr = np.zeros((iterations, steps))
    time_tr = np.zeros((iterations, steps + 1))
    start_avg = iterations - max(1, iterations // 4)
    for it in progress_bar(range(iterations), enabled=progress, desc="distill"):
        times = _grid(theta, fixed, t_min)
        beta_tr[it] = np.exp(log_beta.detach().numpy())
        time_tr[it] = times.detach().numpy()
        surrogate, losses[it] = trainer.iteration(log_beta.to(trainer.dev), times)
        opt.zero_grad()
        surrogate.backward()
        opt.step()
        with torch.no_grad():
            log_beta.clamp_(-_LOG_SCALE_BOUND, _LOG_SCALE_BOUND)
            theta.clamp_(-_SCHEDULE_LOGIT_BOUND, _SCHEDULE_LOGIT_BOUND)
    # iterate averaging in the parameters (the traces hold the iterates used)
    avg_beta = np.exp(np.log(beta_tr[start_avg:]).mean(0))
    avg_times = time_tr[start_avg:].mean(0) if learn_schedule else time_tr[-1]
    return losses, beta_tr, time_tr, avg_beta, avg_times


def distill_sampler(
    teacher: Denoiser,
    steps: int,
    *,
    data: Any = None,
    teacher_steps: int | None = 1000,
    learn_schedule: bool = True,
    iterations: int = 200,
    batch_size: int = 64,
    lr: float = 0.05,
    n_teacher: int = 1024,
    length: int | None = None,
    t_min: float = 1e-5,
    bandwidths: Sequence[float] = (1.0, 4.0, 16.0),
    rng: RNGLike = None,
    device: Any = None,
    progress: bool = False,
) -> DistillResult:
    r"""Learn a ``steps``-step sampler of ``teacher`` that follows its many-step sampler (LSD / LSD+).

    The student is an :class:`~sciddm.discrete.LSDSampler`: the ancestral
    chain with one learned logit scale :math:`\beta_k` per step (LSD) and,
    with ``learn_schedule``, a learned time grid :math:`t_1 > \dots > t_{K-1}`
    (LSD+). It starts at the plain ``steps``-step ancestral sampler
    (:math:`\beta_k = 1`, uniform grid) and is trained so that the law of
    its denoiser trajectory matches the teacher's at its own times and at the
    end (module :mod:`sciddm.discrete._sampling._distill`, theory note 77).

    Parameters
    ----------
    teacher : Denoiser
        The model; the teacher is its ``teacher_steps``-step ancestral sampler.
    steps : int
        ``K``, the student's number of steps (1 to 10000).
    data : SampleResult, array_like (m, L) of ids or sequence of str, optional
        The reference trajectories instead of a fresh teacher pool: a
        :class:`~sciddm.discrete.SampleResult` of the teacher (its tokens and
        ``unmask_times`` are the trajectories, e.g. one pool shared by several
        distillations), or clean sequences whose forward masking (i.i.d.
        masking times) is used (the student then follows the data's
        trajectory, which is the teacher's only when the model is exact).
        Strings need ``teacher.tokenizer``. ``teacher_steps`` and
        ``n_teacher`` are then not used.
    teacher_steps : int or None, default 1000
        Steps of the teacher's ancestral sampler (>= ``steps``; drawn with the
        cached sampler, same law, when the model is time-agnostic). None: the
        first-hitting sampler, the continuous-time limit (``L`` calls).
    learn_schedule : bool, default True
        Learn the time grid too (LSD+); False keeps ``linspace(1, t_min, K + 1)`` (LSD).
    iterations : int, default 200
        Adam steps.
    batch_size : int, default 64
        Student trajectories (and teacher trajectories) per step (>= 2).
    lr : float, default 0.05
        Adam learning rate on :math:`\log\beta_k` (and the schedule logits).
    n_teacher : int, default 1024
        Size of the teacher pool (or of the masked-data pool: ``len(data)``
        is used instead).
    length : int, optional
        Sequence length; defaults to ``teacher.length``.
    t_min : float, default 1e-5
        Last time of the student's grid (then noise removal to 0), in [0, 1).
    bandwidths : sequence of float, default (1, 4, 16)
        The :math:`\lambda` of the kernel (a sum over them).
    rng : None, int, numpy.random.Generator or torch.Generator
        Source of the teacher pool's seeds and of every draw of training;
        the same ``rng`` gives the same sampler, bit for bit, on a device.
    device : str or torch.device, optional
        Defaults to the device of the teacher's parameters (CPU otherwise).
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    DistillResult
        ``.sampler`` (averaged over the last quarter of iterations),
        ``.losses`` (the objective's estimate per iteration), the traces of
        the coefficients and grid, and the cost.

    Notes
    -----
    Coefficients. :math:`\beta_k` multiplies the logits of
    :math:`p_\theta(x_0 \mid x_{t_k})` at step ``k`` (LSD's per-step
    scaling of the network output): above 1 it sharpens the tokens drawn
    together in the step, below 1 it flattens them. The unmasking probability
    :math:`\pi_k` of a step is a function of the grid only (MDLM eq. 7), so
    scaling the unmasking rates is not a separate coefficient: it is what
    learning the grid does (LSD+).

    Loss. The sum over :math:`t_j \in \{t_1, \dots, t_{K-1}, 0\}` of
    :math:`\mathrm{MMD}^2` between the student's and the teacher's
    denoiser features (module docstring). A pointwise divergence between the
    two trajectories' predictions (LSD's relaxed objective) regresses the
    coefficients towards flatter predictions here (observed on the toy
    problems), because independent student and teacher states at a time are
    not paired; the distributional version is minimised by a student whose
    output law is the teacher's (the kernel is strictly positive definite,
    theory note 77).

    Gradient. :math:`\nabla \mathbb E[\mathcal L] = \mathbb E[\sum_k
    (G_k - b_k) \nabla \log q_k]`, with :math:`q_k` the probability of the
    student's step-``k`` draws (unmask decisions through :math:`\pi_k`,
    tokens through :math:`\beta_k`), :math:`G_k` the student sample's share
    of the MMD terms after step ``k`` and :math:`b_k` a leave-one-out mean.
    For a time-conditioned model the dependence of its output on the time
    is not differentiated.

    Cost: the teacher pool (``teacher_steps``-step ancestral: at most ``L``
    calls per sample for a time-agnostic model), then per iteration
    ``2 K - 1`` batched calls (``K`` for the student, ``K - 1`` for the
    teacher's features at the student's times), plus rare noise removals.

    References
    ----------
    .. [1] F. Fu, T. Guo, Z. Liu, "Learnable sampler distillation for discrete
       diffusion models", NeurIPS 2025, arXiv:2509.19962.
    .. [2] A. Gretton et al., "A kernel two-sample test", JMLR 13 (2012)
       (the MMD and its unbiased estimate).
    .. [3] R. J. Williams, "Simple statistical gradient-following algorithms
       for connectionist reinforcement learning", Machine Learning 8 (1992)
       (the score-function gradient).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.discrete import distill_sampler, sample
    >>> from sciddm.discrete.toys import toy_problem
    >>> prob = toy_problem(length=3, n_tokens=2, rng=0)
    >>> res = distill_sampler(prob.model(), 2, teacher_steps=100, iterations=20, batch_size=16,
    ...                       n_teacher=64, rng=0)
    >>> res.sampler.steps, res.sampler.times[0], res.losses.shape
    (2, np.float64(1.0), (20,))
    >>> out = sample(prob.model(), 5, method=res.sampler, seeds=range(5))
    >>> out.tokens.shape, out.method
    ((5, 3), 'lsd+')
    """
    opts = dict(
        learn_schedule=learn_schedule,
        iterations=iterations,
        batch_size=batch_size,
        n_teacher=n_teacher,
        lr=lr,
        t_min=t_min,
        bandwidths=bandwidths,
    )
    info, steps, length, teacher_steps = _distill_iv(teacher, steps, length, teacher_steps, opts)
    t_min, lr = float(t_min), float(lr)
    dev = resolve_device(teacher, device)
    x_data, t_data = (None, None) if data is None else _data_iv(data, info, teacher, length)
    gen = as_torch_generator(rng, "cpu")
    sch = resolve_schedule(None)
    t0 = time.perf_counter()
    if x_data is None:
        pool, t_calls, t_nfe = _teacher_pool(
            teacher, info, n_teacher, length, teacher_steps, gen, dev, t_min, sch
        )
    elif t_data is not None:  # the teacher's own trajectories, drawn by the caller
        pool, t_calls, t_nfe = _Pool(x_data.to(dev), t_data.to(dev), info.mask_id), 0, 0
    else:
        pool, t_calls, t_nfe = _data_pool(x_data, info, gen, dev, sch), 0, 0
    lam = torch.as_tensor(_vector(bandwidths, "bandwidths"), device=dev)
    trainer = _Trainer(
        teacher,
        info,
        pool,
        length=length,
        batch=int(batch_size),
        lam=lam,
        sch=sch,
        gen=gen,
        dev=dev,
    )
    losses, beta_tr, time_tr, beta, times = _train_loop(
        trainer, steps, t_min, bool(learn_schedule), int(iterations), lr, progress
    )
    name = "lsd+" if learn_schedule else "lsd"
    sampler = LSDSampler(times, np.clip(beta, 1e-12, None), sch, name)
    wall = time.perf_counter() - t0
    logger.debug("distilled %s with K=%d in %.2fs", name, steps, wall)
    return DistillResult(
        sampler=sampler,
        losses=losses,
        logit_scales_trace=beta_tr,
        times_trace=time_tr,
        n_calls=t_calls + trainer.calls,
        nfe=t_nfe + trainer.nfe,
        teacher_calls=t_calls,
        teacher_nfe=t_nfe,
        wall_time=wall,
        iterations=int(iterations),
        batch_size=int(batch_size),
        teacher_steps=teacher_steps,
    )
