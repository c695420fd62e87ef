"""What every sampler of :mod:`sciddm.diffusion` shares.

The denoiser protocol, the :class:`SampleResult` a sampler returns, the random
source of the stochastic samplers (``rng``: one generator or one per row) and
the checked, counted call of a denoiser.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.rng import RNGLike, as_torch_generator, check_rng

__all__ = ["Denoiser", "SampleResult"]

#: A sampler's callback: receives one dict per step.
Callback = Callable[[dict[str, Any]], Any]
#: What a stochastic sampler draws its noise from (after normalisation).
NoiseSource = torch.Generator | list[torch.Generator]


@runtime_checkable
class Denoiser(Protocol):
    r"""A denoiser :math:`D(x, \sigma) \approx E[x_0 \mid x_\sigma = x]`.

    Any callable taking a state ``x`` of shape ``(batch, ...)`` and the noise
    levels ``sigma`` of shape ``(batch,)`` (both tensors on one device) and
    returning a tensor shaped like ``x``: a plain function, an
    :class:`torch.nn.Module` (:class:`MLPDenoiser`, :class:`UNetDenoiser`,
    :class:`VPDenoiser`) or a closed form (:class:`GaussianDenoiser`,
    :class:`GaussianMixtureDenoiser`, :class:`EmpiricalDenoiser`). The same
    signature serves an noise-prediction model ``eps(x_t, t)`` of
    :func:`sample_ddpm`, with integer timesteps ``t``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import Denoiser, GaussianDenoiser
    >>> isinstance(GaussianDenoiser([0.0], [[1.0]]), Denoiser)
    True
    >>> def shrink(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    ...     return x / (1 + sigma[:, None] ** 2)
    >>> isinstance(shrink, Denoiser)
    True
    """

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, /) -> Any: ...


@dataclasses.dataclass(frozen=True, repr=False)
class SampleResult(Result):
    """Samples of a diffusion sampler and what they cost.

    Attributes
    ----------
    samples : torch.Tensor
        The final states, shaped like the sampler's ``x`` (on its device, in its
        dtype).
    nfe : int
        Denoiser (network) evaluations. Each evaluation is one batched call, so
        this is also the number of forward passes.
    wall_time : float
        Seconds spent in the sampler.
    sigmas : numpy.ndarray
        The noise ladder that was run (after teleportation, the part below
        ``teleport_to``; for :func:`sample_ddpm`, the VE level of every timestep
        from ``T - 1`` down to 0, then 0).
    sampler : str
        Name of the sampler (``"heun"``, ``"ddpm"``, ...).
    teleport_to : float or None
        The level :func:`sample` teleported to, if it did.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_heun
    >>> g = GaussianDenoiser([0.0], [[1.0]])
    >>> res = sample_heun(g, torch.full((3, 1), 80.0), karras_sigmas(5))
    >>> res.samples.shape, res.nfe, res.sampler
    (torch.Size([3, 1]), 9, 'heun')
    """

    samples: torch.Tensor
    nfe: int
    wall_time: float
    sigmas: np.ndarray
    sampler: str = ""
    teleport_to: float | None = None


def _callable_name(f: Any) -> str:
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    return str(name) if name else type(f).__name__


class Evaluator:
    """Call a denoiser, count the calls and check what it returns.

    Every output must be a tensor of the input's shape and device holding no
    NaN or inf; otherwise a ``ValueError`` (``TypeError`` for a non-tensor)
    names ``denoiser`` (and what it is), the step and the noise level.
    """

    def __init__(self, denoiser: Any, name: str = "denoiser") -> None:
        if not callable(denoiser):
            raise TypeError(
                f"`{name}` must be a callable D(x, sigma), got {type(denoiser).__name__}"
            )
        self.f = denoiser
        self.arg = name
        self.label = _callable_name(denoiser)
        self.nfe = 0
        self.t0 = time.perf_counter()

    def __call__(self, x: torch.Tensor, sigma: float, step: int) -> torch.Tensor:
        return self.call(x, x.new_full((x.shape[0],), float(sigma)), step, f"sigma = {sigma:.4g}")

    def call(self, x: torch.Tensor, level: torch.Tensor, step: int, where: str) -> torch.Tensor:
        """Evaluate at an explicit second argument (``sigma`` or a timestep tensor)."""
        out = self.f(x, level)
        self.nfe += 1
        at = f"at step {step} ({where})"
        who = f"`{self.arg}` ({self.label})"
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"{who} returned {type(out).__name__} {at}; it must return a tensor")
        if out.shape != x.shape:
            raise ValueError(
                f"{who} returned shape {tuple(out.shape)} {at}; it must return the shape of "
                f"`x`, {tuple(x.shape)}"
            )
        if out.device != x.device:
            raise ValueError(f"{who} returned a tensor on {out.device} {at}; `x` is on {x.device}")
        if not bool(torch.isfinite(out).all()):
            raise ValueError(
                f"{who} returned NaN or inf {at}; check the model's weights and inputs "
                "(a diverged training run, or a denoiser that divides by sigma = 0)"
            )
        return out

    @property
    def wall_time(self) -> float:
        return time.perf_counter() - self.t0


def noise_source(rng: RNGLike, x: torch.Tensor) -> NoiseSource:
    """Normalise a sampler's ``rng``: one torch generator, or one per batch row."""
    check_rng(rng, per_row=True)
    if isinstance(rng, (list, tuple)):
        gens = list(rng)
        if len(gens) != x.shape[0]:
            raise ValueError(
                f"`rng` must hold one torch.Generator per batch row ({x.shape[0]}), got {len(gens)}"
            )
        for g in gens:
            if g.device.type != x.device.type:
                raise ValueError(
                    f"`rng` holds a generator on {g.device.type!r} but `x` is on "
                    f"{x.device.type!r}; use generators of that device"
                )
        return gens
    return as_torch_generator(rng, x.device)


def draw_normal(x: torch.Tensor, source: NoiseSource) -> torch.Tensor:
    """Standard normal noise shaped like ``x`` from a normalised source."""
    if isinstance(source, torch.Generator):
        return torch.randn(x.shape, generator=source, device=x.device, dtype=x.dtype)
    return torch.stack(
        [torch.randn(x.shape[1:], generator=g, device=x.device, dtype=x.dtype) for g in source]
    )


def check_state(x: Any, name: str = "x") -> torch.Tensor:
    """A sampler's start state: a dense, finite, non-empty floating tensor."""
    from sciddm._core.validation import check_dense

    check_dense(x, name)
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"`{name}` must be a torch.Tensor (e.g. sigmas[0] * torch.randn(n, d)), got "
            f"{type(x).__name__}"
        )
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"`{name}` must have a non-empty batch axis, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"`{name}` must not contain NaN or inf")
    return x


def check_callback(callback: Any) -> Callback | None:
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None, got {type(callback).__name__}")
    return callback  # type: ignore[no-any-return]


def emit(cb: Callback | None, **info: Any) -> None:
    if cb is not None:
        cb(info)


def as_result(
    x: torch.Tensor, ev: Evaluator, sigmas: Sequence[float] | np.ndarray, sampler: str
) -> SampleResult:
    return SampleResult(
        samples=x,
        nfe=ev.nfe,
        wall_time=ev.wall_time,
        sigmas=np.asarray(sigmas, dtype=np.float64),
        sampler=sampler,
    )
