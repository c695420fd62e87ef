r"""Learned few-step samplers (LSD / LSD+): the sampler object and its chain.

An :class:`LSDSampler` is the ancestral chain of :func:`sciddm.discrete.sample`
with ``K`` steps on its own time grid :math:`1 = t_0 > t_1 > \dots > t_K =
t_{\min}` and one *logit scale* :math:`\beta_k > 0` per step. Step ``k`` moves
every masked position from :math:`t_k` to :math:`t_{k+1}` with

.. math::

    q_k(x^\ell_{t_{k+1}} = v \mid x_{t_k}) = \pi_k\, p^{\beta_k}_\theta(v \mid x_{t_k}),
    \qquad q_k(x^\ell_{t_{k+1}} = \mathrm{m} \mid x_{t_k}) = 1 - \pi_k,

where :math:`\pi_k = (\alpha_{t_{k+1}} - \alpha_{t_k}) / (1 - \alpha_{t_k})` is
the ancestral unmasking probability (MDLM, Sahoo et al. 2024, eq. 7) and
:math:`p^{\beta}_\theta \propto p_\theta^{\beta}` is the SUBS prediction with
its logits multiplied by :math:`\beta` (the learnable coefficient of LSD, Fu
et al. 2025, which scales the network's output at each step). A final step
from :math:`t_{\min}` to 0 fills the positions still masked from
:math:`p_\theta` (noise removal, as in ``method="ancestral"``). With
:math:`\beta_k = 1` and the uniform grid ``linspace(1, t_min, K + 1)``
(:meth:`LSDSampler.identity`) the chain *is* the ``K``-step ancestral sampler,
draw for draw. :func:`~sciddm.discrete.distill_sampler` learns the
coefficients (and, for LSD+, the grid).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.validation import check_int, check_scalar, check_str
from sciddm.discrete._protocol import ModelInfo, call_model, subs_log_probs, subs_probs
from sciddm.discrete._sampling._categorical import RowGenerator
from sciddm.discrete._sampling._chains import band_draw
from sciddm.discrete._schedule import LogLinearSchedule

__all__ = ["MAX_SCALE", "LSDSampler", "lsd_steps_iv", "run_lsd", "scaled_probs"]

#: Largest logit scale a sampler may carry (beyond it the step is an argmax in practice).
MAX_SCALE = 1e3


def _vector(value: Any, name: str) -> np.ndarray:
    """``value`` as a finite 1-D float64 array (TypeError / ValueError naming ``name``)."""
    if isinstance(value, (str, bytes)) or not (
        isinstance(value, (np.ndarray, torch.Tensor)) or np.iterable(value)
    ):
        raise TypeError(f"`{name}` must be a 1-D sequence of numbers, got {type(value).__name__}")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be a 1-D sequence of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"`{name}` must be finite")
    return arr


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class LSDSampler(Result):
    r"""A ``K``-step masked-diffusion sampler with learned coefficients and time grid (LSD / LSD+).

    Pass it as ``method`` to :func:`~sciddm.discrete.sample` (and to
    :func:`~sciddm.discrete.best_of_n`). Step ``k`` (from :math:`t_k` to
    :math:`t_{k+1}`) unmasks each masked position with the ancestral
    probability :math:`\pi_k = (\alpha_{t_{k+1}} - \alpha_{t_k})/(1 - \alpha_{t_k})`
    and draws its token from :math:`p_\theta^{\beta_k}`, the SUBS prediction
    with its logits multiplied by :math:`\beta_k`; a last step from
    :math:`t_{\min}` to 0 fills what is still masked from :math:`p_\theta`.

    Parameters
    ----------
    times : array_like, shape (K + 1,)
        The grid :math:`1 = t_0 > t_1 > \dots > t_K = t_{\min} \ge 0`,
        strictly decreasing.
    logit_scales : array_like, shape (K,)
        :math:`\beta_k \in (0, 1000]`: 1 keeps the model's prediction, above 1
        sharpens it (a lower temperature), below 1 flattens it.
    schedule : object with ``alpha`` and ``alpha_inv``, optional
        The masking schedule of the model; log-linear
        (:class:`~sciddm.discrete.LogLinearSchedule`) by default.
    name : str, default "lsd"
        A label (``"lsd"``, ``"lsd+"``, ...), the ``method`` of the samples.

    Attributes
    ----------
    steps : int
        ``K``, the number of learned steps (one network call each).
    t_min : float
        The last time of the grid.
    unmask_probs : ndarray (K,)
        :math:`\pi_k`.

    Notes
    -----
    A sampler costs ``K`` network calls per batch, plus one for the final
    noise removal when a position is still masked at :math:`t_{\min}` (with
    :math:`t_{\min} = 10^{-5}` and the log-linear schedule, a position is
    with probability about :math:`10^{-5}`), exactly like ``K``-step
    ancestral sampling.

    References
    ----------
    .. [1] F. Fu, T. Guo, Z. Liu, "Learnable sampler distillation for discrete
       diffusion models", NeurIPS 2025, arXiv:2509.19962 (learnable sampler
       coefficients; LSD+ learns the time schedule).
    .. [2] S. S. Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, eq. (7) (the ancestral step).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, LSDSampler, sample
    >>> logits = torch.log(torch.tensor([0.5, 0.3, 0.2, 0.0]))
    >>> m = FunctionModel(lambda x: logits.expand(*x.shape, 4), vocab_size=4, mask_id=3)
    >>> plain = LSDSampler.identity(4)
    >>> plain.steps, plain.times.tolist()[:3]
    (4, [1.0, 0.7500025, 0.500005])
    >>> a = sample(m, 6, length=5, method=plain, seeds=range(6))
    >>> b = sample(m, 6, length=5, method="ancestral", steps=4, seeds=range(6))
    >>> bool((a.tokens == b.tokens).all())          # the identity is the ancestral sampler
    True
    >>> sharp = LSDSampler([1.0, 0.5, 1e-5], [1.0, 4.0], name="sharp")
    >>> sample(m, 3, length=5, method=sharp, seeds=range(3)).method
    'sharp'
    """

    times: np.ndarray
    logit_scales: np.ndarray
    schedule: Any = None
    name: str = "lsd"

    def __post_init__(self) -> None:
        times = _vector(self.times, "times")
        if times.size < 2:
            raise ValueError(f"`times` must have K + 1 >= 2 entries, got {times.size}")
        if times[0] != 1.0:
            raise ValueError(f"`times` must start at 1.0 (all masked), got {times[0]!r}")
        if not (np.diff(times) < 0).all():
            raise ValueError("`times` must be strictly decreasing")
        if not 0.0 <= times[-1] < 1.0:
            raise ValueError(f"the last of `times` (t_min) must be in [0, 1), got {times[-1]!r}")
        scales = _vector(self.logit_scales, "logit_scales")
        if scales.shape != (times.size - 1,):
            raise ValueError(
                f"`logit_scales` must have K = {times.size - 1} entries (one per step of "
                f"`times`), got {scales.size}"
            )
        if not ((scales > 0) & (scales <= MAX_SCALE)).all():
            raise ValueError(f"`logit_scales` must be in (0, {MAX_SCALE:g}], got {scales!r}")
        sch = LogLinearSchedule() if self.schedule is None else self.schedule
        if not (hasattr(sch, "alpha") and hasattr(sch, "alpha_inv")):
            raise TypeError("`schedule` must have methods `alpha(t)` and `alpha_inv(a)`")
        check_str(self.name, "name")
        times.setflags(write=False)
        scales.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "logit_scales", scales)
        object.__setattr__(self, "schedule", sch)

    @classmethod
    def identity(
        cls, steps: int, *, t_min: float = 1e-5, schedule: Any = None, name: str = "lsd"
    ) -> LSDSampler:
        """The plain ``steps``-step ancestral sampler as an :class:`LSDSampler` (LSD's initialisation).

        Parameters
        ----------
        steps : int
            ``K`` (1 to 10000).
        t_min : float, default 1e-5
            Last time of the grid ``linspace(1, t_min, K + 1)``, in [0, 1).
        schedule : optional
            Log-linear by default.
        name : str, default "lsd"
            The label.

        Returns
        -------
        LSDSampler
            Unit logit scales on the uniform grid of ``method="ancestral"``.

        Examples
        --------
        >>> from sciddm.discrete import LSDSampler
        >>> s = LSDSampler.identity(2, t_min=0.0)
        >>> s.times.tolist(), s.logit_scales.tolist(), s.unmask_probs.round(4).tolist()
        ([1.0, 0.5, 0.0], [1.0, 1.0], [0.5, 1.0])
        """
        steps = check_int(steps, "steps", lo=1, hi=10_000)
        t_min = check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="left")
        grid = torch.linspace(1.0, t_min, steps + 1, dtype=torch.float64).numpy()
        return cls(grid, np.ones(steps), schedule, name)

    @property
    def steps(self) -> int:
        """``K``, the number of learned steps."""
        return int(self.logit_scales.size)

    @property
    def t_min(self) -> float:
        """The last time of the grid."""
        return float(self.times[-1])

    @property
    def unmask_probs(self) -> np.ndarray:
        r""":math:`\pi_k = (\alpha_{t_{k+1}} - \alpha_{t_k}) / (1 - \alpha_{t_k})`, shape (K,)."""
        a = np.array([float(self.schedule.alpha(float(t))) for t in self.times])
        return (a[1:] - a[:-1]) / (1.0 - a[:-1])


def lsd_steps_iv(sampler: LSDSampler, steps: Any, precision: str, schedule: Any) -> int:
    """The number of steps of ``sample(method=sampler)``, after checking the arguments it fixes."""
    if steps is not None:
        steps = check_int(steps, "steps", lo=1)
        if steps != sampler.steps:
            raise ValueError(
                f"`steps` must be None or the learned sampler's K = {sampler.steps}, got {steps}"
            )
    if precision != "float64":
        raise ValueError(
            f"`precision` must be 'float64' with a learned sampler (LSDSampler), got {precision!r}"
        )
    if schedule is not None:
        raise ValueError(
            "`schedule` must be None with a learned sampler: it carries the schedule it was "
            "distilled with (LSDSampler.schedule)"
        )
    return sampler.steps


def scaled_probs(out: torch.Tensor, info: ModelInfo, beta: float) -> torch.Tensor:
    r"""float64 :math:`p_\theta^\beta / \sum p_\theta^\beta` of masked rows (SUBS applied); exactly :func:`subs_probs` at 1."""
    if beta == 1.0:
        return subs_probs(out, info, torch.float64)
    return torch.softmax(beta * subs_log_probs(out, info, torch.float64), dim=-1)


def run_lsd(
    model: Any,
    info: ModelInfo,
    x: torch.Tensor,
    gen: RowGenerator,
    sampler: LSDSampler,
    *,
    noise_removal: str,
    progress: bool,
) -> tuple[torch.Tensor, np.ndarray, int, torch.Tensor]:
    """The learned chain: the draws of :func:`run_ancestral` (non-cached, float64) on ``sampler``'s grid.

    Returns the tokens, the network evaluations per row, the number of
    network calls and the unmasking time of every position.
    """
    grid = [float(t) for t in sampler.times]
    steps, sch, mid = sampler.steps, sampler.schedule, info.mask_id
    x = x.clone()
    n, length = x.shape
    nfe = np.zeros(n, dtype=np.int64)
    calls = 0
    times = torch.full((n, length), float("nan"), dtype=torch.float64, device=x.device)
    for i in progress_bar(range(steps + 1), enabled=progress, desc=sampler.name):
        masked = x == mid
        active = masked.any(1)
        if not bool(active.any()):
            break
        t = grid[i]
        s = grid[i + 1] if i < steps else 0.0
        u = gen.uniform_where(masked)  # one draw per step, as run_ancestral (same streams)
        tt = torch.full((n,), t, device=x.device)
        out = call_model(model, info, x, tt if info.time_conditioned else None, check=calls == 0)
        calls += 1
        nfe[active.cpu().numpy()] += 1
        beta = float(sampler.logit_scales[i]) if i < steps else 1.0
        cdf = torch.cumsum(scaled_probs(out[masked], info, beta), dim=-1)
        pre = cdf[:, mid - 1] if mid > 0 else torch.zeros_like(cdf[:, 0])
        if i == steps:
            move, stay = 1.0, 0.0
        else:
            a_t, a_s = sch.alpha(t), sch.alpha(s)
            move, stay = (a_s - a_t) / (1 - a_t), (1 - a_s) / (1 - a_t)
        if i == steps and noise_removal == "argmax":
            new = torch.diff(cdf, dim=-1, prepend=torch.zeros_like(cdf[:, :1])).argmax(-1)
        else:
            new = band_draw(cdf, None, pre, u, move, stay, mid)
        x[masked] = new
        times[masked & (x != mid)] = s
    return x, nfe, calls, times
