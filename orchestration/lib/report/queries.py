"""What the metrics report reads: the published marts, through one read-only connection.

Every query here reads the `marts` schema of a published file (and, when a later
quality gate publishes them, its check results). A mart that is missing, or lacks a
column the report needs (an older published file), raises `NotAvailable` for its
section only; the rest of the report still renders.

The report does no metric arithmetic: a figure over several rows (a year of
channels, a window of cohorts) is read from the mart that sums it
(models/marts/headline/), never summed here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.publish import DAYS_AFTER_AS_OF

SCHEMA = "marts"
# Tables a quality gate may publish with one row per check (first found wins).
CHECK_RESULT_TABLES = (
    ("marts", "check_results"),
    ("marts", "quality_results"),
    ("marts", "quality_checks"),
    ("audit", "check_results"),
)
WINDOW_MONTHS = 12


class NotAvailable(Exception):
    """A mart (or a column of it) the section needs is not in this published file."""


@dataclass(frozen=True)
class Publication:
    row: dict[str, Any]  # the latest marts.publication row
    history: list[dict[str, Any]]  # newest first

    @property
    def as_of_date(self) -> dt.date | None:
        return self.row.get("as_of_date")

    @property
    def currency(self) -> str:
        return self.row.get("reporting_currency") or "USD"

    def checks(self, kind: str) -> int | None:
        value = self.row.get(f"checks_{kind}")
        return None if value is None else int(value)

    def sources(self) -> list[tuple[str, int, int | None]]:
        """(entity, loaded, quarantined) per source from the `<entity>_loaded` columns."""
        rows = []
        for column, value in self.row.items():
            if column.endswith("_loaded") and column != "rows_loaded":
                entity = column.removesuffix("_loaded")
                quarantined = self.row.get(f"{entity}_quarantined")
                rows.append((entity, int(value or 0), None if quarantined is None else int(quarantined)))
        return rows

    def recorded(self, column: str) -> bool:
        """Whether the latest publication records `column`: a file published before publishing
        derived a value (lib/publish.py, with_derived_values) lacks it, or holds null for it."""
        return column in self.row

    def quarantined_share(self, entity: str = "rows") -> float | None:
        """quarantined / (loaded + quarantined) of a source, or of all (`rows`), as published."""
        return self.row.get(f"{entity}_quarantined_share")

    @property
    def days_after_as_of(self) -> int | None:
        value = self.row.get(DAYS_AFTER_AS_OF)
        return None if value is None else int(value)


class PublishedFile:
    """A published DuckDB file, opened read-only."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"No published file at {path}")
        self.path = path
        self.con = duckdb.connect(str(path), read_only=True)
        self.con.execute("set TimeZone = 'UTC'")
        self.columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in self.con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall():
            self.columns.setdefault((schema, table), []).append(column)

    def close(self) -> None:
        self.con.close()

    def has(self, table: str, *columns: str, schema: str = SCHEMA) -> bool:
        present = self.columns.get((schema, table))
        return present is not None and all(c in present for c in columns)

    def require(self, table: str, *columns: str) -> None:
        present = self.columns.get((SCHEMA, table))
        if present is None:
            raise NotAvailable(f"{SCHEMA}.{table} is not in this published file.")
        missing = [c for c in columns if c not in present]
        if missing:
            raise NotAvailable(
                f"{SCHEMA}.{table} in this published file lacks column(s) {', '.join(missing)} "
                "(it was published by an older version)."
            )

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def tables(self) -> list[str]:
        return sorted(f"{s}.{t}" for (s, t) in self.columns)


@contextlib.contextmanager
def open_published(path: Path) -> Iterator[PublishedFile]:
    published = PublishedFile(path)
    try:
        yield published
    finally:
        published.close()


# -- publication ---------------------------------------------------------------------


def publication(db: PublishedFile) -> Publication:
    db.require("publication", "published_at", "as_of_date")
    history = db.rows(f"select * from {SCHEMA}.publication order by published_at desc")
    if not history:
        raise NotAvailable(f"{SCHEMA}.publication is empty.")
    return Publication(row=history[0], history=history)


