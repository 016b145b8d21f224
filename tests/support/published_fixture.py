"""Hand-made published files: a few rows per mart, written directly with duckdb.

`write_published` writes the public marts (and fct_opportunities, the publication
record and the check results), so the metrics report can be checked against numbers
chosen by hand; `only=` leaves marts out, like a file published by an older version.

Each mart's columns and types are its dbt model contract, read from the manifest
(orchestration/lib/dbt_manifest.py): a row is a tuple in the contract's column order
(a contract that gains or loses a column fails here until the rows follow), or a dict
naming the columns it fills (the rest null). Only the two tables the publish step
writes itself, which have no dbt model, are declared here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import dbt_manifest

AS_OF = dt.date(2026, 11, 26)
D = dt.date.fromisoformat

MARTS: tuple[str, ...] = (
    "commercial_ratio", "lead_funnel", "opportunity_funnel", "win_rates", "channel_efficiency", "mrr_movements",
    "revenue_retention", "renewals", "headline_metrics", "lead_funnel_trailing", "commercial_ratio_bands",
    "lead_funnel_cohorts", "opportunity_funnel_trailing", "win_rates_monthly", "win_rates_trailing",
    "channel_efficiency_trailing", "mrr_movements_trailing", "fct_opportunities", "pipeline_by_stage",
    "pipeline_movements_monthly", "mrr_net_change_monthly", "revenue_growth_quarterly",
)  # fmt: skip
# Written by the publish step (lib/publish.py) and the quality gate, not by dbt.
NOT_DBT_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "publication": (
        ("published_at", "timestamp"), ("as_of_date", "date"), ("run_id", "varchar"),
        ("reporting_currency", "varchar"), ("crm__leads_loaded", "bigint"), ("crm__leads_quarantined", "bigint"),
        ("finance__spend_loaded", "bigint"), ("finance__spend_quarantined", "bigint"), ("rows_loaded", "bigint"),
        ("rows_quarantined", "bigint"), ("checks_passed", "integer"), ("checks_warned", "integer"),
        ("checks_failed", "integer"), ("published_days_after_as_of", "bigint"),
        ("crm__leads_quarantined_share", "double"), ("finance__spend_quarantined_share", "double"),
        ("rows_quarantined_share", "double"),
    ),
    "check_results": (
        ("run_id", "varchar"), ("suite", "varchar"), ("asset", "varchar"), ("expectation", "varchar"),
        ("severity", "varchar"), ("status", "varchar"), ("unexpected_count", "bigint"),
    ),
}  # fmt: skip
TABLES: tuple[str, ...] = (*MARTS, *NOT_DBT_COLUMNS)


def table_columns(name: str) -> tuple[tuple[str, str], ...]:
    """(column, type) of a table of the fixture: a mart's from its dbt contract."""
    if name in NOT_DBT_COLUMNS:
        return NOT_DBT_COLUMNS[name]
    mart = dbt_manifest.marts()[name]
    return tuple((c.name, c.data_type or "varchar") for c in mart.columns)


