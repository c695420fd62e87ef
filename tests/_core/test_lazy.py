"""The lazy re-exports of the package ``__init__`` modules (``sciddm._core.lazy``).

Every package that uses :func:`lazy_exports` must list, in its ``if TYPE_CHECKING:``
block, exactly the names of its lazy table and from the same modules (mypy and IDEs read
the block; the interpreter reads the table). Lazily exported names must behave as the
eager re-exports did: ``hasattr``/``dir``/``import *``/pickling/``is`` identity.
"""

from __future__ import annotations

import ast
import importlib
import pickle
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import sciddm
from sciddm._core.lazy import lazy_exports, lazy_table

ROOT = Path(sciddm.__file__).resolve().parent
LAZY_MODULES = sorted(
    ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in ROOT.rglob("*.py")
    if "lazy_exports(" in path.read_text() and path.name != "lazy.py"
)


def _type_checking_imports(module: str) -> dict[str, str]:
    """``name -> module`` of the ``from X import name`` statements under ``if TYPE_CHECKING:``."""
    mod = importlib.import_module(module)
    tree = ast.parse(Path(mod.__file__).read_text())
    package = module if mod.__file__.endswith("__init__.py") else module.rpartition(".")[0]
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                source = "." * stmt.level + (stmt.module or "")
                if source.startswith(package + "."):  # absolute spelling of a relative one
                    source = source[len(package) :]
                for alias in stmt.names:
                    found[alias.asname or alias.name] = source
    return found


def test_every_lazy_package_is_found():
    assert {
        "sciddm",
        "sciddm._core",
        "sciddm._core.validation",
        "sciddm.leastsquares",
        "sciddm.sensitivity",
        "sciddm.equitable",
        "sciddm.chem",
        "sciddm.dna",
    } <= set(LAZY_MODULES)


@pytest.mark.parametrize("module", LAZY_MODULES)
def test_type_checking_block_matches_lazy_table(module):
    """What mypy sees is what runs: the same names from the same modules."""
    mod = importlib.import_module(module)
    table = lazy_table(module)
    static = _type_checking_imports(module)
    if module == "sciddm":  # subpackages, not names: `from . import leastsquares, ...`
        assert set(static) == set(sciddm.SUBPACKAGES)
        assert not table
        return
    assert static == table
    for name, source in table.items():
        value = getattr(mod, name)
        origin = importlib.import_module(source, mod.__package__)
        assert value is getattr(origin, name)


@pytest.mark.parametrize("module", LAZY_MODULES)
def test_all_dir_and_star_import(module):
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert set(names) <= set(dir(mod))
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        exec(f"from {module} import *", namespace)
    assert set(names) <= set(namespace)
    for name in names:  # cached in the package after the first lookup
        assert name in vars(mod) or name in getattr(mod, "SUBPACKAGES", ())


def test_unknown_name_is_an_attribute_error_naming_it():
    import sciddm.leastsquares as ls

    with pytest.raises(AttributeError, match="'sciddm.leastsquares' has no attribute 'Legendr'"):
        ls.Legendr  # noqa: B018
    assert not hasattr(ls, "Legendr")
    with pytest.raises(ImportError, match="Legendr"):
        exec("from sciddm.leastsquares import Legendr", {})


def test_convergence_warning_is_scikit_learns_class():
    from sklearn.exceptions import ConvergenceWarning as Sk

    import sciddm._core
    import sciddm._core.validation as v

    assert sciddm._core.ConvergenceWarning is Sk
    assert v.ConvergenceWarning is Sk
    with pytest.warns(Sk, match="increase `max_iter`"):
        v.warn_convergence("did not converge", "max_iter")


def test_estimator_pickles_and_the_old_module_path_still_unpickles():
    from sciddm.leastsquares import Legendre, TensorBasis, WeightedLeastSquares, total_degree

    x = np.linspace(-1, 1, 20)[:, None]
    model = WeightedLeastSquares(TensorBasis(Legendre(), total_degree(1, 3))).fit(x, x[:, 0] ** 2)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    # pickles written when the class lived in ._estimator name it there
    old = pickle.dumps(model).replace(
        b"sciddm.leastsquares._regressor", b"sciddm.leastsquares._estimator"
    )
    assert b"_estimator" in old
    np.testing.assert_array_equal(pickle.loads(old).predict(x), model.predict(x))


def test_lazy_exports_checks_its_table():
    with pytest.raises(ValueError, match=r"lazy names missing from __all__: \['pi'\]"):
        lazy_exports("demo_pkg", {"math": ("sqrt", "pi")}, ["sqrt"])
    with pytest.raises(ValueError, match="'pi' is exported by both math and cmath"):
        lazy_exports("demo_pkg", {"math": ("pi",), "cmath": ("pi",)}, ["pi"])


def test_names_and_submodules_load_on_first_use():
    pkg = types.ModuleType("demo_lazy_pkg")
    pkg.__all__ = ["dumps"]
    pkg.__getattr__, pkg.__dir__ = lazy_exports("demo_lazy_pkg", {"json": ("dumps",)}, pkg.__all__)
    sys.modules["demo_lazy_pkg"] = pkg
    try:
        assert "dumps" not in vars(pkg)
        assert pkg.dumps([1]) == "[1]"
        assert vars(pkg)["dumps"] is importlib.import_module("json").dumps
    finally:
        del sys.modules["demo_lazy_pkg"]
    assert sciddm.leastsquares is importlib.import_module("sciddm.leastsquares")
    assert sciddm.chem.data is importlib.import_module("sciddm.chem.data")
    assert "data" in dir(sciddm.dna)
