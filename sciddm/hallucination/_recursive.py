"""Recursive training on a model's own samples, with and without filtering."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from sciddm._core.progress import progress_bar
from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar
from sciddm.hallucination._data import HALLUCINATION, ModeMixture
from sciddm.hallucination._detector import trajectory_variance
from sciddm.hallucination._pipeline import GenerationResult, Recipe, generate, train_sampler

__all__ = ["RecursiveResult", "mode_coverage", "recursive_training"]

logger = logging.getLogger(__name__)


def mode_coverage(
    x: np.ndarray, mixture: ModeMixture, *, k: float = 3.0, min_share: float = 0.25
) -> int:
    """Number of modes that keep their share of the samples.

    A mode is covered when at least ``min_share / n_modes`` of the samples lie
    within ``k`` std of it (it counts as lost below that share).

    Parameters
    ----------
    x : array_like of shape (n, d)
        Samples (at least one).
    mixture : ModeMixture
        The data law.
    k : float, default 3
        Radius in standard deviations, ``> 0``.
    min_share : float, default 0.25
        Fraction of a mode's fair share, in [0, 1].

    Returns
    -------
    int

    References
    ----------
    .. [1] Aithal et al., NeurIPS 2024, Sec. 6 (mode collapse under recursive
       training).

    Examples
    --------
    >>> from sciddm.hallucination import grid_2d, mode_coverage
    >>> g = grid_2d()
    >>> mode_coverage(g.sample(5000, rng=0), g)
    25
    """
    if not isinstance(mixture, ModeMixture):
        raise TypeError(f"`mixture` must be a ModeMixture, got {type(mixture).__name__}")
    k = check_scalar(k, "k", lo=0.0, hi=1e100, closed="right")
    min_share = check_scalar(min_share, "min_share", lo=0.0, hi=1.0)
    x = check_array(x, "x", ndim=2, min_rows=1, shape=(None, mixture.dim))
    r = mixture.distance_in_std(x)
    near = mixture.nearest_mode(x)[r <= k]
    counts = np.bincount(near, minlength=mixture.n_modes)
    return int(np.sum(counts >= min_share * len(x) / mixture.n_modes))


@dataclasses.dataclass(frozen=True, repr=False)
class RecursiveResult(Result):
    """Per-generation statistics of :func:`recursive_training`.

    Attributes
    ----------
    strategy : str
        ``"none"``, ``"variance"`` or ``"random"``.
    hallucination_rate : ndarray, shape (G,)
        Fraction of each generation's samples (before filtering) beyond ``k``
        std of every mode.
    modes_covered : ndarray, shape (G,)
        :func:`mode_coverage` of each generation's samples.
    kept_hallucination_rate : ndarray, shape (G,)
        Hallucination rate of the samples kept to train the next generation.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.hallucination import RecursiveResult
    >>> r = RecursiveResult("none", np.array([0.01, 0.02]), np.array([25, 24]), np.array([0.01, 0.02]))
    >>> r.rows()[1]["modes covered"]
    24
    """

    strategy: str
    hallucination_rate: np.ndarray
    modes_covered: np.ndarray
    kept_hallucination_rate: np.ndarray

    def rows(self) -> list[dict[str, Any]]:
        """One dict per generation (for report tables)."""
        return [
            {
                "strategy": self.strategy,
                "generation": g + 1,
                "hallucination rate": float(h),
                "kept hallucination rate": float(kh),
                "modes covered": int(m),
            }
            for g, (h, kh, m) in enumerate(
                zip(self.hallucination_rate, self.kept_hallucination_rate, self.modes_covered)
            )
        ]


def recursive_training(
    mixture: ModeMixture,
    recipe: Recipe,
    *,
    generations: int = 5,
    n_samples: int = 10_000,
    strategy: str = "variance",
    drop_fraction: float = 0.1,
    window: int | None = None,
    rng: SeedLike = None,
    progress: bool = False,
    first: GenerationResult | None = None,
) -> RecursiveResult:
    """Train generation ``g + 1`` on the (filtered) samples of generation ``g``.

    Generation 1 trains on ``n_samples`` real points. Each generation draws
    ``n_samples`` points; ``strategy`` decides what the next generation sees:
    all of them (``"none"``), all but the ``drop_fraction`` with the highest
    trajectory variance (``"variance"``), or all but a random ``drop_fraction``
    (``"random"``, the control that removes as many samples without looking).
    ``window`` is the trajectory-variance window (default ``recipe.window``).

    Parameters
    ----------
    mixture : ModeMixture
        The real data law.
    recipe : Recipe
        How each generation is trained and sampled.
    generations : int, default 5
        Number of generations, ``1..1000``.
    n_samples : int, default 10000
        Training set and sample size of each generation, ``10..10**7``.
    strategy : {"none", "variance", "random"}, default "variance"
        What is dropped before the next generation trains.
    drop_fraction : float, default 0.1
        Fraction dropped, in [0, 1).
    window : int, optional
        Trajectory-variance window, in ``[2, recipe.window]``.
    rng : numpy.random.Generator, int or None
        Random source of everything (data, training, sampling, random drops).
    progress : bool, default False
        Show a progress bar.
    first : GenerationResult, optional
        Samples of generation 1 already drawn (from a model trained with
        ``recipe`` on ``n_samples`` real points), so that several strategies
        share their first generation (common random numbers) without training
        it again. Its sample count must be ``n_samples``.

    Returns
    -------
    RecursiveResult

    References
    ----------
    .. [1] Aithal et al. 2024, Section 6 (recursive training and model collapse).

    Examples
    --------
    >>> from sciddm.hallucination import Recipe, mixture_1d, recursive_training
    >>> tiny = Recipe(steps=3, batch_size=16, sample_steps=5, window=3, hidden=8, depth=1)
    >>> res = recursive_training(mixture_1d(), tiny, generations=2, n_samples=40, rng=0)
    >>> res.hallucination_rate.shape, res.strategy
    ((2,), 'variance')
    """
    if not isinstance(mixture, ModeMixture):
        raise TypeError(f"`mixture` must be a ModeMixture, got {type(mixture).__name__}")
    if not isinstance(recipe, Recipe):
        raise TypeError(f"`recipe` must be a Recipe, got {type(recipe).__name__}")
    generations = check_int(generations, "generations", lo=1, hi=1000)
    n_samples = check_int(n_samples, "n_samples", lo=10, hi=10**7)
    strategy = check_choice(strategy, "strategy", ("none", "variance", "random"))
    drop_fraction = check_scalar(drop_fraction, "drop_fraction", lo=0, hi=1, closed="left")
    window = (
        recipe.window if window is None else check_int(window, "window", lo=2, hi=recipe.window)
    )
    if first is not None:
        if not isinstance(first, GenerationResult) or first.samples.shape != (
            n_samples,
            mixture.dim,
        ):
            raise ValueError(
                f"`first` must be the GenerationResult of {n_samples} samples of dimension "
                f"{mixture.dim}"
            )
    g = as_generator(rng)
    train = mixture.sample(n_samples, rng=g) if first is None else None
    hall, kept_hall, modes = [], [], []
    for gen in progress_bar(range(generations), enabled=progress, desc=f"recursive ({strategy})"):
        if gen == 0 and first is not None:
            out = first
        else:
            out = generate(train_sampler(train, recipe, rng=g), n_samples, rng=g)
        x, traj = out.samples, out.trajectory
        lab = mixture.classify(x)
        hall.append(float(np.mean(lab == HALLUCINATION)))
        modes.append(mode_coverage(x, mixture))
        n_drop = int(round(drop_fraction * n_samples))
        if strategy == "variance" and n_drop:
            keep = np.argsort(trajectory_variance(traj, window))[: n_samples - n_drop]
        elif strategy == "random" and n_drop:
            keep = g.permutation(n_samples)[: n_samples - n_drop]
        else:
            keep = np.arange(n_samples)
        kept_hall.append(float(np.mean(lab[keep] == HALLUCINATION)))
        logger.info(
            "generation %d (%s): hallucination rate %.4f, modes %d",
            gen + 1,
            strategy,
            hall[-1],
            modes[-1],
        )
        train = x[keep]
    return RecursiveResult(
        strategy=strategy,
        hallucination_rate=np.asarray(hall),
        modes_covered=np.asarray(modes),
        kept_hallucination_rate=np.asarray(kept_hall),
    )
