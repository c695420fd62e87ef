"""Property-based tests of the molecule names of sciddm.discrete (issue 19; BRIEF decision 7).

``COVERED`` lists the names this file exercises; together with the discrete family's
``tests/discrete/test_properties.py`` they cover ``sciddm.discrete.__all__``. Generated
inputs: symbol-id rows (the SELFIES guarantee), random text and invalid SMILES, wrong
types, out-of-range sizes. Each call returns a valid result or raises ValueError /
TypeError whose message names the offending argument.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sciddm.discrete as discrete
from sciddm.discrete import (
    MDLM,
    TRAIN_PRESETS,
    MDLMConfig,
    MosesBenchmark,
    SelfiesTokenizer,
    TrainConfig,
    moses_benchmark,
)

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from rdkit import Chem

COVERED = frozenset({"MosesBenchmark", "SelfiesTokenizer", "TRAIN_PRESETS", "moses_benchmark"})

MOLS = ["CCO", "c1ccccc1Cl", "CC(=O)Nc1ccc(O)cc1", "C1CCNCC1", "O=C(O)C=CC(=O)O", "CC#N",
        "[NH4+]", "C[N+](C)(C)C", "Brc1ccc2[nH]ccc2c1", "FC(F)(F)c1ncccc1S"]  # fmt: skip
TOK = SelfiesTokenizer.from_smiles(MOLS)
BAD_TEXT = ["C1CC", "C(C", "xyz", "", "   ", "Å", "[Xx]", "c1cccc1", "C%99", "((", "\x00"]
NON_STR = [None, b"CCO", 3, 2.5, float("nan"), ["CCO"], np.int64(1)]


def test_covered_names_exist():
    assert COVERED <= set(discrete.__all__)


def _names_arg(exc: Exception, *names: str) -> bool:
    return any(f"`{n}" in str(exc) for n in names)


# -- SelfiesTokenizer ------------------------------------------------------------------
symbol_ids = st.lists(st.integers(0, TOK.vocab_size - 1), min_size=0, max_size=30)


@given(symbol_ids)
def test_any_symbol_row_decodes_to_a_molecule_or_nothing(ids):
    s = TOK.decode(ids)
    assert isinstance(s, str)
    if s:
        mol = Chem.MolFromSmiles(s)
        assert mol is not None and Chem.MolToSmiles(mol) == s
    else:  # empty only when no atom symbol is visible
        visible = [TOK.itos[i] for i in ids if i not in TOK.special_ids]
        assert all(("Branch" in v or "Ring" in v or v == ".") for v in visible)


@given(st.sampled_from(MOLS))
def test_encode_decode_keeps_the_molecule(smiles):
    back = TOK.decode(TOK.encode(smiles))
    assert Chem.MolToInchiKey(Chem.MolFromSmiles(back)) == Chem.MolToInchiKey(
        Chem.MolFromSmiles(smiles)
    )


@given(st.one_of(st.text(max_size=12), st.sampled_from(BAD_TEXT), st.sampled_from(NON_STR)))
def test_encode_of_anything_is_ids_or_a_named_error(text):
    try:
        ids = TOK.encode(text)
    except (ValueError, TypeError) as exc:
        assert _names_arg(exc, "text") or "unknown symbol" in str(exc)
        return
    assert all(0 <= i < TOK.vocab_size - 2 for i in ids)


@given(
    st.one_of(
        st.lists(st.integers(-5, TOK.vocab_size + 5), max_size=8),
        st.lists(
            st.one_of(st.floats(), st.booleans(), st.none(), st.text(max_size=2)),
            min_size=1,
            max_size=4,
        ),  # fmt: skip
        st.sampled_from(["[C]", b"x", 3, None]),
    )
)
def test_decode_of_anything_is_a_string_or_a_named_error(ids):
    try:
        out = TOK.decode(ids)
    except (ValueError, TypeError) as exc:
        assert _names_arg(exc, "ids")
        return
    assert isinstance(out, str)


@given(
    st.one_of(
        st.lists(st.text(max_size=6), max_size=4),
        st.sampled_from([None, "[C]", 3, [None], [b"[C]"], ["[MASK]"], ["[PAD]"]]),
    ),
    st.one_of(st.none(), st.integers(-3, 5), st.floats(allow_nan=True), st.sampled_from(["8"])),
)
def test_constructor_checks_vocab_and_length(vocab, length):
    try:
        tok = SelfiesTokenizer(vocab, length=length)
    except (ValueError, TypeError) as exc:
        assert _names_arg(exc, "vocab", "length")
        return
    assert tok.vocab_size == len(vocab) + 2 and tok.mask_id == tok.vocab_size - 1
    assert SelfiesTokenizer.from_dict(tok.to_dict()) == tok


@given(st.lists(st.one_of(st.sampled_from(MOLS + BAD_TEXT), st.sampled_from(NON_STR)),
                max_size=4))  # fmt: skip
def test_from_smiles_builds_or_names_the_entry(smiles):
    try:
        tok = SelfiesTokenizer.from_smiles(smiles)
    except (ValueError, TypeError) as exc:
        assert _names_arg(exc, "smiles")
        return
    for s in smiles:
        assert Chem.MolFromSmiles(tok.decode(tok.encode(s))) is not None


# -- TRAIN_PRESETS -------------------------------------------------------------------------
@given(
    st.sampled_from(sorted(TRAIN_PRESETS)),
    st.sampled_from(
        [
            "steps",
            "batch_size",
            "lr",
            "d_model",
            "n_layers",
            "warmup_steps",
            "tokenizer",
            "limit",
            "max_length",
        ]
    ),  # fmt: skip
    st.one_of(st.integers(-3, 0), st.floats(allow_nan=True), st.sampled_from(["x", None, 1.5])),
)
def test_presets_with_a_bad_override_name_the_field(name, field, value):
    kw = {**TRAIN_PRESETS[name], field: value}
    try:
        cfg = TrainConfig(**kw)
    except (ValueError, TypeError) as exc:
        assert _names_arg(exc, field)
        return
    assert getattr(cfg, field) == value  # a value the field accepts (None, or in range)


# -- moses_benchmark / MosesBenchmark ---------------------------------------------------------
_MODEL = MDLM(
    MDLMConfig.preset(
        "tiny", vocab_size=TOK.vocab_size, length=12, d_model=16, n_layers=1, n_heads=2
    ),  # fmt: skip
    tokenizer=SelfiesTokenizer(TOK.symbols, length=12),
    rng=0,
).eval()
REF = ["CCO", "CCN", "c1ccccc1O", "CC(=O)Nc1ccccc1"]


@settings(max_examples=8)
@given(st.integers(1, 12), st.integers(0, 2**31), st.booleans())
def test_benchmark_rows_are_valid_molecules_and_finite(n, seed, data_row):
    res = moses_benchmark(_MODEL, n=n, reference=REF, train=MOLS, data_row=data_row, fcd=False,
                          rng=seed)  # fmt: skip
    assert isinstance(res, MosesBenchmark)
    assert res.report.validity == 1.0 and len(res.smiles) == n
    rows = res.rows()
    assert (len(rows) == 2) == data_row
    for row in rows.values():
        assert all(v is None or math.isfinite(v) or math.isnan(v) for v in row.values())
        assert 0.0 <= row["Valid"] <= 1.0 and 0.0 <= row["Novelty"] <= 1.0
    assert res.wall_time >= 0 and dataclasses.is_dataclass(res)


@given(
    st.sampled_from(
        [
            "n",
            "batch_size",
            "n_reference",
            "method",
            "k",
            "data_row",
            "name",
            "train",
            "reference",
            "rng",
            "model",
        ]
    ),  # fmt: skip
    st.sampled_from([0, -1, 10**12, 2.5, "x", None, b"x", float("nan"), [], [3]]),
)
def test_benchmark_bad_arguments_are_named(arg, value):
    kw = dict(n=2, reference=REF, train=MOLS, fcd=False, data_row=False, rng=0)
    if arg in ("reference", "train") and value is None:
        kw["n_reference"] = 50  # the defaults read MOSES (a test set sample, the train split)
    model = _MODEL
    if arg == "model":
        model = value
    else:
        kw[arg] = value
    try:
        res = moses_benchmark(model, **kw)
    except (ValueError, TypeError) as exc:
        named = {"reference": ("reference", "smiles"), "train": ("train",), "k": ("k",)}
        assert _names_arg(exc, *named.get(arg, (arg,))), str(exc)
        return
    assert res.report.validity == 1.0  # a value the argument accepts (None, a default)