def _months(first: dt.date, count: int) -> list[dt.date]:
    out, year, month = [], first.year, first.month
    for _ in range(count):
        out.append(dt.date(year, month, 1))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _rows() -> dict[str, list[tuple[Any, ...] | dict[str, Any]]]:
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
    # each fiscal quarter's revenue_growth above x 4
    quarter_growth = [(D("2026-01-01"), "FY2026-Q1", 60.0), (D("2026-04-01"), "FY2026-Q2", 130.0),
                      (D("2026-07-01"), "FY2026-Q3", 160.0), (D("2026-10-01"), "FY2026-Q4", -290.0)]
    mrr, net_change, start = [], [], 0.0
    for i, month in enumerate(_months(D("2025-10-01"), 14)):
        new, expansion, contraction, churned = 100.0, 10.0 * (i % 3), -5.0, -20.0 if i else 0.0
        if i == 0:
            expansion = contraction = 0.0
        end = start + new + expansion + contraction + churned
        mrr.append((month, start, new, 0.0, expansion, contraction, churned, end, 10 + i, 2, 0, 1, 11 + i))
        net_change.append((month, end - start))
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
    # The headline marts, worked out from the rows above. MRR ends Nov 2026 at 1205 and
    # Nov 2025 at 185; renewals: the mature Aug and Sep 2026; the latest TTM ratio (0.72,
    # TTM-2026-10) against TTM-2025-10 (0.9); lead funnel: the mature Jun and Jul 2026.
    headline = [
        ("arr", 12 * 1205.0, None, None, None, D("2026-11-01"), D("2026-11-01")),
        ("arr_growth", 1205 / 185 - 1, None, None, 12 * 185.0, D("2025-11-01"), D("2026-11-01")),
        ("logo_renewal_rate", 0.9, 9.0, 10.0, None, D("2026-08-01"), D("2026-09-01")),
        ("gross_renewal_rate", 0.89, 8900.0, 10000.0, None, D("2026-08-01"), D("2026-09-01")),
        ("net_renewal_rate", 0.99, 9900.0, 10000.0, None, D("2026-08-01"), D("2026-09-01")),
        ("commercial_ratio_ttm_change", 0.72 - 0.9, None, None, 0.9, D("2025-11-01"), D("2026-10-31")),
    ]
    window = (D("2026-06-01"), D("2026-07-01"), 2)
    trailing_funnel = [
        ("paid_search", *window, 200, 80, 40, 20, 8, 8000.0, 0.4, 0.5, 0.5, 0.4, 0.04),
        ("referral", *window, 20, 16, 12, 10, 6, 6000.0, 0.8, 0.75, 10 / 12, 0.6, 0.3),
        ("(all channels)", *window, 220, 96, 52, 30, 14, 14000.0, 96 / 220, 52 / 96, 30 / 52, 14 / 30, 14 / 220),
    ]
    cohorts = [(D("2026-06-01"), 110, 7, 7 / 110, True), (D("2026-07-01"), 110, 7, 7 / 110, True),
               (D("2026-11-01"), 110, 7, 7 / 110, False)]
    # the opportunity stages of the lead funnel's window (Jun - Jul 2026): all new_business
    stage_window = (D("2026-06-01"), D("2026-07-01"))
    trailing_stages = [
        (kind, order, stage, *stage_window, entered, advanced, advanced / entered, 7, 11 - order, 2, days)
        for kind in ("new_business", "(all types)")
        for order, stage, entered, advanced, days in ((1, "Discovery", 20, 12, 10.0), (2, "Proposal", 12, 9, 15.5),
                                                      (3, "Negotiation", 9, 7, 8.0))
    ]
    # win rates: Sep 2026 new_business 3-2; Oct 2026 new_business 1-3, expansion 2-0
    monthly_wins = [
        ("new_business", D("2026-09-01"), 3, 2, 3, 5, 0.6, 0.6),
        ("new_business", D("2026-10-01"), 1, 3, 4, 9, 0.25, 4 / 9),
        ("expansion", D("2026-09-01"), 0, 0, 0, 0, None, None),
        ("expansion", D("2026-10-01"), 2, 0, 2, 2, 1.0, 1.0),
        ("(all types)", D("2026-09-01"), 3, 2, 3, 5, 0.6, 0.6),
        ("(all types)", D("2026-10-01"), 3, 3, 6, 11, 0.5, 6 / 11),
    ]
    close_window = (D("2026-09-01"), D("2026-10-01"))
    segment_wins = [  # median cycles from the won opportunities below: SMB 30 and 50, Enterprise 80
        ("SMB", *close_window, 4, 5, 42000.0, 10500.0, 4 / 9, 40.0),
        ("Enterprise", *close_window, 2, 0, 90000.0, 45000.0, 1.0, 80.0),
    ]
    # the one complete fiscal quarter on 2026-11-26: Jul - Sep 2026
    quarter = (D("2026-07-01"), D("2026-09-30"), 1)
    trailing_channels = [
        ("paid_search", *quarter, 100, 40, 10, 2, 1000.0, 5000.0, 10.0, 100.0, 500.0, 5.0),
        ("(unattributed)", *quarter, 0, 0, 0, 0, 500.0, 0.0, None, None, None, 0.0),
    ]
    # MRR Dec 2025 - Nov 2026: starts at 185 (the end of Nov 2025), 12 x new 100, expansion
    # 10 x (2 + 0 + 1) x 4 = 120, contraction 12 x -5, churn 12 x -20, ends at 1205
    mrr_bridge = [(D("2025-12-01"), D("2026-11-01"), 12, 185.0, 1200.0, 0.0, 120.0, -60.0, -240.0, 1205.0)]
    bands = [("unsustainable", 1, None, 0.75), ("balanced", 2, 0.75, 1.25), ("efficient", 3, 1.25, 1.5),
             ("under_invested", 4, 1.5, None)]
    opportunities = [
        {"opportunity_id": oid, "segment": segment, "opportunity_type": kind, "is_won": True, "close_month": month,
         "sales_cycle_days": days}
        for oid, segment, kind, month, days in (("O1", "SMB", "new_business", D("2026-09-01"), 30),
                                                 ("O2", "SMB", "new_business", D("2026-10-01"), 50),
                                                 ("O3", "Enterprise", "expansion", D("2026-10-01"), 80))
    ]
    # the open pipeline at the Sep and Oct 2026 month ends and on as_of_date
    pipeline_stages = [
        (D("2026-09-30"), "Discovery", 1, 4, 40000.0, 1, 10000.0),
        (D("2026-09-30"), "Proposal", 4, 2, 60000.0, 0, 0.0),
        (D("2026-10-31"), "Discovery", 1, 5, 50000.0, 0, 0.0),
        (D("2026-10-31"), "Proposal", 4, 3, 70000.0, 1, 20000.0),
        (AS_OF, "Discovery", 1, 6, 55000.0, 0, 0.0),
        (AS_OF, "Proposal", 4, 3, 65000.0, 0, 0.0),
    ]
    # Oct 2026: 100000 + 1000 + 30000 + 5000 - 6000 - 8000 - 2000 = 120000 (6 + 3 - 1 = 8 deals);
    # Nov 2026 (to as_of_date, not complete): 120000 + 10000 - 5000 - 5000 = 120000
    pipeline_months = [
        (D("2026-10-01"), D("2026-09-30"), D("2026-10-31"), True, 100000.0, 1000.0, 30000.0, 5000.0, -6000.0,
         8000.0, 2000.0, 120000.0, 15000.0, 6, 3, 1, 0, 8, 2),
        (D("2026-11-01"), D("2026-10-31"), AS_OF, False, 120000.0, 0.0, 10000.0, 0.0, -5000.0, 0.0, 5000.0,
         120000.0, 0.0, 8, 1, 0, 1, 8, 0),
    ]
    # Published a day after each as-of date; quarantined shares 3 / 1003, 1 / 101 and 4 / 1104.
    publication = [
        (dt.datetime(2026, 11, 25, 2, 5), D("2026-11-24"), "run-old", "USD", 900, 0, 90, 0, 990, 0, 500, 0, 0,
         1, 0.0, 0.0, 0.0),
        (dt.datetime(2026, 11, 27, 2, 5), AS_OF, "run-tiny", "USD", 1000, 3, 100, 1, 1100, 4, 520, 2, 0,
         1, 3 / 1003, 1 / 101, 4 / 1104),
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
        "renewals": renewals, "headline_metrics": headline, "lead_funnel_trailing": trailing_funnel,
        "commercial_ratio_bands": bands, "lead_funnel_cohorts": cohorts,
        "opportunity_funnel_trailing": trailing_stages, "win_rates_monthly": monthly_wins,
        "win_rates_trailing": segment_wins, "channel_efficiency_trailing": trailing_channels,
        "mrr_movements_trailing": mrr_bridge, "mrr_net_change_monthly": net_change,
        "revenue_growth_quarterly": quarter_growth, "fct_opportunities": opportunities, "publication": publication,
        "pipeline_by_stage": pipeline_stages, "pipeline_movements_monthly": pipeline_months,
        "check_results": check_results,
    }  # fmt: skip


