"""CSV lines the reader rejected: their row numbers, and the rows after them.

A CSV line that is not a record of the file's header (too many or too few fields, a
broken quote, invalid UTF-8; a record too long for the reader is replaced by a line
it rejects, `csv_records`) is set aside by
DuckDB's CSV rejects machinery (`store_rejects`) into a temporary rejects table, and
the rest of the file loads. It is quarantined with `_source_row`, `_column` null,
`_reason` such as "line 7: expected 6 fields, found 8" and `_raw_line`, the line's
text as DuckDB read it (invalid UTF-8 bytes shown as `?`, at most DuckDB's first
10,000 characters); its values are null. A file with a quote that is not closed on
its line is a `SourceContractError`: the reader takes the lines after it, up to the
next quote or the end of the file, for part of the value, so they would be lost
inside one rejected "line".

A rejected CSV line has DuckDB's line number `line` (the header is line 1; a record
whose quoted field spans lines counts once), so its row number is `line - 1`, and the
rows after it move up: when a file has rejected lines, its typed table gets an explicit
row number, `rowid + 1` plus the number of rejected lines before the row (an ASOF join
on the count of valid rows before each rejected line). DuckDB's `line` also counts
the blank lines the reader skips, which data-row numbers do not, and the reader tells
nothing about where they are: in a file with B blank lines before a rejected line, that
line's `_source_row` (and "line" in its reason) is B higher and the B rows that follow
it are numbered one lower. The numbers stay unique; only those rows swap places.
"""

from __future__ import annotations

import duckdb

from orchestration.lib.ingest.csv_records import placeholder, record_start_text
from orchestration.lib.ingest.extracts import INTERNAL_PREFIX, MAX_LINE_BYTES, Extract
from orchestration.lib.typing_rules import quote_identifier, quote_literal

# SQL: the characters trimmed from the ends of a rejected line's text (its line break).
LINE_BREAKS = "chr(13) || chr(10)"


def number_rows_around_rejected_lines(con: duckdb.DuckDBPyConnection, extract: Extract) -> None:
    """Add `_ingest_row` to the typed table of a CSV file with rejected lines.

    The rejected line with data-row number r_i (the i-th of them) has v_i = r_i - i
    valid rows before it. The valid row at `rowid` k is preceded by the rejected lines
    with v_i <= k, so its number is k + 1 + (the largest such i): an ASOF join on v_i.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {extract.table} AS
            SELECT t.*, t.rowid + 1 + coalesce(s.before, 0) AS {INTERNAL_PREFIX}row
            FROM {extract.table} AS t
            ASOF LEFT JOIN (
                SELECT r - i AS valid_before, max(i) AS before
                FROM (
                    SELECT r, row_number() OVER (ORDER BY r) AS i
                    FROM (SELECT DISTINCT CAST(line AS BIGINT) - 1 AS r FROM {quote_identifier(extract.rejects)})
                )
                GROUP BY ALL
            ) AS s ON t.rowid >= s.valid_before"""
    )


def rejected_lines_sql(extract: Extract) -> str:
    """SQL: one row per CSV line the reader rejected, with `_source_row`, `_reason`, `_raw_line`.

    DuckDB records one entry per problem: a line with two fields too many has two
    (`Found: 7`, `Found: 8`), one with invalid UTF-8 in two fields two. They are
    collapsed to one reason per kind of problem, in the order found on the line. The
    placeholder of a record too long for the reader (`csv_records`) gets that reason and
    the start of the record's own text.
    """
    lines = _rejected_lines_sql(extract)
    if not extract.long_records:
        return lines
    width = len(extract.columns)
    long_records = ", ".join(
        f"({quote_literal(placeholder(i, width))}, "
        f"{quote_literal(long_record_reason(r.length))}, "
        f"{quote_literal(record_start_text(extract.path, r))})"
        for i, r in enumerate(extract.long_records)
    )
    return f"""
        SELECT r._source_row,
            CASE WHEN l.reason IS NULL THEN r._reason ELSE 'line ' || (r._source_row + 1) || ': ' || l.reason END
                AS _reason,
            coalesce(l.raw_line, r._raw_line) AS _raw_line
        FROM ({lines}) AS r
        LEFT JOIN (VALUES {long_records}) AS l(placeholder, reason, raw_line) ON r._raw_line = l.placeholder"""


def long_record_reason(length: int) -> str:
    return f"the record is {length:,} bytes long, longer than the {MAX_LINE_BYTES:,} bytes a CSV record may have"


def _rejected_lines_sql(extract: Extract) -> str:
    width = len(extract.columns)
    field_names = " ".join(f"WHEN {quote_literal(f)} THEN {quote_literal(n)}" for n, f in extract.columns.items())
    in_fields = (
        "coalesce(' in column ' || nullif(array_to_string(list_sort(list_distinct(list(field))), ', '), ''), '')"
    )
    return f"""
        SELECT line - 1 AS _source_row,
            'line ' || line || ': ' || string_agg(problem, '; ' ORDER BY first_at) AS _reason,
            arg_min(raw_line, first_at) AS _raw_line
        FROM (
            SELECT line, min(byte_position) AS first_at,
                arg_min(trim(csv_line, {LINE_BREAKS}), byte_position) AS raw_line,
                CASE
                    WHEN kind = 'TOO MANY COLUMNS' AND max(found) IS NOT NULL
                        THEN 'expected {width} fields, found ' || max(found)
                    WHEN kind = 'MISSING COLUMNS' AND min(found) IS NOT NULL
                        THEN 'expected {width} fields, found ' || min(found)
                    WHEN kind = 'UNQUOTED VALUE'
                        THEN 'unterminated quote (or text after a closing quote)' || {in_fields}
                    WHEN kind IN ('INVALID ENCODING', 'INVALID UNICODE')
                        THEN 'invalid UTF-8' || {in_fields}
                    ELSE string_agg(DISTINCT error_message, '; ')
                END AS problem
            FROM (
                SELECT CAST(line AS BIGINT) AS line, byte_position, csv_line, error_message,
                    CAST(error_type AS VARCHAR) AS kind,
                    TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT) AS found,
                    CASE column_name {field_names} END AS field
                FROM {quote_identifier(extract.rejects)}
            )
            GROUP BY line, kind
        )
        GROUP BY line"""
