"""Throughput of sciddm's molecule and DNA rewards against plain reference loops.

Part 1 — QED + normalised SA of MOSES SMILES:
    reference: a Python loop calling ``rdkit.Chem.QED.qed`` and RDKit Contrib ``sascorer``;
    sciddm:    ``ChemReward({"qed": 1, "sa": 1})`` without cache, with a cold cache on a
               batch holding duplicates, with a warm cache, and with a process pool.
Part 2 — best two-strand PWM log-odds of random 200-bp sequences:
    reference: a per-sequence Biopython loop (``pssm.calculate`` on both strands);
    sciddm:    ``pwm_scores`` (k-mer lookup tables, numpy), strings in, scores out.

Run ``python benchmarks/bench_rewards.py`` (10^4 SMILES, 10^5 sequences; a few
minutes on one core) or ``--quick`` for a smoke run. Times are medians over repeats;
the script prints molecules (sequences) per second and the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np


def _median_time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median CPU time of this process and median wall time of ``fn()``.

    CPU time is the fair measure for single-process code on a shared machine; the
    process-pool row is judged on wall time (its workers' CPU is not counted here).
    """
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def _print_rows(rows: list[tuple[str, tuple[float, float]]], n: int, unit: str) -> None:
    ref_cpu, ref_wall = rows[0][1]
    print(f"{'method':<46}{'cpu (s)':>9}{'wall (s)':>10}{unit + '/s (cpu)':>14}{'vs ref':>9}")
    for name, (cpu, wall) in rows:
        pooled = "processes" in name
        t, ref = (wall, ref_wall) if pooled else (cpu, ref_cpu)
        mark = " (wall)" if pooled else ""
        print(
            f"{name:<46}{cpu:>9.3f}{wall:>10.3f}{n / max(t, 1e-9):>14.0f}{ref / max(t, 1e-9):>8.1f}x{mark}"
        )


def bench_chem(n: int, n_jobs: int, repeats: int) -> None:
    from rdkit import Chem
    from rdkit.Chem import QED

    from sciddm.chem import ChemReward, PropertyCache, read_moses_smiles
    from sciddm.chem._props import _sascorer

    smiles = read_moses_smiles("test", limit=n)
    sascorer = _sascorer()

    out = np.empty(len(smiles))

    def reference() -> None:
        for i, s in enumerate(smiles):
            mol = Chem.MolFromSmiles(s)
            out[i] = QED.qed(mol) + (10 - sascorer.calculateScore(mol)) / 9

    t_ref = _median_time(reference, 1)
    ref_vals = out.copy()
    plain = ChemReward({"qed": 1, "sa": 1}, cache=False)
    assert np.allclose(plain(smiles[:200]), ref_vals[:200])
    t_plain = _median_time(lambda: plain(smiles), 1)
    # a generated batch with duplicates: half the batch repeats molecules
    half = smiles[: n // 2]
    dup_batch = half + half
    t_cold = _median_time(
        lambda: ChemReward({"qed": 1, "sa": 1}, cache=PropertyCache())(dup_batch), 1
    )
    warm = ChemReward({"qed": 1, "sa": 1})
    warm(smiles)
    t_warm = _median_time(lambda: warm(smiles), repeats)
    pool = ChemReward({"qed": 1, "sa": 1}, cache=False, n_jobs=n_jobs, parallel_threshold=1)
    pool(smiles[: 4 * n_jobs])  # start the workers
    assert np.allclose(pool(smiles[:500]), ref_vals[:500])
    t_pool = _median_time(lambda: pool(smiles), 1)
    rows = [
        ("RDKit loop (reference)", t_ref),
        ("ChemReward, no cache", t_plain),
        ("ChemReward, cold cache, 50 % duplicates", t_cold),
        ("ChemReward, warm cache", t_warm),
        (f"ChemReward, no cache, {n_jobs} processes", t_pool),
    ]
    print(f"\nQED + SA rewards of {n} MOSES SMILES")
    _print_rows(rows, n, "mol")


def bench_pwm(n: int, length: int, repeats: int, n_bio: int) -> None:
    from Bio import motifs as bio_motifs

    from sciddm.dna import load_jaspar, pwm_scores

    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(b"ACGT", dtype=np.uint8)
    codes = rng.integers(0, 4, size=(n, length))
    seqs = [row.tobytes().decode() for row in alphabet[codes]]
    motif = load_jaspar("MA0114.4")
    bm = bio_motifs.Motif(counts={b: list(motif.counts[i]) for i, b in enumerate("ACGT")})
    bm.pseudocounts = {b: motif.pseudocount * 0.25 for b in "ACGT"}
    pssm = bm.pssm
    rc = pssm.reverse_complement()

    bio = np.empty(n_bio)

    def bio_loop() -> None:
        for i, s in enumerate(seqs[:n_bio]):
            bio[i] = max(pssm.calculate(s).max(), rc.calculate(s).max())

    t_bio_cpu, t_bio_wall = _median_time(bio_loop, 1)
    t_bio = (t_bio_cpu * n / n_bio, t_bio_wall * n / n_bio)
    ours = pwm_scores(seqs, motif)
    assert np.allclose(ours[:n_bio], bio, atol=1e-4)
    t_ours = _median_time(lambda: pwm_scores(seqs, motif), repeats)
    four = ["MA0114.4", "MA0046.3", "MA0047.4", "MA0466.4"]
    t_four = _median_time(lambda: pwm_scores(seqs, four), repeats)
    scale = "" if n_bio == n else f" (Biopython timed on {n_bio}, scaled)"
    print(f"\nBest two-strand HNF4A (MA0114.4) score of {n} x {length} bp{scale}")
    rows = [
        ("Biopython per-sequence loop (reference)", t_bio),
        ("sciddm pwm_scores (numpy k-mer tables)", t_ours),
        ("sciddm pwm_scores, 4 motifs, per motif", (t_four[0] / 4, t_four[1] / 4)),
    ]
    _print_rows(rows, n, "seq")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--n-smiles", type=int, default=None)
    ap.add_argument("--n-seqs", type=int, default=None)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-chem", action="store_true")
    ap.add_argument("--skip-dna", action="store_true")
    args = ap.parse_args()
    n_smiles = args.n_smiles or (500 if args.quick else 10_000)
    n_seqs = args.n_seqs or (5_000 if args.quick else 100_000)
    if not args.skip_chem:
        bench_chem(n_smiles, args.n_jobs, args.repeats)
    if not args.skip_dna:
        bench_pwm(n_seqs, 200, args.repeats, n_bio=min(n_seqs, 100_000))


if __name__ == "__main__":
    main()
