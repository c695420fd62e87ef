"""Lazy imports of optional dependencies with an error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str, *, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise an ImportError naming the sciddm extra.

    Parameters
    ----------
    module : str
        Importable module name, e.g. ``"rdkit.Chem"``.
    extra : str
        The sciddm extra that installs it, e.g. ``"chem"``.
    purpose : str, optional
        What needs it, added to the message.

    Examples
    --------
    >>> from sciddm._core.extras import require
    >>> require("math", "core").sqrt(4.0)
    2.0
    >>> require("no_such_module_xyz", "chem")
    Traceback (most recent call last):
    ...
    ImportError: no_such_module_xyz is required ... pip install 'sciddm[chem]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {purpose}" if purpose else ""
        raise ImportError(
            f"{module} is required{what} but is not installed; "
            f"install the extra with: pip install 'sciddm[{extra}]'"
        ) from exc
