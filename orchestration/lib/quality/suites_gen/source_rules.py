"""The rules of each source entity that contract.py does not hold as data.

Currency coverage and stage-mapping coverage are not here: they are dbt tests
(dbt_project/tests/), see docs/data-quality.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.lib.quality.suites import Severity


@dataclass(frozen=True)
class TimeOrder:
    later: str
    earlier: str
    strictly: bool  # later > earlier (True) or later >= earlier (False)
    severity: Severity


@dataclass(frozen=True)
class SourceRules:
    dated_by: str | None = None  # the column a row is dated by (rows after as_of_date)
    freshness: bool = False  # warn when the newest row is older than freshness_days
    time_order: tuple[TimeOrder, ...] = ()
    non_negative: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()


SOURCE_RULES: dict[str, SourceRules] = {
    "crm__accounts": SourceRules(dated_by="created_at"),
    # Campaigns and subscriptions are planned and booked ahead: a start after
    # as_of_date is normal, so they have no "dated after as_of_date" warning.
    "crm__campaigns": SourceRules(),
    "crm__leads": SourceRules(
        dated_by="created_at",
        freshness=True,
        time_order=(
            TimeOrder("mql_at", "created_at", strictly=False, severity=Severity.WARN),
            TimeOrder("sql_at", "created_at", strictly=False, severity=Severity.WARN),
            TimeOrder("converted_at", "created_at", strictly=False, severity=Severity.WARN),
        ),
    ),
    "crm__opportunities": SourceRules(dated_by="created_at", freshness=True, non_negative=("amount",)),
    "crm__opportunity_stage_history": SourceRules(dated_by="entered_at", freshness=True),
    "billing__subscriptions": SourceRules(
        time_order=(TimeOrder("end_date", "start_date", strictly=True, severity=Severity.ERROR),),
        non_negative=("arr",),
    ),
    "billing__invoice_lines": SourceRules(
        dated_by="invoice_date",
        time_order=(TimeOrder("service_end", "service_start", strictly=True, severity=Severity.ERROR),),
    ),
    "finance__spend": SourceRules(dated_by="spend_date", freshness=True),
    "finance__fx_rates": SourceRules(dated_by="rate_date", freshness=True, positive=("rate_to_reporting",)),
    "config__stage_mapping": SourceRules(),
}
