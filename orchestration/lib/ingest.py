"""Landed extract files -> `raw.<entity>` and `quarantine.<entity>` (SOURCES.md).

One entity at a time, as a full refresh: every `*.csv` and `*.parquet` file of the
entity's folder is read with DuckDB's own readers, typed by the rules of
`typing_rules`, deduplicated across repeated extracts and written to the work
database. All of it runs as SQL inside DuckDB; Python only writes the statements and
reads back a few counts.

Steps (temporary tables live only during the call):

1. Per file, one pass: read it as text, trim, type every contract column and note
   which values could not be typed -> a temporary table of typed rows (plus, for rows
   that failed, their original values). A CSV line that is not a record of the file's
   header (too many or too few fields, a broken quote, invalid UTF-8, longer than
   DuckDB's maximum line size) is set aside by DuckDB's CSV rejects machinery
   (`store_rejects`) into a temporary rejects table, and the rest of the file loads.
2. Keys seen more than once across all files (or with a null key column) -> the only
   rows that need deduplication. Those rows are collapsed to distinct versions per
   file and the file whose name sorts last wins each key.
3. In one transaction: `raw.<entity>`, `quarantine.<entity>`, this entity's rows of
   `raw._key_conflicts` and `raw._ingest_log` are replaced, and the row accounting
   (read = loaded + quarantined + duplicates, per file; rows read include the rejected
   CSV lines) is checked; a mismatch rolls everything back and raises
   `RowAccountingError`.

A rejected CSV line is quarantined with `_source_row`, `_column` null, `_reason` such as
"line 7: expected 6 fields, found 8" and `_raw_line`, the line's text as DuckDB read it
(invalid UTF-8 bytes shown as `?`, at most DuckDB's first 10,000 characters); its
values are null. A file that cannot be read as CSV at all (no readable header row,
binary content the reader gives up on) is still a `SourceContractError` naming the
file, and so is one with a quote that is not closed on its line: the reader takes the
lines after it, up to the next quote or the end of the file, for part of the value,
so they would be lost inside one rejected "line".

Row numbers: `_source_row` is the 1-based data-row number within its file (header
excluded). For a CSV file in which no field spans lines and no line is blank (the
reader skips blank lines), the line number in the file is `_source_row + 1`.
DuckDB 2.0's CSV reader has no row-number option (`file_row_number` is refused for
CSV, and `row_number() OVER ()` forces the whole read onto one thread), so each CSV
file is read in parallel into a fresh temporary table with `preserve_insertion_order`
on: DuckDB then appends the rows in file order, so the table's `rowid` + 1 is the
row number. Parquet files use the reader's `file_row_number`. The tests check both
against an id column on multi-threaded reads.

A rejected CSV line has DuckDB's line number `line` (the header is line 1; a record
whose quoted field spans lines counts once), so its row number is `line - 1`, and the
rows after it move up: when a file has rejected lines, its typed table gets an explicit
row number, `rowid + 1` plus the number of rejected lines before the row (an ASOF join
on the count of valid rows before each rejected line). DuckDB's `line` also counts
the blank lines the reader skips, which data-row numbers do not, and the reader tells
nothing about where they are: in a file with B blank lines before a rejected line, that
line's `_source_row` (and "line" in its reason) is B higher and the B rows that follow
it are numbered one lower. The numbers stay unique; only those rows swap places.

The CSV header row is read here, in Python (its first record, RFC 4180: at most
`MAX_LINE_BYTES` of the file), and the file is then read with exactly that many
columns, named by position, and no sniffing: DuckDB's sniffer refuses a whole file
when one line of it has a broken quote. Header names are normalised as before (an
empty name is DuckDB's `column<j>`); two names equal after normalising are refused.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from orchestration.lib.contract import DUCKDB_TYPES, Entity
from orchestration.lib.typing_rules import (
    can_fail,
    failed,
    failure_reason,
    quote_identifier,
    quote_literal,
    trimmed,
    typed,
)

EXTRACT_SUFFIXES: dict[str, Literal["csv", "parquet"]] = {".csv": "csv", ".parquet": "parquet"}
# Columns the ingestion adds; a landed column may not use these names.
METADATA_COLUMNS = ("_source_file", "_source_row", "_loaded_at", "_column", "_reason", "_raw_line")
# Prefix of the helper columns and temporary tables used while ingesting.
INTERNAL_PREFIX = "_ingest_"
GLOB_CHARACTERS = "*?["
# DuckDB's default `max_line_size`: a longer CSV line is rejected; a longer header refused.
MAX_LINE_BYTES = 2_097_152
# The header record at the start of a CSV file: unquoted bytes other than a line break,
# and quoted runs (which may hold line breaks; an escaped quote `""` is two such runs).
_HEADER_RECORD = re.compile(rb'(?:[^"\r\n]+|"[^"]*")*')
# SQL: the characters trimmed from the ends of a rejected line's text (its line break).
_LINE_BREAKS = "chr(13) || chr(10)"

LOG_TABLE = "raw._ingest_log"
CONFLICTS_TABLE = "raw._key_conflicts"

# DuckDB errors that mean a landed file cannot be read as an extract.
_READ_ERRORS = (
    duckdb.InvalidInputException,
    duckdb.IOException,
    duckdb.BinderException,
    duckdb.ConversionException,
)


class SourceContractError(Exception):
    """The landed files break the source contract (missing folder, file or column, unreadable)."""


class RowAccountingError(RuntimeError):
    """Rows read did not equal rows loaded + quarantined + dropped as duplicates."""


@dataclass(frozen=True)
class FileCounts:
    """The row accounting of one extract file."""

    source_file: str
    rows_read: int  # records read, including CSV lines the reader rejected
    rows_loaded: int
    rows_quarantined: int
    duplicates_dropped: int


@dataclass(frozen=True)
class IngestResult:
    """What one ingest of an entity did; per_file holds the same counts per file."""

    entity: str  # qualified name, e.g. "crm__opportunities"
    files: tuple[str, ...]  # files read, in order (as in _source_file)
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    duplicates_dropped: int  # identical rows counted once + rows superseded by a later file
    key_conflicts: int  # (key, file) pairs where one file holds a key with different values
    per_file: tuple[FileCounts, ...] = ()


@dataclass(frozen=True)
class _Extract:
    """One extract file, its columns and the temporary table of its typed rows."""

    index: int  # position in read order; the highest index wins a key
    path: Path
    name: str  # as recorded in _source_file
    format: Literal["csv", "parquet"]
    columns: dict[str, str]  # normalised column name -> name as the reader returns it
    # The file's columns numbered: its contract columns in contract order, then its
    # extra columns in file order.
    file_columns: tuple[str, ...]
    extras: tuple[str, ...]  # the columns not in the contract
    table: str
    # CSV: DuckDB's temporary tables of rejected lines and of their scan (unquoted names)
    rejects: str
    scans: str
    rejected: int = 0  # CSV lines rejected by the reader; known once the file is read

    @property
    def row_number_sql(self) -> str:
        """SQL giving the 1-based data-row number of a row of `table`.

        A CSV file with rejected lines gets an explicit row number (module docstring).
        """
        return "rowid + 1" if self.format == "csv" and not self.rejected else f"{INTERNAL_PREFIX}row"

    def slot(self, kind: str, name: str) -> str:
        """Helper column of `name` while typing: o original, v trimmed, t typed.

        Extra columns keep their `v` name in the typed table, so that a landed column
        called e.g. `rowid` cannot shadow DuckDB's row id there.
        """
        return f"{INTERNAL_PREFIX}{kind}{self.file_columns.index(name)}"


# -- public API ------------------------------------------------------------


def ingest_entity(
    con: duckdb.DuckDBPyConnection, entity: Entity, landing_dir: Path, loaded_at: dt.datetime
) -> IngestResult:
    """(Re)build `raw.<entity>` and `quarantine.<entity>` from `landing_dir/<source>/<entity>/`.

    Reads every `*.csv` and `*.parquet` file of the folder in byte order of the file
    names (later files win a key). A missing optional folder (or one without extract
    files) gives empty tables. Raises `SourceContractError` for a missing required
    folder, a required folder without extract files, a file without a required column
    and a file that cannot be read.
    """
    folder = Path(landing_dir) / entity.source / entity.name
    if not folder.is_dir():
        if entity.optional:
            return _ingest(con, entity, [], loaded_at)
        raise SourceContractError(f"{entity.folder}: required folder {folder} is missing")
    files = extract_files(folder)
    if not files and not entity.optional:
        raise SourceContractError(f"{entity.folder}: folder {folder} holds no extract file (*.csv or *.parquet)")
    named = [(path, f"{entity.folder}/{path.name}") for path in files]
    return _ingest(con, entity, named, loaded_at)


def ingest_file_entity(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: Sequence[Path], loaded_at: dt.datetime
) -> IngestResult:
    """Like `ingest_entity`, for files named directly (the stage mapping CSV).

    The files are read in the order given (a later file wins a key); `_source_file` is
    the file's name.
    """
    if not files:
        raise SourceContractError(f"{entity.folder}: no extract file given")
    for path in files:
        if not Path(path).is_file():
            raise SourceContractError(f"{entity.folder}: file {path} does not exist")
    paths = [Path(p) for p in files]
    names = [p.name for p in paths]
    if len(set(names)) < len(names):  # same name in different folders: the whole path
        names = [str(p) for p in paths]
    return _ingest(con, entity, list(zip(paths, names, strict=True)), loaded_at)


def extract_files(folder: Path) -> list[Path]:
    """The extract files of an entity folder, sorted by name in byte order.

    Files with another extension, hidden files (name starting with `.`) and
    sub-folders are ignored.
    """
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXTRACT_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: p.name.encode())


# -- the ingest ------------------------------------------------------------


def _ingest(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: list[tuple[Path, str]],
    loaded_at: dt.datetime,
) -> IngestResult:
    """Steps 1-3 of the module docstring; temporary tables are dropped in any case."""
    loaded_at = _naive_utc(loaded_at)
    con.execute("SET TimeZone = 'UTC'")
    _create_shared_tables(con)
    extracts: list[_Extract] = []
    work = _WorkTables(entity)
    try:
        # also keeps raw in (file, row) order
        with _insertion_order_preserved(con):
            for index, (path, name) in enumerate(files):
                extracts.append(_open_extract(con, entity, index, path, name))  # dropped in any case
                extracts[-1] = _load_typed_rows(con, entity, extracts[-1])
            extras = _extra_columns(entity, extracts)
            if extracts:
                _find_contested_rows(con, entity, extracts, extras, work)
            con.begin()
            try:
                per_file, conflicts = _write(con, entity, extracts, extras, work, loaded_at)
                con.commit()
            except BaseException:
                con.rollback()
                raise
    finally:
        _drop_temporary_tables(con, work, extracts)
    return IngestResult(
        entity=entity.qualified_name,
        files=tuple(e.name for e in extracts),
        rows_read=sum(f.rows_read for f in per_file),
        rows_loaded=sum(f.rows_loaded for f in per_file),
        rows_quarantined=sum(f.rows_quarantined for f in per_file),
        duplicates_dropped=sum(f.duplicates_dropped for f in per_file),
        key_conflicts=conflicts,
        per_file=tuple(per_file),
    )


@dataclass(frozen=True)
class _WorkTables:
    """Names of the temporary tables of one entity's ingest."""

    entity: Entity

    def _name(self, what: str) -> str:
        return quote_identifier(f"{INTERNAL_PREFIX}{self.entity.qualified_name}_{what}")

    @property
    def valid(self) -> str:  # view: every typed row of every file, not quarantined
        return self._name("valid")

    @property
    def keys(self) -> str:  # non-null keys on more than one row, with the winning file
        return self._name("keys")

    @property
    def decided(self) -> str:  # versions of repeated keys and null keys, with the winner
        return self._name("decided")

    def all(self) -> tuple[tuple[str, str], ...]:
        return (("VIEW", self.valid), ("TABLE", self.decided), ("TABLE", self.keys))


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


