# Quick start: `make build` renders content/ into output/; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: build test lint typecheck pytest system-deps docs-image clean

build: $(VENV)/.installed
	$(BIN)/handouts build

test: $(VENV)/.dev-installed lint typecheck pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -q

system-deps:
	@sh scripts/system-deps

$(VENV)/.installed: pyproject.toml
	@sh scripts/system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

# The README's picture: page 1 of a sample leaflet.
docs-image: build
	pdftoppm -png -r 70 -f 1 -l 1 -singlefile output/pressure-ulcers-cms.pdf docs/leaflet

clean:
	rm -rf $(VENV) output/*.pdf .pytest_cache .mypy_cache .ruff_cache
