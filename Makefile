# The two commands: `make run` (local stack with demo data) and `make test` (the whole suite).
# Both bootstrap .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint system-deps bench-ingest bench-parse bench-worker bench-query conformance clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres,s3]'
	touch $@

run: $(INSTALLED)
	$(BIN)/fletch demo --if-empty
	$(BIN)/fletch up

test: $(INSTALLED) system-deps
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .

system-deps:
	scripts/install-system-deps.sh

bench-ingest: $(INSTALLED) system-deps
	$(BIN)/python bench/ingest/run.py

bench-parse: $(INSTALLED)
	$(BIN)/python bench/parse/run.py

bench-worker: $(INSTALLED)
	$(BIN)/python bench/worker/run.py

bench-query: $(INSTALLED) system-deps
	$(BIN)/python bench/query/run.py

conformance: $(INSTALLED)
	$(BIN)/fletch conformance --quiet

clean:
	rm -rf data .pytest_cache .ruff_cache
