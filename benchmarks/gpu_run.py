"""One-shot GPU run: everything worth measuring on one GPU, in at most 10 minutes of wall time.

Sections (each under its own time cap; a configuration that would start after its
cap is recorded as ``"skipped: time cap"`` instead of overrunning):

1. ``env``: device, torch and CUDA versions, bf16 support.
2. ``train``: training throughput (tokens/s) of the ``small`` and ``base`` MDLM presets
   in fp32, bf16 autocast and bf16 with ``torch.compile`` (median of timed steps after
   warm-up, ``sciddm.discrete``'s trainer, MOSES-like length 56).
3. ``sample``: sampling throughput (samples/s) of ``ancestral``, ``cached`` and ``fhs``
   at batch sizes 64 to 4096 (the small preset, random weights: the cost does not depend
   on the weights' values).
4. ``svdd``: guided decoding (SVDD-PM, M = 10 candidates) samples/s.
5. ``moses``: the ``gpu-5min`` training preset on MOSES (stopped at its 200-s cap so that
   the whole run fits in 10 minutes), then 5,000 FHS samples and the MOSES table against
   5,000 MOSES test molecules, beside the published baselines and the training data's row
   (the metrics run on the CPU; ``python -m sciddm.discrete.sample_molecules`` gives the
   10,000-sample table of any saved model).

Everything goes to ``OUT/gpu_run.json`` and ``OUT/gpu_run.md``. ``--smoke`` runs the
same code at tiny sizes on whatever device there is (CPU in the test suite) in about a
minute. Usage::

    benchmarks/gpu_run.sh                 # on a GPU machine, <= 10 minutes
    benchmarks/gpu_run.sh --smoke         # anywhere, tiny sizes
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciddm.discrete import (
    MDLM,
    TRAIN_PRESETS,
    MDLMConfig,
    TrainConfig,
    moses_benchmark,
    sample,
    svdd,
    train,
)
from sciddm.discrete._training import Trainer

NO_GPU_NOTE = (
    "No GPU figure exists yet: this script was written and smoke-tested on CPU only; "
    "run benchmarks/gpu_run.sh on a GPU machine and put its gpu_run.md in the README."
)


@dataclasses.dataclass
class Sizes:
    """The sizes of one run (full GPU sizes or the tiny smoke sizes)."""

    length: int = 56
    vocab: int = 32
    train_models: tuple[str, ...] = ("small", "base")
    train_batch: int = 256
    train_steps: int = 10
    train_warmup: int = 3
    variants: tuple[str, ...] = ("fp32", "bf16", "bf16+compile")
    sample_model: str = "small"
    batch_sizes: tuple[int, ...] = (64, 256, 1024, 4096)
    methods: tuple[str, ...] = ("ancestral", "cached", "fhs")
    svdd_n: int = 256
    svdd_m: int = 10
    moses_preset: str = "gpu-5min"
    moses_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    # the MOSES metrics run on the CPU (RDKit): about 35 s per 1,000 molecules and row on
    # one core, IntDiv quadratic in n; 5,000 samples and references fit the table's cap
    moses_n: int = 5_000
    moses_n_ref: int = 5_000
    caps: dict[str, float] = dataclasses.field(
        default_factory=lambda: dict(
            train=100, sample=60, svdd=25, moses_train=200, moses_table=170
        )  # fmt: skip
    )
    #: a torch.compile configuration starts only with this many seconds left in its section
    compile_needs: float = 45.0


def smoke_sizes() -> Sizes:
    """Tiny sizes: every section runs on a CPU in about a minute."""
    return Sizes(
        length=16, vocab=12, train_models=("tiny",), train_batch=16, train_steps=3,
        train_warmup=1, sample_model="tiny", batch_sizes=(8, 32), svdd_n=8, svdd_m=2,
        moses_preset="cpu-hour",
        moses_overrides=dict(limit=1500, max_length=40, d_model=32, n_layers=1, n_heads=2,
                             steps=20, batch_size=16, warmup_steps=2, save_every=0,
                             log_every=0, eval_max=64, val_fraction=0.05),
        moses_n=64, moses_n_ref=100, compile_needs=0.0,
        caps={"train": 40, "sample": 20, "svdd": 10, "moses_train": 30, "moses_table": 60},
    )  # fmt: skip


class Clock:
    """The run's deadline and each section's cap."""

    def __init__(self, budget: float) -> None:
        self.t0 = time.perf_counter()
        self.budget = budget

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.t0)

    def section(self, cap: float) -> float:
        """Deadline (perf_counter) of a section: its cap, within the run's budget."""
        return time.perf_counter() + max(0.0, min(cap, self.left()))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _env(device: torch.device) -> dict[str, Any]:
    out: dict[str, Any] = {
        "device": str(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_threads": torch.get_num_threads(),
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        out.update(
            gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
            cuda=torch.version.cuda, bf16=torch.cuda.is_bf16_supported(),
        )  # fmt: skip
    else:
        out["gpu"] = None
    return out


def _fake_data(n: int, length: int, rng: np.random.Generator) -> tuple[str, ...]:
    """Random DNA of a fixed length (a step's cost depends only on the sizes)."""
    return tuple("".join(rng.choice(list("ACGT"), length)) for _ in range(n))


def train_throughput(sizes: Sizes, device: torch.device, deadline: float) -> list[dict]:
    """Tokens/s of the trainer's steps for each preset and precision variant."""
    rng = np.random.default_rng(0)
    data = _fake_data(max(4 * sizes.train_batch, 64), sizes.length, rng)
    rows = []
    for variant in sizes.variants:  # the slow-to-build compiled variants last
        for model in sizes.train_models:
            row: dict[str, Any] = {"model": model, "variant": variant}
            rows.append(row)
            need = sizes.compile_needs if "compile" in variant else 0.0
            if time.perf_counter() + need >= deadline:
                row["skipped"] = "time cap"
                continue
            if "compile" in variant and device.type != "cuda" and sizes.train_steps < 5:
                row["skipped"] = "smoke on CPU: torch.compile takes minutes to build there"
                continue
            try:
                row.update(_time_training(model, variant, data, sizes, device, deadline))
            except Exception as exc:  # recorded, the run goes on
                row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return rows


def _time_training(model: str, variant: str, data: tuple[str, ...], sizes: Sizes,
                   device: torch.device, deadline: float) -> dict[str, Any]:  # fmt: skip
    over = {"d_model": 32, "n_layers": 1, "n_heads": 2} if model == "tiny" else {}
    cfg = TrainConfig(
        data=data, kind="dna", model=model, steps=10_000, batch_size=sizes.train_batch,
        warmup_steps=10, val_fraction=0.05, device=device.type,
        precision="bf16" if variant.startswith("bf16") else "fp32",
        compile="compile" in variant, log_every=0, ema=0.999, **over,
    )  # fmt: skip
    tr = Trainer(cfg)
    times = []
    try:
        for s in range(sizes.train_warmup + sizes.train_steps):
            if time.perf_counter() >= deadline and len(times) >= 1:
                break
            _sync(tr.device)
            t = time.perf_counter()
            tr.train_step(s)
            _sync(tr.device)
            if s >= sizes.train_warmup:
                times.append(time.perf_counter() - t)
    finally:
        tr.close()
    if not times:
        return {"skipped": "time cap (still warming up)"}
    med = statistics.median(times)
    return {
        "parameters": tr.model.num_parameters(),
        "batch": sizes.train_batch,
        "length": tr.length,
        "timed_steps": len(times),
        "seconds_per_step": med,
        "tokens_per_second": sizes.train_batch * tr.length / med,
    }


def _random_model(name: str, sizes: Sizes, device: torch.device) -> MDLM:
    over = {"d_model": 32, "n_layers": 1, "n_heads": 2} if name == "tiny" else {}
    cfg = MDLMConfig.preset(name, vocab_size=sizes.vocab, length=sizes.length, **over)
    return MDLM(cfg, rng=0).to(device).eval()


def sample_throughput(sizes: Sizes, device: torch.device, deadline: float) -> list[dict]:
    """Samples/s of each sampler at each batch size (one batch of that size)."""
    model = _random_model(sizes.sample_model, sizes, device)
    rows = []
    with torch.inference_mode():
        sample(model, 2, method="fhs", rng=0)  # warm-up (kernels, allocator)
        for bs in sizes.batch_sizes:
            for method in sizes.methods:
                row: dict[str, Any] = {"method": method, "batch": bs}
                rows.append(row)
                if time.perf_counter() >= deadline:
                    row["skipped"] = "time cap"
                    continue
                try:
                    res = sample(model, bs, method=method, batch_size=bs, rng=1)
                    row.update(
                        seconds=res.wall_time, samples_per_second=bs / res.wall_time,
                        n_calls=res.n_calls, mean_nfe=res.mean_nfe,
                    )  # fmt: skip
                except torch.cuda.OutOfMemoryError as exc:
                    row["error"] = f"out of memory: {str(exc)[:200]}"
                    torch.cuda.empty_cache()
    return rows


def svdd_throughput(sizes: Sizes, device: torch.device, deadline: float) -> list[dict]:
    """Samples/s of SVDD-PM with a cheap reward on token ids (the network dominates)."""
    model = _random_model(sizes.sample_model, sizes, device)
    row: dict[str, Any] = {"method": "svdd-pm", "M": sizes.svdd_m, "n": sizes.svdd_n}
    if time.perf_counter() >= deadline:
        return [{**row, "skipped": "time cap"}]

    def reward(ids: np.ndarray) -> np.ndarray:
        return (np.asarray(ids) == 0).mean(axis=1)

    with torch.inference_mode():
        t = time.perf_counter()
        svdd(model, reward, sizes.svdd_n, M=sizes.svdd_m, rng=0, decode=False)
        _sync(device)
        dt = time.perf_counter() - t
    return [{**row, "seconds": dt, "samples_per_second": sizes.svdd_n / dt}]


def moses_section(sizes: Sizes, device: torch.device, clock: Clock) -> dict[str, Any]:
    """Train the MOSES preset until its cap, then sample and write the MOSES table."""
    if importlib.util.find_spec("rdkit") is None:
        return {"skipped": "RDKit is not installed (extra chem)"}
    try:
        from sciddm.chem import read_moses_smiles

        read_moses_smiles("test", limit=1)
    except ImportError as exc:
        return {"skipped": f"MOSES data not installed ({exc})"}
    deadline = clock.section(sizes.caps["moses_train"])
    kw = {**TRAIN_PRESETS[sizes.moses_preset], **sizes.moses_overrides, "device": device.type}
    if device.type != "cuda":
        kw["precision"] = "fp32"
    t = time.perf_counter()
    res = train(**kw, progress=False, callback=lambda step, d: time.perf_counter() >= deadline)
    train_s = time.perf_counter() - t
    out: dict[str, Any] = {
        "preset": sizes.moses_preset,
        "steps": int(res.steps[-1]),
        "planned_steps": kw["steps"],
        "stopped_by_time_cap": bool(res.interrupted),
        "train_seconds": train_s,
        "tokens_per_second": res.tokens_per_second,
        "parameters": res.n_parameters,
        "val_bits_per_token": (
            float(res.val_bits_per_token[-1]) if len(res.val_bits_per_token) else None
        ),
    }
    left = min(sizes.caps["moses_table"], clock.left())
    # the metrics run on the CPU; shrink the sample when little time is left
    n = sizes.moses_n if left > 0.6 * sizes.caps["moses_table"] else max(500, sizes.moses_n // 4)
    if left <= 5:
        out["table"] = "skipped: time cap"
        return out
    bench = moses_benchmark(res.model, n=n, n_reference=sizes.moses_n_ref, rng=0,
                            batch_size=min(n, 2048), device=device)  # fmt: skip
    out.update(
        n_samples=n, n_reference=bench.n_reference, sample_seconds=bench.sample_time,
        metrics_seconds=bench.metrics_time, rows=bench.rows(), table=bench.table,
    )  # fmt: skip
    return out


def _run_section(name: str, fn: Callable[[], Any], results: dict[str, Any]) -> None:
    t = time.perf_counter()
    try:
        results[name] = fn()
    except Exception as exc:  # one failing section does not lose the others
        results[name] = {"error": f"{type(exc).__name__}: {exc}"[:500],
                         "traceback": traceback.format_exc()[-2000:]}  # fmt: skip
    results.setdefault("section_seconds", {})[name] = round(time.perf_counter() - t, 2)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.4g}"
    return str(v)


def _md_table(rows: list[dict], cols: list[str]) -> list[str]:
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if v is None and c in ("tokens_per_second", "samples_per_second"):
                v = r.get("skipped") and f"skipped: {r['skipped']}" or r.get("error", "-")
            cells.append(_fmt(v) if v is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown: environment, one table per section, the MOSES table."""
    env = results.get("env", {})
    lines = [f"# sciddm GPU run ({'smoke' if results.get('smoke') else 'full'})", ""]
    if not env.get("gpu"):
        lines += [f"**{NO_GPU_NOTE}**", ""]
    lines += [f"Device: {env.get('gpu') or env.get('device')}; torch {env.get('torch')}; "
              f"CUDA {env.get('cuda', '-')}; {results.get('wall_seconds', 0):.0f} s wall.", ""]  # fmt: skip
    if isinstance(results.get("train"), list):
        lines += ["## Training throughput (tokens/s)", ""]
        lines += _md_table(results["train"], ["model", "variant", "parameters", "batch",
                                              "length", "tokens_per_second"])  # fmt: skip
        lines.append("")
    if isinstance(results.get("sample"), list):
        lines += ["## Sampling throughput (samples/s)", ""]
        lines += _md_table(results["sample"], ["method", "batch", "n_calls",
                                               "samples_per_second"])  # fmt: skip
        lines.append("")
    if isinstance(results.get("svdd"), list):
        lines += ["## Guided decoding", ""]
        lines += _md_table(results["svdd"], ["method", "M", "n", "samples_per_second"])
        lines.append("")
    mo = results.get("moses", {})
    lines += ["## MOSES", ""]
    if "steps" in mo:
        lines.append(
            f"Preset {mo['preset']}: {mo['steps']} of {mo['planned_steps']} steps in "
            f"{mo['train_seconds']:.0f} s ({mo['tokens_per_second']:,.0f} tokens/s, "
            f"{mo['parameters']:,} parameters); validation bits/token: "
            f"{_fmt(mo['val_bits_per_token'])}."
        )
        lines += ["", str(mo.get("table", "")), ""]
    else:
        lines += [str(mo.get("skipped") or mo.get("error") or "-"), ""]
    for name in ("env", "train", "sample", "svdd", "moses"):
        sec = results.get(name)
        if isinstance(sec, dict) and "error" in sec:
            lines.append(f"Section {name} failed: {sec['error']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (CPU test)")
    ap.add_argument("--out", default="gpu_run_out", help="folder of gpu_run.json / .md")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds for the whole run (default 570; smoke 170)")  # fmt: skip
    ap.add_argument("--skip", default="", help="comma-separated sections to skip")
    args = ap.parse_args(argv)
    sizes = smoke_sizes() if args.smoke else Sizes()
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    if device.type == "cpu" and not args.smoke:
        print("note: no GPU; the full sizes on a CPU would not finish: use --smoke",
              file=sys.stderr)  # fmt: skip
    clock = Clock(args.budget if args.budget is not None else (170 if args.smoke else 570))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    results: dict[str, Any] = {"smoke": args.smoke, "sizes": dataclasses.asdict(sizes)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _run_section("env", lambda: _env(device), results)
    sections: list[tuple[str, Callable[[], Any]]] = [
        ("train", lambda: train_throughput(sizes, device, clock.section(sizes.caps["train"]))),
        ("sample", lambda: sample_throughput(sizes, device, clock.section(sizes.caps["sample"]))),
        ("svdd", lambda: svdd_throughput(sizes, device, clock.section(sizes.caps["svdd"]))),
        ("moses", lambda: moses_section(sizes, device, clock)),
    ]
    for name, fn in sections:
        if name in skip:
            results[name] = {"skipped": "--skip"}
        elif clock.left() <= 0:
            results[name] = {"skipped": "time cap"}
        else:
            _run_section(name, fn, results)
        results["wall_seconds"] = round(time.perf_counter() - clock.t0, 2)
        # written after every section: a run killed later keeps what it measured
        (out / "gpu_run.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        (out / "gpu_run.md").write_text(markdown(results))
    print(markdown(results))
    failed = [n for n in ("env", "train", "sample", "svdd", "moses")
              if isinstance(results.get(n), dict) and "error" in results[n]]  # fmt: skip
    if failed:
        print(f"sections with errors: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
