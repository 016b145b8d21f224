"""The landing contract of docs/landing-contract.md as data.

One definition of every source entity (its folder, columns, types, keys, allowed
values and references) that the ingestion, the demo generator and the quality
suites all read, so that the contract is written down exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "timestamp", "date", "decimal", "boolean", "integer"]

# How each contract type is stored in DuckDB's raw schema.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",  # always UTC, without a zone
    "date": "DATE",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class ForeignKey:
    column: str
    entity: str  # qualified name of the referenced entity, e.g. "crm__accounts"
    blocking: bool  # True: an unresolved key blocks publishing; False: a warning


@dataclass(frozen=True)
class Entity:
    source: str  # crm | billing | finance | config
    name: str  # entity folder name, e.g. "opportunities"
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # primary key, or the stated key of a keyless entity
    optional: bool = False  # a missing folder is fine
    has_primary_key: bool = True
    allowed_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: tuple[ForeignKey, ...] = ()
    description: str = ""

    @property
    def qualified_name(self) -> str:
        """The table name in the raw and quarantine schemas: `<source>__<entity>`."""
        return f"{self.source}__{self.name}"

    @property
    def folder(self) -> str:
        """The entity's folder relative to the landing dir."""
        return f"{self.source}/{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified_name} has no column {name!r}")


def _c(name: str, type_: ColumnType, required: bool = False, description: str = "") -> Column:
    return Column(name, type_, required, description)


ACCOUNTS = Entity(
    source="crm",
    name="accounts",
    description="Customer and prospect accounts from the CRM.",
    columns=(
        _c("account_id", "text", True, "Primary key."),
        _c("account_name", "text", True),
        _c("segment", "text", False, "e.g. SMB, Mid-Market, Enterprise; null shows as Unknown."),
        _c("industry", "text"),
        _c("country", "text", False, "ISO 3166 alpha-2."),
        _c("created_at", "timestamp", True),
    ),
    key=("account_id",),
)

CAMPAIGNS = Entity(
    source="crm",
    name="campaigns",
    description="Marketing campaigns, each belonging to one channel.",
    columns=(
        _c("campaign_id", "text", True, "Primary key."),
        _c("campaign_name", "text", True),
        _c("channel", "text", True, "The marketing channel the campaign belongs to."),
        _c("start_date", "date", True),
        _c("end_date", "date"),
    ),
    key=("campaign_id",),
)

LEADS = Entity(
    source="crm",
    name="leads",
    description="Leads with the timestamps of their funnel milestones.",
    columns=(
        _c("lead_id", "text", True, "Primary key."),
        _c("created_at", "timestamp", True),
        _c("channel", "text", True, "e.g. paid_search, paid_social, events, content, ..."),
        _c("campaign_id", "text", False, "FK campaigns."),
        _c("account_id", "text", False, "FK accounts, known once matched."),
        _c("mql_at", "timestamp", False, "Became a marketing-qualified lead."),
        _c("sql_at", "timestamp", False, "Accepted by sales (sales-qualified)."),
        _c("converted_at", "timestamp", False, "Converted to an opportunity."),
        _c("opportunity_id", "text", False, "FK opportunities, set when converted."),
        _c("disqualified_at", "timestamp"),
    ),
    key=("lead_id",),
    foreign_keys=(
        ForeignKey("campaign_id", "crm__campaigns", blocking=False),
        ForeignKey("account_id", "crm__accounts", blocking=False),
    ),
)

OPPORTUNITIES = Entity(
    source="crm",
    name="opportunities",
    description="Sales opportunities with their current stage and outcome.",
    columns=(
        _c("opportunity_id", "text", True, "Primary key."),
        _c("account_id", "text", True, "FK accounts."),
        _c("lead_id", "text", False, "FK leads."),
        _c("opportunity_type", "text", True, "new_business, expansion or renewal."),
        _c("created_at", "timestamp", True),
        _c("close_date", "date", True, "Expected close while open, actual once closed."),
        _c("stage", "text", True, "The CRM's current stage name."),
        _c("is_closed", "boolean", True),
        _c("is_won", "boolean", True, "True only when closed."),
        _c("amount", "decimal", True, ">= 0: the annual contract value of the deal."),
        _c("currency", "text", True),
        _c("owner_id", "text"),
        _c("loss_reason", "text"),
    ),
    key=("opportunity_id",),
    allowed_values={"opportunity_type": ("new_business", "expansion", "renewal")},
    foreign_keys=(ForeignKey("account_id", "crm__accounts", blocking=True),),
)

