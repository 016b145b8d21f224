"""Dagster's SQLite event log, with each database's engine kept open (issue 18).

A refresh stores about 520 events (every asset's planned, output and materialization
events, every check's). Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy
engine, opens the file and disposes of it for every write, twice for asset and check
events (the run's database and the cross-run index), and SQLite's default
`synchronous=FULL` syncs the file at every commit: about 4 s of CPU of a refresh
and more of wall time on a busy disk. Here each database keeps one engine (a small
pool of connections), and the write-ahead log is synced at checkpoints
(`synchronous=NORMAL`: a crash of the process loses nothing, a power cut may lose the
last events, never the database). Files, tables and everything read stay Dagster's,
so `dagster dev` reads the same history.

Configured in dagster_home/dagster.yaml; it overrides a private method of the pinned
dagster release (`_connect`), which tests/test_event_log.py checks.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import sqlalchemy as db
from dagster import StringSource
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData

# The dagster release `_connect` below was read against.
DAGSTER_CHECKED_WITH = "1.13.27"
# Engines kept open: the index and the few runs a process writes or reads at a time (a
# long-lived `dagster dev` reads many runs; the oldest engine is closed beyond this).
MAX_OPEN_DATABASES = 8


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` under `<dagster_home>/history/runs/` (its default place)
    with one engine per database file instead of one per write."""

    def __init__(self, dagster_home: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, db.Engine] = OrderedDict()
        self._dagster_home = dagster_home
        super().__init__(os.path.join(dagster_home, "history", "runs", ""), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> KeptOpenSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> db.Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = db.create_engine(
            self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        )
        db.event.listen(engine, "connect", _sync_at_checkpoints)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > MAX_OPEN_DATABASES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[db.Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _close_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_engines()  # the run files are deleted: no connection may write on into them
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()


def _sync_at_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
