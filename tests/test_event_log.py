"""The Dagster event log of dagster_home/dagster.yaml (orchestration/defs/event_log.py): Dagster's
SQLite files, written through engines kept open."""

import inspect
import shutil
from importlib.metadata import version

import dagster as dg
import pytest
from dagster._core.storage.event_log import SqliteEventLogStorage

from orchestration.defs import event_log
from orchestration.defs.event_log import DAGSTER_CHECKED_WITH, MAX_OPEN_DATABASES, KeptOpenSqliteEventLogStorage
from orchestration.settings import PROJECT_ROOT


def test_the_override_was_read_against_the_installed_dagster():
    assert version("dagster") == DAGSTER_CHECKED_WITH, (
        f"dagster {version('dagster')} is installed; KeptOpenSqliteEventLogStorage._connect overrides "
        f"SqliteEventLogStorage._connect of dagster {DAGSTER_CHECKED_WITH}: read _connect, _initdb and "
        "store_event of the new release, then update the override and DAGSTER_CHECKED_WITH"
    )


def test_connect_is_still_the_method_every_read_and_write_goes_through():
    source = inspect.getsource(SqliteEventLogStorage)
    assert list(inspect.signature(SqliteEventLogStorage._connect).parameters) == ["self", "shard"]
    assert "return self._connect(run_id)" in source  # run_connection
    assert "return self._connect(INDEX_SHARD_NAME)" in source  # index_connection


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


def _materialize(instance: dg.DagsterInstance) -> str:
    result = dg.materialize([first, second], instance=instance)
    assert result.success
    return result.run_id


def test_the_committed_instance_writes_dagsters_own_files_that_dagsters_storage_reads(instance, tmp_path):
    assert isinstance(instance.event_log_storage, KeptOpenSqliteEventLogStorage)
    run_id = _materialize(instance)
    runs_dir = tmp_path / "dagster_home" / "history" / "runs"
    assert sorted(p.name for p in runs_dir.glob("*.db")) == sorted([f"{run_id}.db", "index.db"])
    plain = SqliteEventLogStorage(str(runs_dir))
    materialized = [
        e.dagster_event.asset_key.path
        for e in plain.get_logs_for_run(run_id)
        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    ]
    assert materialized == [["first"], ["second"]]
    # the cross-run index (asset history in the UI) has them too
    latest = plain.get_latest_materialization_events([dg.AssetKey("first"), dg.AssetKey("second")])
    assert {key.path[0]: event.run_id for key, event in latest.items()} == {"first": run_id, "second": run_id}


def test_each_database_is_opened_once_and_synced_at_checkpoints(instance, monkeypatch):
    created = []
    real_create_engine = event_log.db.create_engine

    def counting_create_engine(url, **kwargs):
        created.append(str(url))
        return real_create_engine(url, **kwargs)

    monkeypatch.setattr(event_log.db, "create_engine", counting_create_engine)
    run_id = _materialize(instance)
    # the run's file once for ~20 events; the index was opened with the instance, and stays open
    assert [url.rsplit("/", 1)[1] for url in created] == [f"{run_id}.db"]
    storage = instance.event_log_storage
    assert sorted(storage._engines) == sorted([run_id, "index"])
    with storage.run_connection(run_id) as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_at_most_max_open_databases_stay_open_and_wipe_closes_them(instance, tmp_path):
    run_ids = [_materialize(instance) for _ in range(MAX_OPEN_DATABASES + 2)]
    storage = instance.event_log_storage
    assert len(storage._engines) == MAX_OPEN_DATABASES
    assert "index" in storage._engines  # used by every run, so never the oldest
    # an older run's file, closed, is opened again to be read
    assert len(storage.get_logs_for_run(run_ids[0])) > 0
    storage.wipe()
    assert list(storage._engines) == ["index"]  # the run files' engines closed; the index was emptied
    assert list((tmp_path / "dagster_home" / "history" / "runs").glob("*.db")) == [
        tmp_path / "dagster_home" / "history" / "runs" / "index.db"
    ]