def check_results(db: PublishedFile, run_id: str | None) -> tuple[str, list[dict[str, Any]]] | None:
    """Per-check results, when the published file carries a table of them: (table, rows),
    warned and failed first; only the latest run's rows when the table has run_id."""
    for schema, table in CHECK_RESULT_TABLES:
        columns = db.columns.get((schema, table))
        if not columns:
            continue
        where, params = "", []
        if "run_id" in columns and run_id:
            where, params = "where run_id = ?", [run_id]
        order = ""
        if "status" in columns:
            order = (
                "order by case lower(status) when 'failed' then 0 when 'error' then 0 "
                "when 'warned' then 1 when 'warn' then 1 when 'skipped' then 2 else 3 end"
            )
        rows = db.rows(f'select * from "{schema}"."{table}" {where} {order}', params)
        return f"{schema}.{table}", rows
    return None


# -- commercial ratio ----------------------------------------------------------------

RATIO_COLUMNS = (
    "period_grain", "period_start", "period_end", "period_label", "revenue", "prior_revenue",
    "revenue_growth", "marketing_expense", "sales_expense", "sm_expense", "commercial_ratio", "band",
    "is_complete",
)  # fmt: skip


def commercial_ratio(db: PublishedFile) -> dict[str, list[dict[str, Any]]]:
    """Rows per grain, oldest first."""
    db.require("commercial_ratio", *RATIO_COLUMNS)
    rows = db.rows(
        f"select {', '.join(RATIO_COLUMNS)} from {SCHEMA}.commercial_ratio order by period_grain, period_start"
    )
    grains: dict[str, list[dict[str, Any]]] = {"fiscal_year": [], "fiscal_quarter": [], "ttm": []}
    for row in rows:
        grains.setdefault(row["period_grain"], []).append(row)
    return grains


QUARTER_GROWTH_COLUMNS = ("period_start", "period_label", "annualised_revenue_growth")


def annualised_quarter_growth(db: PublishedFile) -> dict[dt.date, float | None]:
    """Each fiscal quarter's revenue growth x 4, by the quarter's first day."""
    db.require("revenue_growth_quarterly", *QUARTER_GROWTH_COLUMNS)
    rows = db.rows(f"select {', '.join(QUARTER_GROWTH_COLUMNS)} from {SCHEMA}.revenue_growth_quarterly")
    return {r["period_start"]: r["annualised_revenue_growth"] for r in rows}


# -- headline metrics and bands --------------------------------------------------------

BAND_COLUMNS = ("band", "band_order", "lower_bound", "upper_bound")
HEADLINE_COLUMNS = ("metric", "value", "numerator", "denominator", "compared_value", "window_start", "window_end")


def headline_metrics(db: PublishedFile) -> dict[str, dict[str, Any]]:
    """Each row of marts.headline_metrics by its metric."""
    db.require("headline_metrics", *HEADLINE_COLUMNS)
    rows = db.rows(f"select {', '.join(HEADLINE_COLUMNS)} from {SCHEMA}.headline_metrics")
    return {r["metric"]: r for r in rows}


def band_thresholds(db: PublishedFile) -> tuple[float, float, float]:
    """The thresholds t1, t2, t3 this file was published with: the upper bounds of its
    three lower bands (marts.commercial_ratio_bands)."""
    db.require("commercial_ratio_bands", *BAND_COLUMNS)
    bounds = [r["upper_bound"] for r in db.rows(
        f"select upper_bound from {SCHEMA}.commercial_ratio_bands where upper_bound is not null order by band_order"
    )]
    if len(bounds) != 3:
        raise NotAvailable(f"{SCHEMA}.commercial_ratio_bands does not hold three thresholds.")
    return bounds[0], bounds[1], bounds[2]


# -- lead funnel -----------------------------------------------------------------------

FUNNEL_STAGES = (("leads", "Lead"), ("mqls", "MQL"), ("sqls", "SQL"), ("opportunities", "Opportunity"),
                 ("won", "Won"))
# The rate of each stage after the first: its count over the stage before.
STAGE_RATES = {"mqls": "mql_rate", "sqls": "sql_rate", "opportunities": "opportunity_rate", "won": "win_rate"}
ALL_CHANNELS = "(all channels)"
TRAILING_FUNNEL_COLUMNS = (
    "channel", "first_cohort_month", "last_cohort_month", "cohort_months", "leads", "mqls", "sqls",
    "opportunities", "won", "won_amount", "mql_rate", "sql_rate", "opportunity_rate", "win_rate",
    "lead_to_won_rate",
)  # fmt: skip


