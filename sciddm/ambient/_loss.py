"""The ambient (double-Tweedie) denoising loss for data with known noise levels."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sciddm._core.rng import UNSET, RNGLike, as_torch_generator, renamed_rng
from sciddm._core.validation import check_scalar
from sciddm.ambient._checks import SCALE_CAP, as_array

__all__ = ["AmbientLoss", "ambient_loss", "edm_weight", "truncated_lognormal_sigma"]

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def edm_weight(sigma: Any, sigma_data: float = 0.5) -> Any:
    r"""EDM loss weight :math:`\lambda(\sigma) = (\sigma^2 + \sigma_d^2)/(\sigma\sigma_d)^2`.

    Parameters
    ----------
    sigma : torch.Tensor or array_like
        Positive, finite noise levels (a tensor stays a tensor).
    sigma_data : float, default 0.5
        :math:`\sigma_d`, in (0, 1e6].

    Returns
    -------
    torch.Tensor or numpy.ndarray
        Same shape as ``sigma``.

    References
    ----------
    .. [1] Karras, Aittala, Aila, Laine, "Elucidating the Design Space of
       Diffusion-Based Generative Models", NeurIPS 2022, Table 1.

    Examples
    --------
    >>> import torch
    >>> from sciddm.ambient import edm_weight
    >>> edm_weight(torch.tensor([0.5, 1.0]), sigma_data=0.5)
    tensor([8., 5.])
    """
    sd = check_scalar(sigma_data, "sigma_data", lo=0.0, hi=1e6, closed="right")
    if isinstance(sigma, torch.Tensor):
        from sciddm._core.validation import check_dense

        check_dense(sigma, "sigma")
        if not sigma.is_floating_point():
            raise TypeError(f"`sigma` must be a floating-point tensor, got {sigma.dtype}")
        if not bool(torch.isfinite(sigma).all()) or bool((sigma <= 0).any()):
            raise ValueError("`sigma` must be positive and finite")
        t = sigma.clamp_min(1e-150)
        return (t**2 + sd**2) / (t * sd) ** 2
    a = as_array(sigma, "sigma")
    if np.any(a <= 0):
        raise ValueError("`sigma` must be positive and finite")
    a = np.maximum(a, 1e-150)
    return (a**2 + sd**2) / (a * sd) ** 2


def truncated_lognormal_sigma(
    sigma_min: torch.Tensor,
    *,
    p_mean: float = -1.2,
    p_std: float = 1.2,
    rng: RNGLike = None,
    generator: Any = UNSET,
) -> torch.Tensor:
    """Draw ``sigma_t`` from the EDM log-normal truncated to ``sigma_t >= sigma_min``.

    ``log sigma_t ~ N(p_mean, p_std^2)`` conditioned on ``sigma_t >= sigma_min``
    (elementwise), sampled exactly by inverting the normal CDF: with
    ``a = (log sigma_min - p_mean) / p_std`` and ``u ~ U(0, 1)``,
    ``z = -Phi^{-1}((1 - u) Phi(-a))``, ``sigma_t = exp(p_mean + p_std z)``.
    Every draw is used (no rejection); ``sigma_min = 0`` gives the plain
    log-normal. The inversion runs in float64, accurate for
    ``a`` up to about 37 standard deviations.

    Parameters
    ----------
    sigma_min : Tensor of shape (n,)
        Lower truncation points (the samples' noise levels ``sigma_n``), >= 0.
    p_mean, p_std : float
        Location (in [-5, 5]) and scale (in (0, 3]) of ``log sigma_t`` before
        truncation.
    rng : None, int, numpy.random.Generator or torch.Generator
        Random source (a torch generator must live on ``sigma_min``'s device).
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    Tensor
        Same shape, dtype and device as ``sigma_min``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.ambient import truncated_lognormal_sigma
    >>> s = truncated_lognormal_sigma(torch.full((1000,), 0.8), rng=0)
    >>> bool((s >= 0.8).all())
    True
    """
    rng = renamed_rng(rng, generator, "generator", func="truncated_lognormal_sigma")
    smin = _sigma_min_iv(sigma_min)
    p_mean, p_std = _lognormal_iv(p_mean, p_std)
    gen = as_torch_generator(rng, smin.device)
    u = torch.rand(smin.shape, generator=gen, dtype=torch.float64, device=smin.device)
    a = (torch.log(smin) - p_mean) / p_std  # -inf for clean samples
    upper = torch.special.ndtr(-a)  # P(Z >= a), 1 for clean samples
    q = ((1.0 - u) * upper).clamp_min(torch.finfo(torch.float64).tiny)
    z = -torch.special.ndtri(q)
    z = torch.maximum(z, a)  # guard against round-off below the truncation point
    out_dtype = sigma_min.dtype if isinstance(sigma_min, torch.Tensor) else torch.float64
    return torch.exp(p_mean + p_std * z).to(out_dtype)


def _sigma_min_iv(sigma_min: Any) -> torch.Tensor:
    from sciddm._core.validation import check_dense

    check_dense(sigma_min, "sigma_min")
    if isinstance(sigma_min, torch.Tensor):
        if not sigma_min.is_floating_point():
            raise TypeError(f"`sigma_min` must be a floating-point tensor, got {sigma_min.dtype}")
        smin = sigma_min.detach().to(torch.float64)
    else:
        smin = torch.as_tensor(as_array(sigma_min, "sigma_min", ndim=(0, 1)))
    if not bool(torch.isfinite(smin).all()):
        raise ValueError("`sigma_min` must not contain NaN or inf")
    if bool((smin < 0).any()) or bool((smin > SCALE_CAP).any()):
        raise ValueError(f"`sigma_min` must lie in [0, {SCALE_CAP:g}]")
    return smin


def _lognormal_iv(p_mean: Any, p_std: Any) -> tuple[float, float]:
    """EDM's log-normal of sigma: ``p_mean`` in [-5, 5], ``p_std`` in (0, 3] (no overflow)."""
    return (
        check_scalar(p_mean, "p_mean", lo=-5.0, hi=5.0),
        check_scalar(p_std, "p_std", lo=0.0, hi=3.0, closed="right"),
    )


def _ambient_iv(
    y: Any, sigma_n: Any, sigma_t: Any, sigma_data: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(as_array(y, "y"), dtype=torch.float32)
    elif not y.is_floating_point():
        raise TypeError(f"`y` must be a floating-point tensor, got {y.dtype}")
    if y.ndim < 2:
        raise ValueError(f"`y` must have shape (batch, ...) with ndim >= 2, got {tuple(y.shape)}")
    if not isinstance(sigma_n, torch.Tensor):
        sigma_n = torch.as_tensor(as_array(sigma_n, "sigma_n"), dtype=y.dtype)
    sigma_n = sigma_n.to(device=y.device, dtype=y.dtype)
    if sigma_n.ndim == 0:
        sigma_n = sigma_n.expand(y.shape[0])
    sigma_n = sigma_n.reshape(-1) if sigma_n.numel() == y.shape[0] else sigma_n
    if sigma_n.shape != (y.shape[0],):
        raise ValueError(
            f"`sigma_n` must have shape ({y.shape[0]},) to match `y`, got {tuple(sigma_n.shape)}"
        )
    if not torch.isfinite(y).all():
        raise ValueError("`y` must not contain NaN or inf")
    if not torch.isfinite(sigma_n).all():
        raise ValueError("`sigma_n` must not contain NaN or inf")
    if (sigma_n < 0).any():
        raise ValueError(f"`sigma_n` must be non-negative, found {float(sigma_n.min())!r}")
    check_scalar(sigma_data, "sigma_data", lo=0.0, hi=1e6, closed="right")
    st: torch.Tensor | None = None
    if sigma_t is not None:
        st = torch.as_tensor(sigma_t, dtype=y.dtype, device=y.device)
        if st.ndim == 0:
            st = st.expand(y.shape[0])
        if st.shape != (y.shape[0],):
            raise ValueError(
                f"`sigma_t` must be a scalar or have shape ({y.shape[0]},), got {tuple(st.shape)}"
            )
        if not torch.isfinite(st).all() or (st <= 0).any():
            raise ValueError("`sigma_t` must be positive and finite")
        if (st < sigma_n).any():
            i = int(torch.nonzero(st < sigma_n)[0, 0])
            raise ValueError(
                f"`sigma_t` must be >= `sigma_n` for every sample; sample {i} has "
                f"sigma_t={float(st[i]):.4g} < sigma_n={float(sigma_n[i]):.4g}"
            )
    return y, sigma_n, st


def ambient_loss(
    denoiser: Denoiser,
    y: torch.Tensor,
    sigma_n: torch.Tensor | float,
    *,
    rng: RNGLike = None,
    sigma_t: torch.Tensor | float | None = None,
    p_mean: float = -1.2,
    p_std: float = 1.2,
    sigma_data: float = 0.5,
    weighting: bool = True,
    reduction: str = "mean",
    generator: Any = UNSET,
) -> torch.Tensor:
    r"""Ambient denoising loss (double Tweedie) for samples with known noise.

    For each sample with noise level :math:`\sigma_n` a level
    :math:`\sigma_t \ge \sigma_n` is drawn (EDM log-normal truncated at
    :math:`\sigma_n`), the observation is noised further,
    :math:`x_t = y + \sqrt{\sigma_t^2 - \sigma_n^2}\,\varepsilon`, and

    .. math::

        L = \lambda(\sigma_t)\,\Big\| \frac{\sigma_n^2}{\sigma_t^2} x_t
            + \Big(1 - \frac{\sigma_n^2}{\sigma_t^2}\Big) D_\theta(x_t, \sigma_t)
            - y \Big\|^2 ,\qquad
        \lambda(\sigma) = \frac{\sigma^2 + \sigma_d^2}{(\sigma\sigma_d)^2}.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)`` returning an estimate of the clean ``x_0``;
        ``sigma`` has shape ``(batch,)``.
    y : Tensor of shape (batch, ...)
        Observations.
    sigma_n : Tensor of shape (batch,) or float
        Their known noise levels (0 = clean: the loss is then plain EDM).
    rng : None, int, numpy.random.Generator or torch.Generator
        Source of ``sigma_t`` and of the extra noise (a torch generator must
        live on ``y``'s device).
    sigma_t : Tensor or float, optional
        Fixed diffusion levels instead of random ones; must be ``>= sigma_n``.
    p_mean, p_std : float
        Log-normal of ``sigma_t`` (EDM defaults; ``p_mean`` in [-5, 5],
        ``p_std`` in (0, 3]).
    sigma_data : float
        The ``sigma_d`` of the weighting, in (0, 1e6].
    weighting : bool, default True
        Apply :math:`\lambda(\sigma_t)`; ``False`` gives the unweighted loss.
    reduction : {"mean", "none"}
        Mean over the batch, or one value per sample (mean over features).
    generator : deprecated
        Old name of ``rng``.

    Returns
    -------
    Tensor
        Scalar, or shape ``(batch,)`` with ``reduction="none"``.

    Notes
    -----
    Since :math:`y = x_0 + \sigma_n\eta` and :math:`x_t = y + \sqrt{\sigma_t^2 -
    \sigma_n^2}\varepsilon`, Tweedie's formula at the two levels gives
    :math:`E[y \mid x_t] = \frac{\sigma_n^2}{\sigma_t^2} x_t + (1 -
    \frac{\sigma_n^2}{\sigma_t^2}) E[x_0 \mid x_t]`, so the minimiser over all
    functions is :math:`D^\star(x_t, \sigma_t) = E[x_0 \mid x_t]`, the clean
    denoiser, although no clean sample is seen (see
    ``theory/61_ambient_loss_minimiser.md``). A model trained this way is
    only supervised for :math:`\sigma_t \ge \min_i \sigma_{n,i}`.

    References
    ----------
    .. [1] Daras, Dimakis, Daskalakis, "Consistent Diffusion Meets Tweedie",
       ICML 2024, Eq. (3.2) and Theorem 3.2.
    .. [2] Daras, Cherapanamjeri, Daskalakis, "How much is a noisy image
       worth? Data Scaling Laws for Ambient Diffusion", ICLR 2025, Sec. 3.

    Examples
    --------
    >>> import torch
    >>> from sciddm.ambient import ambient_loss
    >>> D = lambda x, s: 0.5 * x
    >>> y = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    >>> loss = ambient_loss(D, y, torch.full((8,), 0.3), rng=0)
    >>> loss.shape, bool(loss > 0)
    (torch.Size([]), True)
    """
    rng = renamed_rng(rng, generator, "generator", func="ambient_loss")
    if not callable(denoiser):
        raise TypeError(f"`denoiser` must be a callable D(x, sigma), got {type(denoiser).__name__}")
    if reduction not in ("mean", "none"):
        raise ValueError(f"`reduction` must be one of 'mean', 'none', got {reduction!r}")
    p_mean, p_std = _lognormal_iv(p_mean, p_std)
    y, sn, st = _ambient_iv(y, sigma_n, sigma_t, sigma_data)
    gen = as_torch_generator(rng, y.device)
    if st is None:
        st = truncated_lognormal_sigma(sn, p_mean=p_mean, p_std=p_std, rng=gen)
    shape = (-1,) + (1,) * (y.ndim - 1)
    eps = torch.randn(y.shape, generator=gen, dtype=y.dtype, device=y.device)
    extra = torch.sqrt((st**2 - sn**2).clamp_min(0.0))
    x_t = y + extra.reshape(shape) * eps
    r = (sn**2 / st**2).reshape(shape)
    pred = r * x_t + (1.0 - r) * denoiser(x_t, st)
    err = ((pred - y) ** 2).reshape(y.shape[0], -1).mean(dim=1)
    if weighting:
        err = edm_weight(st, sigma_data) * err
    return err.mean() if reduction == "mean" else err


class AmbientLoss:
    """The ambient loss as a ``loss(net, batch, rng)`` for a training loop.

    ``batch`` is the tuple ``(y, sigma_n)`` (e.g. a minibatch of
    ``NoisyDataset.as_tensors()``), so the object plugs into
    ``sciddm.diffusion.train_denoiser(net, (y, sigma_n), loss=AmbientLoss())``.

    Parameters
    ----------
    p_mean, p_std, weighting
        As in :func:`ambient_loss`.
    sigma_data : float, optional
        Default: the network's ``sigma_data`` attribute, else 0.5 (as ``EDMLoss``).

    Examples
    --------
    >>> import torch
    >>> from sciddm.ambient import AmbientLoss
    >>> loss = AmbientLoss()
    >>> g = torch.Generator().manual_seed(0)
    >>> batch = (torch.randn(4, 3, generator=g), torch.tensor([0.0, 0.0, 0.2, 0.2]))
    >>> bool(loss(lambda x, s: 0.0 * x, batch, rng=g) > 0)
    True
    """

    def __init__(
        self,
        *,
        p_mean: float = -1.2,
        p_std: float = 1.2,
        sigma_data: float | None = None,
        weighting: bool = True,
    ) -> None:
        self.p_mean, self.p_std = _lognormal_iv(p_mean, p_std)
        self.sigma_data = (
            None
            if sigma_data is None
            else check_scalar(sigma_data, "sigma_data", lo=0.0, hi=1e6, closed="right")
        )
        self.weighting = bool(weighting)

    def __call__(self, net: Denoiser, batch: Any, rng: RNGLike = None) -> torch.Tensor:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError("`batch` must be a tuple (y, sigma_n)")
        y, sigma_n = batch
        sd = self.sigma_data or float(getattr(net, "sigma_data", 0.5))
        return ambient_loss(
            net,
            y,
            sigma_n,
            rng=rng,
            p_mean=self.p_mean,
            p_std=self.p_std,
            sigma_data=sd,
            weighting=self.weighting,
        )

    def __repr__(self) -> str:
        return (
            f"AmbientLoss(p_mean={self.p_mean}, p_std={self.p_std}, "
            f"sigma_data={self.sigma_data}, weighting={self.weighting})"
        )


def lognormal_truncated_cdf(s: float, sigma_min: float, p_mean: float, p_std: float) -> float:
    """CDF of the truncated log-normal of :func:`truncated_lognormal_sigma` (for tests)."""
    from scipy.special import ndtr

    a = -math.inf if sigma_min <= 0 else (math.log(sigma_min) - p_mean) / p_std
    if s < sigma_min:
        return 0.0
    z = (math.log(s) - p_mean) / p_std
    lower = 0.0 if a == -math.inf else float(ndtr(a))
    return float((ndtr(z) - lower) / (1.0 - lower))
