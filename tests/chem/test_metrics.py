import math

import numpy as np
import pytest

from sciddm.chem import (
    internal_diversity,
    molecule_report,
    nearest_neighbour_similarity,
    novelty,
    pains_pass_rate,
    property_distances,
    tanimoto_matrix,
    uniqueness,
    validity,
)

Chem = pytest.importorskip("rdkit.Chem")
from rdkit import DataStructs  # noqa: E402
from rdkit.Chem import rdFingerprintGenerator  # noqa: E402


def test_validity_uniqueness_novelty_hand_made():
    gen = ["CCO", "OCC", "C(O)C", "c1ccccc1", "CCN", "C1CC", "", "xx"]
    # valid: 5 of 8; distinct: ethanol, benzene, ethylamine
    assert validity(gen) == 5 / 8
    assert uniqueness(gen) == 3 / 5
    assert novelty(gen, ["OCC", "c1ccccc1"]) == 1 / 3
    assert novelty(gen, []) == 1.0
    assert math.isnan(uniqueness(["", "C1CC"]))


def test_internal_diversity_against_direct_tanimoto():
    smiles = ["CCO", "c1ccccc1", "CCN", "CC(=O)O", "c1ccncc1"]
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    sims = [
        DataStructs.TanimotoSimilarity(fps[i], fps[j]) for i in range(5) for j in range(i + 1, 5)
    ]
    assert internal_diversity(smiles) == pytest.approx(1 - np.mean(sims))
    assert internal_diversity(smiles, p=2) == pytest.approx(1 - np.sqrt(np.mean(np.square(sims))))
    # identical molecules: zero diversity; disjoint fingerprints: one
    assert internal_diversity(["CCO", "OCC", "C(C)O"]) == 0.0
    assert internal_diversity(["C", "[Ne]"]) == 1.0


def test_tanimoto_and_snn():
    t = tanimoto_matrix(["CCO", "CCN"], ["CCO", "[Ne]"])
    assert t[0, 0] == 1.0 and t[0, 1] == 0.0 and 0 < t[1, 0] < 1
    assert nearest_neighbour_similarity(["OCC", "[Ne]"], ["CCO", "CCC"]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="`a` holds invalid SMILES at index 1"):
        tanimoto_matrix(["CCO", "C1CC"])


def test_pains_and_distances():
    # p-benzoquinone (quinone_A) and a catechol are PAINS hits; ethanol is not
    assert pains_pass_rate(["CCO", "O=C1C=CC(=O)C=C1", "", "CCCC"]) == pytest.approx(2 / 3)
    d = property_distances(["CCO", "CCCO"], ["CCO"], properties=["heavy_atoms"])
    assert d["heavy_atoms"] == pytest.approx(0.5)  # W1 between {3, 4} and {3}


def test_report_and_plot():
    gen = ["CCO", "OCC", "c1ccccc1", "CCN", "C1CC"]
    rep = molecule_report(gen, ["CCO", "CCCC"], rng=0)
    assert rep.validity == 0.8 and rep.uniqueness == 0.75 and rep.novelty == pytest.approx(2 / 3)
    assert rep.fcd is None  # fcd_torch is not installed here
    assert set(rep.wasserstein) == {"logp", "sa", "qed", "mw"}
    axes = rep.plot()
    assert len(axes) == 4
    d = rep.to_dict()
    assert d["n"] == 5
    no_ref = molecule_report(gen, pains=False)
    assert math.isnan(no_ref.novelty) and math.isnan(no_ref.pains_pass_rate)


def test_fcd_needs_fcd_torch():
    import importlib.util

    if importlib.util.find_spec("fcd_torch") is not None:
        pytest.skip("fcd_torch is installed")
    from sciddm.chem import fcd

    with pytest.raises(ImportError, match=r"sciddm\[chem\]"):
        fcd(["CCO"], ["CCO"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="`p` must be in"):
        internal_diversity(["CCO", "CCN"], p=0.5)
    with pytest.raises(ValueError, match="`smiles` must be a sequence"):
        uniqueness("CCO")
