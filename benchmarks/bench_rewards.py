"""Throughput of sciddm's molecule and DNA rewards against plain reference loops.

Part 1 — QED + normalised SA of MOSES SMILES:
    reference: a Python loop calling ``rdkit.Chem.QED.qed`` and RDKit Contrib ``sascorer``;
    sciddm:    ``ChemReward({"qed": 1, "sa": 1})`` without cache (the like-for-like row),
               with a cold cache on a batch holding duplicates, with a warm cache.
    The two single-process sides run interleaved, ``--repeats`` times each, and the CPU
    time medians are compared (fair on a shared machine).
Part 2 — process-pool break-even: wall time of ``ChemReward(cache=False)`` in one process
    against a warm ``--n-jobs`` pool, for batch sizes from 25 to ``--n-smiles``; the
    break-even is the smallest batch from which the pool is faster at every larger size.
    ``sciddm.chem.PARALLEL_THRESHOLD`` is set from this measurement.
Part 3 — best two-strand PWM log-odds of random 200-bp sequences:
    reference: a per-sequence Biopython loop (``pssm.calculate`` on both strands);
    sciddm:    ``pwm_scores`` (k-mer lookup tables, numpy), strings in, scores out.

Both sides run with the same thread settings, pinned to one BLAS/OpenMP thread
(threadpoolctl) and one torch thread; the script prints them. The last line is a
machine-readable summary, ``SUMMARY {json}``.

Run ``python benchmarks/bench_rewards.py`` (10^4 SMILES, 10^5 sequences; a few
minutes on one core) or ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

SUMMARY: dict[str, object] = {"bench": "rewards"}


def _threads() -> dict[str, object]:
    """Thread settings in force (environment, BLAS/OpenMP pools, torch)."""
    info: dict[str, object] = {
        k: os.environ.get(k, "unset")
        for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            f"{p.get('internal_api')}:{p.get('num_threads')}" for p in threadpool_info()
        ]
    except ImportError:  # pragma: no cover
        info["threadpools"] = "threadpoolctl missing"
    import torch

    info["torch_threads"] = torch.get_num_threads()
    info["cpus"] = os.cpu_count()
    info["machine"] = platform.processor() or platform.machine()
    return info


def _median_time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median CPU time of this process and median wall time of ``fn()``."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def _interleaved(fns: list[Callable[[], object]], repeats: int) -> list[tuple[float, float]]:
    """Median (cpu, wall) of each function, run in turns so that load hits all alike."""
    cpu: list[list[float]] = [[] for _ in fns]
    wall: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            cpu[i].append(time.process_time() - c0)
            wall[i].append(time.perf_counter() - w0)
    return [(statistics.median(c), statistics.median(w)) for c, w in zip(cpu, wall)]


def _print_rows(rows: list[tuple[str, tuple[float, float]]], n: int, unit: str) -> None:
    ref_cpu, _ = rows[0][1]
    print(f"{'method':<46}{'cpu (s)':>9}{'wall (s)':>10}{unit + '/s (cpu)':>14}{'vs ref':>9}")
    for name, (cpu, wall) in rows:
        print(
            f"{name:<46}{cpu:>9.3f}{wall:>10.3f}{n / max(cpu, 1e-9):>14.0f}"
            f"{ref_cpu / max(cpu, 1e-9):>8.2f}x"
        )


def bench_chem(n: int, repeats: int) -> None:
    from rdkit import Chem
    from rdkit.Chem import QED

    from sciddm.chem import ChemReward, PropertyCache, read_moses_smiles
    from sciddm.chem._scores import _sascorer

    smiles = read_moses_smiles("test", limit=n)
    sascorer = _sascorer()
    out = np.empty(len(smiles))

    def reference() -> None:
        for i, s in enumerate(smiles):
            mol = Chem.MolFromSmiles(s)
            out[i] = QED.qed(mol) + (10 - sascorer.calculateScore(mol)) / 9

    plain = ChemReward({"qed": 1, "sa": 1}, cache=False)
    reference()
    assert np.array_equal(plain(smiles), out), "sciddm must equal the RDKit loop bit for bit"
    t_ref, t_plain = _interleaved([reference, lambda: plain(smiles)], repeats)
    half = smiles[: n // 2]
    dup_batch = half + half  # a generated batch with duplicates: half of it repeats
    t_cold = _median_time(
        lambda: ChemReward({"qed": 1, "sa": 1}, cache=PropertyCache())(dup_batch), 1
    )
    warm = ChemReward({"qed": 1, "sa": 1})
    warm(smiles)
    t_warm = _median_time(lambda: warm(smiles), repeats)
    rows = [
        ("RDKit loop (reference)", t_ref),
        ("ChemReward, no cache", t_plain),
        ("ChemReward, cold cache, 50 % duplicates", t_cold),
        ("ChemReward, warm cache", t_warm),
    ]
    print(f"\nQED + SA rewards of {n} MOSES SMILES (median of {repeats}, interleaved)")
    _print_rows(rows, n, "mol")
    SUMMARY["chem_n"] = n
    SUMMARY["chem_nocache_vs_rdkit_loop"] = round(t_ref[0] / t_plain[0], 3)
    SUMMARY["chem_warm_cache_vs_rdkit_loop"] = round(t_ref[0] / max(t_warm[0], 1e-9), 1)


def bench_pool(n_max: int, n_jobs: int, repeats: int) -> None:
    from sciddm.chem import PARALLEL_THRESHOLD, ChemReward, read_moses_smiles

    smiles = read_moses_smiles("test", limit=n_max)
    serial = ChemReward({"qed": 1, "sa": 1}, cache=False)
    pool = ChemReward({"qed": 1, "sa": 1}, cache=False, n_jobs=n_jobs, parallel_threshold=1)
    pool(smiles[: 8 * n_jobs])  # start the workers (a one-off cost, not counted)
    all_sizes = (25, 50, 100, 250, 500, 1000, 2000, 4000, 8000, 16000)
    sizes = [s for s in all_sizes if s <= n_max] or [n_max]
    print(f"\nProcess pool ({n_jobs} workers, warm) against one process, wall time")
    print(f"{'batch':>8}{'1 process (s)':>15}{f'{n_jobs} processes (s)':>17}{'speed-up':>10}")
    break_even = None
    table = {}
    for size in sizes:
        batch = smiles[:size]
        (_, w1), (_, wp) = _interleaved(
            [lambda b=batch: serial(b), lambda b=batch: pool(b)], repeats
        )
        table[size] = round(w1 / wp, 3)
        print(f"{size:>8}{w1:>15.3f}{wp:>17.3f}{w1 / wp:>9.2f}x")
        if wp >= w1:
            break_even = None  # the pool must win at this size and every larger one
        elif break_even is None:
            break_even = size
    print(
        f"break-even batch: {break_even if break_even else f'none up to {sizes[-1]}'}; "
        f"sciddm.chem.PARALLEL_THRESHOLD = {PARALLEL_THRESHOLD}"
    )
    SUMMARY["pool_jobs"] = n_jobs
    SUMMARY["pool_speedup_by_batch"] = table
    SUMMARY["pool_break_even"] = break_even
    SUMMARY["parallel_threshold"] = PARALLEL_THRESHOLD


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
    SUMMARY["pwm_n"] = n
    SUMMARY["pwm_vs_biopython"] = round(t_bio[0] / t_ours[0], 1)


def main(quick: bool = False, argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark (``quick``: small sizes); returns the summary."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--n-smiles", type=int, default=None)
    ap.add_argument("--n-seqs", type=int, default=None)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-chem", action="store_true")
    ap.add_argument("--skip-pool", action="store_true")
    ap.add_argument("--skip-dna", action="store_true")
    args = ap.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    SUMMARY["quick"] = quick
    n_smiles = args.n_smiles or (500 if quick else 10_000)
    n_seqs = args.n_seqs or (5_000 if quick else 100_000)
    with threadpool_limits(limits=1):
        threads = _threads()
        print("threads:", json.dumps(threads))
        SUMMARY["threads"] = threads
        if not args.skip_chem:
            bench_chem(n_smiles, args.repeats)
        if not args.skip_pool:
            bench_pool(n_smiles, args.n_jobs, args.repeats)
        if not args.skip_dna:
            bench_pwm(n_seqs, 200, args.repeats, n_bio=min(n_seqs, 100_000))
    print("SUMMARY " + json.dumps(SUMMARY, sort_keys=True))
    return SUMMARY


if __name__ == "__main__":
    main(argv=sys.argv[1:])
