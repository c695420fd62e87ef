import numpy as np

from sciddm.reproduce import mean_ci


def test_t_interval_exact_coverage_gaussian():
    rng = np.random.default_rng(2024)
    trials, mu = 4000, 1.7
    cover = 0
    for _ in range(trials):
        _, lo, hi = mean_ci(rng.normal(mu, 3.0, size=5), level=0.90)
        cover += lo <= mu <= hi
    assert abs(cover / trials - 0.90) < 0.025


def test_t_interval_clt_coverage_exponential():
    rng = np.random.default_rng(7)
    trials = 2000
    cover = 0
    for _ in range(trials):
        _, lo, hi = mean_ci(rng.exponential(2.0, size=200), level=0.95)
        cover += lo <= 2.0 <= hi
    assert abs(cover / trials - 0.95) < 0.03
