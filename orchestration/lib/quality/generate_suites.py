"""Write the quality suites, expectations/expectations/<suite>.json, from the contract.

    python -m orchestration.lib.quality.generate_suites            # write missing suites
    python -m orchestration.lib.quality.generate_suites --check    # list suites that differ
    python -m orchestration.lib.quality.generate_suites --force    # rewrite every suite

The suite files are the source of truth and are edited as files; this script wrote
them once and is kept to add a suite (a new entity or mart) and to show how a hand
edit differs from the generated form. Its output is deterministic: ids are UUID5s of
the suite and the expectation's content, order and formatting are fixed (GX's own
JSON layout: sorted keys, two-space indent), so re-running it gives no diff.

Source suites come from contract.py (columns, types, required columns, keys, allowed
values, foreign keys) plus the rules of SOURCES.md and METRICS.md that contract.py
does not hold as data (`SOURCE_RULES` below). Mart suites come from the column lists
of METRICS.md (`MARTS` below).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.lib.contract import DUCKDB_TYPES, ENTITIES_BY_NAME, Entity
from orchestration.lib.quality.suites import (
    MART_NAMES,
    SQL_EXPECTATION_TYPE,
    SUITES_DIR,
    TARGETS_BY_SUITE,
    Severity,
    SuiteTarget,
)

GX_VERSION = "1.24.1"  # written into each suite's meta, as GX does when it saves one
_NAMESPACE = uuid.UUID("5d0c6b8e-58c4-4d0f-9a52-6f1f4c0c2a11")  # gtm-warehouse suites

ERROR, WARN = Severity.ERROR, Severity.WARN


# -- rules beyond contract.py ---------------------------------------------------


@dataclass(frozen=True)
class TimeOrder:
    later: str
    earlier: str
    strictly: bool  # later > earlier (True) or later >= earlier (False)
    severity: Severity


@dataclass(frozen=True)
class SourceRules:
    """The SOURCES.md / METRICS.md rules of one entity that contract.py does not hold."""

    dated_by: str | None = None  # the column a row is dated by (rows after as_of_date)
    freshness: bool = False  # warn when the newest row is older than freshness_days
    time_order: tuple[TimeOrder, ...] = ()
    non_negative: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    amount_date: str | None = None  # SQL (alias b) of the date an amount converts at
    stage_column: str | None = None  # CRM stage names that must be in the stage mapping


SOURCE_RULES: dict[str, SourceRules] = {
    "crm__accounts": SourceRules(dated_by="created_at"),
    # Campaigns and subscriptions are planned and booked ahead: a start after
    # as_of_date is normal, so they have no "dated after as_of_date" warning.
    "crm__campaigns": SourceRules(),
    "crm__leads": SourceRules(
        dated_by="created_at",
        freshness=True,
        time_order=(
            TimeOrder("mql_at", "created_at", strictly=False, severity=WARN),
            TimeOrder("sql_at", "created_at", strictly=False, severity=WARN),
            TimeOrder("converted_at", "created_at", strictly=False, severity=WARN),
        ),
    ),
    "crm__opportunities": SourceRules(
        dated_by="created_at",
        freshness=True,
        non_negative=("amount",),
        # METRICS.md: an opportunity's amount converts at its close_date once closed,
        # at the date of its created_at while open.
        amount_date=(
            "case when b.is_closed and b.close_date <= {as_of_date} then b.close_date "
            "else cast(b.created_at as date) end"
        ),
        stage_column="stage",
    ),
    "crm__opportunity_stage_history": SourceRules(dated_by="entered_at", freshness=True, stage_column="stage"),
    "billing__subscriptions": SourceRules(
        time_order=(TimeOrder("end_date", "start_date", strictly=True, severity=ERROR),),
        non_negative=("arr",),
        amount_date="b.start_date",
    ),
    "billing__invoice_lines": SourceRules(
        dated_by="invoice_date",
        time_order=(TimeOrder("service_end", "service_start", strictly=True, severity=ERROR),),
        amount_date="b.invoice_date",
    ),
    "finance__spend": SourceRules(dated_by="spend_date", freshness=True, amount_date="b.spend_date"),
    "finance__fx_rates": SourceRules(dated_by="rate_date", freshness=True, positive=("rate_to_reporting",)),
    "config__stage_mapping": SourceRules(),
}


@dataclass(frozen=True)
class Mart:
    """A public mart of METRICS.md: its columns, grain and rates."""

    name: str
    columns: tuple[str, ...]
    grain: tuple[str, ...]
    period: str  # the column holding the first day of the row's period
    rates: tuple[str, ...] = ()  # fractions in [0, 1]
    open_rates: tuple[str, ...] = ()  # >= 0, may exceed 1 (METRICS.md names them)
    allowed_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    at_most_zero: tuple[str, ...] = ()
    at_least_zero: tuple[str, ...] = ()


MARTS: tuple[Mart, ...] = (
    Mart(
        "commercial_ratio",
        columns=(
            "period_grain",
            "period_start",
            "period_end",
            "period_label",
            "revenue",
            "prior_revenue",
            "revenue_growth",
            "marketing_expense",
            "sales_expense",
            "sm_expense",
            "commercial_ratio",
            "band",
            "is_complete",
        ),
        grain=("period_grain", "period_start"),
        period="period_start",
        allowed_values={
            "period_grain": ("fiscal_year", "fiscal_quarter", "ttm"),
            "band": ("unsustainable", "balanced", "efficient", "under_invested"),
        },
    ),
    Mart(
        "lead_funnel",
        columns=(
            "cohort_month",
            "channel",
            "segment",
            "leads",
            "mqls",
            "sqls",
            "opportunities",
            "won",
            "disqualified",
            "won_amount",
            "mql_rate",
            "sql_rate",
            "opportunity_rate",
            "win_rate",
            "lead_to_won_rate",
            "cohort_age_days",
            "is_mature",
        ),
        grain=("cohort_month", "channel", "segment"),
        period="cohort_month",
        rates=("mql_rate", "sql_rate", "opportunity_rate", "win_rate", "lead_to_won_rate"),
        at_least_zero=("leads", "mqls", "sqls", "opportunities", "won", "disqualified"),
    ),
    Mart(
        "opportunity_funnel",
        columns=(
            "cohort_month",
            "segment",
            "opportunity_type",
            "stage",
            "stage_order",
            "entered",
            "advanced",
            "conversion_rate",
            "won",
            "lost",
            "open",
            "median_days_to_next",
        ),
        grain=("cohort_month", "segment", "opportunity_type", "stage_order"),
        period="cohort_month",
        rates=("conversion_rate",),
        at_least_zero=("entered", "advanced", "won", "lost", "open"),
    ),
    Mart(
        "win_rates",
        columns=(
            "close_month",
            "segment",
            "opportunity_type",
            "won",
            "lost",
            "win_rate",
            "won_amount",
            "avg_won_amount",
            "median_sales_cycle_days",
        ),
        grain=("close_month", "segment", "opportunity_type"),
        period="close_month",
        rates=("win_rate",),
        at_least_zero=("won", "lost"),
    ),
    Mart(
        "channel_efficiency",
        columns=(
            "fiscal_quarter_start",
            "channel",
            "spend",
            "leads",
            "mqls",
            "opportunities",
            "won",
            "won_amount",
            "cost_per_lead",
            "cost_per_opportunity",
            "cost_per_win",
            "return_on_spend",
            "leakage_rate",
        ),
        grain=("fiscal_quarter_start", "channel"),
        period="fiscal_quarter_start",
        rates=("leakage_rate",),
        open_rates=("return_on_spend",),
        at_least_zero=("leads", "mqls", "opportunities", "won"),
    ),
    Mart(
        "mrr_movements",
        columns=(
            "month",
            "starting_mrr",
            "new_mrr",
            "reactivation_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
            "ending_mrr",
            "customers_start",
            "new_customers",
            "reactivated_customers",
            "churned_customers",
            "customers_end",
        ),
        grain=("month",),
        period="month",
        at_most_zero=("contraction_mrr", "churned_mrr"),
        at_least_zero=("new_mrr", "reactivation_mrr", "expansion_mrr", "starting_mrr", "ending_mrr"),
    ),
    Mart(
        "revenue_retention",
        columns=(
            "month",
            "cohort_customers",
            "starting_mrr",
            "retained_customers",
            "gross_retained_mrr",
            "net_retained_mrr",
            "grr",
            "nrr",
            "logo_retention",
        ),
        grain=("month",),
        period="month",
        rates=("grr", "logo_retention"),
        open_rates=("nrr",),
    ),
    Mart(
        "renewals",
        columns=(
            "expiry_month",
            "accounts_expiring",
            "accounts_renewed",
            "logo_renewal_rate",
            "expiring_arr",
            "renewed_arr",
            "successor_arr",
            "gross_renewal_rate",
            "net_renewal_rate",
            "is_mature",
        ),
        grain=("expiry_month",),
        period="expiry_month",
        rates=("logo_renewal_rate", "gross_renewal_rate"),
        open_rates=("net_renewal_rate",),
    ),
)
assert tuple(m.name for m in MARTS) == MART_NAMES


# -- building expectations -----------------------------------------------------


def _expectation(type_: str, kwargs: dict[str, Any], severity: Severity, description: str) -> dict[str, Any]:
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"severity": severity.value},
        "severity": severity.gx_severity,
        "description": description,
    }


def _sql(query: str, severity: Severity, description: str) -> dict[str, Any]:
    return _expectation(
        SQL_EXPECTATION_TYPE,
        {"unexpected_rows_query": " ".join(query.split())},
        severity,
        description,
    )


def _columns_and_types(entity: Entity) -> dict[str, Any]:
    expected = ", ".join(f"('{c.name}', '{DUCKDB_TYPES[c.type]}')" for c in entity.columns)
    return _sql(
        f"""select e.column_name, e.expected_type, d.column_type as actual_type
            from (values {expected}) as e(column_name, expected_type)
            left join (describe select * from {{batch}} as b) as d on d.column_name = e.column_name
            where d.column_type is distinct from e.expected_type""",
        ERROR,
        f"Every contract column of {entity.name} exists with its type (one row per missing "
        "or mistyped column; extra columns are kept).",
    )


def _key(entity: Entity) -> Iterable[dict[str, Any]]:
    kind = "primary key" if entity.has_primary_key else "stated key"
    if len(entity.key) == 1:
        yield _expectation(
            "expect_column_values_to_be_unique",
            {"column": entity.key[0]},
            ERROR,
            f"{entity.key[0]} ({kind}) is unique.",
        )
    else:
        yield _expectation(
            "expect_compound_columns_to_be_unique",
            {"column_list": list(entity.key)},
            ERROR,
            f"({', '.join(entity.key)}) ({kind}) is unique.",
        )


def _foreign_keys(entity: Entity) -> Iterable[dict[str, Any]]:
    shown_key = ", ".join(f"b.{k}" for k in entity.key)
    for fk in entity.foreign_keys:
        referenced = ENTITIES_BY_NAME[fk.entity]
        ref_key = referenced.key[0]
        severity = ERROR if fk.blocking else WARN
        effect = "blocks publishing" if fk.blocking else "treated as absent"
        yield _sql(
            f"""select {shown_key}, b.{fk.column}
                from {{batch}} as b
                where b.{fk.column} is not null
                  and not exists (select 1 from raw.{fk.entity} as r where r.{ref_key} = b.{fk.column})""",
            severity,
            f"{fk.column} resolves to a row of {fk.entity} (one row per {entity.name} row "
            f"whose {fk.column} does not; {effect}).",
        )


def _time_order(rule: TimeOrder) -> dict[str, Any]:
    relation = "after" if rule.strictly else "on or after"
    return _expectation(
        "expect_column_pair_values_a_to_be_greater_than_b",
        {
            "column_A": rule.later,
            "column_B": rule.earlier,
            "or_equal": not rule.strictly,
            "ignore_row_if": "either_value_is_missing",
        },
        rule.severity,
        f"{rule.later} is {relation} {rule.earlier} where both are set.",
    )


def _currency(entity: Entity, amount_date: str) -> dict[str, Any]:
    # "No rate on or before the amount's date" is "dated before the currency's first
    # rate": one join against a rate per currency instead of a correlated subquery
    # per amount (which cost 1.6 s and 640 MB at scale 30, the refresh's peak memory).
    return _sql(
        f"""with first_rates as (
                select upper(r.currency) as currency, min(r.rate_date) as first_rate_date
                from raw.finance__fx_rates as r
                group by upper(r.currency)
            )
            select upper(b.currency) as currency, count(*) as amounts,
                   min({amount_date}) as earliest_date, max({amount_date}) as latest_date
            from {{batch}} as b
            left join first_rates as f on f.currency = upper(b.currency)
            where {amount_date} <= {{as_of_date}}
              and upper(b.currency) <> {{reporting_currency}}
              and (f.first_rate_date is null or {amount_date} < f.first_rate_date)
            group by upper(b.currency)""",
        ERROR,
        f"Every {entity.name} amount dated on or before as_of_date converts: its currency has "
        "a rate on or before the amount's date (one row per currency without one; the "
        "reporting currency needs none).",
    )


def _stage_mapped(entity: Entity, column: str) -> dict[str, Any]:
    return _sql(
        f"""select b.{column} as crm_stage, count(distinct b.opportunity_id) as opportunities
            from {{batch}} as b
            where b.{column} is not null
              and not exists (select 1 from raw.config__stage_mapping as m where m.crm_stage = b.{column})
            group by b.{column}""",
        ERROR,
        f"Every CRM stage in {entity.name}.{column} is in the stage mapping (setting "
        "stage_mapping; one row per unmapped stage with its opportunities).",
    )


def _dated_after(entity: Entity, column: str) -> dict[str, Any]:
    shown_key = ", ".join(f"b.{k}" for k in entity.key)
    return _sql(
        f"""select {shown_key}, b.{column}
            from {{batch}} as b
            where cast(b.{column} as date) > {{as_of_date}}""",
        WARN,
        f"No row is dated ({column}) after as_of_date (such rows do not count yet).",
    )


def _fresh(entity: Entity, column: str) -> dict[str, Any]:
    newest = f"cast(max(b.{column}) as date)"
    stale = f"{newest} < {{as_of_date}} - {{freshness_days}}"
    # An optional entity may be empty; an empty required one is stale.
    condition = f"count(*) > 0 and {stale}" if entity.optional else f"{newest} is null or {stale}"
    return _sql(
        f"""select {newest} as newest, {{as_of_date}} - {{freshness_days}} as expected_on_or_after
            from {{batch}} as b
            having {condition}""",
        WARN,
        f"The newest {entity.name} row ({column}) is within freshness_days of as_of_date.",
    )


def _volume(entity: Entity) -> dict[str, Any]:
    return _sql(
        """select count(*) as rows_loaded, {last_published_rows} as rows_last_published
           from {batch} as b
           having count(*) < (1 - {volume_drop_share}) * {last_published_rows}""",
        WARN,
        f"{entity.name} has not shrunk by more than volume_drop_share since the last publication (marts.publication).",
    )


def _quarantine(entity: Entity) -> dict[str, Any]:
    return _sql(
        f"""select q.quarantined_rows, l.loaded_rows,
                   round(q.quarantined_rows / (q.quarantined_rows + l.loaded_rows), 4) as quarantined_share,
                   q.example_reason, q.example_file, q.example_row
            from (
                select count(*) as quarantined_rows,
                       first(_source_file order by _source_file, _source_row) as example_file,
                       first(_source_row order by _source_file, _source_row) as example_row,
                       first(_reason order by _source_file, _source_row) as example_reason
                from quarantine.{entity.qualified_name}) as q
            cross join (select count(*) as loaded_rows from {{batch}} as b) as l
            where q.quarantined_rows > {{quarantine_share}} * (q.quarantined_rows + l.loaded_rows)""",
        ERROR,
        f"At most quarantine_share of the {entity.name} rows read were quarantined (untypeable values).",
    )


def _key_conflicts(entity: Entity) -> dict[str, Any]:
    return _sql(
        f"""select c.key_value, c.source_file, c.rows as rows_in_file,
                   (select count(*) from {{batch}} as b) as entity_rows_loaded
            from raw._key_conflicts as c
            where c.entity = '{entity.qualified_name}'""",
        ERROR,
        f"No extract file holds a {entity.name} key ({', '.join(entity.key)}) twice with "
        "different values (raw._key_conflicts; no later extract says which is right).",
    )


def source_expectations(target: SuiteTarget) -> list[dict[str, Any]]:
    entity = ENTITIES_BY_NAME[target.table]
    rules = SOURCE_RULES[entity.qualified_name]
    out: list[dict[str, Any]] = [_columns_and_types(entity)]
    for column in dict.fromkeys([*entity.required_columns, *entity.key]):  # keys are never null
        out.append(
            _expectation(
                "expect_column_values_to_not_be_null",
                {"column": column},
                ERROR,
                f"{column} is present (required).",
            )
        )
    out.extend(_key(entity))
    for column, values in entity.allowed_values.items():
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                {"column": column, "value_set": list(values)},
                ERROR,
                f"{column} is one of {', '.join(values)}.",
            )
        )
    out.extend(_foreign_keys(entity))
    out.extend(_time_order(rule) for rule in rules.time_order)
    for column in rules.non_negative:
        out.append(
            _expectation(
                "expect_column_values_to_be_between",
                {"column": column, "min_value": 0},
                ERROR,
                f"{column} is not negative.",
            )
        )
    for column in rules.positive:
        out.append(
            _expectation(
                "expect_column_values_to_be_between",
                {"column": column, "min_value": 0, "strict_min": True},
                ERROR,
                f"{column} is greater than 0.",
            )
        )
    if rules.amount_date:
        out.append(_currency(entity, rules.amount_date))
    if rules.stage_column:
        out.append(_stage_mapped(entity, rules.stage_column))
    if rules.dated_by:
        out.append(_dated_after(entity, rules.dated_by))
    if rules.freshness:
        out.append(_fresh(entity, rules.dated_by or ""))
    if not entity.optional and entity.source != "config":
        out.append(
            _expectation(
                "expect_table_row_count_to_be_between",
                {"min_value": 1},
                WARN,
                f"{entity.name} has at least one row.",
            )
        )
    if entity.source != "config":
        out.append(_volume(entity))
    out.append(_quarantine(entity))
    out.append(_key_conflicts(entity))
    return out


# -- marts ---------------------------------------------------------------------

# mrr_movements: METRICS.md says the identity holds to within half a cent per account,
# so a month may differ by half a cent per account active in it.
_MRR_IDENTITY = """
select m.month, m.starting_mrr,
       m.new_mrr + m.reactivation_mrr + m.expansion_mrr + m.contraction_mrr + m.churned_mrr as net_movement,
       m.ending_mrr,
       m.starting_mrr + m.new_mrr + m.reactivation_mrr + m.expansion_mrr + m.contraction_mrr
         + m.churned_mrr - m.ending_mrr as difference
