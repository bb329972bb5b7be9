# Commands for a newcomer: `make demo` (set up, then run the main job on the embedded
# defaults), `make up` (set up, then run the office's whole stack: Prefect server and UI,
# worker, deployments, pages; Ctrl-C stops it) and `make test` (lint, type-check, whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect
# Independent peers the tests talk to: ical.js (calendar parser) and Bluesky's local PDS.
NODE_PEERS := $(patsubst %/package.json,%/node_modules/.installed,$(wildcard tests/*/package.json tests/*/*/package.json))

.PHONY: demo up test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

%/node_modules/.installed: %/package.json %/package-lock.json
	cd $* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/alumni demo

up: $(VENV)/.installed
	$(VENV)/bin/alumni up

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint $(NODE_PEERS)
	$(PY) -m pytest -n auto --dist loadfile

bench: $(VENV)/.installed
	$(PY) bench/import.py
	$(PY) bench/campaign.py
	$(PY) bench/scale.py
	$(PY) bench/reach.py

clean:
	rm -rf $(VENV) .prefect outbox alumni.db alumni.db-wal alumni.db-shm .alumni-secret
