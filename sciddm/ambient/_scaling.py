"""Scaling laws of the error in the numbers of clean and noisy samples."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from sciddm._core.results import Result
from sciddm._core.validation import check_scalar, warn_convergence
from sciddm.ambient._checks import as_array

__all__ = ["ScalingLawFit", "fit_scaling_law"]


@dataclasses.dataclass(frozen=True, repr=False)
class ScalingLawFit(Result):
    r"""Fitted law :math:`\mathrm{err} = A\,(n_c + w\,n_n)^{-b} + e`.

    Attributes
    ----------
    coef : float
        :math:`A`.
    exponent : float
        :math:`b`.
    noisy_value : float
        :math:`w`, the worth of a noisy sample in clean samples.
    floor : float
        :math:`e`, the irreducible error (0 when ``fit_floor=False``).
    price : float
        :math:`1/w`, the number of noisy samples a clean sample is worth.
    stderr : dict
        Standard errors of ``coef``, ``exponent``, ``noisy_value``, ``floor``
        and ``price`` (delta method), from the Gauss-Newton covariance.
    rss : float
        Residual sum of squares (on log errors).
    n_obs : int
    success : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import fit_scaling_law
    >>> nc = np.array([10, 20, 40, 10, 10]); nn = np.array([0, 0, 0, 40, 160])
    >>> fit = fit_scaling_law(nc, nn, (nc + 0.5 * nn) ** -0.5)
    >>> round(float(fit.predict(10, 20)), 4), round(float(fit.effective_n(10, 20)), 2)
    (0.2236, 20.0)
    """

    coef: float
    exponent: float
    noisy_value: float
    floor: float
    price: float
    stderr: dict[str, float]
    rss: float
    n_obs: int
    success: bool

    def effective_n(self, n_clean: Any, n_noisy: Any) -> np.ndarray:
        """Effective number of clean samples :math:`n_c + w n_n`."""
        return np.asarray(n_clean, dtype=float) + self.noisy_value * np.asarray(
            n_noisy, dtype=float
        )

    def predict(self, n_clean: Any, n_noisy: Any) -> np.ndarray:
        """Predicted error at ``(n_clean, n_noisy)``."""
        m = self.effective_n(n_clean, n_noisy)
        return np.asarray(self.coef * m ** (-self.exponent) + self.floor)


def fit_scaling_law(
    n_clean: Any,
    n_noisy: Any,
    error: Any,
    *,
    fit_floor: bool = False,
    max_value: float = 1.0,
) -> ScalingLawFit:
    r"""Fit :math:`\mathrm{err}(n_c, n_n) = A (n_c + w n_n)^{-b} + e` to measured errors.

    Parameters
    ----------
    n_clean, n_noisy : array_like of shape (m,)
        Numbers of clean and noisy training samples of each measurement.
    error : array_like of shape (m,)
        Measured errors (positive), e.g. means over seeds.
    fit_floor : bool, default False
        Also fit the irreducible error :math:`e \ge 0`.
    max_value : float, default 1.0
        Upper bound of :math:`w` (a noisy sample is worth at most one clean
        sample for any consistent estimator).

    Returns
    -------
    ScalingLawFit
        With ``price = 1/w``: the number of noisy samples that buy the same
        error reduction as one clean sample.

    Notes
    -----
    The law says the clean and noisy samples add up to an *effective* clean
    sample size :math:`n_c + w n_n`. For a regular parametric model this is
    exact asymptotically with :math:`b = 1/2` for root-mean-square errors and
    :math:`w` the Fisher value of a noisy sample when the error is measured
    along one parameter (``theory/62_fisher_noisy_value.md``). The fit is
    bounded nonlinear least squares on log errors (``scipy.optimize.least_squares``,
    trust-region reflective) in the parameters :math:`(\log A, b, w, e)`; the
    standard errors use :math:`\hat s^2 (J^\top J)^{-1}`.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.ambient import fit_scaling_law
    >>> nc = np.array([10, 20, 40, 80, 10, 10, 10, 10])
    >>> nn = np.array([0, 0, 0, 0, 40, 160, 640, 2560])
    >>> err = 2.0 * (nc + 0.25 * nn) ** -0.5
    >>> fit = fit_scaling_law(nc, nn, err)
    >>> round(fit.exponent, 4), round(fit.noisy_value, 4), round(fit.price, 4)
    (0.5, 0.25, 4.0)
    """
    nc, nn, err, wmax = _scaling_iv(n_clean, n_noisy, error, fit_floor, max_value)
    n_par = 4 if fit_floor else 3
    best = _least_squares_fit(nc, nn, np.log(err), bool(fit_floor), wmax)
    if not best.success:
        warn_convergence("scaling-law fit did not converge", "max_value")
    p = best.x
    rss = float(2 * best.cost)
    dof = max(err.size - n_par, 1)
    try:
        cov = np.linalg.pinv(best.jac.T @ best.jac) * rss / dof
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:  # pragma: no cover
        se = np.full(n_par, np.nan)
    a = float(np.exp(p[0]))
    w = float(p[2])
    price = 1.0 / w if w > 0 else float("inf")
    stderr = {
        "coef": float(a * se[0]),
        "exponent": float(se[1]),
        "noisy_value": float(se[2]),
        "floor": float(se[3]) if fit_floor else 0.0,
        "price": float(se[2] / w**2) if w > 0 else float("inf"),
    }
    return ScalingLawFit(
        coef=a,
        exponent=float(p[1]),
        noisy_value=w,
        floor=float(p[3]) if fit_floor else 0.0,
        price=price,
        stderr=stderr,
        rss=rss,
        n_obs=int(err.size),
        success=bool(best.success),
    )


def _scaling_iv(
    n_clean: Any, n_noisy: Any, error: Any, fit_floor: Any, max_value: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    nc = as_array(n_clean, "n_clean", ndim=1)
    nn = as_array(n_noisy, "n_noisy", ndim=1)
    err = as_array(error, "error", ndim=1)
    if not (nc.shape == nn.shape == err.shape):
        raise ValueError(
            "`n_clean`, `n_noisy` and `error` must have the same length, got "
            f"{nc.size}, {nn.size} and {err.size}"
        )
    if np.any(nc < 0) or np.any(nn < 0):
        raise ValueError("`n_clean` and `n_noisy` must be non-negative")
    if np.any(nc + nn <= 0):
        raise ValueError("every measurement needs n_clean + n_noisy > 0")
    if np.any(err <= 0):
        raise ValueError(f"`error` must be positive, found {float(err.min())!r}")
    if not isinstance(fit_floor, (bool, np.bool_)):
        raise TypeError(f"`fit_floor` must be a bool, got {type(fit_floor).__name__}")
    wmax = check_scalar(max_value, "max_value", lo=0.0, hi=1e6, closed="right")
    n_par = 4 if fit_floor else 3
    if err.size < n_par + 1:
        raise ValueError(
            f"need at least {n_par + 1} measurements to fit {n_par} parameters, got {err.size}"
        )
    if np.ptp(nn) == 0 or np.ptp(nc) == 0:
        raise ValueError("`n_clean` and `n_noisy` must both vary to identify the noisy value")
    return nc, nn, err, wmax


def _least_squares_fit(
    nc: np.ndarray, nn: np.ndarray, log_err: np.ndarray, fit_floor: bool, wmax: float
) -> Any:
    """Bounded least squares on log errors in (log A, b, w[, e]), from three starts of w."""
    err = np.exp(log_err)

    def model(p: np.ndarray) -> np.ndarray:
        m = np.maximum(nc + p[2] * nn, 1e-12)
        out = np.exp(p[0]) * m ** (-p[1])
        if fit_floor:
            out = out + p[3]
        return np.asarray(out)

    def resid(p: np.ndarray) -> np.ndarray:
        return np.asarray(np.log(model(p)) - log_err)

    # start: slope of the clean-only points if any, else 0.5
    b0 = 0.5
    only = nn == 0
    if only.sum() >= 2 and np.ptp(nc[only]) > 0:
        b0 = float(np.clip(-np.polyfit(np.log(nc[only]), log_err[only], 1)[0], 0.05, 3.0))
    a0 = float(np.log(np.median(err * (nc + 0.5 * wmax * nn) ** b0)))
    p0 = [a0, b0, 0.5 * wmax]
    lo = [-np.inf, 1e-6, 0.0]
    hi = [np.inf, 10.0, wmax]
    if fit_floor:
        p0.append(0.1 * float(err.min()))
        lo.append(0.0)
        hi.append(float(err.min()))
    best = None
    for w0 in (0.5 * wmax, 0.05 * wmax, 0.95 * wmax):
        p0[2] = w0
        r = least_squares(resid, p0, bounds=(lo, hi), method="trf", x_scale="jac")
        if best is None or r.cost < best.cost:
            best = r
    return best
