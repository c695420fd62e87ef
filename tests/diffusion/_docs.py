"""Docstring standard (issue 18) for the public names of a family (shared helper)."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

UNICODE_MATHS = re.compile(r"[σβμλε∑√≤≥π]|x̂")


def docstring_problems(module_name: str) -> list[str]:
    """Names of ``module.__all__`` without Parameters/Returns/Examples, or with Unicode maths."""
    docscrape = pytest.importorskip("numpydoc.docscrape")
    mod = importlib.import_module(module_name)
    problems = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        raw = inspect.getdoc(obj) or ""
        doc = docscrape.ClassDoc(obj) if inspect.isclass(obj) else docscrape.FunctionDoc(obj)
        if not doc["Summary"]:
            problems.append(f"{name}: no summary")
        if not doc["Examples"]:
            problems.append(f"{name}: no Examples")
        if UNICODE_MATHS.search(raw):
            problems.append(f"{name}: Unicode maths (use :math:)")
        if inspect.isclass(obj):
            fields = getattr(obj, "__dataclass_fields__", None)
            protocol = getattr(obj, "_is_protocol", False)
            init_params = [] if fields or protocol else list(inspect.signature(obj).parameters)
            if init_params and not doc["Parameters"]:
                problems.append(f"{name}: no Parameters")
            if fields and not (doc["Attributes"] or doc["Parameters"]):
                problems.append(f"{name}: no Attributes")
            continue
        sig = inspect.signature(obj)
        documented = {
            n.strip() for p in doc["Parameters"] for n in p.name.replace("*", "").split(",")
        }
        missing = [p for p in sig.parameters if p not in documented and p not in ("options",)]
        if missing:
            problems.append(f"{name}: undocumented parameters {missing}")
        if sig.return_annotation not in (None, "None") and not doc["Returns"]:
            problems.append(f"{name}: no Returns")
    return problems
