"""Per-row streams (RowGenerator) and categorical draws."""

import numpy as np
import pytest
import torch

from sciddm.discrete import RowGenerator, categorical, sequence_entropy, unigram_distribution
from sciddm.discrete._sampling._categorical import (
    _GOLDEN,
    _mix64,
    _mix64_int,
    _mix64_numpy,
    inverse_cdf,
)
from sciddm.reproduce import chisquare_gof


def test_mix64_matches_uint64_reference():
    # torch int64 arithmetic must wrap modulo 2**64 exactly like numpy uint64
    rng = np.random.default_rng(0)
    z = rng.integers(0, 2**63 - 1, size=1000, dtype=np.int64)
    z[:3] = [0, 1, 2**63 - 1]
    got = _mix64(torch.as_tensor(z)).numpy().view(np.uint64)
    assert np.array_equal(got, _mix64_numpy(z.view(np.uint64)))
    # known SplitMix64 output: first value of the stream seeded with 0 (Vigna's reference)
    first = _mix64_numpy(np.array([0], dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))
    assert int(first[0]) == 0xE220A8397B1DCDAF
    assert _GOLDEN == 0x9E3779B97F4A7C15 - 2**64
    for v in (0, 1, 2**64 - 1, 0x9E3779B97F4A7C15):
        assert _mix64_int(v) == int(_mix64_numpy(np.array([v], dtype=np.uint64))[0])


def test_rows_depend_only_on_their_seed():
    a = RowGenerator([11, 12, 13])
    b = RowGenerator([99, 12])
    for shape, dt in [((5,), torch.float64), ((2, 7), torch.float32), ((3,), torch.float64)]:
        ua, ub = a.uniform(*shape, dtype=dt), b.uniform(*shape, dtype=dt)
        assert torch.equal(ua[1], ub[1])
        assert not torch.equal(ua[0], ub[0])


def test_uniform_where_equals_full_draw_and_subset_view():
    sel = torch.tensor([[True, False, True], [False, False, True]])
    for dt in (torch.float64, torch.float32):
        full = RowGenerator([3, 4]).uniform(3, 5, dtype=dt)
        part = RowGenerator([3, 4]).uniform_where(sel, 5, dtype=dt)
        assert torch.equal(full[sel], part)
    g = RowGenerator([1, 2, 3])
    g.uniform(2)
    sub = g[[2]]
    assert torch.equal(sub.uniform(4), g.uniform(4)[[2]])


def test_uniform_ranges_and_float32_grid():
    g = RowGenerator(range(200))
    u64 = g.uniform(500).numpy().ravel()
    assert 0 < u64.min() and u64.max() < 1
    u32 = g.uniform(501, dtype=torch.float32).numpy().ravel()
    assert 0 <= u32.min() and u32.max() < 1
    assert np.all((u32.astype(np.float64) * 2**24) % 1 == 0)  # the 2**-24 grid of torch.rand
    # uniformity: chi-squared over 20 bins (false-alarm rate 1e-3 each)
    for u in (u64, u32):
        assert chisquare_gof(np.histogram(u, bins=20, range=(0, 1))[0], np.full(20, 0.05)) > 1e-3
    # consecutive draws are uncorrelated
    assert abs(np.corrcoef(u64[:-1], u64[1:])[0, 1]) < 4 / np.sqrt(u64.size)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_categorical_frequencies(precision):
    p = torch.tensor([0.1, 0.0, 0.25, 0.65], dtype=torch.float64) * 3.0  # unnormalised
    n = 40000
    x = categorical(p.expand(n, 4), rng=RowGenerator(range(n)), precision=precision)
    counts = np.bincount(x.numpy(), minlength=4)
    assert counts[1] == 0
    assert chisquare_gof(counts, p.numpy()) > 1e-3  # false-alarm rate 1e-3


def test_categorical_other_generators_and_errors():
    p = torch.tensor([[0.5, 0.5]])
    x = categorical(p.expand(10, 2), rng=torch.Generator().manual_seed(0))
    assert x.shape == (10,)
    with pytest.raises(ValueError, match="`precision` must be one of"):
        categorical(p, precision="float16")
    with pytest.raises(ValueError, match="finite and non-negative"):
        categorical(torch.tensor([[0.5, -0.1]]))
    with pytest.raises(ValueError, match="finite and non-negative"):
        categorical(torch.tensor([[0.5, float("nan")]]))
    with pytest.raises(ValueError, match="positive sum"):
        categorical(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="rows"):
        categorical(p.expand(3, 2), rng=RowGenerator([1, 2]))
    with pytest.raises(ValueError, match=r"`seeds` must be in \[0, 2\*\*63\)"):
        RowGenerator([-1])
    with pytest.raises(ValueError, match="`seeds` must be integers"):
        RowGenerator([1.5])


def test_inverse_cdf_never_returns_zero_probability_category():
    p = torch.tensor([[0.0, 0.3, 0.0, 0.7, 0.0]], dtype=torch.float64).expand(5, 5)
    u = torch.tensor([0.0, 1e-300, 0.3, 1 - 2**-53, 1.0], dtype=torch.float64)
    assert inverse_cdf(p, u).tolist() == [1, 1, 3, 3, 3]


def test_entropy_and_unigram_against_hand_computation():
    toks = np.array([[0, 0, 1, 2], [3, 3, 3, 3]])
    assert unigram_distribution(toks, 5).tolist() == [0.25, 0.125, 0.125, 0.5, 0.0]
    assert unigram_distribution(toks, 5, exclude=[3]).tolist() == [0.5, 0.25, 0.25, 0.0, 0.0]
    h = sequence_entropy(toks)
    assert h[0] == pytest.approx(-(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))
    assert h[1] == 0.0
    with pytest.raises(ValueError, match="`tokens` must be ids"):
        unigram_distribution(toks, 3)


def test_sample_diagnostics_against_reference():
    from sciddm.discrete import sample_diagnostics

    toks = np.array([[0, 0, 1, 1], [2, 2, 2, 2]])
    ref = np.array([[0, 1, 2, 3]])
    d = sample_diagnostics(toks, 5, reference=ref, exclude=[4])
    assert d.unigram.tolist() == [0.25, 0.25, 0.5, 0.0, 0.0]
    assert d.unigram_tv == pytest.approx(0.5 * (0 + 0 + 0.25 + 0.25))
    assert d.mean_sequence_entropy == pytest.approx(np.log(2) / 2)
    assert d.reference_unigram_entropy == pytest.approx(np.log(4))
    # KL(ref || smoothed samples) by hand: sample counts + 0.5 over the 4 allowed ids
    sm = (np.array([2, 2, 4, 0]) + 0.5) / 10
    assert d.unigram_kl == pytest.approx(np.sum(0.25 * np.log(0.25 / sm)))
    nd = sample_diagnostics(toks, 5)
    assert np.isnan(nd.unigram_tv)
    with pytest.raises(ValueError, match="needs samples with decoded `texts`"):
        sample_diagnostics(toks, 5, molecules=True)
