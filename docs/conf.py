"""Sphinx configuration of the sciddm documentation.

Built by ``make docs`` (tutorials executed with ``SCIDDM_FAST=1``, the claims of a
``sciddm reproduce --demo`` run) and ``make docs-fast`` (notebooks rendered without
executing them). Everything is built offline: no intersphinx, MathJax is served from
the build (sphinx-mathjax-offline), no CDN.

The pages under ``api/``, ``tutorials/``, ``theory/`` and ``reproducing/`` and the
gallery figures are generated at the start of every build by ``_ext/sciddm_docs``
from the package itself (each family's ``__all__``, the registry of experiments),
``tutorials/*.py`` and ``theory/*.md``; they are not committed.

Environment
-----------
SCIDDM_DOCS_EXECUTE
    ``1`` executes the tutorials (``make docs``); ``0`` or unset renders them
    unexecuted (``make docs-fast``).
SCIDDM_DOCS_DEMO
    Folder of a ``sciddm reproduce --demo`` run whose ``claims.json`` is shown on
    the "Reproducing the papers" page (unset: a placeholder).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# the worktree's sciddm, also for the notebook kernels that myst-nb starts
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)
# tutorials run with their small sizes; figures are captured by the inline backend
os.environ["SCIDDM_FAST"] = "1"
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import sciddm  # noqa: E402

EXECUTE = os.environ.get("SCIDDM_DOCS_EXECUTE", "0") == "1"

project = "sciddm"
author = "sciddm developers"
copyright = "sciddm developers, BSD-3-Clause"
version = release = sciddm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_copybutton",
    "sciddm_docs",  # generated pages, gallery, offline MathJax (docs/_ext)
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "**/files/**",  # the downloadable copies of the tutorials
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
]
root_doc = "index"
language = "en"
nitpicky = False
# no network at build time: no intersphinx, no remote images
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# -- autodoc / autosummary / numpydoc ------------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
autodoc_typehints = "none"  # the types are in the numpydoc Parameters sections
autodoc_member_order = "bysource"
add_module_names = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- MyST and notebooks -------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_dmath_double_inline = True
myst_heading_anchors = 3
nb_execution_mode = "force" if EXECUTE else "off"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_execution_in_temp = True  # like the test suite, which runs them in a temporary folder

# -- maths: MathJax 3 from the build (copied by sphinx-mathjax-offline) --------------
mathjax_path = "mathjax/tex-chtml.js"

# -- HTML -----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sciddm {release}"
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["sciddm.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navbar_end": ["theme-switcher"],
    "icon_links": [],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}
html_sidebars = {
    "index": [],
    "install": [],
    "changelog": [],
    "conventions": [],
    "scale_out": [],
    "reproducing/index": [],
}
