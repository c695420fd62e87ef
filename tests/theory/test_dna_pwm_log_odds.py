"""Exact checks of theory/80_pwm_log_odds.md."""

import itertools

import numpy as np
import pytest

from sciddm.dna import Motif, pwm_scores, reverse_complement

W = 5
ALL = np.array(list(itertools.product(range(4), repeat=W)))  # (1024, 5)


def _motif(seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 30, size=(4, W)).astype(float)
    bg = np.array([0.3, 0.2, 0.2, 0.3])
    return Motif("toy", "toy", counts, background=bg, pseudocount=1.0)


def test_score_is_log_likelihood_ratio():
    m = _motif()
    p, q, lo = m.probabilities, m.background, m.log_odds
    cols = np.arange(W)
    s = lo[ALL, cols].sum(axis=1)
    p_motif = p[ALL, cols].prod(axis=1)
    p_bg = q[ALL].prod(axis=1)
    assert p_motif.sum() == pytest.approx(1.0, abs=1e-12)
    assert p_bg.sum() == pytest.approx(1.0, abs=1e-12)
    # 1. S is the log2 likelihood ratio
    np.testing.assert_allclose(s, np.log2(p_motif / p_bg), atol=1e-9)
    # 2. expectations are +KL(motif||bg) and -KL(bg||motif)
    kl_mb = sum(np.sum(p[:, j] * np.log2(p[:, j] / q)) for j in range(W))
    kl_bm = sum(np.sum(q * np.log2(q / p[:, j])) for j in range(W))
    assert np.sum(p_motif * s) == pytest.approx(kl_mb, abs=1e-9)
    assert np.sum(p_bg * s) == pytest.approx(-kl_bm, abs=1e-9)
    assert kl_mb > 0 and kl_bm > 0
    # 3. E_bg[2^S] = 1 and the Markov tail bound at every threshold
    assert np.sum(p_bg * np.exp2(s)) == pytest.approx(1.0, abs=1e-9)
    for thr in np.unique(s):
        assert p_bg[s >= thr].sum() <= 2.0 ** (-thr) + 1e-12


def test_pwm_scores_match_enumeration():
    m = _motif(1)
    seqs = ["".join("ACGT"[i] for i in row) for row in ALL]
    direct = m.log_odds[ALL, np.arange(W)].sum(axis=1)
    np.testing.assert_allclose(pwm_scores(seqs, m, strand="forward"), direct, atol=1e-5)
    # a single window: "sum" over the forward strand is the score itself
    np.testing.assert_allclose(
        pwm_scores(seqs, m, strand="forward", reduce="sum"), direct, atol=1e-5
    )


def test_two_strand_score_symmetric():
    counts = np.array(
        [[10, 1, 0, 20, 5], [3, 25, 1, 0, 5], [12, 2, 28, 5, 5], [5, 2, 1, 5, 15]], float
    )
    m = Motif("frag", "frag", counts, background=np.array([0.3, 0.2, 0.2, 0.3]))
    # the reverse-complement matrix is the log-odds of the motif on the other strand
    rc = m.reverse_complement()
    np.testing.assert_allclose(rc.log_odds, m.log_odds[::-1, ::-1], atol=1e-12)
    seqs = ["".join(t) for t in itertools.product("ACGT", repeat=6)]
    a = pwm_scores(seqs, m)
    b = pwm_scores([reverse_complement(s) for s in seqs], m)
    np.testing.assert_allclose(a, b, atol=1e-5)
    fwd = pwm_scores(seqs, m, strand="forward")
    on_rc = pwm_scores([reverse_complement(s) for s in seqs], rc, strand="forward")
    np.testing.assert_allclose(on_rc, fwd, atol=1e-5)


def test_sum_score_is_mixture_likelihood_ratio():
    """'sum' = log2 of K times the LR of 'one site at a uniform position' vs background."""
    m = _motif(2)
    p, q = m.probabilities, m.background
    length = W + 2  # K = 3 windows
    seqs = np.array(list(itertools.product(range(4), repeat=length)))
    p_bg = q[seqs].prod(axis=1)
    p_mix = np.zeros(len(seqs))
    for start in range(length - W + 1):
        inside = p[seqs[:, start : start + W], np.arange(W)].prod(axis=1)
        outside = np.prod(
            [q[seqs[:, j]] for j in range(length) if not start <= j < start + W], axis=0
        )
        p_mix += inside * outside / 3
    assert p_mix.sum() == pytest.approx(1.0, abs=1e-12)
    strings = ["".join("ACGT"[i] for i in row) for row in seqs]
    got = pwm_scores(strings, m, strand="forward", reduce="sum")
    np.testing.assert_allclose(got - np.log2(3), np.log2(p_mix / p_bg), atol=1e-5)
