"""Every public name of sciddm.discrete (and its toys) has a numpydoc docstring to the
project's standard: a summary, its parameters, what it returns, a runnable example,
and maths written as RST (no Unicode-only formulas)."""

import inspect
import re

import pytest

import sciddm.discrete as D
import sciddm.discrete.toys as T

numpydoc = pytest.importorskip("numpydoc.docscrape")

UNICODE_MATH = re.compile("[∝Σ∞≥≤λφαθεσ→∫√∂∇×≈∈∉⊆∑]")
NAMES = [(m, n) for m in (D, T) for n in m.__all__ if callable(getattr(m, n))]


@pytest.mark.parametrize(("mod", "name"), NAMES, ids=[f"{m.__name__}.{n}" for m, n in NAMES])
def test_public_docstring(mod, name):
    obj = getattr(mod, name)
    doc = inspect.getdoc(obj) or ""
    assert doc and doc.splitlines()[0].strip(), "no summary line"
    assert ">>>" in doc, "no runnable example"
    assert not UNICODE_MATH.search(doc), "maths must be RST (:math:), not Unicode"
    if inspect.isclass(obj):
        d = numpydoc.ClassDoc(obj)
        params = [
            p
            for p in inspect.signature(obj).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        is_result = hasattr(obj, "__dataclass_fields__")
        assert not params or d["Parameters"] or (is_result and d["Attributes"])
        return
    d = numpydoc.FunctionDoc(obj)
    sig = inspect.signature(obj)
    documented = {n.strip().lstrip("*") for p in d["Parameters"] for n in p.name.split(",")}
    missing = [
        p.name
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in documented
    ]
    assert not missing, f"undocumented parameters {missing}"
    for p in d["Parameters"]:
        assert "".join(p.desc).strip(), f"parameter {p.name!r} has no description"
    if sig.return_annotation not in (None, "None", inspect.Signature.empty):
        assert d["Returns"], "no Returns section"
