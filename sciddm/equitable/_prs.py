"""Polygenic-risk-score simulation across populations.

:func:`simulate_prs` draws genotypes for ``G`` populations whose allele
frequencies diverge from a common ancestor by the Balding-Nichols model with
fixation index ``F_ST``, with linkage disequilibrium inside blocks of adjacent
SNPs, causal effects that are partly shared and partly population-specific,
and a phenotype with heritability ``h^2`` (optionally a binary disease by the
liability-threshold model). :func:`prs_estimator` and :func:`evaluate_prs` fit
and score a ridge or lasso polygenic risk score per group.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy import special

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar

__all__ = ["PRSData", "PRSEvaluation", "evaluate_prs", "prs_estimator", "simulate_prs"]


@dataclasses.dataclass(frozen=True, repr=False)
class PRSData(Result):
    """A simulated genotype-phenotype data set.

    Attributes
    ----------
    X : ndarray of shape (N, p)
        Genotypes (minor-allele counts 0, 1, 2) as float64.
    y : ndarray of shape (N,)
        Phenotype: the liability (quantitative trait) or, with a prevalence,
        the 0/1 disease status.
    liability : ndarray of shape (N,)
        Genetic value plus environmental noise; variance 1 in each population.
    genetic_value : ndarray of shape (N,)
        Variance ``h2[g]`` in population ``g``.
    groups : ndarray of int, shape (N,)
        Population of each individual (0..G-1).
    ancestral_freq : ndarray of shape (p,)
    freq : ndarray of shape (G, p)
        Population allele frequencies.
    beta : ndarray of shape (G, p)
        Per-allele causal effects (zero off the causal set), before scaling.
    causal : ndarray of int
        Indices of the causal SNPs.
    h2 : ndarray of shape (G,)
    binary : bool
    scale : ndarray of shape (G,)
        Factor taking ``x' beta[g]`` (centred) to the genetic value of population ``g``.
    threshold : float
        Liability threshold of the binary trait (NaN for a quantitative trait).
    offset : ndarray of shape (G,)
        Mean of ``x' beta[g]`` in the first sample.
    block_size : int
        SNPs per LD block.
    ld : float
        Within-block correlation parameter of the latent Gaussians.

    Examples
    --------
    >>> from sciddm.equitable import simulate_prs
    >>> d = simulate_prs([100, 50], n_snps=20, n_causal=5, prevalence=0.1, rng=0)
    >>> d.X.shape, d.binary, sorted(set(d.y.tolist()))
    ((150, 20), True, [0.0, 1.0])
    """

    X: np.ndarray
    y: np.ndarray
    liability: np.ndarray
    genetic_value: np.ndarray
    groups: np.ndarray
    ancestral_freq: np.ndarray
    freq: np.ndarray
    beta: np.ndarray
    causal: np.ndarray
    h2: np.ndarray
    binary: bool
    scale: np.ndarray
    threshold: float
    offset: np.ndarray
    block_size: int
    ld: float


def _per_group(x: Any, name: str, G: int, *, lo: float, hi: float, closed: str) -> np.ndarray:
    arr = np.atleast_1d(check_array(x, name, ndim=(0, 1), finite=False))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must not contain NaN or inf")
    if arr.size == 1:
        arr = np.repeat(arr, G)
    if arr.size != G:
        raise ValueError(f"`{name}` must be a scalar or have one entry per group ({G}), got {arr.size}")  # fmt: skip
    for v in arr:
        check_scalar(float(v), name, lo=lo, hi=hi, closed=closed)
    return arr.astype(float)


def simulate_prs(
    n_per_group: Any,
    *,
    n_snps: int = 200,
    n_causal: int = 20,
    fst: Any = 0.1,
    h2: Any = 0.5,
    rho: float = 0.8,
    block_size: int = 10,
    ld: float = 0.5,
    maf_range: tuple[float, float] = (0.05, 0.5),
    prevalence: float | None = None,
    architecture: PRSData | None = None,
    rng: SeedLike = None,
) -> PRSData:
    """Simulate genotypes and phenotypes for ``G`` populations.

    Parameters
    ----------
    n_per_group : int or sequence of int
        Individuals per population (a sequence gives ``G``; an int gives one population).
    n_snps : int, default 200
    n_causal : int, default 20
        Causal SNPs (the same positions in every population).
    fst : float or sequence, default 0.1
        Balding-Nichols fixation index of each population, in (0, 1).
    h2 : float or sequence, default 0.5
        Heritability of each population, in [0, 1].
    rho : float, default 0.8
        Correlation of the causal effects between populations: each
        population's effect is ``sqrt(rho) * shared + sqrt(1 - rho) * specific``.
    block_size : int, default 10
        SNPs per LD block (blocks are independent).
    ld : float, default 0.5
        Within a block the latent haplotype Gaussians have correlation
        ``ld**|i - j|``; 0 gives independent SNPs.
    maf_range : (float, float), default (0.05, 0.5)
        Range of the uniform ancestral allele frequencies.
    prevalence : float, optional
        If given, ``y`` is a binary disease: 1 when the liability exceeds the
        ``1 - prevalence`` quantile of the standard normal.
    architecture : PRSData, optional
        Reuse the populations of an earlier simulation (allele frequencies,
        causal effects, scaling, heritability, threshold): only new individuals
        are drawn, so a training pool and a test set can come from the same
        populations. The other keywords must then be left at their defaults
        (``n_per_group`` must have the same number of groups).
    rng : numpy.random.Generator, int or None

    Returns
    -------
    PRSData

    Notes
    -----
    *Balding-Nichols.* Given the ancestral frequency :math:`p`, population
    ``k`` has :math:`p_k \\sim \\mathrm{Beta}(p(1-F)/F,\\ (1-p)(1-F)/F)`, so
    :math:`E p_k = p` and :math:`\\mathrm{Var}\\, p_k = F p (1-p)`.
    *LD blocks.* A haplotype carries allele ``j`` when :math:`\\Phi(z_j) < p_{kj}`
    with :math:`z` Gaussian, :math:`\\mathrm{corr}(z_i, z_j) = \\mathrm{ld}^{|i-j|}`
    inside a block; the marginal frequency is exactly :math:`p_{kj}` and nearby
    SNPs are correlated. A genotype is the sum of two haplotypes.
    *Phenotype.* The genetic value :math:`\\sum_j \\beta_{kj} x_{ij}` is centred
    and scaled within each population of the sample to variance :math:`h^2_k`,
    and Gaussian noise of variance :math:`1 - h^2_k` is added (the liability);
    heritability therefore holds in-sample, and the scale is kept for samples
    drawn later with ``architecture``.

    References
    ----------
    .. [1] Balding & Nichols, "A method for quantifying differentiation between
       populations at multi-allelic loci", Genetica 96 (1995) 3-12.
    .. [2] Martin et al., "Human demographic history impacts genetic risk
       prediction across diverse populations", AJHG 100 (2017) 635-649.

    Examples
    --------
    >>> from sciddm.equitable import simulate_prs
    >>> d = simulate_prs([300, 300], n_snps=50, n_causal=10, h2=[0.6, 0.3], rng=0)
    >>> d.X.shape, sorted(set(d.X.ravel().tolist()))
    ((600, 50), [0.0, 1.0, 2.0])
    >>> [round(float(d.genetic_value[d.groups == k].var()), 3) for k in (0, 1)]
    [0.6, 0.3]
    >>> test = simulate_prs([5000, 5000], architecture=d, rng=1)
    >>> bool((test.freq == d.freq).all())
    True
    """
    P = _prs_iv(n_per_group, n_snps, n_causal, fst, h2, rho, block_size, ld, maf_range,
                prevalence, architecture)  # fmt: skip
    gen = as_generator(rng)
    if architecture is None:
        arch = _architecture(P, gen)
    else:  # reuse the populations: only new individuals are drawn
        arch = {
            "ancestral_freq": architecture.ancestral_freq,
            "freq": architecture.freq,
            "causal": architecture.causal,
            "beta": architecture.beta,
            "h2": architecture.h2,
            "n_snps": architecture.freq.shape[1],
            "block_size": architecture.block_size,
            "ld": architecture.ld,
            "threshold": architecture.threshold,
        }
    sizes, G = P["sizes"], P["G"]
    n_snps, block_size, ld = arch["n_snps"], arch["block_size"], arch["ld"]
    # latent Gaussians with AR(1) correlation inside blocks (one Cholesky factor per block;
    # a shorter last block uses the leading part of the same factor)
    pos = np.arange(block_size)
    L = np.linalg.cholesky(ld ** np.abs(pos[:, None] - pos[None, :]) + 1e-12 * np.eye(block_size))
    n_blocks = -(-n_snps // block_size)
    scale = np.empty(G)
    offset = np.zeros(G) if architecture is None else architecture.offset.copy()
    Xs, gv, liab, grp = [], [], [], []
    for k in range(G):
        n = int(sizes[k])
        geno = np.zeros((n, n_snps))
        for _ in range(2):
            z = (gen.standard_normal((n, n_blocks, block_size)) @ L.T).reshape(n, -1)[:, :n_snps]
            geno += special.ndtr(z) < arch["freq"][k]
        g = geno @ arch["beta"][k]
        if architecture is not None:
            scale[k] = architecture.scale[k]
            g = (g - architecture.offset[k]) * scale[k]
        else:
            sd = g.std()
            scale[k] = np.sqrt(arch["h2"][k]) / sd if sd > 0 else 0.0
            offset[k] = g.mean()
            g = (g - offset[k]) * scale[k]
        Xs.append(geno)
        gv.append(g)
        liab.append(g + gen.normal(scale=np.sqrt(1 - arch["h2"][k]), size=n))
        grp.append(np.full(n, k))
    liability = np.concatenate(liab)
    threshold = arch["threshold"]
    binary = bool(np.isfinite(threshold))
    return PRSData(
        X=np.concatenate(Xs),
        y=(liability > threshold).astype(float) if binary else liability.copy(),
        liability=liability,
        genetic_value=np.concatenate(gv),
        groups=np.concatenate(grp),
        ancestral_freq=arch["ancestral_freq"],
        freq=arch["freq"],
        beta=arch["beta"],
        causal=arch["causal"],
        h2=arch["h2"],
        binary=binary,
        scale=scale,
        threshold=threshold,
        offset=offset,
        block_size=block_size,
        ld=ld,
    )


def _prs_iv(
    n_per_group: Any, n_snps: Any, n_causal: Any, fst: Any, h2: Any, rho: Any, block_size: Any,
    ld: Any, maf_range: Any, prevalence: Any, architecture: Any,
) -> dict[str, Any]:  # fmt: skip
    """Validate :func:`simulate_prs`'s arguments into a dict of checked values."""
    if isinstance(n_per_group, (str, bytes)):
        raise ValueError(f"`n_per_group` must be an int or a sequence of ints, got {n_per_group!r}")
    sizes = np.atleast_1d(np.asarray(n_per_group, dtype=object))
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"`n_per_group` must be an int or a sequence of ints, got {n_per_group!r}")
    sizes = np.array([check_int(s, "n_per_group", lo=2, hi=10**7) for s in sizes])
    G = sizes.size
    n_snps = check_int(n_snps, "n_snps", lo=1, hi=10**6)
    if architecture is not None:
        if not isinstance(architecture, PRSData):
            raise ValueError(f"`architecture` must be a PRSData, got {type(architecture).__name__}")
        n_snps = architecture.freq.shape[1]
        if architecture.freq.shape[0] != G:
            raise ValueError(
                f"`n_per_group` has {G} groups but `architecture` has {architecture.freq.shape[0]}"
            )
    if int(sizes.sum()) * n_snps > 2**28:
        raise ValueError(
            f"`n_per_group` asks for {int(sizes.sum())} x {n_snps} genotypes, beyond the 2 GiB "
            "limit of one call; simulate in smaller batches with `architecture`"
        )
    if not (isinstance(maf_range, (tuple, list)) and len(maf_range) == 2):
        raise ValueError(f"`maf_range` must be a pair (low, high), got {maf_range!r}")
    lo_f, hi_f = (check_scalar(v, "maf_range", lo=0, hi=1, closed="neither") for v in maf_range)
    if not lo_f < hi_f:
        raise ValueError(f"`maf_range` must be increasing, got {maf_range!r}")
    return {
        "sizes": sizes,
        "G": G,
        "n_snps": n_snps,
        "n_causal": check_int(n_causal, "n_causal", lo=1, hi=n_snps),
        "fst": _per_group(fst, "fst", G, lo=0, hi=1, closed="neither"),
        "h2": _per_group(h2, "h2", G, lo=0, hi=1, closed="both"),
        "rho": check_scalar(rho, "rho", lo=0, hi=1),
        "block_size": check_int(block_size, "block_size", lo=1, hi=10_000),
        "ld": check_scalar(ld, "ld", lo=0, hi=1, closed="left"),
        "maf": (lo_f, hi_f),
        "prevalence": None
        if prevalence is None
        else check_scalar(prevalence, "prevalence", lo=0, hi=1, closed="neither"),
    }


