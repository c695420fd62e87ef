"""Reproductions for ``sciddm reproduce chem``: metric reports of real molecule sets.

RDKit is imported inside the experiments, so registering them needs nothing optional.
"""

from __future__ import annotations

import time

import numpy as np

from sciddm.reproduce import Context, register


def _sample(x: list[str], n: int, rng: np.random.Generator) -> list[str]:
    if n >= len(x):
        return list(x)
    return [x[i] for i in np.sort(rng.choice(len(x), size=n, replace=False))]


@register(
    "chem.known-values",
    description="QED and SA of reference molecules equal RDKit's own values.",
    quick={},
    full={},
    requires=("rdkit",),
)
def known_values(ctx: Context) -> None:
    from sciddm.chem import molecule_properties

    p = molecule_properties(["CC(=O)Oc1ccccc1C(=O)O"], ["qed", "sa", "sa_norm"])
    qed, sa = float(p["qed"][0]), float(p["sa"][0])
    ctx.claim(
        "QED of aspirin is 0.550",
        source="Bickerton et al. 2012 (QED) as implemented by rdkit.Chem.QED",
        measured=qed,
        expected=0.550,
        op="~=",
        tolerance=5e-4,
    )
    ctx.claim(
        "SA score of aspirin is 1.58",
        source="Ertl & Schuffenhauer 2009, RDKit Contrib SA_Score",
        measured=sa,
        expected=1.58,
        op="~=",
        tolerance=5e-3,
    )
    ctx.table(
        "aspirin",
        [{"qed": round(qed, 4), "sa": round(sa, 4), "sa_norm": round(float(p["sa_norm"][0]), 4)}],
    )


#: IntDiv and IntDiv2 of the MOSES training set in the paper's table (its "Train" row).
_TRAIN_INTDIV = 0.8567


@register(
    "chem.moses-report",
    description="MOSES metric table of a MOSES test sample and of NCI molecules against a "
    "disjoint test sample, beside the published MOSES baselines.",
    quick={"n_gen": 300, "n_ref": 500, "n_nci": 300, "n_train": 2000},
    full={"n_gen": 10000, "n_ref": 50000, "n_nci": 4999, "n_train": 200000},
    demo={"n_gen": 150, "n_ref": 250, "n_nci": 150, "n_train": 1000},
    requires=("rdkit", "moses", "fcd_torch"),
)
def moses_report(ctx: Context) -> None:
    from sciddm.chem import (
        MOSES_BASELINES_SOURCE,
        load_moses_test,
        molecule_report,
        moses_table_rows,
        read_moses_smiles,
        read_nci_smiles,
        reference_statistics,
    )

    p, rng = ctx.params, ctx.rng
    t0 = time.perf_counter()
    test = _sample(load_moses_test(), p["n_gen"] + p["n_ref"], rng)
    order = rng.permutation(len(test))
    gen = [test[i] for i in np.sort(order[: p["n_gen"]])]
    ref = reference_statistics([test[i] for i in np.sort(order[p["n_gen"] :])], name="MOSES test")
    train = read_moses_smiles("train", limit=p["n_train"])
    nci = _sample(read_nci_smiles(), p["n_nci"], rng)
    rep = molecule_report(gen, ref, train=train, rng=rng)
    rep_nci = molecule_report(nci, ref, train=train, rng=rng)
    n = len(gen)
    ctx.table(
        f"MOSES metrics against {ref.n} test molecules (MOSES baselines: full test set, "
        "30,000 samples)",
        moses_table_rows({f"MOSES test sample ({n})": rep, f"NCI sample ({len(nci)})": rep_nci}),
    )
    ctx.table(
        "property distances (W1) to the reference",
        [
            {"set": "MOSES test sample", **{k: round(v, 4) for k, v in rep.wasserstein.items()}},
            {"set": "NCI sample", **{k: round(v, 4) for k, v in rep_nci.wasserstein.items()}},
        ],
    )
    src = "Polykovskiy et al. 2020 (MOSES)"
    ctx.claim("every MOSES SMILES parses with current RDKit", source=src,
              measured=rep.validity, expected=1.0, op=">=")  # fmt: skip
    ctx.claim(
        "MOSES molecules pass the MOSES filters (MCF, PAINS, atoms, charges, rings)",
        source=f"{src}, data set construction", measured=rep.filters, expected=0.99, op=">=",
    )  # fmt: skip
    ctx.claim(
        "unfiltered NCI compounds fail the MOSES filters more often than MOSES molecules",
        source="Baell & Holloway 2010; MOSES filtering", measured=rep_nci.filters,
        expected=rep.filters - 0.1, op="<=",
    )  # fmt: skip
    expect = (1 - 1 / n) * _TRAIN_INTDIV  # the 1/n self-pairs of a sample of n molecules
    ctx.claim(
        "IntDiv1 of a MOSES sample is the paper's Train-row 0.8567, less its 1/n self-pairs "
        "(tolerance 0.01: sampling error)",
        source=f"{src}, baseline table, Train row", measured=rep.internal_diversity_1,
        expected=expect, op="~=", tolerance=0.01,
    )  # fmt: skip
    ctx.claim(
        "test and train are disjoint random splits: every test molecule is novel",
        source=f"{src}, data split", measured=rep.novelty, expected=1.0, op=">=",
    )  # fmt: skip
    assert rep.fcd is not None and rep_nci.fcd is not None
    ctx.claim(
        "FCD separates libraries: a MOSES sample is at most 0.6 x as far from the MOSES "
        "reference as an NCI sample of the same size (both carry the small-sample bias)",
        source="Preuer et al. 2018 (FCD)", measured=rep.fcd, expected=0.6 * rep_nci.fcd,
        op="<=",
    )  # fmt: skip
    ctx.claim(
        "test and reference are random draws of one split: the QED distribution of the "
        "MOSES sample is at most half as far (W1) from the reference as NCI's",
        source=f"{src} (random split)", measured=rep.wasserstein["qed"],
        expected=0.5 * rep_nci.wasserstein["qed"], op="<=",
    )  # fmt: skip
    fig = rep.plot()[0].figure
    fig.suptitle("MOSES test sample vs MOSES test reference", y=1.04)
    ctx.figure(fig, "moses_properties")
    ctx.note(
        f"{n} generated-like molecules (a MOSES test sample standing in for a perfect "
        f"model), {ref.n} reference molecules, {len(train)} training molecules for novelty, "
        f"in {time.perf_counter() - t0:.1f} s. FCD and SNN depend on the set sizes (FCD "
        "has a positive bias that falls as 1/n; SNN rises with the reference size), so "
        "the MOSES rows (30,000 samples against the 176,074-molecule test set) are "
        f"comparable only at --full sizes. Baselines: {MOSES_BASELINES_SOURCE}"
    )


