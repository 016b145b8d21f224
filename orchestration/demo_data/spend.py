"""Sales and marketing spend: campaign programs, events, payroll, commissions, partner
fees, tools and other fixed costs, and a few reversals.

Program spend follows the leads each campaign brought in (cost per lead differs by
channel), payroll follows the planned ARR (the company hires ahead of growth) and
commissions follow the deals won, so spend and revenue tell one story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.campaigns import Campaigns
from orchestration.demo_data.columnar import Columnar
from orchestration.demo_data.funnel import Leads
from orchestration.demo_data.fx import FxRates
from orchestration.demo_data.opportunities import Deals
from orchestration.demo_data.timeline import (
    DAY,
    Timeline,
    add_months,
    date_of,
    month_start,
    months_between,
    quarter_start,
)

DEPARTMENTS = ("marketing", "sales")
MARKETING, SALES = range(2)
NO_CHANNEL_SHARE = 0.1  # campaign spend booked without its channel
PLANNED_GROWTH = 1.35  # yearly ARR growth assumed when planning beyond as_of
SALARY_RAISE = 1.04


@dataclass(frozen=True)
class Spend(Columnar):
    date: np.ndarray  # [D]
    department: np.ndarray
    category: np.ndarray  # object
    channel: np.ndarray  # -1: not known
    campaign: np.ndarray  # -1: none
    amount_usd: np.ndarray
    currency: np.ndarray
    description: np.ndarray  # object



def _rows(
    date: np.ndarray, department: np.ndarray | int, category: np.ndarray | str,
    amount_usd: np.ndarray, description: np.ndarray | str, channel: np.ndarray | int = -1,
    campaign: np.ndarray | int = -1, currency: np.ndarray | int = co.USD,
) -> Spend:
    n = len(date)

    def full(value: np.ndarray | int | str, dtype: type | str) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()

    return Spend(
        date=date,
        department=full(department, np.int8),
        category=full(category, object),
        channel=full(channel, np.int64),
        campaign=full(campaign, np.int64),
        amount_usd=amount_usd,
        currency=full(currency, np.int8),
        description=full(description, object),
    )


def make_spend(
    rng: np.random.Generator,
    timeline: Timeline,
    scale: float,
    campaigns: Campaigns,
    leads: Leads,
    deals: Deals,
    arr_usd_by_month: np.ndarray,
    fx: FxRates,
) -> Spend:
    accruals = Spend.concat(
        _programs(rng, timeline, campaigns, leads),
        _overheads(rng, timeline, scale),
    )
    spend = Spend.concat(
        accruals,
        _events(rng, campaigns, leads),
        _payroll(rng, timeline, arr_usd_by_month),
        _commissions(timeline, deals, fx),
        _partner_fees(timeline, deals, leads, fx),
        _reversals(rng, accruals),
    )
    spend = spend.take(spend.date <= timeline.as_of)
    return spend.take(np.lexsort((spend.department, spend.date)))


def _month_index(timeline: Timeline, days: np.ndarray) -> np.ndarray:
    return months_between(np.full(len(days), timeline.start), days)


def _programs(
    rng: np.random.Generator, timeline: Timeline, campaigns: Campaigns, leads: Leads
) -> Spend:
    """Always-on campaign spend per month: the leads it brought in times the channel's
    cost per lead, booked at month end (month to date on as_of)."""
    months = timeline.months
    always_on = np.flatnonzero(~co.channel_array("event_based").astype(bool)[campaigns.channel])
    first = _month_index(timeline, campaigns.start[always_on])
    last = np.minimum(
        _month_index(timeline, add_months(quarter_start(campaigns.start[always_on]), 2)),
        len(months) - 1,
    )
    span = last - first + 1
    campaign = np.repeat(always_on, span)
    month = np.repeat(first, span) + np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    tagged = leads.campaign >= 0
    lead_month = _month_index(timeline, date_of(leads.created_at[tagged]))
    counts = np.bincount(leads.campaign[tagged] * len(months) + lead_month,
                         minlength=len(campaigns) * len(months))
    channel = campaigns.channel[campaign]
    cost_per_lead = co.channel_array("cost_per_lead")[channel]
    amount = (counts[campaign * len(months) + month] + 3) * cost_per_lead * rng.lognormal(
        0, 0.15, len(campaign))
    department = np.array([DEPARTMENTS.index(c.spend_department) for c in co.CHANNELS])[channel]
    category = np.array([c.spend_category for c in co.CHANNELS], dtype=object)[channel]
    description = np.array([f"{c.label} program" for c in co.CHANNELS], dtype=object)[channel]
    booked = np.minimum(add_months(months[month], 1) - DAY, timeline.as_of)
    shown = np.where(rng.random(len(campaign)) < NO_CHANNEL_SHARE, -1, channel)
    return _rows(booked, department, category, np.round(amount, 2), description, shown, campaign)


def _events(rng: np.random.Generator, campaigns: Campaigns, leads: Leads) -> Spend:
    """Sponsorship (marketing) and travel (sales) per event, in the event's currency."""
    events = np.flatnonzero(co.channel_array("event_based").astype(bool)[campaigns.channel])
    tagged = leads.campaign >= 0
    attendees = np.bincount(leads.campaign[tagged], minlength=len(campaigns))[events]
    cost_per_lead = co.channel_array("cost_per_lead")[campaigns.channel[events]]
    sponsorship = (attendees * cost_per_lead + co.EVENT_COST_USD * 0.2) * rng.lognormal(
        0, 0.2, len(events))
    travel = sponsorship * rng.uniform(0.15, 0.35, len(events))
    date = campaigns.start[events]
    channel = campaigns.channel[events]
    currency = campaigns.currency[events]
    return Spend.concat(
        _rows(date, MARKETING, "events", np.round(sponsorship, 2), "Event sponsorship", channel,
              events, currency),
        _rows(date, SALES, "travel", np.round(travel, 2), "Event travel", channel, events,
              currency),
    )