def _architecture(P: dict[str, Any], gen: np.random.Generator) -> dict[str, Any]:
    """Draw the populations: ancestral and population frequencies, causal effects."""
    G, n_snps, n_causal = P["G"], P["n_snps"], P["n_causal"]
    lo_f, hi_f = P["maf"]
    p_anc = gen.uniform(float(lo_f), float(hi_f), size=n_snps)
    freq = np.empty((G, n_snps))
    for k in range(G):
        f = P["fst"][k]
        freq[k] = gen.beta(p_anc * (1 - f) / f, (1 - p_anc) * (1 - f) / f)
    freq = np.clip(freq, 1e-4, 1 - 1e-4)
    causal = np.sort(gen.choice(n_snps, size=n_causal, replace=False))
    shared = gen.normal(size=n_causal)
    beta = np.zeros((G, n_snps))
    rho = P["rho"]
    for k in range(G):
        beta[k, causal] = np.sqrt(rho) * shared + np.sqrt(1 - rho) * gen.normal(size=n_causal)
    prev = P["prevalence"]
    return {
        "ancestral_freq": p_anc,
        "freq": freq,
        "causal": causal,
        "beta": beta,
        "h2": P["h2"],
        "n_snps": n_snps,
        "block_size": P["block_size"],
        "ld": P["ld"],
        "threshold": np.nan if prev is None else float(special.ndtri(1 - prev)),
    }


