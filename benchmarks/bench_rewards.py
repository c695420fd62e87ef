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


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_chem(n: int, n_jobs: int, repeats: int) -> None:
    from rdkit import Chem
    from rdkit.Chem import QED

    from sciddm.chem import ChemReward, PropertyCache, read_moses_smiles
    from sciddm.chem._props import _sascorer

    smiles = read_moses_smiles("test", limit=n)
    sascorer = _sascorer()

    def reference() -> np.ndarray:
        out = np.empty(len(smiles))
        for i, s in enumerate(smiles):
            mol = Chem.MolFromSmiles(s)
            out[i] = QED.qed(mol) + (10 - sascorer.calculateScore(mol)) / 9
        return out

    ref_vals = reference()
    t_ref = _median_time(reference, 1)
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
    print(f"{'method':<44}{'time (s)':>10}{'mol/s':>12}{'vs ref':>9}")
    for name, t in rows:
        print(f"{name:<44}{t:>10.3f}{n / t:>12.0f}{t_ref / t:>8.2f}x")


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

    def bio_loop(sub: list[str]) -> np.ndarray:
        return np.array([max(pssm.calculate(s).max(), rc.calculate(s).max()) for s in sub])

    sub = seqs[:n_bio]
    t_bio = _median_time(lambda: bio_loop(sub), 1) * (n / n_bio)
    ours = pwm_scores(seqs, motif)
    assert np.allclose(ours[:n_bio], bio_loop(sub), atol=1e-4)
    t_ours = _median_time(lambda: pwm_scores(seqs, motif), repeats)
    four = ["MA0114.4", "MA0046.3", "MA0047.4", "MA0466.4"]
    t_four = _median_time(lambda: pwm_scores(seqs, four), repeats)
    scale = "" if n_bio == n else f" (Biopython timed on {n_bio}, scaled)"
    print(f"\nBest two-strand HNF4A (MA0114.4) score of {n} x {length} bp{scale}")
    print(f"{'method':<44}{'time (s)':>10}{'seq/s':>12}{'vs ref':>9}")
    for name, t in [
        ("Biopython per-sequence loop (reference)", t_bio),
        ("sciddm pwm_scores (numpy k-mer tables)", t_ours),
        ("sciddm pwm_scores, 4 motifs at once", t_four / 4),
    ]:
        print(f"{name:<44}{t:>10.3f}{n / t:>12.0f}{t_bio / t:>8.1f}x")
    print("(4-motif row: time per motif)")


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
