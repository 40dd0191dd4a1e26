# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py

.DEFAULT_GOAL := help
.PHONY: help run setup demo demo-passwords test lint fmt bench services-test audit lock clean \
	focus-validator focus-lock

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- environment -------------------------------------------------------------

# Every package comes from a lock file, pinned with its hashes, as a wheel (no package's own
# setup code runs): requirements.txt holds the runtime, pip and setuptools; requirements-dev.txt
# adds the dev group. The project goes in last, without dependencies, built by the locked
# setuptools. The stamp files remember the last install: a changed lock or pyproject.toml
# re-installs. `pip check` stops here when pyproject.toml asks for what the lock doesn't hold.
PIP_LOCKED := $(PY) -m pip install --quiet --require-hashes --only-binary :all:

# The locked pip first, alone: the one a new venv bundles takes twice as long over the whole lock.
$(PY):
	$(PYTHON) -m venv $(VENV)
	awk '/^pip==/ { p = 1 } p { print } p && !/\\$$/ { exit }' requirements.txt > $(VENV)/pip.txt
	$(PIP_LOCKED) -r $(VENV)/pip.txt

$(VENV)/.runtime: requirements.txt pyproject.toml | $(PY)
	$(PIP_LOCKED) -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; \
	  echo "The lock no longer matches pyproject.toml: run make lock."; exit 1; }
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP_LOCKED) -r requirements-dev.txt
	@touch $@

# Re-pin from pyproject.toml's ranges: the pins the ranges still allow stay, UPGRADE=1 takes the
# newest. One universal resolution for Python 3.11 (a developer's machine and the image alike),
# with every file's hash; the dev lock keeps the runtime's pins, so the tests run what ships.
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock: | $(PY)  ## re-pin requirements.txt and requirements-dev.txt (UPGRADE=1: newest allowed)
	$(PIP_LOCKED) -r requirements-dev.txt
	$(LOCK) --group install -o requirements.txt
	$(LOCK) --group install --group dev -c requirements.txt -o requirements-dev.txt

# .env holds the Fernet keys and var/ the databases with the keys they encrypt: both are for this
# user alone (0600, 0700), also when an earlier `make` left them readable by everyone.
.env: | $(PY)
	$(PY) -m dashboard.envfile .env
	@echo "Wrote .env with fresh secrets (git-ignored, readable by you only)."

# --- the demo ------------------------------------------------------------------

setup: $(VENV)/.runtime .env  ## install, migrate, create demo users and the simulator connection
	@mkdir -p -m 700 var && chmod 700 var && chmod 600 .env
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) demo_setup

# honcho would load .env over the shell's environment; Django reads .env under it instead (the
# shell wins), in every process and in demo_setup above, so they all see the same values.
# The demo runs with DEBUG off, as production does (its `.env` says so). Its users' passwords are
# in var/demo-passwords.txt (for you only): printed again below once the web server answers, by a
# waiter in the background that gives up after two minutes.
run: setup  ## set up and start web, worker, beat and the simulator (Ctrl-C stops all)
	@$(MANAGE) demo_setup --when-up http://127.0.0.1:$${WEB_PORT:-8000}/healthz &
	$(BIN)/honcho start -f Procfile --env /dev/null

demo-passwords: $(VENV)/.runtime .env  ## give the demo users new passwords (kept in var/demo-passwords.txt)
	$(MANAGE) demo_setup --reset-passwords

# --- checks --------------------------------------------------------------------

lint: $(VENV)/.dev  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.dev  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint  ## install what tests need, then run the suite
	@$(MAKE) --no-print-directory focus-validator || echo "FOCUS validator not installed: \
	  tests/focus skip it (under CI they fail)."
	$(BIN)/pytest -n auto --dist worksteal

# The FinOps Foundation's FOCUS validator (focus-validator), which tests/focus run on the FOCUS
# export: a test tool, not a dependency, in its own venv because it needs Python 3.12 (this
# machine's pyenv 3.12, else a python3.12 that runs), pinned with hashes in
# tests/focus/validator.txt. pandasql comes as a source package only: no --only-binary here.
FOCUS_VENV := .venv-focus
FOCUS_PYTHON ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12)),\
	$(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null))

$(FOCUS_VENV)/.installed: tests/focus/validator.txt
	@test -n "$(FOCUS_PYTHON)" || { echo "The FOCUS validator needs Python 3.12."; exit 1; }
	$(FOCUS_PYTHON) -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/python -m pip install --quiet --require-hashes -r tests/focus/validator.txt
	@touch $@

focus-validator: $(FOCUS_VENV)/.installed  ## the FOCUS validator in .venv-focus (Python 3.12), for tests/focus

focus-lock: | $(PY)  ## re-pin tests/focus/validator.txt from tests/focus/validator.in
	$(BIN)/uv pip compile tests/focus/validator.in --quiet --python-version 3.12 \
	  --generate-hashes --custom-compile-command "make focus-lock" -o tests/focus/validator.txt

# The benchmarks measure SQLite and PostgreSQL side by side, with no set-up: PostgreSQL is the
# server of BENCH_PG_URL when set (one database per bench on it), else a private cluster that
# tests/benchmarks/conftest.py makes in var/bench/pg from this machine's PostgreSQL binaries and
# runs for the session; without either, the PostgreSQL rows say "skipped: no PostgreSQL".
bench: $(VENV)/.dev  ## the benchmarks on SQLite and PostgreSQL (a few minutes; builds datasets once under var/bench)
	$(BIN)/pytest tests/benchmarks -s -q

services-test: $(VENV)/.dev  ## the CI service tier (PostgreSQL, Redis, Chromium must be up)
	REQUIRE_SERVICES=1 $(BIN)/pytest -m services

audit: $(VENV)/.dev  ## pip-audit the lock (says it skipped when the vulnerability service is down)
	$(PY) .ci/audit.py requirements-dev.txt

clean:  ## remove the virtualenvs and runtime data
	rm -rf $(VENV) $(FOCUS_VENV) var staticfiles
