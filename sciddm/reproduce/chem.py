"""Reproductions for ``sciddm reproduce chem``: metric reports of real molecule sets.

RDKit is imported inside the experiments, so registering them needs nothing optional.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sciddm.reproduce import Context, register

_ROW_KEYS = (
    "validity",
    "uniqueness",
    "novelty",
    "internal_diversity_1",
    "internal_diversity_2",
    "filters",
    "snn",
)


def _row(name: str, rep: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"set": name, "n": rep.n}
    row.update({k: round(float(getattr(rep, k)), 4) for k in _ROW_KEYS})
    row.update({f"W1 {k}": round(v, 4) for k, v in rep.wasserstein.items()})
    row.update({f"mean {k}": round(v, 3) for k, v in rep.property_means.items()})
    return row


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


@register(
    "chem.moses-report",
    description="Metric report of a MOSES test sample against a MOSES train sample.",
    quick={"n_test": 600, "n_train": 2000, "max_molecules": 600},
    full={"n_test": 10000, "n_train": 100000, "max_molecules": 5000},
    requires=("rdkit", "moses"),
)
def moses_report(ctx: Context) -> None:
    from sciddm.chem import molecule_report, read_moses_smiles

    p, rng = ctx.params, ctx.rng
    t0 = time.perf_counter()
    test = _sample(read_moses_smiles("test"), p["n_test"], rng)
    train = _sample(read_moses_smiles("train"), p["n_train"], rng)
    rep = molecule_report(test, train, max_molecules=p["max_molecules"], rng=rng)
    ctx.table(
        "MOSES test sample vs train sample (Morgan r=2, 1024 bits)", [_row("MOSES test", rep)]
    )
    ctx.claim(
        "MOSES molecules were filtered with PAINS: (almost) all pass",
        source="Polykovskiy et al. 2020 (MOSES), dataset section",
        measured=rep.filters,
        expected=0.99,
        op=">=",
    )
    ctx.claim(
        "internal diversity IntDiv1 of MOSES data is about 0.85-0.86",
        source="MOSES benchmark table (IntDiv of models 0.850-0.856, train set 0.857)",
        measured=rep.internal_diversity_1,
        expected=[0.84, 0.87],
        op="in",
    )
    ctx.claim(
        "test and train are random splits: QED distributions agree (W1)",
        source="Polykovskiy et al. 2020 (random split)",
        measured=rep.wasserstein["qed"],
        expected=0.02,
        op="<=",
    )
    ctx.claim(
        "every MOSES SMILES parses with current RDKit",
        source="Polykovskiy et al. 2020",
        measured=rep.validity,
        expected=1.0,
        op=">=",
    )
    fig = rep.plot()[0].figure
    fig.suptitle("MOSES test vs train", y=1.04)
    ctx.figure(fig, "moses_properties")
    ctx.note(
        f"{len(test)} test and {len(train)} train molecules in "
        f"{time.perf_counter() - t0:.1f} s. IntDiv uses distinct pairs (MOSES includes the "
        "diagonal; the difference is below 1e-3 at this size)."
    )


@register(
    "chem.nci-report",
    description="Metric report of RDKit's NCI sample against MOSES (a filtered set).",
    quick={"n_nci": 600, "n_train": 1500, "max_molecules": 600},
    full={"n_nci": 4999, "n_train": 50000, "max_molecules": 4999},
    requires=("rdkit", "moses"),
)
def nci_report(ctx: Context) -> None:
    from sciddm.chem import molecule_report, read_moses_smiles, read_nci_smiles

    p, rng = ctx.params, ctx.rng
    nci = _sample(read_nci_smiles(), p["n_nci"], rng)
    train = _sample(read_moses_smiles("train"), p["n_train"], rng)
    rep = molecule_report(nci, train, max_molecules=p["max_molecules"], rng=rng)
    ref = molecule_report(train[: p["n_nci"]], None, max_molecules=p["max_molecules"], rng=rng)
    ctx.table("NCI sample vs MOSES train sample", [_row("NCI", rep), _row("MOSES train", ref)])
    ctx.claim(
        "unfiltered NCI compounds fail PAINS more often than the PAINS-filtered MOSES set",
        source="Baell & Holloway 2010; MOSES dataset filtering",
        measured=rep.filters,
        expected=ref.filters,
        op="<=",
    )
    ctx.claim(
        "NCI molecules are novel with respect to MOSES train (different libraries)",
        source="sciddm check of novelty on disjoint libraries",
        measured=rep.novelty,
        expected=0.95,
        op=">=",
    )
    fig = rep.plot()[0].figure
    fig.suptitle("NCI vs MOSES train", y=1.04)
    ctx.figure(fig, "nci_properties")
    ctx.note(
        "NCI's property distributions differ from MOSES (see the W1 columns): a model "
        "trained on one would be judged far from the other."
    )
