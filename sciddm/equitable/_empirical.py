"""Empirical learning curves per group: resampled errors of any scikit-learn estimator.

:func:`learning_curve_by_group` measures the error of a learner trained on
growing samples of each group (train/test splits per group, repeated); the
measurement, a :class:`GroupLearningCurves`, fits one :class:`LearningCurve`
per group with :meth:`GroupLearningCurves.fit_curves`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_choice, check_int, check_scalar, is_sparse
from sciddm.equitable._curves import LearningCurve, fit_learning_curve, fit_learning_curves

__all__ = ["GroupLearningCurves", "learning_curve_by_group"]


@dataclasses.dataclass(frozen=True, repr=False)
class GroupLearningCurves(Result):
    """Empirical learning curves of one learner, per group (from :func:`learning_curve_by_group`).

    A measurement, not an estimator: :meth:`fit_curves` fits one
    :class:`LearningCurve` per group to it and returns them.

    Attributes
    ----------
    groups : list
        Group labels, in sorted order.
    sizes : ndarray of shape (G, S)
        Training sizes per group.
    errors : ndarray of shape (G, S, R)
        Error of each repeat.
    mean_error, std_error : ndarray of shape (G, S)
        Mean over repeats, and its standard error (std / sqrt(R)).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sciddm.equitable import learning_curve_by_group
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> g = (X[:, 0] > 14).astype(int)
    >>> lc = learning_curve_by_group(GaussianNB(), X, y, g, [20, 60, 150], n_repeats=2, rng=0)
    >>> lc.errors.shape, sorted(lc.fit_curves(model="monotone"))
    ((2, 3, 2), [0, 1])
    """

    groups: list[Any]
    sizes: np.ndarray
    errors: np.ndarray
    mean_error: np.ndarray
    std_error: np.ndarray

    def fit_curves(
        self, *, model: str = "power-law", shared_exponent: bool = False
    ) -> dict[Any, LearningCurve]:
        """Fit one learning curve per group to the repeat-level errors.

        Parameters
        ----------
        model : {"power-law", "monotone"}, default "power-law"
            As in :func:`fit_learning_curve`.
        shared_exponent : bool, default False
            Fit one exponent for all groups (power law only; see
            :func:`fit_learning_curves`).

        Returns
        -------
        dict
            ``{group: LearningCurve}``, ready for :func:`allocate`.
        """
        check_choice(model, "model", ("power-law", "monotone"))
        r = self.errors.shape[2]
        if shared_exponent:
            if model != "power-law":
                raise ValueError("`shared_exponent` needs model='power-law'")
            data = {
                g: (np.repeat(self.sizes[i], r), self.errors[i].ravel())
                for i, g in enumerate(self.groups)
            }
            return fit_learning_curves(data, shared_exponent=True)
        out = {}
        for i, g in enumerate(self.groups):
            r = self.errors.shape[2]
            out[g] = fit_learning_curve(
                np.repeat(self.sizes[i], r), self.errors[i].ravel(), model=model, group=str(g)
            )
        return out

    def fit(self, *, model: str = "power-law") -> dict[Any, LearningCurve]:
        """Deprecated alias of :meth:`fit_curves` (a result is not an estimator).

        Parameters
        ----------
        model : {"power-law", "monotone"}, default "power-law"
            As in :meth:`fit_curves`.

        Returns
        -------
        dict
            ``{group: LearningCurve}``.
        """
        warnings.warn(
            "GroupLearningCurves.fit is deprecated and will be removed in the next release; "
            "use fit_curves (it returns the curves, it does not fit the result in place)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.fit_curves(model=model)

    def plot(self, ax: Any = None) -> Any:
        """Mean error versus size per group, with error bars.

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
        for i, g in enumerate(self.groups):
            ax.errorbar(
                self.sizes[i], self.mean_error[i], yerr=self.std_error[i], marker="o", label=str(g)
            )
        ax.set_xscale("log")
        ax.set_xlabel("training samples of the group")
        ax.set_ylabel("error")
        ax.legend()
        return ax


