# The README's two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sciddm-installed
PIP    := $(BIN)/python -m pip
PYTEST_ARGS ?=

.PHONY: demo test lint format notebooks install clean

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

test: $(STAMP) lint
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

clean:
	rm -rf $(VENV) results notebooks .pytest_cache .ruff_cache .mypy_cache
