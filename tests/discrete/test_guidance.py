"""Reward-guided decoding: exact laws on a toy model, cost accounting, reproducibility, errors.

The toy model is the samplers' ``ToyProblem`` (length 3, 3 tokens, exact
conditionals of a Dirichlet joint). Exact laws (``svdd_law``,
``svdd_argmax_law``, ``best_of_n_law``) are computed by enumeration in
:mod:`sciddm.discrete.experiments.guidance`, independently of the samplers.
Every chi-squared test uses fixed seeds; its false-alarm rate (the chance
that a correct sampler fails it with a random seed) is 1e-3.
"""

import numpy as np
import pytest
import torch

from sciddm.discrete import (
    FunctionModel,
    best_of_n,
    load_value_model,
    smc,
    svdd,
    train_value_model,
)
from sciddm.discrete.toys import (
    best_of_n_law,
    exact_tilt,
    svdd_argmax_law,
    svdd_law,
    toy_problem,
    toy_reward,
)
from sciddm.reproduce import chisquare_gof, total_variation

ALPHA = 0.5


@pytest.fixture(scope="module")
def toy():
    prob = toy_problem(length=3, n_tokens=3, rng=5)
    rew = np.random.default_rng(6).normal(size=prob.n_tokens**prob.length)
    return prob, rew, exact_tilt(prob, rew, ALPHA, steps=3)


def test_svdd_exact_values_matches_its_exact_law_and_approaches_tilted(toy):
    prob, rew, tilt = toy
    # exact laws: TV to p* shrinks with M and vanishes in the limit (soft-optimal policy)
    tvs = [total_variation(svdd_law(tilt, m), tilt.tilted) for m in (1, 4, 32)]
    assert tvs[0] == pytest.approx(total_variation(tilt.pretrained, tilt.tilted))
    assert tvs[0] > 2 * tvs[1] > 4 * tvs[2]
    assert total_variation(svdd_law(tilt, None), tilt.tilted) < 1e-12
    # sampled SVDD (alpha > 0, exact values) follows its exact law for M = 4
    n = 12000
    res = svdd(
        prob.model(),
        toy_reward(prob, rew),
        n,
        M=4,
        alpha=ALPHA,
        variant="mc",
        value_model=tilt.value_model(),
        steps=3,
        seeds=np.arange(n),
    )
    law = svdd_law(tilt, 4)
    assert chisquare_gof(prob.counts(res.tokens), law) > 1e-3
    # power: the same samples reject the pretrained law and p* itself
    assert chisquare_gof(prob.counts(res.tokens), tilt.pretrained) < 1e-6
    assert chisquare_gof(prob.counts(res.tokens), tilt.tilted) < 1e-6
    np.testing.assert_allclose(res.rewards, toy_reward(prob, rew)(res.tokens))


def test_svdd_argmax_matches_order_statistic_law(toy):
    prob, rew, tilt = toy
    n = 12000
    res = svdd(
        prob.model(),
        toy_reward(prob, rew),
        n,
        M=3,
        alpha=0.0,
        variant="mc",
        value_model=tilt.value_model(),
        steps=3,
        seeds=np.arange(n) + 7,
    )
    assert chisquare_gof(prob.counts(res.tokens), svdd_argmax_law(tilt, 3)) > 1e-3


def test_smc_with_many_particles_matches_tilted(toy):
    prob, rew, tilt = toy
    n = 3000
    res = smc(
        prob.model(),
        toy_reward(prob, rew),
        n,
        K=64,
        alpha=ALPHA,
        steps=3,
        value_model=tilt.value_model(),
        seeds=np.arange(n),
    )
    assert chisquare_gof(prob.counts(res.tokens), tilt.tilted) > 1e-3
    assert chisquare_gof(prob.counts(res.tokens), tilt.pretrained) < 1e-6
    assert res.ess.shape == (n, 4) and (res.ess <= 64 + 1e-9).all() and (res.ess >= 1 - 1e-9).all()


def test_smc_posterior_mean_twist_improves_with_K(toy):
    # whatever the twist, SMC is consistent: with r(x̂0) twists the TV to p* falls with K
    prob, rew, tilt = toy
    n = 1500
    tv = []
    for k in (2, 128):
        res = smc(prob.model(), toy_reward(prob, rew), n, K=k, alpha=ALPHA, steps=3,
                  seeds=np.arange(n))  # fmt: skip
        tv.append(total_variation(prob.counts(res.tokens) / n, tilt.tilted))
    assert tv[1] < 0.5 * tv[0]