@contextmanager
def _insertion_order_preserved(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Row numbers of CSV files rely on insertion order; turn it on if it was off."""
    was_on = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    if was_on:
        yield
        return
    con.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute("SET preserve_insertion_order = false")


def _create_shared_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {LOG_TABLE} (
            entity VARCHAR, source_file VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
            rows_quarantined BIGINT, duplicates_dropped BIGINT, loaded_at TIMESTAMP)"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {CONFLICTS_TABLE} (
            entity VARCHAR, key_value VARCHAR, source_file VARCHAR, rows BIGINT)"""
    )


# -- step 1: read and type each file ----------------------------------------


def _normalise(name: str) -> str:
    return name.strip().lower()


def _csv_field(position: int) -> str:
    """The reader's name of the CSV field at 0-based `position`."""
    return f"{INTERNAL_PREFIX}csv{position}"


def _csv_reader_sql(path: Path, width: int, rejects: str, scans: str) -> str:
    """DuckDB's CSV reader of a file whose header has `width` fields, as text.

    The RFC 4180 dialect is fixed and nothing is sniffed; in particular `comment` and
    `skip` are pinned, because the sniffer otherwise may take `#` for a comment
    character and silently drop every row starting with it. The header row is skipped
    (its names were read by `_csv_header`); every field is named by its position. A line
    that is not a record of `width` fields is skipped and recorded in the temporary
    table `rejects` (all of them: no `rejects_limit`).
    """
    columns = ", ".join(f"{quote_literal(_csv_field(j))}: 'VARCHAR'" for j in range(width))
    return (
        f"read_csv({quote_literal(str(path))}, header = true, auto_detect = false, columns = {{{columns}}}, "
        "delim = ',', quote = '\"', escape = '\"', comment = '', skip = 0, "
        "encoding = 'utf-8', strict_mode = true, null_padding = false, "
        f"store_rejects = true, rejects_table = {quote_literal(rejects)}, "
        f"rejects_scan = {quote_literal(scans)}, rejects_limit = 0)"
    )


