# The two commands of the README, and their helpers. Everything runs from the
# project's own virtual environment (.venv), created and pinned here.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
# Quiet, offline-friendly tools.
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-spark lint dev venv constraints clean

## demo: create the environment, generate the demo company, refresh and publish
demo: $(STAMP)
	$(BIN)/gtm demo

## test: the whole test suite (lint first), as CI runs it: one pytest worker per core (at most 4),
## each test file whole on one worker so its module fixtures are built once, the longest files
## first (tests/conftest.py LONGEST_FIRST)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

## test-spark: the DuckDB-vs-Spark equality test (also in `make test`) and the dbt unit tests on Spark (~5 min more; needs Java 17)
test-spark: $(STAMP)
	GTM_TEST_SPARK_UNIT_TESTS=1 $(BIN)/pytest tests/test_spark_engine.py

## dev: the Dagster UI on http://127.0.0.1:3000 with the nightly schedule
dev: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3" 2> $(VENV)/pip.log || (cat $(VENV)/pip.log; exit 1)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]' 2> $(VENV)/pip.log || (cat $(VENV)/pip.log; exit 1)
	# Proves the environment imports; "imported" must be printed, since a bare `python -c "import
	# great_expectations"` ends with exit code 0 before importing anything when pyspark is installed.
	$(BIN)/python -c "import orchestration, dagster_dbt; from orchestration.lib.quality.runtime import import_gx; import_gx(); print('imported')" | grep -qx imported
	touch $@

## constraints: re-pin every dependency after editing pyproject.toml
constraints:
	rm -rf /tmp/gtm-constraints-venv
	$(PYTHON) -m venv /tmp/gtm-constraints-venv
	/tmp/gtm-constraints-venv/bin/pip install --quiet -e '.[dev,spark]'
	( head -3 constraints.txt; /tmp/gtm-constraints-venv/bin/pip freeze --exclude-editable ) > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf warehouse landing dbt_project/target dbt_project/logs
