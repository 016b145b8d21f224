"""Extract files written by hand into a landing dir, and the work database they are ingested
into, for the tests of orchestration.lib.ingest (docs/landing-contract.md).

The headers are written out, not derived from lib/contract.py: a test's file is what a user
would export, and its rows are typed against that header.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

LOADED_AT = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
CAMPAIGN_HEADER = "campaign_id,campaign_name,channel,start_date,end_date"
OPP_HEADER = "opportunity_id,account_id,opportunity_type,created_at,close_date,stage,is_closed,is_won,amount,currency"


def work_database(folder: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A work database on disk in `folder`, as in production; a test module's `con` fixture
    yields from it."""
    connection = duckdb.connect(str(folder / "work.duckdb"))
    yield connection
    connection.close()


def land(landing: Path, folder: str, name: str, text: str) -> Path:
    """Write one extract file `landing/folder/name` holding exactly `text`."""
    path = landing / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def land_csv(landing: Path, folder: str, name: str, header: str, lines: Sequence[str]) -> Path:
    """Write one CSV extract: the header, then each line, every one ending in a newline."""
    return land(landing, folder, name, "".join(f"{line}\n" for line in (header, *lines)))


def land_campaigns(landing: Path, name: str, *lines: str) -> Path:
    """A crm/campaigns extract with the contract's header in its order."""
    return land_csv(landing, "crm/campaigns", name, CAMPAIGN_HEADER, lines)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()
