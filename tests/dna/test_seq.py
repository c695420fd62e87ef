import itertools

import numpy as np
import pytest

from sciddm.dna import (
    decode_dna,
    encode_dna,
    gc_content,
    homopolymer_penalty,
    max_homopolymer,
    reverse_complement,
)


def test_encode_roundtrip_and_padding():
    seqs = ["ACGT", "acg", "T"]
    x = encode_dna(seqs)
    assert x.tolist() == [[0, 1, 2, 3], [0, 1, 2, 5], [3, 5, 5, 5]]
    assert decode_dna(x) == ["ACGT", "ACG", "T"]
    assert encode_dna([]).shape == (0, 0)


@pytest.mark.parametrize(
    ("seqs", "match"),
    [
        (["ACGT", "ACGU"], r"`sequences\[1\]` has 'U' at position 3"),
        (["AC-G"], r"`sequences\[0\]` has '-' at position 2"),
        (["ACGN"], r"has 'N' at position 3.*n_policy='neutral'"),
        (["AC", ""], r"`sequences\[1\]` is empty"),
        (["AC", "GÅT"], r"`sequences\[1\]` has 'Å' at position 1"),
        (["AXC", "GÅT"], r"`sequences\[0\]` has 'X' at position 1"),
    ],
)
def test_encode_errors_name_position(seqs, match):
    with pytest.raises(ValueError, match=match):
        encode_dna(seqs)


def test_n_policy_and_pad_flag():
    assert encode_dna(["ANA"], n_policy="neutral").tolist() == [[0, 4, 0]]
    with pytest.raises(ValueError, match="`n_policy` must be one of"):
        encode_dna(["A"], n_policy="drop")
    with pytest.raises(ValueError, match="same length with pad=False"):
        encode_dna(["AC", "A"], pad=False)


def test_gc_and_homopolymers_against_brute_force():
    rng = np.random.default_rng(0)
    seqs = [
        "".join(rng.choice(list("ACGT"), size=int(rng.integers(5, 30)), p=[0.4, 0.1, 0.1, 0.4]))
        for _ in range(200)
    ]
    gc = gc_content(seqs)
    runs = max_homopolymer(seqs)
    for s, g, r in zip(seqs, gc, runs):
        assert g == pytest.approx((s.count("G") + s.count("C")) / len(s))
        assert r == max(len(list(grp)) for _, grp in itertools.groupby(s))
    assert homopolymer_penalty(seqs, max_run=4).tolist() == np.maximum(runs - 4, 0).tolist()
    with pytest.raises(ValueError, match="`max_run` must be an integer >= 1"):
        homopolymer_penalty(["A"], max_run=0)


def test_reverse_complement():
    assert reverse_complement("ACGTN") == "NACGT"
    assert reverse_complement(reverse_complement("GATTACA")) == "GATTACA"


def test_issue17_regressions():
    # gc_content(None) used to fail with "'NoneType' object is not iterable"
    with pytest.raises(TypeError, match=r"`sequences` must be a DNA string or a sequence"):
        gc_content(None)
    # encode_dna(["ACG", "ACGTT"], pad=False) used to say "has length 5, not 5"
    with pytest.raises(
        ValueError, match=r"`sequences\[0\]` has length 3 but `sequences\[1\]` has length 5"
    ):
        encode_dna(["ACG", "ACGTT"], pad=False)
    with pytest.raises(
        TypeError, match=r"`sequences\[1\]` must be a DNA string \(str\), got bytes"
    ):
        encode_dna(["ACG", b"ACG"])
    with pytest.raises(TypeError, match=r"got a ndarray of uint8.*decode_dna"):
        gc_content(encode_dna(["ACGT"]))
    with pytest.raises(ValueError, match=r"`sequence` has 'X' at position 1"):
        reverse_complement("AXG")
    with pytest.raises(ValueError, match=r"`sequences\[1\]` has no A, C, G or T base"):
        gc_content(["ACG", "NNN"], n_policy="neutral")
    with pytest.raises(ValueError, match=r"`codes` must hold integer codes"):
        decode_dna([[0, 7]])
