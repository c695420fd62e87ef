import numpy as np
import pytest

from sciddm.dna import (
    Motif,
    MotifReward,
    gc_content,
    load_jaspar,
    motif_occurrences,
    pwm_scores,
    reverse_complement,
)

IDS = ["MA0114.4", "MA0046.3", "MA0047.4", "MA0466.4"]


def _random_seqs(n, length, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)]


def _direct_windows(seq, motif):
    """Log-odds of every window computed from the counts with plain Python."""
    c, bg, lam = motif.counts, motif.background, motif.pseudocount
    out = []
    for p in range(len(seq) - motif.length + 1):
        s = 0.0
        for j in range(motif.length):
            b = "ACGT".index(seq[p + j])
            prob = (c[b, j] + lam * bg[b]) / (c[:, j].sum() + lam)
            s += np.log2(prob / bg[b])
        out.append(s)
    return np.array(out)


@pytest.mark.parametrize("motif_id", IDS)
def test_scores_equal_direct_log_odds(motif_id):
    m = load_jaspar(motif_id)
    seqs = _random_seqs(20, 60, seed=1) + ["A" * 30]
    got = pwm_scores(seqs, m)
    got_fwd = pwm_scores(seqs, m, strand="forward")
    got_sum = pwm_scores(seqs, m, reduce="sum")
    for i, s in enumerate(seqs):
        fwd = _direct_windows(s, m)
        rev = _direct_windows(reverse_complement(s), m)
        assert got_fwd[i] == pytest.approx(fwd.max(), abs=1e-5)
        assert got[i] == pytest.approx(max(fwd.max(), rev.max()), abs=1e-5)
        allw = np.concatenate([fwd, rev])
        assert got_sum[i] == pytest.approx(np.log2(np.sum(np.exp2(allw))), abs=1e-5)


def test_matches_biopython_pssm():
    bio_motifs = pytest.importorskip("Bio.motifs")
    m = load_jaspar("MA0114.4")
    counts = {b: list(m.counts[i]) for i, b in enumerate("ACGT")}
    bm = bio_motifs.Motif(counts=counts, alphabet="ACGT")
    bm.pseudocounts = {b: m.pseudocount * 0.25 for b in "ACGT"}
    pssm = bm.pssm
    rc = pssm.reverse_complement()
    seqs = _random_seqs(50, 80, seed=2)
    ours = pwm_scores(seqs, m)
    for s, v in zip(seqs, ours):
        assert v == pytest.approx(max(pssm.calculate(s).max(), rc.calculate(s).max()), abs=1e-4)


def test_strand_symmetry_and_several_motifs():
    seqs = _random_seqs(300, 120, seed=3)
    rcs = [reverse_complement(s) for s in seqs]
    a = pwm_scores(seqs, IDS)
    b = pwm_scores(rcs, IDS)
    assert a.shape == (300, 4)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(
        pwm_scores(seqs, IDS, reduce="sum"), pwm_scores(rcs, IDS, reduce="sum"), atol=1e-5
    )
    for k, mid in enumerate(IDS):
        np.testing.assert_allclose(a[:, k], pwm_scores(seqs, mid), atol=0)


def test_unequal_lengths_and_n_policy():
    m = load_jaspar("MA0114.4")
    seqs = ["ACGTTTGGACTTTGCAA", "TTGGACTTTGGACTAAAAACCGT", "ACGTACGTACGTA"]
    joint = pwm_scores(seqs, m)
    for s, v in zip(seqs, joint):
        assert v == pytest.approx(pwm_scores([s], m)[0], abs=1e-5)
    # a sequence shorter than the motif has no window: a clear error, no numpy warning
    with pytest.raises(ValueError, match=r"`sequences\[1\]` has 3 bases, fewer than the 13"):
        pwm_scores(["ACGTACGTACGTAC", "ACG"], m)
    assert pwm_scores(["ACGTACGTACGTACGT"], ["MA0114.4", "MA0466.4"]).shape == (1, 2)
    # N scores as background (log-odds 0) in its column
    s = "TCCAAAGTCCAAA"
    with_n = "TCCAAAGTNCAAA"
    lo = m.log_odds
    expect = pwm_scores([s], m, strand="forward")[0] - lo["ACGT".index("C"), 8]
    got = pwm_scores([with_n], m, strand="forward", n_policy="neutral")[0]
    assert got == pytest.approx(expect, abs=1e-6)
    with pytest.raises(ValueError, match=r"`sequences\[0\]` has 'N' at position 8"):
        pwm_scores([with_n], m)


def test_occurrences_and_reward():
    m = load_jaspar("MA0114.4")
    seqs = _random_seqs(40, 50, seed=4)
    occ = motif_occurrences(seqs, m, threshold=0.7)
    cut = m.min_score + 0.7 * (m.max_score - m.min_score)
    for s, c in zip(seqs, occ):
        direct = (_direct_windows(s, m) >= cut).sum() + (
            _direct_windows(reverse_complement(s), m) >= cut
        ).sum()
        assert c == direct
    reward = MotifReward(
        {"MA0114.4": 2.0, "MA0046.3": -0.5},
        gc_target=0.4,
        gc_weight=3.0,
        homopolymer_weight=1.0,
        max_run=3,
    )
    r = reward(seqs)
    s2 = pwm_scores(seqs, ["MA0114.4", "MA0046.3"])
    from sciddm.dna import homopolymer_penalty

    expect = (
        2 * s2[:, 0]
        - 0.5 * s2[:, 1]
        - 3 * np.abs(gc_content(seqs) - 0.4)
        - homopolymer_penalty(seqs, max_run=3)
    )
    np.testing.assert_allclose(r, expect)
    assert reward.calls == 40


def test_bad_inputs():
    with pytest.raises(
        ValueError, match=r"'MA0114\.99' is an unknown JASPAR matrix ID.*close matches: MA0114"
    ):
        load_jaspar("MA0114.99")
    with pytest.raises(ValueError, match=r"'FOXA2' is an unknown JASPAR matrix ID.*MA0047"):
        load_jaspar("FOXA2")
    with pytest.raises(ValueError, match="`reduce` must be one of"):
        pwm_scores(["ACGT"], "MA0114.4", reduce="mean")
    with pytest.raises(ValueError, match=r"`counts` must have shape \(4, w\)"):
        Motif("x", "x", np.ones((3, 5)))
    with pytest.raises(ValueError, match="`gc_target` must be given"):
        MotifReward("MA0114.4", gc_weight=1.0)
    with pytest.raises(ValueError, match="`motifs` must hold at least one motif"):
        pwm_scores(["ACGT"], [])
