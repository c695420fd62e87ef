"""The experiment registry behind ``sciddm reproduce``.

Each family's paper reproductions live in ``sciddm/reproduce/<family>.py``::

    from sciddm.reproduce import register

    @register(
        "leastsquares.error-ratio",
        description="Error ratio versus n/m for every sampling scheme.",
        quick={"n_rep": 20}, full={"n_rep": 500},
    )
    def error_ratio(ctx):
        err = ...                                   # use ctx.params, ctx.rng
        ctx.claim("volume sampling is quasi-optimal", source="Nouy & Michel, Thm 3",
                  measured=err, expected=2.0, op="<=")
        ctx.figure(fig, "ratio")

An experiment receives a :class:`Context` and records *claims*: the paper's
statement, the measured value, what it is held to, and whether it holds. A
claim that does not hold is reported, never raised.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
import math
import time
import traceback
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sciddm import __version__
from sciddm._core.results import Result

__all__ = [
    "Claim",
    "Context",
    "Experiment",
    "ExperimentRun",
    "get_registry",
    "register",
    "run_experiment",
]

logger = logging.getLogger(__name__)

_OPS = ("<=", ">=", "~=", "in")
#: The three sizes of a run: a curated few-minute set, every experiment small, paper scale.
MODES = ("demo", "quick", "full")
_REGISTRY: dict[str, Experiment] = {}


@dataclasses.dataclass(frozen=True, repr=False)
class Claim(Result):
    """One checked statement of a paper.

    ``holds`` follows from ``op``: ``measured <= expected + tolerance`` for
    ``"<="``, ``measured >= expected - tolerance`` for ``">="``,
    ``|measured - expected| <= tolerance`` for ``"~="`` and
    ``expected[0] <= measured <= expected[1]`` for ``"in"``; a NaN never holds.
    Claims are made by :meth:`Context.claim`, not built by hand.

    Attributes
    ----------
    experiment : str
        The name of the experiment that made the claim.
    claim : str
        The statement, in words.
    source : str
        The paper and theorem/figure/table it comes from.
    measured : float
        The measured number.
    expected : float or list of two floats
        The number or the ``[lo, hi]`` range it is held to.
    op : {"<=", ">=", "~=", "in"}
        How ``measured`` is compared with ``expected``.
    tolerance : float
        Slack of the comparison.
    holds : bool
        Whether the claim holds.
    ci : list of two floats or None
        Confidence interval of ``measured``, when the experiment gave one.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.reproduce import Context
    >>> ctx = Context("doc.claim", "quick", {}, np.random.default_rng(0), seed=0)
    >>> c = ctx.claim("the error is about 2", source="a theorem", measured=1.95,
    ...               expected=2.0, op="~=", tolerance=0.1)
    >>> c.holds, c.to_dict()["op"]
    (True, '~=')
    """

    experiment: str
    claim: str
    source: str
    measured: float
    expected: float | list[float]
    op: str
    tolerance: float
    holds: bool
    ci: list[float] | None = None


def _holds(measured: float, expected: Any, op: str, tolerance: float) -> bool:
    if not math.isfinite(measured):
        return False
    # floating-point slack, so that e.g. 1.9 ~= 2.0 +- 0.1 holds
    tolerance = tolerance + 1e-12 * max(1.0, abs(measured))
    if op == "<=":
        return measured <= float(expected) + tolerance
    if op == ">=":
        return measured >= float(expected) - tolerance
    if op == "~=":
        return abs(measured - float(expected)) <= tolerance
    lo, hi = expected
    return float(lo) - tolerance <= measured <= float(hi) + tolerance


@dataclasses.dataclass
class Context:
    """What an experiment receives: sizes, randomness, device and sinks.

    Attributes
    ----------
    name : str
        The experiment's name.
    mode : {"demo", "quick", "full"}
    params : dict
        The sizes the experiment registered for ``mode`` (demo sizes are the
        quick sizes updated with the experiment's ``demo`` dict).
    rng : numpy.random.Generator
        Seeded from ``(seed, name)``, so an experiment's result does not
        depend on which others run with it.
    seed : int
    device : str
        ``"cpu"`` or ``"cuda"``.
    n_jobs : int
        Workers for :func:`sciddm.reproduce.run_sweep`.
    progress : bool
        Whether to show progress bars.
    figure_dir : pathlib.Path or None
        Where :meth:`figure` saves; ``None`` keeps figures in memory.
    claims : list of Claim
        The claims recorded so far by :meth:`claim`.
    figures : dict
        Figure name to saved path (or the figure itself, without ``figure_dir``),
        filled by :meth:`figure`.
    tables : list of (title, rows)
        Filled by :meth:`table`.
    notes : list of str
        Filled by :meth:`note`.

    Examples
    --------
    An experiment is a function of a context; :func:`run_experiment` builds the
    context, but one can be made by hand to try an experiment out:

    >>> import numpy as np
    >>> from sciddm.reproduce import Context
    >>> ctx = Context("doc.mean", "quick", {"n": 400}, np.random.default_rng(0), seed=0)
    >>> x = ctx.rng.normal(size=ctx.params["n"])
    >>> c = ctx.claim("the sample mean is near 0", source="law of large numbers",
    ...               measured=abs(x.mean()), expected=3 / 400**0.5)
    >>> ctx.note("n = 400 standard normal draws.")
    >>> ctx.quick, c.holds, len(ctx.claims), ctx.notes
    (True, True, 1, ['n = 400 standard normal draws.'])
    """

    name: str
    mode: str
    params: dict[str, Any]
    rng: np.random.Generator
    seed: int
    device: str = "cpu"
    n_jobs: int = 1
    progress: bool = False
    figure_dir: Path | None = None
    claims: list[Claim] = dataclasses.field(default_factory=list)
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)
    tables: list[tuple[str, list[dict[str, Any]]]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def quick(self) -> bool:
        """True in ``--quick`` and ``--demo`` mode (small sizes)."""
        return self.mode in ("quick", "demo")

    @property
    def demo(self) -> bool:
        """True in ``--demo`` mode."""
        return self.mode == "demo"

    def claim(
        self,
        claim: str,
        *,
        source: str,
        measured: float,
        expected: float | Sequence[float],
        op: str = "<=",
        tolerance: float = 0.0,
        holds: bool | None = None,
        ci: Sequence[float] | None = None,
    ) -> Claim:
        """Record a claim and return it.

        Parameters
        ----------
        claim : str
            The statement, in words.
        source : str
            Paper and theorem/figure/table it comes from.
        measured : float
            The measured number.
        expected : float or (lo, hi)
            The number or bound it is held to.
        op : {"<=", ">=", "~=", "in"}
            How ``measured`` is compared with ``expected``.
        tolerance : float
            Slack of the comparison.
        holds : bool, optional
            Override the comparison (for orderings that one number cannot
            express); ``measured`` and ``expected`` are still reported.
        ci : (lo, hi), optional
            Confidence interval of ``measured``.
        """
        if op not in _OPS:
            raise ValueError(f"`op` must be one of {', '.join(map(repr, _OPS))}, got {op!r}")
        m = float(measured)
        exp: float | list[float]
        if op == "in":
            if isinstance(expected, (int, float)) or len(expected) != 2:
                raise ValueError("`expected` must be a (lo, hi) pair when op='in'")
            exp = [float(expected[0]), float(expected[1])]
        else:
            if not isinstance(expected, (int, float, np.number)):
                raise ValueError(f"`expected` must be a number when op={op!r}, got {expected!r}")
            exp = float(expected)
        ok = _holds(m, exp, op, float(tolerance)) if holds is None else bool(holds)
        c = Claim(
            experiment=self.name,
            claim=claim,
            source=source,
            measured=m,
            expected=exp,
            op=op,
            tolerance=float(tolerance),
            holds=ok,
            ci=None if ci is None else [float(ci[0]), float(ci[1])],
        )
        self.claims.append(c)
        logger.info("%s: %s -> %s", self.name, claim, "holds" if ok else "does not hold")
        return c

    def figure(self, fig: Any, name: str) -> str:
        """Save ``fig`` as ``figures/<experiment>_<name>.png`` (atomically) and close it."""
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{self.name}_{name}")
        fname = f"{safe}.png"
        if self.figure_dir is not None:
            from sciddm._core.io import save_figure

            save_figure(fig, self.figure_dir / fname)
            import matplotlib.pyplot as plt

            plt.close(fig)
            self.figures[name] = f"figures/{fname}"
        else:
            self.figures[name] = fig
        return fname

    def table(self, title: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Add a table (a list of dicts with the same keys) to the report."""
        self.tables.append((title, [dict(r) for r in rows]))

    def note(self, text: str) -> None:
        """Add a paragraph to the report."""
        self.notes.append(text)


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered reproduction.

    Made by :func:`register`; :func:`get_registry` lists them. One can also be built
    directly and handed to :func:`run_experiment` without registering it.

    Parameters
    ----------
    name : str
        ``"<family>.<short-name>"``.
    description : str
        One sentence: what is reproduced.
    func : callable
        ``func(ctx)``, with ``ctx`` a :class:`Context`.
    quick, full : dict
        The parameters (``ctx.params``) in ``--quick`` and ``--full`` mode.
    requires : tuple of str, default ()
        Importable modules without which the experiment is skipped.
    demo : dict or None, default None
        Updates of the quick parameters for ``--demo`` mode; ``None``: not in the
        demo set.

    Examples
    --------
    >>> from sciddm.reproduce import Experiment
    >>> exp = Experiment("doc.sizes", "A toy.", lambda ctx: None,
    ...                  quick={"n": 100, "reps": 3}, full={"n": 10_000, "reps": 30},
    ...                  demo={"reps": 1})
    >>> exp.family, exp.in_demo, exp.params("demo"), exp.params("full")
    ('doc', True, {'n': 100, 'reps': 1}, {'n': 10000, 'reps': 30})
    """

    name: str
    description: str
    func: Callable[[Context], Any]
    quick: dict[str, Any]
    full: dict[str, Any]
    requires: tuple[str, ...] = ()
    demo: dict[str, Any] | None = None

    @property
    def in_demo(self) -> bool:
        """Whether ``sciddm reproduce --demo`` runs this experiment."""
        return self.demo is not None

    def params(self, mode: str) -> dict[str, Any]:
        """The registered sizes of ``mode`` (``"demo"``: quick updated with ``demo``)."""
        if mode == "full":
            return dict(self.full)
        out = dict(self.quick)
        if mode == "demo":
            out.update(self.demo or {})
        return out

    @property
    def family(self) -> str:
        """The part of the name before the first dot."""
        return self.name.split(".", 1)[0]

    @property
    def module(self) -> str:
        """The module that registered the experiment."""
        return str(getattr(self.func, "__module__", "") or "")


#: The statuses of an :class:`ExperimentRun`.
STATUSES = ("ok", "error", "skipped", "interrupted")


@dataclasses.dataclass(frozen=True, repr=False)
class ExperimentRun(Result):
    """The outcome of one experiment: status, claims, figures, tables, notes.

    Attributes
    ----------
    name, description : str
    mode : {"demo", "quick", "full"}
    status : {"ok", "error", "skipped", "interrupted"}
        ``"error"``: the experiment raised (``error`` holds the message, the
        log the traceback); ``"skipped"``: an optional dependency is missing;
        ``"interrupted"``: the run was stopped (Ctrl-C, SIGTERM) inside it.
    seconds : float
        Wall time.
    claims : list of Claim
    figures : dict
        Figure name to path relative to the report folder (or the figure
        itself when the run had no figure folder).
    tables : list of (title, rows)
    notes : list of str
    error : str or None
    params : dict
        The sizes the experiment ran with.
    seed : int
    device : str
    sciddm_version : str
        Together with ``mode``, ``seed``, ``device`` and ``params`` this
        decides whether ``sciddm reproduce --resume`` may reuse the record.

    Examples
    --------
    >>> from sciddm.reproduce import Experiment, ExperimentRun, run_experiment
    >>> def boom(ctx):
    ...     raise RuntimeError("out of memory")
    >>> run = run_experiment(Experiment("doc.boom", "Raises.", boom, {}, {}))
    >>> run.status, run.error
    ('error', 'RuntimeError: out of memory')
    >>> ExperimentRun.from_dict(run.to_dict()).status  # the JSON record round-trips
    'error'
    """

    name: str
    description: str
    mode: str
    status: str
    seconds: float
    claims: list[Claim]
    figures: dict[str, Any]
    tables: list[tuple[str, list[dict[str, Any]]]]
    notes: list[str]
    error: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = 0
    device: str = "cpu"
    sciddm_version: str = __version__

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentRun:
        """Rebuild a run from :meth:`to_dict` output (e.g. a record read from JSON)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        kw["claims"] = [c if isinstance(c, Claim) else Claim(**c) for c in kw.get("claims", [])]
        kw["tables"] = [(str(t), [dict(r) for r in rows]) for t, rows in kw.get("tables", [])]
        kw.setdefault("figures", {})
        kw.setdefault("notes", [])
        return cls(**kw)


def register(
    name: str,
    *,
    description: str,
    quick: Mapping[str, Any],
    full: Mapping[str, Any],
    demo: Mapping[str, Any] | None = None,
    requires: Sequence[str] = (),
) -> Callable[[Callable[[Context], Any]], Callable[[Context], Any]]:
    """Decorator registering ``func(ctx)`` as the experiment ``name``.

    Parameters
    ----------
    name : str
        ``"<family>.<short-name>"``.
    description : str
        One sentence: what is reproduced.
    quick, full : dict
        The experiment's parameters (``ctx.params``) in ``--quick`` and
        ``--full`` mode.
    demo : dict, optional
        Put the experiment in the curated ``--demo`` set, with these
        parameters updating the quick ones (``{}``: the quick sizes).
    requires : sequence of str
        Importable modules (e.g. ``"rdkit"``) without which the experiment is
        skipped.

    Returns
    -------
    callable
        The decorator; it registers ``func`` (replacing an experiment of the same
        name) and returns ``func`` unchanged.

    Raises
    ------
    ValueError
        If ``name`` has no dot.

    Examples
    --------
    >>> from sciddm.reproduce import Context, get_registry, register, run_experiment
    >>> @register("mine.mean", description="The mean of N(0, 1) is within 3/sqrt(n) of 0.",
    ...           quick={"n": 1_000}, full={"n": 1_000_000}, demo={"n": 100})
    ... def mean(ctx: Context) -> None:
    ...     n = ctx.params["n"]
    ...     x = ctx.rng.normal(size=n)
    ...     ctx.claim("the sample mean is near 0", source="law of large numbers",
    ...               measured=abs(x.mean()), expected=3 / n**0.5)
    >>> get_registry(load=False)["mine.mean"].in_demo
    True
    >>> run = run_experiment("mine.mean", mode="demo")
    >>> run.status, run.params, [c.holds for c in run.claims]
    ('ok', {'n': 100}, [True])
    """
    if "." not in name:
        raise ValueError(f"`name` must look like '<family>.<experiment>', got {name!r}")

    def deco(func: Callable[[Context], Any]) -> Callable[[Context], Any]:
        _REGISTRY[name] = Experiment(
            name=name,
            description=description,
            func=func,
            quick=dict(quick),
            full=dict(full),
            requires=tuple(requires),
            demo=None if demo is None else dict(demo),
        )
        return func

    return deco


#: The experiment modules, one per family (discrete has five); imported only here.
EXPERIMENT_MODULES = (
    "leastsquares",
    "sensitivity",
    "diffusion",
    "diffusion_search",
    "hallucination",
    "equitable",
    "ambient",
    "discrete_training",
    "discrete_sampling",
    "discrete_guidance",
    "discrete_molecules",
    "discrete_lsd",
    "chem",
    "dna",
)


def load_builtin_experiments() -> None:
    """Import every module of :data:`EXPERIMENT_MODULES` (which registers them)."""
    for mod in EXPERIMENT_MODULES:
        importlib.import_module(f"sciddm.reproduce.{mod}")


def get_registry(load: bool = True) -> dict[str, Experiment]:
    """All registered experiments, sorted by name.

    Parameters
    ----------
    load : bool, default True
        Import first the built-in experiment modules of
        :data:`EXPERIMENT_MODULES` and the user's experiment modules (named in
        the ``SCIDDM_EXPERIMENTS`` environment variable or in the
        ``sciddm.experiments`` entry-point group), which registers them;
        ``False`` returns only what is registered already.

    Returns
    -------
    dict of str to Experiment
        A new dict, name to experiment, sorted by name.

    Examples
    --------
    ``get_registry()`` imports every experiment module (a few seconds); what is
    registered already comes without importing anything:

    >>> from sciddm.reproduce import get_registry
    >>> reg = get_registry(load=False)
    >>> list(reg) == sorted(reg) and all(name == e.name for name, e in reg.items())
    True
    """
    if load:
        from sciddm.reproduce._catalog import import_plugins

        load_builtin_experiments()
        import_plugins()
    return dict(sorted(_REGISTRY.items()))


def experiment_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of experiment ``name`` under a global ``seed``."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def make_context(
    exp: Experiment,
    *,
    mode: str = "quick",
    seed: int = 0,
    device: str = "cpu",
    n_jobs: int = 1,
    progress: bool = False,
    figure_dir: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
) -> Context:
    """The :class:`Context` that :func:`run_experiment` hands to ``exp``."""
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    merged = exp.params(mode)
    merged.update(params or {})
    return Context(
        name=exp.name,
        mode=mode,
        params=merged,
        rng=experiment_rng(seed, exp.name),
        seed=seed,
        device=device,
        n_jobs=n_jobs,
        progress=progress,
        figure_dir=None if figure_dir is None else Path(figure_dir),
    )


