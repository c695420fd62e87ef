import numpy as np
import pytest
import torch

from sciddm.discrete import DnaTokenizer, SmilesTokenizer, split_smiles, tokenizer_from_dict


@pytest.fixture(scope="module")
def nci():
    from sciddm.chem.data import read_nci_smiles

    return read_nci_smiles()


def test_every_nci_molecule_round_trips(nci):
    tok = SmilesTokenizer.from_smiles(nci)
    for s in nci:
        assert tok.decode(tok.encode(s)) == s
    ids = tok.encode_batch(nci[:50])
    assert tok.decode_batch(ids) == nci[:50]
    assert tok.decode_batch(torch.from_numpy(ids)) == nci[:50]


def test_regex_tokens():
    assert split_smiles("[nH]1cc%10c[C@@H]1Br") == [
        "[nH]", "1", "c", "c", "%10", "c", "[C@@H]", "1", "Br",
    ]  # fmt: skip
    assert split_smiles("ClCCl.[Na+]") == ["Cl", "C", "Cl", ".", "[Na+]"]
    assert split_smiles("") == []


def test_ids_layout_and_padding():
    tok = SmilesTokenizer.from_smiles(["CCO", "N#N"], length=5)
    assert tok.mask_id == tok.vocab_size - 1 and tok.pad_id == tok.vocab_size - 2
    ids = tok.encode_batch(["CCO"])
    assert ids.dtype == np.int64 and ids[0, 3:].tolist() == [tok.pad_id] * 2
    assert tok.decode(ids[0]) == "CCO"
    assert tok.decode([tok.mask_id]) == "[MASK]"


def test_save_and_restore(tmp_path):
    for tok in (
        SmilesTokenizer.from_smiles(["CCO", "c1ccccc1"], length=9),
        DnaTokenizer(length=7, n_policy="token"),
    ):
        d = tok.to_dict()
        torch.save(d, tmp_path / "t.pt")
        back = tokenizer_from_dict(torch.load(tmp_path / "t.pt", weights_only=True))
        assert back == tok and back.encode_batch(
            ["CCO"] if tok.kind == "smiles" else ["ACGTNAA"]
        ).shape[1] in (9, 7)


def test_dna_tokenizer():
    tok = DnaTokenizer()
    assert tok.encode("acgtACGT") == [0, 1, 2, 3, 0, 1, 2, 3]
    assert tok.decode_batch(np.array([[3, 3], [0, 1]])) == ["TT", "AC"]
    tn = DnaTokenizer(n_policy="token")
    assert tn.vocab_size == 6 and tn.mask_id == 5 and tn.decode(tn.encode("ANT")) == "ANT"


# -- bad input ---------------------------------------------------------------


def test_unknown_symbols_name_symbol_and_position():
    with pytest.raises(ValueError, match=r"unknown SMILES character '&' at position 3"):
        split_smiles("CCO&C")
    tok = SmilesTokenizer.from_smiles(["CCO"])
    with pytest.raises(ValueError, match=r"unknown symbol 'N' at token position 1 of 'CNO'"):
        tok.encode("CNO")
    with pytest.raises(ValueError, match=r"unknown symbol 'N' at position 2 of 'ACNT'.*n_policy"):
        DnaTokenizer().encode("ACNT")
    with pytest.raises(ValueError, match=r"unknown symbol 'X' at position 1"):
        DnaTokenizer(n_policy="token").encode("AX")
    with pytest.raises(ValueError, match=r"unknown symbol '\[MASK\]'"):
        tok.encode("C[MASK]")


def test_batch_errors():
    tok = SmilesTokenizer.from_smiles(["CCO"], length=2)
    with pytest.raises(ValueError, match="longer than the context length 2"):
        tok.encode_batch(["CCO"])
    with pytest.raises(ValueError, match="no \\[PAD\\] token"):
        DnaTokenizer().encode_batch(["ACGT", "AC"])
    with pytest.raises(TypeError, match="`texts` must be a sequence of strings"):
        tok.encode_batch("CCO")
    with pytest.raises(ValueError, match=r"`ids` must have 2 dimensions"):
        tok.decode_batch(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"`ids` must hold ids in \[0, 4\), got 9"):
        tok.decode([9])
    with pytest.raises(TypeError, match="`ids` must hold integer token ids"):
        tok.decode([1.5])
    with pytest.raises(TypeError, match="`text` must be a str"):
        tok.encode(None)
    with pytest.raises(TypeError, match="`smiles` must be a str"):
        split_smiles(b"CCO")
    with pytest.raises(TypeError, match="`d` must be a dict"):
        tokenizer_from_dict("dna")
    with pytest.raises(ValueError, match="`d` lacks the key 'vocab'"):
        tokenizer_from_dict({"kind": "smiles"})


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="`n_policy` must be one of"):
        DnaTokenizer(n_policy="random")
    with pytest.raises(ValueError, match="`vocab` must not be empty"):
        SmilesTokenizer([])
    with pytest.raises(ValueError, match="`smiles` must not be empty"):
        SmilesTokenizer.from_smiles([])
    with pytest.raises(ValueError, match="duplicates"):
        SmilesTokenizer(["C", "C"])
    with pytest.raises(ValueError, match="`length` must be an integer >= 1"):
        DnaTokenizer(length=0)
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        tokenizer_from_dict({"kind": "protein"})
