"""The log-linear masking schedule of masked diffusion (MDLM).

Each token of a clean sequence ``x0`` is independently replaced by [MASK] at
time ``t`` with probability ``m_t = 1 - alpha_t``, where

.. math:: \\alpha_t = 1 - (1 - \\varepsilon) t, \\qquad t \\in [0, 1],

so that ``alpha_0 = 1`` (clean data) and ``alpha_1 = eps`` (almost all masked).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from sciddm._core.validation import check_scalar

__all__ = ["DEFAULT_EPS", "LogLinearSchedule"]

DEFAULT_EPS = 1e-3

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class LogLinearSchedule:
    """Log-linear schedule ``alpha_t = 1 - (1 - eps) t`` (Sahoo et al., 2024).

    Every method accepts a Python float, a NumPy array or a torch tensor and
    returns the same kind.

    Parameters
    ----------
    eps : float, default 1e-3
        Probability that a token is still unmasked at ``t = 1``; in [0, 1).

    Notes
    -----
    The name comes from the total noise ``sigma(t) = -log(1 - (1 - eps) t)``,
    for which ``alpha_t = exp(-sigma(t))`` is linear in ``t``. The
    continuous-time NELBO weight of a masked position is

    .. math:: -\\frac{\\alpha'_t}{1 - \\alpha_t} = \\frac{1 - \\varepsilon}
       {(1 - \\varepsilon) t} = \\frac{1}{t},

    independent of ``eps``.

    References
    ----------
    .. [1] S. S. Sahoo et al., "Simple and Effective Masked Diffusion Language
       Models", NeurIPS 2024, Sec. 3 and App. E.1 (log-linear schedule).

    Examples
    --------
    >>> from sciddm.discrete import LogLinearSchedule
    >>> s = LogLinearSchedule()
    >>> s.alpha(0.0), s.alpha(1.0)
    (1.0, 0.001)
    >>> round(s.mask_prob(0.5), 4)
    0.4995
    >>> s.loss_weight(0.25)
    4.0
    >>> round(s.time_of_alpha(s.alpha(0.3)), 12)
    0.3
    """

    eps: float = DEFAULT_EPS

    def __post_init__(self) -> None:
        check_scalar(self.eps, "eps", lo=0.0, hi=1.0, closed="left")

    def alpha(self, t: T) -> T:
        """Probability ``alpha_t`` that a token is still unmasked at time ``t``."""
        out: Any = 1.0 - (1.0 - self.eps) * t  # type: ignore[operator]
        return out

    def mask_prob(self, t: T) -> T:
        """Masking probability ``m_t = 1 - alpha_t = (1 - eps) t``."""
        out: Any = (1.0 - self.eps) * t  # type: ignore[operator]
        return out

    def alpha_derivative(self, t: T) -> T:
        """``d alpha_t / dt = -(1 - eps)`` (same type and shape as ``t``)."""
        out: Any = 0.0 * t - (1.0 - self.eps)  # type: ignore[operator]
        return out

    def loss_weight(self, t: T) -> T:
        """NELBO weight ``-alpha'_t / (1 - alpha_t) = 1 / t`` of a masked position."""
        out: Any = 1.0 / t  # type: ignore[operator]
        return out

    def time_of_alpha(self, alpha: T) -> T:
        """Inverse of :meth:`alpha`: the ``t`` with ``alpha_t = alpha``."""
        out: Any = (1.0 - alpha) / (1.0 - self.eps)  # type: ignore[operator]
        return out

    def alpha_inv(self, alpha: T) -> T:
        """Alias of :meth:`time_of_alpha` (the name the samplers use)."""
        return self.time_of_alpha(alpha)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for saving with a model."""
        return {"name": "loglinear", "eps": float(self.eps)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LogLinearSchedule:
        """Inverse of :meth:`to_dict`."""
        if d.get("name", "loglinear") != "loglinear":
            raise ValueError(f"unknown schedule {d.get('name')!r}; expected 'loglinear'")
        return cls(eps=float(d.get("eps", DEFAULT_EPS)))