from {batch} as m
where abs(m.starting_mrr + m.new_mrr + m.reactivation_mrr + m.expansion_mrr + m.contraction_mrr
          + m.churned_mrr - m.ending_mrr) > 0.005 * (m.customers_start + m.customers_end) + 0.000001
"""

_MRR_CARRY_OVER = """
select m.month, m.ending_mrr, n.starting_mrr as next_starting_mrr,
       m.customers_end, n.customers_start as next_customers_start
from {batch} as m
join {batch} as n on n.month = cast(m.month + interval 1 month as date)
where abs(n.starting_mrr - m.ending_mrr) > 0.000001 or n.customers_start <> m.customers_end
"""

_MRR_MONTHS = """
select min(m.month) as first_month, max(m.month) as last_month, count(*) as months
from {batch} as m
having count(*) > 0
   and (count(*) <> date_diff('month', min(m.month), max(m.month)) + 1
        or max(m.month) <> cast(date_trunc('month', {as_of_date}) as date))
"""

# commercial_ratio: the first data month is the earliest month with recognized revenue
# (a line invoiced on or before as_of_date, from its service_start when it has a
# valid service period, else its invoice_date) or spend, both on or before as_of_date.
_FIRST_DATA_MONTH = """
data_months as (
    select cast(date_trunc('month', case when l.service_start is not null and l.service_end is not null
                                          and l.service_end > l.service_start
                                         then l.service_start else l.invoice_date end) as date) as month
    from raw.billing__invoice_lines as l
    where l.invoice_date <= {as_of_date}
      and (case when l.service_start is not null and l.service_end is not null
                 and l.service_end > l.service_start
                then l.service_start else l.invoice_date end) <= {as_of_date}
    union all
    select cast(date_trunc('month', s.spend_date) as date) from raw.finance__spend as s
    where s.spend_date <= {as_of_date}
),
first_month as (
    select min(month) as first_month,
           (month(min(month)) - {fiscal_year_start_month} + 12) % 12 as months_into_year
    from data_months having count(*) > 0
)
"""

_CR_COMPLETE_PERIODS = (
    "with"
    + _FIRST_DATA_MONTH
    + """,
