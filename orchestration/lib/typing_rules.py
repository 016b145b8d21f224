"""The typing rules of docs/landing-contract.md as DuckDB SQL expressions.

Every landed value arrives as text (CSV read with `all_varchar`, Parquet cast to
VARCHAR), is trimmed (empty -> null) and then typed with the expression of its
contract type. Each expression yields the typed value, or NULL when the value cannot
be typed; a non-null value whose typed value is NULL is a contract breach and sends
the row to quarantine. These are the only typing rules: CSV and Parquet use them
alike.

A date or timestamp must also fall within the plausible years (setting
plausible_years, of the UTC value): year 0000 or 9999-12-31T23:59-14:00 (year 10000
in UTC) is a typo or a placeholder, not a date.

DuckDB's own casts are more lenient than the contract (`'2026/01/01'::DATE`,
`'1e400'::DOUBLE = inf`, `'+1.5'::BIGINT = 2`, and a cast to TIMESTAMP silently drops
a UTC offset), so every cast is guarded by a pattern of the contract's format, and
timestamps go through TIMESTAMPTZ (which honours the offset) before being converted
to a naive UTC TIMESTAMP.
"""

from __future__ import annotations

from orchestration.lib.contract import BOOLEAN_FALSE, BOOLEAN_TRUE, DUCKDB_TYPES, ColumnType

# Characters trimmed from both ends of every text value: ASCII white space, the
# no-break space (spreadsheet exports) and the zero-width no-break space (a stray BOM).
WHITESPACE = " \t\n\r\f\v\u00a0\ufeff"
_WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in WHITESPACE) + "]"
# A value that starts or ends with white space (checked first: trimming with a set of
# characters is several times slower than this test, and most values need none).
_NEEDS_TRIM = f"^{_WHITESPACE_CLASS}|{_WHITESPACE_CLASS}$"

# Formats the contract accepts (full match).
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# ISO 8601: a date alone, or a date and time (seconds and fraction optional) with an
# optional offset (Z, +hh, +hhmm, +hh:mm). Without an offset the time is UTC.
TIME_PATTERN = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
# An offset is at most 14 hours (UTC+14 is the furthest any zone is), minutes 00-59.
OFFSET_PATTERN = r"[Zz]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?"
TIMESTAMP_PATTERN = DATE_PATTERN + rf"([Tt ]{TIME_PATTERN}({OFFSET_PATTERN})?)?"
# `.` as decimal separator, no thousands separators; an exponent is allowed.
DECIMAL_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
INTEGER_PATTERN = r"[+-]?[0-9]+"

# How a failure reads: "<column>: '<value>' is not <what>".
EXPECTED: dict[str, str] = {
    "timestamp": "an ISO 8601 timestamp",
    "date": "a date (YYYY-MM-DD)",
    "decimal": "a decimal",
    "boolean": "a boolean (true/false, 1/0, yes/no)",
    "integer": "an integer",
}


def quote_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def trimmed(expr: str) -> str:
    """`expr` as text, trimmed of surrounding white space; empty text becomes null."""
    text = f"CAST({expr} AS VARCHAR)"
    return (
        f"nullif(CASE WHEN regexp_matches({text}, {quote_literal(_NEEDS_TRIM)}) "
        f"THEN trim({text}, {quote_literal(WHITESPACE)}) ELSE {text} END, '')"
    )


def _full_match(value: str, pattern: str) -> str:
    return f"regexp_full_match({value}, {quote_literal(pattern)})"


def typed(value: str, type_: ColumnType) -> str:
    """SQL giving `value` (trimmed text or null) as `type_`, or NULL if it cannot be typed.

    Timestamps without an offset are read in the session's TimeZone, which the
    ingestion sets to UTC.
    """
    target = DUCKDB_TYPES[type_]
    if type_ == "text":
        return value
    if type_ == "timestamp":
        expr = (
            f"CASE WHEN {_full_match(value, TIMESTAMP_PATTERN)} "
            f"THEN timezone('UTC', TRY_CAST({value} AS TIMESTAMPTZ)) END"
        )
    elif type_ == "date":
        expr = f"CASE WHEN {_full_match(value, DATE_PATTERN)} THEN TRY_CAST({value} AS DATE) END"
    elif type_ == "decimal":
        number = f"TRY_CAST({value} AS DOUBLE)"
        expr = f"CASE WHEN {_full_match(value, DECIMAL_PATTERN)} AND isfinite({number}) THEN {number} END"
    elif type_ == "integer":
        expr = f"CASE WHEN {_full_match(value, INTEGER_PATTERN)} THEN TRY_CAST({value} AS BIGINT) END"
    elif type_ == "boolean":
        true_ = ", ".join(quote_literal(v) for v in BOOLEAN_TRUE)
        false_ = ", ".join(quote_literal(v) for v in BOOLEAN_FALSE)
        expr = f"CASE WHEN lower({value}) IN ({true_}) THEN true WHEN lower({value}) IN ({false_}) THEN false END"
    else:  # pragma: no cover - the contract allows no other type
        raise ValueError(f"unknown contract type {type_!r}")
    return f"CAST({expr} AS {target})"


def can_fail(type_: ColumnType) -> bool:
    """Whether a value of this type can be untypeable (text never is)."""
    return type_ != "text"


def _has_years(type_: ColumnType) -> bool:
    return type_ in ("timestamp", "date")


def _outside(typed_value: str, years: tuple[int, int]) -> str:
    return f"NOT (year({typed_value}) BETWEEN {years[0]} AND {years[1]})"


def failed(value: str, typed_value: str, type_: ColumnType, years: tuple[int, int]) -> str:
    """SQL that is true when a non-null value could not be typed, or is a date or
    timestamp outside the plausible `years` (first, last; of the UTC value)."""
    if _has_years(type_):
        return f"({value} IS NOT NULL AND ({typed_value} IS NULL OR {_outside(typed_value, years)}))"
    return f"({value} IS NOT NULL AND {typed_value} IS NULL)"


def failure_reason(column: str, value: str, typed_value: str, type_: ColumnType, years: tuple[int, int]) -> str:
    """SQL text of the reason a value of `column` failed, e.g. "amount: 'abc' is not a decimal"
    or "close_date: '0000-01-01' is outside the years 1900-2200 (setting plausible_years)"."""
    quoted = f"{quote_literal(column + ': ')} || '''' || {value} || ''''"
    not_typed = f"{quoted} || {quote_literal(' is not ' + EXPECTED[type_])}"
    if not _has_years(type_):
        return not_typed
    outside = f"{quoted} || {quote_literal(f' is outside the years {years[0]}-{years[1]} (setting plausible_years)')}"
    return f"CASE WHEN {typed_value} IS NULL THEN {not_typed} ELSE {outside} END"
