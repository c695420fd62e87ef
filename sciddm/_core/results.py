"""Frozen-dataclass result objects.

Every sciddm function that returns more than one array returns a subclass of
:class:`Result`: a frozen dataclass with named fields, never a tuple whose
shape changes with flags. ``to_dict`` gives plain Python data; the ``repr``
abbreviates arrays to their shape and dtype.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Result", "short_repr"]


def short_repr(value: Any, *, maxlen: int = 60) -> str:
    """A one-line representation: arrays by shape/dtype, long text truncated.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm._core.results import short_repr
    >>> short_repr(np.zeros((3, 2)))
    'array(shape=(3, 2), dtype=float64)'
    >>> short_repr(np.float64(0.5))
    '0.5'
    """
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return repr(value.item())
        if value.size <= 4 and value.ndim == 1:
            return np.array2string(value, precision=4, separator=", ")
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if type(value).__module__.startswith("torch") and hasattr(value, "shape"):
        return f"tensor(shape={tuple(value.shape)}, dtype={value.dtype}, device={value.device})"
    if isinstance(value, (np.floating, float)):
        return f"{float(value):.6g}"
    if isinstance(value, np.integer):
        return str(int(value))
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"{type(value).__name__}(len={len(value)})"
    text = repr(value)
    return text if len(text) <= maxlen else text[: maxlen - 3] + "..."


def _plain(value: Any) -> Any:
    if isinstance(value, Result):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if type(value).__module__.startswith("torch") and hasattr(value, "tolist"):
        return value.detach().cpu().tolist()
    return value


@dataclasses.dataclass(frozen=True, repr=False)
class Result:
    """Base class of sciddm's results.

    Subclass it with ``@dataclass(frozen=True, repr=False)``.

    Examples
    --------
    >>> import dataclasses
    >>> import numpy as np
    >>> from sciddm._core.results import Result
    >>> @dataclasses.dataclass(frozen=True, repr=False)
    ... class Fit(Result):
    ...     coef: np.ndarray
    ...     error: float
    >>> r = Fit(coef=np.zeros(10), error=0.25)
    >>> r
    Fit(coef=array(shape=(10,), dtype=float64), error=0.25)
    >>> r.to_dict()["error"]
    0.25
    """

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python objects (arrays become nested lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def __repr__(self) -> str:
        parts = [
            f"{f.name}={short_repr(getattr(self, f.name))}"
            for f in dataclasses.fields(self)
            if f.repr
        ]
        return f"{type(self).__name__}({', '.join(parts)})"

    def summary(self) -> str:
        """A multi-line, human-readable summary (one field a line)."""
        lines = [type(self).__name__]
        for f in dataclasses.fields(self):
            if f.repr:
                lines.append(f"  {f.name:<20} {short_repr(getattr(self, f.name))}")
        return "\n".join(lines)
