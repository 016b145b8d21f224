"""The extract files of an entity: finding them, reading their header, choosing their reader.

A CSV file's header row is read here, in Python (its first record, RFC 4180: at most
`MAX_LINE_BYTES` of the file), and the file is then read with exactly that many
columns, named by position, and no sniffing: DuckDB's sniffer refuses a whole file
when one line of it has a broken quote. Header names are normalised (an empty name
is DuckDB's `column<j>`); two names equal after normalising are refused.

A file that cannot be read as CSV at all (no readable header row, binary content the
reader gives up on) is a `SourceContractError` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.csv_records import LongRecord
from orchestration.lib.ingest.errors import SourceContractError
from orchestration.lib.ingest.file_store import StoredFile
from orchestration.lib.typing_rules import quote_identifier, quote_literal

EXTRACT_SUFFIXES: dict[str, Literal["csv", "parquet"]] = {".csv": "csv", ".parquet": "parquet"}

# Columns the ingestion adds; a landed column may not use these names.
METADATA_COLUMNS = ("_source_file", "_source_row", "_loaded_at", "_column", "_reason", "_raw_line")

# Prefix of the helper columns and temporary tables used while ingesting.
INTERNAL_PREFIX = "_ingest_"

GLOB_CHARACTERS = "*?["

# The longest CSV record (bytes, without its line break) the reader is given: a longer
# record is quarantined (`long_records`), a longer header refused. The reader's own
# `max_line_size` is set to it.
MAX_LINE_BYTES = 2_097_152

# The header record at the start of a CSV file: unquoted bytes other than a line break,
# and quoted runs (which may hold line breaks; an escaped quote `""` is two such runs).
_HEADER_RECORD = re.compile(rb'(?:[^"\r\n]+|"[^"]*")*')

# DuckDB errors that mean a landed file cannot be read as an extract.
READ_ERRORS = (
    duckdb.InvalidInputException,
    duckdb.IOException,
    duckdb.BinderException,
    duckdb.ConversionException,
)


@dataclass(frozen=True)
class Extract:
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
    # CSV: the file's data records counted without the reader (csv_records), the records
    # too long for the reader, and the copy the reader reads when there are any
    records: int | None = None
    long_records: tuple[LongRecord, ...] = ()
    read_path: Path | None = None

    @property
    def row_number_sql(self) -> str:
        """SQL giving the 1-based data-row number of a row of `table`.

        A CSV file with rejected lines gets an explicit row number (`rejected_lines` explains why).
        """
        return "rowid + 1" if self.format == "csv" and not self.rejected else f"{INTERNAL_PREFIX}row"

    def slot(self, kind: str, name: str) -> str:
        """Helper column of `name` while typing: o original, v trimmed, t typed.

        Extra columns keep their `v` name in the typed table, so that a landed column
        called e.g. `rowid` cannot shadow DuckDB's row id there.
        """
        return f"{INTERNAL_PREFIX}{kind}{self.file_columns.index(name)}"


def extract_files(folder: Path, landing_dir: Path | None = None) -> list[Path]:
    """The extract files of an entity folder, sorted by name in byte order.

    Files with another extension, hidden files (name starting with `.`) and
    sub-folders are ignored. With `landing_dir`, a symbolic link (the folder or a file)
    must stay inside it: one that leads out of it, or to nothing, is refused
    (`SourceContractError` naming link and target) rather than read or skipped.
    """
    if landing_dir is not None:
        check_link(folder, landing_dir)
    candidates = [p for p in folder.iterdir() if p.suffix.lower() in EXTRACT_SUFFIXES and not p.name.startswith(".")]
    if landing_dir is not None:
        for path in candidates:
            check_link(path, landing_dir)
    return sorted((p for p in candidates if p.is_file()), key=lambda p: p.name.encode())


def check_link(path: Path, landing_dir: Path) -> None:
    """Refuse a path that, through a symbolic link on the way, leaves `landing_dir` or leads nowhere."""
    root = landing_dir.resolve()
    target = path.resolve()
    name = path.relative_to(landing_dir) if path.is_relative_to(landing_dir) else path
    if not target.exists():
        raise SourceContractError(f"{name} is a link to {target}, which does not exist; remove or fix the link")
    if not target.is_relative_to(root):
        raise SourceContractError(
            f"{name} is a link to {target}, outside the landing folder {root}; "
            "copy the extract into the landing folder instead"
        )


def is_dated(name: str) -> bool:
    """Whether a file name begins with an ISO date (`2026-11-26.csv`, `2026-11-26T0200.parquet`)."""
    try:
        dt.date.fromisoformat(name[:10])
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", name[:10]) is not None


def undated_name_warning(entity: Entity, path: Path) -> str:
    return (
        f"{entity.folder}: file {path.name}: the name does not begin with an extract date (YYYY-MM-DD); "
        "files are read in name order, so it wins every key it shares with a file whose name sorts before it"
    )


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
        f"encoding = 'utf-8', strict_mode = true, null_padding = false, max_line_size = {MAX_LINE_BYTES}, "
        f"store_rejects = true, rejects_table = {quote_literal(rejects)}, "
        f"rejects_scan = {quote_literal(scans)}, rejects_limit = 0)"
    )


def _parquet_reader_sql(path: Path) -> str:
    return f"read_parquet({quote_literal(str(path))}, file_row_number = true)"


def reader_sql(extract: Extract) -> str:
    """The DuckDB reader of one extract file."""
    if extract.format == "csv":
        path = extract.read_path or extract.path
        return _csv_reader_sql(path, len(extract.columns), extract.rejects, extract.scans)
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


def _parquet_column_names(path: Path, where: str) -> list[str]:
    """The top-level column names as the Parquet file writes them.

    DuckDB's reader renames a column whose name differs from an earlier one only by
    case (`invoice_line_id` after `Invoice_Line_ID` reads as `invoice_line_id_1`), so
    the duplicate would pass unseen; the names are read from the file's schema instead,
    in the reader's order.
    """
    import pyarrow
    import pyarrow.parquet

    try:
        return list(pyarrow.parquet.read_schema(path).names)
    except (pyarrow.ArrowException, OSError) as error:
        raise SourceContractError(f"{where} cannot be read: {error}") from error


def _unnamed(position: int, width: int) -> str:
    """DuckDB's name for a header field without a name, e.g. `column03`."""
    return f"column{position:0{len(str(width - 1))}d}"


def read_error(where: str, error: Exception) -> SourceContractError:
    detail = str(error).split("\nPossible fixes")[0].strip()
    return SourceContractError(f"{where} cannot be read: {detail}")


def open_extract(con: duckdb.DuckDBPyConnection, entity: Entity, index: int, path: Path, name: str) -> Extract:
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
        except READ_ERRORS as error:
            raise read_error(where, error) from error
        read_names = [row[0] for row in described]
        read_names.remove("file_row_number")  # added by the reader
        names = _parquet_column_names(path, where)
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
    return Extract(index, path, name, format_, columns, file_columns, extras, table, rejects, scans)


def extra_columns(files: Sequence[StoredFile]) -> list[str]:
    """Columns not in the contract, in order of first appearance over the files (in read order)."""
    extras: list[str] = []
    for file in files:
        extras += [name for name in file.extras if name not in extras]
    return extras


def drop_rejects_tables(con: duckdb.DuckDBPyConnection, extract: Extract) -> None:
    for name in (extract.rejects, extract.scans):
        con.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
