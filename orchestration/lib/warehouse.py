"""Opening the warehouse's DuckDB files, and the lock that keeps refreshes apart.

DuckDB allows one writing process or many reading ones on a file, never both, so
every refresh takes an exclusive lock on the warehouse dir first and every
connection is closed as soon as its step is done.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
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


@contextlib.contextmanager
def refresh_lock(lock_path: Path) -> Iterator[None]:
    """Hold the warehouse's refresh lock; fail at once if another refresh holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RefreshAlreadyRunning(
                f"Another refresh is running on {lock_path.parent} (process {holder}); "
                "it must finish before a new one starts."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
