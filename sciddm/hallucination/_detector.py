"""The trajectory-variance hallucination detector.

While sampling, a diffusion model predicts the clean sample
``x0_hat_t = D(x_t, t)`` at every reverse step. For a sample that lands on a
mode, ``x0_hat`` settles early; for a sample that ends between modes (a
hallucination), the prediction keeps switching between the neighbouring modes
until the last steps. The detector scores a sample by the variance of
``x0_hat`` over the last ``window`` reverse steps, averaged over dimensions,

.. math::

    H(x) = \\frac1d \\sum_{j=1}^d \\operatorname{Var}_{t \\in \\{1..K\\}}
           \\big[\\hat x_0^{(j)}(x_t, t)\\big],

and removes the samples whose score exceeds a threshold chosen on a calibration
set so that a target fraction of in-support samples is kept.

References
----------
.. [1] Aithal et al., "Understanding Hallucinations in Diffusion Models through
   Mode Interpolation", NeurIPS 2024, Section 5 (Eq. 2 and Fig. 6).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.validation import check_array, check_int, check_scalar

__all__ = [
    "DetectionReport",
    "Trajectory",
    "TrajectoryRecorder",
    "TrajectoryVarianceDetector",
    "trajectory_variance",
]


@dataclasses.dataclass(frozen=True, repr=False)
class Trajectory(Result):
    """States and clean-sample predictions of a reverse diffusion run.

    Attributes
    ----------
    x : ndarray, shape (steps, n, ...)
        The state ``x_t`` at each recorded step (before the step's update).
    x0_hat : ndarray or None, shape (steps, n, ...)
        The prediction ``D(x_t, t)`` at each step; ``None`` when not recorded.
    sigmas : ndarray, shape (steps,)
        The noise level of each step (``nan`` where the sampler gave none).
    """

    x: np.ndarray
    x0_hat: np.ndarray | None
    sigmas: np.ndarray


class TrajectoryRecorder:
    """A sampler callback that records ``x`` and ``denoised`` at every step.

    Pass it as ``callback=`` to any :mod:`sciddm.diffusion` sampler (the callback
    receives a dict with ``x``, ``sigma`` and ``denoised``), then call
    :meth:`trajectory`.
    """

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._x0: list[np.ndarray] = []
        self._sigma: list[float] = []

    def __call__(self, info: dict[str, Any]) -> None:
        self._x.append(_to_numpy(info["x"]))
        if info.get("denoised") is not None:
            self._x0.append(_to_numpy(info["denoised"]))
        s = info.get("sigma")
        self._sigma.append(float(np.asarray(_to_numpy(s)).ravel()[0]) if s is not None else np.nan)

    def trajectory(self) -> Trajectory:
        """The recorded :class:`Trajectory`."""
        if not self._x:
            raise ValueError("no step was recorded: pass the recorder as the sampler's `callback`")
        x0 = np.stack(self._x0) if len(self._x0) == len(self._x) else None
        return Trajectory(x=np.stack(self._x), x0_hat=x0, sigmas=np.asarray(self._sigma))


def _to_numpy(v: Any) -> np.ndarray:
    if hasattr(v, "detach"):
        return v.detach().to("cpu").double().numpy()
    return np.asarray(v, dtype=float)


def trajectory_variance(trajectory: Trajectory | np.ndarray, window: int = 10) -> np.ndarray:
    """Variance of ``x0_hat`` over the last ``window`` steps, averaged over dimensions.

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
        arr = check_array(trajectory, "trajectory", dtype=float)
    if arr.ndim < 2:
        raise ValueError(f"`trajectory` must have shape (steps, n, ...), got {arr.shape}")
    window = check_int(window, "window", lo=2)
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
    """

    threshold: float
    removed: float
    retained: float
    auroc: float
    fpr: np.ndarray
    tpr: np.ndarray
    n_hallucinations: int
    n_in_support: int


class TrajectoryVarianceDetector:
    """Flag hallucinations by their trajectory variance.

    Parameters
    ----------
    window : int, default 10
        Final steps over which the variance of ``x0_hat`` is taken.
    retention : float, default 0.96
        Fraction of in-support calibration samples to keep; the threshold is
        their empirical ``retention`` quantile.

    Attributes
    ----------
    threshold_ : float
        Set by :meth:`calibrate`.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import TrajectoryVarianceDetector
    >>> rng = np.random.default_rng(0)
    >>> scores = np.r_[rng.exponential(1.0, 500), 20 + rng.exponential(1.0, 50)]
    >>> in_support = np.r_[np.ones(500, bool), np.zeros(50, bool)]
    >>> det = TrajectoryVarianceDetector().calibrate(scores, in_support)
    >>> det.predict(np.array([0.1, 30.0]))
    array([False,  True])
    """

    def __init__(self, window: int = 10, retention: float = 0.96) -> None:
        self.window = window
        self.retention = retention

    def score(self, trajectory: Trajectory | np.ndarray) -> np.ndarray:
        """Trajectory variance of each sample."""
        return trajectory_variance(trajectory, self.window)

    def select_window(
        self, trajectory: Trajectory | np.ndarray, labels: np.ndarray, candidates: Sequence[int]
    ) -> TrajectoryVarianceDetector:
        """Pick the window among ``candidates`` that removes most calibration hallucinations.

        For each candidate ``K`` the threshold keeping ``retention`` of the
        in-support calibration samples is computed, and ``K`` with the largest
        fraction of calibration hallucinations above it wins (ties: larger AUROC).
        Sets ``window`` and ``window_scores_`` (candidate -> (removed, AUROC)), then
        calibrates the threshold with the chosen window. Only calibration data are
        used, so held-out figures stay honest.
        """
        from sklearn.metrics import roc_auc_score

        lab = np.asarray(labels)
        ins, hall = lab == 0, lab == 2
        if not hall.any():
            raise ValueError("`labels` holds no hallucination (2); cannot select a window")
        cands = [check_int(k, "candidates", lo=2) for k in candidates]
        if not cands:
            raise ValueError("`candidates` must not be empty")
        table: dict[int, tuple[float, float]] = {}
        for k in cands:
            s = trajectory_variance(trajectory, k)
            if s.shape != lab.shape:
                raise ValueError(f"`labels` must have shape {s.shape}, got {lab.shape}")
            thr = np.quantile(s[ins], self.retention, method="higher")
            keep = ins | hall
            table[k] = (float(np.mean(s[hall] > thr)), float(roc_auc_score(hall[keep], s[keep])))
        self.window = max(cands, key=lambda k: table[k])
        self.window_scores_ = table
        return self.calibrate(trajectory, ins)

    def _scores(self, x: Trajectory | np.ndarray) -> np.ndarray:
        if isinstance(x, Trajectory):
            return self.score(x)
        arr = check_array(x, "scores")
        if arr.ndim != 1:
            return self.score(arr)
        return arr

    def calibrate(
        self, scores: Trajectory | np.ndarray, in_support: np.ndarray
    ) -> TrajectoryVarianceDetector:
        """Choose ``threshold_`` keeping ``retention`` of the in-support samples."""
        retention = check_scalar(self.retention, "retention", lo=0, hi=1, closed="neither")
        s = self._scores(scores)
        mask = np.asarray(in_support, dtype=bool)
        if mask.shape != s.shape:
            raise ValueError(f"`in_support` must have shape {s.shape}, got {mask.shape}")
        if not mask.any():
            raise ValueError("`in_support` selects no sample; calibration needs in-support samples")
        self.threshold_ = float(np.quantile(s[mask], retention, method="higher"))
        return self

    def predict(self, scores: Trajectory | np.ndarray) -> np.ndarray:
        """True for samples flagged as hallucinations (score above ``threshold_``)."""
        if not hasattr(self, "threshold_"):
            raise ValueError("the detector is not calibrated: call `calibrate` first")
        return self._scores(scores) > self.threshold_

    def evaluate(self, scores: Trajectory | np.ndarray, labels: np.ndarray) -> DetectionReport:
        """Removal and retention rates and the ROC on labelled samples.

        ``labels`` uses :data:`IN_SUPPORT` (0), intermediate (1, ignored) and
        :data:`HALLUCINATION` (2), as returned by ``ModeMixture.classify``.
        """
        from sklearn.metrics import roc_auc_score, roc_curve

        s = self._scores(scores)
        lab = np.asarray(labels)
        if lab.shape != s.shape:
            raise ValueError(f"`labels` must have shape {s.shape}, got {lab.shape}")
        flagged = self.predict(s)
        hall, ins = lab == 2, lab == 0
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
