"""Revenue retention over a hand-made company (as_of_date 2026-02-15), numbers worked
out below. MRR = ARR / 12; EUR converts at its start_date rate (1.20 from 2025-01-01,
1.50 from 2026-01-01).

  A  a1 2025-01-01 -> open          1200 (100); a2 2025-09-01 -> open 6000 (500)
  B  b1 2025-01-20 -> 2025-12-01    2400 (200); b2 2025-12-01 -> open 1200 (100)
  C  c1 2025-01-10 -> 2025-07-10     600  (50)  churned
  D  d1 2025-02-10 -> open          3000 EUR x 1.20 = 3600 (300)
  E  e1 2025-06-01 -> open           600  (50)  in no cohort
  F  f1 2025-01-05 -> 2025-03-01     480  (40); f2 2026-02-01 -> open 720 (60): reactivated
  G  g1 2025-02-01 -> 2026-02-20    1200 (100)  active on the measuring day 2026-02-15

M = 2026-01 (cohort of 2025-01: A 100, B 200, C 50, F 40 = 390):
  now A 600, B 100, C 0, F 0: retained 2, gross 100 + 100 = 200, net 700.
M = 2026-02 (cohort of 2025-02: A 100, B 200, C 50, D 300, F 40, G 100 = 790):
  now A 600, B 100, C 0, D 300, F 60, G 100: retained 5,
  gross 100 + 100 + 0 + 300 + 40 + 100 = 640, net 600 + 100 + 300 + 60 + 100 = 1160.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from tests.support.dbt_fixtures import build_fixture, query
from tests.support.dbt_fixtures import subscription_row as _sub

AS_OF = "2026-02-15"
SELECT = "+marts.retention stg_crm__accounts"


ROWS = {
    "crm__accounts": [
        {"account_id": a, "account_name": f"Account {a}", "created_at": "2024-06-01"}
        for a in "ABCDEFG"
    ],
    "finance__fx_rates": [
        {"rate_date": "2025-01-01", "currency": "EUR", "rate_to_reporting": 1.20},
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.50},
    ],
    "billing__subscriptions": [
        _sub("a1", "A", "2025-01-01", None, 1200),
        _sub("a2", "A", "2025-09-01", None, 6000),
        _sub("b1", "B", "2025-01-20", "2025-12-01", 2400),
        _sub("b2", "B", "2025-12-01", None, 1200),
        _sub("c1", "C", "2025-01-10", "2025-07-10", 600),
        _sub("d1", "D", "2025-02-10", None, 3000, "EUR"),
        _sub("e1", "E", "2025-06-01", None, 600),
        _sub("f1", "F", "2025-01-05", "2025-03-01", 480),
        _sub("f2", "F", "2026-02-01", None, 720),
        _sub("g1", "G", "2025-02-01", "2026-02-20", 1200),
    ],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "revenue_retention", ROWS, SELECT, {"as_of_date": AS_OF})


@pytest.fixture(scope="module")
def retention(db: Path) -> dict:
    rows = query(db, "select * from marts.revenue_retention order by month")
    return {str(r["month"]): r for r in rows}


def test_rows_start_twelve_months_after_the_first_mrr_month(retention):
    assert list(retention) == ["2026-01-01", "2026-02-01"]


def test_january_cohort(retention):
    row = retention["2026-01-01"]
    assert row["cohort_customers"] == 4
    assert row["starting_mrr"] == pytest.approx(390)
    assert row["retained_customers"] == 2
    assert row["gross_retained_mrr"] == pytest.approx(200)
    assert row["net_retained_mrr"] == pytest.approx(700)
    assert row["grr"] == pytest.approx(200 / 390)
    assert row["nrr"] == pytest.approx(700 / 390)
    assert row["logo_retention"] == pytest.approx(0.5)


def test_february_cohort_measured_on_as_of_date(retention):
    row = retention["2026-02-01"]
    assert row["cohort_customers"] == 6
    assert row["starting_mrr"] == pytest.approx(790)  # D at the 2025-02-10 EUR rate 1.20
    assert row["retained_customers"] == 5  # G ends 2026-02-20, after as_of_date
    assert row["gross_retained_mrr"] == pytest.approx(640)
    assert row["net_retained_mrr"] == pytest.approx(1160)
    assert row["grr"] == pytest.approx(640 / 790)
    assert row["nrr"] == pytest.approx(1160 / 790)
    assert row["logo_retention"] == pytest.approx(5 / 6)


def test_grr_never_above_one_while_nrr_exceeds_it(retention):
    for row in retention.values():
        assert 0 <= row["grr"] <= 1
        assert row["nrr"] > 1


def test_movements_carry_through_accounts_starting_later(db):
    rows = query(db, "select * from marts.mrr_movements order by month")
    assert str(rows[0]["month"]) == "2025-01-01"
    assert str(rows[-1]["month"]) == "2026-02-01"
    assert len(rows) == 14
    for row, following in pairwise(rows):
        assert following["starting_mrr"] == row["ending_mrr"]
    for row in rows:
        moved = (
            row["starting_mrr"]
            + row["new_mrr"]
            + row["reactivation_mrr"]
            + row["expansion_mrr"]
            + row["contraction_mrr"]
            + row["churned_mrr"]
        )
        assert row["ending_mrr"] == pytest.approx(moved, abs=1e-9)
    by_month = {str(r["month"]): r for r in rows}
    # Jan 2026: A 600 + B 100 + D 300 + E 50 + G 100; Feb: F reactivates with 60
    assert by_month["2026-01-01"]["ending_mrr"] == pytest.approx(1150)
    feb = by_month["2026-02-01"]
    assert feb["starting_mrr"] == pytest.approx(1150)
    assert feb["reactivation_mrr"] == pytest.approx(60)
    assert feb["ending_mrr"] == pytest.approx(1210)
    assert (feb["customers_start"], feb["reactivated_customers"], feb["customers_end"]) == (5, 1, 6)
    # Dec 2025: B moves from b1 (200) to b2 (100)
    assert by_month["2025-12-01"]["contraction_mrr"] == pytest.approx(-100)
    # Feb 2025: D (300) and G (100) are new, starting after the first month of MRR
    assert by_month["2025-02-01"]["new_mrr"] == pytest.approx(400)
    assert by_month["2025-02-01"]["new_customers"] == 2