def test_best_of_n_matches_order_statistic_law(toy):
    prob, rew, tilt = toy
    n, big_n = 12000, 5
    res = best_of_n(prob.model(), toy_reward(prob, rew), n, N=big_n, method="ancestral",
                    steps=3, seeds=np.arange(n))  # fmt: skip
    law = best_of_n_law(tilt.pretrained, rew, big_n)
    assert law.sum() == pytest.approx(1.0)
    assert chisquare_gof(prob.counts(res.tokens), law) > 1e-3
    assert (res.reward_calls == big_n).all()
    # its reward CDF is F^N
    f = np.array([tilt.pretrained[rew <= r].sum() for r in np.sort(rew)])
    emp = np.array([(res.rewards <= r).mean() for r in np.sort(rew)])
    assert np.abs(emp - f**big_n).max() < 0.02  # DKW: P(sup > 0.02) <= 2 exp(-2 n 0.02^2) ~ 1e-4


def _uniform_model(v=4, length=6):
    return FunctionModel(lambda x: torch.zeros(*x.shape, v), vocab_size=v, mask_id=v - 1,
                         length=length)  # fmt: skip


def _sum_reward(x):
    return np.asarray(x).sum(1).astype(float)


def test_cost_accounting_and_reproducibility():
    m = _uniform_model()
    a = svdd(m, _sum_reward, 6, M=5, alpha=0.3, steps=4, seeds=range(6))
    b = svdd(m, _sum_reward, 3, M=5, alpha=0.3, steps=4, seeds=[3, 4, 5], batch_size=2)
    np.testing.assert_array_equal(a.tokens[3:], b.tokens)
    # PM: M evaluations of the network and M reward calls per step while the row is masked,
    # plus the first network call; the last step (t_min -> 0) costs reward calls only
    assert (a.reward_calls % 5 == 0).all() and (a.reward_calls <= 5 * 5).all()
    assert (a.nfe <= 1 + 5 * 4).all() and (a.nfe >= 1).all()
    np.testing.assert_allclose(a.rewards, _sum_reward(a.tokens))
    s1 = smc(m, _sum_reward, 4, K=3, alpha=0.3, steps=4, seeds=range(4))
    s2 = smc(m, _sum_reward, 2, K=3, alpha=0.3, steps=4, seeds=[2, 3], batch_size=1)
    np.testing.assert_array_equal(s1.tokens[2:], s2.tokens)
    np.testing.assert_allclose(s1.rewards, _sum_reward(s1.tokens))
    c = best_of_n(m, _sum_reward, 4, N=3, seeds=range(4))
    d = best_of_n(m, _sum_reward, 1, N=3, seeds=[3])
    np.testing.assert_array_equal(c.tokens[3:], d.tokens)
    # alpha = 0 and alpha > 0 consume the same random streams
    e = svdd(m, _sum_reward, 4, M=1, alpha=0.0, steps=4, seeds=range(4))
    f = svdd(m, _sum_reward, 4, M=1, alpha=1.0, steps=4, seeds=range(4))
    np.testing.assert_array_equal(e.tokens, f.tokens)


def test_guidance_raises_the_reward():
    m = _uniform_model()
    base = best_of_n(m, _sum_reward, 200, N=1, seeds=range(200)).rewards.mean()
    guided = svdd(m, _sum_reward, 200, M=8, alpha=0.0, steps=6, seeds=range(200)).rewards.mean()
    assert guided > base + 2.0  # uniform tokens in {0,1,2}: mean 6 of max 12


def test_value_model_training_and_checkpoint(tmp_path):
    m = _uniform_model()
    path = tmp_path / "value.pt"
    fit = train_value_model(m, _sum_reward, n_trajectories=400, epochs=6, width=16, rng=0,
                            out=path)  # fmt: skip
    assert fit.reward_calls == 400 and fit.checkpoint == str(path)
    assert fit.val_mse < 0.7 * fit.val_baseline_mse  # the sum of visible tokens is informative
    vm = load_value_model(path)
    x = torch.tensor([[0, 1, 2, 3, 3, 3]])
    t = torch.tensor([0.5])
    assert torch.allclose(vm(x, t), fit.model(x, t))
    res = svdd(m, _sum_reward, 50, M=6, alpha=0.0, variant="mc", value_model=vm, steps=6,
               seeds=range(50))  # fmt: skip
    assert (res.value_calls > 0).all()
    np.testing.assert_allclose(res.rewards, _sum_reward(res.tokens))


