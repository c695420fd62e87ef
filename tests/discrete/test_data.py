import gzip

import pytest
import torch

from sciddm.discrete import (
    DnaTokenizer,
    TokenDataset,
    load_ars_sequences,
    load_moses_smiles,
    load_nci_smiles,
    load_sequences,
    prepare_dna,
    prepare_smiles,
    read_sequence_file,
    split_smiles,
    train_val_split,
)


def test_nci_is_canonical_unique_and_length_filtered():
    from rdkit import Chem

    d = load_nci_smiles(max_length=30)
    assert d.n_read == 4999 and d.n_invalid == 8
    assert len(set(d.sequences)) == len(d)
    assert all(len(split_smiles(s)) <= 30 for s in d)
    assert d.n_too_long > 0 and len(d) + d.n_invalid + d.n_duplicates + d.n_too_long == 4999
    for s in d.sequences[:200]:
        assert Chem.MolToSmiles(Chem.MolFromSmiles(s)) == s


def test_moses_and_ars():
    m = load_moses_smiles("test", limit=300, max_length=40)
    assert m.n_read == 300 and len(m) == 300 - m.n_too_long - m.n_duplicates
    a = load_ars_sequences(limit=100)
    assert len(a) == 100 and {len(s) for s in a} == {150} and a.values.shape == (100,)
    assert set("".join(a.sequences)) <= set("ACGT")
    assert load_sequences("moses:test", limit=10).source == "moses-test"
    assert load_sequences("ars", limit=10).kind == "dna"


def test_prepare_smiles_counts_and_options():
    raw = ["OCC", "CCO", "C1CC", "c1ccccc1", "CCO"]
    d = prepare_smiles(raw)
    assert d.sequences == ["CCO", "c1ccccc1"] and (d.n_invalid, d.n_duplicates) == (1, 2)
    d = prepare_smiles(raw, canonicalize=False, dedup=False)
    assert d.sequences == ["OCC", "CCO", "c1ccccc1", "CCO"]
    d = prepare_smiles(raw, canonicalize=False, invalid="keep", dedup=False)
    assert d.sequences == raw and d.n_invalid == 0


def test_prepare_dna_keeps_values_aligned():
    d = prepare_dna(["acg", "ACG", "TTA", "GXA"], values=[1.0, 2.0, 3.0, 4.0], invalid="skip")
    assert d.sequences == ["ACG", "TTA"] and d.values.tolist() == [1.0, 3.0]
    assert d.n_invalid == 1 and d.n_duplicates == 1
    assert prepare_dna(["ACNT"], allow_n=True).sequences == ["ACNT"]


def test_split_is_seeded_and_disjoint():
    items = list(range(100))
    a, b = (
        train_val_split(items, val_fraction=0.1, rng=4),
        train_val_split(items, rng=4, val_fraction=0.1),
    )
    assert a.val == b.val and len(a.val) == 10
    assert sorted(a.train + a.val) == items and not set(a.train) & set(a.val)
    assert train_val_split(items, val_fraction=0.1, rng=5).val != a.val


def test_read_sequence_files(tmp_path):
    (tmp_path / "a.csv").write_text("id,SMILES\n1,CCO\n2,c1ccccc1\n")
    assert read_sequence_file(tmp_path / "a.csv") == ["CCO", "c1ccccc1"]
    assert read_sequence_file(tmp_path / "a.csv", column="id") == ["1", "2"]
    with gzip.open(tmp_path / "b.txt.gz", "wt") as fh:
        fh.write("ACGT\nTTGA extra\n")
    assert read_sequence_file(tmp_path / "b.txt.gz") == ["ACGT", "TTGA"]
    d = load_sequences(tmp_path / "b.txt.gz")
    assert d.kind == "dna" and d.sequences == ["ACGT", "TTGA"]


def test_token_dataset():
    ds = TokenDataset(["ACGT", "TTTT"], DnaTokenizer())
    assert ds.ids.dtype == torch.int16 and ds[0].dtype == torch.int64 and ds.length == 4
    loader = torch.utils.data.DataLoader(ds, batch_size=2)
    assert next(iter(loader)).tolist() == [[0, 1, 2, 3], [3, 3, 3, 3]]


