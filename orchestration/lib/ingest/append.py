"""The nightly case: every new file's name sorts after every file read before.

Such files win every key they hold (the file whose name sorts last wins), so the
entity's tables need not be recomputed from every stored file: the raw rows whose key
(or, for a row with a null key column, whose values) a new file holds are dropped, and
the new files are deduplicated among themselves and appended, exactly as `latest_wins`
would decide over all the files. Quarantine, key conflicts and snapshots depend on a
file alone and are appended; an older file's row accounting changes only by the rows
it lost, which move from loaded to duplicates (its rows read and quarantined stay).

Any other case (a late file whose name sorts before a file already read, a re-read,
a new extra column, tables not as the last ingest left them) is recomputed in full from
the store by `load`. The property test in tests/test_ingest_incremental.py checks both
against a full ingest over random orders of arrival.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.errors import RowAccountingError
from orchestration.lib.ingest.file_store import StoredFile
from orchestration.lib.ingest.latest_wins import (
    CONFLICTS_TABLE,
    WorkTables,
    find_contested_rows,
    key_is_null,
    key_match,
    record_key_conflicts,
    value_columns,
    write_raw_rows,
)
from orchestration.lib.ingest.quarantine import write_quarantined_rows
from orchestration.lib.ingest.results import FileCounts
from orchestration.lib.ingest.row_accounting import count_rows
from orchestration.lib.ingest.snapshots import SNAPSHOT_ENTITIES, snapshots_table, write_snapshots
from orchestration.lib.typing_rules import quote_identifier

# Columns the ingest adds to raw after the contract and extra columns.
RAW_METADATA = ("_source_file", "_source_row", "_loaded_at")


def can_append(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    stored: Sequence[StoredFile],
    new: set[str],
    extras: list[str],
    raw: str,
    log_table: str,
) -> bool:
    """Whether the new files sort after every other stored file and the entity's tables are
    as the last ingest left them (its log lists exactly the other files; raw has the same
    extra columns)."""
    kept = [f.name for f in stored if f.name not in new]
    if not kept or any(f.name in new for f in stored[: len(kept)]):
        return False
    if entity in SNAPSHOT_ENTITIES and not _exists(con, snapshots_table(entity)):
        return False
    if not _exists(con, raw):
        return False
    logged = con.execute(
        f"SELECT source_file FROM {log_table} WHERE entity = ? ORDER BY source_file", [entity.qualified_name]
    ).fetchall()
    if sorted(name for (name,) in logged) != sorted(kept):
        return False
    columns = [name for (name,) in con.execute(f"SELECT name FROM pragma_table_info('{raw}')").fetchall()]
    return columns == [*entity.column_names, *extras, *RAW_METADATA]


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        con.execute(f"SELECT 1 FROM {table} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def append_files(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    stored: Sequence[StoredFile],
    new: set[str],
    extras: list[str],
    work: WorkTables,
    raw: str,
    quarantine: str,
    log_table: str,
    loaded_at: dt.datetime,
) -> tuple[list[FileCounts], int]:
    """Bring the entity's tables up to date with the new files (inside the ingest's transaction)."""
    files = [f for f in stored if f.name in new]
    if files:
        find_contested_rows(con, entity, files, extras, work)
        _drop_superseded_rows(con, entity, extras, work, raw)
        write_raw_rows(con, entity, extras, work, raw, loaded_at)
        write_quarantined_rows(con, entity, files, extras, quarantine, loaded_at)
        if entity in SNAPSHOT_ENTITIES:
            write_snapshots(con, entity, files, work, loaded_at, append=True)
        record_key_conflicts(con, entity, work)
        new_counts = {c.source_file: c for c in count_rows(con, entity, files, work, raw, quarantine)}
    else:
        new_counts = {}
    before = {
        name: (read, quarantined)
        for name, read, quarantined in con.execute(
            f"SELECT source_file, rows_read, rows_quarantined FROM {log_table} WHERE entity = ?",
            [entity.qualified_name],
        ).fetchall()
    }
    loaded = dict(con.execute(f"SELECT _source_file, count(*) FROM {raw} GROUP BY ALL").fetchall())
    per_file = []
    for f in stored:
        if f.name in new_counts:
            per_file.append(new_counts[f.name])
            continue
        read, quarantined = before[f.name]
        kept = loaded.get(f.name, 0)
        counts = FileCounts(f.name, read, kept, quarantined, read - quarantined - kept)
        if counts.duplicates_dropped < 0:
            raise RowAccountingError(f"{f.name}: {read} rows read but {kept} loaded + {quarantined} quarantined")
        per_file.append(counts)
    conflicts = con.execute(f"SELECT count(*) FROM {CONFLICTS_TABLE} WHERE entity = ?", [entity.qualified_name])
    return per_file, conflicts.fetchone()[0]


def _drop_superseded_rows(
    con: duckdb.DuckDBPyConnection, entity: Entity, extras: list[str], work: WorkTables, raw: str
) -> None:
    """Delete the raw rows a new file wins: its keys, and its rows with a null key column
    (matched on all their values, as `latest_wins` compares them)."""
    keys = ", ".join(quote_identifier(k) for k in entity.key)
    values = value_columns(entity, extras)
    same_values = " AND ".join(
        f"r.{quote_identifier(n)} IS NOT DISTINCT FROM n.{quote_identifier(n)}" for n in values
    )
    con.execute(
        f"""DELETE FROM {raw} WHERE rowid IN (
                SELECT r.rowid FROM {raw} AS r
                JOIN (SELECT DISTINCT {keys} FROM {work.valid} WHERE NOT {key_is_null(entity)}) AS n
                    ON {key_match("r", "n", entity.key)}
                UNION ALL
                SELECT r.rowid FROM {raw} AS r
                JOIN (SELECT DISTINCT {", ".join(quote_identifier(n) for n in values)}
                      FROM {work.valid} WHERE {key_is_null(entity)}) AS n
                    ON {same_values}
                WHERE {key_is_null(entity, "r")}
            )"""
    )
