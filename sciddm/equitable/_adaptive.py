"""Sequential adaptive data collection across groups (Cai et al., FAccT 2022).

:class:`AdaptiveCollector` collects a pilot batch from every group, then, round
after round, re-fits each group's learning curve from the data collected so
far, and spends the next batch of budget where the estimated marginal gain per
unit cost is largest (with an exploration floor for every group), until the
budget is spent. The data come from a *source*: a callable
``source(group, k, rng) -> (X, y)`` (a survey, a lab, a simulator) or a
:class:`PoolSource` of pre-collected data.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_array, check_choice, check_int, check_scalar
from sciddm.equitable._allocate import OBJECTIVES, Allocation, allocate
from sciddm.equitable._curves import LearningCurve, fit_learning_curves
from sciddm.equitable._empirical import _rows, _scorer_to_error

__all__ = [
    "AdaptiveCollector",
    "CollectionResult",
    "PoolSource",
    "RoundLog",
    "group_errors",
]

logger = logging.getLogger(__name__)


class PoolSource:
    """A data source that draws without replacement from pre-collected data.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (N, d)
        Features.
    y : array_like of shape (N,)
        Targets.
    groups : array_like of shape (N,)
        Group label of each row.

    Attributes
    ----------
    groups : list
        The group labels, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.equitable import PoolSource
    >>> pool = PoolSource(np.arange(10.0)[:, None], np.arange(10), [0] * 6 + [1] * 4)
    >>> pool.available(1)
    4
    >>> X, y = pool(1, 3, np.random.default_rng(0))
    >>> sorted(y.tolist()), pool.available(1)
    ([7, 8, 9], 1)
    """

    def __init__(self, X: Any, y: Any, groups: Any) -> None:
        self.X = _rows(X, "X", ndim=2)
        self.y = _rows(y, "y", ndim=1)
        g = _rows(groups, "groups", ndim=1)
        if not self.X.shape[0] == self.y.shape[0] == g.shape[0]:
            raise ValueError(
                f"`X`, `y` and `groups` must have the same length, got {self.X.shape[0]}, "
                f"{self.y.shape[0]} and {g.shape[0]}"
            )
        self.groups = sorted(np.unique(g).tolist())
        self._left = {k: np.flatnonzero(g == k) for k in self.groups}

    def available(self, group: Any) -> int:
        """Rows of ``group`` not drawn yet.

        Parameters
        ----------
        group : hashable
            A group label.

        Returns
        -------
        int
            0 for an unknown group.
        """
        return int(self._left[group].size) if group in self._left else 0

    def __call__(self, group: Any, k: int, rng: np.random.Generator) -> tuple[Any, Any]:
        """Draw up to ``k`` rows of ``group`` without replacement: ``(X, y)``."""
        left = self._left.get(group)
        if left is None:
            raise ValueError(f"group {group!r} has no data in the pool")
        k = min(check_int(k, "k", lo=0), left.size)
        rng = as_generator(rng)
        pick = rng.choice(left.size, size=k, replace=False)
        rows = left[pick]
        self._left[group] = np.delete(left, pick)
        return self.X[rows], self.y[rows]


@dataclasses.dataclass(frozen=True, repr=False)
class RoundLog(Result):
    """What happened in one round of adaptive collection.

    Attributes
    ----------
    round : int
        0 for the pilot.
    counts_before : ndarray of int
        Samples per group before the round.
    curves : dict
        ``{group: dict(a, b, e)}`` fitted at the start of the round (empty for the pilot).
    batch : ndarray of int
        Samples requested per group in this round.
    received : ndarray of int
        Samples the source delivered.
    spent : float
        Budget spent after the round.
    predicted_error : ndarray
        Errors predicted by the curves at the counts after the round (NaN for the pilot).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sciddm.equitable import AdaptiveCollector, PoolSource
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> col = AdaptiveCollector(GaussianNB(), costs=[1, 1], budget=120, n_rounds=2)
    >>> log = col.run(PoolSource(X, y, (X[:, 0] > 14).astype(int)), rng=0).rounds[0]
    >>> log.round, log.batch.tolist()   # the pilot
    (0, [20, 20])
    """

    round: int
    counts_before: np.ndarray
    curves: dict[Any, dict[str, float]]
    batch: np.ndarray
    received: np.ndarray
    spent: float
    predicted_error: np.ndarray


@dataclasses.dataclass(frozen=True, repr=False)
class CollectionResult(Result):
    """The data set an adaptive collection built, and its log.

    Attributes
    ----------
    groups : list
    counts : ndarray of int
        Samples collected per group.
    X, y : ndarray
        The collected data.
    group_of : ndarray
        Group label of each collected row.
    rounds : list of RoundLog
    curves : dict
        ``{group: LearningCurve}`` fitted on all the collected data.
    spent, budget : float
        Budget spent and available.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sciddm.equitable import AdaptiveCollector, PoolSource
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> col = AdaptiveCollector(GaussianNB(), costs=[1, 1], budget=120, n_rounds=2)
    >>> res = col.run(PoolSource(X, y, (X[:, 0] > 14).astype(int)), rng=0)
    >>> bool(res.X.shape[0] == res.counts.sum() == res.spent)
    True
    """

    groups: list[Any]
    counts: np.ndarray
    X: np.ndarray
    y: np.ndarray
    group_of: np.ndarray
    rounds: list[RoundLog]
    curves: dict[Any, LearningCurve]
    spent: float
    budget: float

    def plot(self, ax: Any = None) -> Any:
        """Samples per group after each round.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (a new figure by default).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        counts = np.array([r.counts_before + r.received for r in self.rounds])
        for i, g in enumerate(self.groups):
            ax.plot(np.arange(len(self.rounds)), counts[:, i], marker="o", label=str(g))
        ax.set_xlabel("round")
        ax.set_ylabel("samples collected")
        ax.legend()
        return ax