def prs_estimator(method: str = "ridge", alpha: float = 10.0) -> Any:
    r"""A scikit-learn ridge or lasso regressor for polygenic risk scores.

    The PRS of an individual is the fitted linear predictor of the genotype
    counts, :math:`x^\top\hat\beta`. Lasso gets ``max_iter=5000``.

    Parameters
    ----------
    method : {"ridge", "lasso"}, default "ridge"
        The penalty.
    alpha : float, default 10.0
        Penalty strength (positive).

    Returns
    -------
    sklearn.linear_model.Ridge or sklearn.linear_model.Lasso
        An unfitted regressor.

    Examples
    --------
    >>> from sciddm.equitable import prs_estimator
    >>> prs_estimator("lasso", 0.01)
    Lasso(alpha=0.01, max_iter=5000)
    """
    from sklearn.linear_model import Lasso, Ridge

    check_choice(method, "method", ("ridge", "lasso"))
    alpha = check_scalar(alpha, "alpha", lo=0, closed="neither")
    return Ridge(alpha=alpha) if method == "ridge" else Lasso(alpha=alpha, max_iter=5000)


@dataclasses.dataclass(frozen=True, repr=False)
class PRSEvaluation(Result):
    """Per-group accuracy of a polygenic risk score.

    Attributes
    ----------
    groups : ndarray of int
    r2 : ndarray
        Out-of-sample :math:`R^2` (``1 - SSE/SST``) of the score for the
        quantitative trait; for a binary trait, the squared correlation of the
        score with the liability.
    auc : ndarray
        Area under the ROC curve for a binary trait (NaN otherwise).

    Examples
    --------
    >>> from sciddm.equitable import evaluate_prs, prs_estimator, simulate_prs
    >>> d = simulate_prs([400, 400], n_snps=30, n_causal=5, h2=0.5, rng=2)
    >>> ev = evaluate_prs(prs_estimator().fit(d.X, d.y), d)
    >>> ev.groups.tolist(), ev.r2.shape, bool(np.isnan(ev.auc).all())
    ([0, 1], (2,), True)
    """

    groups: np.ndarray
    r2: np.ndarray
    auc: np.ndarray


