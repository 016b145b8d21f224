"""One entity's ingest from start to end, and the transaction that writes its tables.

In one transaction: the files not read before are read into the store (`file_store`),
and from the store `raw.<entity>`, `quarantine.<entity>`, this entity's rows of
`raw._key_conflicts` and `raw._ingest_log` are replaced, and the row accounting is
checked; a mismatch or a file that cannot be read rolls everything back (the store
included). Temporary tables live only during the call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.contract import DUCKDB_TYPES, Entity
from orchestration.lib.ingest.append import append_files, can_append
from orchestration.lib.ingest.errors import SourceContractError
from orchestration.lib.ingest.extracts import (
    INTERNAL_PREFIX,
    Extract,
    check_link,
    drop_rejects_tables,
    extra_columns,
    extract_files,
    is_dated,
    open_extract,
    undated_name_warning,
)
from orchestration.lib.ingest.file_store import (
    Fingerprint,
    StoredFile,
    add_extra_columns,
    create_store,
    fingerprints,
    forget_entity,
    plan_reads,
    read_rules,
    record_file,
    stored_files,
    valid_table,
)
from orchestration.lib.ingest.latest_wins import (
    CONFLICTS_TABLE,
    WorkTables,
    find_contested_rows,
    record_key_conflicts,
    write_raw_rows,
)
from orchestration.lib.ingest.quarantine import store_quarantined_rows, write_quarantined_rows
from orchestration.lib.ingest.results import FileCounts, IngestResult
from orchestration.lib.ingest.row_accounting import count_rows
from orchestration.lib.ingest.snapshots import SNAPSHOT_ENTITIES, write_snapshots
from orchestration.lib.ingest.typed_rows import load_typed_rows
from orchestration.lib.typing_rules import quote_identifier
from orchestration.settings import DEFAULT_PLAUSIBLE_YEARS

LOG_TABLE = "raw._ingest_log"
SCHEMAS = ("raw", "quarantine")


def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    landing_dir: Path,
    loaded_at: dt.datetime,
    years: tuple[int, int] = DEFAULT_PLAUSIBLE_YEARS,
    full: bool = False,
) -> IngestResult:
    """(Re)build `raw.<entity>` and `quarantine.<entity>` from `landing_dir/<source>/<entity>/`.

    Reads every `*.csv` and `*.parquet` file of the folder in byte order of the file
    names (later files win a key). A missing optional folder (or one without extract
    files) gives empty tables. Raises `SourceContractError` for a missing required
    folder, a required folder without extract files, a file without a required column
    and a file that cannot be read. A date or timestamp outside `years` (setting
    plausible_years) is quarantined.

    Only files not read before are read (`file_store`); with `full`, every file is.
    """
    folder = Path(landing_dir) / entity.source / entity.name
    if folder.is_symlink():
        check_link(folder, Path(landing_dir))
    if not folder.is_dir():
        if entity.optional:
            return _ingest(con, entity, [], loaded_at, years, full=full)
        raise SourceContractError(f"{entity.folder}: required folder {folder} is missing")
    files = extract_files(folder, Path(landing_dir))
    if not files and not entity.optional:
        raise SourceContractError(f"{entity.folder}: folder {folder} holds no extract file (*.csv or *.parquet)")
    named = [(path, f"{entity.folder}/{path.name}") for path in files]
    warnings = tuple(undated_name_warning(entity, path) for path in files if not is_dated(path.name))
    return _ingest(con, entity, named, loaded_at, years, warnings, full)


def ingest_file_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: Sequence[Path],
    loaded_at: dt.datetime,
    years: tuple[int, int] = DEFAULT_PLAUSIBLE_YEARS,
    full: bool = False,
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
    return _ingest(con, entity, list(zip(paths, names, strict=True)), loaded_at, years, full=full)


def _ingest(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: list[tuple[Path, str]],
    loaded_at: dt.datetime,
    years: tuple[int, int],
    warnings: tuple[str, ...] = (),
    full: bool = False,
) -> IngestResult:
    """Steps 1-3 (package docstring) in one transaction; temporary tables are dropped in any case."""
    loaded_at = _naive_utc(loaded_at)
    con.execute("SET TimeZone = 'UTC'")
    _create_shared_tables(con)
    create_store(con, entity)
    names = [name for _, name in files]
    rules = read_rules(entity, years)
    prints = fingerprints(con, entity, [path for path, _ in files])
    plan = plan_reads(con, entity, names, prints, rules, full)
    work = WorkTables(entity)
    extracts: list[Extract] = []
    try:
        # also keeps raw in (file, row) order
        with _insertion_order_preserved(con):
            # Read before the transaction: CSV row numbers are the temporary table's rowid,
            # which is not a row number for rows a transaction has not committed yet.
            for index in plan.to_read:
                path, name = files[index]
                extracts.append(open_extract(con, entity, index, path, name))  # dropped in any case
                extracts[-1] = load_typed_rows(con, entity, extracts[-1], years)
            con.begin()
            try:
                if not plan.skipped:
                    forget_entity(con, entity)
                for extract in extracts:
                    _store_file(con, entity, extract, prints[extract.index], rules, loaded_at)
                stored = stored_files(con, entity, names)
                extras = extra_columns(stored)
                new = {names[i] for i in plan.to_read}
                raw, quarantine = (f"{schema}.{quote_identifier(entity.qualified_name)}" for schema in SCHEMAS)
                if can_append(con, entity, stored, new, extras, raw, LOG_TABLE):
                    per_file, conflicts = append_files(
                        con, entity, stored, new, extras, work, raw, quarantine, LOG_TABLE, loaded_at
                    )
                else:
                    if stored:
                        find_contested_rows(con, entity, stored, extras, work)
                    per_file, conflicts = _write(con, entity, stored, extras, work, loaded_at)
                _write_log(con, entity, per_file, loaded_at)
                con.commit()
            except BaseException:
                con.rollback()
                raise
    finally:
        _drop_temporary_tables(con, work, extracts)
    return IngestResult(
        entity=entity.qualified_name,
        files=tuple(names),
        rows_read=sum(f.rows_read for f in per_file),
        rows_loaded=sum(f.rows_loaded for f in per_file),
        rows_quarantined=sum(f.rows_quarantined for f in per_file),
        duplicates_dropped=sum(f.duplicates_dropped for f in per_file),
        key_conflicts=conflicts,
        per_file=tuple(per_file),
        warnings=warnings,
        files_read=tuple(names[i] for i in plan.to_read),
        files_skipped=plan.skipped,
        reread=plan.reread,
    )


def _store_file(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extract: Extract,
    print_: Fingerprint,
    rules: str,
    read_at: dt.datetime,
) -> None:
    """A file's typed rows and quarantined rows into the store, with its fingerprint."""
    add_extra_columns(con, entity, extract.extras)
    columns = [quote_identifier(n) for n in entity.column_names] + [
        f"{extract.slot('v', n)} AS {quote_identifier(n)}" for n in extract.extras
    ]
    con.execute(
        f"""INSERT INTO {valid_table(entity)} BY NAME
            SELECT ? AS _source_file, {extract.row_number_sql} AS _source_row, {", ".join(columns)}
            FROM {extract.table} WHERE {INTERNAL_PREFIX}reason IS NULL""",
        [extract.name],
    )
    store_quarantined_rows(con, entity, extract)
    # a CSV file's records as counted without the reader (csv_records)
    rows_read = extract.records
    if rows_read is None:
        rows_read = con.execute(f"SELECT count(*) FROM {extract.table}").fetchone()[0]
    record_file(con, entity, extract.name, print_, rows_read, extract.extras, rules, read_at)


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


