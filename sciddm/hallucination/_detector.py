r"""The trajectory-variance hallucination detector.

While sampling, a diffusion model predicts the clean sample
``x0_hat_t = D(x_t, t)`` at every reverse step. For a sample that lands on a
mode, ``x0_hat`` settles early; for a sample that ends between modes (a
hallucination), the prediction keeps switching between the neighbouring modes
until the last steps. The detector scores a sample by the variance of
``x0_hat`` over the last ``window`` reverse steps, averaged over dimensions,

.. math::

    H(x) = \frac1d \sum_{j=1}^d \operatorname{Var}_{t \in \{1..K\}}
           \big[\hat x_0^{(j)}(x_t, t)\big],

and removes the samples whose score exceeds a threshold chosen on a calibration
set so that a target fraction of in-support samples is kept.

References
----------
.. [1] Aithal et al., "Understanding Hallucinations in Diffusion Models through
   Mode Interpolation", NeurIPS 2024, Section 5 (Eq. 2 and Fig. 6).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from sciddm._core.results import Result
from sciddm._core.validation import check_int, check_scalar
from sciddm.hallucination._data import HALLUCINATION, IN_SUPPORT, INTERMEDIATE

__all__ = [
    "DetectionReport",
    "Trajectory",
    "TrajectoryRecorder",
    "TrajectoryVarianceDetector",
    "trajectory_variance",
]


@dataclasses.dataclass(frozen=True, repr=False)
class Trajectory(Result):
    r"""States and clean-sample predictions of a reverse diffusion run.

    Parameters
    ----------
    x : array_like of shape (steps, n, ...)
        The state :math:`x_t` at each recorded step (before the step's update).
    x0_hat : array_like of shape (steps, n, ...) or None
        The prediction :math:`\hat x_0 = D(x_t, t)` at each step; ``None`` when
        not recorded.
    sigmas : array_like of shape (steps,)
        The noise level of each step.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import Trajectory, trajectory_variance
    >>> tr = Trajectory(x=np.zeros((4, 2, 1)), x0_hat=np.arange(8.0).reshape(4, 2, 1),
    ...                 sigmas=np.array([3.0, 2.0, 1.0, 0.5]))
    >>> trajectory_variance(tr, window=2)
    array([1., 1.])
    """

    x: np.ndarray
    x0_hat: np.ndarray | None
    sigmas: np.ndarray

    def __post_init__(self) -> None:
        x = _finite_array(self.x, "x")
        if x.ndim < 2:
            raise ValueError(f"`x` must have shape (steps, n, ...), got {x.shape}")
        object.__setattr__(self, "x", x)
        if self.x0_hat is not None:
            x0 = _finite_array(self.x0_hat, "x0_hat")
            if x0.shape != x.shape:
                raise ValueError(f"`x0_hat` must have the shape of `x`, {x.shape}, got {x0.shape}")
            object.__setattr__(self, "x0_hat", x0)
        sig = _finite_array(self.sigmas, "sigmas")
        if sig.shape != (x.shape[0],) or np.any(sig < 0):
            raise ValueError(
                f"`sigmas` must be {x.shape[0]} non-negative noise levels (one per step), got "
                f"shape {sig.shape}"
            )
        object.__setattr__(self, "sigmas", sig)


def _finite_array(v: Any, name: str) -> np.ndarray:
    from sciddm._core.validation import check_dense

    check_dense(v, name)
    if hasattr(v, "detach"):
        v = v.detach().to("cpu").double().numpy()
    if v is None or isinstance(v, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of numbers, got {type(v).__name__}")
    try:
        arr = np.asarray(v)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` could not be converted to an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must not contain NaN or inf")
    return arr


class TrajectoryRecorder:
    """A sampler callback that records ``x``, ``denoised`` and ``sigma`` at every step.

    Pass it as ``callback=`` to any :mod:`sciddm.diffusion` sampler (the
    callback receives a dict with ``x``, ``sigma`` and ``denoised``), then call
    :meth:`trajectory`. Every step's values are checked (finite, matching
    shapes).

    Examples
    --------
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, karras_sigmas, sample_heun
    >>> from sciddm.hallucination import TrajectoryRecorder
    >>> rec = TrajectoryRecorder()
    >>> _ = sample_heun(GaussianDenoiser([0.0], [[1.0]]), torch.full((3, 1), 5.0),
    ...                 karras_sigmas(4, sigma_max=5.0), callback=rec)
    >>> rec.trajectory().x0_hat.shape
    (4, 3, 1)
    """

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._x0: list[np.ndarray] = []
        self._sigma: list[float] = []

    def __call__(self, info: dict[str, Any]) -> None:
        """Record one step: ``info`` holds ``x``, ``sigma`` and (optionally) ``denoised``."""
        if not isinstance(info, dict) or "x" not in info or "sigma" not in info:
            raise TypeError("the callback takes a dict with `x` and `sigma` (and `denoised`)")
        x = _finite_array(info["x"], "x")
        if x.ndim < 1:
            raise ValueError(f"`x` must have shape (n, ...), got {x.shape}")
        if self._x and x.shape != self._x[-1].shape:
            raise ValueError(f"`x` changed shape from {self._x[-1].shape} to {x.shape}")
        den = info.get("denoised")
        if den is not None:
            den = _finite_array(den, "denoised")
            if den.shape != x.shape:
                raise ValueError(
                    f"`denoised` must have the shape of `x`, {x.shape}, got {den.shape}"
                )
        sig = _finite_array(info["sigma"], "sigma").ravel()
        if sig.size == 0 or sig[0] < 0:
            raise ValueError("`sigma` must be a non-negative noise level")
        self._x.append(x)
        if den is not None:
            self._x0.append(den)
        self._sigma.append(float(sig[0]))

    def trajectory(self) -> Trajectory:
        """The recorded :class:`Trajectory`.

        Returns
        -------
        Trajectory
        """
        if not self._x:
            raise ValueError("no step was recorded: pass the recorder as the sampler's `callback`")
        x0 = np.stack(self._x0) if len(self._x0) == len(self._x) else None
        return Trajectory(x=np.stack(self._x), x0_hat=x0, sigmas=np.asarray(self._sigma))


def trajectory_variance(trajectory: Trajectory | np.ndarray, window: int = 10) -> np.ndarray:
    r"""Variance of :math:`\hat x_0` over the last ``window`` steps, averaged over dimensions.

    .. math::

        H(x) = \frac1d \sum_{j=1}^d \operatorname{Var}_{t \in \{1..K\}}
               \big[\hat x_0^{(j)}(x_t, t)\big].

    Parameters
    ----------
    trajectory : Trajectory or ndarray, shape (steps, n, ...)
        The clean-sample predictions along the reverse process, in sampling
        order (the last entry is the final step).
    window : int, default 10
        Number of final steps ``K`` (the paper uses 10 of T = 1000; scale it with
        the number of steps).

    Returns
    -------
    ndarray, shape (n,)

    References
    ----------
    .. [1] Aithal et al., NeurIPS 2024, Sec. 5, eq. (2).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import trajectory_variance
    >>> traj = np.zeros((20, 2, 1)); traj[-4::2, 1] = 1.0   # sample 1 flips late
    >>> trajectory_variance(traj, window=4)
    array([0.  , 0.25])
    """
    if isinstance(trajectory, Trajectory):
        if trajectory.x0_hat is None:
            raise ValueError(
                "`trajectory` holds no x0_hat predictions; record the sampler's `denoised` "
                "output (TrajectoryRecorder does)"
            )
        arr = trajectory.x0_hat
    else:
        arr = _finite_array(trajectory, "trajectory")
    if arr.ndim < 2 or arr.shape[1] == 0:
        raise ValueError(f"`trajectory` must have shape (steps, n, ...), got {arr.shape}")
    window = check_int(window, "window", lo=2, hi=10**6)
    if window > arr.shape[0]:
        raise ValueError(
            f"`window` ({window}) is longer than the trajectory ({arr.shape[0]} steps)"
        )
    tail = arr[-window:].reshape(window, arr.shape[1], -1)
    return tail.var(axis=0).mean(axis=-1)


@dataclasses.dataclass(frozen=True, repr=False)
class DetectionReport(Result):
    """Performance of a hallucination filter on labelled samples.

    Attributes
    ----------
    threshold : float
        Samples with a score above it are removed.
    removed : float
        Fraction of hallucinations removed (true-positive rate).
    retained : float
        Fraction of in-support samples kept (true-negative rate).
    auroc : float
        Area under the ROC curve of the score for hallucination vs in-support.
    fpr, tpr : ndarray
        The ROC curve.
    n_hallucinations, n_in_support : int
        Labelled samples of each kind (``removed``/``retained``/``auroc`` are NaN
        when a kind is absent: the rate is undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import TrajectoryVarianceDetector
    >>> det = TrajectoryVarianceDetector(retention=0.5).fit(np.arange(10.0))
    >>> rep = det.evaluate(np.array([1.0, 9.5, 20.0]), np.array([0, 2, 2]))
    >>> rep.removed, rep.retained, rep.n_hallucinations
    (1.0, 1.0, 2)
    """

    threshold: float
    removed: float
    retained: float
    auroc: float
    fpr: np.ndarray
    tpr: np.ndarray
    n_hallucinations: int
    n_in_support: int


def _labels_iv(y: Any, n: int, name: str = "y") -> np.ndarray:
    """Labels 0 (in support), 1 (intermediate) or 2 (hallucination), one per sample."""
    from sciddm._core.validation import check_dense

    check_dense(y, name)
    lab = np.asarray(y)
    if lab.dtype == bool:
        raise TypeError(
            f"`{name}` must hold labels 0 (in support), 1 (intermediate) or 2 (hallucination), "
            f"got a boolean mask; for an in-support mask pass np.where(mask, 0, 1)"
        )
    if lab.ndim != 1 or lab.shape[0] != n:
        raise ValueError(f"`{name}` must have shape ({n},), got {lab.shape}")
    if lab.dtype.kind not in "iuf" or not np.all(np.isin(lab, (0, 1, 2))):
        bad = lab[~np.isin(lab, (0, 1, 2))][:3] if lab.dtype.kind in "iuf" else lab.dtype
        raise ValueError(
            f"`{name}` must hold labels 0 (in support), 1 (intermediate) or 2 "
            f"(hallucination), as ModeMixture.classify returns; found {bad}"
        )
    return lab.astype(int)


def _windows_iv(window: Any) -> list[int]:
    if isinstance(window, (list, tuple, np.ndarray)):
        cands = [check_int(k, "window", lo=2, hi=10**6) for k in window]
        if not cands:
            raise ValueError("`window` must be an integer or a non-empty list of candidates")
        return cands
    return [check_int(window, "window", lo=2, hi=10**6)]


class TrajectoryVarianceDetector(BaseEstimator):
    r"""Flag hallucinations by their trajectory variance (a scikit-learn estimator).

    ``fit`` sets the threshold at the ``retention`` quantile of the scores of
    the in-support calibration samples; ``predict`` flags the samples above it.

    Parameters
    ----------
    window : int or list of int, default 10
        Final steps :math:`K` over which the variance of :math:`\hat x_0` is
        taken (the paper uses 10 of :math:`T = 1000`; scale it with the number
        of steps). A list of candidates makes :meth:`fit` choose among them
        with the labels, as :meth:`select_window` does.
    retention : float, default 0.96
        Fraction of in-support calibration samples to keep, in (0, 1).

    Attributes
    ----------
    threshold_ : float
        Samples with a score above it are flagged.
    window_ : int
        The window used (``window``, or the candidate chosen).
    window_scores_ : dict
        With candidates: ``{K: (removed, AUROC)}`` on the calibration set.
    n_features_in_ : int
        Recorded steps of the array ``X`` given to ``fit`` (absent for a
        :class:`Trajectory` or for 1-D scores).

    Notes
    -----
    ``X`` may be

    * a :class:`Trajectory` (what :class:`TrajectoryRecorder` and
      :func:`generate` record, in the sampler's ``(steps, n, ...)`` order);
    * an array of shape ``(n_samples, n_steps)`` or ``(n_samples, n_steps, ...)``:
      each row the :math:`\hat x_0` predictions of one sample, in sampling order
      (scikit-learn's sample-first layout);
    * a 1-D array of precomputed scores (:func:`trajectory_variance`).

    ``y`` holds labels 0 (in support), 1 (intermediate, ignored) and 2
    (hallucination), as ``ModeMixture.classify`` returns; ``y=None`` treats
    every calibration sample as in support. The estimator passes
    scikit-learn's ``check_estimator`` except the checks listed in
    ``tests/hallucination/test_detector.py`` (1-D input is a vector of scores
    here, and a target must hold those three labels).

    References
    ----------
    .. [1] Aithal, Maini, Lipton, Kolter, "Understanding hallucinations in
       diffusion models through mode interpolation", NeurIPS 2024, Sec. 5
       (eq. 2 and Fig. 6).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import TrajectoryVarianceDetector
    >>> rng = np.random.default_rng(0)
    >>> scores = np.r_[rng.exponential(1.0, 500), 20 + rng.exponential(1.0, 50)]
    >>> labels = np.r_[np.zeros(500, int), np.full(50, 2)]
    >>> det = TrajectoryVarianceDetector().fit(scores, labels)
    >>> det.predict(np.array([0.1, 30.0]))
    array([False,  True])
    >>> round(det.score(scores, labels), 3)   # AUROC
    1.0
    """

    def __init__(self, window: int | Sequence[int] = 10, retention: float = 0.96) -> None:
        self.window = window
        self.retention = retention

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def _scores(self, X: Any, window: int, *, reset: bool) -> np.ndarray:
        if isinstance(X, Trajectory):
            return trajectory_variance(X, window)
        from sklearn.utils.validation import validate_data

        from sciddm._core.validation import check_dense

        check_dense(X, "X")
        if hasattr(X, "detach"):
            X = X.detach().cpu().numpy()
        try:
            shape = np.shape(X)
            if len(shape) >= 1 and shape[0] == 0:
                raise ValueError(f"got 0 sample(s) (shape={shape})")
            arr = validate_data(
                self, X, reset=reset, ensure_2d=False, allow_nd=True, dtype=np.float64
            )
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            raise type(exc)(msg if msg.startswith("X has") else f"`X`: {msg}") from None
        if arr.ndim == 0:
            raise ValueError("`X` must hold one entry per sample, got a scalar")
        if arr.ndim == 1:
            return np.asarray(arr)
        n, steps = arr.shape[0], arr.shape[1]
        if reset:
            self.n_features_in_ = steps
        elif hasattr(self, "n_features_in_") and steps != self.n_features_in_:
            raise ValueError(
                f"X has {steps} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (recorded steps per sample)"
            )
        if steps < window:
            raise ValueError(
                f"X has {steps} feature(s) (recorded steps per sample) but the window is "
                f"{window}; record more steps or lower `window`"
            )
        tail = arr[:, -window:].reshape(n, window, -1)
        return np.asarray(tail.var(axis=1).mean(axis=-1))

    def fit(self, X: Any, y: Any = None) -> TrajectoryVarianceDetector:
        """Set ``threshold_`` (and ``window_``) from calibration samples.

        Parameters
        ----------
        X : Trajectory or array_like
            Calibration trajectories or scores (see the class Notes).
        y : array_like of int, optional
            Labels 0 / 1 / 2; only the in-support samples (0) set the
            threshold; candidates of ``window`` need some hallucinations (2).
            ``None``: every sample is in support.

        Returns
        -------
        self
        """
        retention = check_scalar(self.retention, "retention", lo=0, hi=1, closed="neither")
        cands = _windows_iv(self.window)
        if len(cands) > 1:
            if y is None:
                raise ValueError("choosing among `window` candidates needs labels `y`")
            return self.select_window(X, y, cands)
        s = self._scores(X, cands[0], reset=True)
        lab = np.zeros(s.shape[0], dtype=int) if y is None else _labels_iv(y, s.shape[0])
        ins = lab == IN_SUPPORT
        if not ins.any():
            raise ValueError(
                f"`y` labels none of the {s.shape[0]} sample(s) in support (0); the threshold "
                "is a quantile of the in-support scores"
            )
        self.window_ = cands[0]
        self.threshold_ = float(np.quantile(s[ins], retention, method="higher"))
        return self

    def select_window(
        self, X: Any, y: Any, candidates: Sequence[int]
    ) -> TrajectoryVarianceDetector:
        """Choose the window among ``candidates`` that removes most calibration hallucinations.

        For each candidate :math:`K` the threshold keeping ``retention`` of the
        in-support calibration samples is computed, and the :math:`K` with the
        largest fraction of calibration hallucinations above it wins (ties: the
        larger AUROC). Sets ``window_``, ``window_scores_`` (candidate ->
        (removed, AUROC)) and ``threshold_``; the constructor's ``window`` is
        left as it is. Only calibration data are used, so held-out figures stay
        honest.

        Parameters
        ----------
        X : Trajectory or array_like
            Calibration trajectories (see the class Notes; not 1-D scores).
        y : array_like of int
            Labels 0 / 1 / 2 with at least one hallucination (2).
        candidates : sequence of int
            Windows to try, each ``>= 2``.

        Returns
        -------
        self
        """
        from sklearn.metrics import roc_auc_score

        retention = check_scalar(self.retention, "retention", lo=0, hi=1, closed="neither")
        cands = _windows_iv(list(candidates))
        table: dict[int, tuple[float, float]] = {}
        for k in cands:
            s = self._scores(X, k, reset=True)
            if k == cands[0]:
                lab = _labels_iv(y, s.shape[0])
                ins, hall = lab == IN_SUPPORT, lab == HALLUCINATION
                if not hall.any() or not ins.any():
                    raise ValueError(
                        "`y` must label some hallucinations (2) and some in-support samples "
                        "(0) to select a window"
                    )
            thr = np.quantile(s[ins], retention, method="higher")
            keep = ins | hall
            table[k] = (float(np.mean(s[hall] > thr)), float(roc_auc_score(hall[keep], s[keep])))
        best = max(cands, key=lambda k: table[k])
        s = self._scores(X, best, reset=True)
        self.window_scores_ = table
        self.window_ = best
        self.threshold_ = float(np.quantile(s[ins], retention, method="higher"))
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """Trajectory variance of each sample (larger: more likely a hallucination).

        Parameters
        ----------
        X : Trajectory or array_like
            See the class Notes.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        window = self.window_ if hasattr(self, "window_") else _windows_iv(self.window)[0]
        return self._scores(X, window, reset=False)

    def predict(self, X: Any) -> np.ndarray:
        """True for the samples flagged as hallucinations (score above ``threshold_``).

        Parameters
        ----------
        X : Trajectory or array_like
            See the class Notes.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
        """
        check_is_fitted(self, "threshold_")
        return np.asarray(self.score_samples(X) > self.threshold_)

    def score(self, X: Any, y: Any = None) -> Any:
        """AUROC of the scores for hallucination (2) against in-support (0) samples.

        Parameters
        ----------
        X : Trajectory or array_like
            See the class Notes.
        y : array_like of int
            Labels 0 / 1 / 2. (Without ``y`` this returns the per-sample scores,
            the deprecated meaning of ``score``; use :meth:`score_samples`.)

        Returns
        -------
        float
        """
        if y is None:
            warnings.warn(
                "score(X) returning per-sample scores is deprecated; use score_samples(X) "
                "(score(X, y) is the AUROC)",
                DeprecationWarning,
                stacklevel=2,
            )
            return self.score_samples(X)
        from sklearn.metrics import roc_auc_score

        check_is_fitted(self, "threshold_")
        s = self.score_samples(X)
        lab = _labels_iv(y, s.shape[0])
        hall, ins = lab == HALLUCINATION, lab == IN_SUPPORT
        if not (hall.any() and ins.any()):
            return float("nan")
        keep = hall | ins
        return float(roc_auc_score(hall[keep], s[keep]))

    def calibrate(self, scores: Any, in_support: Any) -> TrajectoryVarianceDetector:
        """Deprecated: ``fit(X, y)`` with labels (this took a boolean in-support mask).

        Arrays of trajectories are read in the sampler's ``(steps, n, ...)``
        order, as before.
        """
        warnings.warn(
            "calibrate(scores, in_support) is deprecated; use fit(X, y) with labels "
            "y = np.where(in_support, 0, 1) (arrays of trajectories are sample-first in fit)",
            DeprecationWarning,
            stacklevel=2,
        )
        mask = np.asarray(in_support, dtype=bool)
        X = scores
        if not isinstance(X, Trajectory) and np.ndim(X) >= 2:
            X = np.moveaxis(np.asarray(X), 0, 1)
        return self.fit(X, np.where(mask, IN_SUPPORT, INTERMEDIATE))

    def evaluate(self, X: Any, y: Any) -> DetectionReport:
        """Removal and retention rates and the ROC on labelled samples.

        Parameters
        ----------
        X : Trajectory or array_like
            See the class Notes.
        y : array_like of int
            Labels :data:`IN_SUPPORT` (0), intermediate (1, ignored) and
            :data:`HALLUCINATION` (2), as ``ModeMixture.classify`` returns.

        Returns
        -------
        DetectionReport
        """
        from sklearn.metrics import roc_auc_score, roc_curve

        check_is_fitted(self, "threshold_")
        s = self.score_samples(X)
        lab = _labels_iv(y, s.shape[0])
        flagged = s > self.threshold_
        hall, ins = lab == HALLUCINATION, lab == IN_SUPPORT
        keep = hall | ins
        if hall.any() and ins.any():
            fpr, tpr, _ = roc_curve(hall[keep], s[keep])
            auroc = float(roc_auc_score(hall[keep], s[keep]))
        else:
            fpr, tpr, auroc = np.array([0.0, 1.0]), np.array([0.0, 1.0]), float("nan")
        return DetectionReport(
            threshold=self.threshold_,
            removed=float(flagged[hall].mean()) if hall.any() else float("nan"),
            retained=float((~flagged[ins]).mean()) if ins.any() else float("nan"),
            auroc=auroc,
            fpr=fpr,
            tpr=tpr,
            n_hallucinations=int(hall.sum()),
            n_in_support=int(ins.sum()),
        )
