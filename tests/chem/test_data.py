import gzip

import pytest

from sciddm.chem import data


def test_nci_matches_file():
    smiles = data.read_nci_smiles()
    lines = data.nci_path().read_text().splitlines()
    assert len(smiles) == len(lines) == 4999
    assert smiles[1] == lines[1].split("\t")[0]
    assert all(" " not in s and s for s in smiles)


def test_moses_limit_and_header():
    first = data.read_moses_smiles("test", limit=5)
    with gzip.open(data.moses_path("test"), "rt") as fh:
        raw = [next(fh).strip() for _ in range(6)]
    assert raw[0] == "SMILES"
    assert first == raw[1:]
    assert data.read_moses_smiles("train", limit=0) == []


def test_moses_bad_split():
    with pytest.raises(ValueError, match="`split` must be one of"):
        data.read_moses_smiles("valid")
    with pytest.raises(ValueError, match="`limit` must be an integer >= 0"):
        data.read_moses_smiles("test", limit=-1)


def test_missing_molsets_message(monkeypatch):
    monkeypatch.setattr(data, "_package_dir", lambda name: None)
    with pytest.raises(ImportError, match="pip install --no-deps molsets"):
        data.read_moses_smiles("test", limit=1)
    with pytest.raises(ImportError, match=r"sciddm\[chem\]"):
        data.read_nci_smiles()


def test_import_without_rdkit(monkeypatch):
    import sys

    from tests._proc import run_bounded

    code = (
        "import sys\n"
        "for m in ('rdkit', 'pyjaspar', 'logomaker', 'Bio'):\n"
        "    sys.modules[m] = None\n"
        "import sciddm.chem, sciddm.dna, sciddm.chem.data, sciddm.dna.data\n"
        "import sciddm.reproduce.chem, sciddm.reproduce.dna\n"
        "print('ok')\n"
    )
    out = run_bounded([sys.executable, "-c", code], timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