@register(
    "chem.nci-report",
    description="RDKit's NCI sample against MOSES: PAINS hits and novelty.",
    quick={"n_nci": 400, "n_moses": 400, "n_train": 2000},
    full={"n_nci": 4999, "n_moses": 4999, "n_train": 200000},
    requires=("rdkit", "moses"),
)
def nci_report(ctx: Context) -> None:
    from sciddm.chem import novelty, pains_pass_rate, read_moses_smiles, read_nci_smiles

    p, rng = ctx.params, ctx.rng
    nci = _sample(read_nci_smiles(), p["n_nci"], rng)
    train = read_moses_smiles("train", limit=p["n_train"])
    moses = _sample(train, p["n_moses"], rng)
    pains = [pains_pass_rate(nci), pains_pass_rate(moses)]
    novel = [novelty(nci, train), novelty(moses, train)]
    rows = [
        {"set": name, "n": len(x), "PAINS pass": round(pa, 4), "novelty vs MOSES train": round(nv, 4)}
        for name, x, pa, nv in (("NCI", nci, pains[0], novel[0]), ("MOSES train", moses, pains[1], novel[1]))
    ]  # fmt: skip
    ctx.table("NCI sample vs MOSES train sample", rows)
    ctx.claim(
        "unfiltered NCI compounds fail PAINS more often than the PAINS-filtered MOSES set",
        source="Baell & Holloway 2010; MOSES dataset filtering",
        measured=pains[0],
        expected=pains[1],
        op="<=",
    )
    ctx.claim(
        "NCI molecules are novel with respect to MOSES train (different libraries)",
        source="sciddm check of novelty on disjoint libraries",
        measured=novel[0],
        expected=0.95,
        op=">=",
    )
    ctx.claim(
        "a MOSES train sample has novelty 0 against the train set it was drawn from",
        source="definition of novelty (Polykovskiy et al. 2020)",
        measured=novel[1],
        expected=0.0,
        op="<=",
    )
