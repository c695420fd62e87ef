"""Every public name has a numpydoc docstring with the sections the API pages need.

The public names are those in ``__all__`` of every family (``sciddm.SUBPACKAGES``),
of each family's ``toys`` module where it has one, and of ``sciddm.reproduce``. Each
function or class must have, parsed by :mod:`numpydoc.docscrape`:

- a one-line summary;
- a ``Parameters`` section when it takes parameters (classes: ``Parameters`` or
  ``Attributes``);
- a ``Returns`` (or ``Yields``) section when it is a function that returns something
  (its return annotation is not ``None``);
- an ``Examples`` section (exception classes excepted);
- no section numpydoc does not know;

and no docstring may write maths in Unicode only (``Σ``, ``≤``, ``σ``, ``ᵀ``, ``‖``,
...) outside ``:math:`` roles, ``.. math::`` blocks, literals and the Examples and
References sections: MathJax renders RST maths, not Unicode formulas.

Constants (non-callable names) have no docstring of their own and are skipped.

Each test fails with the list of offenders. Run ``python tests/test_docstrings.py``
for a count per module.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("numpydoc")  # the `docs` extra
from numpydoc.docscrape import NumpyDocString

import sciddm


def public_modules() -> list[str]:
    mods: list[str] = []
    for fam in sciddm.SUBPACKAGES:
        mods.append(f"sciddm.{fam}")
        if importlib.util.find_spec(f"sciddm.{fam}.toys") is not None:
            mods.append(f"sciddm.{fam}.toys")
    mods.append("sciddm.reproduce")
    return mods


MODULES = public_modules()


def documented_objects(module: str) -> Iterator[tuple[str, Any]]:
    """``(qualified name, object)`` of every callable public name of ``module``."""
    mod = importlib.import_module(module)
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.ismodule(obj) and not callable(obj):
            continue
        if callable(obj):
            yield f"{module}.{name}", obj


def _parameters(obj: Any) -> list[str]:
    """The names of the parameters a docstring must document (no self/cls).

    A :class:`typing.Protocol` is never instantiated: it has no constructor
    parameters to document (its signature is ``Protocol``'s ``*args, **kwargs``).
    """
    if inspect.isclass(obj) and getattr(obj, "_is_protocol", False):
        return []
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    names = []
    for p in sig.parameters.values():
        if p.name in ("self", "cls"):
            continue
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        names.append(prefix + p.name)
    return names


def _returns_something(obj: Any) -> bool:
    """Whether a function returns a value: its annotation, else its source."""
    try:
        ann = inspect.signature(obj).return_annotation
    except (TypeError, ValueError):
        return False
    if ann is not inspect.Signature.empty:
        return ann not in (None, "None", type(None), "NoReturn")
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        return False
    return bool(re.search(r"^\s+(return\s+\S|yield\b)", source, flags=re.M))


def _parse(doc: str) -> tuple[NumpyDocString | None, list[str]]:
    problems = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parsed = NumpyDocString(doc)
        except Exception as exc:  # numpydoc raises ValueError on malformed sections
            return None, [f"not parseable by numpydoc ({exc})"]
    for w in caught:
        problems.append(str(w.message).split("\n")[0])
    return parsed, problems


def section_problems(qualname: str, obj: Any) -> list[str]:
    """What the docstring of ``obj`` lacks; empty when it meets the standard."""
    doc = inspect.getdoc(obj) if obj.__doc__ else None
    if not doc:
        return ["no docstring"]
    parsed, problems = _parse(doc)
    if parsed is None:
        return problems
    if not parsed["Summary"]:
        problems.append("no one-line summary")
    is_class = inspect.isclass(obj)
    if is_class and issubclass(obj, BaseException):
        return problems
    params = _parameters(obj)
    has_params = bool(parsed["Parameters"]) or (is_class and bool(parsed["Attributes"]))
    if params and not has_params:
        problems.append("no Parameters section" + (" (or Attributes)" if is_class else ""))
    if not is_class and _returns_something(obj) and not (parsed["Returns"] or parsed["Yields"]):
        problems.append("no Returns section")
    if not parsed["Examples"]:
        problems.append("no Examples section")
    return problems


def undocumented_parameters(obj: Any) -> list[str]:
    """Parameters of the signature that the Parameters section does not name."""
    doc = inspect.getdoc(obj) if obj.__doc__ else None
    if not doc or (inspect.isclass(obj) and issubclass(obj, BaseException)):
        return []
    parsed, _ = _parse(doc)
    if parsed is None:
        return []
    if not any(parsed[s] for s in ("Parameters", "Other Parameters", "Attributes")):
        return []  # no section at all: test_public_names_have_numpydoc_sections reports it
    named: set[str] = set()
    for section in ("Parameters", "Other Parameters", "Attributes"):
        for p in parsed[section]:
            named |= {n.strip() for n in p.name.split(",")}
    bare = {n.lstrip("*") for n in named}
    return [p for p in _parameters(obj) if p not in named and p.lstrip("*") not in bare]


# ---------------------------------------------------------------- Unicode-only maths
_MATH_RANGES = (
    (0x0370, 0x03FF),  # Greek
    (0x0300, 0x036F),  # combining marks: x̂, x̃, x̄
    (0x1D00, 0x1DBF),  # phonetic superscripts: ᵀ, ᵢ
    (0x2016, 0x2016),  # ‖ (norms)
    (0x2032, 0x2034),  # primes
    (0x2070, 0x209F),  # super- and subscripts
    (0x2100, 0x214F),  # letterlike: ℓ, ℝ, ℕ
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators: ∑ ≤ ∈ ∞ √ ∂
    (0x2300, 0x23FF),  # ⌈ ⌉ ⌊ ⌋
    (0x27C0, 0x27EF),
    (0x2980, 0x2AFF),
    (0x1D400, 0x1D7FF),  # mathematical alphanumerics
)
_MATH_CHARS = {"\u00b1", "\u00f7", "\u00b7", "\u00b2", "\u00b3", "\u00b9"}


def is_math_char(ch: str) -> bool:
    code = ord(ch)
    return ch in _MATH_CHARS or any(lo <= code <= hi for lo, hi in _MATH_RANGES)


def _strip_rst_maths(doc: str) -> str:
    """The docstring without what may hold Unicode legitimately."""
    # the Examples and References sections (doctest output, paper titles)
    doc = re.sub(
        r"^(Examples|References)\n-+\n.*?(?=^\w[^\n]*\n-{3,}\n|\Z)", "", doc, flags=re.M | re.S
    )
    # .. math:: blocks (the directive line and its indented body)
    doc = re.sub(r"^(\s*)\.\. math::.*?\n(?:\1[ \t]+.*\n|[ \t]*\n)*", "", doc, flags=re.M)
    doc = re.sub(r":math:`[^`]*`", "", doc)  # inline maths
    doc = re.sub(r"``[^`]*``", "", doc)  # literals
    doc = re.sub(r"(:\w+:)?`[^`]*`", "", doc)  # roles and interpreted text
    return doc


def unicode_maths(obj: Any) -> str:
    """The Unicode maths characters of ``obj``'s docstring outside RST maths."""
    doc = inspect.getdoc(obj) if getattr(obj, "__doc__", None) else ""
    found = sorted({ch for ch in _strip_rst_maths(doc or "") if is_math_char(ch)})
    return "".join(found)


def _own_public_methods(cls: type) -> Iterator[tuple[str, Any]]:
    """Public methods and properties defined by ``cls`` itself (rendered on its page)."""
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        target = member.fget if isinstance(member, property) else member
        target = getattr(target, "__func__", target)
        if callable(target) and getattr(target, "__doc__", None):
            yield name, target


# ---------------------------------------------------------------------- reports
def offenders(module: str, check: Callable[[str, Any], list[str] | str]) -> list[str]:
    out = []
    for qualname, obj in documented_objects(module):
        found = check(qualname, obj)
        if found:
            out.append(f"{qualname}: {found if isinstance(found, str) else '; '.join(found)}")
    return out


def _maths_check(qualname: str, obj: Any) -> str:
    hits = []
    own = unicode_maths(obj)
    if own:
        hits.append(f"{own}")
    if inspect.isclass(obj):
        for name, method in _own_public_methods(obj):
            chars = unicode_maths(method)
            if chars:
                hits.append(f"{name}: {chars}")
    return "; ".join(hits)


def _params_check(qualname: str, obj: Any) -> str:
    missing = undocumented_parameters(obj)
    return f"undocumented: {', '.join(missing)}" if missing else ""


def _report(title: str, found: list[str]) -> str:
    return f"{len(found)} {title}:\n" + "\n".join(f"  {line}" for line in found)


@pytest.mark.parametrize("module", MODULES)
def test_public_names_have_numpydoc_sections(module):
    found = offenders(module, section_problems)
    report = _report(f"public names of {module} lack numpydoc sections", found)
    print(report)
    assert not found, report


@pytest.mark.parametrize("module", MODULES)
def test_every_parameter_is_documented(module):
    found = offenders(module, _params_check)
    report = _report(f"public names of {module} have undocumented parameters", found)
    print(report)
    assert not found, report


@pytest.mark.parametrize("module", MODULES)
def test_no_unicode_only_maths(module):
    found = offenders(module, _maths_check)
    report = _report(
        f"docstrings of {module} write maths in Unicode outside :math: / .. math::", found
    )
    print(report)
    assert not found, report


# ------------------------------------------------- the checks themselves can fail
def test_the_checks_catch_what_they_should():
    def bare(x):
        """Return x."""
        return x

    def good(x: float) -> float:
        r"""Return x.

        Parameters
        ----------
        x : float
            The value, :math:`x \le 1`.

        Returns
        -------
        float

        Examples
        --------
        >>> good(1.0)
        1.0
        """
        return x

    def unicode(x: float) -> None:
        """Do nothing.

        Parameters
        ----------
        x : float

        Notes
        -----
        Holds when ∑_i σ_i ≤ d, i.e. ``σ`` stays below :math:`\\sigma`.

        Examples
        --------
        >>> unicode(1.0)   # σ here is fine
        """

    assert section_problems("bare", bare) == [
        "no Parameters section",
        "no Returns section",
        "no Examples section",
    ]
    assert section_problems("good", good) == []
    assert section_problems("unicode", unicode) == []  # returns None: no Returns needed
    assert unicode_maths(good) == ""
    assert unicode_maths(unicode) == "".join(sorted("∑σ≤"))
    assert undocumented_parameters(bare) == []  # no docstring sections at all: not listed
    assert undocumented_parameters(good) == []


def main() -> int:
    """Print the offenders of every check, with a count per module."""
    checks = {
        "sections": section_problems,
        "parameters": _params_check,
        "unicode maths": _maths_check,
    }
    total = {k: 0 for k in checks}
    rows = []
    for module in MODULES:
        n_names = sum(1 for _ in documented_objects(module))
        counts = []
        for key, check in checks.items():
            found = offenders(module, check)
            total[key] += len(found)
            counts.append(len(found))
            for line in found:
                print(f"[{key}] {line}")
        rows.append((module, n_names, *counts))
    print(f"\n{'module':<28} {'names':>5} {'sections':>8} {'params':>6} {'unicode':>7}")
    for module, n, a, b, c in rows:
        print(f"{module:<28} {n:>5} {a:>8} {b:>6} {c:>7}")
    print(
        f"{'total':<28} {'':>5} {total['sections']:>8} {total['parameters']:>6} "
        f"{total['unicode maths']:>7}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
