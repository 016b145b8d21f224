"""The files around a Spark build, without Spark: the ingested tables written as Parquet
for Spark (lib/engine/parquet_export.py), and Spark's mart tables read back into DuckDB
with their contract types (lib/engine/spark_marts.py)."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.lib.dbt_manifest import Mart, MartColumn
from orchestration.lib.engine.parquet_export import export_entities
from orchestration.lib.engine.spark_marts import SparkMartMissing, import_marts

LEADS = ENTITIES_BY_NAME["crm__leads"]
SPEND = ENTITIES_BY_NAME["finance__spend"]
OPPORTUNITIES = ENTITIES_BY_NAME["crm__opportunities"]


def _read(path: Path) -> list[tuple]:
    with closing(duckdb.connect()) as con:
        return con.execute("select * from read_parquet(?) order by all", [f"{path}/*.parquet"]).fetchall()


def test_raw_and_quarantine_go_to_one_folder_per_table(tmp_path):
    with closing(duckdb.connect()) as con:
        con.execute("create schema raw; create schema quarantine")
        con.execute("create table raw.crm__leads as select 'L1' as lead_id, date '2026-01-31' as created_date")
        con.execute("create table quarantine.crm__leads as select 'L2' as lead_id, 'not a date' as created_date")
        # finance__spend was not ingested: no table, no folder
        written = export_entities(con, [LEADS, SPEND], tmp_path)
    assert written == [tmp_path / "raw" / "crm__leads", tmp_path / "quarantine" / "crm__leads"]
    assert _read(tmp_path / "raw" / "crm__leads") == [("L1", dt.date(2026, 1, 31))]
    assert _read(tmp_path / "quarantine" / "crm__leads") == [("L2", "not a date")]
    assert not (tmp_path / "raw" / "finance__spend").exists()


def test_the_opportunities_snapshots_go_to_spark_too(tmp_path):
    """The pipeline-history source reads every version each extract held."""
    with closing(duckdb.connect()) as con:
        con.execute("create schema raw")
        con.execute("create table raw.crm__opportunities as select 'O1' as opportunity_id, 20 as amount")
        con.execute(
            "create table raw.crm__opportunities_snapshots as "
            "select * from (values ('O1', 10, date '2026-01-31'), ('O1', 20, date '2026-02-28')) "
            "as t(opportunity_id, amount, _extract_date)"
        )
        written = export_entities(con, [OPPORTUNITIES], tmp_path)
    assert written == [tmp_path / "raw" / "crm__opportunities", tmp_path / "raw" / "crm__opportunities_snapshots"]
    assert _read(tmp_path / "raw" / "crm__opportunities_snapshots") == [
        ("O1", 10, dt.date(2026, 1, 31)),
        ("O1", 20, dt.date(2026, 2, 28)),
    ]


def test_a_new_export_replaces_the_old_one_whole(tmp_path):
    with closing(duckdb.connect()) as con:
        con.execute("create schema raw")
        con.execute("create table raw.crm__leads as select 'L1' as lead_id")
        export_entities(con, [LEADS], tmp_path)
        con.execute("create or replace table raw.crm__leads as select 'L3' as lead_id union all select 'L4'")
        export_entities(con, [LEADS], tmp_path)
    assert _read(tmp_path / "raw" / "crm__leads") == [("L3",), ("L4",)]
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["crm__leads"]  # no leftover .new folder


def _mart(name: str, *columns: tuple[str, str]) -> Mart:
    return Mart(
        name=name, unique_id=f"model.gtm_warehouse.{name}", access="public", contract_enforced=True,
        description="", columns=tuple(MartColumn(c, t, "", {}) for c, t in columns), grain=(), meta={},
    )  # fmt: skip


def _spark_table(warehouse: Path, name: str, query: str) -> None:
    folder = warehouse / "marts.db" / name
    folder.mkdir(parents=True)
    with closing(duckdb.connect()) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"copy ({query}) to '{folder / 'part-00000.parquet'}' (format parquet)")


def test_marts_take_their_contract_types_not_the_parquet_ones(tmp_path):
    # as Spark writes them: an INT where the contract says BIGINT, a zoned timestamp, columns reordered
    _spark_table(
        tmp_path, "wins",
        "select timestamptz '2026-03-01 10:00:00+00' as closed_at, cast(7 as integer) as won, 'Mid' as segment",
    )  # fmt: skip
    mart = _mart("wins", ("segment", "VARCHAR"), ("won", "BIGINT"), ("closed_at", "TIMESTAMP"))
    with closing(duckdb.connect()) as con:
        con.execute("set TimeZone = 'UTC'")
        assert import_marts(con, [mart], tmp_path) == ["wins"]
        types = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'wins' order by ordinal_position"
        ).fetchall()
        rows = con.execute("select * from marts.wins").fetchall()
    assert types == [("segment", "VARCHAR"), ("won", "BIGINT"), ("closed_at", "TIMESTAMP")]
    assert rows == [("Mid", 7, dt.datetime(2026, 3, 1, 10, 0))]


def test_an_empty_spark_table_is_an_empty_typed_mart(tmp_path):
    (tmp_path / "marts.db" / "nothing").mkdir(parents=True)  # Spark may write no file
    with closing(duckdb.connect()) as con:
        import_marts(con, [_mart("nothing", ("month", "DATE"))], tmp_path)
        assert con.execute("select count(*) from marts.nothing").fetchone() == (0,)


def test_a_mart_spark_did_not_write_stops_the_import_naming_it(tmp_path):
    with closing(duckdb.connect()) as con, pytest.raises(SparkMartMissing, match=r"marts\.absent: no Spark table"):
        import_marts(con, [_mart("absent", ("month", "DATE"))], tmp_path)
