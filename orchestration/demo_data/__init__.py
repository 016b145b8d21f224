"""Demo data: extracts of a believable B2B SaaS company in the docs/landing-contract.md layout.

`generate(out_dir, scale, seed, as_of_date)` simulates about three years of a
company ending near $20M ARR at scale 1 (rows grow linearly with the scale) and
writes every source entity under `out_dir`, files named by date. The same seed,
scale and as_of_date give the same bytes.

The simulation, module by module: `fx` (rates), `campaigns`, `funnel` (leads),
`accounts`, `opportunities` (deals and stage paths), `subscriptions` (contract
life cycles, which add expansion, renewal and win-back deals), `invoices`,
`spend`; `ids` numbers the keys and `writer` writes the files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.accounts import Accounts, lead_accounts
from orchestration.demo_data.campaigns import Campaigns, make_campaigns
from orchestration.demo_data.deal_history import DealHistory, extract_days, history_extract, simulate_history
from orchestration.demo_data.deltas import as_on, changed_since, month_end_days
from orchestration.demo_data.funnel import Leads, lead_columns, make_leads
from orchestration.demo_data.fx import FxRates, simulate_fx
from orchestration.demo_data.ids import format_ids, make_ids, refer
from orchestration.demo_data.invoices import Lines, invoice_lines, line_columns
from orchestration.demo_data.opportunities import (
    Deals,
    StageEvents,
    history_columns,
    new_business_deals,
    stage_events,
)
from orchestration.demo_data.spend import Spend, make_spend, spend_columns
from orchestration.demo_data.subscriptions import (
    Lifecycle,
    Terms,
    arr_usd_by_month,
    initial_book,
    new_customer_terms,
    shift_accounts,
)
from orchestration.demo_data.timeline import Timeline
from orchestration.demo_data.writer import Format, sort_rows, write_extract
from orchestration.lib import contract

__all__ = ["generate"]

# One random stream per step; a new step goes at the end (the others keep their draws).
STREAMS = ("fx", "campaigns", "leads", "accounts", "deals", "book", "lifecycle", "paths",
           "invoices", "spend", "extracts", "history")


@dataclass(frozen=True)
class Company:
    """Everything simulated, before it is written."""

    timeline: Timeline
    fx: FxRates
    campaigns: Campaigns
    leads: Leads
    lead_account: np.ndarray  # account of each lead, -1: none
    lead_shows_account: np.ndarray
    accounts: Accounts
    deals: Deals
    events: StageEvents
    history: DealHistory
    terms: Terms
    lines: Lines
    spend: Spend


def generate(
    out_dir: Path, scale: float, seed: int, as_of_date: dt.date | None = None
) -> dict[str, int]:
    """Write demo extracts of every source entity under `out_dir`.

    `scale` 1 is a company ending near $20M ARR; row counts grow linearly with it
    (0.02 gives tiny test data). `as_of_date` (default: today in UTC) is the last day
    of the history and the name of the extract files. Returns the rows written per
    entity (qualified name, e.g. `crm__accounts`), over all of its files.
    """
    company, rng = _simulated(scale, seed, as_of_date)
    return write_company(Path(out_dir), company, rng)


def crm_state(scale: float, seed: int, as_of_date: dt.date) -> dict[str, dict[str, np.ndarray]]:
    """The CRM's accounts and leads at the end of `as_of_date`, column by column, keyed by
    qualified name: the state their extracts add up to (what tests check the landing against)."""
    company, rng = _simulated(scale, seed, as_of_date)
    accounts, leads, _ = _crm_tables(company, _keys(company), rng)
    return {contract.ACCOUNTS.qualified_name: accounts, contract.LEADS.qualified_name: leads}


def _simulated(
    scale: float, seed: int, as_of_date: dt.date | None
) -> tuple[Company, np.random.Generator]:
    """The company simulated, and the random stream left for writing its extracts."""
    if not scale > 0:
        raise ValueError(f"scale must be greater than 0, got {scale}")
    as_of = as_of_date or dt.datetime.now(dt.UTC).date()
    streams = dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)), strict=True))
    rngs = {name: np.random.default_rng(s) for name, s in streams.items()}
    company = simulate(rngs, Timeline.ending(as_of, co.YEARS_OF_HISTORY), scale)
    return company, rngs["extracts"]


def simulate(rngs: dict[str, np.random.Generator], timeline: Timeline, scale: float) -> Company:
    """Run the company's history; one random stream per step (see STREAMS), so changing
    one step leaves the draws of the others alone."""
    fx = simulate_fx(rngs["fx"], timeline)
    campaigns = make_campaigns(rngs["campaigns"], timeline, scale)
    leads = make_leads(rngs["leads"], timeline, scale, campaigns)
    prospects, lead_account, shows_account = lead_accounts(rngs["accounts"], timeline, leads)
    new_business = new_business_deals(rngs["deals"], scale, leads, lead_account, prospects, fx)
    book_accounts, book_terms = initial_book(rngs["book"], timeline, scale, fx)
    accounts = Accounts.concat(prospects, book_accounts)
    first_terms = Terms.concat(
        new_customer_terms(rngs["book"], timeline, new_business, accounts),
        shift_accounts(book_terms, len(prospects)),
    )
    lifecycle = Lifecycle(rngs["lifecycle"], timeline, scale, fx, len(new_business))
    terms, later_deals = lifecycle.run(first_terms)
    deals = Deals.concat(new_business, *later_deals)
    arr = arr_usd_by_month(terms, fx, timeline)
    return Company(
        timeline=timeline,
        fx=fx,
        campaigns=campaigns,
        leads=leads,
        lead_account=lead_account,
        lead_shows_account=shows_account,
        accounts=accounts,
        deals=deals,
        events=stage_events(rngs["paths"], timeline, deals),
        history=simulate_history(rngs["history"], deals),
        terms=terms,
        lines=invoice_lines(rngs["invoices"], timeline, terms),
        spend=make_spend(rngs["spend"], timeline, scale, campaigns, leads, deals, arr, fx),
    )


@dataclass(frozen=True)
class _Keys:
    account: np.ndarray
    campaign: np.ndarray
    lead: np.ndarray
    deal: np.ndarray
    subscription: np.ndarray


def _keys(company: Company) -> _Keys:
    terms = company.terms
    return _Keys(
        account=make_ids("ACC-", company.accounts.created_at),
        campaign=make_ids("CMP-", company.campaigns.channel, company.campaigns.start),
        lead=make_ids("LEAD-", company.leads.created_at),
        deal=make_ids("OPP-", company.deals.created_at),
        subscription=make_ids("SUB-", terms.account, terms.start),
    )


def _lead_links(
    rng: np.random.Generator, company: Company
) -> tuple[np.ndarray, np.ndarray]:
    """Which side records a converted lead's deal: (deal shown on each lead, lead shown
    on each deal), -1 where not shown. Most leads name their deal; the others' deals name
    the lead instead, and half of the deals name their lead anyway."""
    deals = company.deals
    from_lead = np.flatnonzero(deals.lead >= 0)
    linked = rng.random(len(from_lead)) < co.LEAD_LINKS_OPPORTUNITY
    lead_deal = np.full(len(company.leads), -1)
    lead_deal[deals.lead[from_lead[linked]]] = from_lead[linked]
    shows_lead = ~linked | (rng.random(len(from_lead)) < co.OPPORTUNITY_SHOWS_LEAD)
    deal_lead = np.full(len(deals), -1)
    deal_lead[from_lead[shows_lead]] = deals.lead[from_lead[shows_lead]]
    return lead_deal, deal_lead


def _crm_tables(
    company: Company, keys: _Keys, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """The accounts and leads columns as of as_of, and the lead shown on each deal (-1: none)."""
    lead_deal, deal_lead = _lead_links(rng, company)
    accounts = company.accounts.columns(rng, keys.account)
    leads = lead_columns(
        company.leads, keys.lead,
        refer(keys.campaign, company.leads.campaign),
        refer(keys.account, np.where(company.lead_shows_account, company.lead_account, -1)),
        refer(keys.deal, lead_deal),
    )
    return accounts, leads, deal_lead


def write_company(out_dir: Path, company: Company, rng: np.random.Generator) -> dict[str, int]:
    """Write every entity: opportunities weekly over the last twelve months (deal_history),
    the CRM's other entities monthly (deltas: accounts and leads in full once, then what
    changed), billing and finance once, on the as-of date."""
    keys = _keys(company)
    timeline, deals = company.timeline, company.deals
    accounts, leads, deal_lead = _crm_tables(company, keys, rng)
    today = str(timeline.as_of)
    counts: dict[str, int] = {}

    def write(
        entity: contract.Entity, columns: dict, fmt: Format = "csv", name: str = today,
        order: tuple[str, ...] | None = None,
    ) -> None:
        """Write one extract, rows in key order (or `order`)."""
        rows = write_extract(out_dir, entity, sort_rows(columns, *(order or entity.key)), name, fmt)
        counts[entity.qualified_name] = counts.get(entity.qualified_name, 0) + rows

    campaigns = company.campaigns.columns(keys.campaign)
    month_ends = month_end_days(timeline.as_of, timeline.start)

    def write_changes(entity: contract.Entity, columns: dict) -> None:
        """In full on the first month end, then what changed by each later one and as_of."""
        days = [*month_ends, timeline.as_of]
        write(entity, as_on(columns, "created_at", days[0]), name=str(days[0]))
        for previous, day in pairwise(days):
            write(entity, changed_since(columns, "created_at", previous, day), name=str(day))

    write_changes(contract.ACCOUNTS, accounts)
    for day in month_ends:
        write(contract.CAMPAIGNS, as_on(campaigns, "start_date", day), name=str(day))
    write(contract.CAMPAIGNS, campaigns)
    write_changes(contract.LEADS, leads)
    deal_ids = {
        "opportunity_id": keys.deal,
        "account_id": keys.account[deals.account],
        "lead_id": refer(keys.lead, deal_lead),
        "owner_id": np.where(deals.owner >= 0, format_ids("REP-", deals.owner + 1), None),
    }
    for day in extract_days(timeline.as_of, timeline.start):
        write(contract.OPPORTUNITIES, history_extract(
            company.history, rng, deals, company.events, day, deal_ids), name=str(day))
    stage_history = history_columns(rng, timeline, deals, company.events, keys.deal)
    for day in [*month_ends, timeline.as_of]:
        write(contract.OPPORTUNITY_STAGE_HISTORY, as_on(stage_history, "entered_at", day), "parquet",
              name=str(day), order=("opportunity_id", "entered_at"))
    write(contract.SUBSCRIPTIONS, company.terms.columns({
        "subscription_id": keys.subscription,
        "account_id": keys.account[company.terms.account],
        "opportunity_id": refer(keys.deal, company.terms.deal),
    }))
    lines = company.lines
    write(contract.INVOICE_LINES, line_columns(lines, {
        "account_id": keys.account[lines.account],
        "subscription_id": refer(keys.subscription, lines.subscription),
    }), "parquet")
    spend = company.spend
    write(contract.SPEND, spend_columns(spend, company.fx, {
        "spend_id": format_ids("SP-", np.arange(1, len(spend) + 1)),
        "campaign_id": refer(keys.campaign, spend.campaign),
    }))
    write(contract.FX_RATES, company.fx.columns())
    return counts
