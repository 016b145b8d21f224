"""Failing rows that dbt tests stored on Spark -> the work database.

A blocking dbt test that fails names a few of its failing rows in the refresh's error
(lib/quality/dbt_tests.py `failed_nodes`), read from the table dbt's `store_failures`
wrote: `<schema>.<test>` of the work database on DuckDB. On Spark that table is a Parquet
table in Spark's warehouse, gone with the dbt run's in-memory catalog, so each stored
test table of the build is copied into the work database under the same name, and the
same lookup finds the rows on both engines.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.engine.spark_marts import spark_table_folder
from orchestration.lib.typing_rules import quote_identifier


def stored_failure_relations(run_results: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(schema, table) of every test result of a build that stored its failing rows."""
    relations = []
    for result in run_results.get("results", []):
        relation = result.get("relation_name")
        if not result.get("unique_id", "").startswith("test.") or not relation:
            continue
        schema, _, table = relation.replace("`", "").rpartition(".")
        relations.append((schema.rpartition(".")[2], table))
    return relations


def import_stored_failures(
    con: duckdb.DuckDBPyConnection, run_results: Mapping[str, Any], spark_warehouse: Path
) -> list[str]:
    """Copy each stored test table of `run_results` from Spark's warehouse into `con`
    (replacing an earlier run's); the relations copied. A table Spark wrote no file for
    (no failing row) or did not write at all is skipped: there is nothing to show."""
    copied = []
    for schema, table in stored_failure_relations(run_results):
        files = sorted(str(p) for p in spark_table_folder(spark_warehouse, schema, table).glob("*.parquet"))
        if not files:
            continue
        con.execute(f"create schema if not exists {quote_identifier(schema)}")
        name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
        con.execute(f"create or replace table {name} as select * from read_parquet(?)", [files])
        copied.append(f"{schema}.{table}")
    return copied
