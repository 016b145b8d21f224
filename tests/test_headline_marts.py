"""The headline marts (models/marts/headline/): built over the hand-made company of
test_renewals, which also runs their dbt unit tests (hand-worked values in
_headline__models.yml).

Trailing renewals by hand, from test_renewals.EXPECTED: the mature expiry months are
Dec 2025 (1 of 1, ARR 100 / 100 / 100), Feb 2026 (1 of 1, 1500 / 1500 / 1800), Mar 2026
(2 of 2, 1800 / 1600 / 1900) and Apr 2026 (0 of 2, 1200 / 0 / 0): 4 of 6 accounts,
3200 of 4600 ARR kept, 3800 signed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.lib import dbt_manifest
from tests.support.dbt_fixtures import dbt_build, query, write_raw_tables
from tests.test_renewals import AS_OF, ROWS

HEADLINE_MARTS = (
    "channel_efficiency_trailing", "commercial_ratio_bands", "headline_metrics", "lead_funnel_cohorts",
    "lead_funnel_trailing", "mrr_movements_trailing", "mrr_net_change_monthly", "opportunity_funnel_trailing",
    "revenue_growth_quarterly", "win_rates_monthly", "win_rates_trailing",
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("headline")
    db_path = tmp / "work.duckdb"
    write_raw_tables(db_path, ROWS)
    dbt_build(db_path, tmp / "target", select="+marts.headline", vars={"as_of_date": AS_OF})
    return db_path


@pytest.fixture(scope="module")
def metrics(db: Path) -> dict[str, dict]:
    return {r["metric"]: r for r in query(db, "select * from marts.headline_metrics")}


@pytest.mark.parametrize(
    ("metric", "numerator", "denominator"),
    [("logo_renewal_rate", 4, 6), ("gross_renewal_rate", 3200, 4600), ("net_renewal_rate", 3800, 4600)],
)
def test_trailing_renewal_rates_sum_the_mature_expiry_months(metrics, metric, numerator, denominator):
    row = metrics[metric]
    assert (row["numerator"], row["denominator"]) == (numerator, denominator)
    assert row["value"] == pytest.approx(numerator / denominator)
    assert (row["window_start"], row["window_end"]) == (dt.date(2025, 12, 1), dt.date(2026, 4, 1))


def test_no_lead_gives_only_an_empty_all_channels_row(db):
    rows = query(db, "select channel, cohort_months, leads, first_cohort_month from marts.lead_funnel_trailing")
    assert rows == [{"channel": "(all channels)", "cohort_months": 0, "leads": None, "first_cohort_month": None}]


def test_bands_are_published_at_the_default_thresholds(db):
    rows = query(db, "select band, lower_bound, upper_bound from marts.commercial_ratio_bands order by band_order")
    assert [tuple(r.values()) for r in rows] == [
        ("unsustainable", None, 0.75), ("balanced", 0.75, 1.25), ("efficient", 1.25, 1.5),
        ("under_invested", 1.5, None),
    ]


@pytest.mark.parametrize("name", HEADLINE_MARTS)
def test_headline_marts_are_public_with_an_enforced_typed_contract(db, name):
    mart = dbt_manifest.marts()[name]
    assert mart.access == "public" and mart.contract_enforced
    assert all(c.data_type for c in mart.columns) and all(c.description for c in mart.columns)
    published = query(
        db,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [name],
    )
    assert [(r["column_name"], r["data_type"]) for r in published] == [(c.name, c.data_type) for c in mart.columns]
