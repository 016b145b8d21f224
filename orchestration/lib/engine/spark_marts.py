"""Spark's marts (Parquet tables) -> `marts.*` of the work database.

The quality gate and the publish step read the marts from the work DuckDB whatever the
engine, so every check runs as on DuckDB and `published.duckdb` looks the same. Each
mart is created with its contract's column types (the dbt manifest), then filled from
the Parquet files of its Spark table: the published types are those of a DuckDB
refresh, not what Spark's Parquet writer chose.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from orchestration.lib.dbt_manifest import Mart

MARTS_SCHEMA = "marts"


class SparkMartMissing(RuntimeError):
    """A mart's Spark table folder is missing (the dbt build did not write it)."""


def spark_table_folder(spark_warehouse: Path, schema: str, table: str) -> Path:
    """Where Spark keeps a managed table of a schema (database) `schema`."""
    return spark_warehouse / f"{schema}.db" / table


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def import_marts(con: duckdb.DuckDBPyConnection, marts: Iterable[Mart], spark_warehouse: Path) -> list[str]:
    """Replace `marts.<name>` of `con` by each mart's Spark table; the names imported."""
    imported = []
    con.execute(f"create schema if not exists {MARTS_SCHEMA}")
    for mart in marts:
        folder = spark_table_folder(spark_warehouse, MARTS_SCHEMA, mart.name)
        if not folder.is_dir():
            raise SparkMartMissing(f"marts.{mart.name}: no Spark table at {folder}")
        untyped = [c.name for c in mart.columns if not c.data_type]
        if untyped:
            raise ValueError(f"marts.{mart.name}: no contract data_type for {', '.join(untyped)}")
        columns = ", ".join(f"{_quote(c.name)} {c.data_type}" for c in mart.columns)
        table = f"{MARTS_SCHEMA}.{_quote(mart.name)}"
        con.execute(f"create or replace table {table} ({columns})")
        files = sorted(str(p) for p in folder.glob("*.parquet"))
        if files:  # Spark may write no file at all for an empty table
            names = ", ".join(_quote(c.name) for c in mart.columns)
            con.execute(f"insert into {table} ({names}) select {names} from read_parquet(?)", [files])
        imported.append(mart.name)
    return imported
