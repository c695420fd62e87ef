"""Sphinx extension of the sciddm documentation: the pages generated from the package.

At ``config-inited`` (before Sphinx looks for source files, so that autosummary
and myst-nb see the results) it writes, under the documentation's source folder:

``api/``
    one page per public module (each family, its ``toys`` module where there is
    one, and ``sciddm.reproduce``) with an autosummary table of every name in its
    ``__all__``; autosummary then writes one page per name in ``api/generated/``.
``tutorials/``
    every ``tutorials/NN_topic.py`` (jupytext percent format) as a notebook page
    with links to download it as ``.ipynb`` and ``.py``.
``theory/``
    every ``theory/NN_name.md`` note, with the tests it names turned into links
    to pages showing their source (``theory/checks/``).
``reproducing/``
    the registered experiments of ``sciddm.reproduce`` with their claims and
    commands, and the claims of a ``--demo`` run (``SCIDDM_DOCS_DEMO``).
``_static/gallery/``
    one figure per family for the landing page (``_gallery.py``).

Files are only rewritten when their content changes. A problem found while
generating (a gallery figure that fails, a test a note names that cannot be
found) is a Sphinx warning, so that ``-W`` turns it into a failed build.

The extension also installs sphinx-mathjax-offline (MathJax 3 copied into
``_static/mathjax`` at the end of the build), declaring it parallel-safe.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from sciddm_docs import _api, _gallery, _reproduce, _theory, _tutorials

logger = logging.getLogger(__name__)


def _generate(app: Sphinx, config: Config) -> None:
    src = Path(app.srcdir)
    root = src.parent
    execute = config.nb_execution_mode != "off"
    _api.generate(src)
    _tutorials.generate(src, root / "tutorials", executed=execute)
    _theory.generate(src, root / "theory", root)
    _reproduce.generate(src)
    _gallery.generate(src / "_static" / "gallery")


def _defined_outside_sciddm(obj: Any) -> bool:
    """Whether a class member comes from another package (e.g. scikit-learn's
    generated ``set_fit_request``), whose docstring is not ours to render."""
    target = getattr(obj, "fget", None) or getattr(obj, "__func__", None) or obj
    module = getattr(target, "__module__", None)
    return isinstance(module, str) and not module.startswith("sciddm")


def _skip_member(
    app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    if what == "class" and _defined_outside_sciddm(obj):
        return True
    return None


def _drop_object_base(app: Sphinx, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """``Bases: object`` says nothing: show only real base classes."""
    bases[:] = [b for b in bases if b is not object]


def setup(app: Sphinx) -> dict[str, Any]:
    # sphinx-mathjax-offline copies MathJax 3 into _static/mathjax when the build
    # finishes; its own setup() does not declare parallel safety, so run it from here.
    offline = importlib.import_module("sphinx-mathjax-offline")
    offline.setup(app)
    app.connect("config-inited", _generate, priority=900)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-bases", _drop_object_base)
    app.add_css_file("sciddm.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
