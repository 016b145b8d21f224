"""`gtm export` (issue 17): the published tables as CSV, Parquet and one Excel workbook.

Hand-checked cells come from the hand-made publication of tests/support/published_fixture.py
(FY2025: revenue 1200, growth 200, band balanced); reading every export of the demo
publication back (pandas, openpyxl) gives every published value.
"""

from __future__ import annotations

import datetime as dt
import math
from contextlib import closing
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from orchestration.cli import main as gtm_cli
from orchestration.lib.export import WORKBOOK_NAME, ExportError, export, is_amount
from tests.support.published_fixture import write_published


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory) -> Path:
    return write_published(tmp_path_factory.mktemp("hand_made") / "published.duckdb")


def _published(path: Path) -> dict[str, tuple[list[tuple[str, str]], list[tuple]]]:
    """Every published table: (column, type) pairs and rows in file order."""
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        out = {}
        for table in tables:
            columns = con.execute("select column_name, data_type from information_schema.columns "
                                  "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                                  [table]).fetchall()
            out[table] = (columns, con.execute(f"select * from marts.{table}").fetchall())
    return out


def test_csv_cells_are_utf8_with_iso_dates(hand_made, tmp_path):
    result = export(hand_made, "csv", tmp_path, ["commercial_ratio"])
    assert result.files == (tmp_path / "commercial_ratio.csv",) and result.tables == {"commercial_ratio": 11}
    lines = (tmp_path / "commercial_ratio.csv").read_bytes().decode("utf-8").splitlines()
    assert lines[0] == ("period_grain,period_start,period_end,period_label,revenue,prior_revenue,revenue_growth,"
                        "marketing_expense,sales_expense,sm_expense,commercial_ratio,band,is_complete")
    fy2025 = lines[2].split(",")
    assert fy2025[:7] == ["fiscal_year", "2025-01-01", "2025-12-31", "FY2025", "1200.0", "1000.0", "200.0"]
    assert float(fy2025[9]) == 200 / 1.1 and fy2025[10:] == ["1.1", "balanced", "true"]
    assert lines[1].split(",")[5:7] == ["", ""]  # FY2024 has no prior year: empty, not 0


def test_parquet_keeps_the_published_types(hand_made, tmp_path):
    export(hand_made, "parquet", tmp_path, ["commercial_ratio", "publication"])
    ratio = pq.read_table(tmp_path / "commercial_ratio.parquet")
    types = {field.name: str(field.type) for field in ratio.schema}
    assert (types["period_start"], types["revenue"], types["is_complete"], types["band"]) == (
        "date32[day]", "double", "bool", "string")
    row = ratio.to_pylist()[1]
    assert (row["period_label"], row["period_start"], row["revenue_growth"], row["band"]) == (
        "FY2025", dt.date(2025, 1, 1), 200.0, "balanced")
    publication = pq.read_table(tmp_path / "publication.parquet").to_pylist()
    assert publication[-1]["published_at"] == dt.datetime(2026, 11, 27, 2, 5)
    assert publication[-1]["rows_loaded"] == 1100


def test_the_workbook_has_a_sheet_per_table_dates_as_dates_and_amounts_in_the_currency(hand_made, tmp_path):
    result = export(hand_made, "xlsx", tmp_path, ["commercial_ratio", "fct_opportunities"])
    assert result.files == (tmp_path / WORKBOOK_NAME,)
    book = openpyxl.load_workbook(tmp_path / WORKBOOK_NAME)
    assert book.sheetnames == ["commercial_ratio", "fct_opportunities"]
    ratio = book["commercial_ratio"]
    header = [c.value for c in ratio[1]]
    assert header[:7] == ["period_grain", "period_start", "period_end", "period_label", "revenue (USD)",
                          "prior_revenue (USD)", "revenue_growth (USD)"]
    assert header[9:] == ["sm_expense (USD)", "commercial_ratio", "band", "is_complete"]
    start, revenue, ratio_cell, complete = ratio["B3"], ratio["E3"], ratio["K3"], ratio["M3"]
    assert start.is_date and start.value == dt.datetime(2025, 1, 1)
    assert revenue.data_type == "n" and revenue.value == 1200.0 and revenue.number_format == "#,##0.00"
    assert ratio_cell.value == 1.1 and ratio_cell.number_format == "General"
    assert complete.value is True
    assert ratio["F2"].value is None  # FY2024's prior revenue: an empty cell
    opportunities = [c.value for c in book["fct_opportunities"][1]]
    assert "amount" in opportunities and "amount_reporting (USD)" in opportunities  # amount is in its own currency


def test_amount_columns():
    amounts = ["won_amount", "sm_expense", "ending_mrr", "expiring_arr", "cost_per_lead", "spend", "revenue_growth"]
    others = ["win_rate", "return_on_spend", "recognized_amount_local", "amount", "commercial_ratio", "nrr", "leads"]
    assert [c for c in amounts if is_amount(c, "DOUBLE")] == amounts
    assert [c for c in others if is_amount(c, "DOUBLE")] == []
    assert not is_amount("expiring_arr", "BIGINT")


@pytest.fixture(scope="module")
def demo(published_demo) -> Path:
    return published_demo / "published.duckdb"


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def test_every_export_of_the_demo_reads_back_as_published(demo, tmp_path):
    published = _published(demo)
    for output_format in ("csv", "parquet", "xlsx"):
        result = export(demo, output_format, tmp_path / output_format)
        assert set(result.tables) == set(published)
    book = openpyxl.load_workbook(tmp_path / "xlsx" / WORKBOOK_NAME, read_only=True)
    assert book.sheetnames == sorted(published)
    for table, (columns, rows) in published.items():
        names = [name for name, _ in columns]
        parquet = pd.read_parquet(tmp_path / "parquet" / f"{table}.parquet")
        assert list(parquet.columns) == names
        assert [tuple(None if pd.isna(v) else v for v in r) for r in parquet.astype(object).itertuples(index=False)] \
            == [tuple(_pandas_value(v) for v in r) for r in rows], table
        text = pd.read_csv(tmp_path / "csv" / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        assert list(text.columns) == names
        for got, want in zip(text.itertuples(index=False), rows, strict=True):
            for cell, value, (name, data_type) in zip(got, want, columns, strict=True):
                if data_type == "DOUBLE" and value is not None:
                    assert float(cell) == value, (table, name)
                else:
                    assert cell == _csv_text(value), (table, name, cell, value)
        sheet = list(book[table].iter_rows(values_only=True))
        assert [h.removesuffix(" (USD)") for h in sheet[0]] == names
        for got, want in zip(sheet[1:], rows, strict=True):
            got = (*got, *[None] * (len(columns) - len(got)))  # trailing empty cells are not stored
            for cell, value, (name, _) in zip(got, want, columns, strict=True):
                assert _same_in_excel(cell, value), (table, name, cell, value)


def _same_in_excel(cell, value) -> bool:
    """openpyxl writes a float with 16 significant digits (Excel shows 15): 0.1 + 0.2
    comes back as 0.3, and 1200.0 as the number 1200. A timestamp keeps its milliseconds
    (Excel's precision), a date comes back as a midnight datetime, the rest as it is."""
    if isinstance(value, float):
        return type(cell) in (int, float) and math.isclose(cell, value, rel_tol=1e-15, abs_tol=0)
    if isinstance(value, dt.datetime):
        return isinstance(cell, dt.datetime) and abs(cell - value) <= dt.timedelta(microseconds=500)
    if isinstance(value, dt.date):
        return cell == dt.datetime.combine(value, dt.time())
    return cell == value and type(cell) is type(value)


def _pandas_value(value):
    return pd.Timestamp(value) if isinstance(value, dt.datetime) else value


def test_a_file_that_is_not_a_publication_is_refused(tmp_path):
    plain = tmp_path / "work.duckdb"
    with closing(duckdb.connect(str(plain))) as con:
        con.execute("create schema marts")
        con.execute("create table marts.lead_funnel as select 1 as leads")
    with pytest.raises(ExportError, match=r"work\.duckdb is not a published file \(it has no marts\.publication"):
        export(plain, "csv", tmp_path / "out")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ExportError, match=r"notes\.txt is not a published file"):
        export(tmp_path / "notes.txt", "csv", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_unwritable_folder_or_unknown_table_is_a_clear_error(hand_made, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(ExportError, match=r"cannot write into .*a_file/exports"):
        export(hand_made, "parquet", blocker / "exports")
    with pytest.raises(ExportError, match=r"has no table\(s\) lead_funel in marts; it has: .*lead_funnel"):
        export(hand_made, "csv", tmp_path / "out", ["lead_funel"])


def test_the_command_exports_and_reports_errors(hand_made, tmp_path):
    runner = CliRunner()
    done = runner.invoke(gtm_cli, ["export", "--format", "csv", "--tables", "win_rates,renewals", "--out",
                                   str(tmp_path / "out"), "--published", str(hand_made)])
    assert done.exit_code == 0, done.output
    assert "Exported 2 table(s), 6 rows, as csv:" in done.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["renewals.csv", "win_rates.csv"]
    failed = runner.invoke(gtm_cli, ["export", "--format", "xlsx", "--out", str(tmp_path / "x"), "--published",
                                     str(tmp_path / "missing.duckdb")])
    assert failed.exit_code == 1 and "No published file at" in failed.output
