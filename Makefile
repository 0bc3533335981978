# The template's own commands. A fresh machine needs only Python 3.11+, git and make
# (`make test` also installs nginx and openssl for its end-to-end tests when missing):
#   make demo   generate a project into build/demo/ and run its golden path
#   make test   run every test of the template (fast tier and end-to-end tier)
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY_SOURCES := hooks tests tools local_extensions.py

.PHONY: help setup demo test test-fast lint benchmark clean

help: ## List the available commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --group dev
	touch $@

setup: $(VENV)/.installed ## Install the template's tools into .venv

demo: setup ## Generate a project into build/demo/ and run its golden path
	$(VENV)/bin/python -m tools.demo

test: setup ## Run all template tests (fast and end-to-end tiers)
	bash tools/system-deps.sh
	@# --durations: the slowest tests in CI's log, to keep the suite within its time budget.
	@# --no-loadscope-reorder: scopes start in collection order, the longest first (tests/conftest.py).
	$(VENV)/bin/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder --durations=30

test-fast: setup ## Run the fast tier only (no Poetry installs)
	$(VENV)/bin/python -m pytest -n 2 -m "not e2e"

lint: setup ## Lint and type-check the template's own code
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/mypy

benchmark: setup ## Print generation and install timings
	$(VENV)/bin/python -m tools.benchmark

.PHONY: benchmark-data
benchmark-data: setup ## The tabular pipeline on 100k and 1M rows; own CSV to served prediction
	$(VENV)/bin/python -m tools.benchmark_data

.PHONY: benchmark-monitoring
benchmark-monitoring: setup ## The monitor on 1M logged predictions; service req/s, log on vs off
	bash tools/system-deps.sh
	$(VENV)/bin/python -m tools.benchmark_monitoring

.PHONY: benchmark-batch
benchmark-batch: setup ## Batch scoring of 1M, 3M and 10M rows: pandas command vs Spark local[2], time and peak memory
	bash tools/system-deps.sh
	$(VENV)/bin/python -m tools.benchmark_batch

.PHONY: benchmark-serving
benchmark-serving: setup ## Our prediction service vs `mlflow models serve` and MLServer, side by side
	bash tools/system-deps.sh
	$(VENV)/bin/python -m tools.benchmark_serving

.PHONY: lock
lock: setup ## Refresh the poetry.lock generated projects start from (newest versions)
	$(VENV)/bin/python -m tools.lock

clean: ## Remove build output and the tools environment
	rm -rf build $(VENV)
