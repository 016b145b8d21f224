"""Rows that go to `quarantine.<entity>`: values that could not be typed, and rejected CSV lines."""

from __future__ import annotations

import datetime as dt

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.extracts import INTERNAL_PREFIX, Extract
from orchestration.lib.ingest.rejected_lines import rejected_lines_sql
from orchestration.lib.typing_rules import quote_identifier


def write_quarantined_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extract: Extract,
    quarantine: str,
    loaded_at: dt.datetime,
) -> None:
    """Rows with values that could not be typed, and the lines the CSV reader rejected."""
    values = ", ".join(
        f"{INTERNAL_PREFIX}original[{j + 1}] AS {quote_identifier(n)}" for j, n in enumerate(extract.file_columns)
    )
    rows = f"""
        SELECT {values}, ? AS _source_file, {extract.row_number_sql} AS _source_row,
            {INTERNAL_PREFIX}column AS _column, {INTERNAL_PREFIX}reason AS _reason,
            ? AS _loaded_at
        FROM {extract.table}
        WHERE {INTERNAL_PREFIX}reason IS NOT NULL"""
    parameters = [extract.name, loaded_at]
    if extract.rejected:
        rows += f"""
        UNION ALL BY NAME
        SELECT ? AS _source_file, _source_row, NULL::VARCHAR AS _column, _reason, _raw_line,
            ? AS _loaded_at
        FROM ({rejected_lines_sql(extract)})"""
        parameters += [extract.name, loaded_at]
    con.execute(f"INSERT INTO {quarantine} BY NAME {rows} ORDER BY _source_row", parameters)
