"""Step 2 of an ingest: deduplication across repeated extracts, the latest file winning.

Keys seen more than once across all files (or with a null key column) are the only
rows that need deduplication. Those rows are collapsed to distinct versions per file
and the file whose name sorts last wins each key; a file holding one key with
different values is recorded in `raw._key_conflicts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.extracts import INTERNAL_PREFIX
from orchestration.lib.ingest.file_store import StoredFile, read_order_sql, valid_table
from orchestration.lib.typing_rules import quote_identifier

CONFLICTS_TABLE = "raw._key_conflicts"


@dataclass(frozen=True)
class WorkTables:
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


def value_columns(entity: Entity, extras: list[str]) -> list[str]:
    return [*entity.column_names, *extras]


def _valid_rows_sql(entity: Entity, files: Sequence[StoredFile], extras: list[str]) -> str:
    """All stored rows of the files that were typed without failure, with their provenance
    and their file's place in the read order."""
    values = ", ".join(f"s.{quote_identifier(n)}" for n in value_columns(entity, extras))
    return f"""
        SELECT read_order.fi AS {INTERNAL_PREFIX}fi, s._source_file, s._source_row, {values}
        FROM {valid_table(entity)} AS s JOIN {read_order_sql(files)} ON s._source_file = read_order.name"""


def key_match(left: str, right: str, key: Sequence[str]) -> str:
    return " AND ".join(f"{left}.{quote_identifier(k)} = {right}.{quote_identifier(k)}" for k in key)


def key_is_null(entity: Entity, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return "(" + " OR ".join(f"{prefix}{quote_identifier(k)} IS NULL" for k in entity.key) + ")"


def find_contested_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: Sequence[StoredFile],
    extras: list[str],
    work: WorkTables,
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
    values = [quote_identifier(n) for n in value_columns(entity, extras)]
    fi, win_fi, repeated = (f"{INTERNAL_PREFIX}{c}" for c in ("fi", "win_fi", "repeated"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {work.valid} AS {_valid_rows_sql(entity, files, extras)}")
    if len(files) == 1:
        per_key = f"""
            SELECT {key_cols}, max({fi}) AS {win_fi}, true AS {repeated}
            FROM {work.valid} WHERE NOT {key_is_null(entity)}
            GROUP BY {key_cols} HAVING count(*) > 1"""
    else:
        per_key = f"""
            SELECT {key_cols}, max({fi}) AS {win_fi}, max(n) > 1 AS {repeated}
            FROM (
                SELECT {key_cols}, {fi}, count(*) AS n
                FROM {work.valid} WHERE NOT {key_is_null(entity)}
                GROUP BY {key_cols}, {fi}
            )
            GROUP BY {key_cols} HAVING sum(n) > 1"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {work.keys} AS {per_key}")
    partition = ", ".join(
        [quote_identifier(k) for k in entity.key]
        + [
            f"CASE WHEN {key_is_null(entity)} THEN {quote_identifier(n)} END"
            for n in value_columns(entity, extras)
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
                        ON {key_match("v", "k", entity.key)}
                    UNION ALL
                    SELECT * FROM {work.valid} WHERE {key_is_null(entity)}
                )
                GROUP BY ALL
            )"""
    )


def write_raw_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    extras: list[str],
    work: WorkTables,
    raw: str,
    loaded_at: dt.datetime,
) -> None:
    """Rows of keys seen once, the winning row of keys not repeated within a file, and
    the winning versions of repeated keys and of rows with a null key column."""
    names = value_columns(entity, extras)
    values = ", ".join(quote_identifier(n) for n in names)
    v_values = ", ".join(f"v.{quote_identifier(n)}" for n in names)
    fi, win_fi = f"{INTERNAL_PREFIX}fi", f"{INTERNAL_PREFIX}win_fi"
    con.execute(
        f"""INSERT INTO {raw} BY NAME
            SELECT {values}, _source_file, _source_row, ? AS _loaded_at
            FROM (
                SELECT v.{fi}, {v_values}, v._source_file, v._source_row
                FROM {work.valid} AS v LEFT JOIN {work.keys} AS k
                    ON {key_match("v", "k", entity.key)}
                WHERE NOT {key_is_null(entity, "v")}
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


def record_key_conflicts(con: duckdb.DuckDBPyConnection, entity: Entity, work: WorkTables) -> int:
    """Keys one file holds with different values -> raw._key_conflicts.

    `rows` is the number of (not quarantined) rows of that file carrying the key.
    """
    key_cols = ", ".join(quote_identifier(k) for k in entity.key)
    key_text = ", ".join(f"CAST({quote_identifier(k)} AS VARCHAR)" for k in entity.key)
    con.execute(
        f"""INSERT INTO {CONFLICTS_TABLE}
            SELECT ?, concat_ws('|', {key_text}), _source_file, max({INTERNAL_PREFIX}rows)
            FROM {work.decided}
            WHERE {INTERNAL_PREFIX}versions > 1 AND NOT {key_is_null(entity)}
            GROUP BY {INTERNAL_PREFIX}fi, _source_file, {key_cols}
            ORDER BY {INTERNAL_PREFIX}fi, {key_cols}""",
        [entity.qualified_name],
    )
    recorded = con.execute(f"SELECT count(*) FROM {CONFLICTS_TABLE} WHERE entity = ?", [entity.qualified_name])
    return recorded.fetchone()[0]
