"""Revenue recognition, spend conversion, the fiscal calendar with a fiscal year
starting in February, and the blocking currency check, over hand-made raw tables.

as_of_date 2026-03-15, fiscal_year_start_month 2 (FY2026 = Feb 2025 - Jan 2026,
FY2027-Q1 = Feb - Apr 2026). EUR rates: 1.5 from 2025-12-01, 1.25 from 2026-01-01,
then a gap until 2.0 from 2026-03-01. GBP: 1.5 from 2026-01-01 only.

Invoice lines (revenue in USD, worked out by hand):
    L1  USD 300 subscription, service 2026-01-16..2026-02-15 (30 days):
        Jan 16 days = 160 (FY2026), Feb 14 days = 140 (FY2027)
    L2  EUR 900 subscription, invoiced 2026-01-05 (rate 1.25), service
        2026-01-01..2026-04-01 (90 days), cut at as_of_date:
        Jan 310 EUR = 387.5, Feb 280 EUR = 350, Mar 1-15 150 EUR = 187.5
    L3  USD -90 credit, no period, 2026-02-20: Feb -90
    L4  USD 50 one_time, only service_start, 2026-03-10: Mar 50
    L5  USD 40, invoiced 2026-03-20 (after as_of_date): nothing
    L6  USD 30, invoiced 2026-03-01 for April (after as_of_date): nothing
    L8  USD 310 services, invoiced 2026-02-01 in arrears for December 2025: Dec 310
    L9  EUR 100 services, 2026-02-10, in the rate gap (last rate 1.25): Feb 125
    L10 EUR 80 one_time, 2026-03-01 (rate of that very day, 2.0): Mar 160
    L11 EUR 40 one_time, 2025-12-31 (rate 1.5): Dec 60
Months: Dec 370, Jan 547.5, Feb 525, Mar 397.5; total 1840.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.dbt_fixtures import build_fixture, dbt_build, query

AS_OF = "2026-03-15"
VARS = {"as_of_date": AS_OF, "fiscal_year_start_month": 2}
SELECT = "+commercial_ratio +fct_revenue_monthly +fct_spend_monthly +dim_dates +assert_every_amount_converts"


def _line(
    line_id: str,
    invoice_date: str,
    amount: float,
    currency: str,
    line_type: str,
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    return {
        "invoice_line_id": line_id,
        "invoice_id": f"INV-{line_id}",
        "account_id": "A1",
        "invoice_date": invoice_date,
        "service_start": start,
        "service_end": end,
        "amount": amount,
        "currency": currency,
        "line_type": line_type,
    }


def _spend(
    spend_id: str,
    spend_date: str,
    department: str,
    category: str,
    amount: float,
    currency: str = "USD",
    channel: str | None = None,
    campaign_id: str | None = None,
) -> dict[str, Any]:
    return {
        "spend_id": spend_id,
        "spend_date": spend_date,
        "department": department,
        "category": category,
        "channel": channel,
        "campaign_id": campaign_id,
        "amount": amount,
        "currency": currency,
    }


RAW: dict[str, list[dict[str, Any]]] = {
    "crm__accounts": [
        {"account_id": "A1", "account_name": "Acme", "created_at": "2024-01-01 00:00:00"},
    ],
    "crm__campaigns": [
        {"campaign_id": "C1", "campaign_name": "Summit", "channel": "events", "start_date": "2025-01-01"},
    ],
    "finance__fx_rates": [
        {"rate_date": "2025-12-01", "currency": "EUR", "rate_to_reporting": 1.5},
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.25},
        {"rate_date": "2026-03-01", "currency": "EUR", "rate_to_reporting": 2.0},
        {"rate_date": "2026-01-01", "currency": "GBP", "rate_to_reporting": 1.5},
        {"rate_date": "2020-01-01", "currency": "USD", "rate_to_reporting": 7.0},  # ignored: USD is 1
    ],
    "billing__invoice_lines": [
        _line("L1", "2026-01-16", 300, "USD", "subscription", "2026-01-16", "2026-02-15"),
        _line("L2", "2026-01-05", 900, "EUR", "subscription", "2026-01-01", "2026-04-01"),
        _line("L3", "2026-02-20", -90, "USD", "credit"),
        _line("L4", "2026-03-10", 50, "USD", "one_time", "2026-03-01", None),
        _line("L5", "2026-03-20", 40, "USD", "services", "2026-03-01", "2026-03-11"),
        _line("L6", "2026-03-01", 30, "USD", "subscription", "2026-04-01", "2026-05-01"),
        _line("L8", "2026-02-01", 310, "USD", "services", "2025-12-01", "2026-01-01"),
        _line("L9", "2026-02-10", 100, "EUR", "services"),
        _line("L10", "2026-03-01", 80, "EUR", "one_time"),
        _line("L11", "2025-12-31", 40, "EUR", "one_time"),
    ],
    "finance__spend": [
        _spend("S1", "2025-12-05", "marketing", "advertising", 100, channel="paid_search"),
        _spend("S2", "2026-01-20", "marketing", "events", 200, "GBP", campaign_id="C1"),
        _spend("S3", "2026-02-25", "sales", "salaries", 400),
        _spend("S4", "2026-03-02", "marketing", "content", 50, "EUR", campaign_id="C9"),  # unknown campaign
        _spend("S5", "2026-02-14", "marketing", "events", 100, "GBP", campaign_id="C1"),
        _spend("S6", "2026-03-16", "marketing", "advertising", 999),  # after as_of_date
        _spend("S7", "2026-03-15", "sales", "commissions", -40),  # a reversal, on as_of_date
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    db_path = build_fixture(tmp_path_factory, "revenue_recognition", RAW, SELECT, VARS)
    yield db_path, db_path.parent


@pytest.fixture(scope="module")
def db(built: tuple[Path, Path]) -> Path:
    return built[0]


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_lines_spread_per_day_over_months_and_cut_at_as_of(db: Path) -> None:
    rows = query(
        db,
        "select invoice_line_id, month, recognized_days, total_days, rate_to_reporting, revenue "
        "from intermediate.int_invoice_lines_recognized order by invoice_line_id, month",
    )
    got = {(r["invoice_line_id"], str(r["month"])): r for r in rows}
    expected = {
        ("L1", "2026-01-01"): (16, 30, 1.0, 160),
        ("L1", "2026-02-01"): (14, 30, 1.0, 140),
        ("L2", "2026-01-01"): (31, 90, 1.25, 387.5),
        ("L2", "2026-02-01"): (28, 90, 1.25, 350),
        ("L2", "2026-03-01"): (15, 90, 1.25, 187.5),  # as_of_date cuts the period
        ("L3", "2026-02-01"): (1, 1, 1.0, -90),
        ("L4", "2026-03-01"): (1, 1, 1.0, 50),
        ("L8", "2025-12-01"): (31, 31, 1.0, 310),
        ("L9", "2026-02-01"): (1, 1, 1.25, 125),  # in the gap: the last rate before it
        ("L10", "2026-03-01"): (1, 1, 2.0, 160),
        ("L11", "2025-12-01"): (1, 1, 1.5, 60),
    }
    assert set(got) == set(expected)
    for key, (days, total, rate, revenue) in expected.items():
        row = got[key]
        assert (row["recognized_days"], row["total_days"]) == (days, total), key
        assert row["rate_to_reporting"] == pytest.approx(rate), key
        assert row["revenue"] == pytest.approx(revenue), key


def test_revenue_monthly_by_line_type_and_currency(db: Path) -> None:
    rows = query(
        db,
        "select month, line_type, currency, invoice_lines, recognized_amount_local, revenue, "
        "fiscal_year, fiscal_quarter_label from marts.fct_revenue_monthly",
    )
    got = {(str(r["month"]), r["line_type"], r["currency"]): r for r in rows}
    expected = {
        ("2025-12-01", "services", "USD"): (1, 310, 310),
        ("2025-12-01", "one_time", "EUR"): (1, 40, 60),
        ("2026-01-01", "subscription", "USD"): (1, 160, 160),
        ("2026-01-01", "subscription", "EUR"): (1, 310, 387.5),
        ("2026-02-01", "subscription", "USD"): (1, 140, 140),
        ("2026-02-01", "subscription", "EUR"): (1, 280, 350),
        ("2026-02-01", "credit", "USD"): (1, -90, -90),
        ("2026-02-01", "services", "EUR"): (1, 100, 125),
        ("2026-03-01", "subscription", "EUR"): (1, 150, 187.5),
        ("2026-03-01", "one_time", "USD"): (1, 50, 50),
        ("2026-03-01", "one_time", "EUR"): (1, 80, 160),
    }
    assert set(got) == set(expected)
    for key, (lines, local, revenue) in expected.items():
        assert got[key]["invoice_lines"] == lines, key
        assert got[key]["recognized_amount_local"] == pytest.approx(local), key
        assert got[key]["revenue"] == pytest.approx(revenue), key
    # February 2026 opens FY2027 when the fiscal year starts in February
    assert (
        got[("2026-01-01", "subscription", "USD")]["fiscal_year"],
        got[("2026-01-01", "subscription", "USD")]["fiscal_quarter_label"],
    ) == (2026, "FY2026-Q4")
    assert (
        got[("2026-02-01", "credit", "USD")]["fiscal_year"],
        got[("2026-02-01", "credit", "USD")]["fiscal_quarter_label"],
    ) == (2027, "FY2027-Q1")
    assert sum(r["revenue"] for r in rows) == pytest.approx(1840)


def test_spend_monthly_channels_and_rates(db: Path) -> None:
    rows = query(db, "select month, department, category, channel, spend_rows, spend from marts.fct_spend_monthly")
    got = {(str(r["month"]), r["department"], r["category"], r["channel"]): r["spend"] for r in rows}
    assert got == pytest.approx(
        {
            ("2025-12-01", "marketing", "advertising", "paid_search"): 100,
            ("2026-01-01", "marketing", "events", "events"): 300,  # 200 GBP at 1.5, campaign's channel
            ("2026-02-01", "marketing", "events", "events"): 150,  # 100 GBP at the last rate (1.5)
            ("2026-02-01", "sales", "salaries", "(unattributed)"): 400,
            ("2026-03-01", "marketing", "content", "(unattributed)"): 100,  # unknown campaign; 50 EUR at 2.0
            ("2026-03-01", "sales", "commissions", "(unattributed)"): -40,
        }
    )


def test_commercial_ratio_with_february_fiscal_year(db: Path) -> None:
    rows = query(db, "select * from marts.commercial_ratio order by period_grain, period_start")
    got = {r["period_label"]: r for r in rows}
    assert sorted(got) == sorted(
        [
            "FY2026",
            "FY2027",
            "FY2026-Q4",
            "FY2027-Q1",
            "TTM-2025-12",
            "TTM-2026-01",
            "TTM-2026-02",
            "TTM-2026-03",
        ]
    )
    fy26, fy27 = got["FY2026"], got["FY2027"]
    assert (fy26["period_start"], fy26["period_end"]) == (_d("2025-02-01"), _d("2026-01-31"))
    assert (fy27["period_start"], fy27["period_end"]) == (_d("2026-02-01"), _d("2027-01-31"))
    # L1 is split over the boundary: 160 in FY2026, 140 in FY2027
    assert fy26["revenue"] == pytest.approx(370 + 547.5)
    assert fy27["revenue"] == pytest.approx(525 + 397.5)
    assert (fy26["marketing_expense"], fy26["sales_expense"]) == pytest.approx((400, 0))
    assert (fy27["marketing_expense"], fy27["sales_expense"], fy27["sm_expense"]) == pytest.approx((250, 360, 610))
    # FY2026 starts (Feb 2025) before the first data month (Dec 2025): no prior for FY2027
    assert fy27["prior_revenue"] is None and fy27["commercial_ratio"] is None and fy27["band"] is None
    assert (fy26["is_complete"], fy27["is_complete"]) == (True, False)
    q4, q1 = got["FY2026-Q4"], got["FY2027-Q1"]
    assert (q4["period_start"], q4["period_end"]) == (_d("2025-11-01"), _d("2026-01-31"))
    assert (q1["period_start"], q1["period_end"]) == (_d("2026-02-01"), _d("2026-04-30"))
    ttm = got["TTM-2026-03"]
    assert (ttm["period_start"], ttm["period_end"]) == (_d("2025-04-01"), _d("2026-03-31"))
    assert ttm["revenue"] == pytest.approx(1840)
    assert ttm["sm_expense"] == pytest.approx(1010)
    assert ttm["is_complete"] is False
    assert got["TTM-2026-02"]["is_complete"] is True


def test_dim_dates_with_february_fiscal_year(db: Path) -> None:
    (span,) = query(db, "select min(date_day) as lo, max(date_day) as hi, count(*) as n from marts.dim_dates")
    # L8's service_start (2025-12-01) is the first date; as_of_date the last
    assert (span["lo"], span["hi"], span["n"]) == (_d("2025-12-01"), _d(AS_OF), 31 + 31 + 28 + 15)
    rows = query(
        db,
        "select date_day, fiscal_year_label, fiscal_quarter_label, fiscal_quarter_start, fiscal_year_start, "
        "fiscal_year_end, month_label from marts.dim_dates "
        "where date_day in ('2025-12-31', '2026-01-31', '2026-02-01', '2026-03-15') order by date_day",
    )
    assert [tuple(str(v) for v in r.values()) for r in rows] == [
        ("2025-12-31", "FY2026", "FY2026-Q4", "2025-11-01", "2025-02-01", "2026-01-31", "2025-12"),
        ("2026-01-31", "FY2026", "FY2026-Q4", "2025-11-01", "2025-02-01", "2026-01-31", "2026-01"),
        ("2026-02-01", "FY2027", "FY2027-Q1", "2026-02-01", "2026-02-01", "2027-01-31", "2026-02"),
        ("2026-03-15", "FY2027", "FY2027-Q1", "2026-02-01", "2026-02-01", "2027-01-31", "2026-03"),
    ]


def test_amount_without_rate_blocks_naming_currency_and_earliest_date(built: tuple[Path, Path]) -> None:
    db_path, tmp = built
    failing = tmp / "failing"
    failing.mkdir()
    copy = failing / "work.duckdb"  # same file name: the views' catalog is "work"
    shutil.copy(db_path, copy)
    with closing(duckdb.connect(str(copy))) as con:
        con.execute(
            "insert into raw.finance__spend (spend_id, spend_date, department, category, amount, currency) values "
            "('X1', '2026-01-10', 'marketing', 'events', 10, 'JPY'), "
            "('X2', '2026-01-05', 'marketing', 'events', 10, 'JPY'), "
            "('X3', '2026-04-01', 'marketing', 'events', 10, 'NOK')"  # after as_of_date: not checked
        )
        con.execute(
            "insert into raw.billing__invoice_lines "
            "(invoice_line_id, invoice_id, account_id, invoice_date, amount, currency, line_type) values "
            "('X4', 'I', 'A1', '2026-03-01', 5, 'SEK', 'services')"
        )
        con.execute(
            "insert into raw.billing__subscriptions "
            "(subscription_id, account_id, start_date, arr, currency) values "
            "('X5', 'A1', '2025-12-15', 1200, 'GBP'), "  # before GBP's first rate
            "('X6', 'A1', '2026-06-01', 1200, 'NOK')"  # starts after as_of_date: not checked
        )
        con.execute(
            "insert into raw.crm__opportunities (opportunity_id, account_id, opportunity_type, created_at, "
            "close_date, stage, is_closed, is_won, amount, currency) values "
            # open: its date is created_at's
            "('O1', 'A1', 'new_business', '2026-02-01 23:30:00', '2026-12-01', 'Open', false, false, 9, 'CHF'), "
            # closed by as_of_date: close_date (its created_at, 2025-11-01, does not count)
            "('O2', 'A1', 'new_business', '2025-11-01 00:00:00', '2026-03-01', 'Won', true, true, 9, 'CHF'), "
            # closed before EUR's first rate
            "('O3', 'A1', 'new_business', '2025-01-01 00:00:00', '2025-06-01', 'Lost', true, false, 9, 'EUR'), "
            # closed after as_of_date counts as open: created 2026-02-10, EUR converts (1.25)
            "('O4', 'A1', 'new_business', '2026-02-10 08:00:00', '2026-05-01', 'Won', true, true, 9, 'EUR'), "
            # created after as_of_date: not checked
            "('O5', 'A1', 'new_business', '2026-04-01 00:00:00', '2026-05-01', 'Open', false, false, 9, 'DKK'), "
            # created after as_of_date, even with a close_date before it: does not exist yet
            "('O6', 'A1', 'new_business', '2026-04-01 00:00:00', '2026-03-01', 'Won', true, true, 9, 'PLN')"
        )
    with pytest.raises(AssertionError, match="assert_every_amount_converts"):
        dbt_build(copy, failing / "target", select="assert_every_amount_converts", vars=VARS, command="test")
    rows = query(
        copy,
        "select source_entity, currency, earliest_date_without_rate, amounts_without_rate, example_record_id, "
        "failure_message "
        "from dbt_test__audit.assert_every_amount_converts order by source_entity, currency",
    )
    assert [
        (r["source_entity"], r["currency"], str(r["earliest_date_without_rate"]), r["amounts_without_rate"])
        for r in rows
    ] == [
        ("billing__invoice_lines", "SEK", "2026-03-01", 1),
        ("billing__subscriptions", "GBP", "2025-12-15", 1),
        ("crm__opportunities", "CHF", "2026-02-01", 2),
        ("crm__opportunities", "EUR", "2025-06-01", 1),
        ("finance__spend", "JPY", "2026-01-05", 2),
    ]
    jpy = rows[-1]
    assert "JPY" in jpy["failure_message"] and "2026-01-05" in jpy["failure_message"]
    assert "finance__spend" in jpy["failure_message"]
    assert jpy["example_record_id"] == "X2"  # the amount on the earliest date
