import itertools
from collections import Counter

import numpy as np
import pytest

from sciddm.dna import (
    approx_log_likelihood,
    hamming_diversity,
    kmer_diversity,
    kmer_spectrum,
    kmer_spectrum_correlation,
    motif_counts,
    reward_quantiles,
)

torch = pytest.importorskip("torch")


def test_kmer_spectrum_against_counter():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), size=int(rng.integers(3, 40)))) for _ in range(50)]
    spec = kmer_spectrum(seqs, k=3)
    cnt = Counter(s[p : p + 3] for s in seqs for p in range(len(s) - 2))
    kmers = ["".join(t) for t in itertools.product("ACGT", repeat=3)]
    expect = np.array([cnt[k] for k in kmers], float)
    np.testing.assert_allclose(spec, expect / expect.sum())
    # N-containing k-mers are skipped
    assert kmer_spectrum(["ANAC"], k=2, n_policy="neutral").sum() == pytest.approx(1.0)
    assert kmer_spectrum_correlation(seqs, seqs[::-1]) == pytest.approx(1.0)


def test_diversity_hand_made():
    assert hamming_diversity(["ACGT"] * 5) == 0.0
    assert hamming_diversity(["AAAA", "CCCC", "GGGG", "TTTT"]) == 1.0
    assert hamming_diversity(["AAAA", "AAAT", "TTTT"]) == pytest.approx((1 + 4 + 3) / 12)
    # sampled pairs estimate the exact mean
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("AC"), size=20)) for _ in range(300)]
    exact = hamming_diversity(seqs, max_pairs=None)
    approx = hamming_diversity(seqs, max_pairs=20_000, rng=0)
    assert approx == pytest.approx(exact, abs=0.01)  # sd of the estimate ~ 0.001
    assert kmer_diversity(["ACGT", "ACGT"], k=4) == 0.5
    assert kmer_diversity(["AAAAA"], k=1) == 0.2


def test_quantiles_and_motif_counts():
    q = reward_quantiles(np.arange(101.0), (0.1, 0.9))
    assert q == {"mean": 50.0, "q10": 10.0, "q90": 90.0}
    counts = motif_counts(["TTCCAAAGTCCAAATT" * 2, "GGGGGGGGGGGGGGGG"], ["MA0114.4"])
    assert counts == {"MA0114.4 HNF4A": 1.0}
    with pytest.raises(ValueError, match="`rewards` must have 1 dimension"):
        reward_quantiles(np.zeros((2, 2)))


class Factorised:
    """A toy denoiser of the DISCRETE_INTERFACES protocol: p(x0 | x_t) = pi at each position."""

    vocab_size, mask_id = 5, 4

    def __init__(self, pi, time_conditioned=False):
        self.logits = torch.log(torch.tensor(list(pi) + [1e-9], dtype=torch.float64))
        self.time_conditioned = time_conditioned
        self.seen_t = []

    def __call__(self, x_t, t=None):
        self.seen_t.append(t)
        return self.logits.expand(*x_t.shape, 5).clone()


def test_log_likelihood_bound_of_factorised_model():
    pi = np.array([0.4, 0.1, 0.2, 0.3])
    model = Factorised(pi)
    seqs = ["ACGTTTAACG", "GGGGCCCCAA", "TTTTTTTTTT"]
    est = approx_log_likelihood(model, seqs, n_samples=400, rng=0)
    exact = np.array([np.log(pi[["ACGT".index(c) for c in s]]).sum() for s in seqs])
    # E[(1/t) sum_masked -log pi] = (1 - eps) * (-log pi(x)); 4 SE: false alarm ~ 2e-4
    expect = (1 - 1e-3) * exact
    assert np.all(np.abs(est.log_likelihood - expect) <= 4 * est.std_error)
    assert np.all(est.std_error < 0.1 * np.abs(expect))
    assert all(t is None for t in model.seen_t)


def test_log_likelihood_passes_t_and_ids():
    model = Factorised([0.25] * 4, time_conditioned=True)
    ids = torch.tensor([[0, 1, 2, 3, 0, 1]])
    est = approx_log_likelihood(model, ids, n_samples=64, rng=1)
    ts = torch.cat(model.seen_t)
    assert ts.shape == (64,) and bool(((ts > 0) & (ts <= 1)).all())
    # stratified: one time in each of the 64 strata
    assert sorted((ts * 64).floor().long().tolist()) == list(range(64))
    assert est.bits_per_token == pytest.approx(2 * (1 - 1e-3), rel=0.1)
    with pytest.raises(ValueError, match="other than mask_id"):
        approx_log_likelihood(model, torch.tensor([[0, 4]]))


def test_sequence_report_assembles_metrics():
    from sciddm.dna import MotifReward, gc_content, sequence_report

    rng = np.random.default_rng(3)
    seqs = ["".join(rng.choice(list("ACGT"), size=30)) for _ in range(40)]
    ref = ["".join(rng.choice(list("ACGT"), size=30)) for _ in range(40)]
    reward = MotifReward("MA0114.4")
    rep = sequence_report(
        seqs,
        ref,
        rewards={"hnf4a": reward},
        motifs=["MA0114.4"],
        model=Factorised([0.25] * 4),
        rng=0,
    )
    assert rep.n == 40
    assert rep.gc_mean == pytest.approx(float(np.mean(gc_content(seqs))))
    assert rep.kmer_correlation == pytest.approx(kmer_spectrum_correlation(seqs, ref))
    assert rep.hamming_diversity == pytest.approx(hamming_diversity(seqs))
    assert rep.rewards["hnf4a"] == reward_quantiles(reward(seqs))
    assert rep.bits_per_token == pytest.approx(2 * (1 - 1e-3), rel=0.1)
    bare = sequence_report(seqs)
    assert np.isnan(bare.kmer_correlation) and np.isnan(bare.bits_per_token) and bare.rewards == {}
    with pytest.raises(ValueError, match="`sequences` must hold at least 1 sequence"):
        sequence_report([])