OPPORTUNITY_STAGE_HISTORY = Entity(
    source="crm",
    name="opportunity_stage_history",
    description="Every stage an opportunity entered, with when.",
    columns=(
        _c("opportunity_id", "text", True, "FK opportunities."),
        _c("stage", "text", True, "CRM stage name entered."),
        _c("entered_at", "timestamp", True),
    ),
    key=("opportunity_id", "stage", "entered_at"),
    has_primary_key=False,
    foreign_keys=(ForeignKey("opportunity_id", "crm__opportunities", blocking=False),),
)

SUBSCRIPTIONS = Entity(
    source="billing",
    name="subscriptions",
    description="Subscriptions with their annual recurring revenue.",
    columns=(
        _c("subscription_id", "text", True, "Primary key."),
        _c("account_id", "text", True, "FK accounts."),
        _c("product", "text"),
        _c("start_date", "date", True),
        _c("end_date", "date", False, "Exclusive; null = open-ended; > start_date."),
        _c("arr", "decimal", True, ">= 0, annual recurring revenue of this subscription."),
        _c("currency", "text", True),
        _c("opportunity_id", "text", False, "FK opportunities."),
    ),
    key=("subscription_id",),
    foreign_keys=(ForeignKey("account_id", "crm__accounts", blocking=True),),
)

INVOICE_LINES = Entity(
    source="billing",
    name="invoice_lines",
    description="Invoice lines; with a service period they pay for that period.",
    columns=(
        _c("invoice_line_id", "text", True, "Primary key."),
        _c("invoice_id", "text", True),
        _c("account_id", "text", True, "FK accounts."),
        _c("subscription_id", "text", False, "FK subscriptions."),
        _c("invoice_date", "date", True),
        _c("service_start", "date", False, "With service_end: the period this line pays for."),
        _c("service_end", "date", False, "Exclusive; > service_start."),
        _c("amount", "decimal", True, "Negative for credit notes."),
        _c("currency", "text", True),
        _c("line_type", "text", True, "subscription, services, one_time or credit."),
    ),
    key=("invoice_line_id",),
    allowed_values={"line_type": ("subscription", "services", "one_time", "credit")},
    foreign_keys=(
        ForeignKey("account_id", "crm__accounts", blocking=True),
        ForeignKey("subscription_id", "billing__subscriptions", blocking=False),
    ),
)

SPEND = Entity(
    source="finance",
    name="spend",
    description="Sales and marketing spend by accounting date.",
    columns=(
        _c("spend_id", "text", True, "Primary key."),
        _c("spend_date", "date", True, "The accounting date."),
        _c("department", "text", True, "marketing or sales."),
        _c("category", "text", True, "e.g. salaries, commissions, advertising, events, ..."),
        _c("channel", "text", False, "The channel this spend serves, where known."),
        _c("campaign_id", "text", False, "FK campaigns."),
        _c("amount", "decimal", True, "Negative for reversals."),
        _c("currency", "text", True),
        _c("description", "text"),
    ),
    key=("spend_id",),
    allowed_values={"department": ("marketing", "sales")},
    foreign_keys=(ForeignKey("campaign_id", "crm__campaigns", blocking=False),),
)

FX_RATES = Entity(
    source="finance",
    name="fx_rates",
    description="Exchange rates into the reporting currency.",
    columns=(
        _c("rate_date", "date", True),
        _c("currency", "text", True),
        _c(
            "rate_to_reporting", "decimal", True, "> 0: one unit of currency in reporting currency."
        ),
    ),
    key=("rate_date", "currency"),
    has_primary_key=False,
    optional=True,
)

# The user-editable mapping of CRM stage names onto the funnel (docs/metrics.md). It is
# not a landed source but is read and validated the same way.
STAGE_MAPPING = Entity(
    source="config",
    name="stage_mapping",
    description="Maps each CRM stage name onto the funnel (setting stage_mapping).",
    columns=(
        _c("crm_stage", "text", True, "The CRM stage name, matched exactly."),
        _c("funnel_stage", "text", True),
        _c("stage_order", "integer", False, "1..n for open stages; empty for won and lost."),
        _c("outcome", "text", True, "open, won or lost."),
    ),
    key=("crm_stage",),
    allowed_values={"outcome": ("open", "won", "lost")},
)

SOURCE_ENTITIES: tuple[Entity, ...] = (
    ACCOUNTS,
    CAMPAIGNS,
    LEADS,
    OPPORTUNITIES,
    OPPORTUNITY_STAGE_HISTORY,
    SUBSCRIPTIONS,
    INVOICE_LINES,
    SPEND,
    FX_RATES,
)

ENTITIES_BY_NAME: dict[str, Entity] = {
    e.qualified_name: e for e in (*SOURCE_ENTITIES, STAGE_MAPPING)
}

BOOLEAN_TRUE = ("true", "1", "yes")
BOOLEAN_FALSE = ("false", "0", "no")
