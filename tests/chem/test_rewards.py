import math

import numpy as np
import pytest

from sciddm.chem import (
    ChemReward,
    PropertyCache,
    canonical_smiles,
    composite_reward,
    molecule_properties,
    penalized_logp,
    qed_reward,
    sa_reward,
    sa_score,
    validity_reward,
)
from sciddm.chem._scores import _sascorer

Chem = pytest.importorskip("rdkit.Chem")
from rdkit.Chem import QED, Crippen, Descriptors  # noqa: E402

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
MOLS = ["CC(=O)Oc1ccccc1C(=O)O", "c1ccc2ccccc2c1", "CCN(CC)CC", "C1CCCCCCCCC1", "OC(=O)CCC(N)=O"]


def test_aspirin_matches_rdkit():
    mol = Chem.MolFromSmiles(ASPIRIN)
    qed_rdkit = QED.qed(mol)
    sa_rdkit = _sascorer().calculateScore(mol)
    assert qed_rdkit == pytest.approx(0.550, abs=5e-4)
    assert sa_rdkit == pytest.approx(1.58, abs=5e-3)
    assert qed_reward([ASPIRIN])[0] == pytest.approx(qed_rdkit, abs=1e-12)
    assert sa_score(ASPIRIN) == pytest.approx(sa_rdkit, abs=1e-12)
    assert sa_reward([ASPIRIN])[0] == pytest.approx((10 - sa_rdkit) / 9, abs=1e-12)


def test_properties_match_rdkit_on_several_molecules():
    p = molecule_properties(MOLS, ["qed", "sa", "logp", "mw", "heavy_atoms", "max_ring_size"])
    for i, s in enumerate(MOLS):
        mol = Chem.MolFromSmiles(s)
        assert p["qed"][i] == pytest.approx(QED.qed(mol))
        assert p["logp"][i] == pytest.approx(Crippen.MolLogP(mol))
        assert p["mw"][i] == pytest.approx(Descriptors.MolWt(mol))
        assert p["heavy_atoms"][i] == mol.GetNumHeavyAtoms()
    assert p["max_ring_size"].tolist() == [6, 6, 0, 10, 0]


def test_invalid_get_floor_never_raise():
    bad = ["", "C1CC", "not a smiles", "C(C", "   "]
    assert validity_reward(bad).tolist() == [0.0] * 5
    assert qed_reward(bad, floor=-1.0).tolist() == [-1.0] * 5
    r = ChemReward({"qed": 1.0, "logp": 0.2}, floor=-7.0)(bad + [ASPIRIN])
    assert r[:5].tolist() == [-7.0] * 5
    assert np.isfinite(r).all()
    p = molecule_properties(bad, ["qed"])
    assert not p.valid.any() and np.isnan(p["qed"]).all()


def test_composite_is_weighted_sum():
    w = {"qed": 0.7, "sa": 0.3, "logp": -0.1, "ring_penalty": -0.5, "size_penalty": -1.0}
    reward = ChemReward(w, size_range=(8, 12))
    r = reward(MOLS)
    for i, s in enumerate(MOLS):
        mol = Chem.MolFromSmiles(s)
        sa = _sascorer().calculateScore(mol)
        rings = [len(x) for x in mol.GetRingInfo().AtomRings()]
        h = mol.GetNumHeavyAtoms()
        expect = (
            0.7 * QED.qed(mol)
            + 0.3 * (10 - sa) / 9
            - 0.1 * Crippen.MolLogP(mol)
            - 0.5 * max(0, max(rings, default=0) - 6)
            - 1.0 * (max(8 - h, 0) + max(h - 12, 0)) / 10
        )
        assert r[i] == pytest.approx(expect)
    assert reward.calls == len(MOLS)
    plogp = penalized_logp(MOLS)
    mol = Chem.MolFromSmiles("C1CCCCCCCCC1")
    assert plogp[3] == pytest.approx(Crippen.MolLogP(mol) - _sascorer().calculateScore(mol) - 4.0)
    assert composite_reward([ASPIRIN], {"validity": 2.0}).tolist() == [2.0]


