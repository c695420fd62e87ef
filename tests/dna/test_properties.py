"""Property-based tests of every public name of sciddm.dna (BRIEF decision 7).

Generated inputs mix ACGT(N) strings, other text (non-ACGT letters, unicode, empty),
non-strings (bytes, None, numbers, code arrays, tensors, sparse matrices) and
out-of-range scalars. Each call must return a finite, valid result or raise
ValueError/TypeError whose message names one of the function's arguments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import sciddm.dna as dna
from sciddm._core.io import CheckpointError

COVERED = frozenset(
    {
        "N_POLICIES",
        "ArsLibrary",
        "ArsOracle",
        "LikelihoodEstimate",
        "OracleFit",
        "SequenceReport",
        "approx_log_likelihood",
        "hamming_diversity",
        "kmer_diversity",
        "kmer_spectrum",
        "kmer_spectrum_correlation",
        "load_oracle",
        "motif_counts",
        "reward_quantiles",
        "save_oracle",
        "sequence_report",
        "train_ars_oracles",
        "Motif",
        "MotifReward",
        "decode_dna",
        "encode_dna",
        "gc_content",
        "homopolymer_penalty",
        "jaspar_ids",
        "load_jaspar",
        "max_homopolymer",
        "motif_occurrences",
        "pwm_scores",
        "read_ars",
        "reverse_complement",
    }
)


def test_covered_is_all():
    assert set(dna.__all__) == COVERED


NON_STR = [None, b"ACGT", 3, 2.5, float("nan"), ["ACGT"]]
BAD_BATCH = [None, b"ACGT", 5, 3.0, np.arange(4, dtype=np.uint8), torch.arange(4),
             sp.eye(2, format="csr"), object()]  # fmt: skip
dna_str = st.one_of(
    st.text(alphabet="ACGT", min_size=1, max_size=16),
    st.text(alphabet="ACGTacgtN", max_size=12),
    st.text(max_size=6),
)
acgt_batch = st.lists(st.text(alphabet="ACGT", min_size=14, max_size=20), min_size=1, max_size=4)
batch = st.one_of(
    st.lists(dna_str, max_size=4),
    st.lists(st.one_of(dna_str, st.sampled_from(NON_STR)), min_size=1, max_size=3),
    acgt_batch,
    dna_str,
    st.sampled_from(BAD_BATCH),
)
bad_number = st.sampled_from([0, -1, 1.5, math.nan, math.inf, -math.inf, 10**12, "3", None])
some_int = st.one_of(st.integers(-2, 8), bad_number)
some_float = st.one_of(st.floats(-3, 3), bad_number)
policy = st.sampled_from(["error", "neutral", "drop", 3])


def outcome(fn, *names):
    """Call ``fn``; return its result, or None after a ValueError/TypeError naming an arg."""
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert any(f"`{n}" in msg for n in names), f"message names none of {names}: {msg}"
        return None


def finite(x):
    arr = np.asarray(x, dtype=np.float64)
    assert np.all(np.isfinite(arr)), x
    return arr


def n_of(seqs):
    return 1 if isinstance(seqs, str) else len(seqs)


@given(batch, policy, st.sampled_from([True, False, 1]))
def test_encode_decode_roundtrip(seqs, n_policy, pad):
    x = outcome(lambda: dna.encode_dna(seqs, n_policy=n_policy, pad=pad), "sequences",
                "n_policy")  # fmt: skip
    if x is not None:
        assert x.dtype == np.uint8 and x.shape[0] == n_of(seqs) and (x <= 5).all()
        back = dna.decode_dna(x)
        expect = [seqs] if isinstance(seqs, str) else list(seqs)
        assert back == [s.upper() for s in expect]
    assert dna.N_POLICIES == ("error", "neutral")


@given(st.one_of(st.lists(st.lists(st.integers(-2, 7), min_size=1, max_size=3), min_size=1,
                          max_size=2), st.sampled_from([[1.5], [[0.0, 1.0]], "ACG", None])))  # fmt: skip
def test_decode_dna_codes(codes):
    out = outcome(lambda: dna.decode_dna(codes), "codes")
    if out is not None:
        assert all(set(s) <= set("ACGTN") for s in out)


@given(st.one_of(dna_str, st.sampled_from(NON_STR)))
def test_reverse_complement(s):
    rc = outcome(lambda: dna.reverse_complement(s), "sequence")
    if rc is not None:
        assert dna.reverse_complement(rc) == s and len(rc) == len(s)


@given(batch, policy, some_int)
def test_gc_and_homopolymers(seqs, n_policy, max_run):
    names = ("sequences", "n_policy", "max_run")
    gc = outcome(lambda: dna.gc_content(seqs, n_policy=n_policy), *names)
    if gc is not None:
        assert gc.shape == (n_of(seqs),) and np.all((finite(gc) >= 0) & (gc <= 1))
    run = outcome(lambda: dna.max_homopolymer(seqs, n_policy=n_policy), *names)
    if run is not None:
        assert run.shape == (n_of(seqs),) and (run >= 0).all()
    pen = outcome(lambda: dna.homopolymer_penalty(seqs, max_run=max_run, n_policy=n_policy),
                  *names)  # fmt: skip
    if pen is not None:
        assert (pen >= 0).all()


@given(batch, batch, some_int)
def test_kmer_metrics(seqs, ref, k):
    names = ("sequences", "reference", "k", "n_policy")
    spec = outcome(lambda: dna.kmer_spectrum(seqs, k), *names)
    if spec is not None:
        assert finite(spec).sum() == pytest.approx(1.0) and (spec >= 0).all()
    r = outcome(lambda: dna.kmer_spectrum_correlation(seqs, ref, k), *names)
    if r is not None:
        assert -1.0 <= finite(r) <= 1.0
    d = outcome(lambda: dna.kmer_diversity(seqs, k), *names)
    if d is not None:
        assert 0.0 < finite(d) <= 1.0


@given(batch, st.one_of(st.none(), some_int), some_int)
def test_hamming_diversity(seqs, max_pairs, rng):
    d = outcome(lambda: dna.hamming_diversity(seqs, max_pairs=max_pairs, rng=rng),
                "sequences", "max_pairs", "rng")  # fmt: skip
    if d is not None:
        assert 0.0 <= finite(d) <= 1.0


@given(st.one_of(st.lists(some_float, max_size=4), st.sampled_from([[[1.0]], "a", None])),
       st.lists(some_float, max_size=3))  # fmt: skip
def test_reward_quantiles(rewards, quantiles):
    q = outcome(lambda: dna.reward_quantiles(rewards, quantiles), "rewards", "quantiles")
    if q is not None:
        finite(list(q.values()))


counts = st.one_of(
    st.lists(st.lists(st.floats(0, 10), min_size=2, max_size=4), min_size=4, max_size=4),
    st.sampled_from([[[1.0, -1.0]] * 4, [[math.nan]] * 4, [[1.0]] * 3, [], "ACGT"]),
)


@given(counts, some_float, st.sampled_from(["toy", 3, None]), batch,
       st.sampled_from(["max", "sum", "mean"]), st.sampled_from(["both", "forward", "up"]),
       policy)  # fmt: skip
def test_motif_scores(c, pseudocount, mid, seqs, reduce, strand, n_policy):
    m = outcome(lambda: dna.Motif(mid, "toy", np.asarray(c, dtype=object).tolist(),
                                  pseudocount=pseudocount),
                "counts", "pseudocount", "matrix_id", "name", "background")  # fmt: skip
    if m is None:
        return
    assert m.probabilities.shape == (4, m.length)
    names = ("sequences", "motifs", "reduce", "strand", "n_policy", "threshold")
    s = outcome(lambda: dna.pwm_scores(seqs, m, reduce=reduce, strand=strand,
                                       n_policy=n_policy), *names)  # fmt: skip
    if s is not None:
        assert s.shape == (n_of(seqs),)
        # -inf only for a base of probability zero (pseudocount 0), never NaN
        assert np.all(np.isfinite(s) | ((s == -np.inf) & (m.pseudocount == 0)))
    occ = outcome(lambda: dna.motif_occurrences(seqs, m, strand=strand, n_policy=n_policy),
                  *names)  # fmt: skip
    if occ is not None:
        assert occ.shape == (n_of(seqs),) and (occ >= 0).all()
    mc = outcome(lambda: dna.motif_counts(seqs, [m]), *names)
    if mc is not None:
        assert all(finite(v) >= 0 for v in mc.values())


jaspar_id = st.sampled_from(["MA0114.4", "MA0114", "MA0046", "FOXA2", "", 3, None, "MA9999.1"])


@given(jaspar_id, st.sampled_from(["JASPAR2026", "JASPAR2024", "JASPAR1999", 2024]),
       some_float, st.sampled_from([None, [0.25] * 4, [0.5, 0.5, 0.0, 0.0], [1.0]]))  # fmt: skip
def test_jaspar(matrix_id, release, pseudocount, background):
    pytest.importorskip("pyjaspar")
    names = ("matrix_id", "release", "pseudocount", "background")
    m = outcome(lambda: dna.load_jaspar(matrix_id, release=release, pseudocount=pseudocount,
                                        background=background), *names)  # fmt: skip
    if m is not None:
        assert isinstance(m, dna.Motif) and m.length > 0 and np.isfinite(m.max_score)
    ids = outcome(lambda: dna.jaspar_ids(release), "release")
    if ids is not None:
        assert "MA0114.4" in ids or release != "JASPAR2026"


@given(st.one_of(jaspar_id, st.dictionaries(st.sampled_from(["MA0114.4", "MA0046"]), some_float,
                                            max_size=2)),
       st.one_of(st.none(), some_float), some_float, some_float, some_int, acgt_batch)  # fmt: skip
def test_motif_reward(motifs, gc_target, gc_weight, h_weight, max_run, seqs):
    pytest.importorskip("pyjaspar")
    names = ("motifs", "gc_target", "gc_weight", "homopolymer_weight", "max_run", "sequences")
    reward = outcome(lambda: dna.MotifReward(motifs, gc_target=gc_target, gc_weight=gc_weight,
                                             homopolymer_weight=h_weight, max_run=max_run),
                     *names)  # fmt: skip
    if reward is not None:
        r = outcome(lambda: reward(seqs), "sequences")
        if r is not None:
            assert r.shape == (len(seqs),)
            finite(r)


class Uniform:
    """p(x0 | x_t) uniform over A, C, G, T (never [MASK])."""

    vocab_size, mask_id = 5, 4

    def __call__(self, x_t, t=None):
        logits = torch.zeros(*x_t.shape, 5)
        logits[..., 4] = -torch.inf
        return logits


@given(st.one_of(batch, st.sampled_from([np.array([[0, 1, 2]]), np.array([[0, 4]]),
                                         np.array([[0.5, 1.0]]), torch.tensor([[9, 1]])])),
       some_int, some_int, st.sampled_from([Uniform(), object(), None]))  # fmt: skip
def test_approx_log_likelihood(seqs, n_samples, rng, model):
    names = ("sequences", "n_samples", "rng", "model", "batch_size")
    est = outcome(lambda: dna.approx_log_likelihood(model, seqs, n_samples=n_samples, rng=rng),
                  *names)  # fmt: skip
    if est is not None:
        assert isinstance(est, dna.LikelihoodEstimate)
        finite(est.log_likelihood)
        assert (est.log_likelihood <= 0).all() and math.isfinite(est.bits_per_token)
        assert est.n_samples == n_samples
        if n_samples > 1:
            finite(est.std_error)


@settings(max_examples=15)
@given(acgt_batch, st.one_of(st.none(), batch), st.booleans(), st.booleans(), some_int)
def test_sequence_report(seqs, reference, with_reward, with_model, rng):
    rewards = {"gc": dna.gc_content} if with_reward else {"bad": 3}
    model = Uniform() if with_model else None
    rep = outcome(lambda: dna.sequence_report(seqs, reference, rewards=rewards, model=model,
                                              n_samples=2, rng=rng),
                  "sequences", "reference", "rewards", "rng", "k")  # fmt: skip
    if rep is not None:
        assert isinstance(rep, dna.SequenceReport) and rep.n == len(seqs)
        finite([rep.gc_mean, rep.kmer_diversity])
        assert math.isfinite(rep.hamming_diversity) or len(seqs) == 1
        assert math.isfinite(rep.bits_per_token) == with_model
        assert math.isfinite(rep.kmer_correlation) == (reference is not None)


def _library(n=60, length=12, seed=0):
    g = np.random.default_rng(seed)
    seqs = ["".join(g.choice(list("ACGT"), size=length)) for _ in range(n)]
    lib, sel = g.integers(0, 20, n), g.integers(0, 20, n)
    return dna.ArsLibrary(seqs, lib, sel, np.log((sel + 1.0) / (lib + 1.0)), seqs[0])


@settings(max_examples=10)
@given(st.one_of(st.integers(8, 25), bad_number), st.one_of(st.integers(5, 15), bad_number),
       st.one_of(st.integers(1, 3), bad_number), st.one_of(st.floats(1e-4, 1e-1), bad_number),
       some_int)  # fmt: skip
def test_train_save_load_oracles(n_train, n_test, channels, lr, rng):
    import tempfile
    import warnings
    from pathlib import Path

    names = ("n_train", "n_test", "channels", "lr", "rng", "min_reads", "epochs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny oracle may predict a constant (warned)
        fit = outcome(lambda: dna.train_ars_oracles(n_train=n_train, n_test=n_test,
                                                    channels=channels, lr=lr, epochs=1,
                                                    batch_size=8, rng=rng, data=_library()),
                      *names)  # fmt: skip
    if fit is None:
        return
    assert isinstance(fit, dna.OracleFit) and isinstance(fit.guidance, dna.ArsOracle)
    assert all(-1 <= v <= 1 for v in fit.pearson.values() if not math.isnan(v))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "o.pt"
        dna.save_oracle(fit.guidance, path)
        again = dna.load_oracle(path)
        seqs = fit.test_sequences[:3]
        assert np.array_equal(again.predict(seqs), fit.guidance.predict(seqs))
        with pytest.raises(CheckpointError, match="is not a readable sciddm ARS oracle file"):
            dna.load_oracle(Path(tmp))  # a directory
    assert outcome(lambda: dna.save_oracle("model", "x.pt"), "oracle") is None


@given(some_int, st.one_of(some_int, st.sampled_from(["seed", 1.5])), batch)
def test_ars_oracle_construction_and_predict(channels, rng, seqs):
    m = outcome(lambda: dna.ArsOracle(channels, rng=rng), "channels", "rng")
    if m is not None:
        out = outcome(lambda: m.predict(seqs), "sequences")
        if out is not None:
            assert out.shape == (n_of(seqs),)
            finite(out)


@given(st.one_of(st.integers(0, 4), bad_number))
def test_read_ars(limit):
    pytest.importorskip("logomaker")
    ars = outcome(lambda: dna.read_ars(limit=limit), "limit")
    if ars is not None:
        assert isinstance(ars, dna.ArsLibrary)
        assert len(ars) == (603_569 if limit is None else min(limit, 603_569))
        finite(ars.log_enrichment)
        assert ars.length == 150