def _planned_arr(timeline: Timeline, arr_usd_by_month: np.ndarray) -> np.ndarray:
    """The ARR each month plans for: the ARR reached HIRING_AHEAD_MONTHS later."""
    n = len(arr_usd_by_month)
    ahead = np.arange(n) + co.HIRING_AHEAD_MONTHS
    known = arr_usd_by_month[np.minimum(ahead, n - 1)]
    beyond = np.maximum(ahead - (n - 1), 0)
    return known * PLANNED_GROWTH ** (beyond / 12)


def _payroll(rng: np.random.Generator, timeline: Timeline, arr_usd_by_month: np.ndarray) -> Spend:
    """Monthly payroll accruals (dated the 1st), one row per employee; the team grows
    with planned ARR and never shrinks. Part of the sales team prospects (outbound)."""
    planned = _planned_arr(timeline, arr_usd_by_month)
    months = timeline.months
    parts = []
    for department, arr_per_head in ((MARKETING, co.MARKETING_ARR_PER_HEAD),
                                     (SALES, co.SALES_ARR_PER_HEAD)):
        heads = np.maximum.accumulate(np.maximum(1, np.ceil(planned / arr_per_head))).astype(int)
        staff = int(heads.max())
        name = DEPARTMENTS[department]
        salary = co.MONTHLY_COST_PER_HEAD[name] * rng.lognormal(0, 0.2, staff)
        european = rng.random(staff) < co.EUROPEAN_STAFF_SHARE
        sdr = (department == SALES) & (rng.random(staff) < co.SDR_SHARE)
        month = np.repeat(np.arange(len(months)), heads)
        person = np.arange(len(month)) - np.repeat(np.cumsum(heads) - heads, heads)
        raise_ = SALARY_RAISE ** timeline.years_in(months[month])
        description = np.where(sdr[person], "Payroll - SDR team", f"Payroll - {name} team")
        parts.append(_rows(
            months[month], department, "salaries", np.round(salary[person] * raise_, 2),
            description.astype(object), np.where(sdr[person], co.OUTBOUND, -1), -1,
            np.where(european[person], co.EUR, co.USD),
        ))
    return Spend.concat(*parts)


