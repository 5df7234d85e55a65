# The OMS's commands. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
# The lock pins every package (with hashes) for Python 3.11+ on any platform; uv installs it.
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' $(LOCK))
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	--python-version 3.11 --quiet -o $(LOCK)
# The forecast benchmark's extra packages (library baselines and public data sets) have a
# lock of their own, so `make run` and `make test` never install them.
BENCH_LOCK := requirements-bench.lock
UV_COMPILE_BENCH := $(BIN)/uv pip compile pyproject.toml --extra dev --extra bench \
	--generate-hashes --universal --python-version 3.11 --quiet -o $(BENCH_LOCK)
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha1sum | cut -c1-12)
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# The suite runs on one test process per core (pytest-xdist); PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= auto
# The secret key of this installation: made once, kept in var/ (SECRET_KEY overrides it).
export SECRET_KEY_FILE ?= $(CURDIR)/var/secret-key
# The key that encrypts marketplace credentials at rest: made once, kept in var/.
export OMS_CREDENTIALS_KEY_FILE ?= $(CURDIR)/var/credentials-key

.PHONY: run test test-only contract check bench bench-forecast install migrate demo browser format clean audit lock lock-upgrade messages makemessages

# Installs exactly what requirements.lock pins (uv pip sync also removes what it doesn't).
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	@$(BIN)/uv pip sync --quiet --python $(BIN)/python $(LOCK)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) $(SECRET_KEY_FILE) $(OMS_CREDENTIALS_KEY_FILE) messages

## messages: compile the translation catalogues (.po -> .mo) with Babel; no gettext needed
messages: $(STAMP)
	@$(BIN)/python scripts/compile_messages.py

## makemessages: after changing texts, update the nb catalogues (needs GNU gettext)
makemessages: install
	@bash scripts/makemessages

$(SECRET_KEY_FILE):
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# A Fernet key: 32 random bytes, URL-safe base64.
$(OMS_CREDENTIALS_KEY_FILE):
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())" > $@

## lock: after changing dependencies in pyproject.toml, pin the new ones (keeps the others)
lock:
	@test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)")
	@$(UV_COMPILE)
	@$(UV_COMPILE_BENCH)

## lock-upgrade: move every pinned package to its newest allowed release
lock-upgrade:
	@test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)")
	@$(UV_COMPILE) --upgrade
	@$(UV_COMPILE_BENCH) --upgrade

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
	@$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## contract: the Schemathesis API contract run, short (needs DATABASE_URL=postgres://...)
contract: install
	@OMS_CONTRACT_SECONDS=$${OMS_CONTRACT_SECONDS:-60} OMS_CONTRACT_EXAMPLES=$${OMS_CONTRACT_EXAMPLES:-10} \
		$(BIN)/python -m pytest tests/api_contract -m contract $(PYTEST_ARGS)

## browser: make sure Debian's headless Chromium and axe-core are there for the browser tests
browser:
	@bash scripts/ensure-chromium
	@bash scripts/ensure-axe

## bench: benchmarks on PostgreSQL (prints figures and ratios; asserts nothing)
bench: install
	@$(BIN)/python -m bench $(BENCH_ARGS)

## bench-forecast: forecast accuracy (M3 monthly, fpp2 retail) against statsforecast, and
## the 10,000-SKU speed run; installs requirements-bench.lock first (no database needed)
bench-forecast: install
	@$(BIN)/uv pip sync --quiet --python $(BIN)/python $(BENCH_LOCK)
	@rm -f $(VENV)/.installed-*
	@$(BIN)/python -m bench.forecasting $(BENCH_ARGS)

## audit: recompute stock levels from the ledger and allocations; non-zero on mismatch
audit: migrate
	@$(BIN)/python manage.py oms_audit

format: install
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

clean:
	rm -rf var $(VENV)
