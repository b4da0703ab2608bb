# Raasel: `make run` serves the demo over HTTPS; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_TESTS := tests/js
WEB := web
WEB_TESTS := tests/web
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) $(wildcard $(WEB)/*.html $(WEB)/*.ts $(WEB)/*.json)
CHROMIUM := /usr/bin/chromium

.PHONY: web web-unit web-test-deps screenshots

.PHONY: run test lint lint-deploy typecheck pytest pytest-postgresql test-postgresql install js-deps bench clean

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

# The web app (web/): npm ci from the lockfile, then tsc + vite build into web/dist,
# which the server serves at / (and /widget.js).
$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB)/node_modules/.built: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	cd $(WEB) && npm run --silent build
	touch $@

web: $(WEB)/node_modules/.built

web-unit: $(WEB)/node_modules/.installed
	cd $(WEB) && npx vitest run

# Browser tests: playwright-core driving Debian's chromium (never a downloaded browser).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(WEB_TESTS)/node_modules/.installed: $(WEB_TESTS)/package-lock.json
	cd $(WEB_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-test-deps: $(WEB_TESTS)/node_modules/.installed $(CHROMIUM)

# Refresh the screenshots the README shows.
screenshots: $(STAMP) web web-test-deps
	RAASEL_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/web -q

run: $(STAMP) web
	$(BIN)/raasel serve

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) js-deps web web-test-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint lint-deploy typecheck web-unit pytest

# Container files, checked statically (no Docker engine here): hadolint on each
# Dockerfile, `compose config` with placeholder secrets. The nginx config runs for real
# in tests/deploy/test_nginx.py.
lint-deploy: $(STAMP)
	$(BIN)/hadolint Dockerfile deploy/web.Dockerfile
	POSTGRES_PASSWORD=placeholder RAASEL_SECRET_KEY=placeholder \
		$(BIN)/docker-compose -f compose.yaml config --quiet
	$(BIN)/ruff check deploy
	$(BIN)/ruff format --check deploy

# The node-based suites again with every test node on its own PostgreSQL database
# (tests/storage and tests/actions already run on SQLite and PostgreSQL in `pytest`).
PG_SUITE_ARGS := --ignore=tests/storage --ignore=tests/actions --ignore=tests/lib --ignore=tests/web
pytest-postgresql: $(STAMP) js-deps
	RAASEL_TEST_DATABASE=postgresql $(BIN)/pytest $(PG_SUITE_ARGS) $(PYTEST_ARGS)

test-postgresql: pytest-postgresql

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

.PHONY: routing-eval bench-directory
routing-eval: $(STAMP)
	$(BIN)/python -m raasel.search.evaluation

bench-directory: $(STAMP)
	$(BIN)/python -m bench.directory_bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(JS_TESTS)/node_modules
	rm -rf $(WEB)/node_modules $(WEB)/dist $(WEB_TESTS)/node_modules test-artifacts