starts as (
    select cast(first_month - to_months(months_into_year) as timestamp) as year_start,
           cast(first_month - to_months(months_into_year % 3) as timestamp) as quarter_start,
           cast(first_month as timestamp) as first_month
    from first_month
),
expected as (
    select 'fiscal_year' as period_grain, cast(g.s as date) as period_start,
           cast(g.s + interval 12 month - interval 1 day as date) as period_end
    from starts, generate_series(starts.year_start, cast({as_of_date} as timestamp), interval 12 month) as g(s)
    union all
    select 'fiscal_quarter', cast(g.s as date), cast(g.s + interval 3 month - interval 1 day as date)
    from starts, generate_series(starts.quarter_start, cast({as_of_date} as timestamp), interval 3 month) as g(s)
    union all
    select 'ttm', cast(g.s - interval 11 month as date), cast(g.s + interval 1 month - interval 1 day as date)
    from starts, generate_series(starts.first_month, cast({as_of_date} as timestamp), interval 1 month) as g(s)
)
select e.period_grain, e.period_start, e.period_end
from expected as e
where e.period_end <= {as_of_date}
  and not exists (select 1 from {batch} as c
                  where c.period_grain = e.period_grain and c.period_start = e.period_start)
"""
)

# Recognized revenue straight from raw lines: invoiced on or before as_of_date; a valid
# service period [service_start, service_end) recognized per day up to as_of_date, any
# other line on its invoice_date; converted at the latest rate on or before invoice_date.
_CR_REVENUE_RECONCILES = """
with lines as (
    select l.amount, upper(l.currency) as currency, l.invoice_date,
           case when l.service_start is not null and l.service_end is not null and l.service_end > l.service_start
                then l.service_start else l.invoice_date end as recognized_from,
           case when l.service_start is not null and l.service_end is not null and l.service_end > l.service_start
                then l.service_end else cast(l.invoice_date + 1 as date) end as recognized_until
    from raw.billing__invoice_lines as l
    where l.invoice_date <= {as_of_date}
),
recognized as (
    select currency, invoice_date,
           amount
             * greatest(0, date_diff('day', recognized_from,
                                     least(recognized_until, cast({as_of_date} + 1 as date))))
             / date_diff('day', recognized_from, recognized_until) as amount
    from lines
),
rates as (
    select upper(currency) as currency, rate_date, rate_to_reporting from raw.finance__fx_rates
),
raw_revenue as (
    select coalesce(sum(r.amount * case when r.currency = {reporting_currency} then 1
                                        else fx.rate_to_reporting end), 0) as revenue
    from recognized as r
    asof left join rates as fx on fx.currency = r.currency and r.invoice_date >= fx.rate_date
),
mart_revenue as (
    select c.period_grain, sum(c.revenue) as revenue
    from {batch} as c
    where c.period_grain in ('fiscal_year', 'fiscal_quarter')
    group by c.period_grain
)
select g.period_grain, m.revenue as mart_revenue, r.revenue as raw_revenue,
       coalesce(m.revenue, 0) - r.revenue as difference
