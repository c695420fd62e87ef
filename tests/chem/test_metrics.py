"""The MOSES metrics against independent computations (RDKit's own Tanimoto on MOSES's
fingerprint call, scipy's cosine and Wasserstein, fcd_torch's FCD) on small sets."""

import math
import warnings
from collections import Counter

import numpy as np
import pytest

from sciddm.chem import (
    MOSES_BASELINES,
    MOSES_COLUMNS,
    filters_pass_rate,
    fragment_similarity,
    internal_diversity,
    load_moses_test,
    molecule_report,
    moses_table,
    moses_table_rows,
    nearest_neighbour_similarity,
    novelty,
    pains_pass_rate,
    plot_property_histograms,
    property_distances,
    reference_statistics,
    scaffold_similarity,
    tanimoto_matrix,
    uniqueness,
    validity,
)

Chem = pytest.importorskip("rdkit.Chem")
from rdkit import DataStructs  # noqa: E402
from rdkit.Chem import QED, AllChem, Crippen, Descriptors  # noqa: E402
from rdkit.Chem.Scaffolds import MurckoScaffold  # noqa: E402

GEN = ["CCOC(=O)c1ccccc1", "c1ccc2ccccc2c1", "CCN(CC)C(=O)c1cccnc1", "OCC", "CCO",
       "Cc1ccc(-c2ccccc2)cc1", "C1CCNCC1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "C1CC", ""]  # fmt: skip
REF = ["CC(=O)Nc1ccc(O)cc1", "c1ccc(-c2ccccc2)cc1", "CCOC(=O)c1ccccc1N", "CCCCO",
       "O=C(O)c1ccccc1O", "c1ccc2[nH]ccc2c1", "CCN1CCCC1"]  # fmt: skip


def _valid(smiles):
    out = []
    for s in smiles:
        m = Chem.MolFromSmiles(s) if s else None
        if m is not None:
            out.append(Chem.MolToSmiles(m))
    return out


def _moses_fps(smiles):  # MOSES's fingerprint call
    return [
        AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(s), 2, nBits=1024) for s in smiles
    ]


def test_validity_uniqueness_novelty_hand_made():
    gen = ["CCO", "OCC", "C(O)C", "c1ccccc1", "CCN", "C1CC", "", "xx"]
    # valid: 5 of 8; distinct: ethanol, benzene, ethylamine
    assert validity(gen) == 5 / 8
    assert uniqueness(gen) == 3 / 5
    assert uniqueness(gen, k=3) == 1 / 3  # the first three valid are all ethanol
    assert uniqueness(gen, k=4) == 2 / 4
    assert uniqueness(gen, k=10_000) == 3 / 5  # fewer valid than k: all of them
    assert novelty(gen, ["OCC", "c1ccccc1"]) == 1 / 3
    assert novelty(gen, []) == 1.0
    with pytest.raises(ValueError, match="`smiles` holds 0 valid molecule"):
        uniqueness(["", "C1CC"])
    with pytest.raises(ValueError, match="`smiles` must hold at least one SMILES"):
        validity([])


@pytest.mark.parametrize("p", [1, 2])
def test_internal_diversity_is_moses_definition(p):
    valid = _valid(GEN)
    fps = _moses_fps(valid)
    t = np.array([DataStructs.BulkTanimotoSimilarity(f, fps) for f in fps])
    expect = 1 - np.mean(np.mean(t**p, axis=1) ** (1 / p))  # all ordered pairs
    assert internal_diversity(GEN, p=p) == pytest.approx(expect, abs=1e-12)
    assert internal_diversity(["CCO", "OCC", "C(C)O"], p=p) == 0.0
    assert internal_diversity(["C", "[Ne]"], p=p) == pytest.approx(1 - 0.5 ** (1 / p))


def test_snn_tanimoto_frag_scaf_against_independent_code():
    from scipy.spatial.distance import cosine

    gv, rv = _valid(GEN), _valid(REF)
    gf, rf = _moses_fps(gv), _moses_fps(rv)
    t = np.array([DataStructs.BulkTanimotoSimilarity(f, rf) for f in gf])
    np.testing.assert_allclose(tanimoto_matrix(gv, rv), t, atol=1e-12)
    assert nearest_neighbour_similarity(GEN, REF) == pytest.approx(t.max(axis=1).mean())

    def vec(a, b):
        keys = sorted(set(a) | set(b))
        return [a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]

    def frag(smiles):
        c = Counter()
        for s in smiles:
            c.update(
                Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(Chem.MolFromSmiles(s))).split(".")
            )
        return c

    def scaf(smiles):
        c = Counter()
        for s in smiles:
            sc = MurckoScaffold.GetScaffoldForMol(Chem.MolFromSmiles(s))
            if sc.GetRingInfo().NumRings() >= 2:
                c[Chem.MolToSmiles(sc)] += 1
        return c

    assert fragment_similarity(GEN, REF) == pytest.approx(1 - cosine(*vec(frag(gv), frag(rv))))
    assert scaffold_similarity(GEN, REF) == pytest.approx(1 - cosine(*vec(scaf(gv), scaf(rv))))
    with pytest.raises(ValueError, match="`a` holds invalid SMILES at index 1"):
        tanimoto_matrix(["CCO", "C1CC"])


