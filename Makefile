# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py

.DEFAULT_GOAL := help
.PHONY: help run setup demo test lint fmt bench services-test clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- environment -------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=25.1"

# Re-install when pyproject.toml changes; the stamp files remember the last install.
$(VENV)/.runtime: pyproject.toml | $(PY)
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(BIN)/pip install --quiet -e . --group dev
	@touch $@

.env: | $(PY)
	$(PY) -m dashboard.envfile > .env
	@echo "Wrote .env with fresh secrets (git-ignored)."

# --- the demo ------------------------------------------------------------------

setup: $(VENV)/.runtime .env  ## install, migrate, create demo users and the simulator connection
	@mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) demo_setup

# honcho would load .env over the shell's environment; Django reads .env under it instead (the
# shell wins), in every process and in demo_setup above, so they all see the same values.
run: setup  ## set up and start web, worker, beat and the simulator (Ctrl-C stops all)
	@echo "Open http://127.0.0.1:$${WEB_PORT:-8000} and sign in with a demo user printed above."
	$(BIN)/honcho start -f Procfile --env /dev/null

# --- checks --------------------------------------------------------------------

lint: $(VENV)/.dev  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.dev  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint  ## install what tests need, then run the suite
	$(BIN)/pytest

bench: $(VENV)/.dev  ## run the benchmarks in tests/benchmarks and print their ratios
	$(BIN)/pytest tests/benchmarks -s -q

services-test: $(VENV)/.dev  ## the CI service tier (PostgreSQL, Redis, Chromium must be up)
	REQUIRE_SERVICES=1 $(BIN)/pytest -m services

clean:  ## remove the virtualenv and runtime data
	rm -rf $(VENV) var staticfiles
