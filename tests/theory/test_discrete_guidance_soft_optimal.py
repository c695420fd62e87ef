"""theory/76: the soft-optimal policy samples p* ∝ p_pre exp(r/alpha); SVDD approximates it."""

import numpy as np
import pytest

from sciddm.discrete import svdd
from sciddm.discrete.toys import exact_tilt, svdd_law, toy_problem, toy_reward
from sciddm.reproduce import chisquare_gof, total_variation


def _toy():
    prob = toy_problem(length=3, n_tokens=3, rng=21, concentration=0.7)
    rew = np.random.default_rng(22).normal(size=27)
    return prob, rew


def test_soft_optimal_policy_samples_tilted_law():
    prob, rew = _toy()
    objective = []
    mean_r = []
    for alpha in (4.0, 1.0, 0.3, 0.05, 0.01):
        tilt = exact_tilt(prob, rew, alpha, steps=3)
        # 1. the chain with kernels p_pre(y|x) h(y) / h(x) has output law p*
        mats = []
        for i, k in enumerate(tilt.kernels):
            m = k * tilt.h[i + 1][None, :]
            rows = m.sum(1)
            np.testing.assert_allclose(rows[rows > 0], tilt.h[i][rows > 0], rtol=1e-12)
            mats.append(np.divide(m, rows[:, None], out=np.zeros_like(m), where=rows[:, None] > 0))
        assert total_variation(tilt.chain_law(mats), tilt.tilted) < 1e-12
        # 2. Gibbs variational principle: E[r] - alpha KL(p* || p_pre) = alpha log E[e^{r/alpha}]
        p, q = tilt.tilted, tilt.pretrained
        pos = p > 0
        kl = float(np.sum(p[pos] * np.log(p[pos] / q[pos])))
        val = float(p @ rew) - alpha * kl
        log_z = alpha * np.log(q @ np.exp((rew - rew.max()) / alpha)) + rew.max()
        assert val == pytest.approx(log_z, rel=1e-9, abs=1e-12)
        g = np.random.default_rng(0)
        for _ in range(20):  # ... and no other law does better
            other = g.dirichlet(np.ones(27)) * 0.3 + 0.7 * p
            okl = float(np.sum(other * np.log(other / q)))
            assert float(other @ rew) - alpha * okl <= val + 1e-12
        objective.append(val)
        mean_r.append(float(p @ rew))
    # 3. E_{p*}[r] grows as alpha falls, towards the best reward in the support
    assert all(a <= b + 1e-12 for a, b in zip(mean_r, mean_r[1:]))
    assert mean_r[-1] == pytest.approx(rew.max(), abs=1e-3)
    assert mean_r[0] < rew.max() - 0.5


def test_svdd_importance_resampling_limit():
    prob, rew = _toy()
    tilt = exact_tilt(prob, rew, 0.5, steps=3)
    laws = {m: svdd_law(tilt, m) for m in (1, 2, 8, 32, None)}
    for law in laws.values():
        assert law.sum() == pytest.approx(1.0, abs=1e-9)
    assert total_variation(laws[1], tilt.pretrained) < 1e-12  # M = 1: pretrained chain
    assert total_variation(laws[None], tilt.tilted) < 1e-12  # M -> inf: p*
    tv = [total_variation(laws[m], tilt.tilted) for m in (1, 2, 8, 32)]
    assert all(a > b for a, b in zip(tv, tv[1:])) and tv[-1] < 0.1 * tv[0]
    # the sampler follows the exact finite-M law (chi-squared, false-alarm rate 1e-3)
    n = 10000
    res = svdd(prob.model(), toy_reward(prob, rew), n, M=8, alpha=0.5, variant="mc",
               value_model=tilt.value_model(), steps=3, seeds=np.arange(n) + 99)  # fmt: skip
    assert chisquare_gof(prob.counts(res.tokens), laws[8]) > 1e-3