def _rows(X: Any, name: str, *, ndim: int) -> Any:
    """Data rows as a CSR matrix (sparse input) or an ndarray of ``ndim`` dimensions."""
    if is_sparse(X):
        import scipy.sparse as sp

        if ndim != 2 or not hasattr(X, "tocsr"):
            raise ValueError(f"`{name}` must be a dense array, got a sparse {type(X).__name__}")
        return sp.csr_matrix(X)
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` could not be converted to an array: {exc}") from exc
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimension(s), got shape {arr.shape}")
    return arr


def _scorer_to_error(metric: Any) -> tuple[Callable[..., float], Callable[[float], float]]:
    from sklearn.metrics import get_scorer

    if isinstance(metric, str):
        try:
            scorer = get_scorer(metric)
        except ValueError as exc:
            raise ValueError(
                f"`metric` must be a scikit-learn scorer name or callable, got {metric!r}"
            ) from exc
        if metric.startswith("neg_"):
            return scorer, lambda s: -s
        return scorer, lambda s: 1.0 - s
    if callable(metric):
        return metric, lambda s: 1.0 - s
    raise ValueError(f"`metric` must be a scikit-learn scorer name or callable, got {metric!r}")


def _size_table(
    sizes: Any, labels: list[Any], idx: dict[Any, np.ndarray], test_size: float
) -> np.ndarray:
    """Training sizes per group: ints, or fractions in (0, 1] of the training part."""
    if isinstance(sizes, np.ndarray) and sizes.ndim == 1:
        sizes = sizes.tolist()
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) == 0:
        raise ValueError(f"`sizes` must be a non-empty sequence of sizes, got {sizes!r}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, float, np.integer, np.floating)):
            raise ValueError(f"`sizes` must hold numbers, got {s!r}")
        if not (np.isfinite(s) and s > 0):
            raise ValueError(f"`sizes` must be positive and finite, got {s!r}")
    size_tab = np.zeros((len(labels), len(sizes)), dtype=int)
    for i, g in enumerate(labels):
        n_train = int(np.floor(idx[g].size * (1 - test_size)))
        for j, s in enumerate(sizes):
            frac = isinstance(s, (float, np.floating)) and 0 < s <= 1
            m = int(round(s * n_train)) if frac else int(s)
            if m < 1 or m > n_train:
                raise ValueError(
                    f"group {g!r}: size {s} needs {m} training samples but the group has "
                    f"{n_train} after holding out `test_size`={test_size:g}"
                )
            size_tab[i, j] = m
    return size_tab


def learning_curve_by_group(
    estimator: Any,
    X: Any,
    y: Any,
    groups: Any,
    sizes: Sequence[float],
    *,
    metric: Any = "accuracy",
    n_repeats: int = 5,
    test_size: float = 0.25,
    pooled: bool = False,
    rng: SeedLike = None,
) -> GroupLearningCurves:
    """Measure the error of ``estimator`` per group versus the group's training size.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Cloned for every fit.
    X : array_like or scipy.sparse matrix of shape (N, d)
        Features (sparse matrices are passed on to the estimator as CSR).
    y : array_like of shape (N,)
        Targets.
    groups : array_like of shape (N,)
        Group label of each row.
    sizes : sequence of int or float
        Training sizes; a float in (0, 1] is a fraction of the group's
        training part (``(1 - test_size)`` of the group).
    metric : str or callable, default "accuracy"
        A scikit-learn scorer name (``"accuracy"``, ``"r2"``,
        ``"neg_mean_squared_error"``, ...) or a scorer ``f(est, X, y)``.
        The error is ``-score`` for ``neg_*`` names and ``1 - score`` otherwise.
    n_repeats : int, default 5
        Random train/test splits per group.
    test_size : float, default 0.25
        Fraction of each group held out for scoring in every repeat.
    pooled : bool, default False
        If True, each fit also uses the training parts of all *other*
        groups in full, so the curve of group ``g`` varies ``n_g`` only.
        If False, one model per group is trained on that group alone.
    rng : numpy.random.Generator, int or None
        Random source of the splits.

    Returns
    -------
    GroupLearningCurves
        Errors per group, size and repeat.

    Raises
    ------
    ValueError
        If a size exceeds a group's training part, naming the group.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sciddm.equitable import learning_curve_by_group
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> g = (X[:, 0] > 14).astype(int)        # small / large mean radius
    >>> lc = learning_curve_by_group(GaussianNB(), X, y, g, [20, 60, 150], n_repeats=2, rng=0)
    >>> lc.sizes.tolist()
    [[20, 60, 150], [20, 60, 150]]
    """
    from sklearn.base import clone

    n_repeats = check_int(n_repeats, "n_repeats", lo=1)
    test_size = check_scalar(test_size, "test_size", lo=0, hi=1, closed="neither")
    X_arr = _rows(X, "X", ndim=2)
    y_arr = _rows(y, "y", ndim=1)
    g_arr = _rows(groups, "groups", ndim=1)
    if X_arr.shape[0] != y_arr.shape[0] or X_arr.shape[0] != g_arr.shape[0]:
        raise ValueError(
            f"`X`, `y` and `groups` must have the same length, got {X_arr.shape[0]}, "
            f"{y_arr.shape[0]} and {g_arr.shape[0]}"
        )
    scorer, to_err = _scorer_to_error(metric)
    labels = sorted(np.unique(g_arr).tolist())
    idx = {g: np.flatnonzero(g_arr == g) for g in labels}
    size_tab = _size_table(sizes, labels, idx, test_size)
    S = size_tab.shape[1]
    if len(labels) * S * n_repeats > 2**24:
        raise ValueError(
            f"`n_repeats` = {n_repeats} asks for {len(labels) * S * n_repeats} fits; at most "
            f"{2**24} per call"
        )
    gen = as_generator(rng)
    errors = np.zeros((len(labels), S, n_repeats))
    for r in range(n_repeats):
        perms = {g: gen.permutation(idx[g]) for g in labels}
        n_test = {g: idx[g].size - int(np.floor(idx[g].size * (1 - test_size))) for g in labels}
        test = {g: perms[g][: n_test[g]] for g in labels}
        train = {g: perms[g][n_test[g] :] for g in labels}
        for i, g in enumerate(labels):
            others = (
                np.concatenate([train[h] for h in labels if h != g])
                if pooled and len(labels) > 1
                else np.empty(0, dtype=int)
            )
            for j in range(S):
                rows = np.concatenate([train[g][: size_tab[i, j]], others])
                est = clone(estimator).fit(X_arr[rows], y_arr[rows])
                errors[i, j, r] = to_err(float(scorer(est, X_arr[test[g]], y_arr[test[g]])))
    mean = errors.mean(axis=2)
    std = errors.std(axis=2, ddof=1) / np.sqrt(n_repeats) if n_repeats > 1 else np.zeros_like(mean)
    return GroupLearningCurves(
        groups=labels, sizes=size_tab, errors=errors, mean_error=mean, std_error=std
    )
