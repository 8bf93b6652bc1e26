# Lanhai: `make demo` runs the platform on a real demo bank; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AXE := .cache/npm/node_modules/axe-core/axe.min.js

.PHONY: demo test lint pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,cluster]"
	touch $(STAMP)

## demo: build the demo bank under ./demo-data (idempotent) and serve it on 127.0.0.1:8000
demo: $(STAMP)
	LANHAI_DATA_DIR=demo-data $(BIN)/lanhai demo

## test: lint, type-check and run the whole test suite
test: $(STAMP) lint pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

pytest: $(STAMP) $(AXE)
	$(BIN)/pytest

# axe-core (accessibility checks in the browser tests), from the npm registry, served locally
$(AXE):
	npm install --prefix .cache/npm --no-audit --no-fund --loglevel=error axe-core@4

## bench: run the benchmarks (prints ratios against the reference tools)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) demo-data test-output benchmarks/output
