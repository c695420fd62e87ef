"""Reproductions for training: tiny MDLMs on real SMILES and DNA beat a unigram baseline."""

from __future__ import annotations

import math
from typing import Any

from sciddm.reproduce import Context, register

_SOURCE = "Sahoo et al. 2024 (MDLM), Sec. 4: the NELBO bounds the model's bits per token"


def _run(ctx: Context, data: str, label: str) -> None:
    from sciddm.discrete import train

    p = dict(ctx.params)
    seed = int(ctx.rng.integers(0, 2**31 - 1))
    res = train(
        data=data,
        device=ctx.device,
        seed=seed,
        progress=ctx.progress,
        log_every=0,
        **p,
    )
    bits = float(res.val_bits_per_token[-1])
    uni = res.unigram_bits_per_token
    ctx.claim(
        f"{label}: a trained MDLM's validation NELBO (bits/token) is below the unigram "
        "cross-entropy",
        source=_SOURCE,
        measured=bits,
        expected=uni,
        op="<=",
    )
    ctx.table(
        f"{label}: MDLM training",
        [
            {
                "data": data,
                "model": p.get("model", "tiny"),
                "parameters": res.n_parameters,
                "train sequences": res.n_train,
                "validation sequences": res.n_val,
                "length": res.model.length,
                "steps": int(res.steps[-1]),
                "batch": p["batch_size"],
                "tokens/s": round(res.tokens_per_second),
                "validation bits/token": round(bits, 4),
                "unigram bits/token": round(uni, 4),
            }
        ],
    )
    from sciddm._core.plotting import get_ax

    ax = get_ax(None)
    ax.plot(res.steps, res.losses / math.log(2), lw=0.8, label="training NELBO (one batch)")
    ax.plot(res.val_steps, res.val_bits_per_token, "o-", label="validation NELBO (EMA)")
    ax.axhline(uni, color="k", ls="--", lw=1, label="unigram baseline")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per token (positions incl. padding)")
    ax.set_title(f"MDLM on {label}")
    ax.legend()
    ctx.figure(ax.figure, "loss")
    ctx.note(
        f"{label}: {bits:.3f} bits/token on held-out sequences against {uni:.3f} for a "
        "unigram model of the training tokens (both averaged over all positions, padding "
        "included, so the two are comparable; the NELBO is an upper bound on the model's "
        "true cross-entropy). Quick runs are tiny and short; the gap widens with --full."
    )


_NCI_QUICK: dict[str, Any] = dict(
    limit=None, max_length=40, model="tiny", steps=150, batch_size=64, lr=2e-3,
    warmup_steps=20, eval_every=75, eval_max=256, val_fraction=0.05,
)  # fmt: skip
_MOSES_FULL: dict[str, Any] = dict(
    max_length=60, model="small", steps=50_000, batch_size=512, lr=3e-4,
    warmup_steps=2_000, eval_every=5_000, eval_max=8_192, val_fraction=0.01,
)  # fmt: skip


@register(
    "discrete.train.smiles",
    description="Train a tiny MDLM on NCI SMILES (full: MOSES, GPU-sized); bits/token vs unigram",
    quick={"data": "nci", **_NCI_QUICK},
    full={"data": "moses", **_MOSES_FULL},
    requires=("rdkit",),
)
def train_smiles(ctx: Context) -> None:
    p = dict(ctx.params)
    data = p.pop("data")
    ctx.params = p
    _run(ctx, data, "NCI SMILES" if data == "nci" else "MOSES SMILES")


@register(
    "discrete.train.dna",
    description="Train a tiny MDLM on the yeast ARS1 150-bp library; bits/token vs unigram",
    quick=dict(
        limit=5_000, model="tiny", steps=60, batch_size=32, lr=2e-3, warmup_steps=10,
        eval_every=30, eval_max=128, val_fraction=0.05,
    ),
    full=dict(
        limit=None, model="small", steps=20_000, batch_size=256, lr=3e-4, warmup_steps=1_000,
        eval_every=2_000, eval_max=4_096, val_fraction=0.02,
    ),
    requires=("logomaker",),
)  # fmt: skip
def train_dna(ctx: Context) -> None:
    _run(ctx, "ars", "ARS1 DNA")
