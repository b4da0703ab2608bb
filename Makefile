# Raasel: `make run` serves the demo over HTTPS; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_TESTS := tests/js
WEB := web
WEB_TESTS := tests/web
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) $(wildcard $(WEB)/*.html $(WEB)/*.ts $(WEB)/*.json)

.PHONY: web web-unit web-test-deps screenshots

.PHONY: run test test-deps lint lint-deploy typecheck pytest pytest-postgresql test-postgresql install js-deps bench clean

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
# which the server serves at / (and /widget.js), with brotli and gzip copies of each
# text file made beside it (tools/compress-assets.mjs, Node's zlib).
$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB)/node_modules/.built: $(WEB)/node_modules/.installed $(WEB_SOURCES) tools/compress-assets.mjs
	cd $(WEB) && npm run --silent build
	node tools/compress-assets.mjs $(WEB)/dist
	touch $@

web: $(WEB)/node_modules/.built

web-unit: $(WEB)/node_modules/.installed
	cd $(WEB) && npx vitest run

# What the tests need from the machine: Debian packages (node/npm, chromium, java for the
# Cassandra test server, redis-server, nginx, PostgreSQL) installed with apt-get when root,
# PostgreSQL and Redis started when down; not root and something missing: says what, fails.
test-deps:
	bash tools/ensure-test-deps.sh

# Browser tests: playwright-core driving Debian's chromium (never a downloaded browser).
$(WEB_TESTS)/node_modules/.installed: $(WEB_TESTS)/package-lock.json
	cd $(WEB_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-test-deps: test-deps $(WEB_TESTS)/node_modules/.installed

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

pytest: test-deps $(STAMP) js-deps web web-test-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: test-deps lint lint-deploy typecheck web-unit pytest

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
# (tests/storage and tests/actions already run on SQLite and PostgreSQL in `pytest`;
# tests/search touches no database).
PG_SUITE_ARGS := --ignore=tests/storage --ignore=tests/actions --ignore=tests/lib --ignore=tests/web \
	--ignore=tests/search
pytest-postgresql: test-deps $(STAMP) js-deps web
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
