"""MRR movements, account MRR by month and the bookings reconciliation, over a small
hand-made company whose numbers are worked out below (as_of_date 2026-03-17).

Subscriptions (USD unless said; MRR = ARR / 12; EUR converts at its start_date rate:
EUR 1.10 from 2025-10-01, 1.20 from 2025-11-01, 1.30 from 2026-01-01):

  A  a1 2025-10-15 -> 2026-02-01  1200 (100)   starts mid-month: counts from October
     a2 2025-12-10 -> open         600  (50)   upgrade in December
     a3 2026-02-01 -> 2027-02-01   840  (70)   replaces a1: downgrade in February
  B  b1 2025-11-01 -> 2026-01-01  1200 EUR x 1.20 = 1440 (120); churn in January
     b2 2026-03-01 -> open         600 EUR x 1.30 = 780 (65); reactivation in March
  C  c1 2026-03-10 -> open        2400 (200)   new in the month of as_of_date
  D  d1 2026-02-05 -> 2026-03-20   360  (30)   active on the measuring day Mar 17
  E  e1 2026-03-18 -> open        1200         starts after as_of_date: does not exist
  F  f1 2026-03-05 -> 2026-03-12   120  (10)   covers no measuring day: never MRR
  G  g1 2025-10-01 -> open          12   (1)
     g2 2026-01-05 -> open           0.036 (0.003): a change under half a cent
  H  h1 2025-11-01 -> open           0.048 (0.004): an MRR under half a cent is 0

Account MRR by month (Oct .. Mar):
  A 100 100 150 150 120 120   B - 120 120 0 0 65   C - - - - - 200
  D - - - - 30 30             G 1 1 1 1.003 1.003 1.003
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt_fixtures import build_fixture, query
from tests.support.dbt_fixtures import subscription_row as _sub

AS_OF = "2026-03-17"
SELECT = "+marts.retention stg_crm__accounts"
HALF_A_CENT = 0.005
# From the first MRR month (a1 starts 2025-10-15) to the month of AS_OF.
MONTHS = ["2025-10-01", "2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01"]


def _opp(oid, account, kind, close, amount, *, closed=True, won=True, currency="USD"):
    stage = "Closed Won" if won else ("Closed Lost" if closed else "Negotiation")
    return {
        "opportunity_id": oid,
        "account_id": account,
        "opportunity_type": kind,
        "created_at": "2025-06-01",
        "close_date": close,
        "stage": stage,
        "is_closed": closed,
        "is_won": won,
        "amount": amount,
        "currency": currency,
    }


ROWS = {
    "crm__accounts": [
        {"account_id": a, "account_name": f"Account {a}", "created_at": "2025-01-01"}
        for a in "ABCDEFGH"
    ],
    "finance__fx_rates": [
        {"rate_date": "2025-10-01", "currency": "EUR", "rate_to_reporting": 1.10},
        {"rate_date": "2025-11-01", "currency": "EUR", "rate_to_reporting": 1.20},
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.30},
    ],
    "billing__subscriptions": [
        _sub("a1", "A", "2025-10-15", "2026-02-01", 1200),
        _sub("a2", "A", "2025-12-10", None, 600),
        _sub("a3", "A", "2026-02-01", "2027-02-01", 840),
        _sub("b1", "B", "2025-11-01", "2026-01-01", 1200, "EUR"),
        _sub("b2", "B", "2026-03-01", None, 600, "EUR"),
        _sub("c1", "C", "2026-03-10", None, 2400),
        _sub("d1", "D", "2026-02-05", "2026-03-20", 360),
        _sub("e1", "E", "2026-03-18", None, 1200),
        _sub("f1", "F", "2026-03-05", "2026-03-12", 120),
        _sub("g1", "G", "2025-10-01", None, 12),
        _sub("g2", "G", "2026-01-05", None, 0.036),
        _sub("h1", "H", "2025-11-01", None, 0.048),
    ],
    "crm__opportunities": [
        _opp("o1", "A", "new_business", "2025-10-10", 1200),
        _opp("o2", "B", "new_business", "2025-10-28", 1000, currency="EUR"),  # x 1.10
        _opp("o3", "C", "new_business", "2026-03-05", 2400),
        _opp("o4", "D", "expansion", "2026-02-01", 500),  # not new business
        _opp("o5", "G", "new_business", "2025-09-20", 300, won=False),  # lost
        _opp("o6", "E", "new_business", "2026-03-20", 1200),  # closes after as_of_date
        _opp("o7", "D", "new_business", "2026-02-01", 360, closed=False, won=False),  # open
    ],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "mrr_movements", ROWS, SELECT, {"as_of_date": AS_OF})


@pytest.fixture(scope="module")
def movements(db: Path) -> dict:
    rows = query(db, "select * from marts.mrr_movements order by month")
    return {str(r["month"]): r for r in rows}


@pytest.fixture(scope="module")
def account_mrr(db: Path) -> dict:
    rows = query(db, "select * from marts.fct_account_mrr order by account_id, month")
    return {(r["account_id"], str(r["month"])): r for r in rows}


def test_months_run_from_first_mrr_month_to_month_of_as_of_date(movements):
    assert list(movements) == MONTHS


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        (
            "2025-10-01",
            dict(
                starting_mrr=0,
                new_mrr=101,
                ending_mrr=101,
                customers_start=0,
                new_customers=2,
                customers_end=2,
            ),
        ),
        (
            "2025-11-01",
            dict(
                starting_mrr=101,
                new_mrr=120,
                ending_mrr=221,
                customers_start=2,
                new_customers=1,
                customers_end=3,
            ),
        ),
        (
            "2025-12-01",
            dict(
                starting_mrr=221,
                expansion_mrr=50,
                ending_mrr=271,
                customers_start=3,
                customers_end=3,
            ),
        ),
        (
            "2026-01-01",
            dict(
                starting_mrr=271,
                churned_mrr=-120,
                ending_mrr=151.003,
                customers_start=3,
                churned_customers=1,
                customers_end=2,
            ),
        ),
        (
            "2026-02-01",
            dict(
                starting_mrr=151.003,
                new_mrr=30,
                contraction_mrr=-30,
                ending_mrr=151.003,
                customers_start=2,
                new_customers=1,
                customers_end=3,
            ),
        ),
        (
            "2026-03-01",
            dict(
                starting_mrr=151.003,
                new_mrr=200,
                reactivation_mrr=65,
                ending_mrr=416.003,
                customers_start=3,
                new_customers=1,
                reactivated_customers=1,
                customers_end=5,
            ),
        ),
    ],
)
def test_monthly_movements(movements, month, expected):
    zero = dict.fromkeys(
        [
            "new_mrr",
            "reactivation_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
            "new_customers",
            "reactivated_customers",
            "churned_customers",
        ],
        0,
    )
    row = movements[month]
    for column, value in {**zero, **expected}.items():
        assert row[column] == pytest.approx(value, abs=1e-9), column


def test_identity_holds_in_every_month(movements):
    rows = list(movements.values())
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        moved = (
            row["starting_mrr"]
            + row["new_mrr"]
            + row["reactivation_mrr"]
            + row["expansion_mrr"]
            + row["contraction_mrr"]
            + row["churned_mrr"]
        )
        # only G's 0.003 in January is a change under half a cent (no movement)
        expected_gap = 0.003 if str(row["month"]) == "2026-01-01" else 0
        assert row["ending_mrr"] - moved == pytest.approx(expected_gap, abs=1e-9)
        assert abs(row["ending_mrr"] - moved) < HALF_A_CENT
        if following is not None:
            assert following["starting_mrr"] == row["ending_mrr"]  # exactly
            assert following["customers_start"] == row["customers_end"]


def test_mid_month_start_upgrade_and_downgrade(account_mrr):
    types = [
        account_mrr[("A", m)]["movement_type"]
        for m in MONTHS
    ]
    assert types == ["new", "unchanged", "expansion", "unchanged", "contraction", "unchanged"]
    assert account_mrr[("A", "2025-10-01")]["mrr"] == pytest.approx(100)
    assert account_mrr[("A", "2025-12-01")]["expansion_mrr"] == pytest.approx(50)
    assert account_mrr[("A", "2026-02-01")]["contraction_mrr"] == pytest.approx(-30)
    assert account_mrr[("A", "2026-02-01")]["mrr"] == pytest.approx(120)


def test_foreign_currency_churn_and_reactivation_after_a_gap(account_mrr):
    b = [
        account_mrr[("B", m)]
        for m in ["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01"]
    ]
    assert [r["movement_type"] for r in b] == [
        "new",
        "unchanged",
        "churn",
        "inactive",
        "reactivation",
    ]
    assert b[0]["mrr"] == pytest.approx(1200 * 1.20 / 12)  # EUR at its start_date rate
    assert b[2]["churned_mrr"] == pytest.approx(-120)
    assert b[3]["mrr"] == 0
    assert b[4]["reactivation_mrr"] == pytest.approx(600 * 1.30 / 12)
    assert ("B", "2025-10-01") not in account_mrr  # rows start at its first MRR month


def test_measuring_day_is_as_of_date_in_its_month(account_mrr):
    d_march = account_mrr[("D", "2026-03-01")]
    assert str(d_march["measuring_date"]) == AS_OF
    assert d_march["mrr"] == pytest.approx(30)  # ends Mar 20, after the measuring day
    assert account_mrr[("C", "2026-03-01")]["movement_type"] == "new"  # open-ended
    assert str(account_mrr[("A", "2026-02-01")]["measuring_date"]) == "2026-02-28"


def test_accounts_without_mrr_have_no_rows(account_mrr):
    accounts = {account for account, _ in account_mrr}
    assert accounts == {"A", "B", "C", "D", "G"}  # E after as_of, F unmeasured, H < 0.005


def test_change_under_half_a_cent_is_no_movement(account_mrr):
    g = account_mrr[("G", "2026-01-01")]
    assert g["movement_type"] == "unchanged"
    assert g["mrr"] == pytest.approx(1.003)
    assert g["movement_mrr"] == 0


def test_account_spines_reach_the_month_of_as_of_date(db):
    rows = query(
        db,
        """
        select account_id, min(month) as first_month, max(month) as last_month, count(*) as n
        from marts.fct_account_mrr group by account_id order by account_id
    """,
    )
    assert {r["account_id"]: (str(r["first_month"]), r["n"]) for r in rows} == {
        "A": ("2025-10-01", 6),
        "B": ("2025-11-01", 5),
        "C": ("2026-03-01", 1),
        "D": ("2026-02-01", 2),
        "G": ("2025-10-01", 6),
    }
    assert {str(r["last_month"]) for r in rows} == {"2026-03-01"}


def test_no_revenue_retention_before_twelve_months_of_mrr(db):
    assert query(db, "select * from marts.revenue_retention") == []


def test_bookings_reconciliation_shows_the_gap(db):
    rows = query(db, "select * from marts.bookings_reconciliation order by fiscal_quarter_start")
    assert [str(r["fiscal_quarter_start"]) for r in rows] == ["2025-10-01", "2026-01-01"]
    q4, q1 = rows
    # CRM: o1 1200 + o2 1000 EUR x 1.10 (close_date rate); billing: a1 1200, b1 1440,
    # g1 12, h1 0.048 (H never had MRR before)
    assert q4["crm_new_business_deals"] == 2
    assert q4["crm_new_business_arr"] == pytest.approx(2300)
    assert q4["billing_new_subscriptions"] == 4
    assert q4["billing_new_accounts"] == 4
    assert q4["billing_new_arr"] == pytest.approx(2652.048)
    assert q4["arr_difference"] == pytest.approx(352.048)
    assert q4["relative_difference"] == pytest.approx(352.048 / 2300)
    assert str(q4["fiscal_quarter_end"]) == "2025-12-31"
    assert q4["is_complete"] is True
    # CRM: o3 2400 (o4 expansion, o5 lost, o6 after as_of_date, o7 open: none count);
    # billing: c1 2400 + d1 360 (no CRM deal: the gap) + f1 120; b2 is a reactivation
    assert q1["crm_new_business_deals"] == 1
    assert q1["crm_new_business_arr"] == pytest.approx(2400)
    assert q1["billing_new_subscriptions"] == 3
    assert q1["billing_new_arr"] == pytest.approx(2880)
    assert q1["arr_difference"] == pytest.approx(480)
    assert q1["relative_difference"] == pytest.approx(0.2)
    assert q1["is_complete"] is False
