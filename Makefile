# The two commands of the quick start are `make run` and `make test`; the rest are steps.
SHELL := /bin/bash
PYTHON := $(or $(strip $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' >/dev/null 2>&1 && command -v python3.12)),$(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12))))
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
PYTEST_ARGS ?=
# Two workers (pytest-xdist): every machine we run on has two cores; each worker has its own
# test database. `make test PYTEST_WORKERS=0` runs in one process (easier to debug).
PYTEST_WORKERS ?= 2

.PHONY: run test install messages migrate seed lint format typecheck migrations-check ci-checks lock clean

run: install messages migrate seed ## set up, migrate, load demo data and serve with a worker and Beat
	@./scripts/run_dev.sh

test: install messages ## the whole test suite
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: requirements/dev.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 is required (Django 6 needs it). Install python3.12 and retry."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/dev.lock
	@touch $@

messages: install
	@$(BIN)/python manage.py compile_translations >/dev/null

migrate: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input

seed: install
	$(BIN)/python manage.py seed_demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy .

migrations-check: install
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL="sqlite://:memory:" $(BIN)/python manage.py makemigrations --check --dry-run

ci-checks: lint typecheck migrations-check

lock: install ## re-resolve requirements/*.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --python-version 3.12 --generate-hashes -o requirements/base.lock -q
	$(BIN)/uv pip compile pyproject.toml --group dev --python-version 3.12 --generate-hashes -o requirements/dev.lock -q

clean:
	rm -rf $(VENV) var staticfiles
