"""Property-based tests of every public name of sciddm.chem (BRIEF decision 7).

Generated inputs mix valid SMILES, invalid SMILES (documented: floor rewards, NaN
properties with a ``valid`` mask, or dropped by the set metrics), random text, empty
strings, non-strings (bytes, None, numbers, token-id arrays and tensors, sparse
matrices) and out-of-range scalars. Each call must return a finite, valid result or
raise ValueError/TypeError whose message names one of the function's arguments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import sciddm.chem as chem
from sciddm.chem import data as chem_data

pytest.importorskip("rdkit")

COVERED = frozenset(
    {
        "INVALID_FLOOR",
        "MOSES_BASELINES",
        "MOSES_BASELINES_SOURCE",
        "MOSES_COLUMNS",
        "PARALLEL_THRESHOLD",
        "PROPERTIES",
        "REWARD_TERMS",
        "ChemReward",
        "MoleculeProperties",
        "MoleculeReport",
        "PropertyCache",
        "ReferenceStats",
        "canonical_smiles",
        "composite_reward",
        "fcd",
        "filters_pass_rate",
        "fragment_similarity",
        "internal_diversity",
        "load_moses_test",
        "molecule_properties",
        "molecule_report",
        "moses_table",
        "moses_table_rows",
        "nearest_neighbour_similarity",
        "novelty",
        "pains_pass_rate",
        "penalized_logp",
        "plot_property_histograms",
        "property_distances",
        "qed_reward",
        "read_moses_smiles",
        "read_nci_smiles",
        "reference_statistics",
        "sa_reward",
        "sa_score",
        "scaffold_similarity",
        "tanimoto_matrix",
        "uniqueness",
        "validity",
        "validity_reward",
    }
)


def test_covered_is_all():
    assert set(chem.__all__) == COVERED


VALID = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "C1CCCCC1", "c1ccncc1", "O=C1C=CC(=O)C=C1",
         "Cc1ccc(-c2ccccc2)cc1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "C[N+](C)(C)C"]  # fmt: skip
INVALID = ["C1CC", "C(C", "xyz", "", "   ", "Å", "[Xx]", "c1cccc1", "C%99"]
NON_STR = [None, b"CCO", 3, 2.5, float("nan"), ["CCO"], np.int64(1)]
BAD_BATCH = [None, b"CCO", 5, 3.0, np.arange(3), torch.arange(4).reshape(2, 2),
             sp.eye(2, format="csr"), object()]  # fmt: skip

smiles_str = st.one_of(st.sampled_from(VALID), st.sampled_from(INVALID), st.text(max_size=6))
mostly_valid = st.lists(st.sampled_from(VALID), min_size=1, max_size=5)
# a batch: a list of (mostly) strings, sometimes with a non-string, or a bad object
batch = st.one_of(
    st.lists(smiles_str, max_size=5),
    st.lists(st.one_of(smiles_str, st.sampled_from(NON_STR)), min_size=1, max_size=4),
    mostly_valid,
    st.sampled_from(BAD_BATCH),
)
bad_number = st.sampled_from([0, -1, 1.5, math.nan, math.inf, -math.inf, 10**12, "3", None])
some_int = st.one_of(st.integers(-3, 40), bad_number)
some_float = st.one_of(st.floats(-5, 5), bad_number)


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


def rewards_ok(r, n):
    assert isinstance(r, np.ndarray) and r.shape == (n,) and r.dtype == np.float64
    finite(r)


@given(batch, st.sampled_from([chem.validity_reward, chem.qed_reward, chem.sa_reward]),
       some_float)  # fmt: skip
def test_single_term_rewards(smiles, fn, floor):
    r = outcome(lambda: fn(smiles, floor=floor), "smiles", "floor")
    if r is not None:
        rewards_ok(r, 1 if isinstance(smiles, str) else len(smiles))
        if fn is not chem.validity_reward:
            assert np.all((r == floor) | ((r >= 0) & (r <= 1)))


@given(batch, some_float)
def test_penalized_logp(smiles, floor):
    r = outcome(lambda: chem.penalized_logp(smiles, floor=floor), "smiles", "floor")
    if r is not None:
        rewards_ok(r, len(smiles))


weights = st.one_of(
    st.sampled_from(chem.REWARD_TERMS),
    st.dictionaries(st.sampled_from([*chem.REWARD_TERMS, "potency"]), some_float, max_size=3),
    st.sampled_from([None, 3, "", ["qed"]]),
)


@given(batch, weights, some_float, st.sampled_from([(10, 50), (5, 2), (-1, 3), (1,), None]),
       st.sampled_from([True, False, "yes", None]), some_int)  # fmt: skip
def test_chem_reward_and_composite(smiles, w, floor, size_range, cache, n_jobs):
    names = ("weights", "floor", "size_range", "cache", "n_jobs", "smiles")
    reward = outcome(
        lambda: chem.ChemReward(w, floor=floor, size_range=size_range, cache=cache, n_jobs=n_jobs),
        *names,
    )
    if reward is not None:
        assert set(reward.properties) <= set(chem.PROPERTIES)
        r = outcome(lambda: reward(smiles), "smiles")
        if r is not None:
            rewards_ok(r, len(smiles))
            assert reward.calls == len(smiles)
            t = reward.terms(smiles)
            assert set(t) == set(reward.weights)
    r = outcome(lambda: chem.composite_reward(smiles, w, floor=floor), *names)
    if r is not None:
        rewards_ok(r, len(smiles))
    assert chem.INVALID_FLOOR == 0.0


@given(batch, st.lists(st.sampled_from([*chem.PROPERTIES, "toxicity", 3]), max_size=3),
       st.sampled_from([None, "cache", "bad"]), some_int, some_int)  # fmt: skip
def test_molecule_properties_and_cache(smiles, props, cache_kind, n_jobs, threshold):
    cache = {"cache": chem.PropertyCache(), "bad": {}, None: None}[cache_kind]
    names = ("smiles", "properties", "cache", "n_jobs", "parallel_threshold")
    if isinstance(n_jobs, int) and n_jobs > 2:
        n_jobs = 2  # keep worker processes few; the upper guard is tested below
    res = outcome(
        lambda: chem.molecule_properties(
            smiles, props, cache=cache, n_jobs=n_jobs, parallel_threshold=threshold
        ),
        *names,
    )
    if res is not None:
        assert isinstance(res, chem.MoleculeProperties)
        assert res.valid.shape == (len(smiles),)
        for v in res.values.values():
            finite(v[res.valid])
            assert np.all(np.isnan(v[~res.valid]))  # documented: NaN where invalid
        assert (res.canonical is None) == (cache is None)
    assert outcome(lambda: chem.PropertyCache(max_size=n_jobs), "max_size") is None or (
        isinstance(n_jobs, int) and n_jobs >= 1
    )
    with pytest.raises(ValueError, match="`n_jobs` must be an integer in"):
        chem.molecule_properties(["CCO"], n_jobs=10**6)
    assert chem.PARALLEL_THRESHOLD >= 1


@given(st.one_of(smiles_str, st.sampled_from(NON_STR)))
def test_single_molecule_functions(s):
    c = outcome(lambda: chem.canonical_smiles(s), "smiles")
    if c is not None:
        assert isinstance(c, str) and chem.canonical_smiles(c) == c
    v = outcome(lambda: chem.sa_score(s), "smiles")
    if v is not None:
        assert 1.0 <= v <= 10.0


@given(batch)
def test_validity_uniqueness_filters(smiles):
    for fn, lo in ((chem.validity, 0.0), (chem.uniqueness, 1e-12),
                   (chem.filters_pass_rate, 0.0), (chem.pains_pass_rate, 0.0)):  # fmt: skip
        v = outcome(lambda fn=fn: fn(smiles), "smiles")
        if v is not None:
            assert lo <= finite(v) <= 1.0


@given(batch, batch)
def test_novelty_snn_frag_scaf(smiles, reference):
    for fn in (chem.novelty, chem.nearest_neighbour_similarity, chem.fragment_similarity,
               chem.scaffold_similarity):  # fmt: skip
        v = outcome(lambda fn=fn: fn(smiles, reference), "smiles", "reference")
        if v is not None:
            assert 0.0 <= finite(v) <= 1.0


@given(batch, some_float, st.one_of(st.none(), some_int), some_int)
def test_internal_diversity(smiles, p, max_molecules, rng):
    v = outcome(
        lambda: chem.internal_diversity(smiles, p=p, max_molecules=max_molecules, rng=rng),
        "smiles", "p", "max_molecules", "rng",
    )  # fmt: skip
    if v is not None:
        assert 0.0 <= finite(v) < 1.0


@given(batch, st.one_of(st.none(), batch), some_int)
def test_tanimoto_matrix(a, b, fp_size):
    t = outcome(lambda: chem.tanimoto_matrix(a, b, fp_size=fp_size), "a", "b", "fp_size")
    if t is not None:
        assert np.all((finite(t) >= 0) & (t <= 1))


@given(batch, batch, st.lists(st.sampled_from([*chem.PROPERTIES, "colour"]), min_size=1,
                               max_size=2))  # fmt: skip
def test_property_distances(smiles, reference, props):
    d = outcome(
        lambda: chem.property_distances(smiles, reference, props),
        "smiles", "reference", "properties",
    )  # fmt: skip
    if d is not None:
        assert all(finite(v) >= 0 for v in d.values())


@settings(max_examples=8)
@given(
    st.one_of(mostly_valid, batch),
    st.one_of(mostly_valid, batch),
    st.sampled_from(["cpu", 0, None]),
)
def test_fcd(smiles, reference, device):
    pytest.importorskip("fcd_torch")
    v = outcome(lambda: chem.fcd(smiles, reference, device=device), "smiles", "reference",
                "device")  # fmt: skip
    if v is not None:
        assert finite(v) >= 0


@settings(max_examples=15)
@given(batch, st.one_of(st.none(), batch), st.one_of(st.none(), batch),
       st.sampled_from([(1000, 10000), (1,), (0,), ("a",)]), some_int)  # fmt: skip
def test_molecule_report_reference_statistics_and_plot(smiles, reference, train, k, rng):
    names = ("smiles", "reference", "train", "k", "rng")
    rep = outcome(
        lambda: chem.molecule_report(smiles, reference, train=train, k=k, fcd=False, rng=rng),
        *names,
    )
    if rep is None:
        return
    assert isinstance(rep, chem.MoleculeReport) and 0 <= rep.validity <= 1
    has_valid = rep.validity > 0
    # documented NaN: no valid molecule (or no reference / training set for those metrics)
    for name in ("uniqueness", "internal_diversity_1", "internal_diversity_2", "filters"):
        assert math.isfinite(getattr(rep, name)) == has_valid, name
    if reference is not None and has_valid:
        assert all(math.isfinite(v) for v in (rep.snn, rep.frag, *rep.wasserstein.values()))
    if has_valid:
        row = rep.row()
        assert row["Valid"] == rep.validity
        rows = chem.moses_table_rows({"model": rep}, baselines=())
        assert rows[0]["model"] == "model"
    if reference is not None:
        stats = chem.reference_statistics(reference, fcd=False)
        assert isinstance(stats, chem.ReferenceStats) and stats.n_valid >= 1
    import matplotlib.pyplot as plt

    axes = chem.plot_property_histograms(rep)
    assert len(axes) == 4
    plt.close("all")


@given(st.dictionaries(st.text(max_size=4), st.one_of(st.floats(0, 1), st.none()), max_size=3),
       st.lists(st.sampled_from([*chem.MOSES_BASELINES, "GPT"]), max_size=2), some_int)  # fmt: skip
def test_moses_tables(values, baselines, digits):
    rows = {"m": {c: v for c, v in zip(chem.MOSES_COLUMNS, values.values())}}
    out = outcome(lambda: chem.moses_table(rows, baselines=baselines, digits=digits),
                  "baselines", "digits", "rows")  # fmt: skip
    if out is not None:
        assert out.count("\n|") == len(baselines) + 2
        assert chem.MOSES_BASELINES_SOURCE in out or not baselines
    assert outcome(lambda: chem.moses_table_rows([1, 2]), "rows") is None
    assert all(len(v) == len(chem.MOSES_COLUMNS) for v in chem.MOSES_BASELINES.values())


@given(st.one_of(st.none(), some_int), some_int)
def test_data_loaders(n, rng):
    try:
        chem_data.moses_path("test")
    except ImportError:
        pytest.skip("molsets is not installed")
    out = outcome(lambda: chem.read_moses_smiles("test", limit=n), "limit", "split")
    if out is not None and n is not None:
        assert all(isinstance(s, str) and s for s in out) and len(out) == min(n, 176_074)
    sub = outcome(lambda: chem.load_moses_test(n, rng=rng) if n is not None else [], "n", "rng")
    if sub is not None and n is not None:
        assert len(sub) == min(n, 176_074) and sub == chem.load_moses_test(n, rng=rng)
    assert outcome(lambda: chem.read_moses_smiles(n), "split") is None
    nci = chem.read_nci_smiles()
    assert len(nci) == 4999
