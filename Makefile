# jixiao — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-test migrate demo bench bench-quick lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/jixiao migrate

demo: migrate
	$(BIN)/jixiao demo --if-empty

## Creates .venv, installs, migrates the SQLite database, loads the demo data once, serves on :8000.
run: demo
	$(BIN)/jixiao serve --host $(HOST) --port $(PORT)

## The whole suite on SQLite and PostgreSQL (and a real Chromium for the browser tests).
test: install-test
	@mkdir -p test-artifacts
	$(BIN)/pytest --junitxml=test-artifacts/junit.xml $(PYTEST_ARGS)

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

## The benchmark of issue 14 (bench/suite.py): jixiao against the floor, one run; BENCH_ARGS="--scale 1" for the province.
BENCH_ARGS ?=
bench: $(VENV)/.installed-bench
	$(PY) -m bench $(BENCH_ARGS)

## CI's part of it: the query plans and the no-stall test (python -m bench --quick).
bench-quick: $(VENV)/.installed-bench
	$(PY) -m bench --quick

## Lint: ruff's rules, ruff's formatting, and mypy over the pure core.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app/domain app/importers

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
