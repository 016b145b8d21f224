"""Issue 16: refreshing night by night, reading only the new extracts, publishes exactly what a
full refresh of the same files publishes (every mart, every raw table).

Nights 1 and 2 are ingested with the ingest layer directly (fast); night 3 is a whole
`run_refresh`, then `run_refresh(full=True)` on the same warehouse re-reads every file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from contextlib import closing
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench.compare_published import compare_files
from orchestration.demo_data import generate
from orchestration.lib.contract import SOURCE_ENTITIES, STAGE_MAPPING
from orchestration.lib.ingest import extract_files, ingest_entity, ingest_file_entity
from orchestration.lib.refresh import run_refresh
from orchestration.settings import load_settings

AS_OF = dt.date(2026, 11, 26)
LOADED_AT = dt.datetime(2026, 11, 27, 2, 0)


def _earlier_copy(con: duckdb.DuckDBPyConnection, newest: Path, days: int, share: float) -> Path:
    """An older extract beside `newest`: its first `share` of rows, dated `days` earlier."""
    target = newest.with_name(f"{dt.date.fromisoformat(newest.name[:10]) - dt.timedelta(days=days)}{newest.suffix}")
    if newest.suffix == ".csv":
        reader, options = f"read_csv('{newest}', all_varchar = true)", "FORMAT csv, HEADER true"
    else:
        reader, options = f"read_parquet('{newest}')", "FORMAT parquet"
    count = con.execute(f"SELECT count(*) FROM {reader}").fetchone()[0]
    con.execute(f"COPY (SELECT * FROM {reader} LIMIT {int(count * share)}) TO '{target}' ({options})")
    return target


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> tuple[Path, list[list[Path]]]:
    """The demo landing, and which of its files land on each night (paths of a staging copy).

    Night 1: every entity's files but its newest (an entity with one file gets an older
    extract holding 80% of its rows); night 2: a late extract of every entity, dated
    before everything already read, with 30% of its rows; night 3: the newest files."""
    staging = tmp_path_factory.mktemp("staging") / "landing"
    generate(staging, scale=0.01, seed=42, as_of_date=AS_OF)
    night1, night2, night3 = [], [], []
    with closing(duckdb.connect()) as con:
        for entity in SOURCE_ENTITIES:
            files = extract_files(staging / entity.folder)
            *older, newest = files
            if not older:
                older = [_earlier_copy(con, newest, 7, 0.8)]
            night1 += older
            night2.append(_earlier_copy(con, newest, 30, 0.3))
            night3.append(newest)
    return staging, [night1, night2, night3]


def _land(staging: Path, landing: Path, files: list[Path]) -> None:
    for path in files:
        target = landing / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _raw_tables(work_db: Path) -> dict[str, list[tuple]]:
    """Every table of raw and quarantine, rows sorted, the run's own _loaded_at aside."""
    with closing(duckdb.connect(str(work_db), read_only=True)) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'quarantine') AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
        got = {}
        for (table,) in tables:
            columns = [c for (c,) in con.execute(f"SELECT column_name FROM information_schema.columns "
                                                  f"WHERE table_schema || '.' || table_name = '{table}' "
                                                  "ORDER BY ordinal_position").fetchall()]
            kept = ", ".join(f'"{c}"' for c in columns if c not in ("_loaded_at", "loaded_at"))
            got[table] = [tuple(columns), *con.execute(f"SELECT {kept} FROM {table} ORDER BY ALL").fetchall()]
        return got


def test_night_by_night_refreshes_publish_what_a_full_refresh_publishes(nights, tmp_path, monkeypatch):
    staging, (night1, night2, night3) = nights
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    monkeypatch.setenv("GTM_LANDING_DIR", str(landing))
    monkeypatch.setenv("GTM_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("GTM_AS_OF_DATE", AS_OF.isoformat())
    monkeypatch.delenv("GTM_ALERT_WEBHOOK", raising=False)
    settings = load_settings()
    warehouse.mkdir()

    for night in (night1, night2):
        _land(staging, landing, night)
        with closing(duckdb.connect(str(settings.work_db_path))) as con:
            for entity in SOURCE_ENTITIES:
                ingest_entity(con, entity, landing, LOADED_AT, settings.plausible_years)
            ingest_file_entity(con, STAGE_MAPPING, [settings.stage_mapping], LOADED_AT, settings.plausible_years)
    _land(staging, landing, night3)
    nightly = run_refresh(settings, instance=dg.DagsterInstance.ephemeral())
    assert nightly.published, nightly.summary()
    skipped = len(night1) + len(night2) + 1  # and the stage mapping
    assert (nightly.files_read, nightly.files_skipped, nightly.rereads) == (len(night3), skipped, [])
    assert f"Extract files: {len(night3)} read, {skipped} skipped" in nightly.summary()
    incremental_raw = _raw_tables(settings.work_db_path)
    incremental_published = tmp_path / "incremental.duckdb"
    shutil.copy2(settings.published_db_path, incremental_published)

    full = run_refresh(settings, instance=dg.DagsterInstance.ephemeral(), full=True)
    assert full.published, full.summary()
    assert (full.files_read, full.files_skipped) == (skipped + len(night3), 0)
    assert "Re-read in full: crm__opportunities: a full refresh was asked for" in full.summary()

    assert _raw_tables(settings.work_db_path) == incremental_raw
    comparison = compare_files(incremental_published, settings.published_db_path, ignore=["publication"])
    assert comparison.value_differences == []
    assert len(comparison.rows_compared) > 20  # every published mart was compared
    with closing(duckdb.connect(str(settings.published_db_path), read_only=True)) as con:
        record = con.execute(
            "SELECT files_read, files_skipped, rows_loaded FROM marts.publication ORDER BY published_at"
        ).fetchall()
    assert [r[:2] for r in record] == [(len(night3), skipped), (skipped + len(night3), 0)]
    assert record[0][2] == record[1][2]