def _won_usd(deals: Deals, fx: FxRates, day: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """Deals won by `day` and their amounts in USD."""
    won = np.flatnonzero(deals.won & deals.closed_by(day))
    usd = fx.to_usd(deals.amount[won], deals.currency[won], deals.close_date[won])
    return won, usd


def _commissions(timeline: Timeline, deals: Deals, fx: FxRates) -> Spend:
    """Commissions per rep and month of close, accrued on the 1st of the month after."""
    won, usd = _won_usd(deals, fx, timeline.as_of)
    won_with_owner = deals.owner[won] >= 0
    won, usd = won[won_with_owner], usd[won_with_owner]
    rate = np.array([co.COMMISSION_RATES[k] for k in range(len(co.OPPORTUNITY_TYPES))])
    month = _month_index(timeline, deals.close_date[won])
    n_months = len(timeline.months)
    key = deals.owner[won] * n_months + month
    reps, position = np.unique(key, return_inverse=True)
    amount = np.bincount(position, weights=usd * rate[deals.kind[won]])
    paid = add_months(timeline.months[reps % n_months], 1)
    return _rows(paid, SALES, "commissions", np.round(amount, 2), "Sales commissions")


def _partner_fees(timeline: Timeline, deals: Deals, leads: Leads, fx: FxRates) -> Spend:
    """A referral fee to the partner for every won deal a partner brought in."""
    won, usd = _won_usd(deals, fx, timeline.as_of)
    lead = deals.lead[won]
    partner = co.CHANNEL_NAMES.index("partner")
    from_partner = (lead >= 0) & (leads.channel[np.maximum(lead, 0)] == partner)
    won, usd, lead = won[from_partner], usd[from_partner], lead[from_partner]
    paid = add_months(month_start(deals.close_date[won]), 1)
    return _rows(paid, SALES, "commissions", np.round(usd * co.PARTNER_FEE_RATE, 2),
                 "Partner referral fee", partner, leads.campaign[lead])


def _overheads(rng: np.random.Generator, timeline: Timeline, scale: float) -> Spend:
    """Tools, retainers and other fixed monthly costs per vendor, growing with the company."""
    months = timeline.months
    parts = []
    for department, category, channel, vendors_at_scale_1, description in co.OVERHEADS:
        vendors = max(1, round(vendors_at_scale_1 * scale))
        cost = co.OVERHEAD_MONTHLY_USD * scale / vendors * vendors_at_scale_1 * rng.lognormal(
            0, 0.3, vendors)
        month = np.repeat(np.arange(len(months)), vendors)
        vendor = np.tile(np.arange(vendors), len(months))
        growth = (1 + co.OVERHEAD_GROWTH_PER_YEAR) ** timeline.years_in(months[month])
        parts.append(_rows(
            months[month], DEPARTMENTS.index(department), category,
            np.round(cost[vendor] * growth, 2), description,
            -1 if channel is None else co.CHANNEL_NAMES.index(channel),
        ))
    return Spend.concat(*parts)


def _reversals(rng: np.random.Generator, accruals: Spend) -> Spend:
    """Part of an accrual reversed on the 1st of the following month."""
    reversed_ = accruals.take(rng.random(len(accruals)) < co.REVERSAL_SHARE)
    n = len(reversed_)
    return _rows(
        add_months(month_start(reversed_.date), 1), reversed_.department, reversed_.category,
        -np.round(reversed_.amount_usd * rng.uniform(0.2, 1.0, n), 2),
        np.strings.add("Reversal: ", reversed_.description.astype(str)).astype(object),
        reversed_.channel, reversed_.campaign, reversed_.currency,
    )


def spend_columns(spend: Spend, fx: FxRates, ids: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The finance/spend extract in date order; amounts in each row's currency.

    `ids` per row: spend_id, campaign_id (None where absent).
    """
    amount = np.round(fx.from_usd(spend.amount_usd, spend.currency, spend.date), 2)
    return {
        "spend_id": ids["spend_id"],
        "spend_date": spend.date,
        "department": np.array(DEPARTMENTS, dtype=object)[spend.department],
        "category": spend.category,
        "channel": np.where(spend.channel >= 0,
                            np.array(co.CHANNEL_NAMES, dtype=object)[spend.channel], None),
        "campaign_id": ids["campaign_id"],
        "amount": amount,
        "currency": np.array(co.CURRENCIES, dtype=object)[spend.currency],
        "description": spend.description,
    }
