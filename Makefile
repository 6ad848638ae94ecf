# gridfusion — the two front-door commands are `make demo` and `make test`; both install on first use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := python3 -m uv
export GRIDFUSION_HOME ?= $(CURDIR)/var

.PHONY: install demo test bench lint sources airflow clean

$(VENV)/.installed: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --python python3.11
	@touch $@

install: $(VENV)/.installed

## make demo: simulate a small city for 4 days and run the nightly Airflow DAG once per day
demo: install
	$(PY) -m simulator.demo --preset demo

## make test: unit, DAG integrity and end-to-end tests (a real DAG run on the tiny preset). One worker per
## core, a test file's tests on one worker (its module fixtures are built once); the slowest tests are listed.
test: install
	$(PY) -m pytest -n auto --dist loadfile --durations=20

## make bench: load a simulated city night by night and time each stage against DuckDB reading the same files
BENCH_ARGS ?= --preset city --fraction 0.05
bench: install
	$(PY) -m bench $(BENCH_ARGS)

## make airflow: a real local Airflow (api-server, scheduler, dag-processor, triggerer) on the project's DAGs
airflow: install
	$(PY) -m warehouse.local_airflow

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

## regenerate dbt sources from ingest/contracts.py
sources: install
	$(PY) -m warehouse.sources

clean:
	rm -rf var dbt_project/target dbt_project/logs
