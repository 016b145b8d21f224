"""`gtm export`: the published tables as CSV, Parquet or one Excel workbook.

Read from the published file only (read-only). Parquet keeps each column's type; CSV is
UTF-8 with ISO dates (YYYY-MM-DD) and timestamps, and full-precision numbers; the
workbook has a sheet per table, dates as Excel dates, numbers as numbers, and the
reporting currency of the publication in the header of every amount column. Each file is
written beside its final name and renamed into place, so a failed export leaves no half
file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.publish import PUBLICATION_TABLE, PUBLISHED_SCHEMA

FORMATS = ("csv", "parquet", "xlsx")
WORKBOOK_NAME = "published_marts.xlsx"
EXCEL_MAX_ROWS = 1_048_576  # header included
EXCEL_MAX_SHEET_NAME = 31
# A DOUBLE column is an amount in the reporting currency when a word of its name is one of
# these (won_amount, sm_expense, ending_mrr, expiring_arr, cost_per_lead) and none of its
# words makes it a rate or another currency (win_rate, return_on_spend, recognized_amount_local).
# A column named just `amount` is a source amount in its row's own `currency`.
AMOUNT_WORDS = frozenset({"revenue", "expense", "mrr", "arr", "amount", "spend", "cost"})
NOT_AMOUNT_WORDS = frozenset({"rate", "ratio", "return", "local", "relative"})
SOURCE_CURRENCY_COLUMNS = frozenset({"amount"})
DATE_FORMAT, TIMESTAMP_FORMAT, AMOUNT_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss", "#,##0.00"


class ExportError(RuntimeError):
    """The export cannot be made (the message names the file, folder or table)."""


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    tables: dict[str, int]  # rows per table


def is_amount(column: str, data_type: str) -> bool:
    words = set(column.lower().split("_"))
    if data_type.upper() != "DOUBLE" or column.lower() in SOURCE_CURRENCY_COLUMNS:
        return False
    return bool(words & AMOUNT_WORDS) and not words & NOT_AMOUNT_WORDS


@contextlib.contextmanager
def _open_publication(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not published.is_file():
        raise ExportError(f"No published file at {published} (run `gtm refresh` or `gtm demo` first).")
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error as error:
        raise ExportError(f"{published} is not a published file: {str(error).strip()}") from None
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        if PUBLICATION_TABLE not in published_tables(con):
            raise ExportError(
                f"{published} is not a published file (it has no {PUBLISHED_SCHEMA}.{PUBLICATION_TABLE} table)"
            )
        yield con
    finally:
        con.close()


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name",
        [PUBLISHED_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def reporting_currency(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        f"select reporting_currency from {PUBLISHED_SCHEMA}.{PUBLICATION_TABLE} order by published_at desc limit 1"
    ).fetchone()
    if not row or not row[0]:
        raise ExportError(f"{PUBLISHED_SCHEMA}.{PUBLICATION_TABLE} names no reporting currency")
    return row[0]


def _writable_folder(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".gtm-export-probe-"):
            pass
    except OSError as error:
        raise ExportError(f"cannot write into {out_dir}: {error.strerror or error}") from None
    return out_dir


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [PUBLISHED_SCHEMA, table],
    ).fetchall()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def export(published: Path, output_format: str, out_dir: Path, tables: Sequence[str] = ()) -> ExportResult:
    """Write `tables` (default: every published table) of `published` into `out_dir`."""
    if output_format not in FORMATS:
        raise ExportError(f"unknown format {output_format!r}: one of {', '.join(FORMATS)}")
    with _open_publication(published.resolve()) as con:
        available = published_tables(con)
        unknown = [t for t in tables if t not in available]
        if unknown:
            raise ExportError(
                f"{published} has no table(s) {', '.join(unknown)} in {PUBLISHED_SCHEMA}; "
                f"it has: {', '.join(available)}"
            )
        chosen = list(dict.fromkeys(tables)) or available
        out_dir = _writable_folder(out_dir.resolve())
        counts = {
            t: con.execute(f"select count(*) from {PUBLISHED_SCHEMA}.{_quote(t)}").fetchone()[0] for t in chosen
        }
        if output_format == "xlsx":
            files = [_write_workbook(con, chosen, counts, out_dir / WORKBOOK_NAME)]
        else:
            files = [_copy_table(con, t, output_format, out_dir) for t in chosen]
    return ExportResult(files=tuple(files), tables=counts)


def _replace_atomically(path: Path, write) -> Path:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.unlink(missing_ok=True)
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, output_format: str, out_dir: Path) -> Path:
    options = (
        "format parquet, compression zstd"
        if output_format == "parquet"
        else "format csv, header true, dateformat '%Y-%m-%d', timestampformat '%Y-%m-%dT%H:%M:%S.%f'"
    )

    def write(path: Path) -> None:
        con.execute(f"copy (select * from {PUBLISHED_SCHEMA}.{_quote(table)}) to '{path}' ({options})")

    return _replace_atomically(out_dir / f"{table}.{output_format}", write)


def _write_workbook(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], counts: dict[str, int], path: Path
) -> Path:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    too_long = [t for t in tables if len(t) > EXCEL_MAX_SHEET_NAME]
    too_many = [t for t in tables if counts[t] + 1 > EXCEL_MAX_ROWS]
    if too_long or too_many:
        problem = (f"name(s) longer than {EXCEL_MAX_SHEET_NAME} characters: {', '.join(too_long)}" if too_long
                   else f"more rows than an Excel sheet holds: {', '.join(too_many)}; export them as csv or parquet")
        raise ExportError(f"cannot write {path}: table {problem}")
    currency = reporting_currency(con)
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table)
        columns = _columns(con, table)
        formats = [_cell_format(name, data_type) for name, data_type in columns]
        header = []
        for name, data_type in columns:
            cell = WriteOnlyCell(sheet, value=f"{name} ({currency})" if is_amount(name, data_type) else name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        sheet.freeze_panes = "A2"
        cursor = con.execute(f"select * from {PUBLISHED_SCHEMA}.{_quote(table)}")
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                sheet.append([_cell(sheet, value, number_format) for value, number_format in zip(row, formats,
                                                                                                  strict=True)])
    return _replace_atomically(path, lambda temporary: workbook.save(str(temporary)))


def _cell_format(name: str, data_type: str) -> str | None:
    data_type = data_type.upper()
    if data_type == "DATE":
        return DATE_FORMAT
    if data_type.startswith("TIMESTAMP"):
        return TIMESTAMP_FORMAT
    return AMOUNT_FORMAT if is_amount(name, data_type) else None


def _cell(sheet, value, number_format: str | None):
    from openpyxl.cell import WriteOnlyCell

    if value is None or number_format is None:
        return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no time zones
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell
