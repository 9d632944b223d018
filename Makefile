# One obvious command for each habit. Everything runs from a local virtualenv
# (.venv, created on first use) so a fresh machine needs only Python 3.11+.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
PYTEST_ARGS ?= -n 2 --dist loadfile
CONSTRAINTS = requirements/constraints.txt
# Errors only: a pip configured with extra indexes warns once per package.
PIP_QUIET ?= -qq

.PHONY: install demo serve test lint translations translations-update lock bench bench-quick clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@echo "installing into $(VENV) (pinned by $(CONSTRAINTS))"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install $(PIP_QUIET) --upgrade pip
	@$(BIN)/pip install $(PIP_QUIET) -c $(CONSTRAINTS) -e '.[sentry,test]'
	@$(BIN)/pip install $(PIP_QUIET) -c $(CONSTRAINTS) -e tests/payments/example_gateway
	@touch $(STAMP)

install: $(STAMP) translations

## The product on the embedded default (SQLite under var/) with a demo store.
demo: install
	$(BIN)/backoffice --config development.ini demo

serve: install
	$(BIN)/backoffice --config development.ini serve

## The whole test suite; the MariaDB tests need the server at 127.0.0.1:3306.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## Compile the message catalogs (en, ru, uk); run after editing .po files.
translations: $(STAMP)
	@for domain in backoffice storefront; do \
	  if [ -d $$domain/locale ]; then \
	    $(BIN)/pybabel -q compile --use-fuzzy -D $$domain -d $$domain/locale || exit 1; \
	  fi; \
	done

## Re-extract messages and merge them into the catalogs. The back office's
## catalogs also hold the payment gateways' texts (titles, labels, help), which
## stay English in payments/ and are marked there with N_.
translations-update: $(STAMP)
	@for domain in backoffice storefront; do \
	  case $$domain in backoffice) sources="backoffice payments";; *) sources=$$domain;; esac; \
	  if [ -d $$domain/locale ]; then \
	    $(BIN)/pybabel extract -F babel.cfg -k N_ -o $$domain/locale/$$domain.pot $$sources && \
	    $(BIN)/pybabel update --ignore-obsolete -D $$domain -i $$domain/locale/$$domain.pot -d $$domain/locale; \
	  fi; \
	done

## Re-pin $(CONSTRAINTS): the newest releases that pyproject.toml allows, as
## installed into a fresh virtualenv (runtime, sentry and test); commit the result.
lock:
	rm -rf var/lock && $(PYTHON) -m venv var/lock
	var/lock/bin/pip install $(PIP_QUIET) '.[sentry,test]'
	{ echo "# Pinned versions for reproducible installs; regenerate with 'make lock'."; \
	  echo "# Use as constraints: pip install -c $(CONSTRAINTS) ..."; \
	  var/lock/bin/pip freeze --exclude backoffice; } > $(CONSTRAINTS)
	rm -rf var/lock

bench-quick: install
	@for b in scripts/bench_*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

bench: install
	@for b in scripts/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var/ .pytest_cache build *.egg-info