COHORT_COLUMNS = ("cohort_month", "lead_to_won_rate", "is_mature")


@dataclass(frozen=True)
class LeadFunnel:
    first: dt.date | None  # the window of mature cohort months summed (None: no mature cohort yet)
    last: dt.date | None
    cohort_months: int
    channels: list[dict[str, Any]]  # per channel: counts and rates, best lead_to_won first
    total: dict[str, Any]
    trend: list[float | None] = field(default_factory=list)  # lead_to_won of each mature cohort (last 24)


def lead_funnel(db: PublishedFile) -> LeadFunnel:
    db.require("lead_funnel_trailing", *TRAILING_FUNNEL_COLUMNS)
    db.require("lead_funnel_cohorts", *COHORT_COLUMNS)
    rows = db.rows(f"select {', '.join(TRAILING_FUNNEL_COLUMNS)} from {SCHEMA}.lead_funnel_trailing")
    total = next((r for r in rows if r["channel"] == ALL_CHANNELS), None)
    if total is None or total["first_cohort_month"] is None:
        return LeadFunnel(first=None, last=None, cohort_months=0, channels=[], total={})
    channels = [r for r in rows if r["channel"] != ALL_CHANNELS]
    channels.sort(key=lambda r: (r["lead_to_won_rate"] is None, -(r["lead_to_won_rate"] or 0), r["channel"]))
    trend = [
        r["lead_to_won_rate"]
        for r in db.rows(
            f"select lead_to_won_rate from {SCHEMA}.lead_funnel_cohorts where is_mature "
            "order by cohort_month desc limit 24"
        )
    ][::-1]
    return LeadFunnel(first=total["first_cohort_month"], last=total["last_cohort_month"],
                      cohort_months=total["cohort_months"], channels=channels, total=total, trend=trend)


# -- opportunity funnel ----------------------------------------------------------------

ALL_TYPES = "(all types)"
TRAILING_STAGE_COLUMNS = (
    "opportunity_type", "stage_order", "stage", "first_cohort_month", "last_cohort_month", "entered", "advanced",
    "conversion_rate", "won", "lost", "open", "typical_days_to_next",
)  # fmt: skip


@dataclass(frozen=True)
class OpportunityFunnel:
    cohorts: tuple[dt.date, dt.date] | None
    stages: list[dict[str, Any]]  # per stage, all types: entered, advanced, conversion_rate, typical_days_to_next
    by_type: dict[str, dict[int, float | None]]  # opportunity_type -> stage_order -> conversion
    types: list[str]


def opportunity_funnel(db: PublishedFile) -> OpportunityFunnel:
    """Stage conversion over the trailing cohorts of marts.opportunity_funnel_trailing."""
    db.require("opportunity_funnel_trailing", *TRAILING_STAGE_COLUMNS)
    rows = db.rows(
        f"select {', '.join(TRAILING_STAGE_COLUMNS)} from {SCHEMA}.opportunity_funnel_trailing "
        "order by opportunity_type, stage_order"
    )
    stages = [r for r in rows if r["opportunity_type"] == ALL_TYPES]
    if not stages:
        return OpportunityFunnel(cohorts=None, stages=[], by_type={}, types=[])
    by_type: dict[str, dict[int, float | None]] = {}
    for r in rows:
        if r["opportunity_type"] != ALL_TYPES:
            by_type.setdefault(r["opportunity_type"], {})[r["stage_order"]] = r["conversion_rate"]
    cohorts = (stages[0]["first_cohort_month"], stages[0]["last_cohort_month"])
    return OpportunityFunnel(cohorts=cohorts, stages=stages, by_type=by_type, types=sorted(by_type))


# -- win rates ------------------------------------------------------------------------

MONTHLY_WIN_COLUMNS = ("opportunity_type", "close_month", "win_rate", "win_rate_3_months")
SEGMENT_WIN_COLUMNS = (
    "segment", "first_close_month", "last_close_month", "won", "lost", "won_amount", "avg_won_amount", "win_rate",
    "median_sales_cycle_days",
)  # fmt: skip


@dataclass(frozen=True)
class WinRates:
    months: list[dt.date]
    overall: list[float | None]  # each close month's win rate, all types
    by_type: dict[str, list[float | None]]  # per type, the win rate over the three close months to each month
    segments: list[dict[str, Any]]  # the trailing twelve close months, per segment
    window: tuple[dt.date, dt.date] | None


