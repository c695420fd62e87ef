"""Exact samplers of masked diffusion models: ancestral, cached, first-hitting.

All samplers start from the all-[MASK] sequence at ``t = 1`` and accept any
:class:`~sciddm.discrete.Denoiser`. With a schedule ``alpha_t`` (probability
that a token is clean at time t; log-linear by default) the reverse
transition of one masked position from t to s < t is (MDLM, Sahoo et al.
2024, eq. 7)

.. math::

    q(x_s = v \\mid x_t = \\mathrm{m}) =
        \\frac{\\alpha_s - \\alpha_t}{1 - \\alpha_t}\\, p_\\theta(x_0 = v \\mid x_t),
    \\qquad
    q(x_s = \\mathrm{m} \\mid x_t = \\mathrm{m}) = \\frac{1 - \\alpha_s}{1 - \\alpha_t},

and unmasked positions are copied. The samplers here differ only in how they
simulate this chain; the single-step functions (:func:`denoiser_probs`,
:func:`transition_probs`, :func:`sample_transition`, :func:`predict_x0`) are
public (in :mod:`sciddm.discrete._protocol`) so that guidance methods (SVDD,
SMC) reuse them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.rng import UNSET, RNGLike, check_rng, renamed_rng
from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.discrete._protocol import (
    ModelInfo,
    model_info,
    resolve_device,
    resolve_length,
    resolve_schedule,
)
from sciddm.discrete._sampling._categorical import RowGenerator, draw_seeds
from sciddm.discrete._sampling._chains import DTYPES, run_ancestral, run_fhs
from sciddm.discrete._sampling._lsd import LSDSampler, lsd_steps_iv, run_lsd

__all__ = ["METHODS", "SampleResult", "sample", "seeds_iv"]

logger = logging.getLogger(__name__)

METHODS = ("ancestral", "cached", "fhs", "fhs-parallel")
#: Upper guards of ``n`` and ``steps`` (beyond them a run would not end in practice).
MAX_SAMPLES = 2**26
MAX_STEPS = 10_000_000

# --------------------------------------------------------------------------- sample()


@dataclasses.dataclass(frozen=True, repr=False)
class SampleResult(Result):
    """Samples of a masked diffusion model and what they cost.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n, L)
        The samples (no [MASK] or forbidden id).
    texts : list of str or None
        ``model.tokenizer.decode_batch(tokens)`` when the model has a tokenizer.
    nfe : ndarray of int64, shape (n,)
        Network evaluations each sample took part in.
    n_calls : int
        Batched forward passes (network calls) made.
    wall_time : float
        Seconds, decoding excluded.
    seeds : ndarray of int64, shape (n,)
        Seed of each sample: ``sample(..., seeds=[seeds[i]])`` reproduces row i.
    unmask_times : ndarray of float64, shape (n, L)
        Time at which each position was unmasked (the step's ``s`` for the
        ancestral samplers, the first-hitting time for FHS).
    method, steps, k, precision
        As requested (``steps`` None for the first-hitting samplers).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, sample
    >>> m = FunctionModel(lambda x: torch.zeros(*x.shape, 3), vocab_size=3, mask_id=2, length=4)
    >>> r = sample(m, 2, seeds=[0, 1])
    >>> r.tokens.shape, r.n_calls, r.mean_nfe
    ((2, 4), 4, 4.0)
    """

    tokens: np.ndarray
    texts: list[str] | None
    nfe: np.ndarray
    n_calls: int
    wall_time: float
    seeds: np.ndarray
    unmask_times: np.ndarray
    method: str
    steps: int | None
    k: int
    precision: str

    @property
    def mean_nfe(self) -> float:
        """Average network evaluations per sample."""
        return float(np.mean(self.nfe))

    @property
    def time_per_sample(self) -> float:
        """Wall time divided by the number of samples."""
        return self.wall_time / max(len(self.tokens), 1)


def seeds_iv(n: int, seeds: Any, rng: Any) -> np.ndarray:
    """The per-sample seeds: ``seeds`` checked (n non-negative ints < 2**63) or drawn from ``rng``."""
    check_rng(rng, per_row=True)
    if seeds is None:
        return draw_seeds(n, rng)
    if rng is not None:
        raise ValueError("give either `seeds` or `rng`, not both")
    if isinstance(seeds, (str, bytes)) or not np.iterable(seeds):
        raise TypeError(f"`seeds` must be a sequence of integers, got {type(seeds).__name__}")
    seed_arr = np.asarray(RowGenerator(list(np.ravel(np.asarray(seeds, dtype=object)))).seeds)
    if seed_arr.shape[0] != n:
        raise ValueError(
            f"`seeds` must have n = {n} entries (one per sample), got {seed_arr.shape[0]}"
        )
    return seed_arr


def _sample_iv(
    model: Any,
    n: Any,
    length: Any,
    method: str | LSDSampler,
    steps: Any,
    k: Any,
    precision: str,
    seeds: Any,
    rng: Any,
    batch_size: Any,
    noise_removal: str,
    t_min: Any,
    schedule: Any = None,
) -> tuple[ModelInfo, int, int, int | None, int, np.ndarray, int]:
    n = check_int(n, "n", lo=1, hi=MAX_SAMPLES)
    lsd = isinstance(method, LSDSampler)  # a learned sampler (distill_sampler)
    if not lsd:
        check_choice(method, "method", METHODS)
    check_choice(precision, "precision", tuple(DTYPES))
    check_choice(noise_removal, "noise_removal", ("sample", "argmax"))
    check_scalar(t_min, "t_min", lo=0.0, hi=1.0, closed="left")
    info = model_info(model)
    length = resolve_length(info, length)
    k = check_int(k, "k", lo=1, hi=length)
    if method == "fhs" and k != 1:
        raise ValueError(f"`k` must be 1 for method='fhs' (use 'fhs-parallel'), got {k}")
    if isinstance(method, LSDSampler):
        steps = lsd_steps_iv(method, steps, precision, schedule)
    elif method in ("ancestral", "cached"):
        steps = length if steps is None else check_int(steps, "steps", lo=1, hi=MAX_STEPS)
    elif steps is not None:
        check_int(steps, "steps", lo=1)
        steps = None
    if method == "cached" and info.time_conditioned:
        raise ValueError(
            "method='cached' reuses p_theta(x0 | x_t) across times and needs a time-agnostic "
            "model; this model is time_conditioned"
        )
    seed_arr = seeds_iv(n, seeds, rng)
    bs = n if batch_size is None else check_int(batch_size, "batch_size", lo=1)
    return info, n, length, steps, k, seed_arr, bs


def sample(
    model: Any,
    n: int,
    *,
    length: int | None = None,
    method: str | LSDSampler = "fhs",
    steps: int | None = None,
    k: int = 1,
    precision: str = "float64",
    seeds: Sequence[int] | np.ndarray | None = None,
    rng: RNGLike = None,
    device: Any = None,
    batch_size: int | None = None,
    noise_removal: str = "sample",
    schedule: Any = None,
    t_min: float = 1e-5,
    progress: bool = False,
    generator: Any = UNSET,
) -> SampleResult:
    """Draw ``n`` sequences from a masked diffusion model.

    Parameters
    ----------
    model : Denoiser
        See :mod:`sciddm.discrete._protocol`; e.g. the MDLM model or a
        :class:`FunctionModel`.
    n : int
        Number of samples (>= 1).
    length : int, optional
        Sequence length; defaults to ``model.length``.
    method : {"fhs", "ancestral", "cached", "fhs-parallel"}, default "fhs"
        * ``"ancestral"``: MDLM's ``ddpm`` sampler, ``steps`` steps on the
          grid ``linspace(1, t_min, steps + 1)`` then a final noise-removal
          step from ``t_min`` to 0; one network call per step.
        * ``"cached"``: the same chain, but ``p_theta`` is recomputed only for
          samples whose sequence changed since their last call (exact for
          time-agnostic models): at most ``L`` network evaluations per sample
          whatever ``steps``.
        * ``"fhs"``: first-hitting sampler: with ``m`` masked tokens at time t
          the next unmasking time is ``alpha^{-1}(1 - u^{1/m}(1 - alpha_t))``;
          one uniformly chosen masked position is unmasked there with a token
          drawn from ``p_theta``. Exactly ``L`` calls; the continuous-time
          limit of ``"ancestral"``.
        * ``"fhs-parallel"``: ``k`` positions per call, each drawn independently
          from the same ``p_theta`` (``ceil(L/k)`` calls; an approximation for
          ``k > 1``: it ignores the dependence between tokens unmasked together).
        * an :class:`~sciddm.discrete.LSDSampler` (from
          :func:`~sciddm.discrete.distill_sampler`): the ancestral chain on the
          sampler's learned grid with its per-step logit scales; its ``K``
          steps (``steps`` must be None or ``K``), float64 draws, and its own
          schedule and ``t_min`` (``schedule`` must be None; ``t_min`` is
          not used).
    steps : int, optional
        Steps of the ancestral samplers (default ``L``); ignored by FHS.
    k : int, default 1
        Tokens per call for ``"fhs-parallel"``; ``1 <= k <= L``.
    precision : {"float64", "float32"}, default "float64"
        Categorical draws by float64 inverse CDF (exact), or MDLM's float32
        Gumbel-max (biased towards likely tokens; for demonstration).
    seeds : sequence of int, optional
        One seed per sample; sample ``i`` depends only on ``seeds[i]`` (not on
        ``n``, ``batch_size`` or the device): its random numbers are the same
        everywhere (integer hashing, :class:`RowGenerator`), so tokens can only
        differ where the network's own outputs differ in floating point across
        batch shapes or devices.
    rng : None, int, numpy.random.Generator, torch.Generator or list of torch.Generator
        Source of the per-sample seeds when ``seeds`` is not given (one seed
        is drawn per sample; with a list of ``n`` torch generators, seed ``i``
        comes from generator ``i``). Give ``seeds`` or ``rng``, not both.
    device : str or torch.device, optional
        Defaults to the device of the model's parameters (CPU otherwise).
    batch_size : int, optional
        Samples per batch (default all ``n``).
    noise_removal : {"sample", "argmax"}, default "sample"
        Final step of the ancestral samplers from ``t_min`` to 0: ``"sample"``
        keeps the chain exact; ``"argmax"`` is MDLM's released behaviour.
    schedule : object with ``alpha`` and ``alpha_inv``, optional
        Log-linear ``alpha_t = 1 - (1 - 1e-3) t`` by default.
    t_min : float, default 1e-5
        Last time of the ancestral grid (MDLM's ``eps``).
    progress : bool, default False
        Show a progress bar.
    generator : optional
        Deprecated spelling of ``rng``.

    Returns
    -------
    SampleResult
        The tokens (and decoded texts), per-sample seeds and unmasking times,
        and the cost (network evaluations, calls, wall time).

    Notes
    -----
    Exactness. For a time-agnostic model, every sampler's output law is a
    mixture over unmasking orders of products of ``p_theta`` factors; FHS
    (and the ancestral chain as ``steps -> inf``) unmasks one token per call,
    which reproduces exactly the law of the continuous-time reverse chain.
    The step-wise ancestral chain unmasks several tokens at once when two
    positions fall in the same step, each from the same ``p_theta``.
    Validation: every network output is checked (shape, NaN, +inf, the
    normalisation of declared probabilities) before any draw uses it, so a
    bad model fails at the first call.

    Cost per sample (n_calls network calls of batch size n, plus sampling
    work): ancestral ``steps + 1`` calls and a float64 softmax over the masked
    positions' ``V`` logits at each step; cached at most ``L`` calls, the
    softmax only after a call, and O(1) work per masked position per step
    otherwise (the float64 draw first decides "stays masked" from a stored
    partial sum); FHS ``L`` calls and one softmax row per call. float32
    sampling draws ``V`` Gumbel variables per masked position per step.

    See Also
    --------
    sample_distributed : split seeds over processes / GPUs.
    sample_transition, denoiser_probs, transition_probs, predict_x0 :
        single steps, for guidance methods.

    References
    ----------
    .. [1] Sahoo et al., "Simple and effective masked diffusion language
       models", NeurIPS 2024, Sec. 3 and the ``ddpm``/``ddpm_cache`` samplers.
    .. [2] Zheng et al., "Masked diffusion models are secretly time-agnostic
       masked models and exploit inaccurate categorical sampling",
       arXiv:2409.02908 (2024), Sec. 3 (FHS, Prop. 3.1) and Sec. 4.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import FunctionModel, sample
    >>> logits = torch.log(torch.tensor([0.5, 0.3, 0.2, 0.0]))
    >>> m = FunctionModel(lambda x: logits.expand(*x.shape, 4), vocab_size=4, mask_id=3)
    >>> r = sample(m, 8, length=5, method="fhs", seeds=range(8))
    >>> r.tokens.shape, r.n_calls, bool((r.tokens != 3).all())
    ((8, 5), 5, True)
    >>> r2 = sample(m, 3, length=5, method="fhs", seeds=[5, 6, 7])
    >>> bool((r2.tokens == r.tokens[5:]).all())     # per-seed reproducibility
    True
    """
    rng = renamed_rng(rng, generator, "generator", func="sample")
    info, n, length, steps, k, seed_arr, bs = _sample_iv(
        model,
        n,
        length,
        method,
        steps,
        k,
        precision,
        seeds,
        rng,
        batch_size,
        noise_removal,
        t_min,
        schedule,
    )
    sch = resolve_schedule(schedule)
    dev = resolve_device(model, device)
    toks, nfes, tms = [], [], []
    calls = 0
    t0 = time.perf_counter()
    for start in range(0, n, bs):
        chunk = seed_arr[start : start + bs]
        gen = RowGenerator(chunk, device=dev)
        x = torch.full((len(chunk), length), info.mask_id, dtype=torch.long, device=dev)
        if isinstance(method, LSDSampler):
            x, nfe, c, tm = run_lsd(
                model, info, x, gen, method, noise_removal=noise_removal, progress=progress
            )
        elif method in ("ancestral", "cached"):
            assert steps is not None
            x, nfe, c, tm = run_ancestral(
                model,
                info,
                x,
                gen,
                steps=steps,
                cached=method == "cached",
                precision=precision,
                schedule=sch,
                noise_removal=noise_removal,
                t_min=float(t_min),
                progress=progress,
            )
        else:
            x, nfe, c, tm = run_fhs(
                model, info, x, gen, k=k, precision=precision, schedule=sch, progress=progress
            )
        toks.append(x.cpu())
        nfes.append(nfe)
        tms.append(tm.cpu())
        calls += c
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = time.perf_counter() - t0
    tokens = torch.cat(toks).numpy().astype(np.int64)
    tok = getattr(model, "tokenizer", None)
    texts = (
        list(tok.decode_batch(tokens)) if tok is not None and hasattr(tok, "decode_batch") else None
    )
    logger.debug("sampled %d x %d with %s in %.3fs (%d calls)", n, length, method, wall, calls)
    return SampleResult(
        tokens=tokens,
        texts=texts,
        nfe=np.concatenate(nfes),
        n_calls=calls,
        wall_time=wall,
        seeds=seed_arr,
        unmask_times=torch.cat(tms).numpy(),
        method=method if isinstance(method, str) else method.name,
        steps=steps,
        k=k,
        precision=precision,
    )
