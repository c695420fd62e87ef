"""The driver of the property-based tests of diffusion, hallucination and ambient.

A *case* is a public callable, a set of valid keyword arguments, and for some of
them a pool of bad values. Hypothesis corrupts one argument at a time; the call
must then return a finite, valid result or raise ``ValueError``/``TypeError``
whose message names the corrupted argument -- never another exception, a NaN or
a silent fallback.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from hypothesis import strategies as st

NAN = float("nan")
INF = float("inf")

#: Bad values by kind; every pool mixes wrong types, non-finite and out-of-range values.
BAD: dict[str, list[Any]] = {
    "int": [0, -1, -(10**9), 10**12, 2.5, NAN, "3", None, True, [2]],
    "pos": [0.0, -1.0, NAN, INF, -INF, 1e300, "1", None, True, [1.0]],
    "nonneg": [-1e-3, -1.0, NAN, INF, 1e300, "1", None, [1.0]],
    "real": [NAN, INF, -INF, 1e300, -1e300, "1", None, [1.0, 2.0]],
    "unit": [0.0, 1.0, -0.5, 1.5, NAN, INF, "0.5", None],
    "array": [
        np.array([[NAN, 1.0], [0.0, 1.0]]),
        np.array([[INF, 0.0], [1.0, 1.0]]),
        np.zeros((0, 2)),
        np.float64(3.0),
        np.zeros((2, 2, 2, 2)),
        np.array([["a", "b"], ["c", "d"]]),
        "abc",
        None,
        sp.csr_matrix(np.eye(2)),
        [[1.0, 2.0], [3.0]],
        np.ones((2, 2)) * (1 + 1j),
    ],
    "vector": [
        np.array([NAN, 1.0]),
        np.array([1.0, INF]),
        np.zeros(0),
        np.zeros((2, 2)),
        np.array(["a", "b"]),
        "abc",
        None,
        sp.csr_matrix(np.ones((1, 2))),
        -np.ones(2),
    ],
    "tensor": [
        torch.full((2, 2), NAN),
        torch.full((2, 2), INF),
        torch.zeros(0, 2),
        torch.zeros(()),
        torch.ones(2, 2, dtype=torch.long),
        np.ones((2, 2)),
        torch.eye(2).to_sparse(),
        "x",
        None,
    ],
    "callable": [None, 3, "f", np.ones(2)],
    "object": [3, "f", np.ones(2), object()],
    "rng": ["seed", 1.5, -1, np.random.RandomState(0), [1, 2], object()],
    "bool": ["yes", None, 2.5],
    "choice": ["nope", 3, None, ""],
}


def _finite(value: Any, path: str = "result", skip: frozenset[str] = frozenset()) -> None:
    if (
        isinstance(value, torch.nn.Module)
        or callable(value)
        and not dataclasses.is_dataclass(value)
    ):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name not in skip:
                _finite(getattr(value, f.name), f"{path}.{f.name}", skip)
        return
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not value.is_sparse:
            assert bool(torch.isfinite(value).all()), f"{path} holds NaN or inf"
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


def call(
    fn: Callable[..., Any],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    blame: tuple[str, ...] = (),
    skip: frozenset[str] = frozenset(),
) -> Any:
    """Call ``fn``; a result must be finite, an error a Value/TypeError naming ``blame``.

    Returns the result, or None after an accepted error.
    """
    kwargs = kwargs or {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning etc. are not under test here
            out = fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert not blame or names_argument(msg, blame), (
            f"{getattr(fn, '__name__', fn)}: the error does not name {blame}: {msg!r}"
        )
        return None
    _finite(out, skip=skip)
    return out


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

    def run(self, kw: dict[str, Any], slot: str | None = None) -> Any:
        args = tuple(kw[a] for a in self.args)
        rest = {k: v for k, v in kw.items() if k not in self.args}
        blame = () if slot is None else self.blame.get(slot, (slot,))
        if slot is None:
            out = self.fn(*args, **rest)
            _finite(out, skip=self.skip)
            if self.check is not None:
                self.check(out)
            return out
        return call(self.fn, args, rest, blame=blame, skip=self.skip)


def corrupt_one(case: Case) -> st.SearchStrategy[tuple[str, Any]]:
    """A strategy of (argument, bad value) pairs of ``case``."""
    pairs = [(slot, v) for slot, kind in case.kinds.items() for v in BAD[kind]]
    return st.sampled_from(range(len(pairs))).map(lambda i: pairs[i])


def fresh(value: Any) -> Any:
    """A copy of a valid argument (so that a call cannot change the case's data)."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.copy() if isinstance(value, np.ndarray) else value.clone()
    return value