def _write(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: list[StoredFile],
    extras: list[str],
    work: WorkTables,
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
    if not files:
        if entity in SNAPSHOT_ENTITIES:
            write_snapshots(con, entity, files, work, loaded_at)
        return [], 0

    write_quarantined_rows(con, entity, files, extras, quarantine, loaded_at)
    write_raw_rows(con, entity, extras, work, raw, loaded_at)
    if entity in SNAPSHOT_ENTITIES:
        write_snapshots(con, entity, files, work, loaded_at)
    conflicts = record_key_conflicts(con, entity, work)
    return count_rows(con, entity, files, work, raw, quarantine), conflicts


def _write_log(
    con: duckdb.DuckDBPyConnection, entity: Entity, per_file: list[FileCounts], loaded_at: dt.datetime
) -> None:
    con.execute(f"DELETE FROM {LOG_TABLE} WHERE entity = ?", [entity.qualified_name])
    if not per_file:
        return
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


def _drop_temporary_tables(con: duckdb.DuckDBPyConnection, work: WorkTables, extracts: list[Extract]) -> None:
    for kind, name in work.all():
        con.execute(f"DROP {kind} IF EXISTS {name}")
    for extract in extracts:
        con.execute(f"DROP TABLE IF EXISTS {extract.table}")
        drop_rejects_tables(con, extract)
