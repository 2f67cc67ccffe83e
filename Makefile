# fanloop — `make run` starts it, `make test` runs the whole suite. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run console test lint typecheck check clean

# fanloop with its development extra, and beside it the development tools (devtools/: local
# protocol servers, `fanloop bench`, `fanloop dedup-eval`), which the fanloop wheel leaves out.
$(STAMP): pyproject.toml devtools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" -e ./devtools
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fanloop run

console: $(STAMP)
	$(BIN)/fanloop console

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check bot cogs storage config devtools tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) build *.egg-info devtools/build devtools/*.egg-info
