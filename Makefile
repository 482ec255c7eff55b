# qtbot — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# pip-audit exits 0 when it could not audit (service unreachable, versions it does not know);
# the wrapper fails then, in one line. SKIP_AUDIT=1 skips the audit, saying so.
PIP_AUDIT ?= $(BIN)/pip-audit
AUDIT = $(BIN)/python scripts/audit_dependencies.py $(PIP_AUDIT)

.PHONY: run test bench lint audit check-python clean chaos soak

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "qtbot: $(PYTHON) not found; install Python 3.11+ (Debian/Ubuntu: sudo apt install python3 python3-venv make)"; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "qtbot: Python 3.11+ is required, $(PYTHON) is $$($(PYTHON) -V 2>&1); set PYTHON=python3.11 or newer"; exit 2; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "qtbot: the venv module is missing; install it (Debian/Ubuntu: sudo apt install python3-venv)"; exit 2; }

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

run: check-python $(STAMP)
	$(BIN)/qtbot run

# One xdist run. Tests marked `serial` (campaigns of real daemons) form one group, handed out
# first and run one at a time on one worker while the other workers take the rest; see
# pytest_collection_modifyitems in tests/conftest.py. (Run after the parallel run, they left a
# core idle for two minutes.) One worker more than cores: many tests wait on a daemon they
# started, and a third worker fills those waits (measured on 2 cores: 4:44 with 2, 4:09 with 3).
test: check-python $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n $$($(BIN)/python -c 'import os; print(len(os.sched_getaffinity(0)) + 1)') --dist loadgroup --no-loadscope-reorder

bench: check-python $(STAMP)
	@echo "# each figure: one line 'name: value unit'; method printed to stderr by each script"
	@for script in benchmarks/bench_*.py; do [ -f "$$script" ] || continue; $(BIN)/python "$$script" || exit 1; done

chaos: check-python $(STAMP)
	@echo "# crash campaigns (testnet, paper), every bad setting via the CLI, venue fault campaign"
	$(BIN)/python -m tests.chaos.campaign --runs $${RUNS:-200}
	$(BIN)/python -m tests.chaos.campaign --mode paper --runs $${RUNS:-200}
	$(BIN)/python -m tests.badinput.full
	$(BIN)/python -m tests.chaos.faults --cycles $${CYCLES:-2} $${SKIP_KNOWN:+--skip-known}

soak: check-python $(STAMP)
	$(BIN)/python -m tests.soak.soak --days $${DAYS:-30}

lint: check-python $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/mypy --strict risk exchanges
	@$(AUDIT)

audit: check-python $(STAMP)
	@$(AUDIT)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
