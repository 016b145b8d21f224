"""marts.win_rates (docs/metrics.md "Win rates") over hand-made raw tables.

as_of_date is 2026-06-30; EUR rates: 1.25 from 2026-01-01, 1.5 from 2026-03-01,
1.75 from 2026-05-01. Expected numbers are worked out by hand below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt_fixtures import (
    assert_row_values,
    build_fixture,
    default_stage_mapping_rows,
    query,
)

AS_OF = "2026-06-30"
SELECT = "+win_rates +fct_opportunities"


def _opportunity(opportunity_id: str, created_at: str, close_date: str, outcome: str,
                 amount: float, *, currency: str = "USD", account_id: str = "C1",
                 opportunity_type: str = "new_business") -> dict:
    stage = {"won": "Closed Won", "lost": "Closed Lost", "open": "Proposal"}[outcome]
    return {
        "opportunity_id": opportunity_id, "account_id": account_id,
        "opportunity_type": opportunity_type, "created_at": created_at,
        "close_date": close_date, "stage": stage, "is_closed": outcome != "open",
        "is_won": outcome == "won", "amount": amount, "currency": currency,
    }


RAW = {
    "crm__accounts": [
        {"account_id": "C1", "account_name": "One", "segment": "SMB", "created_at": "2025-01-01"},
        {"account_id": "C2", "account_name": "Two", "segment": None, "created_at": "2025-01-01"},
    ],
    "crm__opportunities": [
        # close_month 2026-03, SMB, new_business
        _opportunity("W1", "2026-01-01 10:00", "2026-03-02", "won", 1000),  # cycle 60
        _opportunity("W2", "2026-02-15", "2026-03-10", "won", 1000, currency="EUR"),  # 23; 1500
        _opportunity("W3", "2026-01-20 23:30", "2026-03-25", "won", 400),  # cycle 64
        _opportunity("W4", "2026-02-01", "2026-03-15", "lost", 700),
        # close_month 2026-04, SMB, new_business
        _opportunity("W5", "2026-03-01", "2026-04-11", "won", 500),  # cycle 41
        _opportunity("W6", "2026-03-05", "2026-04-20", "won", 300),  # cycle 46
        # close_month 2026-04, null segment -> Unknown, expansion
        _opportunity("W7", "2026-03-01", "2026-04-05", "lost", 900, account_id="C2",
                     opportunity_type="expansion"),
        # closed won on as_of_date itself: counts
        _opportunity("W11", "2026-06-20", "2026-06-30", "won", 100),  # cycle 10
        # closed in the CRM, but close_date after as_of_date: open
        _opportunity("W8", "2026-05-01", "2026-07-10", "won", 5000),
        # open with an expected close in the past: not closed
        _opportunity("W9", "2026-03-01", "2026-05-01", "open", 5000),
        # open, EUR: converts at its created_at date (1.5), not its close_date (1.75)
        _opportunity("W10", "2026-04-15", "2026-05-20", "open", 1000, currency="EUR"),
    ],
    "finance__fx_rates": [
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.25},
        {"rate_date": "2026-03-01", "currency": "EUR", "rate_to_reporting": 1.5},
        {"rate_date": "2026-05-01", "currency": "EUR", "rate_to_reporting": 1.75},
    ],
    "config__stage_mapping": default_stage_mapping_rows(),
}

COLUMNS = ["won", "lost", "win_rate", "won_amount", "avg_won_amount", "median_sales_cycle_days"]
EXPECTED = {
    # won W1 1000 + W2 1000 EUR x 1.5 + W3 400 = 2900; cycles 23, 60, 64 -> median 60
    ("2026-03-01", "SMB", "new_business"): (3, 1, 0.75, 2900.0, 2900 / 3, 60.0),
    # cycles 41, 46 -> median 43.5 (mean of the two middle)
    ("2026-04-01", "SMB", "new_business"): (2, 0, 1.0, 800.0, 400.0, 43.5),
    ("2026-04-01", "Unknown", "expansion"): (0, 1, 0.0, 0.0, None, None),
    ("2026-06-01", "SMB", "new_business"): (1, 0, 1.0, 100.0, 100.0, 10.0),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "win_rates", RAW, SELECT, {"as_of_date": AS_OF})


@pytest.fixture(scope="module")
def win_rates(db: Path) -> dict[tuple, dict]:
    rows = query(db, "select *, cast(close_month as varchar) as month from marts.win_rates")
    return {(r["month"], r["segment"], r["opportunity_type"]): r for r in rows}


def test_one_row_per_close_month_segment_and_type_with_closed_deals(win_rates: dict) -> None:
    assert sorted(win_rates) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_win_rate_values(win_rates: dict, key: tuple) -> None:
    row = win_rates[key]
    assert_row_values(row, COLUMNS, EXPECTED[key])


def test_opportunities_are_open_unless_closed_by_as_of_date(db: Path) -> None:
    rows = {r["opportunity_id"]: r for r in query(db, "select * from marts.fct_opportunities")}
    assert (rows["W8"]["outcome"], rows["W8"]["sales_cycle_days"]) == ("open", None)
    assert (rows["W9"]["outcome"], rows["W9"]["close_month"]) == ("open", None)
    assert rows["W4"]["outcome"] == "lost"
    assert rows["W4"]["sales_cycle_days"] == 42  # lost ones have a cycle in the fact too


def test_open_eur_opportunity_converts_at_created_date_rate(db: Path) -> None:
    [row] = query(db, "select * from marts.fct_opportunities where opportunity_id = 'W10'")
    assert str(row["fx_rate_date"]) == "2026-04-15"
    assert row["amount_reporting"] == pytest.approx(1500.0)
    [won] = query(db, "select * from marts.fct_opportunities where opportunity_id = 'W2'")
    assert str(won["fx_rate_date"]) == "2026-03-10"
    assert won["amount_reporting"] == pytest.approx(1500.0)