def _parquet_reader_sql(path: Path) -> str:
    return f"read_parquet({quote_literal(str(path))}, file_row_number = true)"


def _reader_sql(extract: _Extract) -> str:
    """The DuckDB reader of one extract file."""
    if extract.format == "csv":
        return _csv_reader_sql(extract.path, len(extract.columns), extract.rejects, extract.scans)
    return _parquet_reader_sql(extract.path)


def _csv_header(path: Path, where: str) -> list[str]:
    """The names in the header row of a CSV file: its first record (RFC 4180, UTF-8).

    Only the start of the file is read. A byte order mark is dropped, as DuckDB does.
    """
    try:
        with path.open("rb") as file:
            start = file.read(MAX_LINE_BYTES + 1)
    except OSError as error:
        raise SourceContractError(f"{where} cannot be read: {error}") from error
    start = start.removeprefix(codecs.BOM_UTF8)
    record = _HEADER_RECORD.match(start).group()  # always matches, perhaps nothing
    after = start[len(record) :]
    if after.startswith(b'"'):
        raise SourceContractError(f"{where} cannot be read: the header row has an unterminated quote")
    if not after and len(start) > MAX_LINE_BYTES:
        raise SourceContractError(f"{where} cannot be read: the header row is longer than {MAX_LINE_BYTES} bytes")
    try:
        text = record.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceContractError(
            f"{where} cannot be read: the header row is not valid UTF-8 (is it a CSV file?)"
        ) from error
    try:
        names = next(csv.reader([text], strict=True))
    except csv.Error as error:
        raise SourceContractError(f"{where} cannot be read: the header row is malformed: {error}") from error
    if not names:
        raise SourceContractError(f"{where} cannot be read: the first line is empty, not a header row")
    return names