def _values(name: str, columns: Sequence[str], row: tuple[Any, ...] | Mapping[str, Any]) -> list[Any]:
    """A row's values in the order of `columns`."""
    if isinstance(row, Mapping):
        unknown = set(row) - set(columns)
        if unknown:
            raise KeyError(f"marts.{name} has no column(s) {sorted(unknown)}")
        return [row.get(c) for c in columns]
    if len(row) != len(columns):
        raise ValueError(
            f"a marts.{name} row has {len(row)} values for the {len(columns)} columns of its contract "
            f"({', '.join(columns)}): update the fixture"
        )
    return list(row)


def write_published(path: Path, only: Iterable[str] | None = None, empty: Sequence[str] = (),
                    drop_columns: dict[str, Sequence[str]] | None = None) -> Path:
    """A published file with the marts of `only` (default: all), `empty` ones without rows,
    and `drop_columns` removed (an older layout)."""
    rows = _rows()
    wanted = set(TABLES if only is None else only)
    path.unlink(missing_ok=True)
    with closing(duckdb.connect(str(path))) as con:
        con.execute("create schema marts")
        for name in TABLES:
            if name not in wanted:
                continue
            columns = table_columns(name)
            names = [c for c, _ in columns]
            definition = ", ".join(f'"{column}" {data_type}' for column, data_type in columns)
            con.execute(f"create table marts.{name} ({definition})")
            if name not in empty:
                con.executemany(
                    f"insert into marts.{name} values ({', '.join('?' * len(names))})",
                    [_values(name, names, row) for row in rows[name]],
                )
            for column in (drop_columns or {}).get(name, ()):
                con.execute(f"alter table marts.{name} drop column {column}")
        con.execute("checkpoint")
    return path
