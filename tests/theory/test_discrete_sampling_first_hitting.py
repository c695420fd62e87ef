"""theory/74: the first-hitting time law and FHS = continuous-time ancestral chain."""

import numpy as np
import torch
from scipy import stats

from sciddm.discrete import FunctionModel, LogLinearSchedule, sample
from sciddm.discrete.toys import exact_law, toy_problem
from sciddm.reproduce import total_variation

L, N = 8, 2500


class Cosine:
    def alpha(self, t):
        return torch.cos(torch.pi * t / 2) if torch.is_tensor(t) else np.cos(np.pi * t / 2)

    def alpha_inv(self, a):
        return 2 * torch.arccos(a) / torch.pi if torch.is_tensor(a) else 2 * np.arccos(a) / np.pi


def _model():
    return FunctionModel(lambda x: torch.zeros(*x.shape, 4), vocab_size=4, mask_id=3, length=L)


def test_fhs_unmasking_times_are_iid_masking_times():
    # Each position's unmasking time tau must satisfy (1 - alpha(tau)) / (1 - alpha(1)) ~ U(0, 1),
    # independently across positions; its row maximum then has CDF x**L.
    for sch in (LogLinearSchedule(), Cosine()):
        res = sample(_model(), N, method="fhs", seeds=np.arange(N), schedule=sch)
        w = (1 - sch.alpha(res.unmask_times)) / (1 - sch.alpha(1.0))
        assert stats.kstest(w[:, 0], "uniform").pvalue > 1e-3  # false alarm 1e-3
        assert stats.kstest(w.ravel(), "uniform").pvalue > 1e-3
        assert stats.kstest(w.max(1), lambda x: np.clip(x, 0, 1) ** L).pvalue > 1e-3
        # independence across positions: correlation of two positions' times
        r = np.corrcoef(w[:, 0], w[:, 5])[0, 1]
        assert abs(r) < 4 / np.sqrt(N)  # 4 standard errors


def test_fhs_picks_positions_uniformly():
    res = sample(_model(), N, method="fhs", seeds=np.arange(N) + 7)
    first = np.argmax(res.unmask_times, axis=1)  # position unmasked first
    counts = np.bincount(first, minlength=L)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_fhs_law_is_the_many_step_limit_of_ancestral():
    prob = toy_problem(rng=4, consistent=False)
    fhs = exact_law(prob, "fhs")
    tvs = [total_variation(exact_law(prob, "ancestral", steps=s), fhs) for s in (20, 200)]
    assert tvs[1] < 5e-3 and 8 < tvs[0] / tvs[1] < 12  # TV ~ c / steps
