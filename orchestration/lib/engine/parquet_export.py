"""Ingested tables -> Parquet, the form in which Spark reads the dbt sources.

With the engine spark, the ingest step writes each entity's `raw.<entity>` and
`quarantine.<entity>` (and `raw.<entity>_snapshots` of the entities whose every extract
is kept, lib/ingest/snapshots.py) of the work database to `<parquet_dir>/<schema>/<table>/`
(one folder per table, as a Spark table location expects), replacing what an earlier
refresh wrote. dbt registers the raw folders as tables on Spark (macros/engine/sources.sql).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.snapshots import SNAPSHOT_ENTITIES, snapshots_table_name

# The file inside each table's folder. One file: the demo's and a nightly CRM's tables are
# small; Spark splits a big Parquet file by row group anyway.
PART_FILE = "part-0.parquet"
EXPORTED_SCHEMAS = ("raw", "quarantine")


def table_folder(parquet_dir: Path, schema: str, table: str) -> Path:
    return parquet_dir / schema / table


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (count,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return count > 0


def export_entities(con: duckdb.DuckDBPyConnection, entities: Iterable[Entity], parquet_dir: Path) -> list[Path]:
    """Write raw and quarantine of each entity as Parquet; the folders written.

    Each table goes to a new folder first, swapped in whole, so a failed export leaves
    the previous one (never half of one) for Spark to read.
    """
    written = []
    for entity in entities:
        tables = [(schema, entity.qualified_name) for schema in EXPORTED_SCHEMAS]
        if entity in SNAPSHOT_ENTITIES:
            tables.append(("raw", snapshots_table_name(entity)))
        for schema, table in tables:
            if not _table_exists(con, schema, table):
                continue
            folder = table_folder(parquet_dir, schema, table)
            fresh = folder.with_name(f".{folder.name}.new")
            shutil.rmtree(fresh, ignore_errors=True)
            fresh.mkdir(parents=True)
            quoted = f'"{schema}"."{table}"'
            target = str(fresh / PART_FILE).replace("'", "''")
            con.execute(f"copy (select * from {quoted}) to '{target}' (format parquet)")
            shutil.rmtree(folder, ignore_errors=True)
            fresh.rename(folder)
            written.append(folder)
    return written
