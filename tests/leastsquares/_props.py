"""The driver of the property-based tests of leastsquares, sensitivity and equitable.

A *case* is a public callable, a set of valid keyword arguments, and the kind of
each argument that may be corrupted. Hypothesis corrupts one argument at a time
with a value from the kind's pool of bad values; the call must then return a
finite, valid result or raise ``ValueError``/``TypeError`` whose message names the
corrupted argument (or an argument it is checked against) -- never another
exception type, a NaN or inf in the result, or a hang (sizes are tiny, and the
pools' huge sizes must be refused before any work).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

NAN = float("nan")
INF = float("inf")

#: Bad values by kind: wrong types, non-finite, empty, wrong shapes, out-of-range, huge.
BAD: dict[str, list[Any]] = {
    "int": [0, -1, -(10**9), 10**12, 2.5, NAN, "3", None, True, [2]],
    "posint": [0, -1, 10**12, 2.5, NAN, "3", None, [2]],
    "pos": [0.0, -1.0, NAN, INF, -INF, 1e300, "1", None, [1.0]],
    "nonneg": [-1e-3, -1.0, NAN, INF, 1e300, "1", None, [1.0]],
    "real": [NAN, INF, -INF, 1e300, -1e300, "1", None, [1.0, 2.0]],
    "unit": [0.0, 1.0, -0.5, 1.5, NAN, INF, "0.5", None],
    "array": [
        np.array([[NAN, 1.0], [0.0, 1.0]]),
        np.array([[INF, 0.0], [1.0, 1.0]]),
        np.zeros((0, 2)),
        np.float64(3.0),
        np.zeros((2, 2, 2)),
        np.array([["a", "b"], ["c", "d"]]),
        "abc",
        None,
        sp.csr_matrix(np.array([[NAN, 1.0], [1.0, 0.0]])),
        [[1.0, 2.0], [3.0]],
        np.ones((2, 2)) * (1 + 1j),
        np.full((3, 2), 1e300),
    ],
    "vector": [
        np.array([NAN, 1.0]),
        np.array([1.0, INF]),
        np.zeros(0),
        np.zeros((2, 2, 2)),
        np.array(["a", "b"]),
        "abc",
        None,
        sp.csr_matrix(np.ones((1, 2))),
        -np.ones(2),
        np.full(2, 1e300),
    ],
    "callable": [None, 3, "f", np.ones(2)],
    "object": [3, "f", np.ones(2), object(), None],
    "rng": ["seed", 1.5, -1, np.random.RandomState(0), [1, 2], object()],
    "bool": ["yes", None, 2.5],
    "choice": ["nope", 3, None, ""],
}


def _finite(value: Any, path: str = "result", skip: frozenset[str] = frozenset()) -> None:
    if callable(value) and not dataclasses.is_dataclass(value):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name not in skip:
                _finite(getattr(value, f.name), f"{path}.{f.name}", skip)
        return
    if sp.issparse(value):
        _finite(value.data, path, skip)
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            assert np.all(np.isfinite(value)), f"{path} holds NaN or inf"
        return
    if isinstance(value, (float, np.floating)):
        assert np.isfinite(value), f"{path} is {value}"
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{path}[{k!r}]", skip)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _finite(v, f"{path}[{i}]", skip)


def names_argument(msg: str, names: tuple[str, ...]) -> bool:
    """Whether ``msg`` names one of ``names`` (as `name`, or as a bare word)."""
    return any(re.search(rf"(`{re.escape(n)}`|\b{re.escape(n)}\b)", msg) for n in names)


@dataclasses.dataclass
class Case:
    """One public callable with valid arguments and the kinds of its arguments."""

    fn: Callable[..., Any]
    kwargs: dict[str, Any]
    kinds: dict[str, str]
    args: tuple[str, ...] = ()  # names in kwargs passed positionally, in order
    blame: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    skip: frozenset[str] = frozenset()
    check: Callable[[Any], None] | None = None  # a property of a valid result
    bad: dict[str, list[Any]] = dataclasses.field(default_factory=dict)  # extra bad values

    def run(self, kw: dict[str, Any], slot: str | None = None) -> Any:
        args = tuple(kw[a] for a in self.args)
        rest = {k: v for k, v in kw.items() if k not in self.args}
        if slot is None:
            out = self.fn(*args, **rest)
            _finite(out, skip=self.skip)
            if self.check is not None:
                self.check(out)
            return out
        blame = self.blame.get(slot, (slot,))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning etc. are not under test
                out = self.fn(*args, **rest)
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            assert names_argument(msg, blame), (
                f"{getattr(self.fn, '__name__', self.fn)}: the error does not name {blame}: {msg!r}"
            )
            return None
        _finite(out, skip=self.skip)
        return out


def corrupt_one(case: Case) -> st.SearchStrategy[tuple[str, Any]]:
    """A strategy of (argument, bad value) pairs of ``case``."""
    pairs = [(slot, v) for slot, kind in case.kinds.items() for v in BAD[kind]]
    pairs += [(slot, v) for slot, vals in case.bad.items() for v in vals]
    return st.sampled_from(range(len(pairs))).map(lambda i: pairs[i])


def fresh(value: Any) -> Any:
    """A copy of a valid argument (so that a call cannot change the case's data)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    return value