def win_rates(db: PublishedFile) -> WinRates:
    db.require("win_rates_monthly", *MONTHLY_WIN_COLUMNS)
    db.require("win_rates_trailing", *SEGMENT_WIN_COLUMNS)
    rows = db.rows(
        f"select {', '.join(MONTHLY_WIN_COLUMNS)} from {SCHEMA}.win_rates_monthly "
        "order by opportunity_type, close_month"
    )
    overall = [r for r in rows if r["opportunity_type"] == ALL_TYPES]
    if not overall:
        return WinRates([], [], {}, [], None)
    by_type: dict[str, list[float | None]] = {}
    for r in rows:
        if r["opportunity_type"] != ALL_TYPES:
            by_type.setdefault(r["opportunity_type"], []).append(r["win_rate_3_months"])
    segments = db.rows(
        f"select {', '.join(SEGMENT_WIN_COLUMNS)} from {SCHEMA}.win_rates_trailing order by won_amount desc"
    )
    window = (segments[0]["first_close_month"], segments[0]["last_close_month"]) if segments else None
    return WinRates([r["close_month"] for r in overall], [r["win_rate"] for r in overall], by_type, segments, window)


# -- channel efficiency -----------------------------------------------------------------

TRAILING_CHANNEL_COLUMNS = (
    "channel", "first_quarter_start", "last_quarter_end", "quarters", "spend", "leads", "mqls", "opportunities",
    "won", "won_amount", "cost_per_lead", "cost_per_opportunity", "cost_per_win", "return_on_spend",
)  # fmt: skip


@dataclass(frozen=True)
class ChannelEfficiency:
    first: dt.date | None  # the complete fiscal quarters summed: first day of the first, last day of the last
    last: dt.date | None
    quarters: int
    channels: list[dict[str, Any]]  # best return on spend first


def channel_efficiency(db: PublishedFile) -> ChannelEfficiency:
    db.require("channel_efficiency_trailing", *TRAILING_CHANNEL_COLUMNS)
    channels = db.rows(f"select {', '.join(TRAILING_CHANNEL_COLUMNS)} from {SCHEMA}.channel_efficiency_trailing")
    if not channels:
        return ChannelEfficiency(None, None, 0, [])
    channels.sort(key=lambda c: (c["return_on_spend"] is None, -(c["return_on_spend"] or 0), c["channel"]))
    first = channels[0]
    return ChannelEfficiency(first["first_quarter_start"], first["last_quarter_end"], first["quarters"], channels)


# -- MRR, retention, renewals ----------------------------------------------------------

MRR_COLUMNS = (
    "month", "starting_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
    "ending_mrr", "customers_start", "new_customers", "reactivated_customers", "churned_customers", "customers_end",
)  # fmt: skip


def mrr_movements(db: PublishedFile) -> list[dict[str, Any]]:
    db.require("mrr_movements", *MRR_COLUMNS)
    return db.rows(f"select {', '.join(MRR_COLUMNS)} from {SCHEMA}.mrr_movements order by month")


MRR_NET_CHANGE_COLUMNS = ("month", "net_change_mrr")


def mrr_net_change(db: PublishedFile) -> dict[dt.date, float | None]:
    """Each month's net change in MRR (ending minus starting), by month."""
    db.require("mrr_net_change_monthly", *MRR_NET_CHANGE_COLUMNS)
    rows = db.rows(f"select {', '.join(MRR_NET_CHANGE_COLUMNS)} from {SCHEMA}.mrr_net_change_monthly")
    return {r["month"]: r["net_change_mrr"] for r in rows}


MRR_BRIDGE_COLUMNS = (
    "first_month", "last_month", "months", "starting_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr",
    "contraction_mrr", "churned_mrr", "ending_mrr",
)  # fmt: skip


def mrr_movements_trailing(db: PublishedFile) -> dict[str, Any] | None:
    """The bridge of the twelve latest months (None while there is no MRR month)."""
    db.require("mrr_movements_trailing", *MRR_BRIDGE_COLUMNS)
    rows = db.rows(f"select {', '.join(MRR_BRIDGE_COLUMNS)} from {SCHEMA}.mrr_movements_trailing")
    return rows[0] if rows else None


