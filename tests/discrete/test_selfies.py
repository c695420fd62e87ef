"""SelfiesTokenizer: round trips on real molecules, validity by construction, training and files."""

import numpy as np
import pytest
import torch

pytest.importorskip("selfies")
pytest.importorskip("rdkit")

from rdkit import Chem

from sciddm.discrete import (
    MDLM,
    DnaTokenizer,
    MDLMConfig,
    SelfiesTokenizer,
    load_model,
    sample,
    save_model,
    tokenizer_from_dict,
    train,
)


def _inchikey(s):
    return Chem.MolToInchiKey(Chem.MolFromSmiles(s))


@pytest.fixture(scope="module")
def moses():
    from sciddm.chem import read_moses_smiles

    return read_moses_smiles("train", limit=1500)


@pytest.fixture(scope="module")
def moses_tok(moses):
    return SelfiesTokenizer.from_smiles(moses)


def _round_trip(tok, smiles):
    exact = same = 0
    for s in smiles:
        back = tok.decode(tok.encode(s))
        canon = Chem.MolToSmiles(Chem.MolFromSmiles(s))
        exact += back == canon
        same += _inchikey(back) == _inchikey(s)
    return exact / len(smiles), same / len(smiles)


def test_moses_round_trip(moses, moses_tok):
    exact, same = _round_trip(moses_tok, moses)
    assert same == 1.0  # the molecule always survives
    assert exact >= 0.995  # the canonical string nearly always (aromaticity perception)


def test_nci_round_trip():
    from sciddm.chem.data import read_nci_smiles

    sf = pytest.importorskip("selfies")
    nci = []
    for s in read_nci_smiles()[:600]:
        mol = Chem.MolFromSmiles(s)
        if mol is None or "." in s:
            continue
        try:
            sf.encoder(s)
        except sf.EncoderError:
            continue
        nci.append(s)
    assert len(nci) > 400
    tok = SelfiesTokenizer.from_smiles(nci)
    exact, same = _round_trip(tok, nci)
    assert same >= 0.99 and exact >= 0.97


def test_every_symbol_sequence_decodes_to_a_valid_molecule(moses_tok):
    """The SELFIES guarantee: uniform random rows of the vocabulary all decode to molecules."""
    g = np.random.default_rng(0)
    specials = set(moses_tok.special_ids)
    ids = np.array([i for i in range(moses_tok.vocab_size) if i not in specials])
    atoms = {i for i in ids if not any(k in moses_tok.itos[i] for k in ("Branch", "Ring"))}
    rows = g.choice(ids, size=(2000, 30))
    rows[:, 10:] = np.where(g.random((2000, 20)) < 0.3, moses_tok.pad_id, rows[:, 10:])
    for row, s in zip(rows, moses_tok.decode_batch(rows)):
        if s == "":
            assert not atoms.intersection(row.tolist())  # only an atomless row is empty
            continue
        assert Chem.MolFromSmiles(s) is not None, s
        assert Chem.MolToSmiles(Chem.MolFromSmiles(s)) == s  # canonical


def test_random_model_samples_are_all_valid(moses_tok):
    tok = SelfiesTokenizer(moses_tok.symbols, length=24)
    model = MDLM(MDLMConfig.preset("tiny", vocab_size=tok.vocab_size, length=24), tok, rng=0)
    res = sample(model, 300, method="fhs", rng=1, batch_size=150)
    valid = [s for s in res.texts if s and Chem.MolFromSmiles(s) is not None]
    assert len(valid) == 300  # validity 1.0


def test_briefly_trained_model_is_valid_and_saved_with_its_tokenizer(moses, tmp_path):
    res = train(
        data=moses[:400], tokenizer="selfies", steps=20, batch_size=16, warmup_steps=2,
        val_fraction=0.1, rng=0, out_dir=str(tmp_path), log_every=0, device="cpu",
    )  # fmt: skip
    assert isinstance(res.model.tokenizer, SelfiesTokenizer)
    back = load_model(tmp_path)
    assert back.tokenizer == res.model.tokenizer
    assert torch.equal(back.pos_emb, res.model.pos_emb.cpu())
    out = sample(back, 100, rng=0)
    from sciddm.chem import validity

    assert validity(out.texts) == 1.0
    p = save_model(back, tmp_path / "m.pt")
    assert load_model(p).tokenizer.to_dict()["kind"] == "selfies"


