"""`gtm demo-data` + `gtm refresh` as a user runs them: real processes, real exit codes."""

import datetime as dt
import os
import re
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.dbt_manifest import marts
from tests.support.older_duckdb import OLDER_DUCKDB, read_with_older_duckdb

GTM = [sys.executable, "-m", "orchestration.cli"]
AS_OF = "2026-11-26"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GTM_LANDING_DIR": str(tmp_path / "landing"),
        "GTM_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "GTM_AS_OF_DATE": AS_OF,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }


def _gtm(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*GTM, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("e2e")
    env = _env(tmp_path)
    generated = _gtm(["demo-data", "--out", str(tmp_path / "landing"), "--scale", "0.03"], env)
    assert generated.returncode == 0, generated.stderr
    refresh = _gtm(["refresh"], env)
    return tmp_path, env, refresh


def test_refresh_publishes_and_says_where(refreshed):
    tmp_path, _, refresh = refreshed
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    published = tmp_path / "warehouse" / "published.duckdb"
    assert published.exists()
    assert str(published) in refresh.stdout
    assert "ingest sources" in refresh.stdout  # progress per step (one step ingests every entity)
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        (runs,) = con.execute("select count(*) from marts.publication").fetchone()
        assert runs == 1
        row = con.execute(
            "select as_of_date, crm__opportunities_loaded, rows_loaded from marts.publication"
        ).fetchone()
    assert str(row[0]) == AS_OF
    assert row[1] > 0 and row[2] > row[1]


def test_duckdb_1_4_reads_every_published_table_as_this_duckdb_does(refreshed):
    tmp_path, _, _ = refreshed
    published = tmp_path / "warehouse" / "published.duckdb"
    older = read_with_older_duckdb(published)
    assert older["version"] == OLDER_DUCKDB
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        tables = [f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()]  # fmt: skip
        assert {f"marts.{name}" for name in marts()} <= set(tables)  # every mart is published
        assert sorted(older["tables"]) == tables
        for table in tables:
            schema, name = table.split(".")
            types = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            rows = con.execute(f'select * from "{schema}"."{name}" order by all').fetchall()
            assert older["tables"][table]["types"] == types, table
            assert len(older["tables"][table]["rows"]) == len(rows), table
            assert older["tables"][table]["rows"] == rows, table


def test_rows_are_accounted_for_in_the_summary(refreshed):
    tmp_path, _, refresh = refreshed
    with closing(duckdb.connect(str(tmp_path / "warehouse" / "work.duckdb"), read_only=True)) as con:
        read, loaded, quarantined, dropped = con.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(duplicates_dropped) "
            "from raw._ingest_log"
        ).fetchone()
    assert read == loaded + quarantined + dropped
    assert "crm__leads" in refresh.stdout


def test_refresh_is_idempotent(refreshed):
    tmp_path, env, _ = refreshed
    work = tmp_path / "warehouse" / "work.duckdb"

    def counts():
        with closing(duckdb.connect(str(work), read_only=True)) as con:
            return con.execute("select entity, rows_loaded from raw._ingest_log order by all").fetchall()

    before = counts()
    again = _gtm(["refresh"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert counts() == before


def test_missing_required_folder_fails_naming_it_and_keeps_the_publication(refreshed, tmp_path):
    source_tmp, env, _ = refreshed
    published = source_tmp / "warehouse" / "published.duckdb"
    before = published.read_bytes()
    broken = {**env, "GTM_LANDING_DIR": str(tmp_path / "empty")}
    (tmp_path / "empty").mkdir()
    result = _gtm(["refresh"], broken)
    assert result.returncode != 0
    assert "crm/accounts" in result.stdout
    assert "NOT PUBLISHED" in result.stdout
    assert published.read_bytes() == before


def test_bad_setting_stops_before_running(tmp_path):
    env = {**_env(tmp_path), "GTM_FISCAL_YEAR_START_MONTH": "13"}
    result = _gtm(["refresh"], env)
    assert result.returncode == 2
    assert "GTM_FISCAL_YEAR_START_MONTH" in result.stderr and "'13'" in result.stderr


# A refresh in progress, as far as the lock goes: holds the warehouse's refresh lock for
# the run "nightly-run-1" until its stdin closes.
HOLD_THE_LOCK = """
import sys
from orchestration.lib.warehouse import refresh_lock
from orchestration.settings import load_settings
with refresh_lock(load_settings().lock_path, run_id="nightly-run-1"):
    print("holding", flush=True)
    sys.stdin.read()
"""


def test_a_second_refresh_is_turned_away_at_once_naming_the_running_one(tmp_path):
    env = _env(tmp_path)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        second = _gtm(["refresh"], env)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert second.returncode == 3
    assert second.stdout == ""  # nothing about this run, nothing about the other one's rows
    assert "Another refresh is running" in second.stderr
    assert f"run nightly-run-1, process {holder.pid}, started " in second.stderr
    started = re.search(r"started (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", second.stderr)
    assert before <= dt.datetime.fromisoformat(started.group(1)) <= after
    assert not (tmp_path / "warehouse" / "work.duckdb").exists()
