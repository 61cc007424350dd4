# The two commands the README starts with: `make run` and `make test`.
# Each one creates .venv and installs what it needs, so a fresh clone works.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

API_PORT ?= 8000

.PHONY: run api test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Dashboard and HTTP API in one process (the API under /api on the same port).
run: $(STAMP)
	$(BIN)/streamlit run server.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# The HTTP API alone (API-only deployments); SIGTERM finishes in-flight turns, then exits.
api: $(STAMP)
	$(BIN)/vam api --host 127.0.0.1 --port $(API_PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.agent_loop

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