# -- bad input ---------------------------------------------------------------


def test_bad_input_errors(tmp_path):
    with pytest.raises(ValueError, match="invalid SMILES at index 1: 'C1CC'"):
        prepare_smiles(["CCO", "C1CC"], invalid="error")
    with pytest.raises(ValueError, match="invalid DNA sequence at index 0: unknown symbol 'X'"):
        prepare_dna(["AXG"])
    with pytest.raises(ValueError, match="invalid DNA sequence at index 0: empty"):
        prepare_dna([""])
    with pytest.raises(ValueError, match="`invalid='keep'` needs `canonicalize=False`"):
        prepare_smiles(["CCO"], invalid="keep")
    with pytest.raises(ValueError, match="`values` and `sequences` must have the same length"):
        prepare_dna(["ACG"], values=[1.0, 2.0])
    with pytest.raises(TypeError, match="not a single str"):
        prepare_smiles("CCO")
    with pytest.raises(TypeError, match=r"`smiles\[1\]` must be a str"):
        prepare_smiles(["CCO", 3])
    with pytest.raises(ValueError, match=r"`values` must be finite, got nan at index 1"):
        prepare_dna(["ACG", "TTA"], values=[1.0, float("nan")])
    with pytest.raises(ValueError, match="the dataset is empty"):
        load_sequences([])
    (tmp_path / "empty.smi").write_text("# nothing\n")
    with pytest.raises(ValueError, match="the dataset is empty"):
        load_sequences(tmp_path / "empty.smi")
    with pytest.raises(FileNotFoundError, match="no sequence file"):
        read_sequence_file(tmp_path / "missing.smi")
    with pytest.raises(ValueError, match="`column` 'x' is not in the header"):
        (tmp_path / "a.csv").write_text("SMILES\nCCO\n")
        read_sequence_file(tmp_path / "a.csv", column="x")
    with pytest.raises(ValueError, match="`kind` must be 'dna' for the ARS data"):
        load_sequences("ars", kind="smiles")
    with pytest.raises(ValueError, match="`val_fraction` = 0.9 leaves no training data"):
        train_val_split([1, 2], val_fraction=0.9)
    with pytest.raises(ValueError, match="`items` must not be empty"):
        train_val_split([])
    with pytest.raises(ValueError, match="`sequences` is empty"):
        TokenDataset([], DnaTokenizer())


def test_missing_package_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "logomaker", None)
    with pytest.raises(ImportError, match=r"sciddm\[dna\]"):
        load_ars_sequences(limit=1)
    monkeypatch.setitem(sys.modules, "rdkit", None)
    with pytest.raises(ImportError, match=r"sciddm\[chem\]"):
        load_nci_smiles()


def test_a_bad_training_file_is_named_with_its_line(tmp_path):
    f = tmp_path / "train.txt"
    f.write_bytes(b"ACGT\nACGA\nAC\xffT\nTTTT\n")
    with pytest.raises(ValueError, match=r"train.txt', line 3: not UTF-8 text \(byte 0xff"):
        load_sequences(f)
    g = tmp_path / "dna.txt"
    g.write_text("ACGT\n# a comment\n\nACXT\nTTTT\n")
    with pytest.raises(ValueError, match=r"invalid DNA sequence at line 4 of '.*dna.txt'"):
        load_sequences(g, kind="dna", invalid="error")
    assert load_sequences(g, kind="dna").n_invalid == 1  # skipped and counted by default
    h = tmp_path / "m.csv"
    h.write_text("id,smiles\n1,CCO\n2\n")
    with pytest.raises(ValueError, match=r"m.csv', line 3: 1 field\(s\), but the column 'smiles'"):
        read_sequence_file(h)
    z = tmp_path / "broken.txt.gz"
    z.write_bytes(b"\x1f\x8b\x08 not really gzip")
    with pytest.raises(ValueError, match="cannot read the sequence file"):
        read_sequence_file(z)
    with pytest.raises(TypeError, match="`path` must be a path"):
        read_sequence_file(3)
