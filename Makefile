# Raasel: `make run` serves the demo over HTTPS; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_TESTS := tests/js

.PHONY: run test lint typecheck pytest install js-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(JS_TESTS)/node_modules/.installed: $(JS_TESTS)/package-lock.json
	cd $(JS_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

js-deps: $(JS_TESTS)/node_modules/.installed

run: $(STAMP)
	$(BIN)/raasel serve

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) js-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(JS_TESTS)/node_modules
