"""The row accounting of an ingest: read = loaded + quarantined + duplicates, per file.

Rows read include the lines the CSV reader rejected; a mismatch raises
`RowAccountingError`, which rolls the entity's ingest back.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from orchestration.lib.contract import Entity
from orchestration.lib.ingest.errors import RowAccountingError
from orchestration.lib.ingest.extracts import INTERNAL_PREFIX
from orchestration.lib.ingest.file_store import StoredFile
from orchestration.lib.ingest.latest_wins import WorkTables, key_match
from orchestration.lib.ingest.results import FileCounts


def count_rows(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: Sequence[StoredFile],
    work: WorkTables,
    raw: str,
    quarantine: str,
) -> list[FileCounts]:
    """Count each term of the accounting from where the rows ended up, and check it.

    rows read (counted when the file was read: its typed rows and the lines the CSV
    reader rejected), loaded (raw),
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
                        ON {key_match("v", "k", entity.key)}
                    WHERE NOT k.{INTERNAL_PREFIX}repeated AND v.{fi} <> k.{win_fi}
                    GROUP BY ALL
                    UNION ALL
                    SELECT {fi}, sum({n}) - count(*) FILTER ({fi} = {win_fi})
                    FROM {work.decided} GROUP BY ALL
                ) GROUP BY ALL"""
        ).fetchall()
    )
    per_file = []
    for e in files:
        counts = FileCounts(
            source_file=e.name,
            rows_read=e.rows_read,
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
