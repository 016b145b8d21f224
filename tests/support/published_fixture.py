"""Hand-made published files: a few rows per mart, written directly with duckdb.

`write_published` writes the public marts with the columns of docs/metrics.md (and the
publication record), so the metrics report can be checked against numbers chosen by
hand; `only=` leaves marts out, like a file published by an older version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb

AS_OF = dt.date(2026, 11, 26)
D = dt.date.fromisoformat

TABLES: dict[str, str] = {
    "commercial_ratio": """period_grain varchar, period_start date, period_end date, period_label varchar,
        revenue double, prior_revenue double, revenue_growth double, marketing_expense double,
        sales_expense double, sm_expense double, commercial_ratio double, band varchar, is_complete boolean""",
    "lead_funnel": """cohort_month date, channel varchar, segment varchar, leads bigint, mqls bigint, sqls bigint,
        opportunities bigint, won bigint, disqualified bigint, won_amount double, mql_rate double,
        sql_rate double, opportunity_rate double, win_rate double, lead_to_won_rate double,
        cohort_age_days integer, is_mature boolean""",
    "opportunity_funnel": """cohort_month date, segment varchar, opportunity_type varchar, stage varchar,
        stage_order integer, entered bigint, advanced bigint, conversion_rate double, won bigint, lost bigint,
        open bigint, median_days_to_next double""",
    "win_rates": """close_month date, segment varchar, opportunity_type varchar, won bigint, lost bigint,
        win_rate double, won_amount double, avg_won_amount double, median_sales_cycle_days double""",
    "channel_efficiency": """fiscal_quarter_start date, channel varchar, spend double, leads bigint, mqls bigint,
        opportunities bigint, won bigint, won_amount double, cost_per_lead double, cost_per_opportunity double,
        cost_per_win double, return_on_spend double, leakage_rate double""",
    "mrr_movements": """month date, starting_mrr double, new_mrr double, reactivation_mrr double,
        expansion_mrr double, contraction_mrr double, churned_mrr double, ending_mrr double,
        customers_start bigint, new_customers bigint, reactivated_customers bigint, churned_customers bigint,
        customers_end bigint""",
    "revenue_retention": """month date, cohort_customers bigint, starting_mrr double, retained_customers bigint,
        gross_retained_mrr double, net_retained_mrr double, grr double, nrr double, logo_retention double""",
    "renewals": """expiry_month date, accounts_expiring bigint, accounts_renewed bigint, logo_renewal_rate double,
        expiring_arr double, renewed_arr double, successor_arr double, gross_renewal_rate double,
        net_renewal_rate double, is_mature boolean""",
    "fct_opportunities": """opportunity_id varchar, segment varchar, opportunity_type varchar, is_won boolean,
        close_month date, sales_cycle_days integer""",
    "publication": """published_at timestamp, as_of_date date, run_id varchar, reporting_currency varchar,
        crm__leads_loaded bigint, crm__leads_quarantined bigint, finance__spend_loaded bigint,
        finance__spend_quarantined bigint, rows_loaded bigint, rows_quarantined bigint, checks_passed integer,
        checks_warned integer, checks_failed integer""",
    "check_results": """run_id varchar, suite varchar, asset varchar, expectation varchar, severity varchar,
        status varchar, unexpected_count bigint""",
}


def _months(first: dt.date, count: int) -> list[dt.date]:
    out, year, month = [], first.year, first.month
    for _ in range(count):
        out.append(dt.date(year, month, 1))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _rows() -> dict[str, list[tuple[Any, ...]]]:
    ratio = [
        # FY2025: growth 200 on S&M 181.818... = 1.10, balanced
        ("fiscal_year", D("2024-01-01"), D("2024-12-31"), "FY2024", 1000.0, None, None, 80.0, 70.0, 150.0, None,
         None, True),
        ("fiscal_year", D("2025-01-01"), D("2025-12-31"), "FY2025", 1200.0, 1000.0, 200.0, 100.0, 200 / 1.1 - 100,
         200 / 1.1, 1.1, "balanced", True),
        ("fiscal_year", D("2026-01-01"), D("2026-12-31"), "FY2026", 1300.0, 1200.0, 100.0, 90.0, 90.0, 180.0, None,
         None, False),
        ("fiscal_quarter", D("2026-01-01"), D("2026-03-31"), "FY2026-Q1", 300.0, 285.0, 15.0, 50.0, 50.0, 100.0,
         0.6, "unsustainable", True),
        ("fiscal_quarter", D("2026-04-01"), D("2026-06-30"), "FY2026-Q2", 332.5, 300.0, 32.5, 50.0, 50.0, 100.0,
         1.3, "efficient", True),
        ("fiscal_quarter", D("2026-07-01"), D("2026-09-30"), "FY2026-Q3", 372.5, 332.5, 40.0, 50.0, 50.0, 100.0,
         1.6, "under_invested", True),
        ("fiscal_quarter", D("2026-10-01"), D("2026-12-31"), "FY2026-Q4", 300.0, 372.5, -72.5, 40.0, 40.0, 80.0,
         None, None, False),
        ("ttm", D("2024-11-01"), D("2025-10-31"), "TTM-2025-10", 1150.0, 1000.0, 150.0, 80.0, 86.67, 166.67, 0.9,
         "balanced", True),
        ("ttm", D("2025-10-01"), D("2026-09-30"), "TTM-2026-09", 1290.0, 1150.0, 140.0, 100.0, 100.0, 200.0, 0.7,
         "unsustainable", True),
        ("ttm", D("2025-11-01"), D("2026-10-31"), "TTM-2026-10", 1294.0, 1150.0, 144.0, 100.0, 100.0, 200.0, 0.72,
         "unsustainable", True),
        ("ttm", D("2025-12-01"), D("2026-11-30"), "TTM-2026-11", 1250.0, 1160.0, 90.0, 100.0, 100.0, 200.0, None,
         None, False),
    ]
    funnel = []
    for month, mature in ((D("2026-06-01"), True), (D("2026-07-01"), True), (D("2026-11-01"), False)):
        for channel, leads, mqls, sqls, opps, won in (("paid_search", 100, 40, 20, 10, 4), ("referral", 10, 8, 6, 5, 3)):
            funnel.append((month, channel, "SMB", leads, mqls, sqls, opps, won, 1, won * 1000.0, mqls / leads,
                           sqls / mqls, opps / sqls, won / opps, won / leads, 90 if mature else -4, mature))
    stages = []
    for order, stage, entered, advanced, days in ((1, "Discovery", 20, 12, 10.0), (2, "Proposal", 12, 9, 15.5),
                                                  (3, "Negotiation", 9, 7, 8.0)):
        stages.append((D("2026-06-01"), "SMB", "new_business", stage, order, entered, advanced, advanced / entered,
                       7, 11 - order, 2, days))
    wins = [
        (D("2026-09-01"), "SMB", "new_business", 3, 2, 0.6, 30000.0, 10000.0, 40.0),
        (D("2026-10-01"), "SMB", "new_business", 1, 3, 0.25, 12000.0, 12000.0, 55.0),
        (D("2026-10-01"), "Enterprise", "expansion", 2, 0, 1.0, 90000.0, 45000.0, 80.0),
    ]
    channels = [
        (D("2026-07-01"), "paid_search", 1000.0, 100, 40, 10, 2, 5000.0, 10.0, 100.0, 500.0, 5.0, 0.9),
        (D("2026-07-01"), "(unattributed)", 500.0, 0, 0, 0, 0, 0.0, None, None, None, 0.0, None),
        (D("2026-10-01"), "paid_search", 700.0, 50, 10, 2, 0, 0.0, 14.0, 350.0, None, 0.0, 0.96),
    ]
    mrr, start = [], 0.0
    for i, month in enumerate(_months(D("2025-10-01"), 14)):
        new, expansion, contraction, churned = 100.0, 10.0 * (i % 3), -5.0, -20.0 if i else 0.0
        if i == 0:
            expansion = contraction = 0.0
        end = start + new + expansion + contraction + churned
        mrr.append((month, start, new, 0.0, expansion, contraction, churned, end, 10 + i, 2, 0, 1, 11 + i))
        start = end
    retention = [
        (D("2026-10-01"), 10, 1000.0, 8, 900.0, 1060.0, 0.9, 1.06, 0.8),
        (D("2026-11-01"), 11, 1100.0, 9, 990.0, 1155.0, 0.9, 1.05, 9 / 11),
    ]
    renewals = [
        (D("2026-08-01"), 4, 3, 0.75, 4000.0, 2900.0, 3300.0, 2900 / 4000, 3300 / 4000, True),
        (D("2026-09-01"), 6, 6, 1.0, 6000.0, 6000.0, 6600.0, 1.0, 1.1, True),
        (D("2026-11-01"), 5, 1, 0.2, 5000.0, 1000.0, 1000.0, 0.2, 0.2, False),
    ]
    opportunities = [
        ("O1", "SMB", "new_business", True, D("2026-09-01"), 30),
        ("O2", "SMB", "new_business", True, D("2026-10-01"), 50),
        ("O3", "Enterprise", "expansion", True, D("2026-10-01"), 80),
    ]
    publication = [
        (dt.datetime(2026, 11, 25, 2, 5), D("2026-11-24"), "run-old", "USD", 900, 0, 90, 0, 990, 0, 500, 0, 0),
        (dt.datetime(2026, 11, 27, 2, 5), AS_OF, "run-tiny", "USD", 1000, 3, 100, 1, 1100, 4, 520, 2, 0),
    ]
    check_results = [
        ("run-tiny", "crm__leads", "raw/crm__leads", "mql_at is not before created_at", "warning", "warned", 3),
        ("run-tiny", "finance__spend", "raw/finance__spend", "spend has a campaign that exists", "warning",
         "warned", 1),
        ("run-tiny", "finance__spend", "raw/finance__spend", "spend_id is unique", "error", "passed", 0),
        ("run-old", "finance__spend", "raw/finance__spend", "an older run's warning", "warning", "warned", 9),
    ]
    return {
        "commercial_ratio": ratio, "lead_funnel": funnel, "opportunity_funnel": stages, "win_rates": wins,
        "channel_efficiency": channels, "mrr_movements": mrr, "revenue_retention": retention,
        "renewals": renewals, "fct_opportunities": opportunities, "publication": publication,
        "check_results": check_results,
    }  # fmt: skip


def write_published(path: Path, only: Iterable[str] | None = None, empty: Sequence[str] = (),
                    drop_columns: dict[str, Sequence[str]] | None = None) -> Path:
    """A published file with the marts of `only` (default: all), `empty` ones without rows,
    and `drop_columns` removed (an older layout)."""
    rows = _rows()
    wanted = set(TABLES if only is None else only)
    path.unlink(missing_ok=True)
    with closing(duckdb.connect(str(path))) as con:
        con.execute("create schema marts")
        for name, columns in TABLES.items():
            if name not in wanted:
                continue
            con.execute(f"create table marts.{name} ({columns})")
            if name not in empty:
                width = len(rows[name][0])
                con.executemany(f"insert into marts.{name} values ({', '.join('?' * width)})", rows[name])
            for column in (drop_columns or {}).get(name, ()):
                con.execute(f"alter table marts.{name} drop column {column}")
        con.execute("checkpoint")
    return path