def test_filters_and_pains():
    # pass: an ether; fail: an aldehyde (MCF), a charge, a 9-ring, silicon, a quinone (PAINS)
    smiles = ["CCOc1ccccc1", "CC=O", "C[N+](C)(C)C", "C1CCCCCCCC1", "C[Si](C)(C)C",
              "O=C1C=CC(=O)C=C1"]  # fmt: skip
    assert filters_pass_rate(smiles) == pytest.approx(1 / 6)
    assert filters_pass_rate(smiles[:1] + ["", "C1CC"]) == 1.0  # invalid ones dropped
    assert pains_pass_rate(["CCO", "O=C1C=CC(=O)C=C1", "", "CCCC"]) == pytest.approx(2 / 3)
    # MOSES molecules were selected by these filters
    test = load_moses_test(200, rng=0)
    assert filters_pass_rate(test) >= 0.99


def test_property_distances_are_scipy_wasserstein():
    from scipy.stats import wasserstein_distance

    d = property_distances(GEN, REF)
    gv, rv = _valid(GEN), _valid(REF)
    for name, fn in (("logp", Crippen.MolLogP), ("qed", QED.qed), ("mw", Descriptors.MolWt)):
        a = [fn(Chem.MolFromSmiles(s)) for s in gv]
        b = [fn(Chem.MolFromSmiles(s)) for s in rv]
        assert d[name] == pytest.approx(wasserstein_distance(a, b))
    d = property_distances(["CCO", "CCCO"], ["CCO"], properties=["heavy_atoms"])
    assert d["heavy_atoms"] == pytest.approx(0.5)  # W1 between {3, 4} and {3}


def test_report_fcd_equals_fcd_torch_and_metrics_agree():
    fcd_torch = pytest.importorskip("fcd_torch")
    gen = load_moses_test(40, rng=1) + ["C1CC", "not a smiles"]
    ref = load_moses_test(60, rng=2)
    rep = molecule_report(gen, ref, train=ref[:10], k=(10, 1000), rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fcd_torch uses deprecated numpy/scipy spellings
        direct = fcd_torch.FCD(device="cpu", n_jobs=1)(ref, _valid(gen))
    assert rep.fcd == pytest.approx(direct, rel=1e-6)
    assert rep.validity == pytest.approx(40 / 42)
    assert rep.snn == pytest.approx(nearest_neighbour_similarity(gen, ref))
    assert rep.internal_diversity_2 == pytest.approx(internal_diversity(gen, p=2))
    assert rep.frag == pytest.approx(fragment_similarity(gen, ref))
    assert rep.scaf == pytest.approx(scaffold_similarity(gen, ref))
    assert rep.unique_at == {10: 1.0, 1000: 1.0}
    assert rep.novelty == 1.0 and rep.filters == pytest.approx(filters_pass_rate(gen))
    assert rep.wasserstein == pytest.approx(property_distances(gen, ref))
    # precomputed reference statistics give the same report
    stats = reference_statistics(ref, name="MOSES test")
    again = molecule_report(gen, stats, train=ref[:10], k=(10, 1000), rng=0)
    assert again.fcd == pytest.approx(rep.fcd, rel=1e-12) and again.reference == "MOSES test"


def test_report_without_reference_or_valid_molecules_and_plot():
    rep = molecule_report(["CCO", "OCC", "c1ccccc1", "CCN", "C1CC"], fcd=False)
    assert rep.validity == 0.8 and rep.uniqueness == 0.75
    assert math.isnan(rep.novelty) and math.isnan(rep.snn) and rep.fcd is None
    none = molecule_report(["C1CC", ""], ["CCO", "CCC"], fcd=False)
    assert none.validity == 0.0 and math.isnan(none.uniqueness) and math.isnan(none.snn)
    rep = molecule_report(GEN, REF, fcd=False)
    axes = plot_property_histograms(rep)
    assert len(axes) == 4 and axes[0].get_title().startswith("logP (W1 = ")
    assert rep.to_dict()["n"] == len(GEN)
    with pytest.raises(TypeError, match="`report` must be a MoleculeReport"):
        plot_property_histograms({"logp": 1})


def test_moses_baselines_and_table():
    # spot checks of the published figures (Polykovskiy et al. 2020)
    assert MOSES_BASELINES["CharRNN"]["FCD"] == (0.0732, 0.0247)
    assert MOSES_BASELINES["JTN-VAE"]["Valid"] == (1.0, 0.0)
    assert MOSES_BASELINES["LatentGAN"]["Novelty"] == (0.9498, 0.0006)
    assert set(MOSES_BASELINES) == {"Train", "CharRNN", "VAE", "AAE", "JTN-VAE", "LatentGAN"}
    assert all(set(v) == set(MOSES_COLUMNS) for v in MOSES_BASELINES.values())
    rep = molecule_report(GEN, REF, fcd=False)
    rows = moses_table_rows({"toy": rep})
    assert [r["model"] for r in rows][-1] == "toy" and len(rows) == 7
    assert rows[-1]["Valid"] == f"{rep.validity:.4f}" and rows[-1]["FCD"] == "-"
    text = moses_table({"toy": rep})
    assert text.count("\n|") == 8 and "Polykovskiy" in text  # separator + 7 rows
    with pytest.raises(ValueError, match="`baselines` entries must be among"):
        moses_table_rows({}, baselines=["GPT"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="`p` must be in"):
        internal_diversity(["CCO", "CCN"], p=0.5)
    with pytest.raises(TypeError, match="`smiles` must be a sequence of SMILES strings"):
        uniqueness("CCO")
    with pytest.raises(TypeError, match=r"`smiles\[0\]` must be a SMILES string \(str\)"):
        validity([b"CCO"])
    with pytest.raises(ValueError, match="`k` must be an integer >= 1"):
        molecule_report(["CCO"], k=(0,))
