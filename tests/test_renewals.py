"""Renewals over a hand-made company (as_of_date 2026-06-15, renewal_window_days 30).
A subscription expires on end_date - 1 day; successors start within 30 days either
side of the expiring set's end dates, on or before as_of_date. EUR converts at each
subscription's start_date rate (1.10 from 2025-01-01, 1.20 from 2026-01-01).

  K  k1 2025-01-01 -> 2026-01-01  100  expires Dec 2025; k2 2026-01-31 (+30 days, inclusive) 100
  A  a1 2025-03-01 -> 2026-03-01 1000  ends on the 1st: expires Feb 28 (Feb)
     a2 2025-02-10 -> 2026-02-10  500  expires Feb 9 (Feb)
     a3 2026-02-10 -> 2027-02-10 1800  one consolidated successor of both
  B  b1 2025-04-01 -> 2026-04-01 1200  expires Mar; b2 2026-03-22 (10 days early) 1000
  C  c1 2025-03-15 -> 2026-03-15  600  expires Mar; c2 2026-04-09 (25 days late) 900
  D  d1 2025-04-20 -> 2026-04-20  800  expires Apr; d2 2026-05-30 (40 days late): none
  G  g1 2026-01-05 -> 2026-04-05  300  expires Apr; g2 2026-04-01 -> 2026-04-30 100 also
     expires in Apr: in X, so not a successor although it starts inside the window
  E  e1 2025-06-01 -> 2026-06-01  400  expires May; e2 2026-06-20 inside the window but
     after as_of_date: not (yet) a renewal
  F  f1 2025-05-10 -> 2026-05-10 1000 EUR x 1.10 = 1100, expires May;
     f2 2026-05-10 -> open 1000 EUR x 1.20 = 1200
  H  h1 2025-06-20 -> 2026-06-20  700  expires Jun 19 (month of as_of_date), no successor
  I  i1 2025-08-01 -> 2026-08-01  500  expires after the month of as_of_date: no row
  J  j1 2026-06-16 -> 2026-06-30  999  starts after as_of_date: does not exist
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt_fixtures import build_fixture, query
from tests.support.dbt_fixtures import subscription_row as _sub

AS_OF = "2026-06-15"
SELECT = "+marts.retention stg_crm__accounts"


ROWS = {
    "crm__accounts": [
        {"account_id": a, "account_name": f"Account {a}", "created_at": "2024-06-01"}
        for a in "ABCDEFGHIJK"
    ],
    "finance__fx_rates": [
        {"rate_date": "2025-01-01", "currency": "EUR", "rate_to_reporting": 1.10},
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.20},
    ],
    "billing__subscriptions": [
        _sub("k1", "K", "2025-01-01", "2026-01-01", 100),
        _sub("k2", "K", "2026-01-31", None, 100),
        _sub("a1", "A", "2025-03-01", "2026-03-01", 1000),
        _sub("a2", "A", "2025-02-10", "2026-02-10", 500),
        _sub("a3", "A", "2026-02-10", "2027-02-10", 1800),
        _sub("b1", "B", "2025-04-01", "2026-04-01", 1200),
        _sub("b2", "B", "2026-03-22", "2027-03-22", 1000),
        _sub("c1", "C", "2025-03-15", "2026-03-15", 600),
        _sub("c2", "C", "2026-04-09", None, 900),
        _sub("d1", "D", "2025-04-20", "2026-04-20", 800),
        _sub("d2", "D", "2026-05-30", None, 800),
        _sub("g1", "G", "2026-01-05", "2026-04-05", 300),
        _sub("g2", "G", "2026-04-01", "2026-04-30", 100),
        _sub("e1", "E", "2025-06-01", "2026-06-01", 400),
        _sub("e2", "E", "2026-06-20", None, 400),
        _sub("f1", "F", "2025-05-10", "2026-05-10", 1000, "EUR"),
        _sub("f2", "F", "2026-05-10", None, 1000, "EUR"),
        _sub("h1", "H", "2025-06-20", "2026-06-20", 700),
        _sub("i1", "I", "2025-08-01", "2026-08-01", 500),
        _sub("j1", "J", "2026-06-16", "2026-06-30", 999),
    ],
}

# expiry_month: (accounts_expiring, accounts_renewed, expiring_arr, renewed_arr,
#                successor_arr, is_mature)
EXPECTED = {
    "2025-12-01": (1, 1, 100, 100, 100, True),
    "2026-02-01": (1, 1, 1500, 1500, 1800, True),
    "2026-03-01": (2, 2, 1800, 1000 + 600, 1000 + 900, True),
    "2026-04-01": (2, 0, 800 + 300 + 100, 0, 0, True),  # May 30 <= Jun 15
    "2026-05-01": (2, 1, 400 + 1100, 1100, 1200, False),  # May 31 + 30 = Jun 30
    "2026-06-01": (1, 0, 700, 0, 0, False),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "renewals", ROWS, SELECT, {"as_of_date": AS_OF, "renewal_window_days": 30})


@pytest.fixture(scope="module")
def renewals(db: Path) -> dict:
    rows = query(db, "select * from marts.renewals order by expiry_month")
    return {str(r["expiry_month"]): r for r in rows}


@pytest.fixture(scope="module")
def accounts(db: Path) -> dict:
    rows = query(db, "select * from intermediate.int_account_expiries_matched")
    return {(r["account_id"], str(r["expiry_month"])): r for r in rows}


def test_one_row_per_month_with_an_expiry_up_to_the_month_of_as_of_date(renewals):
    assert list(renewals) == list(EXPECTED)


@pytest.mark.parametrize("month", list(EXPECTED))
def test_monthly_renewals(renewals, month):
    expiring, renewed, expiring_arr, renewed_arr, successor_arr, mature = EXPECTED[month]
    row = renewals[month]
    assert row["accounts_expiring"] == expiring
    assert row["accounts_renewed"] == renewed
    assert row["logo_renewal_rate"] == pytest.approx(renewed / expiring)
    assert row["expiring_arr"] == pytest.approx(expiring_arr)
    assert row["renewed_arr"] == pytest.approx(renewed_arr)
    assert row["successor_arr"] == pytest.approx(successor_arr)
    assert row["gross_renewal_rate"] == pytest.approx(renewed_arr / expiring_arr)
    assert row["net_renewal_rate"] == pytest.approx(successor_arr / expiring_arr)
    assert row["is_mature"] is mature


def test_two_expiring_subscriptions_with_one_consolidated_successor(accounts):
    a = accounts[("A", "2026-02-01")]  # a1 ends on Mar 1, so it expires in February
    assert (a["expiring_subscriptions"], a["successor_subscriptions"]) == (2, 1)
    assert (a["expiring_arr"], a["successor_arr"], a["renewed_arr"]) == (1500, 1800, 1500)
    assert str(a["window_start"]) == "2026-01-11"  # Feb 10 - 30 days
    assert str(a["window_end"]) == "2026-03-31"  # Mar 1 + 30 days


def test_successor_window(accounts):
    assert accounts[("K", "2025-12-01")]["is_renewed"]  # exactly 30 days late
    assert accounts[("B", "2026-03-01")]["is_renewed"]  # 10 days early
    assert accounts[("C", "2026-03-01")]["is_renewed"]  # 25 days late
    assert not accounts[("D", "2026-04-01")]["is_renewed"]  # 40 days late
    assert not accounts[("E", "2026-05-01")]["is_renewed"]  # after as_of_date


def test_expiring_subscription_is_not_its_own_successor(accounts):
    g = accounts[("G", "2026-04-01")]
    assert g["expiring_subscriptions"] == 2
    assert g["successor_subscriptions"] == 0
    assert not g["is_renewed"]


def test_foreign_currency_at_start_date_rate(accounts):
    f = accounts[("F", "2026-05-01")]
    assert f["expiring_arr"] == pytest.approx(1000 * 1.10)
    assert f["successor_arr"] == pytest.approx(1000 * 1.20)
    assert f["renewed_arr"] == pytest.approx(1100)


def test_rates_in_range(renewals):
    for row in renewals.values():
        assert 0 <= row["gross_renewal_rate"] <= 1
        assert row["net_renewal_rate"] >= 0
    assert renewals["2026-02-01"]["net_renewal_rate"] == pytest.approx(1.2)
