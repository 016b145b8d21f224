"""`gtm sql`: query a published file read-only with this project's own DuckDB.

The published file is written by the pinned `duckdb` Python package, so this always
opens it, whatever DuckDB CLI (if any) an analyst has installed. Results print as an
aligned table (or CSV, JSON, Markdown).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

FORMATS = ("table", "csv", "json", "markdown")
PROMPT, CONTINUATION = "gtm> ", "...> "
SHELL_HELP = (
    "End a statement with ';'. Commands: .tables (the published tables), .help, .quit (or Ctrl-D).\n"
    "Example: select * from marts.commercial_ratio where period_grain = 'fiscal_year';"
)
TABLES_SQL = (
    "select schema_name || '.' || table_name as table_name, estimated_size as rows "
    "from duckdb_tables() order by 1"
)


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


@contextlib.contextmanager
def connect_read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.exists():
        raise FileNotFoundError(f"No published file at {path} (run `gtm refresh` or `gtm demo` first).")
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        yield con
    finally:
        con.close()


def run(con: duckdb.DuckDBPyConnection, sql: str) -> Result | None:
    """Run `sql` (one statement or several; the last one's rows are returned)."""
    cursor = con.execute(sql)
    if cursor.description is None:
        return None
    return Result([d[0] for d in cursor.description], cursor.fetchall())


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def format_table(result: Result, max_rows: int = 100) -> str:
    """Columns aligned, numbers to the right, floats to at most six decimals."""
    shown = result.rows if max_rows <= 0 else result.rows[:max_rows]
    cells = [[_cell(v) for v in row] for row in shown]
    widths = [len(c) for c in result.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [bool(shown) and all(_is_number(r[i]) or r[i] is None for r in shown) for i in range(len(widths))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)]
        return " | ".join(parts).rstrip()

    out = [line(result.columns), "-+-".join("-" * w for w in widths)]
    out.extend(line(row) for row in cells)
    hidden = len(result.rows) - len(shown)
    footer = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    footer += f", {hidden} not shown: --max-rows 0 shows all)" if hidden else ")"
    out.append(footer)
    return "\n".join(out)


def format_markdown(result: Result, max_rows: int = 100) -> str:
    shown = result.rows if max_rows <= 0 else result.rows[:max_rows]
    out = ["| " + " | ".join(result.columns) + " |", "|" + "|".join("---" for _ in result.columns) + "|"]
    out.extend("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |" for row in shown)
    return "\n".join(out)


def format_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
                         for v in row])
    return buffer.getvalue().rstrip("\n")


def format_json(result: Result) -> str:
    records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return json.dumps(records, default=str, indent=2)


def render(result: Result | None, output_format: str, max_rows: int) -> str:
    if result is None:
        return "OK"
    if output_format == "csv":
        return format_csv(result)
    if output_format == "json":
        return format_json(result)
    if output_format == "markdown":
        return format_markdown(result, max_rows)
    return format_table(result, max_rows)


def statements(lines: Iterator[str], prompt: Callable[[str], None] | None = None) -> Iterator[str]:
    """SQL statements from typed lines: a statement ends with ';'; a line starting with
    '.' is a shell command (.tables, .help, .quit) and is returned as it is."""
    buffer: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            yield stripped
        elif stripped:
            buffer.append(line)
            if stripped.endswith(";"):
                yield "\n".join(buffer)
                buffer = []
        if prompt:
            prompt(CONTINUATION if buffer else PROMPT)
    if buffer:
        yield "\n".join(buffer)