def test_cli_selfies_option(moses, tmp_path):
    from sciddm.discrete.training import main

    f = tmp_path / "m.smi"
    f.write_text("\n".join(moses[:200]))
    out = tmp_path / "run"
    code = main([str(f), "--tokenizer", "selfies", "--steps", "3", "--batch-size", "8",
                 "--warmup-steps", "1", "--out-dir", str(out), "--quiet", "--no-progress",
                 "--device", "cpu"])  # fmt: skip
    assert code == 0
    assert isinstance(load_model(out).tokenizer, SelfiesTokenizer)


def test_to_dict_round_trip(moses_tok):
    tok = SelfiesTokenizer(moses_tok.symbols, length=40)
    back = tokenizer_from_dict(torch.load(_save(tok.to_dict()), weights_only=True))
    assert back == tok and back.length == 40


def _save(d):
    import io

    buf = io.BytesIO()
    torch.save(d, buf)
    buf.seek(0)
    return buf


def test_masked_rows_decode_their_visible_symbols():
    tok = SelfiesTokenizer(["[C]", "[O]", "[N]"])
    ids = [0, tok.mask_id, 1, tok.pad_id, 2]
    assert tok.decode_selfies(ids) == "[C][O][N]"
    assert tok.decode(ids) == "CON"


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`vocab`"):
        SelfiesTokenizer(["C"])
    with pytest.raises(ValueError, match="`vocab`"):
        SelfiesTokenizer(["[Xx]"])
    with pytest.raises(ValueError, match="`vocab`"):
        SelfiesTokenizer([])
    with pytest.raises(TypeError, match="`vocab`"):
        SelfiesTokenizer("[C]")
    with pytest.raises(ValueError, match="cannot encode this SMILES"):
        SelfiesTokenizer.from_smiles(["O=I(=O)c1ccccc1"])
    with pytest.raises(ValueError, match="`text` is an empty SMILES"):
        SelfiesTokenizer(["[C]"]).encode("")
    with pytest.raises(ValueError, match="`smiles\\[1\\]`"):
        SelfiesTokenizer.from_smiles(["CCO", "C1CC"])
    salt = SelfiesTokenizer.from_smiles(["[Na+].[Cl-]"])
    assert "." in salt.symbols and salt.decode(salt.encode("[Cl-].[Na+]")) == "[Cl-].[Na+]"
    with pytest.raises(TypeError, match="`smiles`"):
        SelfiesTokenizer(["[C]"]).to_selfies(3)
    with pytest.raises(ValueError, match="unknown symbol"):
        SelfiesTokenizer(["[C]"]).encode("CO")
    with pytest.raises(ValueError, match="`ids`"):
        SelfiesTokenizer(["[C]"]).decode([7])


def test_selfies_needs_smiles_data():
    seqs = ["ACGTACGT", "TTGACCAA", "GGGTTTAA", "CCCAAATT"]
    with pytest.raises(ValueError, match="`tokenizer`='selfies' needs SMILES"):
        train(data=seqs, tokenizer="selfies", steps=1, batch_size=2, val_fraction=0.25)
    with pytest.raises(ValueError, match="`tokenizer`='smiles' needs SMILES"):
        train(data=seqs, tokenizer="smiles", steps=1, batch_size=2, val_fraction=0.25)
    assert DnaTokenizer().kind == "dna"


def test_unencodable_molecules_are_skipped_or_named():
    data = ["CCO", "CCN", "O=I(=O)c1ccccc1", "c1ccccc1", "CCCO", "CCOC"]
    res = train(data=data, tokenizer="selfies", steps=1, batch_size=2, val_fraction=0.2,
                warmup_steps=1, log_every=0, device="cpu", rng=0)  # fmt: skip
    assert res.n_train + res.n_val == 5
    with pytest.raises(ValueError, match="cannot encode this SMILES"):
        train(data=data, tokenizer="selfies", invalid="error", steps=1, batch_size=2)
