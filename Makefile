# Quick start: `make demo` runs the main job on bundled data, `make test` runs every check.
#
# One virtual environment, one stamp per set of dependencies: `make demo` installs the runtime
# dependencies only; `make test` (and `make docs`) add the test oracles, lint tools and the
# documentation toolchain, pinned in constraints.txt. `make docs-check` also needs Debian's
# `chromium` package (an apt dependency: installed by the target when absent).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALL := $(BIN)/pip install -q -c constraints.txt
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
HTML := docs/_build/html

.PHONY: demo test lint docs docs-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(INSTALL) -e .
	touch $@

# the test and docs extras include the runtime dependencies
$(DEV): pyproject.toml constraints.txt | $(BIN)/python
	$(INSTALL) -e '.[test,docs]'
	touch $@ $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/gradstat demo --out demo-output

test: $(DEV) lint
	$(BIN)/python -m pytest -q
	$(MAKE) docs

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/mypy

# warnings are errors; every notebook cell runs; the build fails on a reference to another host
docs: $(DEV)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs $(HTML)

# the built site in headless Chromium: screenshots, unrendered TeX, console errors, outside requests
docs-check: docs
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python docs/tools/browser_check.py $(HTML) --screenshots docs/_build/screenshots

# every benchmark, each framework in its own process (minutes), then the README's speed table
bench: $(DEV)
	$(BIN)/python benchmarks/harness.py --rounds 2 --samples 3 --alternation-check ols_dense ridgecv_a
	$(BIN)/python benchmarks/readme_table.py

clean:
	rm -rf $(VENV) demo-output docs/_build docs/jupyter_execute