def _unnamed(position: int, width: int) -> str:
    """DuckDB's name for a header field without a name, e.g. `column03`."""
    return f"column{position:0{len(str(width - 1))}d}"


def _read_error(where: str, error: Exception) -> SourceContractError:
    detail = str(error).split("\nPossible fixes")[0].strip()
    return SourceContractError(f"{where} cannot be read: {detail}")


def _open_extract(con: duckdb.DuckDBPyConnection, entity: Entity, index: int, path: Path, name: str) -> _Extract:
    """Read a file's header and check it against the contract."""
    where = f"{entity.folder}: file {path.name}"
    if any(c in str(path) for c in GLOB_CHARACTERS):
        raise SourceContractError(
            f"{where}: the path {path} contains one of {GLOB_CHARACTERS!r}, "
            "which DuckDB's readers would treat as a pattern; rename it"
        )
    if path.stat().st_size == 0:
        raise SourceContractError(f"{where} is empty (not even a header row)")
    format_ = EXTRACT_SUFFIXES[path.suffix.lower()]
    if format_ == "csv":
        header = _csv_header(path, where)
        names = [_normalise(n) or _unnamed(j, len(header)) for j, n in enumerate(header)]
        read_names = [_csv_field(j) for j in range(len(header))]
    else:
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {_parquet_reader_sql(path)}").fetchall()
        except _READ_ERRORS as error:
            raise _read_error(where, error) from error
        read_names = [row[0] for row in described]
        read_names.remove("file_row_number")  # added by the reader
        names = read_names
    columns: dict[str, str] = {}
    for column_name, read_name in zip(names, read_names, strict=True):
        key = _normalise(column_name)
        if key in columns:
            raise SourceContractError(f"{where} has the column {key!r} more than once")
        if key in METADATA_COLUMNS or key.startswith(INTERNAL_PREFIX):
            raise SourceContractError(f"{where} has a column named {key!r}, a reserved name")
        columns[key] = read_name
    for required in entity.required_columns:
        if required not in columns:
            raise SourceContractError(f"{where} has no column {required!r} (required)")
    extras = tuple(n for n in columns if n not in entity.column_names)
    file_columns = tuple(n for n in entity.column_names if n in columns) + extras
    base = f"{INTERNAL_PREFIX}{entity.qualified_name}_f{index}"
    table, rejects, scans = quote_identifier(base), f"{base}_rejects", f"{base}_scans"
    return _Extract(index, path, name, format_, columns, file_columns, extras, table, rejects, scans)