RETENTION_COLUMNS = (
    "month", "cohort_customers", "starting_mrr", "retained_customers", "gross_retained_mrr", "net_retained_mrr",
    "grr", "nrr", "logo_retention",
)  # fmt: skip
# Published since gross and net retained MRR were added; an older file lacks them.
_LATER_RETENTION_COLUMNS = ("gross_retained_mrr", "net_retained_mrr")


def revenue_retention(db: PublishedFile) -> list[dict[str, Any]]:
    required = [c for c in RETENTION_COLUMNS if c not in _LATER_RETENTION_COLUMNS]
    db.require("revenue_retention", *required)
    columns = RETENTION_COLUMNS if db.has("revenue_retention", *_LATER_RETENTION_COLUMNS) else required
    return db.rows(f"select {', '.join(columns)} from {SCHEMA}.revenue_retention order by month")


RENEWAL_COLUMNS = (
    "expiry_month", "accounts_expiring", "accounts_renewed", "logo_renewal_rate", "expiring_arr", "renewed_arr",
    "successor_arr", "gross_renewal_rate", "net_renewal_rate", "is_mature",
)  # fmt: skip


def renewals(db: PublishedFile) -> list[dict[str, Any]]:
    db.require("renewals", *RENEWAL_COLUMNS)
    return db.rows(f"select {', '.join(RENEWAL_COLUMNS)} from {SCHEMA}.renewals order by expiry_month")


# -- pipeline history -------------------------------------------------------------------

PIPELINE_STAGE_COLUMNS = (
    "snapshot_date", "funnel_stage", "stage_order", "open_opportunities", "open_amount", "overdue_opportunities",
    "overdue_amount",
)  # fmt: skip


def pipeline_by_stage(db: PublishedFile) -> list[dict[str, Any]]:
    """The open pipeline by funnel stage on every snapshot date, in date and stage order."""
    db.require("pipeline_by_stage", *PIPELINE_STAGE_COLUMNS)
    return db.rows(f"select {', '.join(PIPELINE_STAGE_COLUMNS)} from {SCHEMA}.pipeline_by_stage "
                   "order by snapshot_date, stage_order nulls last, funnel_stage")  # fmt: skip


PIPELINE_MOVEMENT_COLUMNS = (
    "month", "starting_date", "ending_date", "is_complete", "starting_amount", "fx_revaluation", "added_amount",
    "increased_amount", "decreased_amount", "won_amount", "lost_amount", "ending_amount", "slipped_amount",
    "starting_opportunities", "added_opportunities", "won_opportunities", "lost_opportunities",
    "ending_opportunities", "slipped_opportunities",
)  # fmt: skip


def pipeline_movements(db: PublishedFile) -> list[dict[str, Any]]:
    """The whole pipeline's waterfall, month by month."""
    db.require("pipeline_movements_monthly", *PIPELINE_MOVEMENT_COLUMNS)
    return db.rows(f"select {', '.join(PIPELINE_MOVEMENT_COLUMNS)} from {SCHEMA}.pipeline_movements_monthly "
                   "order by month")  # fmt: skip


# Every dbt mart the report reads, and the columns it reads from it: each must be in the
# mart's contract (tests/test_report_reads.py checks them against the dbt manifest).
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "commercial_ratio": RATIO_COLUMNS,
    "commercial_ratio_bands": BAND_COLUMNS,
    "headline_metrics": HEADLINE_COLUMNS,
    "lead_funnel_trailing": TRAILING_FUNNEL_COLUMNS,
    "lead_funnel_cohorts": COHORT_COLUMNS,
    "opportunity_funnel_trailing": TRAILING_STAGE_COLUMNS,
    "win_rates_monthly": MONTHLY_WIN_COLUMNS,
    "win_rates_trailing": SEGMENT_WIN_COLUMNS,
    "channel_efficiency_trailing": TRAILING_CHANNEL_COLUMNS,
    "mrr_movements": MRR_COLUMNS,
    "mrr_movements_trailing": MRR_BRIDGE_COLUMNS,
    "mrr_net_change_monthly": MRR_NET_CHANGE_COLUMNS,
    "revenue_growth_quarterly": QUARTER_GROWTH_COLUMNS,
    "revenue_retention": RETENTION_COLUMNS,
    "renewals": RENEWAL_COLUMNS,
    "pipeline_by_stage": PIPELINE_STAGE_COLUMNS,
    "pipeline_movements_monthly": PIPELINE_MOVEMENT_COLUMNS,
}
