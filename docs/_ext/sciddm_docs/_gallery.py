"""The landing page's gallery: one small figure per family, drawn at build time.

Each figure is a few seconds of public sciddm API on a tiny problem (the whole
gallery takes well under a minute on one core), so that the gallery exists in
``make docs-fast`` too. A figure that fails is replaced by a placeholder and
reported as a Sphinx warning naming the family, which ``-W`` turns into a failed
build.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sphinx.util import logging

logger = logging.getLogger(__name__)

SIZE = (4.0, 3.0)
DPI = 100


def _leastsquares(ax: Any) -> None:
    from sciddm.leastsquares import Legendre, TensorBasis, sample_volume, total_degree

    basis = TensorBasis(Legendre(), total_degree(1, 9))  # m = 10 on [-1, 1]
    x = np.linspace(-1, 1, 400)
    rho = basis.christoffel(x[:, None]) / basis.m / 2  # (K_m / m) times the uniform density
    ax.plot(x, rho, color="C0", label=r"optimal density $\rho = K_m/m \cdot \mu$")
    ax.axhline(0.5, color="0.6", ls="--", label=r"uniform $\mu$")
    pts = sample_volume(basis, 20, rng=0).points[:, 0]
    ax.plot(pts, np.zeros_like(pts), "|", color="C3", ms=14, mew=1.5, label="volume-sampled design")
    ax.set_xlabel("$x$")
    ax.set_ylim(-0.1, 2.0)  # rho grows like 1/sqrt(1 - x^2) near the endpoints
    ax.legend(fontsize=7, loc="upper center")


def _sensitivity(ax: Any) -> None:
    from sciddm.sensitivity import heavy_tailed_matrix, leverage_scores, lewis_weights

    A = heavy_tailed_matrix(400, 4, rng=0)
    tau = leverage_scores(A)
    w = lewis_weights(A, 1.0)
    ax.loglog(tau, w, ".", ms=4, alpha=0.7)
    lims = [min(tau.min(), w.min()), 1.0]
    ax.plot(lims, lims, color="0.6", ls="--", lw=1)
    ax.set_xlabel(r"leverage score $\tau_i$")
    ax.set_ylabel(r"$\ell_1$ Lewis weight $w_i$")


def _diffusion(ax: Any) -> None:
    from sciddm.diffusion import GaussianDenoiser

    g = GaussianDenoiser([1.0, -0.5], [[1.0, 0.8], [0.8, 1.0]])
    rng = np.random.default_rng(0)
    sigma_T = 4.0
    xT = np.array([1.0, -0.5]) + sigma_T * rng.standard_normal((40, 2))
    sigmas = np.geomspace(sigma_T, 1e-3, 60)
    path = np.stack([np.asarray(g.pf_ode(xT, sigma_T, s)) for s in sigmas])
    for j in range(path.shape[1]):
        ax.plot(path[:, j, 0], path[:, j, 1], color="C0", lw=0.6, alpha=0.6)
    ax.plot(path[-1, :, 0], path[-1, :, 1], ".", color="C3", ms=5)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("closed-form probability-flow trajectories", fontsize=8)


def _hallucination(ax: Any) -> None:
    import torch

    from sciddm.hallucination import exact_denoiser, mixture_1d

    den = exact_denoiser(mixture_1d())
    x = torch.linspace(0.3, 3.7, 400, dtype=torch.float64)[:, None]
    for s in (0.05, 0.2, 0.5):
        d = den(x, torch.full((len(x),), s, dtype=torch.float64))
        ax.plot(x[:, 0].numpy(), np.asarray(d)[:, 0], label=rf"$\sigma = {s}$")
    ax.set_xlabel(r"noisy $x_\sigma$")
    ax.set_ylabel(r"$E[x_0 \mid x_\sigma]$")
    ax.legend(fontsize=7)
    ax.set_title("exact denoiser of modes {1, 2, 3}", fontsize=8)


def _equitable(ax: Any) -> None:
    from sciddm.equitable import fit_learning_curve, power_law

    rng = np.random.default_rng(0)
    n = np.array([50, 100, 200, 400, 800, 1600])
    for g, (a, b, e) in enumerate([(2.0, 0.5, 0.05), (4.0, 0.5, 0.10)]):
        err = power_law(n, a, b, e) * np.exp(0.03 * rng.standard_normal(n.size))
        curve = fit_learning_curve(n, err)
        grid = np.geomspace(40, 5000, 100)
        ax.plot(n, err, "o", color=f"C{g}", ms=4)
        ax.plot(
            grid, power_law(grid, curve.a, curve.b, curve.e), color=f"C{g}", label=f"group {g + 1}"
        )
    ax.set_xscale("log")
    ax.set_xlabel("training samples $n_g$")
    ax.set_ylabel("error")
    ax.legend(fontsize=7)
    ax.set_title(r"learning curves $a\,n^{-b} + e$", fontsize=8)


def _ambient(ax: Any) -> None:
    from sciddm.ambient import gaussian_fisher_value

    sig = np.geomspace(0.05, 5, 60)
    for lam, c in ((1.0, "C0"), (0.1, "C1")):
        v = [gaussian_fisher_value(np.eye(1) * lam, s).value for s in sig]
        ax.semilogx(sig, v, color=c, label=rf"variance {lam}")
    ax.set_xlabel(r"noise level $\sigma$")
    ax.set_ylabel("worth of a noisy sample\n(in clean samples)")
    ax.legend(fontsize=7)


def _discrete(ax: Any) -> None:
    from sciddm.discrete.toys import exact_law, toy_problem

    prob = toy_problem(length=3, n_tokens=2, rng=0)
    k = np.arange(len(prob.joint))
    ax.bar(k - 0.2, prob.joint, width=0.4, label="data law", color="0.7")
    ax.bar(
        k + 0.2,
        exact_law(prob, "ancestral", steps=2),
        width=0.4,
        label="ancestral, 2 steps",
        color="C1",
    )
    ax.plot(k, exact_law(prob, "fhs"), "k_", ms=14, mew=2, label="first-hitting (exact)")
    ax.set_xticks(k, [format(i, "03b") for i in k], fontsize=7)
    ax.set_xlabel("sequence")
    ax.set_ylabel("probability")
    ax.legend(fontsize=7)


def _chem(ax: Any) -> None:
    from sciddm.chem import qed_reward, read_nci_smiles, sa_reward

    smiles = read_nci_smiles()[:400]
    ax.scatter(qed_reward(smiles), sa_reward(smiles), s=5, alpha=0.6)
    ax.set_xlabel("QED")
    ax.set_ylabel("synthetic accessibility (normalised)")
    ax.set_title("400 molecules of RDKit's NCI sample", fontsize=8)


def _dna(ax: Any) -> None:
    from sciddm.dna import load_jaspar

    motif = load_jaspar("MA0004.1")
    counts = np.asarray(motif.counts, dtype=float)
    if counts.shape[0] == 4 and counts.shape[1] != 4:
        counts = counts.T
    p = counts / counts.sum(axis=1, keepdims=True)
    info = 2 + np.sum(p * np.log2(np.where(p > 0, p, 1)), axis=1)
    bottom = np.zeros(len(p))
    for j, base in enumerate("ACGT"):
        h = p[:, j] * info
        ax.bar(np.arange(1, len(p) + 1), h, bottom=bottom, label=base, color=f"C{j}")
        bottom += h
    ax.set_xlabel("position")
    ax.set_ylabel("bits")
    ax.legend(fontsize=7, ncol=4)
    ax.set_title(f"JASPAR {motif.matrix_id} ({motif.name})", fontsize=8)


#: family -> what draws its figure
FIGURES: dict[str, Callable[[Any], None]] = {
    "leastsquares": _leastsquares,
    "sensitivity": _sensitivity,
    "diffusion": _diffusion,
    "hallucination": _hallucination,
    "equitable": _equitable,
    "ambient": _ambient,
    "discrete": _discrete,
    "chem": _chem,
    "dna": _dna,
}


def generate(out: Path) -> None:
    """Draw ``out/<family>.png`` for every family."""
    out.mkdir(parents=True, exist_ok=True)
    for family, draw in FIGURES.items():
        fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        try:
            draw(ax)
        except Exception:
            logger.warning(
                "gallery figure of %s failed:\n%s", family, traceback.format_exc(limit=-3)
            )
            fig.clear()
            fig.text(0.5, 0.5, f"{family}: figure failed", ha="center")
        fig.savefig(out / f"{family}.png")
