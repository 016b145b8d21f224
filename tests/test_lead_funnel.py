"""marts.lead_funnel (docs/metrics.md "Lead funnel") over hand-made raw tables.

as_of_date is 2026-06-15. Every expected number below was worked out by hand from
the rows in `RAW`; the comments on each lead say what it reaches and why.
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

AS_OF = "2026-06-15"
SELECT = "+lead_funnel +fct_opportunities +dim_accounts"


def _account(account_id: str, segment: str | None) -> dict:
    return {"account_id": account_id, "account_name": account_id, "segment": segment,
            "created_at": "2025-01-01"}


def _lead(lead_id: str, created_at: str, channel: str = "paid_search", **extra: str) -> dict:
    return {"lead_id": lead_id, "created_at": created_at, "channel": channel, **extra}


def _opportunity(opportunity_id: str, account_id: str, created_at: str, close_date: str,
                 stage: str, is_closed: bool, is_won: bool, amount: float,
                 currency: str = "USD", lead_id: str | None = None) -> dict:
    return {
        "opportunity_id": opportunity_id, "account_id": account_id, "lead_id": lead_id,
        "opportunity_type": "new_business", "created_at": created_at,
        "close_date": close_date, "stage": stage, "is_closed": is_closed,
        "is_won": is_won, "amount": amount, "currency": currency,
    }


RAW = {
    "crm__accounts": [
        _account("A1", "SMB"),
        _account("A2", "Enterprise"),
        _account("A3", None),
    ],
    "crm__opportunities": [
        # won by as_of_date: L3's opportunity, 1000 USD
        _opportunity("O1", "A1", "2026-04-10 09:00", "2026-05-20", "Closed Won", True, True,
                     1000, lead_id="L3"),
        # open, EUR: converts at the rate of its created_at date 2026-04-12 (1.25)
        _opportunity("O2", "A2", "2026-04-12 18:00", "2026-08-01", "Demo", False, False,
                     500, "EUR", lead_id="L4"),
        _opportunity("O3", "A1", "2026-04-20", "2026-05-01", "Closed Lost", True, False,
                     300, lead_id="L6"),
        # closed won only after as_of_date: open, at the created_at date rate (1.5)
        _opportunity("O4", "A2", "2026-05-05", "2026-07-01", "Closed Won", True, True,
                     200, "EUR", lead_id="L8"),
        # created after as_of_date: does not exist yet
        _opportunity("O5", "A1", "2026-06-20", "2026-09-01", "Prospecting", False, False,
                     100, lead_id="L9"),
    ],
    "crm__leads": [
        # cohort 2026-04, paid_search, SMB (account A1)
        _lead("L1", "2026-04-01 10:00", account_id="A1"),  # lead only
        _lead("L2", "2026-04-02", account_id="A1", sql_at="2026-04-05"),  # sql without mql: mql+sql
        _lead("L3", "2026-04-03", account_id="A1", mql_at="2026-04-04", sql_at="2026-04-06",
              converted_at="2026-04-10", opportunity_id="O1"),  # won, 1000
        _lead("L5", "2026-04-06", account_id="A1", mql_at="2026-04-07",
              disqualified_at="2026-04-20"),  # mql, disqualified
        _lead("L6", "2026-04-07", account_id="A1", mql_at="2026-04-08", sql_at="2026-04-09",
              converted_at="2026-04-20", opportunity_id="O3",
              disqualified_at="2026-05-02"),  # opportunity (lost); disqualified after: not counted
        _lead("L7", "2026-04-08", account_id="A1", mql_at="2026-06-20",
              disqualified_at="2026-06-30"),  # both milestones after as_of_date: lead only
        # cohort 2026-04, paid_search: no account, linked O2 through O2.lead_id -> Enterprise
        _lead("L4", "2026-04-05", mql_at="2026-04-06", converted_at="2026-04-12"),
        # cohort 2026-04, events, Enterprise: mql only
        _lead("L12", "2026-04-09", "events", account_id="A2", mql_at="2026-04-10"),
        # cohort 2026-05: null-segment account falls through to O4's account (Enterprise)
        _lead("L8", "2026-05-01", account_id="A3"),
        # cohort 2026-05: O5 and converted_at are after as_of_date -> sql only, Unknown
        _lead("L9", "2026-05-02", account_id="A3", sql_at="2026-05-10",
              converted_at="2026-06-20", opportunity_id="O5"),
        # cohort 2026-06 (month of as_of_date), events, no account -> Unknown
        _lead("L10", "2026-06-10", "events"),
        # created after as_of_date: does not exist
        _lead("L11", "2026-06-16", "events", mql_at="2026-06-16"),
        # cohort 2026-02, organic, SMB: mature
        _lead("L13", "2026-02-10", "organic", account_id="A1"),
    ],
    "finance__fx_rates": [
        {"rate_date": "2026-04-01", "currency": "EUR", "rate_to_reporting": 1.25},
        {"rate_date": "2026-04-15", "currency": "EUR", "rate_to_reporting": 1.5},
        {"rate_date": "2026-05-15", "currency": "EUR", "rate_to_reporting": 1.75},
    ],
    "config__stage_mapping": default_stage_mapping_rows(),
}

COLUMNS = ["leads", "mqls", "sqls", "opportunities", "won", "disqualified", "won_amount",
           "mql_rate", "sql_rate", "opportunity_rate", "win_rate", "lead_to_won_rate",
           "cohort_age_days", "is_mature"]

# (cohort_month, channel, segment): leads, mqls, sqls, opportunities, won, disqualified,
# won_amount, mql_rate, sql_rate, opportunity_rate, win_rate, lead_to_won_rate,
# cohort_age_days, is_mature
EXPECTED = {
    # 2026-06-15 - 2026-02-28 = 31 + 30 + 31 + 15 = 107 days
    ("2026-02-01", "organic", "SMB"): (1, 0, 0, 0, 0, 0, 0, 0.0, None, None, None, 0.0, 107, True),
    # L1, L2, L3, L5, L6, L7; 2026-06-15 - 2026-04-30 = 31 + 15 = 46 days
    ("2026-04-01", "paid_search", "SMB"): (
        6, 4, 3, 2, 1, 1, 1000.0, 4 / 6, 3 / 4, 2 / 3, 1 / 2, 1 / 6, 46, False),
    ("2026-04-01", "paid_search", "Enterprise"): (
        1, 1, 1, 1, 0, 0, 0, 1.0, 1.0, 1.0, 0.0, 0.0, 46, False),
    ("2026-04-01", "events", "Enterprise"): (
        1, 1, 0, 0, 0, 0, 0, 1.0, 0.0, None, None, 0.0, 46, False),
    # 2026-06-15 - 2026-05-31 = 15 days
    ("2026-05-01", "paid_search", "Enterprise"): (
        1, 1, 1, 1, 0, 0, 0, 1.0, 1.0, 1.0, 0.0, 0.0, 15, False),
    ("2026-05-01", "paid_search", "Unknown"): (
        1, 1, 1, 0, 0, 0, 0, 1.0, 1.0, 0.0, None, 0.0, 15, False),
    # 2026-06-15 - 2026-06-30 = -15 days
    ("2026-06-01", "events", "Unknown"): (
        1, 0, 0, 0, 0, 0, 0, 0.0, None, None, None, 0.0, -15, False),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "lead_funnel", RAW, SELECT, {"as_of_date": AS_OF})


@pytest.fixture(scope="module")
def funnel(db: Path) -> dict[tuple[str, str, str], dict]:
    rows = query(db, "select *, cast(cohort_month as varchar) as cohort from marts.lead_funnel")
    return {(r["cohort"], r["channel"], r["segment"]): r for r in rows}


def test_one_row_per_group_with_leads(funnel: dict) -> None:
    assert sorted(funnel) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_group_values(funnel: dict, key: tuple[str, str, str]) -> None:
    row = funnel[key]
    assert_row_values(row, COLUMNS, EXPECTED[key])


def test_total_leads_excludes_leads_created_after_as_of_date(db: Path) -> None:
    [row] = query(db, "select sum(leads) as leads, max(cohort_month) as last "
                      "from marts.lead_funnel")
    assert row["leads"] == 12
    assert str(row["last"]) == "2026-06-01"


def test_open_eur_opportunity_converts_at_created_date_rate(db: Path) -> None:
    rows = {r["opportunity_id"]: r for r in query(db, "select * from marts.fct_opportunities")}
    assert sorted(rows) == ["O1", "O2", "O3", "O4"]  # O5 is created after as_of_date
    assert rows["O2"]["outcome"] == "open"
    assert str(rows["O2"]["fx_rate_date"]) == "2026-04-12"
    assert rows["O2"]["amount_reporting"] == pytest.approx(500 * 1.25)
    # closed won in the CRM, but close_date is after as_of_date: open, created-date rate
    assert rows["O4"]["outcome"] == "open"
    assert rows["O4"]["is_closed"] is False
    assert rows["O4"]["close_month"] is None
    assert rows["O4"]["amount_reporting"] == pytest.approx(200 * 1.5)
    assert rows["O1"]["outcome"] == "won"
    assert rows["O1"]["sales_cycle_days"] == 40  # 2026-04-10 -> 2026-05-20


def test_dim_accounts_shows_unknown_for_null_segment(db: Path) -> None:
    rows = {r["account_id"]: r["segment"] for r in query(db, "select * from marts.dim_accounts")}
    assert rows == {"A1": "SMB", "A2": "Enterprise", "A3": "Unknown"}

