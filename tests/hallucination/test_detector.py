import numpy as np
import pytest
import torch

from sciddm.hallucination import (
    Trajectory,
    TrajectoryRecorder,
    TrajectoryVarianceDetector,
    trajectory_variance,
)


def test_trajectory_variance_matches_direct_computation():
    rng = np.random.default_rng(0)
    traj = rng.normal(size=(30, 7, 2, 3))
    got = trajectory_variance(traj, window=6)
    direct = np.array([np.var(traj[-6:, i].reshape(6, -1), axis=0).mean() for i in range(7)])
    np.testing.assert_allclose(got, direct, rtol=1e-12)


def test_trajectory_variance_errors():
    with pytest.raises(ValueError, match="`window` \\(11\\) is longer"):
        trajectory_variance(np.zeros((10, 3, 1)), window=11)
    with pytest.raises(ValueError, match="no x0_hat"):
        trajectory_variance(Trajectory(x=np.zeros((5, 2, 1)), x0_hat=None, sigmas=np.ones(5)), 3)
    with pytest.raises(ValueError, match="shape \\(steps, n"):
        trajectory_variance(np.zeros(10), window=3)
    with pytest.raises(ValueError, match="`window`"):
        trajectory_variance(np.zeros((10, 3)), window=1)


def test_recorder_collects_steps():
    rec = TrajectoryRecorder()
    for i in range(4):
        rec(
            {
                "x": torch.full((3, 2), float(i)),
                "denoised": torch.full((3, 2), 2.0 * i),
                "sigma": torch.tensor(1.0 / (i + 1)),
            }
        )
    tr = rec.trajectory()
    assert tr.x.shape == (4, 3, 2) and tr.x0_hat[-1, 0, 0] == 6.0
    np.testing.assert_allclose(tr.sigmas, [1, 0.5, 1 / 3, 0.25])
    assert TrajectoryVarianceDetector(window=4).score(tr)[0] == pytest.approx(np.var([0, 2, 4, 6]))
    with pytest.raises(ValueError, match="no step"):
        TrajectoryRecorder().trajectory()


def test_detector_threshold_retains_target_fraction_on_held_out():
    rng = np.random.default_rng(1)
    n_in, n_h = 20_000, 2_000
    det = TrajectoryVarianceDetector(retention=0.96)
    det.calibrate(rng.gamma(2.0, size=n_in), np.ones(n_in, bool))
    scores = np.r_[rng.gamma(2.0, size=n_in), 12 + rng.gamma(2.0, size=n_h)]
    labels = np.r_[np.zeros(n_in, int), np.full(n_h, 2)]
    rep = det.evaluate(scores, labels)
    # retention is a binomial proportion around 0.96 (se 0.0014 + calibration error)
    assert abs(rep.retained - 0.96) < 0.01
    assert rep.removed > 0.99 and rep.auroc > 0.99
    assert rep.n_hallucinations == n_h and rep.fpr[0] == 0


def test_detector_errors():
    det = TrajectoryVarianceDetector()
    with pytest.raises(ValueError, match="not calibrated"):
        det.predict(np.ones(3))
    with pytest.raises(ValueError, match="`in_support` selects no sample"):
        det.calibrate(np.ones(3), np.zeros(3, bool))
    with pytest.raises(ValueError, match="`in_support` must have shape"):
        det.calibrate(np.ones(3), np.ones(4, bool))
    with pytest.raises(ValueError, match="`retention`"):
        TrajectoryVarianceDetector(retention=1.0).calibrate(np.ones(3), np.ones(3, bool))
    det.calibrate(np.ones(3), np.ones(3, bool))
    with pytest.raises(ValueError, match="`labels` must have shape"):
        det.evaluate(np.ones(3), np.zeros(2))


def test_select_window_picks_the_informative_tail():
    rng = np.random.default_rng(4)
    n_in, n_h, steps = 3000, 300, 30
    traj = rng.normal(scale=0.01, size=(steps, n_in + n_h, 1))
    # hallucinations oscillate in steps -8..-5 only; in-support samples move a lot
    # before that (steps -20..-9), so K = 8 separates best (K = 4 sees nothing)
    traj[-8:-4, n_in:] += np.where(np.arange(4) % 2, 1.0, -1.0)[:, None, None]
    traj[-20:-8, :n_in] += np.where(np.arange(12) % 2, 1.0, -1.0)[:, None, None]
    labels = np.r_[np.zeros(n_in, int), np.full(n_h, 2)]
    det = TrajectoryVarianceDetector(retention=0.96).select_window(traj, labels, [4, 8, 16, 24])
    assert det.window == 8 and det.window_scores_[8][0] == 1.0
    assert det.window_scores_[24][0] < 0.5
    with pytest.raises(ValueError, match="no hallucination"):
        det.select_window(traj, np.zeros(n_in + n_h, int), [4])
    with pytest.raises(ValueError, match="`candidates` must not be empty"):
        det.select_window(traj, labels, [])