def test_cache_keyed_by_canonical_smiles():
    cache = PropertyCache()
    spellings = ["CCO", "OCC", "C(O)C", "[CH3][CH2]O"]
    p = molecule_properties(spellings, ["qed"], cache=cache)
    assert len(cache) == 1 and cache.misses == 1 and cache.hits == 3
    assert len(set(p["qed"].tolist())) == 1
    assert p.canonical == [canonical_smiles("CCO")] * 4
    # a second call with a new property computes it only
    molecule_properties(["CCO"], ["qed", "logp"], cache=cache)
    assert cache.misses == 2
    reward = ChemReward("qed", cache=cache)
    reward(["OCC"] * 3)
    assert cache.misses == 2


def test_cache_eviction_keeps_values_correct():
    cache = PropertyCache(max_size=2)
    p = molecule_properties(MOLS, ["qed"], cache=cache)
    assert len(cache) <= 2
    q = molecule_properties(MOLS, ["qed"])
    np.testing.assert_allclose(p["qed"], q["qed"])


def test_process_pool_gives_same_values():
    smiles = MOLS * 2 + ["CCCC", "CCCCO", "c1ccncc1", "C1CC"]
    serial = ChemReward({"qed": 1, "sa": 1}, cache=False)(smiles)
    pooled = ChemReward({"qed": 1, "sa": 1}, cache=False, n_jobs=2, parallel_threshold=2)(smiles)
    np.testing.assert_allclose(pooled, serial)
    cached = ChemReward({"qed": 1, "sa": 1}, n_jobs=2, parallel_threshold=2)(smiles)
    np.testing.assert_allclose(cached, serial)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`weights` must be one of"):
        ChemReward({"potency": 1.0})
    with pytest.raises(ValueError, match="`weights` must name at least one term"):
        ChemReward({})
    with pytest.raises(ValueError, match="`floor` must be finite"):
        ChemReward("qed", floor=math.nan)
    with pytest.raises(ValueError, match="`size_range` must be increasing"):
        ChemReward("qed", size_range=(20, 10))
    with pytest.raises(ValueError, match="`properties` must be one of"):
        molecule_properties(["CCO"], ["toxicity"])
    with pytest.raises(ValueError, match=r"`n_jobs` must be an integer in \[1, 256\]"):
        molecule_properties(["CCO"], n_jobs=0)


def test_non_strings_raise_type_error_naming_the_argument():
    import torch

    tokens = torch.randint(0, 30, (4, 12))
    with pytest.raises(
        TypeError, match=r"`smiles` must be a sequence of SMILES strings.*Tensor of torch.int64"
    ):
        ChemReward()(tokens)
    with pytest.raises(
        TypeError, match=r"`smiles\[0\]` must be a SMILES string \(str\), got bytes"
    ):
        qed_reward([b"CCO"])
    with pytest.raises(TypeError, match=r"`smiles` must be a sequence of SMILES strings"):
        sa_reward(b"CCO")
    with pytest.raises(TypeError, match=r"`smiles\[1\]` must be a SMILES string"):
        validity_reward(["CCO", None])
    with pytest.raises(TypeError, match=r"`smiles` must be a sequence of SMILES strings"):
        molecule_properties(np.arange(3))
    with pytest.raises(TypeError, match=r"`smiles` must be a SMILES string \(str\)"):
        canonical_smiles(42)
    # lists of Python ints are token ids too, not SMILES
    with pytest.raises(TypeError, match=r"`smiles\[0\]` must be a SMILES string"):
        ChemReward()([3, 4, 5])
    assert ChemReward()([]).shape == (0,)  # an empty batch is a valid, empty result


def test_uncached_path_builds_no_canonical_smiles_and_agrees():
    smiles = MOLS + ["OCC", "CCO", "", "C1CC"]
    plain = molecule_properties(smiles, ["qed", "sa", "logp"])
    cached = molecule_properties(smiles, ["qed", "sa", "logp"], cache=PropertyCache())
    assert plain.canonical is None and cached.canonical is not None
    for name in ("qed", "sa", "logp"):  # atom order of the parsed spelling: rounding only
        np.testing.assert_allclose(plain[name], cached[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(plain.valid, cached.valid)
