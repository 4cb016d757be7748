# Two commands set up and run everything on a fresh machine with Python 3.11+:
#   make serve   start the collector on the embedded SQLite default (./mllineage.db)
#   make test    run the whole test suite (SQLite and, where reachable, PostgreSQL)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: serve test lint typecheck bench-smoke clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-collector: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[collector,pandas]'
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@# mypy cannot follow setuptools' editable import hook for our package-dir mapping,
	@# so it reads the package through this symlink view of the source tree instead.
	mkdir -p $(VENV)/src/mllineage
	for d in emitter collector client schemas; do ln -sfn ../../../$$d $(VENV)/src/mllineage/$$d; done
	touch $@ $(VENV)/.stamp-collector

serve: $(VENV)/.stamp-collector
	$(BIN)/mllineage serve --host $(HOST) --port $(PORT)

test: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy tests bench examples
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy
	$(BIN)/mypy tests bench examples

clean:
	rm -rf $(VENV) build dist *.egg-info
