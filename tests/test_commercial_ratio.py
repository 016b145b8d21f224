"""marts.commercial_ratio over hand-made raw tables, numbers worked out on paper.

Scenario: fiscal_year_start_month 7 (FY2026 = Jul 2025 - Jun 2026, Q3 = Jan-Mar),
as_of_date 2026-08-15 (inside FY2027-Q1 and August 2026). Revenue comes mostly from
invoice lines without a service period, one per quarter on the 10th of its first
month; spend sits on the first day of the quarter unless stated. The first data month
is July 2023 (revenue on 2023-07-10, spend on 2023-07-15).

Quarterly revenue R and S&M expense S, quarter ratio = 4 x (R - R_prior) / S:

    quarter    months             R     S     ratio             band
    FY2024-Q1  Jul-Sep 2023    1000   100    (no prior)
    FY2024-Q2  Oct-Dec 2023    1300  1600    1200/1600 = 0.75   balanced (t1 exactly)
    FY2024-Q3  Jan-Mar 2024    1600   960    1200/960  = 1.25   balanced (t2 exactly)
    FY2024-Q4  Apr-Jun 2024    1900   800    1200/800  = 1.5    efficient (t3 exactly)
    FY2025-Q1  Jul-Sep 2024    2200  1601    0.74953...         unsustainable (just below t1)
    FY2025-Q2  Oct-Dec 2024    2500   959    1.25130...         efficient (just above t2)
    FY2025-Q3  Jan-Mar 2025    2800   799    1.50187...         under_invested (just above t3)
    FY2025-Q4  Apr-Jun 2025    3100     0    (zero spend)
    FY2026-Q1  Jul-Sep 2025    3000  1000    -400/1000 = -0.4   unsustainable
    FY2026-Q2  Oct-Dec 2025    3000  -100    (spend net negative: a reversal)
    FY2026-Q3  Jan-Mar 2026    3300  1200    1.0                balanced (EUR amounts)
    FY2026-Q4  Apr-Jun 2026    3600  1200    1.0                balanced
    FY2027-Q1  Jul-Sep 2026    1350   400    (incomplete)

A 600 line for 2025-06-16..2025-07-16 spans two months and the fiscal-year boundary
(300 in June 2025, FY2025-Q4; 300 in July 2025, FY2026-Q1). October 2025 holds a 3200
subscription line and a -200 credit. January 2026 revenue is 2640 EUR at 1.25. A 310
line for August 2026 is cut at as_of_date (15 of 31 days: 150). A line invoiced after
as_of_date and spend dated after it do not count.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.support.dbt_fixtures import build_fixture, query

AS_OF = "2026-08-15"
VARS = {"as_of_date": AS_OF, "fiscal_year_start_month": 7}
SELECT = "+commercial_ratio +fct_revenue_monthly +fct_spend_monthly +dim_dates +assert_every_amount_converts"


def _line(line_id: str, invoice_date: str, amount: float, **extra: Any) -> dict[str, Any]:
    return {
        "invoice_line_id": line_id,
        "invoice_id": f"INV-{line_id}",
        "account_id": "A1",
        "invoice_date": invoice_date,
        "amount": amount,
        "currency": "USD",
        "line_type": "subscription",
        **extra,
    }


def _spend(spend_id: str, spend_date: str, department: str, amount: float, **extra: Any) -> dict[str, Any]:
    return {
        "spend_id": spend_id,
        "spend_date": spend_date,
        "department": department,
        "category": "advertising" if department == "marketing" else "salaries",
        "amount": amount,
        "currency": "USD",
        **extra,
    }


RAW: dict[str, list[dict[str, Any]]] = {
    "crm__accounts": [
        {"account_id": "A1", "account_name": "Acme", "created_at": "2023-01-01 00:00:00"},
    ],
    "crm__campaigns": [
        {"campaign_id": "C1", "campaign_name": "Spring", "channel": "events", "start_date": "2023-01-01"},
    ],
    "finance__fx_rates": [
        {"rate_date": "2025-12-01", "currency": "EUR", "rate_to_reporting": 1.25},
    ],
    "billing__invoice_lines": [
        _line("L01", "2023-07-10", 1000),
        _line("L02", "2023-10-10", 1300),
        _line("L03", "2024-01-10", 1600),
        _line("L04", "2024-04-10", 1900),
        _line("L05", "2024-07-10", 2200),
        _line("L06", "2024-10-10", 2500),
        _line("L07", "2025-01-10", 2800),
        _line("L08", "2025-04-10", 2800),
        # 30 days, 15 in June 2025 (FY2025) and 15 in July 2025 (FY2026)
        _line("L08b", "2025-06-16", 600, service_start="2025-06-16", service_end="2025-07-16"),
        _line("L09", "2025-07-10", 2700),
        _line("L10", "2025-10-10", 3200),
        _line("L10c", "2025-10-10", -200, line_type="credit"),
        _line("L11", "2026-01-10", 2640, currency="EUR", line_type="services"),
        _line("L12", "2026-04-10", 3600),
        _line("L13", "2026-07-10", 1200),
        # cut at as_of_date: 1-15 August of 31 days
        _line("L14", "2026-08-01", 310, service_start="2026-08-01", service_end="2026-09-01"),
        # invoiced after as_of_date: does not count, although its period is before
        _line("L15", "2026-08-20", 999, service_start="2026-07-01", service_end="2026-08-01"),
    ],
    "finance__spend": [
        _spend("S01", "2023-07-15", "marketing", 100, channel="paid_search"),
        _spend("S02", "2023-10-01", "marketing", 1000, campaign_id="C1"),
        _spend("S03", "2023-10-01", "sales", 600),
        _spend("S04", "2024-01-01", "marketing", 500),
        _spend("S05", "2024-01-01", "sales", 460),
        _spend("S06", "2024-04-01", "marketing", 800),
        _spend("S07", "2024-07-01", "marketing", 1000),
        _spend("S08", "2024-07-01", "sales", 601),
        _spend("S09", "2024-10-01", "marketing", 959),
        _spend("S10", "2025-01-01", "sales", 799),
        _spend("S11", "2025-07-01", "marketing", 500),
        _spend("S12", "2025-09-30", "sales", 500),
        _spend("S13", "2025-10-01", "marketing", 600),
        _spend("S14", "2025-10-15", "sales", -700),
        _spend("S15", "2026-01-01", "marketing", 560, currency="EUR"),
        _spend("S16", "2026-01-01", "sales", 500),
        _spend("S17", "2026-04-01", "marketing", 600),
        _spend("S18", "2026-04-01", "sales", 600),
        _spend("S19", "2026-07-01", "marketing", 400),
        _spend("S20", "2026-08-16", "sales", 999),  # after as_of_date
    ],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "commercial_ratio", RAW, SELECT, VARS)


@pytest.fixture(scope="module")
def ratio(db: Path) -> dict[str, dict[str, Any]]:
    rows = query(db, "select * from marts.commercial_ratio")
    return {row["period_label"]: row for row in rows}


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# label: (start, end, revenue, prior_revenue, marketing, sales, ratio, band, is_complete)
QUARTERS: dict[str, tuple[Any, ...]] = {
    "FY2024-Q1": ("2023-07-01", "2023-09-30", 1000, None, 100, 0, None, None, True),
    "FY2024-Q2": ("2023-10-01", "2023-12-31", 1300, 1000, 1000, 600, 0.75, "balanced", True),
    "FY2024-Q3": ("2024-01-01", "2024-03-31", 1600, 1300, 500, 460, 1.25, "balanced", True),
    "FY2024-Q4": ("2024-04-01", "2024-06-30", 1900, 1600, 800, 0, 1.5, "efficient", True),
    "FY2025-Q1": ("2024-07-01", "2024-09-30", 2200, 1900, 1000, 601, 1200 / 1601, "unsustainable", True),
    "FY2025-Q2": ("2024-10-01", "2024-12-31", 2500, 2200, 959, 0, 1200 / 959, "efficient", True),
    "FY2025-Q3": ("2025-01-01", "2025-03-31", 2800, 2500, 0, 799, 1200 / 799, "under_invested", True),
    "FY2025-Q4": ("2025-04-01", "2025-06-30", 3100, 2800, 0, 0, None, None, True),
    "FY2026-Q1": ("2025-07-01", "2025-09-30", 3000, 3100, 500, 500, -0.4, "unsustainable", True),
    "FY2026-Q2": ("2025-10-01", "2025-12-31", 3000, 3000, 600, -700, None, None, True),
    "FY2026-Q3": ("2026-01-01", "2026-03-31", 3300, 3000, 700, 500, 1.0, "balanced", True),
    "FY2026-Q4": ("2026-04-01", "2026-06-30", 3600, 3300, 600, 600, 1.0, "balanced", True),
    "FY2027-Q1": ("2026-07-01", "2026-09-30", 1350, 3600, 400, 0, None, None, False),
}

YEARS: dict[str, tuple[Any, ...]] = {
    "FY2024": ("2023-07-01", "2024-06-30", 5800, None, 2400, 1060, None, None, True),
    "FY2025": ("2024-07-01", "2025-06-30", 10600, 5800, 1959, 1400, 4800 / 3359, "efficient", True),
    "FY2026": ("2025-07-01", "2026-06-30", 12900, 10600, 2400, 900, 2300 / 3300, "unsustainable", True),
    "FY2027": ("2026-07-01", "2027-06-30", 1350, 12900, 400, 0, None, None, False),
}

TTM: dict[str, tuple[Any, ...]] = {
    # the first row: prior (Aug 2021 - Jul 2022) starts before the first data month
    "TTM-2023-07": ("2022-08-01", "2023-07-31", 1000, None, 100, 0, None, None, True),
    "TTM-2024-06": ("2023-07-01", "2024-06-30", 5800, None, 2400, 1060, None, None, True),
    # its prior (Jun 2023 - May 2024) starts one month before the first data month
    "TTM-2025-05": ("2024-06-01", "2025-05-31", 10300, None, 1959, 1400, None, None, True),
    # the first ttm with a prior: Jul 2023 - Jun 2024
    "TTM-2025-06": ("2024-07-01", "2025-06-30", 10600, 5800, 1959, 1400, 4800 / 3359, "efficient", True),
    "TTM-2026-06": ("2025-07-01", "2026-06-30", 12900, 10600, 2400, 900, 2300 / 3300, "unsustainable", True),
    # prior Aug 2024 - Jul 2025 = 2500 + 2800 + 2800 + 300 + 3000
    "TTM-2026-07": ("2025-08-01", "2026-07-31", 11100, 11400, 2300, 900, -300 / 3200, "unsustainable", True),
    # the month of as_of_date: incomplete
    "TTM-2026-08": ("2025-09-01", "2026-08-31", 11250, 11400, 2300, 900, None, None, False),
}


def _check(row: dict[str, Any], expected: tuple[Any, ...]) -> None:
    start, end, revenue, prior, marketing, sales, ratio, band, complete = expected
    assert row["period_start"] == _d(start)
    assert row["period_end"] == _d(end)
    assert row["revenue"] == pytest.approx(revenue)
    if prior is None:
        assert row["prior_revenue"] is None
        assert row["revenue_growth"] is None
    else:
        assert row["prior_revenue"] == pytest.approx(prior)
        assert row["revenue_growth"] == pytest.approx(revenue - prior)
    assert row["marketing_expense"] == pytest.approx(marketing)
    assert row["sales_expense"] == pytest.approx(sales)
    assert row["sm_expense"] == pytest.approx(marketing + sales)
    if ratio is None:
        assert row["commercial_ratio"] is None
    else:
        assert row["commercial_ratio"] == pytest.approx(ratio, abs=1e-12)
    assert row["band"] == band
    assert row["is_complete"] is complete


@pytest.mark.parametrize("label", sorted(QUARTERS))
def test_fiscal_quarters(ratio: dict[str, dict[str, Any]], label: str) -> None:
    assert ratio[label]["period_grain"] == "fiscal_quarter"
    _check(ratio[label], QUARTERS[label])


@pytest.mark.parametrize("label", sorted(YEARS))
def test_fiscal_years(ratio: dict[str, dict[str, Any]], label: str) -> None:
    assert ratio[label]["period_grain"] == "fiscal_year"
    _check(ratio[label], YEARS[label])


@pytest.mark.parametrize("label", sorted(TTM))
def test_ttm(ratio: dict[str, dict[str, Any]], label: str) -> None:
    assert ratio[label]["period_grain"] == "ttm"
    _check(ratio[label], TTM[label])


def test_rows_run_from_first_data_period_to_as_of_period(db: Path) -> None:
    rows = query(
        db,
        "select period_grain, count(*) as n, min(period_label) as first_label, "
        "max(period_label) as last_label from marts.commercial_ratio group by period_grain",
    )
    by_grain = {r["period_grain"]: r for r in rows}
    assert set(by_grain) == {"fiscal_year", "fiscal_quarter", "ttm"}
    assert (by_grain["fiscal_year"]["n"], by_grain["fiscal_quarter"]["n"]) == (4, 13)
    assert by_grain["fiscal_quarter"]["first_label"] == "FY2024-Q1"
    assert by_grain["fiscal_quarter"]["last_label"] == "FY2027-Q1"
    # one ttm row per month from July 2023 to August 2026: 6 + 12 + 12 + 8
    assert by_grain["ttm"]["n"] == 38
    assert by_grain["ttm"]["first_label"] == "TTM-2023-07"
    assert by_grain["ttm"]["last_label"] == "TTM-2026-08"


def test_ttm_rows_are_consecutive_twelve_month_windows(db: Path) -> None:
    rows = query(
        db,
        "select period_start, period_end, period_label from marts.commercial_ratio "
        "where period_grain = 'ttm' order by period_start",
    )
    months = [(2023, 7)]
    while months[-1] != (2026, 8):
        y, m = months[-1]
        months.append((y + 1, 1) if m == 12 else (y, m + 1))
    assert [r["period_label"] for r in rows] == [f"TTM-{y}-{m:02d}" for y, m in months]
    for row, (y, m) in zip(rows, months, strict=True):
        start_y, start_m = (y, m - 11) if m == 12 else (y - 1, m + 1)
        assert row["period_start"] == _d(f"{start_y}-{start_m:02d}-01")
        assert (row["period_end"].year, row["period_end"].month) == (y, m)
        assert (row["period_end"] + dt.timedelta(days=1)).day == 1


def test_only_periods_holding_as_of_date_are_incomplete(db: Path) -> None:
    rows = query(db, "select period_label from marts.commercial_ratio where not is_complete order by 1")
    assert [r["period_label"] for r in rows] == ["FY2027", "FY2027-Q1", "TTM-2026-08"]


def test_sums_over_nothing_are_zero_not_null(db: Path) -> None:
    (row,) = query(
        db,
        "select count(*) as n from marts.commercial_ratio where revenue is null "
        "or marketing_expense is null or sales_expense is null or sm_expense is null",
    )
    assert row["n"] == 0


def test_revenue_monthly_splits_lines_and_converts(db: Path) -> None:
    rows = query(
        db,
        "select month, line_type, currency, revenue, recognized_amount_local, fiscal_year, "
        "fiscal_quarter_label from marts.fct_revenue_monthly order by month, line_type, currency",
    )
    by_key = {(str(r["month"]), r["line_type"], r["currency"]): r for r in rows}
    # the fiscal-year-spanning line: 15 days of 30 in June (FY2025), 15 in July (FY2026)
    june = by_key[("2025-06-01", "subscription", "USD")]
    assert june["revenue"] == pytest.approx(300)
    assert (june["fiscal_year"], june["fiscal_quarter_label"]) == (2025, "FY2025-Q4")
    july = by_key[("2025-07-01", "subscription", "USD")]
    assert july["revenue"] == pytest.approx(2700 + 300)
    assert (july["fiscal_year"], july["fiscal_quarter_label"]) == (2026, "FY2026-Q1")
    # a credit note reduces revenue
    assert by_key[("2025-10-01", "credit", "USD")]["revenue"] == pytest.approx(-200)
    eur = by_key[("2026-01-01", "services", "EUR")]
    assert eur["recognized_amount_local"] == pytest.approx(2640)
    assert eur["revenue"] == pytest.approx(3300)
    # cut at as_of_date: 15 of 31 days of 310
    assert by_key[("2026-08-01", "subscription", "USD")]["revenue"] == pytest.approx(150)
    assert ("2026-07-01", "subscription", "USD") in by_key
    assert sum(r["revenue"] for r in rows) == pytest.approx(5800 + 10600 + 12900 + 1350)


def test_spend_monthly_channels_and_as_of_cut(db: Path) -> None:
    rows = query(
        db,
        "select month, department, channel, spend from marts.fct_spend_monthly order by month, department, channel",
    )
    by_key = {(str(r["month"]), r["department"], r["channel"]): r["spend"] for r in rows}
    assert by_key[("2023-07-01", "marketing", "paid_search")] == pytest.approx(100)
    assert by_key[("2023-10-01", "marketing", "events")] == pytest.approx(1000)  # campaign's channel
    assert by_key[("2023-10-01", "sales", "(unattributed)")] == pytest.approx(600)
    assert by_key[("2026-01-01", "marketing", "(unattributed)")] == pytest.approx(700)  # 560 EUR
    assert by_key[("2025-10-01", "sales", "(unattributed)")] == pytest.approx(-700)
    assert not any(month == "2026-08-01" for month, _, _ in by_key)  # 2026-08-16 is after as_of
    assert sum(by_key.values()) == pytest.approx(3460 + 3359 + 3300 + 400)


def test_dim_dates_covers_first_data_date_to_as_of_with_july_fiscal_year(db: Path) -> None:
    (span,) = query(db, "select min(date_day) as lo, max(date_day) as hi, count(*) as n from marts.dim_dates")
    assert (span["lo"], span["hi"]) == (_d("2023-07-10"), _d(AS_OF))
    assert span["n"] == (_d(AS_OF) - _d("2023-07-10")).days + 1
    rows = query(
        db,
        "select date_day, fiscal_year, fiscal_quarter, fiscal_quarter_start, fiscal_year_start, "
        "fiscal_year_label, fiscal_quarter_label from marts.dim_dates "
        "where date_day in ('2025-06-30', '2025-07-01', '2026-01-15', '2026-04-01') order by date_day",
    )
    assert [
        (
            str(r["date_day"]),
            r["fiscal_year_label"],
            r["fiscal_quarter_label"],
            str(r["fiscal_quarter_start"]),
            str(r["fiscal_year_start"]),
        )
        for r in rows
    ] == [
        ("2025-06-30", "FY2025", "FY2025-Q4", "2025-04-01", "2024-07-01"),
        ("2025-07-01", "FY2026", "FY2026-Q1", "2025-07-01", "2025-07-01"),
        ("2026-01-15", "FY2026", "FY2026-Q3", "2026-01-01", "2025-07-01"),
        ("2026-04-01", "FY2026", "FY2026-Q4", "2026-04-01", "2025-07-01"),
    ]
