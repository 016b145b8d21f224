"""Rows that go to `quarantine.<entity>`: values that could not be typed, and rejected CSV lines.

Each file's quarantined rows are kept in the store when the file is read
(`file_store`); `quarantine.<entity>` is rebuilt from there on every ingest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.extracts import INTERNAL_PREFIX, Extract
from orchestration.lib.ingest.file_store import StoredFile, quarantine_table, read_order_sql
from orchestration.lib.ingest.rejected_lines import rejected_lines_sql
from orchestration.lib.typing_rules import quote_identifier

QUARANTINE_COLUMNS = ("_source_file", "_source_row", "_column", "_reason", "_raw_line")


def store_quarantined_rows(con: duckdb.DuckDBPyConnection, entity: Entity, extract: Extract) -> None:
    """A file's rows with values that could not be typed, and the lines the CSV reader rejected."""
    values = ", ".join(
        f"{INTERNAL_PREFIX}original[{j + 1}] AS {quote_identifier(n)}" for j, n in enumerate(extract.file_columns)
    )
    rows = f"""
        SELECT {values}, ? AS _source_file, {extract.row_number_sql} AS _source_row,
            {INTERNAL_PREFIX}column AS _column, {INTERNAL_PREFIX}reason AS _reason
        FROM {extract.table}
        WHERE {INTERNAL_PREFIX}reason IS NOT NULL"""
    parameters = [extract.name]
    if extract.rejected:
        rows += f"""
        UNION ALL BY NAME
        SELECT ? AS _source_file, _source_row, NULL::VARCHAR AS _column, _reason, _raw_line
        FROM ({rejected_lines_sql(extract)})"""
        parameters += [extract.name]
    con.execute(f"INSERT INTO {quarantine_table(entity)} BY NAME {rows} ORDER BY _source_row", parameters)


def write_quarantined_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: Sequence[StoredFile],
    extras: Sequence[str],
    quarantine: str,
    loaded_at: dt.datetime,
) -> None:
    """`quarantine` <- the stored quarantined rows of `files`, in read order."""
    columns = ", ".join(f"q.{quote_identifier(n)}" for n in [*entity.column_names, *extras, *QUARANTINE_COLUMNS])
    con.execute(
        f"""INSERT INTO {quarantine} BY NAME
            SELECT {columns}, ? AS _loaded_at
            FROM {quarantine_table(entity)} AS q JOIN {read_order_sql(files)} ON q._source_file = read_order.name
            ORDER BY read_order.fi, q._source_row""",
        [loaded_at],
    )
