"""Lazy re-exports for a package's ``__init__`` (PEP 562), so that importing a family is cheap.

A family's ``__init__`` re-exports the public names of its private modules. Importing
them all eagerly would load every heavy dependency of every module (scikit-learn,
``scipy.stats``, torch, RDKit, matplotlib) even for a script that uses one function. With
:func:`lazy_exports` a name's module is imported the first time the name is looked up
(``from sciddm.leastsquares import Legendre``, ``sciddm.leastsquares.Legendre``,
``from sciddm.leastsquares import *``), and cached in the package so that later lookups
are ordinary attribute reads. Every public behaviour is kept: ``__all__`` (and so
``import *`` and the API pages the docs build from it), ``dir()``, ``hasattr``, pickling
(classes keep their defining module), doctests.

The one pattern, used by every package ``__init__`` of sciddm::

    from typing import TYPE_CHECKING

    __all__ = ["Legendre", "weighted_least_squares"]

    if TYPE_CHECKING:  # what mypy and IDEs see: the names with their types
        from ._estimator import weighted_least_squares
        from ._polynomials import Legendre
    else:  # what runs: the same names, imported on first use
        from sciddm._core.lazy import lazy_exports

        __getattr__, __dir__ = lazy_exports(
            __name__,
            {"._estimator": ("weighted_least_squares",), "._polynomials": ("Legendre",)},
            __all__,
        )

The ``if TYPE_CHECKING``/``else`` split keeps the module ``__getattr__`` invisible to type
checkers, so that a misspelt ``from sciddm.leastsquares import Legendr`` stays an error
for mypy instead of quietly becoming ``Any``. ``tests/_core/test_lazy.py`` checks that
each package's ``TYPE_CHECKING`` block imports exactly the names, from exactly the
modules, that its table lists.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports", "lazy_table"]

_TABLES: dict[str, dict[str, str]] = {}


def lazy_exports(
    package: str,
    exports: Mapping[str, Iterable[str]],
    all_names: Sequence[str],
    *,
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the module ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Parameters
    ----------
    package : str
        The module's ``__name__``.
    exports : mapping of str to iterable of str
        For each module, the names it provides: ``{"._bases": ("Basis", "total_degree")}``.
        A module name starting with ``.`` is relative, as in an import statement written
        in ``package`` (to ``package`` itself if it is a package, else to its parent);
        others are absolute
        (``{"sklearn.exceptions": ("ConvergenceWarning",)}``).
    all_names : sequence of str
        The module's ``__all__``. Every lazy name must be in it (a name missing from
        ``__all__`` would be invisible to ``import *`` and to the API pages).
    submodules : iterable of str, optional
        Names of submodules (``"leastsquares"``, ``"data"``) imported on first access
        as attributes of the package (listed by ``__dir__``; they need not be in
        ``all_names``).

    Returns
    -------
    getattr : callable
        The PEP 562 ``__getattr__``: imports the name's module, caches the value in the
        package and returns it; an unknown name raises ``AttributeError``.
    dir : callable
        The ``__dir__``: the module's own globals, every name in ``all_names`` and the
        submodules.

    Raises
    ------
    ValueError
        If a name is given twice or is missing from ``all_names``.

    Examples
    --------
    >>> import sys, types
    >>> pkg = types.ModuleType("demo_pkg")
    >>> pkg.__all__ = ["sqrt", "pi"]
    >>> pkg.__getattr__, pkg.__dir__ = lazy_exports("demo_pkg", {"math": ("sqrt", "pi")}, pkg.__all__)
    >>> sys.modules["demo_pkg"] = pkg
    >>> "sqrt" in vars(pkg), pkg.sqrt(4.0), "sqrt" in vars(pkg)
    (False, 2.0, True)
    >>> from demo_pkg import pi
    >>> round(pi, 4), [n for n in dir(pkg) if not n.startswith("_")]
    (3.1416, ['pi', 'sqrt'])
    >>> del sys.modules["demo_pkg"]
    """
    table: dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            if name in table:
                raise ValueError(
                    f"{package}: {name!r} is exported by both {table[name]} and {module}"
                )
            table[name] = module
    subs = frozenset(submodules)
    listed = set(all_names)
    missing = sorted(n for n in table if n not in listed)
    if missing:
        raise ValueError(f"{package}: lazy names missing from __all__: {missing}")
    _TABLES[package] = dict(table)

    def __getattr__(name: str) -> Any:
        if name in table:  # relative to the package of `package` (itself, or its parent)
            anchor = sys.modules[package].__package__
            value = getattr(importlib.import_module(table[name], anchor), name)
        elif name in subs:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | listed | subs)

    return __getattr__, __dir__


def lazy_table(package: str) -> dict[str, str]:
    """The lazy names of ``package`` and the module each comes from (empty if none).

    Examples
    --------
    >>> import sciddm.leastsquares
    >>> lazy_table("sciddm.leastsquares")["Legendre"]
    '._polynomials'
    """
    return dict(_TABLES.get(package, {}))
