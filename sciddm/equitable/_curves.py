"""Learning curves: power-law fits with standard errors, and empirical curves per group.

A learning curve models the error of a learner trained on ``n`` samples of a
group as the inverse power law

.. math:: \\mathrm{err}(n) = a\\, n^{-b} + e, \\qquad a > 0,\\ b > 0,

where ``e`` is the irreducible error (the Bayes error plus misspecification)
and ``b`` the learning rate. :func:`fit_learning_curve` fits ``(a, b, e)`` by
bounded nonlinear least squares and :func:`learning_curve_by_group` measures
the empirical error of any scikit-learn estimator per group by resampling.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import optimize

from sciddm._core.results import Result
from sciddm._core.rng import UNSET
from sciddm._core.validation import (
    check_array,
    check_choice,
    check_same_length,
    check_scalar,
    warn_convergence,
)

__all__ = [
    "LearningCurve",
    "fit_learning_curve",
    "fit_learning_curves",
    "power_law",
]

logger = logging.getLogger(__name__)

_B_MAX = 4.0


def power_law(n: Any, a: float, b: float, e: float) -> np.ndarray:
    r"""The inverse power law :math:`a\,n^{-b} + e`.

    Parameters
    ----------
    n : array_like
        Sample sizes (positive).
    a, b, e : float
        Scale, learning rate and irreducible error.

    Returns
    -------
    ndarray
        The law at ``n`` (same shape).

    Examples
    --------
    >>> from sciddm.equitable import power_law
    >>> float(power_law(100, 2.0, 0.5, 0.1))
    0.3
    """
    n = _sizes_iv(n)
    a = check_scalar(a, "a")
    b = check_scalar(b, "b")
    e = check_scalar(e, "e")
    with np.errstate(over="ignore"):
        out = a * n ** (-b) + e
    if not np.all(np.isfinite(out)):
        raise ValueError(f"power_law overflows float64 at these `n` with a={a:g}, b={b:g}")
    return out


@dataclasses.dataclass(frozen=True, repr=False)
class LearningCurve(Result):
    r"""A fitted learning curve :math:`\mathrm{err}(n) = a\,n^{-b} + e` (from :func:`fit_learning_curve`).

    Attributes
    ----------
    a, b, e : float
        Fitted parameters (NaN for ``model="monotone"``).
    cov : ndarray of shape (3, 3)
        Estimated covariance of ``(a, b, e)`` (NaN where not identifiable).
    se : ndarray of shape (3,)
        Standard errors, ``sqrt(diag(cov))``.
    n, err : ndarray
        The data the curve was fitted to.
    residual_std : float
        Root mean squared residual (per unit weight when ``sigma`` was given).
    model : {"power-law", "monotone"}
        The model fitted.
    group : str or None
        The group the curve belongs to, used in messages.
    dof : int
        Residual degrees of freedom.
    params : dict
        ``dict(a=..., b=..., e=...)`` (property).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.equitable import fit_learning_curve, power_law
    >>> n = np.array([10, 30, 100, 300, 1000])
    >>> c = fit_learning_curve(n, power_law(n, 1.0, 0.5, 0.05))
    >>> round(float(c.predict(400)), 4), round(c.params["b"], 6)
    (0.1, 0.5)
    """

    a: float
    b: float
    e: float
    cov: np.ndarray
    se: np.ndarray
    n: np.ndarray
    err: np.ndarray
    residual_std: float
    model: str = "power-law"
    group: str | None = None
    dof: int = 0

    @property
    def params(self) -> dict[str, float]:
        """``dict(a=..., b=..., e=...)``, accepted wherever a curve is."""
        return {"a": self.a, "b": self.b, "e": self.e}

    def __call__(self, n: Any) -> np.ndarray:
        """The predicted error at ``n`` (same as :meth:`predict`)."""
        return self.predict(n)

    def predict(self, n: Any, *, return_std: Any = UNSET, observation: Any = UNSET) -> Any:
        r"""Predicted error :math:`\mathrm{err}(n)` at sizes ``n``.

        Parameters
        ----------
        n : array_like
            Sample sizes (positive).
        return_std, observation : bool
            Deprecated: use :meth:`predict_std` for the standard deviation
            (``predict(n, return_std=True)`` still returns ``(mean, std)``
            for one release, with a ``DeprecationWarning``).

        Returns
        -------
        ndarray
            The predicted error, shape of ``n``.
        """
        if return_std is not UNSET or observation is not UNSET:
            warnings.warn(
                "`return_std` and `observation` of LearningCurve.predict are deprecated and "
                "will be removed in the next release; use predict(n) and "
                "predict_std(n, observation=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            mean = self.predict(n)
            if not return_std:
                return mean
            return mean, self.predict_std(n, observation=bool(observation))
        n = _sizes_iv(n)
        if self.model == "monotone":
            order = np.argsort(self.n)
            return np.interp(n, self.n[order], self.err[order])
        return power_law(n, self.a, self.b, self.e)

    def predict_std(self, n: Any, *, observation: bool = False) -> np.ndarray:
        r"""Standard deviation of the prediction at ``n``, by the delta method.

        .. math:: \operatorname{sd}\,\widehat{\mathrm{err}}(n)
                  = \sqrt{g^\top C g}, \qquad g = (n^{-b},\ -a n^{-b}\log n,\ 1),

        with :math:`C` = ``cov``.

        Parameters
        ----------
        n : array_like
            Sample sizes (positive).
        observation : bool, default False
            Include the residual variance, giving the uncertainty of a new
            measured error rather than of the curve.

        Returns
        -------
        ndarray
            Shape of ``n`` (NaN for the monotone model unless ``observation``).
        """
        n = _sizes_iv(n)
        if self.model == "monotone":
            return np.full(n.shape, self.residual_std if observation else np.nan)
        nb = n ** (-self.b)
        grad = np.stack([nb, -self.a * nb * np.log(n), np.ones_like(n)], axis=-1)
        var = np.einsum("...i,ij,...j->...", grad, self.cov, grad)
        if observation:
            var = var + self.residual_std**2
        return np.sqrt(np.maximum(var, 0.0))

    def predict_interval(
        self, n: Any, *, level: float = 0.95, observation: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Normal-approximation interval of the prediction at ``n``.

        Parameters
        ----------
        n : array_like
            Sample sizes (positive).
        level : float in (0, 1), default 0.95
            Coverage; the quantile is Student's t on ``dof`` degrees of freedom.
        observation : bool, default False
            As in :meth:`predict_std`.

        Returns
        -------
        lo, hi : ndarray
            Interval ends, shape of ``n``.
        """
        from scipy import stats  # lazily: scipy.stats costs ~8 numpy imports

        check_scalar(level, "level", lo=0, hi=1, closed="neither")
        mean = self.predict(n)
        std = self.predict_std(n, observation=observation)
        q = stats.t.ppf(0.5 + level / 2, max(self.dof, 1))
        return mean - q * std, mean + q * std

    def derivative(self, n: Any) -> np.ndarray:
        r"""The slope :math:`d\,\mathrm{err}/dn = -a b\, n^{-b-1}` (power law only).

        Parameters
        ----------
        n : array_like
            Sample sizes (positive).

        Returns
        -------
        ndarray
            Shape of ``n``.
        """
        if self.model != "power-law":
            raise ValueError("`derivative` needs a power-law curve, got a monotone one")
        n = _sizes_iv(n)
        return -self.a * self.b * n ** (-self.b - 1.0)

    def plot(self, ax: Any = None, *, level: float = 0.95, label: str | None = None) -> Any:
        """Plot the data, the curve and its pointwise interval.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (a new figure by default).
        level : float, default 0.95
            Coverage of the band.
        label : str, optional
            Legend label (default: the group).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        grid = np.geomspace(self.n.min(), self.n.max() * 4, 100)
        (line,) = ax.plot(grid, self.predict(grid), label=label or self.group)
        if self.model == "power-law" and np.all(np.isfinite(self.cov)):
            lo, hi = self.predict_interval(grid, level=level)
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2)
        ax.plot(self.n, self.err, "o", color=line.get_color(), ms=3)
        ax.set_xscale("log")
        ax.set_xlabel("training samples n")
        ax.set_ylabel("error")
        return ax


def _sizes_iv(n: Any) -> np.ndarray:
    """Sample sizes as a float array (any shape), finite and positive."""
    arr = check_array(n, "n", ndim=None, finite=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError("`n` must not contain NaN or inf")
    if np.any(arr <= 0):
        raise ValueError(f"`n` must be positive, got min {arr.min():g}")
    return arr


def _linear_ae(
    t: np.ndarray, err: np.ndarray, w: np.ndarray, e_lo: float, e_hi: float
) -> tuple[float, float, float]:
    """Weighted least squares of err on (t, 1) with a >= 0 and e in [e_lo, e_hi]: (a, e, sse)."""
    sw = w.sum()
    tm, em = float(w @ t) / sw, float(w @ err) / sw
    dt, de = t - tm, err - em
    stt = float(w @ (dt * dt))
    a = float(w @ (dt * de)) / stt if stt > 0 else 0.0
    e = em - a * tm
    cands = []
    if a >= 0 and e_lo <= e <= e_hi:
        cands.append((a, e))
    else:
        for eb in (e_lo, e_hi):
            if np.isfinite(eb):
                tt = float(w @ (t * t))
                ab = max(float(w @ (t * (err - eb))) / tt, 0.0) if tt > 0 else 0.0
                cands.append((ab, eb))
        cands.append((0.0, float(np.clip(em, e_lo, e_hi))))
    best = (np.nan, np.nan, np.inf)
    for ac, ec in cands:
        sse = float(w @ (ac * t + ec - err) ** 2)
        if sse < best[2]:
            best = (float(ac), float(ec), sse)
    return best


def _profile_fit(
    ln: np.ndarray, err: np.ndarray, w: np.ndarray, e_lo: float, e_hi: float
) -> tuple[float, float, float]:
    """Variable projection: (a, e) are linear given b; minimise the profile SSE over b."""

    def sse(b: float) -> float:
        return _linear_ae(np.exp(-b * ln), err, w, e_lo, e_hi)[2]

    grid = np.geomspace(1e-3, _B_MAX, 40)
    # unconstrained (a, e) for every grid b at once; constrained solve only where needed
    T = np.exp(-np.outer(grid, ln))
    sw_ = w.sum()
    tm = T @ w / sw_
    em = float(w @ err) / sw_
    dT = T - tm[:, None]
    stt = (dT * dT) @ w
    a_g = np.where(stt > 0, (dT * (err - em)) @ w / np.where(stt > 0, stt, 1.0), 0.0)
    e_g = em - a_g * tm
    vals = ((a_g[:, None] * T + e_g[:, None] - err) ** 2) @ w
    bad = (a_g < 0) | (e_g < e_lo) | (e_g > e_hi)
    for k in np.flatnonzero(bad):
        vals[k] = sse(float(grid[k]))
    i = int(np.argmin(vals))
    lo_b = grid[max(i - 1, 0)]
    hi_b = grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda lb: sse(float(np.exp(lb))),
        bounds=(np.log(lo_b), np.log(hi_b)),
        method="bounded",
        options={"xatol": 1e-11, "maxiter": 200},
    )
    b = float(np.exp(res.x)) if res.fun <= vals[i] else float(grid[i])
    a, e, _ = _linear_ae(np.exp(-b * ln), err, w, e_lo, e_hi)
    return b, a, e


def fit_learning_curve(
    n: Any,
    err: Any,
    *,
    model: str = "power-law",
    sigma: Any = None,
    nonnegative: bool | None = None,
    exponent: float | None = None,
    group: str | None = None,
) -> LearningCurve:
    """Fit the learning curve ``err(n) = a n^(-b) + e`` to measured errors.

    Parameters
    ----------
    n : array_like of shape (m,)
        Training-set sizes (positive; repeats allowed).
    err : array_like of shape (m,)
        Measured errors at those sizes.
    model : {"power-law", "monotone"}, default "power-law"
        ``"power-law"`` fits ``(a, b, e)`` by bounded nonlinear least squares;
        ``"monotone"`` is model-free: the decreasing isotonic regression of
        ``err`` on ``n``, interpolated (and flat beyond the data).
    sigma : array_like of shape (m,), optional
        Standard deviations of the measured errors (weights ``1/sigma**2``);
        when given, the covariance is taken as absolute.
    nonnegative : bool, optional
        Constrain ``e >= 0``; default: when every error is non-negative.
    exponent : float, optional
        Fix ``b`` (e.g. one shared by several groups, see
        :func:`fit_learning_curves`) and fit ``(a, e)`` only; two distinct sizes
        then suffice and the covariance is conditional on ``b`` (zero row and
        column for ``b``).
    group : str, optional
        Name of the group, used in messages and stored on the result.

    Returns
    -------
    LearningCurve

    Raises
    ------
    ValueError
        If fewer than 3 distinct sizes are given for the power law (2 for
        the monotone model), naming ``group``.

    Notes
    -----
    The fit minimises :math:`\\sum_i w_i (a n_i^{-b} + e - \\mathrm{err}_i)^2`
    over :math:`a \\ge 0`, :math:`0 < b \\le 4`, :math:`e \\le \\min_i \\mathrm{err}_i`
    by variable projection: for fixed ``b`` the model is linear in ``(a, e)``,
    solved in closed form (with the bounds), and the profile sum of squares is
    minimised over ``log b`` (a grid, then Brent's method). The covariance is :math:`\\hat s^2 (J^\\top W J)^{-1}` with
    :math:`\\hat s^2` the weighted residual variance on ``m - 3`` degrees of
    freedom (or ``1`` when ``sigma`` is given). Predictions carry the
    delta-method standard error, see :meth:`LearningCurve.predict`.

    References
    ----------
    .. [1] Hestness et al., "Deep learning scaling is predictable, empirically",
       arXiv:1712.00409 (2017), Eq. 1.
    .. [2] Cai et al., "Adaptive sampling strategies to construct equitable
       training datasets", FAccT 2022, Sec. 3 (learning-curve model).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.equitable import fit_learning_curve, power_law
    >>> n = np.array([10, 20, 50, 100, 200, 500, 1000])
    >>> c = fit_learning_curve(n, power_law(n, 2.0, 0.5, 0.1))
    >>> round(c.a, 6), round(c.b, 6), round(c.e, 6)
    (2.0, 0.5, 0.1)
    >>> round(float(c.predict(2000)), 4), float(c.predict_std(2000)) < 1e-6
    (0.1447, True)
    """
    n_arr, err_arr, w, name = _fit_iv(n, err, model, sigma, exponent, group)
    if model == "monotone":
        return _fit_monotone(n_arr, err_arr, w, group)
    if nonnegative is None:
        nonnegative = bool(np.all(err_arr >= 0))
    e_lo = 0.0 if nonnegative else -np.inf
    top = float(err_arr.min())
    ln = np.log(n_arr)
    if exponent is None:
        b, a, e = _profile_fit(ln, err_arr, w, e_lo, top)
    else:
        b = float(exponent)
        a, e, _ = _linear_ae(np.exp(-b * ln), err_arr, w, e_lo, top)
    if not np.isfinite(b):
        warn_convergence(f"{name}the power-law fit did not converge", "the number of sizes")
    cov, r, dof = _covariance(ln, err_arr, w, a, b, e, fixed_b=exponent is not None,
                              absolute=sigma is not None)  # fmt: skip
    scale = max(float(np.abs(err_arr).max()), 1e-300)
    if b >= _B_MAX * (1 - 1e-6) or a / scale > 1e12:
        warnings.warn(
            f"{name}the fitted learning curve sits on its bound (b={b:.3g}); the data may "
            "not follow a power law",
            RuntimeWarning,
            stacklevel=2,
        )
    return LearningCurve(
        a=a,
        b=b,
        e=e,
        cov=cov,
        se=np.sqrt(np.maximum(np.diag(cov), 0.0)),
        n=n_arr,
        err=err_arr,
        residual_std=float(np.sqrt(np.mean(r**2))),
        model="power-law",
        group=group,
        dof=max(dof, 0),
    )


def _fit_iv(
    n: Any, err: Any, model: str, sigma: Any, exponent: float | None, group: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Validate :func:`fit_learning_curve`'s data; returns (n, err, weights, group prefix)."""
    name = "" if group is None else f"group {group!r}: "
    check_choice(model, "model", ("power-law", "monotone"))
    n_arr = check_array(n, "n", ndim=1)
    err_arr = check_array(err, "err", ndim=1)
    check_same_length("n", n_arr, "err", err_arr)
    if np.any(n_arr <= 0):
        raise ValueError(f"{name}`n` must be positive, got min {n_arr.min():g}")
    if exponent is not None:
        check_scalar(exponent, "exponent", lo=0, closed="neither")
    need = 3 if model == "power-law" and exponent is None else 2
    distinct = np.unique(n_arr).size
    if distinct < need:
        raise ValueError(
            f"{name}cannot fit a {model} learning curve: need at least {need} distinct "
            f"sizes, got {distinct}"
        )
    if sigma is None:
        return n_arr, err_arr, np.ones_like(err_arr), name
    sig = check_array(sigma, "sigma", ndim=1, shape=(n_arr.size,))
    if np.any(sig <= 0):
        raise ValueError(f"{name}`sigma` must be positive, got min {sig.min():g}")
    return n_arr, err_arr, 1.0 / sig**2, name


def _fit_monotone(
    n_arr: np.ndarray, err_arr: np.ndarray, w: np.ndarray, group: str | None
) -> LearningCurve:
    """The decreasing isotonic regression of ``err`` on ``n`` as a curve."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(increasing=False).fit(n_arr, err_arr, sample_weight=w)
    un = np.unique(n_arr)
    resid = err_arr - iso.predict(n_arr)
    return LearningCurve(
        a=np.nan,
        b=np.nan,
        e=np.nan,
        cov=np.full((3, 3), np.nan),
        se=np.full(3, np.nan),
        n=un,
        err=iso.predict(un),
        residual_std=float(np.sqrt(np.mean(resid**2))),
        model="monotone",
        group=group,
        dof=max(n_arr.size - un.size, 0),
    )


def _covariance(
    ln: np.ndarray, err: np.ndarray, w: np.ndarray, a: float, b: float, e: float, *,
    fixed_b: bool, absolute: bool,
) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """Covariance of (a, b, e) (zero row/column for a fixed b), residuals and dof."""
    t = np.exp(-b * ln)
    sw = np.sqrt(w)
    J = sw[:, None] * np.stack([t, -a * t * ln, np.ones_like(t)], axis=1)
    r = sw * (a * t + e - err)
    dof = err.size - (2 if fixed_b else 3)
    if absolute:
        s2 = 1.0
    else:
        s2 = float(r @ r) / dof if dof > 0 else np.nan
    try:
        if not fixed_b:
            cov = s2 * np.linalg.pinv(J.T @ J, rcond=1e-13)
        else:
            J2 = J[:, [0, 2]]
            c2 = s2 * np.linalg.pinv(J2.T @ J2, rcond=1e-13)
            cov = np.zeros((3, 3))
            cov[np.ix_([0, 2], [0, 2])] = c2
    except np.linalg.LinAlgError:  # pragma: no cover
        cov = np.full((3, 3), np.nan)
    if not np.all(np.isfinite(cov)):
        cov = np.full((3, 3), np.nan)
    return cov, r, dof


def fit_learning_curves(
    data: Mapping[Any, tuple[Any, Any]],
    *,
    shared_exponent: bool = True,
    nonnegative: bool | None = None,
) -> dict[Any, LearningCurve]:
    """Fit one learning curve per group, optionally with a shared exponent ``b``.

    Parameters
    ----------
    data : dict
        ``{group: (n, err)}``.
    shared_exponent : bool, default True
        Fit one ``b`` for all groups (each group keeps its own ``a_g`` and
        ``e_g``): ``b`` minimises the total profile sum of squares
        :math:`\\sum_g \\min_{a_g, e_g} \\sum_i (a_g n_{gi}^{-b} + e_g - \\mathrm{err}_{gi})^2`.
        Pooling the exponent stabilises curves fitted on few points, and makes the
        closed-form allocation apply. With False each group is fitted alone.
    nonnegative : bool, optional
        As for :func:`fit_learning_curve`.

    Returns
    -------
    dict
        ``{group: LearningCurve}``; with a shared exponent the covariances are
        conditional on ``b``.

    Raises
    ------
    ValueError
        If a group has fewer than 2 distinct sizes (3 without a shared
        exponent), naming the group.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.equitable import fit_learning_curves, power_law
    >>> n = np.array([10, 30, 100, 300])
    >>> data = {"A": (n, power_law(n, 2, 0.5, 0.1)), "B": (n, power_law(n, 5, 0.5, 0.0))}
    >>> curves = fit_learning_curves(data)
    >>> round(curves["A"].b, 6), round(curves["B"].a, 6)
    (0.5, 5.0)
    """
    if not isinstance(data, Mapping) or not data:
        raise ValueError("`data` must be a non-empty dict {group: (n, err)}")
    for g, pair in data.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(
                f"`data` must map each group to a pair (n, err); group {g!r} has {pair!r}"
            )
    if not shared_exponent:
        return {
            g: fit_learning_curve(n, err, nonnegative=nonnegative, group=str(g))
            for g, (n, err) in data.items()
        }
    prepared = []
    for g, pair in data.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(
                f"`data` must map each group to a pair (n, err); group {g!r} has {pair!r}"
            )
        n, err = pair
        n_arr = check_array(n, "n", ndim=1)
        err_arr = check_array(err, "err", ndim=1)
        check_same_length("n", n_arr, "err", err_arr)
        if np.any(n_arr <= 0):
            raise ValueError(f"group {g!r}: `n` must be positive, got min {n_arr.min():g}")
        if np.unique(n_arr).size < 2:
            raise ValueError(
                f"group {g!r}: cannot fit a learning curve with a shared exponent: need at "
                f"least 2 distinct sizes, got {np.unique(n_arr).size}"
            )
        nonneg = bool(np.all(err_arr >= 0)) if nonnegative is None else nonnegative
        prepared.append((np.log(n_arr), err_arr, 0.0 if nonneg else -np.inf, float(err_arr.min())))

    def total(b: float) -> float:
        return sum(
            _linear_ae(np.exp(-b * ln), err, np.ones_like(err), lo, hi)[2]
            for ln, err, lo, hi in prepared
        )

    grid = np.geomspace(1e-3, _B_MAX, 40)
    vals = np.array([total(b) for b in grid])
    i = int(np.argmin(vals))
    res = optimize.minimize_scalar(
        lambda lb: total(float(np.exp(lb))),
        bounds=(np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, grid.size - 1)])),
        method="bounded",
        options={"xatol": 1e-11, "maxiter": 200},
    )
    b = float(np.exp(res.x)) if res.fun <= vals[i] else float(grid[i])
    return {
        g: fit_learning_curve(n, err, nonnegative=nonnegative, exponent=b, group=str(g))
        for g, (n, err) in data.items()
    }