def missing_requirements(exp: Experiment) -> list[str]:
    """The modules of ``exp.requires`` that cannot be imported here."""
    missing = []
    for m in exp.requires:
        try:
            found = importlib.util.find_spec(m) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(m)
    return missing


def collect_run(
    exp: Experiment, ctx: Context, status: str, seconds: float, error: str | None = None
) -> ExperimentRun:
    """The :class:`ExperimentRun` of ``exp`` from what its context holds so far."""
    return ExperimentRun(
        name=exp.name,
        description=exp.description,
        mode=ctx.mode,
        status=status,
        seconds=seconds,
        claims=list(ctx.claims),
        figures=dict(ctx.figures),
        tables=list(ctx.tables),
        notes=list(ctx.notes),
        error=error,
        params=dict(ctx.params),
        seed=ctx.seed,
        device=ctx.device,
    )


def execute(exp: Experiment, ctx: Context, *, raise_errors: bool = False) -> ExperimentRun:
    """Run ``exp`` in ``ctx``: status ``"ok"``, ``"error"`` or ``"skipped"``.

    An ``Exception`` is reported (status ``"error"``, traceback logged);
    ``KeyboardInterrupt`` and other ``BaseException`` propagate, so that the
    caller can mark the experiment as interrupted from ``ctx``.
    """
    missing = missing_requirements(exp)
    t0 = time.perf_counter()
    status, error = "ok", None
    if missing:
        status, error = "skipped", f"needs {', '.join(missing)} (install the matching sciddm extra)"
        logger.warning("experiment %s skipped: %s", exp.name, error)
    else:
        try:
            exp.func(ctx)
        except Exception as exc:  # reported, not raised: one failure does not stop the suite
            if raise_errors:
                raise
            status = "error"
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            logger.error("experiment %s failed: %s\n%s", exp.name, error, traceback.format_exc())
    return collect_run(exp, ctx, status, time.perf_counter() - t0, error)