def _fit(estimator: Any, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Any:  # a fitted clone
    from sklearn.base import clone

    return clone(estimator).fit(X[rows], y[rows])


def group_errors(
    estimator: Any,
    X_train: Any,
    y_train: Any,
    g_train: Any,
    X_test: Any,
    y_test: Any,
    g_test: Any,
    *,
    metric: Any = "accuracy",
    pooled: bool = False,
    groups: Sequence[Any] | None = None,
) -> np.ndarray:
    """Test error per group of ``estimator`` trained on a collected data set.

    With ``pooled=False`` one clone is trained per group on that group's rows;
    with ``pooled=True`` one clone is trained on all rows. The error is
    ``1 - score`` (``-score`` for ``neg_*`` scorers).

    Parameters
    ----------
    estimator : scikit-learn estimator
        Cloned for every fit.
    X_train, y_train, g_train : array_like
        Training rows (``X`` may be sparse), targets and group labels.
    X_test, y_test, g_test : array_like
        Test rows, targets and group labels.
    metric : str or callable, default "accuracy"
        A scikit-learn scorer name or a scorer ``f(est, X, y)``.
    pooled : bool, default False
        One model on all rows instead of one per group.
    groups : sequence, optional
        The groups to report, in this order (default: the training labels, sorted).

    Returns
    -------
    ndarray of shape (G,)
        The test error of each group.

    Raises
    ------
    ValueError
        If a group has no training or no test rows, naming the group.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sciddm.equitable import group_errors
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> g = (X[:, 0] > 14).astype(int)
    >>> err = group_errors(GaussianNB(), X[::2], y[::2], g[::2], X[1::2], y[1::2], g[1::2])
    >>> err.shape, bool((err >= 0).all() and (err < 0.2).all())
    ((2,), True)
    """
    scorer, to_err = _scorer_to_error(metric)
    Xtr, ytr = _rows(X_train, "X_train", ndim=2), _rows(y_train, "y_train", ndim=1)
    gtr = _rows(g_train, "g_train", ndim=1)
    Xte, yte = _rows(X_test, "X_test", ndim=2), _rows(y_test, "y_test", ndim=1)
    gte = _rows(g_test, "g_test", ndim=1)
    for part, (A, b, g) in (("train", (Xtr, ytr, gtr)), ("test", (Xte, yte, gte))):
        if not A.shape[0] == b.shape[0] == g.shape[0]:
            raise ValueError(
                f"`X_{part}`, `y_{part}` and `g_{part}` must have the same length, got "
                f"{A.shape[0]}, {b.shape[0]} and {g.shape[0]}"
            )
    labels = list(groups) if groups is not None else sorted(np.unique(gtr).tolist())
    out = np.zeros(len(labels))
    model = _fit(estimator, Xtr, ytr, np.arange(ytr.size)) if pooled else None
    for i, g in enumerate(labels):
        tr, te = np.flatnonzero(gtr == g), np.flatnonzero(gte == g)
        if tr.size == 0 or te.size == 0:
            raise ValueError(f"group {g!r} has no {'training' if tr.size == 0 else 'test'} data")
        est = model if pooled else _fit(estimator, Xtr, ytr, tr)
        out[i] = to_err(float(scorer(est, Xte[te], yte[te])))
    return out


class _Collection:
    """The data collected so far by :meth:`AdaptiveCollector.run`, and its log."""

    def __init__(
        self, source: Any, labels: list[Any], c: np.ndarray, B: float, gen: np.random.Generator
    ) -> None:
        self.source, self.labels, self.c, self.B, self.gen = source, labels, c, B, gen
        self.Xs: list[np.ndarray] = []
        self.ys: list[np.ndarray] = []
        self.gs: list[np.ndarray] = []
        self.counts = np.zeros(len(labels), dtype=np.int64)
        self.rounds: list[RoundLog] = []

    def collect(self, batch: np.ndarray) -> np.ndarray:
        """Ask the source for ``batch[i]`` samples of each group; returns those received."""
        got = np.zeros(len(self.labels), dtype=np.int64)
        for i, g in enumerate(self.labels):
            if batch[i] <= 0:
                continue
            Xg, yg = self.source(g, int(batch[i]), self.gen)
            Xg, yg = np.asarray(Xg), np.asarray(yg)
            if Xg.shape[:1] != yg.shape[:1] or Xg.shape[0] > batch[i]:
                raise ValueError(
                    f"`source` returned {Xg.shape[0] if Xg.ndim else 0} rows of X and "
                    f"{yg.shape[0] if yg.ndim else 0} of y for group {g!r} after asking for "
                    f"{int(batch[i])}"
                )
            if Xg.shape[0] == 0:
                continue
            if Xg.ndim == 1:
                Xg = Xg[:, None]
            self.Xs.append(Xg)
            self.ys.append(yg)
            self.gs.append(np.full(yg.shape[0], i))
            got[i] = yg.shape[0]
        return got

    def log(
        self, entry: RoundLog, got: np.ndarray, callback: Callable[[RoundLog], None] | None
    ) -> None:
        """Record a round, count its samples and report it."""
        self.rounds.append(entry)
        self.counts += got
        if callback is not None:
            callback(entry)

    def upper(self) -> np.ndarray:
        """What each group can reach: the pool's size, or infinity for a callable source."""
        if not isinstance(self.source, PoolSource):
            return np.full(len(self.labels), np.inf)
        left = [self.source.available(g) for g in self.labels]
        return self.counts + np.array(left, dtype=float)

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All collected rows: X, y and each row's group index."""
        return np.concatenate(self.Xs), np.concatenate(self.ys), np.concatenate(self.gs)


class AdaptiveCollector:
    """Adaptive, budgeted data collection across groups.

    Parameters
    ----------
    estimator : scikit-learn estimator
        The learner whose per-group error is being improved (cloned per fit).
    costs : array_like
        Cost of one sample per group (positive), in the order of ``groups``.
    budget : float
        Total budget; collection stops when no group's sample is affordable.
    objective : {"utilitarian", "maxmin", "disparity-cap"}, default "utilitarian"
        See :func:`allocate`.
    weights : array_like, optional
        Utilitarian weights (population shares; default equal).
    cap : float, optional
        Disparity cap for ``"disparity-cap"``.
    metric : str or callable, default "accuracy"
        scikit-learn scorer; the error is ``1 - score`` (``-score`` for ``neg_*``).
    pilot : int, default 20
        Pilot samples per group.
    n_rounds : int, default 8
        Rounds after the pilot; each spends ``(budget - pilot cost) / n_rounds``.
    exploration : float in [0, 1), default 0.1
        Share of each round's budget split equally (in cost) across groups
        regardless of the curves: the exploration floor.
    n_sizes : int, default 4
        Sub-sample sizes per group used to re-fit a curve.
    n_repeats : int, default 2
        Random splits per size.
    holdout : float, default 0.3
        Share of a group's collected data held out to score the sub-samples.
    pooled : bool, default False
        Train one model on all groups (the curve of ``g`` then varies ``n_g``
        with the other groups' data fixed) instead of one model per group.
    shared_exponent : bool, default True
        Fit one exponent ``b`` for all groups (:func:`fit_learning_curves`),
        which stabilises curves fitted on few samples; False fits each group alone.
    plan : {"global", "batch"}, default "global"
        ``"global"``: each round solves the allocation for the *whole* budget
        (with the current counts as lower bounds) and spends the round's budget
        in proportion to the planned increments; ``"batch"``: each round solves
        the problem for the budget spent so far plus the round's budget only
        (myopic; for the utilitarian objective the two coincide in the limit
        of small rounds).

    Notes
    -----
    Round ``t`` re-fits ``err_g(n) = a_g n^{-b_g} + e_g`` (by default with one
    exponent shared by all groups) from sub-samples of the data collected so far
    (sizes from a quarter of the training part to all of it), then solves
    :func:`allocate` with ``lower`` = current counts + floor and ``upper`` = what
    the source can still deliver, for the whole budget (``plan="global"``; the
    round then moves its budget along the planned increments) or for the budget
    spent so far plus the round's budget (``plan="batch"``). For the utilitarian
    objective the plan equalises the estimated marginal gain per unit cost
    ``w_g a_g b_g n_g^{-b_g-1} / c_g`` (its integer part is filled greedily by that
    ratio). The exploration floor keeps every group's curve estimate
    improving, so a group whose pilot curve is badly under-estimated still
    receives samples. The loop guarantees that the budget is never exceeded and
    every group keeps growing; it does *not* guarantee the oracle allocation:
    its quality depends on how well early curves extrapolate (see
    ``theory/52_equitable_adaptive.md``).

    References
    ----------
    .. [1] Cai et al., "Adaptive sampling strategies to construct equitable
       training datasets", FAccT 2022, arXiv:2202.01327.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sciddm.equitable import AdaptiveCollector, PoolSource
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> g = (X[:, 0] > 14).astype(int)
    >>> col = AdaptiveCollector(GaussianNB(), costs=[1, 1], budget=120, n_rounds=2)
    >>> res = col.run(PoolSource(X, y, g), rng=0)
    >>> int(res.counts.sum()), len(res.rounds)
    (120, 3)
    """

    def __init__(
        self,
        estimator: Any,
        *,
        costs: Any,
        budget: float,
        objective: str = "utilitarian",
        weights: Any = None,
        cap: float | None = None,
        metric: Any = "accuracy",
        pilot: int = 20,
        n_rounds: int = 8,
        exploration: float = 0.1,
        n_sizes: int = 4,
        n_repeats: int = 2,
        holdout: float = 0.3,
        pooled: bool = False,
        shared_exponent: bool = True,
        plan: str = "global",
    ) -> None:
        self.estimator = estimator
        self.costs = costs
        self.budget = budget
        self.objective = objective
        self.weights = weights
        self.cap = cap
        self.metric = metric
        self.pilot = pilot
        self.n_rounds = n_rounds
        self.exploration = exploration
        self.n_sizes = n_sizes
        self.n_repeats = n_repeats
        self.holdout = holdout
        self.pooled = pooled
        self.shared_exponent = shared_exponent
        self.plan = plan

    # ------------------------------------------------------------------ helpers
    def _validate(self, G: int, labels: list[Any]) -> tuple[np.ndarray, float]:
        check_choice(self.objective, "objective", OBJECTIVES)
        if self.objective == "disparity-cap" and self.cap is None:
            raise ValueError("`cap` is required when objective='disparity-cap'")
        check_int(self.pilot, "pilot", lo=4)
        check_int(self.n_rounds, "n_rounds", lo=1, hi=10**6)
        check_scalar(self.exploration, "exploration", lo=0, hi=1, closed="left")
        check_int(self.n_sizes, "n_sizes", lo=3, hi=1000)
        check_int(self.n_repeats, "n_repeats", lo=1, hi=1000)
        check_scalar(self.holdout, "holdout", lo=0, hi=1, closed="neither")
        check_choice(self.plan, "plan", ("global", "batch"))
        c = check_array(self.costs, "costs", ndim=(0, 1), finite=False).ravel()
        if c.size != G:
            raise ValueError(f"`costs` must have one entry per group ({G}), got {c.size}")
        for g, cg in zip(labels, c):
            if not (math.isfinite(cg) and cg > 0):
                raise ValueError(f"`costs` must be positive; group {g!r} has cost {cg:g}")
        B = check_scalar(self.budget, "budget", lo=0, closed="neither")
        need = float(c.sum()) * self.pilot
        if B < need:
            raise ValueError(
                f"`budget`={B:g} is below the pilot's cost {need:g} "
                f"({self.pilot} samples per group)"
            )
        return c, B

    def _measure(
        self, g: Any, rows_g: np.ndarray, others: np.ndarray, X: np.ndarray, y: np.ndarray,
        rng: np.random.Generator, scorer: Callable[..., float], to_err: Callable[[float], float],
    ) -> tuple[list[int], list[float]]:  # fmt: skip
        """Errors of sub-samples of group ``g``'s data, scored on a held-out part."""
        n = rows_g.size
        n_val = max(2, int(round(self.holdout * n)))
        n_tr = n - n_val
        lo = max(2, int(round(n_tr / 4)))
        sizes = np.unique(np.round(np.geomspace(lo, n_tr, self.n_sizes)).astype(int))
        need = 2 if self.shared_exponent else 3
        if sizes.size < need:
            raise ValueError(
                f"group {g!r}: {n} samples are too few to fit a learning curve "
                f"(need at least {need} distinct sub-sample sizes); increase `pilot`"
            )
        ns: list[int] = []
        errs: list[float] = []
        for _ in range(self.n_repeats):
            perm = rng.permutation(rows_g)
            val, tr = perm[:n_val], perm[n_val:]
            for m in sizes:
                fit_rows = np.concatenate([tr[:m], others])
                try:
                    est = _fit(self.estimator, X, y, fit_rows)
                    err = to_err(float(scorer(est, X[val], y[val])))
                except ValueError as exc:  # e.g. a sub-sample with one class
                    logger.debug("group %r, size %d: fit failed (%s)", g, m, exc)
                    continue
                ns.append(int(m))
                errs.append(err)
        if len(set(ns)) < need:
            raise ValueError(
                f"group {g!r}: the learner could not be fitted on enough sub-samples to fit "
                "a learning curve; increase `pilot`"
            )
        return ns, errs

    # ------------------------------------------------------------------ main loop
    def run(
        self,
        source: Any,
        groups: Sequence[Any] | None = None,
        *,
        rng: SeedLike = None,
        callback: Callable[[RoundLog], None] | None = None,
        final_curves: bool = True,
    ) -> CollectionResult:
        """Collect data until the budget is spent.

        Parameters
        ----------
        source : PoolSource, (X, y, groups) tuple, or callable
            Where samples come from. A callable is called as
            ``source(group, k, rng)`` and returns ``(X, y)`` with at most ``k``
            rows.
        groups : sequence, optional
            Group labels (required for a callable source; default: the pool's).
        rng : numpy.random.Generator, int or None
        callback : callable, optional
            Called with each :class:`RoundLog` as soon as the round is done.
        final_curves : bool, default True
            Re-fit the curves on all the collected data at the end (otherwise
            ``curves`` holds those of the last round).

        Returns
        -------
        CollectionResult

        Raises
        ------
        ValueError
            If a group has no data in the pool, a cost is not positive, the
            budget does not cover the pilot, or a group's curve cannot be fitted
            (too few points), naming the group.
        """
        source, labels = self._run_iv(source, groups)
        c, B = self._validate(len(labels), labels)
        if callback is not None and not callable(callback):
            raise ValueError(f"`callback` must be callable, got {callback!r}")
        gen = as_generator(rng)
        scorer, to_err = _scorer_to_error(self.metric)
        st = _Collection(source, labels, c, B, gen)
        pilot = np.full(len(labels), self.pilot, dtype=np.int64)
        got = st.collect(pilot)
        for i, g in enumerate(labels):
            if got[i] == 0:
                raise ValueError(f"group {g!r} has no data: the source returned no pilot samples")
        st.log(RoundLog(round=0, counts_before=st.counts.copy(), curves={}, batch=pilot,
                        received=got, spent=float(c @ got),
                        predicted_error=np.full(len(labels), np.nan)), got, callback)  # fmt: skip
        logger.debug("pilot: %s", dict(zip(labels, st.counts.tolist())))
        per_round = (B - float(c @ st.counts)) / self.n_rounds
        curves: dict[Any, LearningCurve] = {}
        t = 0
        while np.any((c <= B - float(c @ st.counts) + 1e-9) & (st.counts < st.upper())):
            t += 1
            curves = self._fit_curves(labels, *st.data(), gen, scorer, to_err)
            if self._round(st, t, per_round, curves, callback).sum() == 0:
                break
        if final_curves:
            curves = self._fit_curves(labels, *st.data(), gen, scorer, to_err)
        X_all, y_all, g_all = st.data()
        as_obj = not all(isinstance(g, (int, np.integer)) for g in labels)
        return CollectionResult(
            groups=labels,
            counts=st.counts,
            X=X_all,
            y=y_all,
            group_of=np.asarray(labels, dtype=object if as_obj else None)[g_all],
            rounds=st.rounds,
            curves=curves,
            spent=float(c @ st.counts),
            budget=B,
        )

    @staticmethod
    def _run_iv(source: Any, groups: Sequence[Any] | None) -> tuple[Any, list[Any]]:
        """The data source (a pool for an (X, y, groups) tuple) and the group labels."""
        if isinstance(source, tuple) and len(source) == 3:
            source = PoolSource(*source)
        if not callable(source):
            raise ValueError(
                "`source` must be a PoolSource, an (X, y, groups) tuple or a callable, "
                f"got {source!r}"
            )
        if groups is None:
            if not isinstance(source, PoolSource):
                raise ValueError("`groups` is required when `source` is a callable")
            groups = source.groups
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
            raise ValueError(f"`groups` must be a sequence of labels, got {groups!r}")
        labels = list(groups)
        if len(labels) == 0:
            raise ValueError("`groups` must not be empty")
        if len(set(labels)) != len(labels):
            raise ValueError("`groups` must not repeat a label")
        if isinstance(source, PoolSource):
            for g in labels:
                if source.available(g) == 0:
                    raise ValueError(f"group {g!r} has no data in the pool")
        return source, labels

    def _round(
        self, st: _Collection, t: int, per_round: float, curves: dict[Any, LearningCurve],
        callback: Callable[[RoundLog], None] | None,
    ) -> np.ndarray:  # fmt: skip
        """Plan and collect round ``t``; returns the samples received."""
        c, B, counts, G = st.c, st.B, st.counts, len(st.labels)
        spent = float(c @ counts)
        room = B - spent
        hi = st.upper()
        step = room if t >= self.n_rounds else min(room, per_round)
        last = step >= room - 1e-9
        # exploration only serves later rounds: none in the last one
        floor = np.zeros(G) if last else np.floor(self.exploration * step / (G * c))
        lower = np.minimum(counts + floor, hi)
        if float(c @ lower) > spent + step:
            lower = counts.astype(float)
        if self.plan == "batch" or last:
            alloc = self._allocate(curves, c, spent + step, lower, hi)
            batch = np.maximum(alloc.n - counts, 0)
        else:  # plan the whole remaining budget, then move one round's budget along it
            alloc = self._allocate(curves, c, B, lower, hi)
            base = np.round(lower - counts).astype(np.int64)  # the exploration floor
            extra = self._scale_batch(
                alloc.n_continuous - lower, c, step - float(c @ base), hi - lower
            )
            batch = base + extra
        if batch.sum() == 0:  # the round's budget buys nothing the curves want
            batch = np.zeros(G, dtype=np.int64)
            ok = np.flatnonzero((c <= room + 1e-9) & (counts < hi))
            batch[ok[np.argmin(c[ok])]] = 1
        got = st.collect(batch)
        st.log(RoundLog(round=t, counts_before=counts.copy(),
                        curves={g: curves[g].params for g in st.labels}, batch=batch,
                        received=got, spent=spent + float(c @ got),
                        predicted_error=alloc.predicted_error), got, callback)  # fmt: skip
        logger.debug("round %d: batch %s, spent %.4g of %.4g", t, batch.tolist(), c @ counts, B)
        return got

    def _fit_curves(
        self, labels: list[Any], X: np.ndarray, y: np.ndarray, g_idx: np.ndarray,
        rng: np.random.Generator, scorer: Callable[..., float], to_err: Callable[[float], float],
    ) -> dict[Any, LearningCurve]:  # fmt: skip
        data = {}
        for i, g in enumerate(labels):
            rows = np.flatnonzero(g_idx == i)
            others = np.flatnonzero(g_idx != i) if self.pooled else np.empty(0, dtype=int)
            data[g] = self._measure(g, rows, others, X, y, rng, scorer, to_err)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            curves = fit_learning_curves(data, shared_exponent=self.shared_exponent)
        for w in caught:
            logger.debug("%s", w.message)
        return curves

    @staticmethod
    def _scale_batch(want: np.ndarray, c: np.ndarray, step: float, room: np.ndarray) -> np.ndarray:
        """Integer batch along ``want`` (continuous increments) costing at most ``step``.

        Rounded down, so no group overshoots the plan; what is left is spent by
        later rounds (the last one solves the remaining problem exactly).
        """
        want = np.clip(want, 0.0, room)
        cost = float(c @ want)
        if cost > step > 0:
            want = want * (step / cost)
        elif step <= 0:
            want = np.zeros_like(want)
        return np.floor(want + 1e-9).astype(np.int64)

    def _allocate(
        self, curves: dict[Any, LearningCurve], c: np.ndarray, budget: float, lower: np.ndarray,
        upper: np.ndarray,
    ) -> Allocation:  # fmt: skip
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = allocate(
                curves,
                c,
                budget,
                objective=self.objective,
                weights=self.weights,
                cap=self.cap,
                lower=np.maximum(lower, 1),
                upper=upper,
            )
        for w in caught:
            logger.debug("%s", w.message)
        return out
