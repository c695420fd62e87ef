# %% [markdown]
# # Molecules at benchmark quality: SMILES or SELFIES, the MOSES table, and the recipes
#
# A chemist who trains a generative model on molecules asks the field's first
# questions: are the samples *valid* molecules, are they *unique*, are they *new*, and
# are they *close to the data*? The MOSES benchmark (Polykovskiy et al. 2020) answers
# them with one table — validity, unique@k, novelty, internal diversity, the medicinal
# chemistry filters, nearest-neighbour similarity (SNN), fragment and scaffold
# similarity, and the Fréchet ChemNet distance (FCD) — and publishes the rows of five
# baseline models (CharRNN, VAE, AAE, JTN-VAE, LatentGAN).
#
# This notebook trains masked diffusion models (MDLM, see tutorial 07) on MOSES, once
# on SMILES tokens and once on **SELFIES** symbols, samples them with the first-hitting
# sampler, and puts their rows beside the published ones and beside the *training
# data's own row*. It ends with the two commands of the CPU-hour recipe and the
# one-shot GPU script.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from rdkit import Chem

from sciddm.chem import load_moses_test, moses_table, reference_statistics
from sciddm.discrete import (
    TRAIN_PRESETS,
    SelfiesTokenizer,
    load_sequences,
    moses_benchmark,
    train,
)

FAST = os.environ.get("SCIDDM_FAST") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Why SELFIES: validity by construction
#
# A SMILES string must close every ring it opens and balance every bracket; a model
# that gets one token wrong produces a string RDKit rejects. SELFIES (Krenn et al. 2020)
# writes a molecule as bracketed symbols read by a small grammar: each atom symbol is
# bonded with the valence the previous atoms leave free, and a branch or ring symbol
# takes its size from the *next* symbols, read as a number. Every string of symbols
# therefore decodes to a molecule.
#
# `SelfiesTokenizer` takes SMILES in, uses SELFIES symbols as tokens, and decodes to
# RDKit's canonical SMILES, so a model trained on it plugs into everything that speaks
# SMILES.

# %%
train_smiles = load_sequences("moses", limit=20_000 if FAST else 100_000, max_length=40)
tok = SelfiesTokenizer.from_smiles(train_smiles.sequences[:2000])
aspirin = "CC(=O)Oc1ccccc1C(=O)O"
print(tok.to_selfies(aspirin))
print(tok.decode(tok.encode(aspirin)), "  vocabulary:", tok.vocab_size, "symbols")

# %% [markdown]
# The guarantee, checked: rows of *uniformly random* symbols (with [PAD] sprinkled in)
# all decode to molecules that RDKit accepts. (A row with no atom symbol at all would
# decode to the empty string; none occurs here.)

# %%
ids = rng.integers(0, tok.vocab_size - 2, size=(1000, 30))
ids[rng.random(ids.shape) < 0.2] = tok.pad_id
decoded = tok.decode_batch(ids)
valid = np.mean([bool(s) and Chem.MolFromSmiles(s) is not None for s in decoded])
print(f"validity of 1,000 random symbol rows: {valid:.3f}")
print(decoded[:4])

# %% [markdown]
# ## 2. Train a SMILES model and a SELFIES model
#
# The training recipes are named in `TRAIN_PRESETS`; `cpu-hour` and
# `cpu-hour-selfies` are the two CPU-hour recipes (section 5). Here we start from them
# and shrink the number of steps so the notebook runs in a minute or two. Both models
# see the same molecules (MOSES training molecules of at most 40 SMILES tokens).

