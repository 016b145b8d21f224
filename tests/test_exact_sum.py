"""The exact_sum macro (dbt_project/macros/exact_sum.sql) through marts.fct_spend_monthly,
over hand-made spend in the reporting currency (USD, rate 1: the amounts reach the sum
unchanged).

    January, paid_search: ten amounts of 0.1. Added as floating point, in any order, they
        give 0.9999999999999999 (0.1 is not a binary fraction); as decimals exactly 1.
    February, events: 0.1 + 0.2 + 0.3, exactly 0.6 (as floating point 0.6000000000000001
        in this order, 0.6 in the reverse one: the order mattered).
    March, content: two amounts of 1e308, finite each. Too large for the exact decimal,
        the group is summed as floating point: infinity, which the quality gate refuses
        (docs/data-quality.md), instead of a cast error or a silently dropped term.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.support.dbt_fixtures import dbt_build, query, write_raw_tables

VARS = {"as_of_date": "2026-03-31"}


def _spend(spend_id: str, spend_date: str, category: str, channel: str, amount: float) -> dict[str, Any]:
    return {
        "spend_id": spend_id,
        "spend_date": spend_date,
        "department": "marketing",
        "category": category,
        "channel": channel,
        "campaign_id": None,
        "amount": amount,
        "currency": "USD",
    }


RAW = {
    "finance__spend": [
        *(_spend(f"J{i}", "2026-01-10", "advertising", "paid_search", 0.1) for i in range(10)),
        _spend("F1", "2026-02-03", "events", "events", 0.1),
        _spend("F2", "2026-02-04", "events", "events", 0.2),
        _spend("F3", "2026-02-05", "events", "events", 0.3),
        _spend("M1", "2026-03-02", "content", "content", 1e308),
        _spend("M2", "2026-03-03", "content", "content", 1e308),
    ],
}


@pytest.fixture(scope="module")
def spend(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    work: Path = tmp_path_factory.mktemp("exact_sum")
    db_path = work / "work.duckdb"
    write_raw_tables(db_path, RAW)
    # `run`, not `build`: the reconciliation test rightly fails on the infinite March
    dbt_build(db_path, work / "target", select="+fct_spend_monthly", vars=VARS, command="run")
    rows = query(db_path, "select month, spend_rows, spend from marts.fct_spend_monthly")
    return {str(r["month"]): (r["spend_rows"], r["spend"]) for r in rows}


def test_ten_tenths_sum_to_exactly_one(spend):
    assert sum([0.1] * 10) == 0.9999999999999999  # what a floating-point sum gives
    assert spend["2026-01-01"] == (10, 1.0)


def test_the_sum_does_not_depend_on_the_order_of_its_terms(spend):
    assert (0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1) == (0.6000000000000001, 0.6)
    assert spend["2026-02-01"] == (3, 0.6)


def test_amounts_too_large_for_the_decimal_still_sum_to_infinity(spend):
    rows, total = spend["2026-03-01"]
    assert rows == 2
    assert math.isinf(total) and total > 0
