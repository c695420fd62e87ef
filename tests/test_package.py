"""The package imports without extras, and a missing extra is named."""

import importlib
import sys

import pytest

import sciddm
from sciddm._core.extras import require
from tests._proc import run_bounded


@pytest.mark.parametrize("name", sciddm.SUBPACKAGES)
def test_subpackages_import(name):
    mod = getattr(sciddm, name)
    assert mod.__name__ == f"sciddm.{name}"
    for attr in getattr(mod, "__all__", []):
        assert hasattr(mod, attr), f"sciddm.{name}.__all__ lists missing {attr}"


def test_import_without_optional_extras():
    """With rdkit, pyjaspar, logomaker, Bio, dask and ray hidden, every subpackage still imports."""
    code = (
        "import sys\n"
        "for m in ['rdkit', 'pyjaspar', 'logomaker', 'Bio', 'dask', 'distributed', 'ray', 'moses', 'fcd_torch']:\n"
        "    sys.modules[m] = None\n"
        "import importlib, sciddm\n"
        "for n in sciddm.SUBPACKAGES:\n"
        "    importlib.import_module('sciddm.' + n)\n"
        "from sciddm._core.extras import require\n"
        "try:\n"
        "    require('rdkit', 'chem')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = run_bounded([sys.executable, "-c", code], timeout=120, check=True)
    assert "pip install 'sciddm[chem]'" in out.stdout


def test_require_names_extra():
    with pytest.raises(ImportError, match=r"sciddm\[dna\]"):
        require("definitely_missing_pkg_abc", "dna", purpose="motif rewards")
    assert require("json", "core") is importlib.import_module("json")


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        sciddm.nothing_here  # noqa: B018
