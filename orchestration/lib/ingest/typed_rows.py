"""Step 1 of an ingest: one pass over a file -> a temporary table of typed rows.

Every value is read as text, trimmed and typed by the rules of `typing_rules`; a row
with a value that could not be typed keeps its original values for the quarantine.

Row numbers: `_source_row` is the 1-based data-row number within its file (header
excluded). For a CSV file in which no field spans lines and no line is blank (the
reader skips blank lines), the line number in the file is `_source_row + 1`.
DuckDB 2.0's CSV reader has no row-number option (`file_row_number` is refused for
CSV, and `row_number() OVER ()` forces the whole read onto one thread), so each CSV
file is read in parallel into a fresh temporary table with `preserve_insertion_order`
on: DuckDB then appends the rows in file order, so the table's `rowid` + 1 is the
row number. Parquet files use the reader's `file_row_number`. The tests check both
against an id column on multi-threaded reads. A CSV file with lines the reader
rejected is numbered as `rejected_lines` explains.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import duckdb

from orchestration.lib.contract import DUCKDB_TYPES, Entity
from orchestration.lib.ingest.csv_records import copy_without_long_records, scan_records
from orchestration.lib.ingest.errors import RowAccountingError, SourceContractError
from orchestration.lib.ingest.extracts import (
    INTERNAL_PREFIX,
    MAX_LINE_BYTES,
    READ_ERRORS,
    Extract,
    drop_rejects_tables,
    read_error,
    reader_sql,
)
from orchestration.lib.ingest.rejected_lines import LINE_BREAKS, number_rows_around_rejected_lines
from orchestration.lib.typing_rules import (
    can_fail,
    failed,
    failure_reason,
    quote_identifier,
    quote_literal,
    trimmed,
    typed,
)


def load_typed_rows(
    con: duckdb.DuckDBPyConnection, entity: Entity, extract: Extract, years: tuple[int, int]
) -> Extract:
    """One pass over the file -> a temporary table of typed rows; the extract, with the
    number of rejected CSV lines.

    Columns: the contract columns typed (null where the file lacks them), the file's
    extra columns (trimmed text, named `_ingest_v<j>`), `_ingest_column` and
    `_ingest_reason` (null unless a value could not be typed), `_ingest_original` (the
    row's values as read, only for rows that failed) and, for Parquet and for a CSV
    file with rejected lines, `_ingest_row` (the 1-based row number). A date or
    timestamp outside `years` (first, last) fails like an untypeable value.
    """
    e = _with_long_records_set_aside(entity, extract) if extract.format == "csv" else extract
    row = [f"file_row_number + 1 AS {INTERNAL_PREFIX}row"] if e.format == "parquet" else []
    keep_row = [f"{INTERNAL_PREFIX}row"] if e.format == "parquet" else []
    read = ", ".join(
        row + [f"CAST({quote_identifier(e.columns[n])} AS VARCHAR) AS {e.slot('o', n)}" for n in e.file_columns]
    )
    trim = ", ".join(f"{trimmed(e.slot('o', n))} AS {e.slot('v', n)}" for n in e.file_columns)
    typing: list[str] = []
    failures: list[tuple[str, str, str]] = []  # (column, condition, reason)
    for c in entity.columns:
        if c.name in e.columns and can_fail(c.type):
            v, t = e.slot("v", c.name), e.slot("t", c.name)
            typing.append(f"{typed(v, c.type)} AS {t}")
            failures.append((c.name, failed(v, t, c.type, years), failure_reason(c.name, v, t, c.type, years)))
    which = ", ".join(f"CASE WHEN {cond} THEN {quote_literal(n)} END" for n, cond, _ in failures)
    why = ", ".join(f"CASE WHEN {cond} THEN {reason} END" for _, cond, reason in failures)
    checks = (
        f"nullif(concat_ws(',', {which}), '') AS {INTERNAL_PREFIX}column, "
        f"nullif(concat_ws('; ', {why}), '') AS {INTERNAL_PREFIX}reason"
        if failures
        else f"NULL::VARCHAR AS {INTERNAL_PREFIX}column, NULL::VARCHAR AS {INTERNAL_PREFIX}reason"
    )
    out: list[str] = list(keep_row)
    for c in entity.columns:
        if c.name not in e.columns:
            value = f"NULL::{DUCKDB_TYPES[c.type]}"
        elif can_fail(c.type):
            value = e.slot("t", c.name)
        else:
            value = e.slot("v", c.name)
        out.append(f"{value} AS {quote_identifier(c.name)}")
    out += [e.slot("v", n) for n in e.extras]
    originals = ", ".join(e.slot("o", n) for n in e.file_columns)
    out += [
        f"{INTERNAL_PREFIX}column",
        f"{INTERNAL_PREFIX}reason",
        f"CASE WHEN {INTERNAL_PREFIX}reason IS NOT NULL THEN [{originals}] END AS {INTERNAL_PREFIX}original",
    ]
    typed_cols = f", {', '.join(typing)}" if typing else ""
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {e.table} AS
        SELECT {", ".join(out)}
        FROM (
            SELECT *, {checks}
            FROM (
                SELECT *{typed_cols}
                FROM (
                    SELECT *, {trim}
                    FROM (SELECT {read} FROM {reader_sql(e)})
                )
            )
        )
    """
    if e.format == "csv":  # DuckDB appends to an existing rejects table
        drop_rejects_tables(con, e)
    try:
        con.execute(sql)
    except READ_ERRORS as error:
        raise read_error(f"{entity.folder}: file {e.path.name}", error) from error
    finally:
        if e.read_path:
            e.read_path.unlink(missing_ok=True)
    if e.format == "parquet":
        return e
    e = _with_rejected_lines(con, entity, dataclasses.replace(e, read_path=None))
    returned = con.execute(f"SELECT count(*) FROM {e.table}").fetchone()[0] + e.rejected
    if returned != e.records:
        raise RowAccountingError(
            f"{entity.folder}: file {e.path.name} holds {e.records} records, but the CSV reader returned "
            f"{returned} (rows and rejected lines); the entity is not loaded, so no record is lost"
        )
    return e


def _with_long_records_set_aside(entity: Entity, e: Extract) -> Extract:
    """Count the CSV file's records without the reader; if some are too long for the
    reader, have it read a copy with each of them replaced by its placeholder."""
    scanned = scan_records(e.path, len(e.columns), MAX_LINE_BYTES)
    e = dataclasses.replace(e, records=scanned.data_records, long_records=scanned.long_records)
    if not scanned.long_records:
        return e
    handle, name = tempfile.mkstemp(prefix=f"{INTERNAL_PREFIX}{entity.qualified_name}_", suffix=".csv")
    os.close(handle)
    copy = Path(name)
    try:
        copy_without_long_records(e.path, scanned.long_records, len(e.columns), copy)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return dataclasses.replace(e, read_path=copy)


def _with_rejected_lines(con: duckdb.DuckDBPyConnection, entity: Entity, e: Extract) -> Extract:
    rejects = quote_identifier(e.rejects)
    rejected = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchone()[0]
    if not rejected:
        return e
    runaway = con.execute(
        f"""SELECT min(line) FROM (SELECT line, trim(csv_line, {LINE_BREAKS}) AS text FROM {rejects}
            WHERE CAST(error_type AS VARCHAR) = 'UNQUOTED VALUE')
            WHERE contains(text, chr(10)) OR contains(text, chr(13))"""
    ).fetchone()[0]
    if runaway is not None:
        raise SourceContractError(
            f"{entity.folder}: file {e.path.name} cannot be read: line {runaway} has a quote that is not "
            "closed properly, and the reader took the lines after it (up to the next quote or the end "
            "of the file) for part of its value; correct the quoting"
        )
    number_rows_around_rejected_lines(con, e)
    return dataclasses.replace(e, rejected=rejected)
