"""Checks of theory/63_ambient_sample_complexity.md (as trends)."""

import numpy as np

from sciddm.ambient import mixture_fisher_value
from sciddm.ambient._data import SCENARIOS
from sciddm.ambient.toys import mixture_scenario_errors


def test_noisy_value_decreases_and_narrow_is_worth_less():
    w = [0.5, 0.5]
    m = [[-3.0], [3.0]]
    s2 = np.array([0.01, 1.0])
    c = s2[:, None, None] * np.ones((2, 1, 1))
    narrow, wide = [], []
    for sigma in (0.1, 0.3, 1.0):
        fv = mixture_fisher_value(w, m, c, sigma, parameter="variances", n_mc=100_000, rng=63)
        # information matrix is nearly diagonal for separated components
        ratio = np.diag(fv.info_noisy) / np.diag(fv.info_clean)
        narrow.append(ratio[0])
        wide.append(ratio[1])
        single = (s2 / (s2 + sigma**2)) ** 2
        assert ratio[0] < 1.3 * single[0]
        assert ratio[1] < 1.3 * single[1]
        if sigma >= 0.3:
            assert ratio[0] < 0.1 * ratio[1]
    assert np.all(np.diff(narrow) < 0) and np.all(np.diff(wide) < 0)


def test_table_ordering_trend():
    errs = {s: [] for s in SCENARIOS}
    for seed in range(4):
        out = mixture_scenario_errors(1200, 0.5, 4, 1, rng=np.random.default_rng(seed))
        for s in SCENARIOS:
            errs[s].append(out[f"rel|{s}"])
    mean = {s: float(np.mean(v)) for s, v in errs.items()}
    clean, noisy, few, mixed = (mean[s] for s in SCENARIOS)
    assert clean < mixed
    assert 1.3 * mixed < few
    assert 1.3 * mixed < noisy