def _load_typed_rows(con: duckdb.DuckDBPyConnection, entity: Entity, extract: _Extract) -> _Extract:
    """One pass over the file -> a temporary table of typed rows; the extract, with the
    number of rejected CSV lines.

    Columns: the contract columns typed (null where the file lacks them), the file's
    extra columns (trimmed text, named `_ingest_v<j>`), `_ingest_column` and
    `_ingest_reason` (null unless a value could not be typed), `_ingest_original` (the
    row's values as read, only for rows that failed) and, for Parquet and for a CSV
    file with rejected lines, `_ingest_row` (the 1-based row number).
    """
    e = extract
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
            failures.append((c.name, failed(v, t), failure_reason(c.name, v, c.type)))
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
        CREATE OR REPLACE TEMP TABLE {extract.table} AS
        SELECT {", ".join(out)}
        FROM (
            SELECT *, {checks}
            FROM (
                SELECT *{typed_cols}
                FROM (
                    SELECT *, {trim}
                    FROM (SELECT {read} FROM {_reader_sql(e)})
                )
            )
        )
    """
    if e.format == "csv":  # DuckDB appends to an existing rejects table
        _drop_rejects_tables(con, e)
    try:
        con.execute(sql)
    except _READ_ERRORS as error:
        raise _read_error(f"{entity.folder}: file {extract.path.name}", error) from error
    if e.format == "parquet":
        return e
    rejects = quote_identifier(e.rejects)
    rejected = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchone()[0]
    if not rejected:
        return e
    runaway = con.execute(
        f"""SELECT min(line) FROM (SELECT line, trim(csv_line, {_LINE_BREAKS}) AS text FROM {rejects}
            WHERE CAST(error_type AS VARCHAR) = 'UNQUOTED VALUE')
            WHERE contains(text, chr(10)) OR contains(text, chr(13))"""
    ).fetchone()[0]
    if runaway is not None:
        raise SourceContractError(
            f"{entity.folder}: file {e.path.name} cannot be read: line {runaway} has a quote that is not "
            "closed properly, and the reader took the lines after it (up to the next quote or the end "
            "of the file) for part of its value; correct the quoting"
        )
    _number_rows_around_rejected_lines(con, e)
    return dataclasses.replace(e, rejected=rejected)


def _number_rows_around_rejected_lines(con: duckdb.DuckDBPyConnection, extract: _Extract) -> None:
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


def _rejected_lines_sql(extract: _Extract) -> str:
    """SQL: one row per CSV line the reader rejected, with `_source_row`, `_reason`, `_raw_line`.

    DuckDB records one entry per problem: a line with two fields too many has two
    (`Found: 7`, `Found: 8`), one with invalid UTF-8 in two fields two. They are
    collapsed to one reason per kind of problem, in the order found on the line.
    """
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
                arg_min(trim(csv_line, {_LINE_BREAKS}), byte_position) AS raw_line,
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


def _extra_columns(entity: Entity, extracts: list[_Extract]) -> list[str]:
    """Columns not in the contract, in order of first appearance over the files."""
    extras: list[str] = []
    for extract in extracts:
        extras += [name for name in extract.extras if name not in extras]
    return extras


# -- step 2: find the rows that need deduplication -----------------------------


def _value_columns(entity: Entity, extras: list[str]) -> list[str]:
    return [*entity.column_names, *extras]


def _valid_rows_sql(entity: Entity, extracts: list[_Extract], extras: list[str]) -> str:
    """All rows of all files that were typed without failure, with their provenance."""
    parts = []
    for e in extracts:
        values = [quote_identifier(n) for n in entity.column_names] + [
            f"{e.slot('v', n) if n in e.columns else 'NULL::VARCHAR'} AS {quote_identifier(n)}" for n in extras
        ]
        parts.append(
            f"SELECT {e.index} AS {INTERNAL_PREFIX}fi, {quote_literal(e.name)} AS _source_file, "
            f"{e.row_number_sql} AS _source_row, {', '.join(values)} "
            f"FROM {e.table} WHERE {INTERNAL_PREFIX}reason IS NULL"
        )
    return "\nUNION ALL\n".join(parts)


def _key_match(left: str, right: str, key: Sequence[str]) -> str:
    return " AND ".join(f"{left}.{quote_identifier(k)} = {right}.{quote_identifier(k)}" for k in key)


def _key_is_null(entity: Entity, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return "(" + " OR ".join(f"{prefix}{quote_identifier(k)} IS NULL" for k in entity.key) + ")"


def _find_contested_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extracts: list[_Extract],
    extras: list[str],
    work: _WorkTables,
) -> None:
    """Find the keys seen on more than one row and decide which rows of them stay.

    `keys`: every (non-null) key on more than one valid row, with the file that wins
    it (`_ingest_win_fi`, the last) and whether some file holds it on more than one
    row (`_ingest_repeated`). Rows of a key that is not repeated need no comparison:
    the winning file's row stays, the others are superseded. This is the nightly
    case of full re-exports, so it is kept to narrow aggregations and joins.

    `decided`: the rows of repeated keys and the rows with a null key column (few),
    collapsed to one row per distinct version per file: `_ingest_n` rows of the file
    have exactly these values, the first of them at `_ingest_first_row`. With the
    winning file `_ingest_win_fi` and, per (key, file), the number of distinct
    versions `_ingest_versions` and rows `_ingest_rows`. Rows with a null key column
    are compared on all their values instead of the key, so only identical ones merge.
    """
    key_cols = ", ".join(quote_identifier(k) for k in entity.key)
    values = [quote_identifier(n) for n in _value_columns(entity, extras)]
    fi, win_fi, repeated = (f"{INTERNAL_PREFIX}{c}" for c in ("fi", "win_fi", "repeated"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {work.valid} AS {_valid_rows_sql(entity, extracts, extras)}")
    if len(extracts) == 1:
        per_key = f"""
            SELECT {key_cols}, max({fi}) AS {win_fi}, true AS {repeated}
            FROM {work.valid} WHERE NOT {_key_is_null(entity)}
            GROUP BY {key_cols} HAVING count(*) > 1"""
    else:
        per_key = f"""
            SELECT {key_cols}, max({fi}) AS {win_fi}, max(n) > 1 AS {repeated}
            FROM (
                SELECT {key_cols}, {fi}, count(*) AS n
                FROM {work.valid} WHERE NOT {_key_is_null(entity)}
                GROUP BY {key_cols}, {fi}
            )
            GROUP BY {key_cols} HAVING sum(n) > 1"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {work.keys} AS {per_key}")
    partition = ", ".join(
        [quote_identifier(k) for k in entity.key]
        + [
            f"CASE WHEN {_key_is_null(entity)} THEN {quote_identifier(n)} END"
            for n in _value_columns(entity, extras)
            if n not in entity.key
        ]
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {work.decided} AS
            SELECT *,
                max({fi}) OVER (PARTITION BY {partition}) AS {win_fi},
                count(*) OVER (PARTITION BY {partition}, {fi}) AS {INTERNAL_PREFIX}versions,
                sum({INTERNAL_PREFIX}n) OVER (PARTITION BY {partition}, {fi})
                    AS {INTERNAL_PREFIX}rows
            FROM (
                SELECT {fi}, _source_file, {", ".join(values)},
                    count(*) AS {INTERNAL_PREFIX}n,
                    min(_source_row) AS {INTERNAL_PREFIX}first_row
                FROM (
                    SELECT * FROM {work.valid} AS v
                    SEMI JOIN (SELECT * FROM {work.keys} WHERE {repeated}) AS k
                        ON {_key_match("v", "k", entity.key)}
                    UNION ALL
                    SELECT * FROM {work.valid} WHERE {_key_is_null(entity)}
                )
                GROUP BY ALL
            )"""
    )


# -- step 3: write raw, quarantine, conflicts and the log -----------------------


def _write(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extracts: list[_Extract],
    extras: list[str],
    work: _WorkTables,
    loaded_at: dt.datetime,
) -> tuple[list[FileCounts], int]:
    raw = f"raw.{quote_identifier(entity.qualified_name)}"
    quarantine = f"quarantine.{quote_identifier(entity.qualified_name)}"
    extra_defs = [f"{quote_identifier(n)} VARCHAR" for n in extras]
    raw_defs = [f"{quote_identifier(c.name)} {DUCKDB_TYPES[c.type]}" for c in entity.columns]
    con.execute(
        f"""CREATE OR REPLACE TABLE {raw} ({", ".join(raw_defs + extra_defs)},
            _source_file VARCHAR, _source_row BIGINT, _loaded_at TIMESTAMP)"""
    )
    quarantine_defs = [f"{quote_identifier(c.name)} VARCHAR" for c in entity.columns]
    con.execute(
        f"""CREATE OR REPLACE TABLE {quarantine} ({", ".join(quarantine_defs + extra_defs)},
            _source_file VARCHAR, _source_row BIGINT, _column VARCHAR, _reason VARCHAR,
            _raw_line VARCHAR, _loaded_at TIMESTAMP)"""
    )
    con.execute(f"DELETE FROM {CONFLICTS_TABLE} WHERE entity = ?", [entity.qualified_name])
    con.execute(f"DELETE FROM {LOG_TABLE} WHERE entity = ?", [entity.qualified_name])
    if not extracts:
        return [], 0

    for extract in extracts:
        _write_quarantined_rows(con, entity, extract, quarantine, loaded_at)
    _write_raw_rows(con, entity, extras, work, raw, loaded_at)
    conflicts = _record_key_conflicts(con, entity, work)
    per_file = _count_rows(con, entity, extracts, work, raw, quarantine)
    con.executemany(
        f"INSERT INTO {LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [
                entity.qualified_name,
                f.source_file,
                f.rows_read,
                f.rows_loaded,
                f.rows_quarantined,
                f.duplicates_dropped,
                loaded_at,
            ]
            for f in per_file
        ],
    )
    return per_file, conflicts


def _write_quarantined_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extract: _Extract,
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
        FROM ({_rejected_lines_sql(extract)})"""
        parameters += [extract.name, loaded_at]
    con.execute(f"INSERT INTO {quarantine} BY NAME {rows} ORDER BY _source_row", parameters)


def _write_raw_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extras: list[str],
    work: _WorkTables,
    raw: str,
    loaded_at: dt.datetime,
) -> None:
    """Rows of keys seen once, the winning row of keys not repeated within a file, and
    the winning versions of repeated keys and of rows with a null key column."""
    names = _value_columns(entity, extras)
    values = ", ".join(quote_identifier(n) for n in names)
    v_values = ", ".join(f"v.{quote_identifier(n)}" for n in names)
    fi, win_fi = f"{INTERNAL_PREFIX}fi", f"{INTERNAL_PREFIX}win_fi"
    con.execute(
        f"""INSERT INTO {raw} BY NAME
            SELECT {values}, _source_file, _source_row, ? AS _loaded_at
            FROM (
                SELECT v.{fi}, {v_values}, v._source_file, v._source_row
                FROM {work.valid} AS v LEFT JOIN {work.keys} AS k
                    ON {_key_match("v", "k", entity.key)}
                WHERE NOT {_key_is_null(entity, "v")}
                    AND (k.{win_fi} IS NULL
                         OR (NOT k.{INTERNAL_PREFIX}repeated AND v.{fi} = k.{win_fi}))
                UNION ALL
                SELECT {fi}, {values}, _source_file, {INTERNAL_PREFIX}first_row
                FROM {work.decided}
                WHERE {fi} = {win_fi}
            )
            ORDER BY {fi}, _source_row""",
        [loaded_at],
    )