def run_experiment(
    name: str | Experiment,
    *,
    mode: str = "quick",
    seed: int = 0,
    device: str = "cpu",
    n_jobs: int = 1,
    progress: bool = False,
    figure_dir: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    raise_errors: bool = False,
) -> ExperimentRun:
    """Run one registered experiment and collect its claims.

    Parameters
    ----------
    name : str or Experiment
        A registered name (see ``sciddm list``) or the experiment itself.
    mode : {"demo", "quick", "full"}, default "quick"
    seed : int, default 0
        Global seed; the experiment's generator is derived from it and the name.
    device : {"cpu", "cuda"}, default "cpu"
    n_jobs : int, default 1
        Workers for the experiment's sweeps.
    progress : bool, default False
        Show the experiment's progress bars.
    figure_dir : path, optional
        Where figures are saved (``None``: kept in memory in ``run.figures``).
    params : dict, optional
        Overrides of the registered sizes.
    raise_errors : bool, default False
        Raise an exception of the experiment instead of reporting it.

    Returns
    -------
    ExperimentRun
        Status ``"error"`` if the experiment raised (unless ``raise_errors``),
        ``"skipped"`` if an optional dependency is missing.

    Raises
    ------
    ValueError
        If ``name`` is not a registered experiment, or ``mode`` is not a mode.

    Examples
    --------
    >>> from sciddm.reproduce import Experiment, run_experiment
    >>> def mean(ctx):
    ...     n = ctx.params["n"]
    ...     x = ctx.rng.normal(size=n)
    ...     ctx.claim("the sample mean is near 0", source="law of large numbers",
    ...               measured=abs(x.mean()), expected=3 / n**0.5)
    >>> exp = Experiment("doc.mean", "A toy.", mean, quick={"n": 1_000}, full={"n": 10**6})
    >>> run = run_experiment(exp, mode="quick", seed=1, params={"n": 500})
    >>> run.status, run.params, run.claims[0].holds
    ('ok', {'n': 500}, True)
    >>> run_experiment(exp, seed=1).claims[0] == run_experiment(exp, seed=1).claims[0]
    True
    """
    if isinstance(name, Experiment):
        exp = name
    else:
        reg = get_registry(load=name not in _REGISTRY)
        if name not in reg:
            raise ValueError(f"`name` must be a registered experiment, got {name!r}")
        exp = reg[name]
    ctx = make_context(
        exp,
        mode=mode,
        seed=seed,
        device=device,
        n_jobs=n_jobs,
        progress=progress,
        figure_dir=figure_dir,
        params=params,
    )
    return execute(exp, ctx, raise_errors=raise_errors)