def evaluate_prs(model: Any, data: PRSData, rows: Any = None) -> PRSEvaluation:
    r"""Score a fitted PRS model on ``data`` (optionally only ``rows``), per group.

    Parameters
    ----------
    model : fitted regressor
        Anything with ``predict(X)``.
    data : PRSData
        The simulated data.
    rows : array_like of int or bool, optional
        Rows to score (indices or a boolean mask); all by default.

    Returns
    -------
    PRSEvaluation
        Out-of-sample :math:`R^2` (and the AUC for a binary trait) per group.

    Examples
    --------
    >>> from sciddm.equitable import evaluate_prs, prs_estimator, simulate_prs
    >>> d = simulate_prs([800, 800], n_snps=50, n_causal=10, h2=0.5, rng=1)
    >>> tr = d.groups >= 0
    >>> tr[::2] = False
    >>> m = prs_estimator().fit(d.X[tr], d.y[tr])
    >>> ev = evaluate_prs(m, d, rows=~tr)
    >>> bool(((ev.r2 > 0.3) & (ev.r2 < 0.6)).all())
    True
    """
    from sklearn.metrics import r2_score, roc_auc_score

    if not isinstance(data, PRSData):
        raise ValueError(f"`data` must be a PRSData, got {type(data).__name__}")
    if not hasattr(model, "predict"):
        raise ValueError(f"`model` must be a fitted regressor with predict(), got {model!r}")
    N = data.y.size
    if rows is None:
        sel = np.arange(N)
    else:
        r = check_array(rows, "rows", ndim=1, dtype=None)
        if r.dtype == bool:
            if r.size != N:
                raise ValueError(f"`rows` as a mask must have length {N}, got {r.size}")
            sel = np.flatnonzero(r)
        elif r.dtype.kind in "iu" or (r.size == 0):
            sel = r.astype(np.intp)
            if sel.size and (sel.min() < -N or sel.max() >= N):
                raise ValueError(f"`rows` must be indices in [0, {N - 1}]")
        else:
            raise ValueError(f"`rows` must be integer indices or a boolean mask, got {r.dtype}")
        if sel.size == 0:
            raise ValueError("`rows` selects no row")
    score = np.asarray(model.predict(data.X[sel]), dtype=float)
    labels = np.unique(data.groups[sel])
    r2 = np.full(labels.size, np.nan)
    auc = np.full(labels.size, np.nan)
    for i, k in enumerate(labels):
        m = data.groups[sel] == k
        if data.binary:
            r2[i] = np.corrcoef(score[m], data.liability[sel][m])[0, 1] ** 2
            yk = data.y[sel][m]
            if 0 < yk.sum() < yk.size:
                auc[i] = roc_auc_score(yk, score[m])
        else:
            r2[i] = r2_score(data.y[sel][m], score[m])
    return PRSEvaluation(groups=labels, r2=r2, auc=auc)
