"""Write, audit, publish: swap a new `published.duckdb` in whole.

The marts of the work database are copied into a new file beside the published
one, the publication record is appended, the new file is checkpointed, closed and
fsynced, and only then renamed over the old one. A reader holding the old file
keeps reading it (it keeps its inode); a failure at any point before the rename
leaves the old file untouched.

The new file is written in the storage format of the setting published_storage_version
(by default DuckDB 1.4's), not in the newest one the project's DuckDB knows, so that
older DuckDBs, and the BI tools and drivers that embed them, can open it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.settings import DEFAULT_PUBLISHED_STORAGE_VERSION

PUBLISHED_SCHEMA = "marts"
PUBLICATION_TABLE = "publication"
CHECK_RESULTS_TABLE = "check_results"
DAYS_AFTER_AS_OF = "published_days_after_as_of"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: tuple[str, ...]
    publications: int  # rows in marts.publication after this one


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tables_in(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = ? order by table_name",
        [catalog, schema],
    ).fetchall()
    return [name for (name,) in rows]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _derived_type(column: str) -> str | None:
    """The type of a column `with_derived_values` adds: a null share must still be a DOUBLE,
    or the column would be created with DuckDB's NULL type."""
    if column.endswith("_quarantined_share"):
        return "double"
    if column == DAYS_AFTER_AS_OF:
        return "bigint"
    return None


def _literal_row(record: dict[str, Any]) -> tuple[str, list[Any]]:
    columns = ", ".join(
        f"cast(? as {_derived_type(name)}) as {_quote(name)}" if _derived_type(name) else f"? as {_quote(name)}"
        for name in record
    )
    return f"select {columns}", list(record.values())


def publish(
    work_db: Path,
    published_db: Path,
    record: dict[str, Any],
    storage_version: str = DEFAULT_PUBLISHED_STORAGE_VERSION,
) -> PublishResult:
    """Copy every table of `marts` in `work_db` into a new `published_db` and append `record`
    to `marts.publication` (keeping earlier publications from the current published file).

    `storage_version` (e.g. "v1.4.0") is the DuckDB storage format of the new file.
    """
    record = with_derived_values(record)
    staging_path = published_db.with_name(f".{published_db.name}.{record['run_id']}.new")
    staging_path.unlink(missing_ok=True)
    published_db.parent.mkdir(parents=True, exist_ok=True)
    try:
        tables = _write_new_file(work_db, published_db, staging_path, record, storage_version)
        _fsync(staging_path)
        os.replace(staging_path, published_db)
        _fsync(published_db.parent)
    finally:
        staging_path.unlink(missing_ok=True)
        Path(f"{staging_path}.wal").unlink(missing_ok=True)
    with contextlib.closing(duckdb.connect(str(published_db), read_only=True)) as con:
        (count,) = con.execute(
            f"select count(*) from {PUBLISHED_SCHEMA}.{PUBLICATION_TABLE}"
        ).fetchone()
    return PublishResult(path=published_db, tables=tuple(tables), publications=count)


def with_derived_values(record: dict[str, Any]) -> dict[str, Any]:
    """`record` with the figures derived from its counts and dates, so that readers of
    marts.publication (the metrics report among them) read them instead of computing them:

    - `published_days_after_as_of`: days from `as_of_date` to the UTC date of `published_at`;
    - `<entity>_quarantined_share` for each `<entity>_quarantined` count, and
      `rows_quarantined_share` for the totals: quarantined / (loaded + quarantined),
      null when no row was loaded or quarantined.
    """
    derived = dict(record)
    published_at, as_of = record.get("published_at"), record.get("as_of_date")
    if published_at is not None and as_of is not None:
        derived[DAYS_AFTER_AS_OF] = (published_at.date() - as_of).days
    for column, quarantined in record.items():
        if not column.endswith("_quarantined"):
            continue
        entity = column.removesuffix("_quarantined")
        whole = (record.get(f"{entity}_loaded") or 0) + (quarantined or 0)
        derived[f"{column}_share"] = float(quarantined) / whole if quarantined is not None and whole else None
    return derived


def _write_new_file(
    work_db: Path, published_db: Path, staging_path: Path, record: dict[str, Any], storage_version: str
) -> list[str]:
    # A file is written in an older storage version only when attached with that option.
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("attach ? as new (storage_version ?)", [str(staging_path), storage_version])
        con.execute("attach ? as work (read_only)", [str(work_db)])
        con.execute(f"create schema new.{PUBLISHED_SCHEMA}")
        skipped = (PUBLICATION_TABLE, CHECK_RESULTS_TABLE)
        tables = [t for t in _tables_in(con, "work", PUBLISHED_SCHEMA) if t not in skipped]
        for table in tables:
            con.execute(
                f"create table new.{PUBLISHED_SCHEMA}.{_quote(table)} as "
                f"select * from work.{PUBLISHED_SCHEMA}.{_quote(table)}"
            )
        tables += _write_check_results(con, record["run_id"])
        _write_publication(con, published_db, record)
        con.execute("detach work")
        con.execute("checkpoint new")
        con.execute("detach new")
    finally:
        con.close()
    return [*tables, PUBLICATION_TABLE]


def _write_check_results(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """This run's quality-gate results (audit.check_results), so analysts see which
    check warned, not only how many."""
    if CHECK_RESULTS_TABLE not in _tables_in(con, "work", "audit"):
        return []
    con.execute(
        f"create table new.{PUBLISHED_SCHEMA}.{CHECK_RESULTS_TABLE} as "
        f"select * from work.audit.{CHECK_RESULTS_TABLE} where run_id = ? order by all",
        [run_id],
    )
    return [CHECK_RESULTS_TABLE]


def _write_publication(
    con: duckdb.DuckDBPyConnection, published_db: Path, record: dict[str, Any]
) -> None:
    new_row, params = _literal_row(record)
    history = ""
    if published_db.exists():
        con.execute("attach ? as previous (read_only)", [str(published_db)])
        if PUBLICATION_TABLE in _tables_in(con, "previous", PUBLISHED_SCHEMA):
            history = (
                f"select * from previous.{PUBLISHED_SCHEMA}.{PUBLICATION_TABLE} union all by name "
            )
    con.execute(
        f"create table new.{PUBLISHED_SCHEMA}.{PUBLICATION_TABLE} as "
        f"select * from ({history}{new_row}) order by published_at",
        params,
    )
    if history or published_db.exists():
        con.execute("detach previous")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
