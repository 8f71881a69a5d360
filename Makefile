# Two commands do all the set-up on a machine with only Python 3.11+ and PyPI:
#   make demo   - create .venv, install Somna, run the demo on the embedded default
#   make test   - create .venv, install Somna with its test tools, run lint (with the layer
#                 contract, lint-imports), types and tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck format clean sdk-models

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Somna needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e clients/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/somna demo

lint: $(STAMP)
	$(BIN)/ruff format --check src tests clients/python
	$(BIN)/ruff check src tests clients/python
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format src tests clients/python
	$(BIN)/ruff check --fix src tests clients/python

# Regenerate the SDK's response models from the server's OpenAPI document.
sdk-models: $(STAMP)
	$(BIN)/python clients/python/scripts/generate_models.py
	$(BIN)/ruff format --quiet clients/python/src/somna_client/models.py

clean:
	rm -rf $(VENV) .somna .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
