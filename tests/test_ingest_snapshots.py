"""raw.crm__opportunities_snapshots: every version each opportunities extract held (pipeline history)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from orchestration.lib.contract import OPPORTUNITIES
from orchestration.lib.ingest import ingest_entity
from orchestration.lib.ingest.snapshots import extract_date

LOADED_AT = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
HEADER = "opportunity_id,account_id,opportunity_type,created_at,close_date,stage,is_closed,is_won,amount,currency"


def land(landing, name: str, lines: list[str]) -> None:
    folder = landing / "crm" / "opportunities"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield connection
    connection.close()


def test_every_file_keeps_its_versions_with_its_extract_date(con, tmp_path):
    land(
        tmp_path,
        "2026-01-31.csv",
        [
            "o1,a1,new_business,2026-01-05,2026-03-01,Discovery,false,false,100,USD",
            "o2,a1,renewal,2026-01-10,2026-02-15,Proposal,false,false,50,EUR",
        ],
    )
    land(
        tmp_path,
        "2026-02-28.csv",
        [
            "o1,a1,new_business,2026-01-05,2026-03-01,Discovery,false,false,150,USD",  # amount changed
            "o2,a1,renewal,2026-01-10,2026-02-15,Closed Won,true,true,50,EUR",
            "o2,a1,renewal,2026-01-10,2026-02-15,Closed Won,true,true,50,EUR",  # a repeated row counts once
            "o3,a2,expansion,2026-02-20,2026-04-01,Discovery,false,false,not-a-number,USD",  # quarantined
        ],
    )
    land(tmp_path, "backup.csv", ["o1,a1,new_business,2026-01-05,2026-03-01,Discovery,false,false,100,USD"])

    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)

    got = con.execute(
        """select opportunity_id, stage, amount, _source_file, _extract_date, _source_row
           from raw.crm__opportunities_snapshots order by _source_file, opportunity_id"""
    ).fetchall()
    assert got == [
        ("o1", "Discovery", 100, "crm/opportunities/2026-01-31.csv", dt.date(2026, 1, 31), 1),
        ("o2", "Proposal", 50, "crm/opportunities/2026-01-31.csv", dt.date(2026, 1, 31), 2),
        ("o1", "Discovery", 150, "crm/opportunities/2026-02-28.csv", dt.date(2026, 2, 28), 1),
        ("o2", "Closed Won", 50, "crm/opportunities/2026-02-28.csv", dt.date(2026, 2, 28), 2),
        ("o1", "Discovery", 100, "crm/opportunities/backup.csv", None, 1),
    ]
    # the current-state table still holds one row per key, the last file winning
    assert con.execute("select count(*) from raw.crm__opportunities").fetchone() == (2,)
    columns = [row[0] for row in con.execute("describe raw.crm__opportunities_snapshots").fetchall()]
    assert columns == [*OPPORTUNITIES.column_names, "_source_file", "_extract_date", "_source_row", "_loaded_at"]


def test_a_file_holding_one_key_twice_keeps_each_version_at_its_first_row(con, tmp_path):
    # o1 twice with different amounts (a key conflict: both versions kept), o2 twice the
    # same (counted once, at its first row), o3 once; the next file holds each key once
    land(
        tmp_path,
        "2026-01-31.csv",
        [
            "o1,a1,new_business,2026-01-05,2026-03-01,Discovery,false,false,100,USD",
            "o2,a1,renewal,2026-01-10,2026-02-15,Proposal,false,false,50,EUR",
            "o1,a1,new_business,2026-01-05,2026-03-01,Discovery,false,false,120,USD",
            "o2,a1,renewal,2026-01-10,2026-02-15,Proposal,false,false,50,EUR",
            "o3,a2,expansion,2026-01-20,2026-04-01,Discovery,false,false,70,USD",
        ],
    )
    land(
        tmp_path,
        "2026-02-28.csv",
        [
            "o2,a1,renewal,2026-01-10,2026-02-15,Closed Won,true,true,50,EUR",
            "o1,a1,new_business,2026-01-05,2026-03-01,Negotiation,false,false,120,USD",
        ],
    )

    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)

    got = con.execute(
        """select opportunity_id, stage, amount, _extract_date, _source_row
           from raw.crm__opportunities_snapshots order by _source_file, _source_row"""
    ).fetchall()
    assert got == [
        ("o1", "Discovery", 100, dt.date(2026, 1, 31), 1),
        ("o2", "Proposal", 50, dt.date(2026, 1, 31), 2),
        ("o1", "Discovery", 120, dt.date(2026, 1, 31), 3),
        ("o3", "Discovery", 70, dt.date(2026, 1, 31), 5),
        ("o2", "Closed Won", 50, dt.date(2026, 2, 28), 1),
        ("o1", "Negotiation", 120, dt.date(2026, 2, 28), 2),
    ]
    # the table is written in (file, row) order, as the rest of raw
    in_table_order = con.execute("select _extract_date, _source_row from raw.crm__opportunities_snapshots")
    assert in_table_order.fetchall() == [(row[3], row[4]) for row in got]


def test_a_second_ingest_replaces_the_snapshots_rather_than_adding_to_them(con, tmp_path):
    land(tmp_path, "2026-01-31.csv", ["o1,a1,new_business,2026-01-05,2026-03-01,Discovery,false,false,100,USD"])
    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    assert con.execute("select count(*) from raw.crm__opportunities_snapshots").fetchone() == (1,)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("crm/opportunities/2026-11-26.csv", dt.date(2026, 11, 26)),
        ("crm/opportunities/2026-11-26T0200.parquet", dt.date(2026, 11, 26)),
        ("crm/opportunities/backup.CSV", None),
        ("crm/opportunities/2026-13-01.csv", None),
        ("crm/opportunities/20261126.csv", None),
    ],
)
def test_extract_date_is_the_iso_date_the_file_name_begins_with(name, expected):
    assert extract_date(name) == expected
