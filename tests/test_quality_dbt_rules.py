"""dbt owns commercial_ratio's complete-periods rule (it left the mart suite, which read
raw.*): the test fails, naming each missing period, when the mart lacks one.

Fixture: one 100 USD invoice line on 2026-01-10 (no service period), no spend, fiscal
year from January, as_of_date 2026-09-30. The first data month is January 2026, so the
complete periods are fiscal quarters Q1-Q3 2026 (ending 03-31, 06-30, 09-30) and the
nine ttm periods ending January..September 2026 (FY2026 ends 12-31: not complete).
"""

from contextlib import closing

import duckdb
import pytest

from tests.support.dbt_fixtures import dbt_build, query, write_raw_tables

TEST = "assert_commercial_ratio_has_every_complete_period"
VARS = {"as_of_date": "2026-09-30", "fiscal_year_start_month": 1}
LINE = {
    "invoice_line_id": "L1",
    "invoice_id": "I1",
    "account_id": "A1",
    "invoice_date": "2026-01-10",
    "amount": 100.0,
    "currency": "USD",
    "line_type": "services",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("complete_periods")
    db = work / "work.duckdb"
    write_raw_tables(db, {"billing__invoice_lines": [LINE]})
    dbt_build(db, work / "target", select=f"+commercial_ratio {TEST}", vars=VARS)  # passes: nothing missing
    return db, work


def test_the_fixture_has_every_complete_period(built):
    db, _ = built
    rows = query(db, "select period_grain, count(*) as n from marts.commercial_ratio where is_complete group by all")
    assert {r["period_grain"]: r["n"] for r in rows} == {"fiscal_quarter": 3, "ttm": 9}


def test_a_missing_period_fails_naming_it(built):
    db, work = built
    with closing(duckdb.connect(str(db))) as con:
        con.execute(
            "delete from marts.commercial_ratio where (period_grain = 'fiscal_quarter' and period_start = '2026-01-01') "
            "or (period_grain = 'ttm' and period_end = '2026-03-31')"
        )
    with pytest.raises(AssertionError, match=TEST):
        dbt_build(db, work / "target", select=TEST, vars=VARS, command="test")
    rows = query(db, f"select period_grain, period_start, period_end from dbt_test__audit.{TEST} order by 1")
    assert [(r["period_grain"], str(r["period_start"]), str(r["period_end"])) for r in rows] == [
        ("fiscal_quarter", "2026-01-01", "2026-03-31"),
        ("ttm", "2025-04-01", "2026-03-31"),
    ]
