"""Opening the warehouse's DuckDB files, and the lock that keeps refreshes apart.

DuckDB allows one writing process or many reading ones on a file, never both, so
every refresh takes an exclusive lock on the warehouse dir first and every
connection is closed as soon as its step is done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.settings import Settings


class RefreshAlreadyRunning(RuntimeError):
    """Another refresh holds the warehouse lock."""


def connect(path: Path, settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to a warehouse file with the engine settings applied (UTC, limits)."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        str(path),
        read_only=read_only,
        config={
            "threads": settings.duckdb_threads,
            "memory_limit": settings.duckdb_memory_limit,
        },
    )
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # it prints even when not interactive
    return con


@contextlib.contextmanager
def open_db(
    path: Path, settings: Settings, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect`, closed on exit (so the file is free for the next process)."""
    con = connect(path, settings, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


# The lock files this process holds: a refresh takes the lock before its run starts, and
# the run's warehouse resource takes it again (it also guards runs the scheduler starts).
_HELD: set[Path] = set()


@dataclass(frozen=True)
class LockHolder:
    """Who holds a refresh lock, as written into the lock file."""

    pid: int
    run_id: str | None
    started_at: dt.datetime  # UTC

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id else ""
        return f"{run}process {self.pid}, started {self.started_at:%Y-%m-%d %H:%M:%S} UTC"


def new_run_id() -> str:
    """A Dagster run id (a UUID), chosen before the run starts so the lock file can name it."""
    return str(uuid.uuid4())


@contextlib.contextmanager
def refresh_lock(lock_path: Path, run_id: str | None = None) -> Iterator[None]:
    """Hold the warehouse's refresh lock; fail at once if another process holds it.

    The lock file names the holder (process, run, start time) for the refresh that is
    turned away. Taking it again in the process that holds it is a no-op.
    """
    lock_path = lock_path.resolve()
    if lock_path in _HELD:
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _read_holder(handle.read())
            raise RefreshAlreadyRunning(
                f"Another refresh is running on {lock_path.parent} "
                f"({holder.describe() if holder else 'holder unknown'}); "
                "it must finish before a new one starts."
            ) from None
        holder = LockHolder(os.getpid(), run_id, dt.datetime.now(dt.UTC).replace(microsecond=0))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": holder.pid, "run_id": run_id, "started_at": holder.started_at.isoformat()}))
        handle.flush()
        _HELD.add(lock_path)
        try:
            yield
        finally:
            _HELD.discard(lock_path)
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_holder(text: str) -> LockHolder | None:
    """The holder written by `refresh_lock`; None while it is still being written."""
    try:
        fields = json.loads(text)
        return LockHolder(int(fields["pid"]), fields["run_id"], dt.datetime.fromisoformat(fields["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None
