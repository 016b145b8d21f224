"""The publish swap: a new file replaces the old one whole, readers are never broken."""

import datetime as dt
import subprocess
from contextlib import closing
from decimal import Decimal

import duckdb
import pytest

from orchestration.lib import publish as publish_module
from orchestration.lib.publish import publish
from orchestration.settings import Settings, SettingsError
from tests.support.older_duckdb import OLDER_DUCKDB, read_with_older_duckdb


def _work_db(path, revenue: float):
    with closing(duckdb.connect(str(path))) as con:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute(f"create table marts.metric as select 'revenue' as name, {revenue} as value")
        con.execute("create table staging.not_published as select 1 as x")


def _record(run_id: str, day: int) -> dict:
    return {
        "published_at": dt.datetime(2026, 11, day, 2, 0),
        "as_of_date": dt.date(2026, 11, day),
        "run_id": run_id,
        "checks_passed": 3,
        "checks_warned": 1,
        "checks_failed": 0,
    }


def test_publish_copies_marts_only_and_appends_the_publication(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    first = publish(work, published, _record("run-1", 25))
    assert first.tables == ("metric", "publication")
    assert first.publications == 1

    with closing(duckdb.connect(str(work))) as con:
        con.execute("update marts.metric set value = 200")
    second = publish(work, published, _record("run-2", 26))
    assert second.publications == 2

    with closing(duckdb.connect(str(published), read_only=True)) as con:
        assert con.execute("select value from marts.metric").fetchone() == (200.0,)
        runs = con.execute("select run_id, as_of_date from marts.publication order by published_at").fetchall()
        assert runs == [("run-1", dt.date(2026, 11, 25)), ("run-2", dt.date(2026, 11, 26))]
        schemas = {r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        assert schemas == {"marts"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.duckdb", "work.duckdb"]


def test_reader_holding_the_old_file_keeps_reading_it(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    publish(work, published, _record("run-1", 25))
    reader = duckdb.connect(str(published), read_only=True)
    try:
        with closing(duckdb.connect(str(work))) as con:
            con.execute("update marts.metric set value = 200")
        publish(work, published, _record("run-2", 26))
        # The open reader still sees the publication it opened, consistently.
        assert reader.execute("select value from marts.metric").fetchone() == (100.0,)
        assert reader.execute("select count(*) from marts.publication").fetchone() == (1,)
    finally:
        reader.close()
    with closing(duckdb.connect(str(published), read_only=True)) as fresh:
        assert fresh.execute("select value from marts.metric").fetchone() == (200.0,)


def test_failure_before_the_swap_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    publish(work, published, _record("run-1", 25))
    before = published.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(publish_module, "_fsync", crash)
    with closing(duckdb.connect(str(work))) as con:
        con.execute("update marts.metric set value = 200")
    with pytest.raises(OSError, match="disk full"):
        publish(work, published, _record("run-2", 26))

    assert published.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.duckdb", "work.duckdb"]
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        assert con.execute("select value from marts.metric").fetchone() == (100.0,)


def test_this_runs_check_results_are_published_beside_the_marts(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    with closing(duckdb.connect(str(work))) as con:
        con.execute("create schema audit")
        con.execute(
            "create table audit.check_results as select * from (values "
            "('run-0', 'raw.crm__leads', 'warn', 'warned'), "
            "('run-1', 'raw.crm__leads', 'warn', 'warned'), "
            "('run-1', 'raw.crm__accounts', 'error', 'passed')) t(run_id, suite, severity, status)"
        )
    result = publish(work, published, _record("run-1", 25))
    assert "check_results" in result.tables
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        rows = con.execute("select run_id, suite, status from marts.check_results order by suite").fetchall()
    assert rows == [("run-1", "raw.crm__accounts", "passed"), ("run-1", "raw.crm__leads", "warned")]


def _record_with_counts(run_id: str, published_at: dt.datetime, leads: tuple, spend: tuple) -> dict:
    """A record as the publish asset writes it: loaded and quarantined per source and in all."""
    return {
        **_record(run_id, 25), "published_at": published_at,
        "crm__leads_loaded": leads[0], "crm__leads_quarantined": leads[1],
        "finance__spend_loaded": spend[0], "finance__spend_quarantined": spend[1],
        "rows_loaded": leads[0] + spend[0], "rows_quarantined": leads[1] + spend[1],
    }


def test_the_record_gets_its_freshness_lag_and_quarantined_shares(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    # As of 25 Nov, published 27 Nov 00:30 UTC: 2 days after. Leads 996 + 4 -> 4 / 1000 = 0.004;
    # spend 100 + 0 -> 0; nothing at all of a third source -> no share; in all 1096 + 4 -> 4 / 1100.
    record = _record_with_counts("run-1", dt.datetime(2026, 11, 27, 0, 30), (996, 4), (100, 0))
    record |= {"hubspot__deals_loaded": 0, "hubspot__deals_quarantined": 0}
    publish(work, published, record)
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        cursor = con.execute(
            "select published_days_after_as_of, crm__leads_quarantined_share, finance__spend_quarantined_share, "
            "hubspot__deals_quarantined_share, rows_quarantined_share from marts.publication"
        )
        row = cursor.fetchone()
        types = {name: str(kind) for name, kind, *_ in con.execute("describe marts.publication").fetchall()}
    assert row[0] == 2
    assert row[1:] == (pytest.approx(0.004), 0.0, None, pytest.approx(4 / 1100))
    assert types["published_days_after_as_of"] == "BIGINT"
    assert {types[c] for c in types if c.endswith("_share")} == {"DOUBLE"}


def test_a_record_published_on_its_as_of_date_is_zero_days_after(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    publish(work, published, _record_with_counts("run-1", dt.datetime(2026, 11, 25, 23, 59), (10, 0), (0, 0)))
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        assert con.execute(
            "select published_days_after_as_of, rows_quarantined_share from marts.publication"
        ).fetchone() == (0, 0.0)


def test_publications_before_the_derived_values_keep_them_null(tmp_path):
    """An earlier publication row (written before the derived columns existed) is kept, with
    nulls in the new columns, not recomputed."""
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    with closing(duckdb.connect(str(published))) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.publication as select timestamp '2026-11-24 02:00' as published_at, "
            "date '2026-11-20' as as_of_date, 'run-0' as run_id, 5::bigint as rows_loaded, 5::bigint as rows_quarantined"
        )
    publish(work, published, _record_with_counts("run-1", dt.datetime(2026, 11, 26, 2, 0), (3, 1), (0, 0)))
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        rows = con.execute(
            "select run_id, published_days_after_as_of, rows_quarantined_share from marts.publication "
            "order by published_at"
        ).fetchall()
    assert rows == [("run-0", None, None), ("run-1", 1, 0.25)]


def _work_db_of_every_type(path):
    """One row of each type a mart publishes, at awkward values."""
    with closing(duckdb.connect(str(path))) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.every_type as select "
            "9007199254740993::bigint as count_big, "
            "170141183460469231731687303715884105727::hugeint as count_huge, "
            "42::integer as months, "
            "0.1::double as rate, "
            "-1234567.89::decimal(18, 2) as amount, "
            "date '2026-11-26' as as_of_date, "
            "timestamp '2026-11-26 02:00:01.5' as loaded_at, "
            "'Zürich \"GmbH\"' as account_name, "
            "true as is_won, "
            "null::double as no_value"
        )


def test_duckdb_1_4_opens_the_published_file_and_reads_every_type(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db_of_every_type(work)
    publish(work, published, _record("run-1", 25), storage_version="v1.4.0")

    read = read_with_older_duckdb(published)
    assert read["version"] == OLDER_DUCKDB
    table = read["tables"]["marts.every_type"]
    assert table["types"] == [
        ("count_big", "BIGINT"),
        ("count_huge", "HUGEINT"),
        ("months", "INTEGER"),
        ("rate", "DOUBLE"),
        ("amount", "DECIMAL(18,2)"),
        ("as_of_date", "DATE"),
        ("loaded_at", "TIMESTAMP"),
        ("account_name", "VARCHAR"),
        ("is_won", "BOOLEAN"),
        ("no_value", "DOUBLE"),
    ]
    assert table["rows"] == [
        (
            9007199254740993,
            2**127 - 1,
            42,
            0.1,
            Decimal("-1234567.89"),
            dt.date(2026, 11, 26),
            dt.datetime(2026, 11, 26, 2, 0, 1, 500000),
            'Zürich "GmbH"',
            True,
            None,
        )
    ]
    assert [row[2] for row in read["tables"]["marts.publication"]["rows"]] == ["run-1"]


def test_the_newest_storage_version_is_one_duckdb_1_4_refuses(tmp_path):
    """Why the setting exists: a file in DuckDB 2.0's own format does not open in 1.4."""
    work, published = tmp_path / "work.duckdb", tmp_path / "published.duckdb"
    _work_db(work, 100.0)
    publish(work, published, _record("run-1", 25), storage_version="v2.0.0")
    with pytest.raises(subprocess.CalledProcessError) as refused:
        read_with_older_duckdb(published)
    assert "version number" in refused.value.stderr


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1.4.0", "must be a DuckDB version written like v1.4.0"),
        ("v1.3.2", "must be v1.4.0 or later"),
        ("v9.0.0", "is not a storage version DuckDB"),
    ],
)
def test_a_storage_version_duckdb_1_4_cannot_read_or_this_duckdb_cannot_write_is_refused(value, problem):
    with pytest.raises(SettingsError, match="GTM_PUBLISHED_STORAGE_VERSION") as refused:
        Settings.from_env({"GTM_PUBLISHED_STORAGE_VERSION": value})
    assert problem in str(refused.value)


def test_the_storage_version_defaults_to_duckdb_1_4s():
    assert Settings.from_env({}).published_storage_version == "v1.4.0"
    assert Settings.from_env({"GTM_PUBLISHED_STORAGE_VERSION": "v1.5.0"}).published_storage_version == "v1.5.0"