def _record_key_conflicts(con: duckdb.DuckDBPyConnection, entity: Entity, work: _WorkTables) -> int:
    """Keys one file holds with different values -> raw._key_conflicts.

    `rows` is the number of (not quarantined) rows of that file carrying the key.
    """
    key_cols = ", ".join(quote_identifier(k) for k in entity.key)
    key_text = ", ".join(f"CAST({quote_identifier(k)} AS VARCHAR)" for k in entity.key)
    con.execute(
        f"""INSERT INTO {CONFLICTS_TABLE}
            SELECT ?, concat_ws('|', {key_text}), _source_file, max({INTERNAL_PREFIX}rows)
            FROM {work.decided}
            WHERE {INTERNAL_PREFIX}versions > 1 AND NOT {_key_is_null(entity)}
            GROUP BY {INTERNAL_PREFIX}fi, _source_file, {key_cols}
            ORDER BY {INTERNAL_PREFIX}fi, {key_cols}""",
        [entity.qualified_name],
    )
    recorded = con.execute(f"SELECT count(*) FROM {CONFLICTS_TABLE} WHERE entity = ?", [entity.qualified_name])
    return recorded.fetchone()[0]


def _count_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extracts: list[_Extract],
    work: _WorkTables,
    raw: str,
    quarantine: str,
) -> list[FileCounts]:
    """Count each term of the accounting from where the rows ended up, and check it.

    rows read (the typed table and the lines the CSV reader rejected), loaded (raw),
    quarantined (quarantine) and duplicates (identical copies + versions superseded by a
    later file) are counted independently, so a row lost or doubled by a bug makes the
    identity fail.
    """
    loaded = dict(con.execute(f"SELECT _source_file, count(*) FROM {raw} GROUP BY ALL").fetchall())
    quarantined = dict(con.execute(f"SELECT _source_file, count(*) FROM {quarantine} GROUP BY ALL").fetchall())
    fi, win_fi, n = (f"{INTERNAL_PREFIX}{c}" for c in ("fi", "win_fi", "n"))
    duplicates = dict(
        con.execute(
            f"""SELECT {fi}, sum(dropped) FROM (
                    SELECT v.{fi}, count(*) AS dropped
                    FROM {work.valid} AS v JOIN {work.keys} AS k
                        ON {_key_match("v", "k", entity.key)}
                    WHERE NOT k.{INTERNAL_PREFIX}repeated AND v.{fi} <> k.{win_fi}
                    GROUP BY ALL
                    UNION ALL
                    SELECT {fi}, sum({n}) - count(*) FILTER ({fi} = {win_fi})
                    FROM {work.decided} GROUP BY ALL
                ) GROUP BY ALL"""
        ).fetchall()
    )
    per_file = []
    for e in extracts:
        read = con.execute(f"SELECT count(*) FROM {e.table}").fetchone()[0] + e.rejected
        counts = FileCounts(
            source_file=e.name,
            rows_read=read,
            rows_loaded=loaded.get(e.name, 0),
            rows_quarantined=quarantined.get(e.name, 0),
            duplicates_dropped=int(duplicates.get(e.index, 0)),
        )
        accounted = counts.rows_loaded + counts.rows_quarantined + counts.duplicates_dropped
        if counts.rows_read != accounted:
            raise RowAccountingError(
                f"{e.name}: {counts.rows_read} rows read but {counts.rows_loaded} loaded + "
                f"{counts.rows_quarantined} quarantined + {counts.duplicates_dropped} "
                f"duplicates = {accounted}"
            )
        per_file.append(counts)
    return per_file


def _drop_temporary_tables(con: duckdb.DuckDBPyConnection, work: _WorkTables, extracts: list[_Extract]) -> None:
    for kind, name in work.all():
        con.execute(f"DROP {kind} IF EXISTS {name}")
    for extract in extracts:
        con.execute(f"DROP TABLE IF EXISTS {extract.table}")
        _drop_rejects_tables(con, extract)


def _drop_rejects_tables(con: duckdb.DuckDBPyConnection, extract: _Extract) -> None:
    for name in (extract.rejects, extract.scans):
        con.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
