# The README's two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sciddm-installed
PIP    := $(BIN)/python -m pip
PYTEST_ARGS ?=

.PHONY: demo test lint format notebooks install clean docs docs-fast docs-check

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e ".[all,dev,docs]"
	# MOSES data: molsets' own pinned dependencies do not build, so no deps.
	$(PIP) install -q --no-deps molsets
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sciddm reproduce --demo

# docs-fast (about a minute) builds the site without executing the tutorials, so that a
# broken docstring, reference or page fails `make test`.
test: $(STAMP) lint docs-fast
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check sciddm tests tutorials benchmarks conftest.py
	$(BIN)/ruff format --check sciddm tests tutorials benchmarks conftest.py
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix sciddm tests tutorials benchmarks conftest.py
	$(BIN)/ruff format sciddm tests tutorials benchmarks conftest.py

notebooks: $(STAMP)
	mkdir -p notebooks
	for f in tutorials/[0-9]*.py; do \
	  $(BIN)/jupytext --to ipynb --output notebooks/$$(basename $${f%.py}).ipynb $$f; \
	done

# DOCS_GENERATED: what the docs build writes into docs/ (docs/.gitignore lists the same).
DOCS_GENERATED := docs/_build docs/api docs/tutorials docs/theory docs/reproducing \
                  docs/_static/gallery

clean:
	rm -rf $(VENV) results notebooks .pytest_cache .ruff_cache .mypy_cache .hypothesis
	rm -rf $(DOCS_GENERATED)

# The documentation (docs/): Sphinx, offline, warnings as errors.
# `make docs`: runs `sciddm reproduce --demo` for its claims table, executes every
# tutorial (SCIDDM_FAST=1) and writes docs/_build/html.
# `make docs-fast`: the same pages, tutorials not executed, no demo run (CI, `make test`).
# `make docs-check`: opens the built pages in headless Chromium (network off) and checks
# maths, figures, links and the console; screenshots in docs/_build/screenshots/.
SPHINXBUILD := $(BIN)/sphinx-build -W --keep-going -E -q -b html
DOCS_ENV    := PYTHONPATH=$(CURDIR) OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

docs: $(STAMP)
	rm -rf docs/_build/demo
	$(DOCS_ENV) MPLBACKEND=Agg $(BIN)/sciddm reproduce --demo --n-jobs 2 --quiet --out docs/_build/demo
	$(DOCS_ENV) SCIDDM_DOCS_EXECUTE=1 SCIDDM_DOCS_DEMO=$(CURDIR)/docs/_build/demo \
	  $(SPHINXBUILD) -d docs/_build/doctrees docs docs/_build/html

docs-fast: $(STAMP)
	$(DOCS_ENV) SCIDDM_DOCS_EXECUTE=0 \
	  $(SPHINXBUILD) -d docs/_build/doctrees-fast docs docs/_build/html-fast

docs-check: $(STAMP)
	command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)
	test -f docs/_build/html/index.html || $(MAKE) docs
	$(BIN)/python docs/_scripts/check_site.py docs/_build/html --screenshots docs/_build/screenshots
