"""The LSD experiments (sciddm.reproduce.discrete_lsd) at tiny sizes."""

import collections

import numpy as np
import pytest

from sciddm.reproduce import get_registry, run_experiment
from sciddm.reproduce.discrete_lsd import kmer_distance, mmd


def test_toy_experiment_runs_at_tiny_size(tmp_path):
    exp = get_registry()["discrete.lsd.toy"]
    assert exp.in_demo and tuple(exp.params("demo")["steps"]) == (2, 4, 8)
    tiny = {"steps": (2,), "iterations": 20, "batch": 16, "n_teacher": 256, "n_chi2": 3000}
    run = run_experiment(exp, mode="quick", params=tiny, figure_dir=tmp_path, raise_errors=True)
    assert run.status == "ok"
    assert len(run.claims) == 1 + 1 + 4 + 1  # identity, ratio, {LSD, LSD+} x {TV, KL}, chi2
    ident = run.claims[0]
    assert ident.holds and ident.measured <= 1e-12  # exact: the identity is the ancestral chain
    assert run.claims[-1].holds  # samples follow lsd_law (chi-squared, level 1e-3, fixed seed)
    ((title, rows),) = run.tables
    assert "exact TV" in title and rows[0]["K"] == 2
    for key in ("ancestral TV", "lsd TV", "lsd+ TV", "ancestral KL", "lsd+ KL"):
        assert np.isfinite(rows[0][key]) and rows[0][key] >= 0
    assert "tv_vs_steps" in run.figures


def test_kmer_distance_and_mmd_against_direct_computations():
    g = np.random.default_rng(0)
    a, b = g.integers(0, 3, size=(7, 5)), g.integers(0, 3, size=(6, 5))
    assert kmer_distance(a, a) == 0.0

    def spec(x):
        c = collections.Counter(tuple(r[i : i + 3]) for r in x.tolist() for i in range(3))
        return {k: v / sum(c.values()) for k, v in c.items()}

    sa, sb = spec(a), spec(b)
    tv = 0.5 * sum(abs(sa.get(k, 0) - sb.get(k, 0)) for k in set(sa) | set(sb))
    assert kmer_distance(a, b) == pytest.approx(tv, abs=1e-12)

    def k(x, y):
        d = np.mean(x != y)
        return sum(np.exp(-lam * d) for lam in (1.0, 4.0, 16.0))

    kaa = np.mean([k(a[i], a[j]) for i in range(7) for j in range(7) if i != j])
    kbb = np.mean([k(b[i], b[j]) for i in range(6) for j in range(6) if i != j])
    kab = np.mean([k(x, y) for x in a for y in b])
    assert mmd(a, b, 3) == pytest.approx(kaa + kbb - 2 * kab, abs=1e-12)


def test_smiles_experiment_runs_at_tiny_size():
    pytest.importorskip("rdkit")
    exp = get_registry()["discrete.lsd.smiles"]
    train = {**exp.params("quick")["train"], "steps": 3, "warmup_steps": 1}
    tiny = {"train": train, "teacher_steps": 50, "n_teacher": 16, "n_eval": 16,
            "steps": (2,), "iterations": 2, "batch": 4}  # fmt: skip
    run = run_experiment(exp, mode="quick", params=tiny, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 2  # 3-mer TV and MMD
    ((_, rows),) = run.tables
    assert [r["method"] for r in rows][1:] == ["ancestral", "lsd+"]
    assert all(0 <= r["validity"] <= 1 for r in rows)
    assert "quick:" in run.claims[0].claim  # the quick caveat is stated


def test_dna_experiment_runs_at_tiny_size():
    pytest.importorskip("logomaker")
    exp = get_registry()["discrete.lsd.dna"]
    train = {**exp.params("quick")["train"], "steps": 2, "warmup_steps": 1, "limit": 200}
    tiny = {"train": train, "n_teacher": 4, "n_eval": 4, "steps": (2,), "iterations": 1,
            "batch": 2}  # fmt: skip
    run = run_experiment(exp, mode="quick", params=tiny, raise_errors=True)
    assert run.status == "ok" and len(run.claims) == 2
    ((_, rows),) = run.tables
    assert {"3-mer corr (data)", "3-mer TV", "MMD"} <= set(rows[1])