# %%
steps = 150 if FAST else 1500
recipe = {**TRAIN_PRESETS["cpu-hour"], "limit": 20_000 if FAST else 100_000, "max_length": 40,
          "steps": steps, "warmup_steps": steps // 10, "save_every": 0, "log_every": 0}  # fmt: skip
if FAST:
    recipe.update(d_model=64, n_layers=2, batch_size=32)
fits = {name: train(**{**recipe, "tokenizer": name}, rng=0) for name in ("smiles", "selfies")}
for name, fit in fits.items():
    print(f"{name:8s} {fit.n_parameters:,} parameters, {int(fit.steps[-1])} steps, "
          f"validation {fit.val_bits_per_token[-1]:.3f} bits/token "
          f"(unigram {fit.unigram_bits_per_token:.3f}), {fit.wall_time:.0f} s")  # fmt: skip

# %% [markdown]
# ## 3. The MOSES table
#
# `moses_benchmark` samples a model with FHS (exact: one token per network call), scores
# the samples against a sample of the MOSES test split, and writes the table beside the
# published baselines. Two cautions when reading it:
#
# * **FCD and SNN depend on the set sizes.** The FCD between two finite samples of the
#   *same* distribution is positive and falls roughly as $1/n$; SNN rises with the
#   reference size. The MOSES rows used 30,000 samples against the whole test split
#   (176,074 molecules). The **training data's own row** — training molecules scored as
#   if they were samples, at our sizes — is the like-for-like yardstick: a perfect model
#   would match it.
# * **Novelty** counts distinct valid samples that are not training molecules; the
#   training data's row has novelty 0 by definition.
#
# We compute the reference statistics once and share them between the two models.

# %%
n, n_ref = (200, 300) if FAST else (2000, 3000)
ref = reference_statistics(load_moses_test(n_ref, rng=rng), name="MOSES test")
bench = {
    name: moses_benchmark(fit.model, n=n, reference=ref, train=train_smiles.sequences,
                          data_row=name == "smiles", name=f"MDLM {name.upper()}", rng=1)
    for name, fit in fits.items()
}  # fmt: skip
rows = {**bench["smiles"].rows(), **bench["selfies"].rows()}
print(moses_table(rows, baselines=("CharRNN", "VAE", "JTN-VAE")).split("\n\nBaselines")[0])

# %% [markdown]
# With a model this small and this briefly trained, the SMILES row has low validity:
# an MDLM unmasks tokens in any order and must get ring closures and brackets right
# everywhere at once. The SELFIES row is valid by construction (validity 1.0 whatever
# the training), so its other columns show what the model has learnt: compare its FCD,
# SNN, Frag and Scaf with the training data's row. More training closes the gap
# (section 5).

# %%
for name, b in bench.items():
    r = b.report
    print(f"{name:8s} validity {r.validity:.3f}  unique {r.uniqueness:.3f}  "
          f"novelty {r.novelty:.3f}  FCD {r.fcd if r.fcd is None else round(r.fcd, 2)}  "
          f"sampled {n} in {b.sample_time:.1f} s")  # fmt: skip

# %% [markdown]
# ## 4. Property distributions
#
# MOSES also compares the distributions of four properties — logP, synthetic
# accessibility, QED and molecular weight — by their Wasserstein-1 distances to the
# reference. The histograms show where the SELFIES model's molecules fall.

# %%
axes = bench["selfies"].report.plot()
axes[0].figure.suptitle("MDLM (SELFIES) samples against the MOSES test sample", y=1.05)
plt.show()

# %% [markdown]
# ## 5. The CPU-hour recipe and the GPU script
#
# On a machine with two CPU cores, the `cpu-hour` recipe (a 0.8 M-parameter,
# 4-layer, 128-wide MDLM; 10,000 steps of 64 molecules from 200,000 MOSES training
# molecules) trains in under an hour, and one command samples 10,000 molecules and
# writes the MOSES table:
#
# ```bash
# sciddm train-discrete moses --preset cpu-hour --out-dir runs/moses
# python -m sciddm.discrete.sample_molecules runs/moses --n 10000 --out table.md
# ```
#
# (`--preset cpu-hour-selfies --out-dir runs/moses-selfies` trains the SELFIES variant;
# `python -m sciddm.discrete.training` is the same command as `sciddm train-discrete`.)
# Re-running the training command resumes from its checkpoint. The README states what
# these commands reached when they were run.
#
# On one GPU, `benchmarks/gpu_run.sh` measures in at most ten minutes the training
# throughput of the `small` and `base` models (fp32, bf16, `torch.compile`), the
# samplers' throughput at batch sizes 64 to 4096, SVDD guided decoding, and a
# five-minute MOSES training followed by its MOSES table, into `gpu_run.json` and
# `gpu_run.md`. `benchmarks/gpu_run.sh --smoke` runs the same code at tiny sizes on a
# CPU. **No GPU figure exists yet**: the script has only been run on CPUs.
#
# The experiments `sciddm reproduce discrete.molecules` and
# `sciddm reproduce discrete.dna-generation` make these comparisons with claims; their
# `--full` mode is the GPU recipe.
#
# ## What to take away
#
# * Judge a molecule model by the whole MOSES table, and read FCD and SNN against the
#   training data's row at the same sizes, not against published rows computed at
#   other sizes.
# * SELFIES removes the validity problem by construction; the other columns then say
#   how close the model is to the data.
# * The recipes are commands, not code: one to train, one to sample and score.
#
# **References.** D. Polykovskiy et al., *Molecular Sets (MOSES)*, Front. Pharmacol. 11
# (2020). M. Krenn et al., *SELFIES*, Mach. Learn.: Sci. Technol. 1 (2020). K. Preuer et
# al., *Fréchet ChemNet Distance*, J. Chem. Inf. Model. 58 (2018). S. Sahoo et al.,
# *Simple and Effective Masked Diffusion Language Models*, NeurIPS 2024. K. Zheng et al.,
# *Masked diffusion models are secretly time-agnostic masked models*, arXiv:2409.02908.