def test_bad_input():
    m = _uniform_model()
    with pytest.raises(ValueError, match="`M` must be"):
        svdd(m, _sum_reward, 2, M=0)
    with pytest.raises(ValueError, match="`alpha` must be"):
        svdd(m, _sum_reward, 2, alpha=-0.1)
    with pytest.raises(ValueError, match="`alpha` must be"):
        smc(m, _sum_reward, 2, K=3, alpha=-1.0)
    with pytest.raises(ValueError, match="`alpha` must be > 0 for SMC"):
        smc(m, _sum_reward, 2, K=3, alpha=0.0)
    with pytest.raises(ValueError, match="`K` must be"):
        smc(m, _sum_reward, 2, K=1)
    with pytest.raises(ValueError, match="`N` must be"):
        best_of_n(m, _sum_reward, 2, N=0)
    with pytest.raises(ValueError, match="needs a `value_model`"):
        svdd(m, _sum_reward, 2, variant="mc")

    def nan_reward(x):
        return np.full(len(x), np.nan)

    with pytest.raises(ValueError, match="reward `nan_reward` returned NaN"):
        svdd(m, nan_reward, 2, M=2)
    with pytest.raises(ValueError, match=r"reward `<lambda>` must return shape \(2,\)"):
        best_of_n(m, lambda x: np.zeros((len(x), 2)), 2, N=1)
    with pytest.raises(ValueError, match="reward `nan_reward` returned NaN"):
        smc(m, nan_reward, 2, K=2)
    with pytest.raises(TypeError, match="`reward` must be callable"):
        svdd(m, 3.0, 2)
    with pytest.raises(ValueError, match="value model `bad` must return shape"):

        def bad(x, t):
            return torch.zeros(len(x), 2)

        svdd(m, _sum_reward, 2, variant="mc", value_model=bad)


def test_systematic_resampling_counts():
    # systematic resampling gives index k either floor(K w_k) or ceil(K w_k) offspring
    from sciddm.discrete._guidance._smc import _systematic

    g = np.random.default_rng(3)
    w = torch.as_tensor(g.dirichlet(np.ones(7), size=200))
    u = torch.as_tensor(g.uniform(size=200))
    idx = _systematic(w, u)
    counts = torch.stack([torch.bincount(r, minlength=7) for r in idx]).numpy()
    kw = 7 * w.numpy()
    assert (counts >= np.floor(kw) - 1e-9).all() and (counts <= np.ceil(kw) + 1e-9).all()
    assert (counts.sum(1) == 7).all()


def test_sampled_x0_and_multinomial_are_reproducible_per_seed():
    m = _uniform_model()
    a = svdd(m, _sum_reward, 5, M=3, alpha=0.5, x0="sample", steps=4, seeds=range(5))
    b = svdd(m, _sum_reward, 2, M=3, alpha=0.5, x0="sample", steps=4, seeds=[3, 4])
    np.testing.assert_array_equal(a.tokens[3:], b.tokens)
    c = smc(m, _sum_reward, 4, K=3, alpha=0.3, resample="multinomial", x0="sample",
            ess_threshold=1.0, steps=4, seeds=range(4))  # fmt: skip
    d = smc(m, _sum_reward, 1, K=3, alpha=0.3, resample="multinomial", x0="sample",
            ess_threshold=1.0, steps=4, seeds=[3])  # fmt: skip
    np.testing.assert_array_equal(c.tokens[3:], d.tokens)
    assert (c.n_resamples > 0).any()


def test_guidance_runs_on_a_real_mdlm():
    # MDLM lists [MASK] among its forbidden ids; partly masked states must still be accepted
    from sciddm.discrete import MDLM, DnaTokenizer, MDLMConfig

    m = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=6, d_model=16, n_heads=2),
             tokenizer=DnaTokenizer(length=6), rng=0)  # fmt: skip

    def gc(seqs):
        return np.array([s.count("G") + s.count("C") for s in seqs], dtype=float)

    for res in (
        svdd(m, gc, 3, M=4, steps=4, seeds=range(3)),
        smc(m, gc, 3, K=4, alpha=0.5, steps=4, seeds=range(3)),
        best_of_n(m, gc, 3, N=4, seeds=range(3)),
    ):
        assert res.tokens.shape == (3, 6) and (res.tokens < 4).all()
        assert all(set(s) <= set("ACGT") for s in res.texts)
        np.testing.assert_allclose(res.rewards, gc(res.texts))
