"""Parallel parameter sweeps with reproducible per-cell randomness.

:func:`run_sweep` evaluates a function over the cells of a grid (seeds x
sizes x methods ...) with :mod:`joblib`. Each cell receives its own child
generator spawned from ``rng`` in the cell's position in the grid, so the
results are identical for any ``n_jobs`` and any joblib backend. Dask or Ray
are used through :func:`joblib.parallel_config`::

    with joblib.parallel_config(backend="dask"):   # extra ``dist``
        res = run_sweep(fn, grid, rng=0, n_jobs=-1)
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, spawn
from sciddm.reproduce._stats import mean_ci

__all__ = ["SweepResult", "expand_grid", "run_sweep"]


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The cells of ``grid``, a dict of value lists or an explicit list of dicts.

    Parameters
    ----------
    grid : dict of sequences, or sequence of dicts
        A dict ``{name: values}`` gives the Cartesian product of the values, in
        row-major order of the keys (the last key varies fastest); a sequence of
        dicts is taken as the list of cells.

    Returns
    -------
    list of dict
        One dict of parameter values per cell.

    Raises
    ------
    ValueError
        If a value of the dict is not a sequence (a string counts as one value), or
        an item of the sequence is not a mapping.

    Examples
    --------
    >>> from sciddm.reproduce import expand_grid
    >>> expand_grid({"n": [10, 20], "method": ["a", "b"]})
    [{'n': 10, 'method': 'a'}, {'n': 10, 'method': 'b'}, {'n': 20, 'method': 'a'}, {'n': 20, 'method': 'b'}]
    """
    if isinstance(grid, Mapping):
        keys = list(grid)
        for k in keys:
            v = grid[k]
            if isinstance(v, (str, bytes)) or not isinstance(v, Sequence | range | np.ndarray):
                raise ValueError(f"`grid[{k!r}]` must be a sequence of values, got {v!r}")
        return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]
    cells = [dict(c) for c in grid]
    if not all(isinstance(c, dict) for c in cells):
        raise ValueError("`grid` must be a mapping of lists or a sequence of mappings")
    return cells


@dataclasses.dataclass(frozen=True, repr=False)
class SweepResult(Result):
    """Records of a sweep, one per grid cell, in grid order.

    Attributes
    ----------
    records : list of dict
        Each record merges the cell's parameters with the function's output
        (a dict output is merged; anything else is stored under ``"value"``).
    params : tuple of str
        The parameter names of the grid.

    Examples
    --------
    >>> from sciddm.reproduce import run_sweep
    >>> def draw(size, rep, rng):
    ...     return {"mean": float(rng.normal(size=size).mean())}
    >>> res = run_sweep(draw, {"size": [10, 1000], "rep": range(3)}, rng=0)
    >>> res.params, len(res.records), res.column("size").tolist()
    (('size', 'rep'), 6, [10, 10, 10, 1000, 1000, 1000])
    >>> [(row["size"], row["n"]) for row in res.summarize("mean", by=["size"])]
    [(10, 3), (1000, 3)]
    """

    records: list[dict[str, Any]]
    params: tuple[str, ...]

    def column(self, name: str) -> np.ndarray:
        """The values of ``name`` across records, as an array."""
        if not self.records or name not in self.records[0]:
            raise KeyError(
                f"no column {name!r}; columns: {sorted(self.records[0]) if self.records else []}"
            )
        return np.asarray([r[name] for r in self.records])

    def summarize(self, value: str, by: Sequence[str], level: float = 0.95) -> list[dict[str, Any]]:
        """Mean and t-interval of ``value`` for each combination of ``by``.

        Returns a list of dicts with the ``by`` keys and ``mean``, ``lo``,
        ``hi``, ``n``, in order of first appearance.
        """
        groups: dict[tuple[Any, ...], list[float]] = {}
        for r in self.records:
            groups.setdefault(tuple(r[b] for b in by), []).append(float(r[value]))
        out = []
        for key, vals in groups.items():
            m, lo, hi = mean_ci(vals, level)
            out.append({**dict(zip(by, key)), "mean": m, "lo": lo, "hi": hi, "n": len(vals)})
        return out


def _call(fn: Callable[..., Any], cell: dict[str, Any], rng: np.random.Generator) -> Any:
    return fn(**cell, rng=rng)


def run_sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    rng: SeedLike = None,
    n_jobs: int | None = 1,
    progress: bool = False,
    desc: str | None = None,
) -> SweepResult:
    """Evaluate ``fn(**cell, rng=child)`` on every cell of ``grid``.

    Parameters
    ----------
    fn : callable
        Called with the cell's parameters as keywords and ``rng``, a
        :class:`numpy.random.Generator` of its own. It returns a dict of
        outputs (merged into the record) or any single value (stored under
        ``"value"``). With ``n_jobs != 1`` it must be picklable (a module-level
        function).
    grid : dict of sequences, or sequence of dicts
        See :func:`expand_grid`.
    rng : numpy.random.Generator, int or None
        Parent generator; cell ``i`` gets ``spawn(rng, n_cells)[i]``.
    n_jobs : int or None, default 1
        Number of joblib workers (``-1``: all cores). The backend is joblib's
        current one (loky by default); select another with
        :func:`joblib.parallel_config`.
    progress : bool, default False
        Show a progress bar (plain lines when standard error is not a terminal).
    desc : str, optional
        The bar's label (default ``"sweep"``).

    Returns
    -------
    SweepResult

    Notes
    -----
    Reproducibility does not depend on scheduling: the generator of a cell
    is fixed by its index in the grid before any work is dispatched, so the
    same ``rng`` gives identical records for ``n_jobs=1``, ``n_jobs=2``, and
    for the loky, threading, Dask or Ray backends.

    Examples
    --------
    >>> from sciddm.reproduce import run_sweep
    >>> def mean_of(n, rng):
    ...     return {"mean": float(rng.normal(size=n).mean())}
    >>> res = run_sweep(mean_of, {"n": [10, 1000]}, rng=0)
    >>> [r["n"] for r in res.records]
    [10, 1000]
    >>> res.records == run_sweep(mean_of, {"n": [10, 1000]}, rng=0).records
    True
    """
    if not callable(fn):
        raise ValueError(f"`fn` must be callable, got {fn!r}")
    cells = expand_grid(grid)
    params = tuple(cells[0]) if cells else ()
    for c in cells:
        if "rng" in c:
            raise ValueError("`grid` must not contain the key 'rng'; it is passed by run_sweep")
    children = spawn(rng, len(cells))
    desc = desc or "sweep"
    if n_jobs == 1:
        from sciddm._core.progress import progress_bar

        outputs = [
            _call(fn, c, g)
            for c, g in progress_bar(
                zip(cells, children), enabled=progress, total=len(cells), desc=desc
            )
        ]
    else:
        from joblib import Parallel, delayed

        tasks = (delayed(_call)(fn, c, g) for c, g in zip(cells, children))
        if progress:
            from sciddm._core.progress import progress_bar

            gen = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
            outputs = list(progress_bar(gen, enabled=True, total=len(cells), desc=desc))
        else:
            outputs = list(Parallel(n_jobs=n_jobs)(tasks))
    records = []
    for c, out in zip(cells, outputs):
        rec = dict(c)
        if isinstance(out, Mapping):
            clash = set(out) & set(c)
            if clash:
                raise ValueError(
                    f"`fn` returned keys that clash with grid parameters: {sorted(clash)}"
                )
            rec.update(out)
        else:
            rec["value"] = out
        records.append(rec)
    return SweepResult(records=records, params=params)
