"""Analytical teleportation: skip the early sampling steps with the Gaussian closed form."""

from __future__ import annotations

from typing import Any

from sciddm._core.validation import check_scalar

__all__ = ["teleport"]


def teleport(x_T: Any, gaussian: Any, sigma_T: float, sigma_skip: float) -> Any:
    """Map ``x_T`` at ``sigma_T`` to ``x(sigma_skip)`` along the Gaussian model's PF-ODE.

    Parameters
    ----------
    x_T : torch.Tensor or array_like, shape (B, ...)
        States at noise level ``sigma_T`` (e.g. ``sigma_T * randn``).
    gaussian : GaussianDenoiser
        Gaussian fitted to the training data (mean and covariance or PCA).
    sigma_T : float
        Starting noise level.
    sigma_skip : float
        Target level, ``0 <= sigma_skip <= sigma_T``.

    Returns
    -------
    Same kind as ``x_T``: the closed-form ``x(sigma_skip)``.

    Notes
    -----
    ``x(s) = mu + U diag(sqrt((lam + s^2)/(lam + sigma_T^2))) U^T (x_T - mu)
    + (s / sigma_T)(I - U U^T)(x_T - mu)``. At high noise the learned score is close to
    the Gaussian score of the data, so this replaces the first sampler steps at no
    denoiser cost; a sampler then continues on the tail of the schedule.

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 6 ("analytical teleportation").

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import GaussianDenoiser, teleport
    >>> g = GaussianDenoiser([0.0], [[1.0]])
    >>> teleport(np.array([[80.0]]), g, 80.0, np.sqrt(3.0)).round(6)   # 80 * 2 / sqrt(6401)
    array([[1.999844]])
    """
    sigma_T = check_scalar(sigma_T, "sigma_T", lo=0.0, hi=1e100, closed="right")
    sigma_skip = check_scalar(sigma_skip, "sigma_skip", lo=0.0, hi=sigma_T)
    if not hasattr(gaussian, "pf_ode"):
        raise TypeError(
            f"`gaussian` must be a GaussianDenoiser (with a `pf_ode` method), got "
            f"{type(gaussian).__name__}"
        )
    return gaussian.pf_ode(x_T, sigma_T, sigma_skip)
