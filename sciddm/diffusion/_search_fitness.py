r"""Fixed reference schedules and the fitness functions of :func:`search_schedule`.

Three fitnesses, each a deterministic function of a ladder (and plan):

``"w2"``
    The exact :math:`W_2` between a sampler's output law and the data law, for a
    :class:`GaussianDenoiser` (:func:`gaussian_output_law`; no denoiser call).
``"flow"``
    The root-mean-square distance between a few-step sampler's endpoints and a
    converged solution of the same probability-flow ODE from the same starting
    noise (common random numbers): :math:`\sqrt{E\lVert x - x^\star\rVert^2}`, an
    upper bound on the :math:`W_2` distance to the exact flow's law (the
    coupling through the shared noise).
``"frechet"``
    The Fréchet distance between features of the sampler's output and of a
    reference data set, always from the same starting noise (and the same
    sampler noise), so that candidates differ only by their schedule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sciddm._core.validation import check_int, check_scalar
from sciddm.diffusion._gaussian_law import _Spectrum, output_gain, sampler_nfe, w2_from_gain
from sciddm.diffusion._schedules import append_zero, karras_sigmas
from sciddm.diffusion._solvers import sample_mixed

__all__ = ["levels_for_nfe", "standard_schedules"]

#: The fixed schedules compared with a searched one.
STANDARD = ("karras", "linear", "log_snr", "vp")
_VP_BETA_D, _VP_BETA_MIN = 19.9, 0.1


def _vp_t(sigma: float) -> float:
    """Inverse of the VP noise level ``sigma(t) = sqrt(exp(beta_d t^2/2 + beta_min t) - 1)``."""
    b = math.log1p(sigma**2)
    return (-_VP_BETA_MIN + math.sqrt(_VP_BETA_MIN**2 + 2 * _VP_BETA_D * b)) / _VP_BETA_D


def standard_schedules(
    n: int, *, sigma_min: float = 0.002, sigma_max: float = 80.0
) -> dict[str, np.ndarray]:
    r"""The fixed schedules with ``n`` noise levels from ``sigma_max`` to ``sigma_min``, then 0.

    Parameters
    ----------
    n : int
        Number of non-zero levels, ``1 <= n <= 10**6``.
    sigma_min, sigma_max : float
        Last and first non-zero level, ``0 < sigma_min <= sigma_max``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"karras"``: EDM's :math:`\rho = 7` schedule; ``"linear"``: uniform in
        :math:`t = \sigma` (EDM's time, "uniform-t"); ``"log_snr"``: uniform in
        :math:`\log\sigma` (log-SNR :math:`= -2\log\sigma`, geometric levels);
        ``"vp"``: uniform in the time of the VP-SDE (:math:`\beta_d = 19.9`,
        :math:`\beta_{min} = 0.1`, Song et al.) between the times of
        ``sigma_max`` and ``sigma_min``. Each has ``n + 1`` entries.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022, eq. (5) and Table 1.

    Examples
    --------
    >>> from sciddm.diffusion import standard_schedules
    >>> s = standard_schedules(3, sigma_min=1.0, sigma_max=100.0)
    >>> sorted(s), s["log_snr"].tolist()
    (['karras', 'linear', 'log_snr', 'vp'], [100.0, 10.0, 1.0, 0.0])
    >>> s["linear"].tolist()
    [100.0, 50.5, 1.0, 0.0]
    """
    n = check_int(n, "n", lo=1, hi=10**6)
    sigma_min = check_scalar(sigma_min, "sigma_min", lo=0.0, closed="neither")
    sigma_max = check_scalar(sigma_max, "sigma_max", lo=sigma_min)
    if n == 1:
        return {k: np.array([sigma_max, 0.0]) for k in STANDARD}
    t = np.linspace(_vp_t(sigma_max), _vp_t(sigma_min), n)
    vp = np.sqrt(np.expm1(_VP_BETA_D * t**2 / 2 + _VP_BETA_MIN * t))
    vp[0], vp[-1] = sigma_max, sigma_min
    return {
        "karras": karras_sigmas(n, sigma_min=sigma_min, sigma_max=sigma_max, rho=7.0),
        "linear": append_zero(np.linspace(sigma_max, sigma_min, n)),
        "log_snr": append_zero(np.geomspace(sigma_max, sigma_min, n)),
        "vp": append_zero(vp),
    }


def levels_for_nfe(sampler: str, nfe: int) -> int:
    """The most noise levels ``sampler`` can run with at most ``nfe`` evaluations.

    Heun costs :math:`2n - 1` on ``n`` levels and 0, every other sampler ``n``.

    Parameters
    ----------
    sampler : {"heun", "euler", "ddim", "dpmpp_2m", "ancestral"}
    nfe : int
        Evaluations per sample, ``nfe >= 1``.

    Returns
    -------
    int

    Examples
    --------
    >>> from sciddm.diffusion import levels_for_nfe
    >>> levels_for_nfe("heun", 6), levels_for_nfe("heun", 7), levels_for_nfe("dpmpp_2m", 6)
    (3, 4, 6)
    """
    from sciddm._core.validation import check_choice
    from sciddm.diffusion._gaussian_law import SAMPLER_OPTIONS

    sampler = check_choice(sampler, "sampler", tuple(SAMPLER_OPTIONS))
    nfe = check_int(nfe, "nfe", lo=1)
    return (nfe + 1) // 2 if sampler == "heun" else nfe


# --------------------------------------------------------------------------- fitness


class Fitness:
    """A deterministic fitness ``f(ladder, plan) -> (value, network calls charged)``."""

    name = ""
    setup_calls = 0
    reference_error: float | None = None

    def __call__(self, s: np.ndarray, plan: tuple[str, ...] | None) -> tuple[float, int]:
        raise NotImplementedError


class W2Fitness(Fitness):
    """Exact W2 to the data law of a GaussianDenoiser (charged the candidate's NFE)."""

    name = "w2"

    def __init__(self, gaussian: Any, sampler: str, opts: dict[str, float]) -> None:
        self.sp = _Spectrum(gaussian)
        self.sampler, self.opts = sampler, opts

    def __call__(self, s: np.ndarray, plan: tuple[str, ...] | None) -> tuple[float, int]:
        sp = self.sp
        C, V = output_gain(sp.lam, s, self.sampler, plan, self.opts)
        return w2_from_gain(sp.lam, sp.mult, sp.mu2, C, V, float(s[0])), sampler_nfe(
            s, self.sampler, plan
        )


def run_sampler(
    denoiser: Any,
    x: torch.Tensor,
    s: np.ndarray,
    sampler: str,
    plan: tuple[str, ...] | None,
    opts: dict[str, float],
    seed: int,
) -> tuple[torch.Tensor, int]:
    """Run ``sampler`` (or the plan) from ``x``; stochastic samplers draw from ``seed``."""
    from sciddm.diffusion._samplers import _SAMPLERS

    if plan is not None:
        res = sample_mixed(denoiser, x, s, solvers=plan)
    else:
        gen = torch.Generator(device=x.device).manual_seed(seed)
        res = _SAMPLERS[sampler](denoiser, x, s, rng=gen, **opts)
    return res.samples, res.nfe


class FlowFitness(Fitness):
    """RMS distance to a converged Heun solution of the same ODE from the same noise."""

    name = "flow"

    def __init__(
        self,
        denoiser: Any,
        sampler: str,
        opts: dict[str, float],
        z: torch.Tensor,
        sigma_max: float,
        sigma_min: float,
        reference_steps: int,
    ) -> None:
        from sciddm.diffusion._samplers import sample_heun

        self.denoiser, self.sampler, self.opts = denoiser, sampler, opts
        self.x = sigma_max * z
        fine = sample_heun(
            denoiser,
            self.x,
            karras_sigmas(reference_steps, sigma_min=sigma_min, sigma_max=sigma_max),
        )
        half = sample_heun(
            denoiser,
            self.x,
            karras_sigmas(max(reference_steps // 2, 1), sigma_min=sigma_min, sigma_max=sigma_max),
        )
        self.ref = fine.samples
        self.setup_calls = fine.nfe + half.nfe
        self.reference_error = self._rms(half.samples)

    def _rms(self, y: torch.Tensor) -> float:
        diff = (y - self.ref).reshape(y.shape[0], -1).double()
        return float(diff.pow(2).sum(1).mean().sqrt())

    def __call__(self, s: np.ndarray, plan: tuple[str, ...] | None) -> tuple[float, int]:
        y, nfe = run_sampler(self.denoiser, self.x, s, self.sampler, plan, self.opts, 0)
        return self._rms(y), nfe


class FrechetFitness(Fitness):
    """Fréchet distance of features to a reference set, on common random numbers."""

    name = "frechet"

    def __init__(
        self,
        denoiser: Any,
        sampler: str,
        opts: dict[str, float],
        z: torch.Tensor,
        sigma_max: float,
        reference: np.ndarray,
        features: Callable[[np.ndarray], Any] | None,
        seed: int,
    ) -> None:
        self.denoiser, self.sampler, self.opts, self.seed = denoiser, sampler, opts, seed
        self.x = sigma_max * z
        self.features = features
        f = self._feat(reference)
        self.mean = f.mean(0)
        cov = np.atleast_2d(np.cov(f, rowvar=False))
        lam, U = np.linalg.eigh((cov + cov.T) / 2)
        self.root = (U * np.sqrt(np.clip(lam, 0, None))) @ U.T
        self.trace = float(np.trace(cov))

    def _feat(self, x: Any) -> np.ndarray:
        a = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        a = a.reshape(a.shape[0], -1)
        f = a if self.features is None else self.features(a)
        f = np.asarray(f, dtype=np.float64)
        return f.reshape(f.shape[0], -1)

    def distance(self, samples: Any) -> float:
        """Fréchet distance of ``samples`` (raw) to the reference set."""
        f = self._feat(samples)
        if not np.all(np.isfinite(f)):
            return math.inf
        m = f.mean(0)
        cov = np.atleast_2d(np.cov(f, rowvar=False))
        M = self.root @ cov @ self.root
        cross = np.sqrt(np.clip(np.linalg.eigvalsh((M + M.T) / 2), 0, None)).sum()
        return float(((m - self.mean) ** 2).sum() + np.trace(cov) + self.trace - 2 * cross)

    def __call__(self, s: np.ndarray, plan: tuple[str, ...] | None) -> tuple[float, int]:
        y, nfe = run_sampler(self.denoiser, self.x, s, self.sampler, plan, self.opts, self.seed)
        return self.distance(y), nfe
