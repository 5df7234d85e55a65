# The OMS's commands. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: run test test-only check bench install migrate demo browser format clean audit

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

migrate: install
	@$(BIN)/python manage.py migrate --noinput

demo: migrate
	@$(BIN)/python manage.py load_demo

## run: set up, then serve the web app with a Celery worker and beat (Ctrl-C stops all)
run: demo
	@PORT=$(PORT) HOST=$(HOST) $(BIN)/python scripts/run.py

## test: set up and run the whole suite with the project's guards
test: install check browser test-only

check: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/python manage.py check
	@$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null || \
		(echo "Missing migration: run manage.py makemigrations" && exit 1)

test-only: install
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

## browser: make sure Debian's headless Chromium is there for the browser tests
browser:
	@bash scripts/ensure-chromium

## bench: benchmarks on PostgreSQL (prints figures and ratios; asserts nothing)
bench: install
	@$(BIN)/python -m bench $(BENCH_ARGS)

## audit: recompute stock levels from the ledger and allocations; non-zero on mismatch
audit: migrate
	@$(BIN)/python manage.py oms_audit

format: install
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

clean:
	rm -rf var $(VENV)
