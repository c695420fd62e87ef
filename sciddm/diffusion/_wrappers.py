"""Wrap noise-, x0- or v-prediction VP/DDPM models as VE denoisers ``D(x, sigma)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from sciddm._core.validation import check_choice
from sciddm.diffusion._schedules import _alphas_iv, _sigma_to_t, sigma_to_t, t_to_sigma

__all__ = ["VPDenoiser"]


class VPDenoiser(nn.Module):
    r"""A discrete-time VP (DDPM) model seen as a VE denoiser :math:`D(x, \sigma)`.

    Parameters
    ----------
    model : callable
        ``model(z, t)`` on VP-scaled inputs
        :math:`z = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon`,
        with ``t`` the (fractional, or with ``quantize`` integer) timestep index
        in ``0..T-1``, predicting :math:`\varepsilon` (default), :math:`x_0` or
        :math:`v`.
    alphas_cumprod : array_like of shape (T,)
        :math:`\bar\alpha_t` (see :func:`ddpm_alphas_cumprod`), non-increasing
        in (0, 1], ``T >= 2``.
    prediction : {"eps", "x0", "v"}
        What the model predicts.
    quantize : bool, default False
        Round the timestep to the nearest integer (and pass it as a long tensor).

    Attributes
    ----------
    sigmas : numpy.ndarray
        The VE level of every timestep.
    sigma_min, sigma_max : float

    Notes
    -----
    For a VE state :math:`x` at level :math:`\sigma`:
    :math:`z = x/\sqrt{1 + \sigma^2}`, :math:`t = ` ``sigma_to_t(sigma)`` and

    .. math::

        D = x - \sigma\,\varepsilon(z, t),\quad D = x_0(z, t),\quad
        D = \sqrt{\bar\alpha}\,z - \sqrt{1 - \bar\alpha}\,v(z, t)

    for the three predictions. Any sampler of :mod:`sciddm.diffusion` then runs
    the model; :meth:`get_sigmas` gives a ladder of the model's own levels.

    References
    ----------
    .. [1] Karras et al. 2022, Appendix C.3 (VP and DDPM in the common framework);
       k-diffusion ``DiscreteEpsDDPMDenoiser``.

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import VPDenoiser, ddpm_alphas_cumprod, ddpm_betas
    >>> ac = ddpm_alphas_cumprod(ddpm_betas(1000))
    >>> D = VPDenoiser(lambda z, t: torch.zeros_like(z), ac)   # eps = 0: D(x) = x
    >>> x = torch.ones(2, 3)
    >>> bool(torch.equal(D(x, torch.full((2,), 5.0)), x))
    True
    """

    def __init__(
        self,
        model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        alphas_cumprod: Any,
        *,
        prediction: str = "eps",
        quantize: bool = False,
    ) -> None:
        super().__init__()
        if not callable(model):
            raise TypeError(f"`model` must be a callable model(z, t), got {type(model).__name__}")
        ac = _alphas_iv(alphas_cumprod, min_rows=2)
        if not isinstance(quantize, (bool, np.bool_)):
            raise TypeError(f"`quantize` must be a bool, got {type(quantize).__name__}")
        self.model = model
        self.prediction = check_choice(prediction, "prediction", ("eps", "x0", "v"))
        self.quantize = bool(quantize)
        self.alphas_cumprod = ac
        self.sigmas = np.sqrt((1 - ac) / ac)
        self.sigma_min = float(self.sigmas[0])
        self.sigma_max = float(self.sigmas[-1])

    def get_sigmas(self, n: int) -> np.ndarray:
        """``n`` of the model's noise levels at evenly spaced timesteps, then 0.

        Parameters
        ----------
        n : int
            Number of levels.

        Returns
        -------
        numpy.ndarray of shape (n + 1,)
        """
        from sciddm.diffusion._schedules import ddpm_timestep_sigmas

        return ddpm_timestep_sigmas(n, self.alphas_cumprod)

    def sigma_to_t(self, sigma: Any) -> Any:
        """Fractional (or quantised) timestep of ``sigma`` (:func:`sigma_to_t`)."""
        return sigma_to_t(sigma, self.alphas_cumprod, quantize=self.quantize)

    def t_to_sigma(self, t: Any) -> Any:
        """Noise level of timestep ``t`` (:func:`t_to_sigma`)."""
        return t_to_sigma(t, self.alphas_cumprod)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, device=x.device, dtype=x.dtype)
        if sigma.ndim == 0:
            sigma = sigma.expand(x.shape[0])
        s = sigma.reshape(-1, *([1] * (x.ndim - 1)))
        c_in = 1.0 / torch.sqrt(1.0 + s**2)
        t = _sigma_to_t(sigma, self.alphas_cumprod, self.quantize)
        t = t.round().long() if self.quantize else t.to(x.dtype)
        out = self.model(x * c_in, t)
        if self.prediction == "eps":
            return x - s * out
        if self.prediction == "x0":
            return out
        return c_in * (x * c_in) - (s * c_in) * out
