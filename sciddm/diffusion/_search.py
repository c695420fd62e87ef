r"""Search for the noise schedule (and per-step solver) that a fixed NFE buys best.

:func:`search_schedule` looks for the ladder :math:`\sigma_{max} = \sigma_0 >
\sigma_1 > \dots > \sigma_{n-1} \ge \sigma_{min} > \sigma_n = 0` that minimises a
fitness of a sampler's output at a fixed number of denoiser evaluations, with a
budget counted in denoiser (network) calls. Searches: an evolutionary one
(AutoDiffusion, Li et al. 2023: a population, mutation in :math:`\log\sigma`,
one-point crossover, truncation selection) and a gradient-free local search
(coordinate moves in :math:`\log\sigma` with halving steps). With
``per_step_solver=True`` every step also chooses its solver (order, single-step
or multistep, data or noise prediction; USF, Liu et al. 2024) at a total NFE no
larger than ``nfe``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.rng import RNGLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar
from sciddm.diffusion._gaussian_law import PLAN_OF, SAMPLER_OPTIONS
from sciddm.diffusion._search_fitness import (
    STANDARD,
    Fitness,
    FlowFitness,
    FrechetFitness,
    W2Fitness,
    levels_for_nfe,
    standard_schedules,
)
from sciddm.diffusion._search_space import Candidate, Space
from sciddm.diffusion._solvers import SOLVERS, sample_mixed

__all__ = ["ScheduleSearchResult", "search_schedule"]

logger = logging.getLogger(__name__)

_METHODS = ("evolution", "local")
_FITNESSES = ("auto", "w2", "flow", "frechet")


@dataclasses.dataclass(frozen=True, repr=False)
class ScheduleSearchResult(Result):
    r"""A searched noise schedule, its fitness, the fixed schedules' and the search trace.

    Attributes
    ----------
    sigmas : numpy.ndarray
        The searched ladder (``sigmas[0] = sigma_max``, strictly decreasing,
        ending in 0): pass it as ``sigmas=`` to any sampler or to :func:`sample`
        (teleportation included).
    solvers : tuple of str or None
        With ``per_step_solver=True``, the step kinds for :func:`sample_mixed`;
        otherwise None (use ``sampler``).
    fitness : float
        Its fitness (lower is better).
    fitness_name : {"w2", "flow", "frechet"}
    sampler : str
    sampler_options : dict
    nfe : int
        The requested maximum of denoiser evaluations per sample.
    nfe_used : int
        Evaluations of the searched schedule (``nfe``, or ``nfe - 1`` for Heun
        at an even ``nfe``).
    baselines : dict of str to float
        Fitness of the fixed schedules (:func:`standard_schedules`: ``karras``,
        ``linear``, ``log_snr``, ``vp``) with ``sampler`` at the same NFE.
    baseline_sigmas : dict of str to numpy.ndarray
    trace_calls : numpy.ndarray
        Network calls spent after each evaluation.
    trace_fitness : numpy.ndarray
        Fitness of each evaluated candidate, in order (the fixed schedules first).
    trace_best : numpy.ndarray
        Best fitness so far.
    network_calls : int
        Denoiser calls charged against ``budget``: the batched calls made
        (reference solves included); the closed-form ``"w2"`` makes none and is
        charged each candidate's NFE, so that a budget buys the same number of
        candidates whatever the fitness.
    evaluations : int
        Fitness evaluations (distinct candidates).
    budget : int
    method : {"evolution", "local"}
    reference_error : float or None
        ``"flow"`` only: RMS distance between the reference solution and one
        with half its steps (an upper bound on the reference's own error).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sciddm.diffusion import GaussianDenoiser, search_schedule
    >>> g = GaussianDenoiser(np.zeros(2), np.diag([0.05, 1.0]))
    >>> res = search_schedule(g, 4, sampler="euler", budget=200, rng=0)
    >>> sorted(res.baselines), res.evaluations == len(res.trace_fitness)
    (['karras', 'linear', 'log_snr', 'vp'], True)
    >>> out = res.sample(g, 80.0 * torch.randn(5, 2, dtype=torch.float64))
    >>> out.nfe, out.samples.shape
    (4, torch.Size([5, 2]))
    """

    sigmas: np.ndarray
    solvers: tuple[str, ...] | None
    fitness: float
    fitness_name: str
    sampler: str
    sampler_options: dict[str, float]
    nfe: int
    nfe_used: int
    baselines: dict[str, float]
    baseline_sigmas: dict[str, np.ndarray]
    trace_calls: np.ndarray
    trace_fitness: np.ndarray
    trace_best: np.ndarray
    network_calls: int
    evaluations: int
    budget: int
    method: str
    reference_error: float | None = None

    @property
    def best_baseline(self) -> tuple[str, float]:
        """Name and fitness of the best fixed schedule."""
        name = min(self.baselines, key=lambda k: self.baselines[k])
        return name, self.baselines[name]

    @property
    def improvement(self) -> float:
        """Relative reduction of the fitness against the best fixed schedule."""
        best = self.best_baseline[1]
        return 1.0 - self.fitness / best if best > 0 else 0.0

    def sample(self, denoiser: Any, x: torch.Tensor, *, rng: RNGLike = None) -> Any:
        """Run the searched schedule (and plan) from ``x`` at ``sigmas[0]``.

        Parameters
        ----------
        denoiser : Denoiser
            Usually the one searched for; any denoiser of the same data shape.
        x : torch.Tensor of shape (batch, ...)
            Start state at ``sigmas[0]``, e.g. ``sigmas[0] * randn``.
        rng : random source, optional
            The sampler's noise (stochastic samplers only).

        Returns
        -------
        SampleResult
        """
        from sciddm.diffusion._samplers import _SAMPLERS

        if self.solvers is not None:
            return sample_mixed(denoiser, x, self.sigmas, solvers=self.solvers, rng=rng)
        return _SAMPLERS[self.sampler](denoiser, x, self.sigmas, rng=rng, **self.sampler_options)

    def plot(self, ax: Any = None) -> Any:
        """Draw the search trace: every fitness, the best so far and the fixed schedules.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        ax.plot(self.trace_calls, self.trace_fitness, ".", color="0.7", ms=3, label="candidates")
        ax.step(self.trace_calls, self.trace_best, where="post", color="C3", label="best so far")
        for j, (name, v) in enumerate(sorted(self.baselines.items())):
            ax.axhline(v, color=f"C{j}", ls="--", lw=1, label=name)
        finite = self.trace_fitness[np.isfinite(self.trace_fitness)]
        if finite.size and finite.min() > 0:
            ax.set_yscale("log")
            top = max(self.baselines.values())
            ax.set_ylim(self.fitness / 1.5, max(top * 1.5, self.fitness * 2))
        ax.set_xlabel("network calls spent")
        ax.set_ylabel(f"fitness ({self.fitness_name})")
        ax.set_title(f"{self.method} search, {self.sampler}, NFE {self.nfe_used}")
        ax.legend(fontsize="small")
        return ax

    def plot_schedules(self, ax: Any = None) -> Any:
        """Draw the searched ladder against the fixed ones (log sigma per step).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        for j, (name, s) in enumerate(sorted(self.baseline_sigmas.items())):
            ax.plot(np.arange(len(s) - 1), s[:-1], "o--", color=f"C{j}", ms=3, lw=1, label=name)
        s = self.sigmas
        ax.plot(np.arange(len(s) - 1), s[:-1], "s-", color="k", lw=2, label="searched")
        if self.solvers is not None:
            for i, k in enumerate(self.solvers[:-1]):
                ax.annotate(k, (i, s[i]), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("sigma")
        ax.legend(fontsize="small")
        return ax


class _BudgetExhausted(Exception):
    pass


class _Searcher:
    """Evaluates candidates within a budget, caching them and recording the trace."""

    def __init__(self, space: Space, fitness: Fitness, budget: int) -> None:
        self.space, self.fitness, self.budget = space, fitness, budget
        self.spent = fitness.setup_calls
        self.cache: dict[Any, float] = {}
        self.calls: list[int] = []
        self.values: list[float] = []
        self.best: Candidate | None = None
        self.best_value = math.inf
        self.first_error: Exception | None = None

    def __call__(self, c: Candidate) -> float:
        key = self.space.key(c)
        if key in self.cache:
            return self.cache[key]
        cost = self.space.cost(c)
        if self.spent + cost > self.budget:
            raise _BudgetExhausted
        try:
            value, calls = self.fitness(self.space.ladder(c), c.plan)
        except (ValueError, FloatingPointError) as err:  # a candidate that blows the net up
            self.first_error = self.first_error or err
            value, calls = math.inf, cost
        if not math.isfinite(value):
            value = math.inf
        self.spent += calls
        self.cache[key] = value
        self.calls.append(self.spent)
        self.values.append(value)
        if value < self.best_value:
            self.best, self.best_value = c, value
        return value


def _evolution(
    ev: _Searcher, seeds: list[Candidate], rng: np.random.Generator, population: int
) -> None:
    """AutoDiffusion-style (mu + lambda) evolution until the budget is spent."""
    space = ev.space
    pop = sorted({space.key(c): c for c in seeds}.values(), key=ev)
    tries = 0
    while len(pop) < population and tries < 20 * population:
        tries += 1
        parent = pop[int(rng.integers(min(len(pop), 4)))]
        child = space.mutate(parent, rng, float(np.exp(rng.uniform(np.log(0.05), np.log(1.0)))))
        if space.key(child) not in {space.key(p) for p in pop}:
            ev(child)
            pop.append(child)
    n_par = max(2, population // 2)
    stall = 0
    while stall < 50:
        pop.sort(key=ev)
        parents = pop[:n_par]
        children = []
        for _ in range(population):
            scale = float(np.exp(rng.uniform(np.log(0.01), np.log(0.7))))
            if rng.random() < 0.5 and len(parents) >= 2:
                i, j = rng.choice(len(parents), 2, replace=False)
                child = space.crossover(parents[i], parents[j], rng)
                if rng.random() < 0.5:
                    child = space.mutate(child, rng, scale)
            else:
                child = space.mutate(parents[int(rng.integers(len(parents)))], rng, scale)
            fresh = space.key(child) not in ev.cache
            ev(child)
            children.append(child)
            stall = 0 if fresh else stall + 1
        merged = {space.key(c): c for c in pop + children}
        pop = sorted(merged.values(), key=ev)[:population]


def _local(ev: _Searcher, start: Candidate, rng: np.random.Generator, delta_min: float) -> None:
    """Coordinate search in log sigma (and per-step kinds), halving the step when stuck."""
    space = ev.space
    best = start
    f_best = ev(best)
    delta = 0.5
    while delta >= delta_min:
        improved = False
        for i in rng.permutation(len(best.logs)):
            for sign in (1.0, -1.0) if rng.random() < 0.5 else (-1.0, 1.0):
                cand = space.coordinate(best, int(i), sign * delta, rng)
                f = ev(cand)
                if f < f_best:
                    best, f_best, improved = cand, f, True
                    break
        if best.plan is not None:
            for i in rng.permutation(len(best.plan) - 1):
                for kind in SOLVERS:
                    # an accepted move may have repaired the plan to fewer steps
                    if int(i) >= len(best.plan) - 1 or kind == best.plan[int(i)]:
                        continue
                    cand = space.with_kind(best, int(i), kind, rng)
                    f = ev(cand)
                    if f < f_best:
                        best, f_best, improved = cand, f, True
        if not improved:
            delta /= 2


def _infer_device(denoiser: Any, device: Any) -> tuple[torch.device, torch.dtype]:
    params = list(denoiser.parameters()) if isinstance(denoiser, torch.nn.Module) else []
    if device is None:
        device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params else torch.float64
    try:
        return torch.device(device), dtype
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"`device` must name a torch device such as 'cpu', got {device!r}"
        ) from err


def _search_iv(
    denoiser: Any, nfe: Any, kw: dict[str, Any]
) -> tuple[int, str, dict[str, float], str, str, float, float, int]:
    if not callable(denoiser):
        raise TypeError(f"`denoiser` must be a callable D(x, sigma), got {type(denoiser).__name__}")
    nfe = check_int(nfe, "nfe", lo=1, hi=10_000)
    sampler = check_choice(kw["sampler"], "sampler", tuple(SAMPLER_OPTIONS))
    opts_in = kw["sampler_options"] or {}
    if not isinstance(opts_in, dict):
        raise TypeError(f"`sampler_options` must be a dict or None, got {type(opts_in).__name__}")
    opts: dict[str, float] = {}
    for k, v in opts_in.items():
        if k not in SAMPLER_OPTIONS[sampler]:
            allowed = ", ".join(SAMPLER_OPTIONS[sampler]) or "none"
            raise ValueError(
                f"`sampler_options` has {k!r}, which sampler={sampler!r} does not take "
                f"(allowed: {allowed})"
            )
        opts[k] = check_scalar(v, f"sampler_options[{k!r}]", lo=0.0, allow_inf=(k == "s_tmax"))
    stochastic = sampler == "ancestral" or opts.get("eta", 0) > 0 or opts.get("s_churn", 0) > 0
    method = check_choice(kw["method"], "method", _METHODS)
    fitness = check_choice(kw["fitness"], "fitness", _FITNESSES)
    gaussian = hasattr(denoiser, "pf_ode") and hasattr(denoiser, "lam_")
    if fitness == "auto":
        fitness = "w2" if gaussian else ("frechet" if kw["reference"] is not None else "flow")
    if fitness == "w2" and not gaussian:
        raise ValueError(
            "fitness='w2' needs a GaussianDenoiser `denoiser` (the exact law); use "
            "fitness='flow' or 'frechet' for other denoisers"
        )
    if fitness == "frechet" and kw["reference"] is None:
        raise ValueError("fitness='frechet' needs `reference`, a data set (n, ...) to compare with")
    if fitness == "flow" and stochastic:
        raise ValueError(
            f"fitness='flow' compares with the probability-flow ODE and needs a deterministic "
            f"sampler; sampler={sampler!r} with {opts or 'its defaults'} is stochastic "
            "(use fitness='frechet' or 'w2')"
        )
    if kw["per_step_solver"] not in (True, False):
        raise TypeError(f"`per_step_solver` must be a bool, got {kw['per_step_solver']!r}")
    if kw["per_step_solver"] and (sampler not in PLAN_OF or stochastic):
        raise ValueError(
            "`per_step_solver=True` needs a deterministic `sampler` among 'euler', 'heun', "
            f"'ddim' (eta=0), 'dpmpp_2m' as its baseline, got {sampler!r} with {opts}"
        )
    smin = check_scalar(kw["sigma_min"], "sigma_min", lo=0.0, closed="neither")
    smax = check_scalar(kw["sigma_max"], "sigma_max", lo=smin, closed="neither")
    if smax <= smin * 1.01:
        raise ValueError(f"`sigma_max` must exceed `sigma_min` by more than 1%, got {smax}, {smin}")
    population = check_int(kw["population"], "population", lo=2, hi=10_000)
    return nfe, sampler, opts, method, fitness, smin, smax, population


def _make_fitness(
    denoiser: Any,
    fitness: str,
    sampler: str,
    opts: dict[str, float],
    kw: dict[str, Any],
    smin: float,
    smax: float,
    rng: np.random.Generator,
) -> Fitness:
    if fitness == "w2":
        return W2Fitness(denoiser, sampler, opts)
    device, dtype = _infer_device(denoiser, kw["device"])
    n = check_int(kw["n_samples"], "n_samples", lo=2, hi=10**7)
    shape = kw["shape"]
    if fitness == "frechet":
        ref = kw["reference"]
        if isinstance(ref, torch.Tensor):
            ref = ref.detach().cpu().double().numpy()
        ref = check_array(ref, "reference", ndim=None, min_rows=2)
        if ref.ndim < 2:
            raise ValueError(f"`reference` must have shape (n, ...), got {ref.shape}")
        shape = shape or ref.shape[1:]
    if shape is None:
        for attr in ("dim",):
            if isinstance(getattr(denoiser, attr, None), int):
                shape = (denoiser.dim,)
    if shape is None:
        raise ValueError(
            "`shape` (the shape of one sample) is needed for this denoiser; pass shape=(d,) "
            "or a `reference` data set"
        )
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"`shape` must be a tuple of ints (one sample's shape), got {shape!r}")
    shape = tuple(check_int(v, "shape", lo=1, hi=2**31) for v in shape)
    if not shape or int(np.prod(shape)) > 10**8:
        raise ValueError(f"`shape` must describe a sample of 1 to 1e8 numbers, got {shape}")
    z = torch.as_tensor(rng.standard_normal((n, *shape)), dtype=dtype).to(device)
    if fitness == "flow":
        steps = check_int(kw["reference_steps"], "reference_steps", lo=2, hi=100_000)
        return FlowFitness(denoiser, sampler, opts, z, smax, smin, steps)
    features = kw["features"]
    if features is not None and not callable(features):
        raise TypeError("`features` must be callable (e.g. a fitted PCAFeatures) or None")
    seed = int(rng.integers(2**62))
    return FrechetFitness(denoiser, sampler, opts, z, smax, ref, features, seed)


def _seeds(space: Space, sampler: str, nfe: int, smin: float, smax: float) -> list[Candidate]:
    """The fixed schedules (first) and a few more starting points."""
    n = levels_for_nfe(sampler, nfe)
    base = standard_schedules(n, sigma_min=smin, sigma_max=smax)
    plan = (PLAN_OF[sampler],) * n if space.per_step else None
    seeds = [space.from_ladder(base[k], plan) for k in STANDARD]
    from sciddm.diffusion._schedules import karras_sigmas

    for rho in (3.0, 5.0, 10.0):
        seeds.append(
            space.from_ladder(karras_sigmas(n, sigma_min=smin, sigma_max=smax, rho=rho), plan)
        )
    if space.per_step:
        for kind, m in (("2m", nfe), ("2m_noise", nfe), ("heun_data", (nfe + 1) // 2)):
            lad = karras_sigmas(m, sigma_min=smin, sigma_max=smax)
            seeds.append(space.from_ladder(lad, (kind,) * m))
    return seeds


def _init_iv(init: Any, space: Space, sampler: str) -> list[Candidate]:
    """Starting ladders given by the user (a ladder, a result, or a list of them)."""
    from sciddm.diffusion._schedules import check_sigmas

    if init is None:
        return []
    many = isinstance(init, (list, tuple)) and any(
        isinstance(v, (list, tuple, np.ndarray, ScheduleSearchResult)) for v in init
    )
    out = []
    for item in init if many else [init]:
        plan: tuple[str, ...] | None = None
        ladder = item
        if isinstance(item, ScheduleSearchResult):
            ladder, plan = item.sigmas, item.solvers
        s = check_sigmas(ladder, "init", require_zero=True)
        if not math.isclose(s[0], space.sigma_max, rel_tol=1e-9):
            raise ValueError(
                f"`init` ladders must start at sigma_max = {space.sigma_max:g}, got {s[0]:g}"
            )
        if np.any(np.diff(s) == 0) or s[-2] < space.sigma_min * (1 - 1e-9):
            raise ValueError(
                f"`init` ladders must be strictly decreasing with levels >= sigma_min = "
                f"{space.sigma_min:g} before the final 0"
            )
        s[0] = space.sigma_max
        if space.per_step:
            plan = plan if plan is not None else (PLAN_OF[sampler],) * (len(s) - 1)
            c = space.from_ladder(s, tuple(plan))
        else:
            if len(s) - 1 != space.n_levels:
                raise ValueError(
                    f"`init` ladders must have {space.n_levels} levels before the final 0 for "
                    f"sampler={sampler!r} at nfe={space.nfe}, got {len(s) - 1}"
                )
            c = space.from_ladder(s)
        if space.cost(c) > space.nfe:
            raise ValueError(
                f"an `init` plan costs {space.cost(c)} evaluations > nfe = {space.nfe}"
            )
        out.append(c)
    return out


def search_schedule(
    denoiser: Any,
    nfe: int,
    *,
    sampler: str = "heun",
    fitness: str = "auto",
    reference: Any = None,
    features: Any = None,
    budget: int | None = None,
    method: str = "evolution",
    per_step_solver: bool = False,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    population: int = 16,
    n_samples: int = 512,
    reference_steps: int = 128,
    shape: Any = None,
    sampler_options: dict[str, float] | None = None,
    init: Any = None,
    device: Any = None,
    rng: RNGLike = None,
) -> ScheduleSearchResult:
    r"""Search the noise schedule that gives the best samples for ``nfe`` denoiser calls.

    The ladder starts at ``sigma_max`` (where the sampler's noise
    ``sigma_max * z`` starts), has strictly decreasing levels in
    ``[sigma_min, sigma_max)`` and ends in 0; its number of levels is the most
    that ``sampler`` runs with ``nfe`` evaluations (Heun: :math:`2n - 1 \le`
    ``nfe``). The fixed schedules of :func:`standard_schedules` at the same NFE
    are evaluated first and seed the search, so the result is never worse than
    the best of them on the search's own fitness.

    Parameters
    ----------
    denoiser : Denoiser
        :math:`D(x, \sigma)`: a closed form or a trained network.
    nfe : int
        Denoiser evaluations per sample, ``nfe >= 1``.
    sampler : {"heun", "euler", "ddim", "dpmpp_2m", "ancestral"}, default "heun"
        The sampler the schedule is searched for (and the baselines' sampler).
    fitness : {"auto", "w2", "flow", "frechet"}, default "auto"
        ``"w2"``: exact :math:`W_2` to the data law (``denoiser`` a
        :class:`GaussianDenoiser`; :func:`gaussian_output_law`). ``"flow"``:
        RMS distance :math:`\sqrt{E\lVert x - x^\star\rVert^2}` of the endpoints to
        a converged Heun solution :math:`x^\star` of the same probability-flow
        ODE from the same noise (deterministic samplers; any denoiser).
        ``"frechet"``: Fréchet distance to ``reference`` on ``features``.
        ``"auto"``: ``"w2"`` for a Gaussian denoiser, else ``"frechet"`` when
        ``reference`` is given, else ``"flow"``.
    reference : array_like of shape (m, ...), optional
        Data for ``"frechet"``.
    features : callable, optional
        Feature map for ``"frechet"`` (e.g. a fitted :class:`PCAFeatures` or
        :class:`ClassifierFeatures`); raw (flattened) samples when None.
    budget : int, optional
        Network calls the search may spend, reference solves included
        (default: the reference solves plus ``100 * nfe``, about 100
        candidates). It must cover the fixed schedules' evaluations.
    method : {"evolution", "local"}, default "evolution"
        Evolutionary search (population, mutation, crossover, selection) on
        three quarters of the budget left after the fixed schedules, then a
        local polish of its best; or coordinate local search alone, from the
        best starting ladder. The local search stops early once its step falls
        below 1e-3 in :math:`\log\sigma`.
    per_step_solver : bool, default False
        Also choose each step's solver among :data:`SOLVERS`
        (:func:`sample_mixed`) at total NFE at most ``nfe``; ``sampler`` then
        sets the baselines and must be deterministic.
    sigma_min, sigma_max : float
        Bounds of the ladder (``sigma_max`` is its first level).
    population : int, default 16
        Population of the evolutionary search.
    n_samples : int, default 512
        Starting points of ``"flow"`` and ``"frechet"`` (drawn once: common
        random numbers for every candidate).
    reference_steps : int, default 128
        Heun levels of the reference solution of ``"flow"`` (Karras
        :math:`\rho = 7`); a solution with half the levels estimates its error
        (``reference_error``).
    shape : tuple of int, optional
        Shape of one sample, needed for ``"flow"`` unless ``denoiser`` has an
        integer ``dim``; ``"frechet"`` takes it from ``reference``.
    sampler_options : dict, optional
        The sampler's options (``eta``, ``s_churn``, ...), used everywhere.
    init : array_like, ScheduleSearchResult or list of them, optional
        More starting ladders (e.g. a schedule searched on a cheap proxy, to
        refine on the real denoiser): each starts at ``sigma_max``, has the
        search's number of levels (or, with ``per_step_solver``, a plan of at
        most ``nfe`` evaluations) and ends in 0.
    device : str or torch.device, optional
        Where the starting noise lives (default: the network's device, or CPU).
    rng : None, int or numpy.random.Generator
        Random source of the search and of the starting noise; the same
        ``rng`` gives the same result.

    Returns
    -------
    ScheduleSearchResult
        ``sigmas`` (and ``solvers``), ``fitness``, ``baselines``, the trace,
        ``network_calls``; ``plot()`` and ``plot_schedules()``.

    Notes
    -----
    The evolutionary search keeps a population of ``population`` ladders; each
    generation, the better half are parents of ``population`` children made by
    one-point crossover in :math:`\log\sigma` (half of them) and Gaussian
    mutation of some :math:`\log\sigma_i` with a random scale in
    :math:`[0.01, 0.7]`; the best ``population`` of parents and children
    survive. The local search moves one :math:`\log\sigma_i` at a time by
    :math:`\pm\delta` (and, with a plan, tries every other kind at each step),
    keeps any improvement and halves :math:`\delta` (from 0.5) after a sweep
    without one. Every candidate is repaired to a strictly decreasing ladder with
    the right number of levels (or a plan costing exactly ``nfe``), and
    evaluated once (a cache). Because every fitness is deterministic — the
    same noise for every candidate — the comparison of two schedules is not
    drowned in sampling noise; the fitness is therefore biased towards that
    noise draw, and the search's result should be validated on fresh noise.

    References
    ----------
    .. [1] Li, Li, Zhu, Wang, Lin, Ji, et al., "AutoDiffusion: Training-free
       optimization of time steps and architectures for automated diffusion
       model acceleration", ICCV 2023.
    .. [2] Liu, Wang, Cheng, Chen, Li, Wen, Li, "A unified sampling framework
       for solver searching of diffusion probabilistic models", ICLR 2024.
    .. [3] Karras, Aittala, Aila, Laine, "Elucidating the design space of
       diffusion-based generative models", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import GaussianDenoiser, search_schedule
    >>> g = GaussianDenoiser(np.zeros(3), np.diag([0.01, 0.25, 1.0]))
    >>> res = search_schedule(g, 6, sampler="dpmpp_2m", budget=600, rng=0)
    >>> res.nfe_used, res.network_calls <= 600, len(res.sigmas)
    (6, True, 7)
    >>> bool(res.fitness <= min(res.baselines.values())), res.best_baseline[0]
    (True, 'log_snr')
    """
    kw = {
        "sampler": sampler,
        "fitness": fitness,
        "reference": reference,
        "features": features,
        "method": method,
        "per_step_solver": per_step_solver,
        "sigma_min": sigma_min,
        "sigma_max": sigma_max,
        "population": population,
        "n_samples": n_samples,
        "reference_steps": reference_steps,
        "shape": shape,
        "sampler_options": sampler_options,
        "device": device,
    }
    nfe, sampler, opts, method, fit_name, smin, smax, population = _search_iv(denoiser, nfe, kw)
    gen = as_generator(rng)
    space = Space(
        math.log(smax),
        math.log(smin),
        nfe,
        sampler,
        bool(per_step_solver),
        levels_for_nfe(sampler, nfe),
        smax,
        smin,
    )
    seeds = _seeds(space, sampler, nfe, smin, smax)
    seeds[len(STANDARD) : len(STANDARD)] = _init_iv(init, space, sampler)
    setup = 0
    if fit_name == "flow":
        steps = check_int(reference_steps, "reference_steps", lo=2, hi=100_000)
        setup = (2 * steps - 1) + (2 * max(steps // 2, 1) - 1)
    base_cost = sum(space.cost(c) for c in seeds[: len(STANDARD)])
    if budget is None:
        budget = setup + 100 * nfe
    budget = check_int(budget, "budget", lo=1)
    if budget < setup + base_cost:
        raise ValueError(
            f"`budget` must cover the reference solves ({setup} calls) and the fixed schedules "
            f"({base_cost} calls), at least {setup + base_cost}; got {budget}"
        )
    fit = _make_fitness(denoiser, fit_name, sampler, opts, kw, smin, smax, gen)
    ev = _Searcher(space, fit, budget)
    baselines = {k: ev(c) for k, c in zip(STANDARD, seeds)}
    if not any(math.isfinite(v) for v in baselines.values()):
        raise ValueError(
            f"every fixed schedule failed to evaluate ({ev.first_error}); check `denoiser` and "
            "the shape of one sample (`shape`, or the rows of `reference`)"
        )
    if method == "evolution":  # 3/4 of what is left, then a local polish of the best
        ev.budget = ev.spent + (3 * (budget - ev.spent)) // 4
        try:
            _evolution(ev, seeds, gen, population)
        except _BudgetExhausted:
            pass
        ev.budget = budget
    try:
        for c in seeds:
            ev(c)
        assert ev.best is not None
        _local(ev, ev.best, gen, 1e-3)
    except _BudgetExhausted:
        pass
    assert ev.best is not None
    best = ev.best
    if ev.first_error is not None:
        logger.warning("some candidates failed and were given fitness inf: %s", ev.first_error)
    vals = np.asarray(ev.values)
    return ScheduleSearchResult(
        sigmas=space.ladder(best),
        solvers=best.plan,
        fitness=float(ev.best_value),
        fitness_name=fit_name,
        sampler=sampler,
        sampler_options=dict(opts),
        nfe=nfe,
        nfe_used=space.cost(best),
        baselines=baselines,
        baseline_sigmas={k: space.ladder(c) for k, c in zip(STANDARD, seeds)},
        trace_calls=np.asarray(ev.calls, dtype=np.int64),
        trace_fitness=vals,
        trace_best=np.minimum.accumulate(vals),
        network_calls=int(ev.spent),
        evaluations=len(ev.values),
        budget=budget,
        method=method,
        reference_error=fit.reference_error,
    )
