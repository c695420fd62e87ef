"""QED and SA of sciddm equal RDKit's own bit for bit (``QED.qed``, Contrib ``sascorer``).

sciddm computes them with less redundant work (sciddm/chem/_scores.py); these tests fail
if any value moves by one ulp.
"""

import numpy as np
import pytest

from sciddm.chem import ChemReward, molecule_properties, read_moses_smiles
from sciddm.chem._scores import _sascorer, n_chiral_centres, qed_of_mol, sa_of_mol

Chem = pytest.importorskip("rdkit.Chem")
from rdkit.Chem import QED  # noqa: E402

# Molecules that exercise the edge cases: explicit and lone hydrogens, dummy atoms,
# isotopes, salts, metals, stereo centres (assigned, unassigned, dependent), macro-,
# spiro and bridged rings, and many of QED's structural alerts.
EDGE = [
    "[H]", "[HH]", "*", "[H]C([H])([H])[H]", "[2H]C", "[13CH4]", "[15NH3]",
    "C[C@H](F)C(F)(Cl)Br", "C1CC(C)C(C)C(C)C1", "C[C@@H]1CC[C@H](C)CC1", "F/C=C/F",
    "[NH4+].[Cl-]", "[Na+].[O-]C=O", "[Fe]", "I", "P(=O)(O)(O)O", "N#N", "C#C",
    "C1CCCCCCCCCCC1", "C12CC1C2", "C1CC2CCC1C2", "C1CCC2(CC1)CCCC2",
    "c1ccc2c(c1)ccc(=O)o2", "O=C1C=CC(=O)C=C1", "C1OC1", "CC(=O)Cl", "CCS(=O)(=O)OC",
    "O=[N+]([O-])c1ccccc1", "Nc1ccc(N)cc1", "CC=NO", "OO", "SS", "C=C=O", "N=C=O",
    "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "c1ccc2ccccc2c1", "CCCCCCCCCCCCCCCC(=O)O",
]  # fmt: skip


@pytest.fixture(scope="module")
def smiles():
    return read_moses_smiles("test", limit=300) + EDGE


def _plain_loop(smiles):
    """The reference of benchmarks/bench_rewards.py: one parse, QED.qed, then sascorer."""
    sascorer = _sascorer()
    qed, sa = [], []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        qed.append(QED.qed(mol))
        sa.append(sascorer.calculateScore(mol))
    return np.array(qed), np.array(sa)


def test_reward_equals_plain_rdkit_loop_bit_for_bit(smiles):
    qed, sa = _plain_loop(smiles)
    expect = qed + (10 - sa) / 9
    got = ChemReward({"qed": 1, "sa": 1}, cache=False)(smiles)
    np.testing.assert_array_equal(got, expect)
    p = molecule_properties(smiles, ["qed", "sa", "sa_norm"])
    np.testing.assert_array_equal(p["qed"], qed)
    np.testing.assert_array_equal(p["sa"], sa)
    np.testing.assert_array_equal(p["sa_norm"], (10.0 - sa) / 9.0)


def test_property_order_does_not_change_values(smiles):
    # SA re-assigns stereo flags in place; QED is computed first whatever the order
    a = molecule_properties(smiles, ["sa", "qed", "logp"])
    b = molecule_properties(smiles, ["logp", "qed", "sa"])
    for name in ("qed", "sa", "logp"):
        np.testing.assert_array_equal(a[name], b[name])


def test_single_molecule_helpers_equal_rdkit(smiles):
    sascorer = _sascorer()
    for s in smiles[::7]:
        ref = Chem.MolFromSmiles(s)
        mol = Chem.MolFromSmiles(s)
        assert qed_of_mol(mol) == QED.qed(ref)
        expect = len(Chem.FindMolChiralCenters(Chem.Mol(ref), includeUnassigned=True))
        assert n_chiral_centres(Chem.Mol(mol)) == expect
        assert sa_of_mol(mol) == sascorer.calculateScore(ref)


def test_sa_equals_sascorer_with_new_stereo_perception(smiles):
    sascorer = _sascorer()
    legacy = Chem.GetUseLegacyStereoPerception()
    try:
        Chem.SetUseLegacyStereoPerception(False)
        for s in smiles[::3]:
            assert sa_of_mol(Chem.MolFromSmiles(s)) == sascorer.calculateScore(
                Chem.MolFromSmiles(s)
            )
    finally:
        Chem.SetUseLegacyStereoPerception(legacy)


def test_structural_alerts_are_counted(smiles):
    # the alert count is where the shortcut differs most from QED.properties: a molecule
    # with alerts must have exactly RDKit's count, so QED moves if one is missed
    counts = []
    for s in smiles:
        mol = Chem.RemoveHs(Chem.MolFromSmiles(s))
        counts.append(QED.properties(mol).ALERTS)
    assert max(counts) >= 2 and sum(c > 0 for c in counts) >= 20