from (values ('fiscal_year'), ('fiscal_quarter')) as g(period_grain)
cross join raw_revenue as r
left join mart_revenue as m on m.period_grain = g.period_grain
where abs(coalesce(m.revenue, 0) - r.revenue) > greatest(0.01, abs(r.revenue) * 1e-9)
"""

_CR_COMPLETE_FLAG = """
select c.period_grain, c.period_start, c.period_end, c.is_complete, c.commercial_ratio
from {batch} as c
where c.is_complete is distinct from (c.period_end <= {as_of_date})
   or (not c.is_complete and c.commercial_ratio is not null)
"""


def mart_expectations(target: SuiteTarget) -> list[dict[str, Any]]:
    mart = next(m for m in MARTS if m.name == target.table)
    out: list[dict[str, Any]] = [
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": list(mart.columns), "exact_match": False},
            ERROR,
            f"{target.qualified_table} has every column of METRICS.md.",
        )
    ]
    for column in mart.grain:
        out.append(
            _expectation(
                "expect_column_values_to_not_be_null",
                {"column": column},
                ERROR,
                f"{column} (grain) is present.",
            )
        )
    grain = ", ".join(mart.grain)
    if len(mart.grain) == 1:
        out.append(
            _expectation(
                "expect_column_values_to_be_unique",
                {"column": mart.grain[0]},
                ERROR,
                f"One row per {grain} (the grain).",
            )
        )
    else:
        out.append(
            _expectation(
                "expect_compound_columns_to_be_unique",
                {"column_list": list(mart.grain)},
                ERROR,
                f"One row per ({grain}) (the grain).",
            )
        )
    for column, values in mart.allowed_values.items():
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                {"column": column, "value_set": list(values)},
                ERROR,
                f"{column} is one of {', '.join(values)} (or null).",
            )
        )
    bounds = (
        (mart.rates, {"min_value": 0, "max_value": 1}, "is a fraction in [0, 1] (or null)."),
        (mart.open_rates, {"min_value": 0}, "is not negative (it may exceed 1)."),
        (mart.at_least_zero, {"min_value": 0}, "is not negative."),
        (mart.at_most_zero, {"max_value": 0}, "is not positive."),
    )
    for columns, limits, meaning in bounds:
        for column in columns:
            out.append(
                _expectation(
                    "expect_column_values_to_be_between", {"column": column, **limits}, ERROR, f"{column} {meaning}"
                )
            )
    out.append(
        _sql(
            f"select b.{mart.period}, typeof(b.{mart.period}) as type, count(*) as rows "
            f"from {{batch}} as b where typeof(b.{mart.period}) <> 'DATE' "
            f"or date_trunc('month', b.{mart.period}) <> b.{mart.period} group by all",
            ERROR,
            f"{mart.period} is a DATE holding the first day of its period.",
        )
    )
    out.append(
        _sql(
            f"select b.{mart.period}, count(*) as rows from {{batch}} as b "
            f"where b.{mart.period} > {{as_of_date}} group by b.{mart.period}",
            ERROR,
            f"No row is for a period that starts after as_of_date ({mart.period}).",
        )
    )
    if mart.name == "mrr_movements":
        out.append(
            _sql(
                _MRR_IDENTITY,
                ERROR,
                "MRR identity: starting + new + reactivation + expansion + contraction "
                "+ churned = ending (within half a cent per account).",
            )
        )
        out.append(
            _sql(
                _MRR_CARRY_OVER,
                ERROR,
                "Each month's ending_mrr and customers_end are the next month's starting_mrr and customers_start.",
            )
        )
        out.append(
            _sql(
                _MRR_MONTHS,
                ERROR,
                "One row for every month from the first month with MRR to the month of as_of_date, without a gap.",
            )
        )
    if mart.name == "commercial_ratio":
        out.append(
            _sql(
                _CR_COMPLETE_PERIODS,
                ERROR,
                "A row for every complete fiscal year, fiscal quarter and ttm period "
                "from the first data month (revenue or spend) to as_of_date.",
            )
        )
        out.append(
            _sql(
                _CR_REVENUE_RECONCILES,
                ERROR,
                "Revenue reconciles to the raw invoice lines: the fiscal_year rows and "
                "the fiscal_quarter rows each sum to the revenue recognized from "
                "raw.billing__invoice_lines up to as_of_date.",
            )
        )
        out.append(
            _sql(
                _CR_COMPLETE_FLAG,
                ERROR,
                "is_complete is true exactly when period_end <= as_of_date, and an "
                "incomplete period has no commercial_ratio.",
            )
        )
    return out


# -- files -----------------------------------------------------------------------


def _identify(suite: str, expectation: dict[str, Any]) -> str:
    content = json.dumps({"type": expectation["type"], "kwargs": expectation["kwargs"]}, sort_keys=True)
    return str(uuid.uuid5(_NAMESPACE, f"{suite}\n{content}"))


def build_suite(target: SuiteTarget) -> dict[str, Any]:
    """The suite of `target` as GX writes it to its file."""
    raw = source_expectations(target) if target.kind == "source" else mart_expectations(target)
    expectations = [{**e, "id": _identify(target.suite, e)} for e in raw]
    ids = [e["id"] for e in expectations]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:  # pragma: no cover - a generator bug
        raise ValueError(f"{target.suite}: expectations repeated: {duplicates}")
    return {
        "expectations": expectations,
        "id": str(uuid.uuid5(_NAMESPACE, target.suite)),
        "meta": {
            "great_expectations_version": GX_VERSION,
            "asset": "/".join(target.asset_path),
            "table": target.qualified_table,
            "generated_by": "orchestration.lib.quality.generate_suites (then edited as a file)",
        },
        "name": target.suite,
        "notes": None,
    }


def suite_text(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, sort_keys=True) + "\n"


def suite_path(name: str, directory: Path = SUITES_DIR) -> Path:
    """GX stores a dotted suite name in folders: raw.crm__leads -> raw/crm__leads.json."""
    return directory.joinpath(*name.split(".")).with_suffix(".json")


def generate(directory: Path = SUITES_DIR, force: bool = False) -> list[Path]:
    """Write each suite's file (only missing ones unless `force`); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, target in sorted(TARGETS_BY_SUITE.items()):
        path = suite_path(name, directory)
        if path.exists() and not force:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(suite_text(build_suite(target)))
        written.append(path)
    return written


def differing(directory: Path = SUITES_DIR) -> list[str]:
    """Suites whose file differs from (or is missing against) the generated form."""
    out = []
    for name, target in sorted(TARGETS_BY_SUITE.items()):
        path = suite_path(name, directory)
        if not path.exists() or path.read_text() != suite_text(build_suite(target)):
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--force", action="store_true", help="rewrite every suite file (overwrites hand edits: review the diff)"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; list suites whose file differs from the generated form"
    )
    parser.add_argument("--dir", type=Path, default=SUITES_DIR, help="suite directory")
    args = parser.parse_args(argv)
    if args.check:
        names = differing(args.dir)
        for name in names:
            print(f"differs from the generated form: {name}")
        return 1 if names else 0
    for path in generate(args.dir, force=args.force):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
