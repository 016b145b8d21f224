"""Every version of an entity that each extract held: the history behind pipeline-history marts.

`raw.<entity>` keeps the newest extract's row of each key; a CRM keeps only the current
state too. Each dated extract is a snapshot of the CRM on its date, so for the
entities of `SNAPSHOT_ENTITIES` the ingest also keeps `raw.<source>__<entity>_snapshots`: the
accepted (typed, not quarantined) rows of every file, one per distinct version of a
key within a file, with the file's name and its extract date (null when the name does
not begin with an ISO date: the metric decides what such a file's date is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from orchestration.lib.contract import DUCKDB_TYPES, OPPORTUNITIES, Entity
from orchestration.lib.ingest.extracts import INTERNAL_PREFIX, is_dated
from orchestration.lib.ingest.file_store import StoredFile
from orchestration.lib.ingest.latest_wins import WorkTables, key_is_null, key_match
from orchestration.lib.typing_rules import quote_identifier

SNAPSHOT_ENTITIES: tuple[Entity, ...] = (OPPORTUNITIES,)
# The columns a snapshots table adds after the entity's own (the dbt source restates them).
SNAPSHOT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),
    ("_extract_date", "DATE"),
    ("_source_row", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)


def snapshots_table_name(entity: Entity) -> str:
    """`<source>__<entity>_snapshots`, the table's name in schema raw."""
    return f"{entity.qualified_name}_snapshots"


def snapshots_table(entity: Entity) -> str:
    """`raw.<source>__<entity>_snapshots`, quoted."""
    return f"raw.{quote_identifier(snapshots_table_name(entity))}"


def extract_date(name: str) -> dt.date | None:
    """The extract date a file's name begins with (the name without its folders), else None."""
    base = name.rsplit("/", 1)[-1]
    return dt.date.fromisoformat(base[:10]) if is_dated(base) else None


def write_snapshots(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: Sequence[StoredFile],
    work: WorkTables,
    loaded_at: dt.datetime,
    append: bool = False,
) -> None:
    """Replace the entity's snapshots table with the versions each file holds (inside the
    ingest's transaction: it is replaced together with `raw.<entity>`); with `append`,
    add the versions of `files` to it (a file's versions depend on that file alone)."""
    table = snapshots_table(entity)
    columns = [f"{quote_identifier(c.name)} {DUCKDB_TYPES[c.type]}" for c in entity.columns]
    if not append:
        columns += [f"{name} {sql_type}" for name, sql_type in SNAPSHOT_COLUMNS]
        con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(columns)})")
    if not files:
        return
    dates = ", ".join(
        f"({e.index}, DATE '{d.isoformat()}')" if (d := extract_date(e.name)) else f"({e.index}, NULL::DATE)"
        for e in files
    )
    values = ", ".join(quote_identifier(n) for n in entity.column_names)
    v_values = ", ".join(f"v.{quote_identifier(n)}" for n in entity.column_names)
    fi, win_fi, repeated = (f"{INTERNAL_PREFIX}{c}" for c in ("fi", "win_fi", "repeated"))
    # One row per distinct version within a file: a full re-export repeating a row
    # adds nothing; a file holding one key with two versions is a key conflict,
    # recorded (and blocking) elsewhere, and both versions are kept here. Only the keys
    # some file holds more than once (`work.keys`, repeated) need grouping; every other
    # row is its key's only row in its file. Grouping every row held a hash table of all
    # of them (peak 2,022 -> 1,851 MB for 3.5M opportunities rows, bench/README.md).
    con.execute(
        f"""INSERT INTO {table} BY NAME
            SELECT {values}, _source_file, d.extract_date AS _extract_date, _source_row, ? AS _loaded_at
            FROM (
                SELECT v.{fi}, {v_values}, v._source_file, v._source_row
                FROM {work.valid} AS v LEFT JOIN {work.keys} AS k ON {key_match("v", "k", entity.key)}
                WHERE NOT {key_is_null(entity, "v")} AND (k.{win_fi} IS NULL OR NOT k.{repeated})
                UNION ALL
                SELECT v.{fi}, {v_values}, v._source_file, min(v._source_row) AS _source_row
                FROM {work.valid} AS v
                SEMI JOIN (SELECT * FROM {work.keys} WHERE {repeated}) AS k ON {key_match("v", "k", entity.key)}
                GROUP BY v.{fi}, v._source_file, {v_values}
            ) AS v
            JOIN (VALUES {dates}) AS d(fi, extract_date) ON d.fi = v.{fi}
            ORDER BY v.{fi}, _source_row""",
        [loaded_at],
    )
