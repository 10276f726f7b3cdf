# Common commands. Each target installs the project into .venv first (reused when up to date).
.DEFAULT_GOAL := help
VENV := .venv/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install:  ## create .venv and install the project (reused when up to date)
	@bash scripts/bootstrap.sh

demo: install  ## generate a month of sample usage, close it, render the invoice PDFs, print a summary
	@mkdir -p "$(DAGSTER_HOME)"
	$(VENV)/billing demo

test: install  ## run the whole test suite (what CI runs)
	$(VENV)/python -m pytest -n 2 --dist loadgroup

bench: install  ## time the close on 10 million events against the hand-written DuckDB floor
	$(VENV)/python benchmarks/bench_close.py

dev: install  ## open the Dagster UI on the asset graph
	@mkdir -p "$(DAGSTER_HOME)"
	$(VENV)/dg dev -w workspace.yaml

build: install  ## dbt build on the current warehouse (BILLING_WAREHOUSE, default data/warehouse.duckdb)
	$(VENV)/dbt build --project-dir . --profiles-dir .

.PHONY: help install demo test bench dev build
