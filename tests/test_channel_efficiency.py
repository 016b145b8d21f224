"""marts.channel_efficiency (docs/metrics.md "Channel efficiency") over hand-made raw tables.

as_of_date is 2026-08-15 and fiscal_year_start_month is 2, so fiscal quarters start
on Nov 1, Feb 1, May 1 and Aug 1. EUR converts at 1.25 from 2026-01-01 and 1.5 from
2026-06-15. Expected numbers are worked out by hand below.
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

AS_OF = "2026-08-15"
SELECT = "+channel_efficiency"


def _spend(spend_id: str, spend_date: str, amount: float, *, channel: str | None = None,
           campaign_id: str | None = None, department: str = "marketing",
           currency: str = "USD") -> dict:
    return {
        "spend_id": spend_id, "spend_date": spend_date, "department": department,
        "category": "other", "channel": channel, "campaign_id": campaign_id,
        "amount": amount, "currency": currency,
    }


def _opportunity(opportunity_id: str, lead_id: str, created_at: str, close_date: str,
                 outcome: str, amount: float, currency: str = "USD") -> dict:
    stage = {"won": "Closed Won", "open": "Proposal"}[outcome]
    return {
        "opportunity_id": opportunity_id, "account_id": "D1", "lead_id": lead_id,
        "opportunity_type": "new_business", "created_at": created_at,
        "close_date": close_date, "stage": stage, "is_closed": outcome == "won",
        "is_won": outcome == "won", "amount": amount, "currency": currency,
    }


RAW = {
    "crm__accounts": [
        {"account_id": "D1", "account_name": "One", "segment": "SMB", "created_at": "2025-01-01"},
    ],
    "crm__campaigns": [
        {"campaign_id": "K1", "campaign_name": "Expo", "channel": "events",
         "start_date": "2026-01-01"},
        {"campaign_id": "K2", "campaign_name": "Ads", "channel": "paid_social",
         "start_date": "2026-01-01"},
    ],
    "finance__spend": [
        _spend("S8", "2026-01-31", 300, channel="referral", campaign_id="K2"),  # own channel wins
        _spend("S1", "2026-02-10", 1000, channel="paid_search"),
        _spend("S2", "2026-03-05", 600, campaign_id="K1"),  # campaign only -> events
        _spend("S3", "2026-04-30", 2000, department="sales"),  # neither -> (unattributed)
        _spend("S4", "2026-05-01", 100, campaign_id="K404", currency="EUR"),  # unknown campaign
        _spend("S5", "2026-05-20", 500, channel="paid_search"),
        _spend("S6", "2026-06-01", -500, channel="paid_search"),  # reversal: spend 0, row kept
        _spend("S7", "2026-08-20", 999, channel="paid_search"),  # after as_of_date
    ],
    "crm__leads": [
        {"lead_id": "M1", "created_at": "2026-02-12", "channel": "paid_search",
         "mql_at": "2026-02-13", "sql_at": "2026-02-14", "converted_at": "2026-02-20",
         "opportunity_id": "X1"},
        {"lead_id": "M2", "created_at": "2026-02-20", "channel": "paid_search",
         "mql_at": "2026-02-21"},
        {"lead_id": "M3", "created_at": "2026-03-01", "channel": "paid_search"},
        {"lead_id": "M4", "created_at": "2026-04-10", "channel": "paid_search",
         "mql_at": "2026-04-11", "sql_at": "2026-04-12"},
        {"lead_id": "M5", "created_at": "2026-03-10", "channel": "events", "campaign_id": "K1",
         "mql_at": "2026-03-11"},
        {"lead_id": "M6", "created_at": "2026-05-15", "channel": "paid_search",
         "mql_at": "2026-05-16"},
        {"lead_id": "M7", "created_at": "2026-08-10", "channel": "organic"},
        {"lead_id": "M8", "created_at": "2026-08-20", "channel": "organic"},  # after as_of_date
    ],
    "crm__opportunities": [
        _opportunity("X1", "M1", "2026-02-20", "2026-04-01", "won", 3000),
        _opportunity("X2", "M4", "2026-04-20", "2026-09-01", "open", 100),
        # won 2026-07-01 in EUR: 1000 x 1.5 at the close_date rate
        _opportunity("X3", "M6", "2026-05-20", "2026-07-01", "won", 1000, currency="EUR"),
    ],
    "finance__fx_rates": [
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.25},
        {"rate_date": "2026-06-15", "currency": "EUR", "rate_to_reporting": 1.5},
    ],
    "config__stage_mapping": default_stage_mapping_rows(),
}

COLUMNS = ["spend", "leads", "mqls", "opportunities", "won", "won_amount", "cost_per_lead",
           "cost_per_opportunity", "cost_per_win", "return_on_spend", "leakage_rate"]
EXPECTED = {
    # spend, no leads: cost figures null (count 0), nothing won -> return_on_spend 0
    ("2025-11-01", "referral"): (300.0, 0, 0, 0, 0, 0.0, None, None, None, 0.0, None),
    # M1 M2 M3 M4: mqls M1 M2 M4; opportunities M1 (X1 won, 3000), M4 (X2 open)
    ("2026-02-01", "paid_search"): (1000.0, 4, 3, 2, 1, 3000.0, 250.0, 500.0, 1000.0, 3.0, 0.5),
    ("2026-02-01", "events"): (600.0, 1, 1, 0, 0, 0.0, 600.0, None, None, 0.0, 1.0),
    ("2026-02-01", "(unattributed)"): (2000.0, 0, 0, 0, 0, 0.0, None, None, None, 0.0, None),
    ("2026-05-01", "(unattributed)"): (125.0, 0, 0, 0, 0, 0.0, None, None, None, 0.0, None),
    # spend rows summing to 0: a row with spend 0, every cost figure and ROS null
    ("2026-05-01", "paid_search"): (0.0, 1, 1, 1, 1, 1500.0, None, None, None, None, 0.0),
    # leads but no spend rows: spend 0, costs null
    ("2026-08-01", "organic"): (0.0, 1, 0, 0, 0, 0.0, None, None, None, None, 1.0),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "channel_efficiency", RAW, SELECT, {"as_of_date": AS_OF, "fiscal_year_start_month": 2})


@pytest.fixture(scope="module")
def efficiency(db: Path) -> dict[tuple, dict]:
    rows = query(db, "select *, cast(fiscal_quarter_start as varchar) as quarter "
                     "from marts.channel_efficiency")
    return {(r["quarter"], r["channel"]): r for r in rows}


def test_a_row_for_every_quarter_and_channel_with_spend_or_leads(efficiency: dict) -> None:
    assert sorted(efficiency) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_channel_values(efficiency: dict, key: tuple) -> None:
    row = efficiency[key]
    assert_row_values(row, COLUMNS, EXPECTED[key])


def test_all_spend_to_date_counts_marketing_and_sales(efficiency: dict) -> None:
    # 300 + 1000 + 600 + 2000 + 100 x 1.25 + 500 - 500; S7 is after as_of_date
    assert sum(r["spend"] for r in efficiency.values()) == pytest.approx(4025.0)
