"""Opportunities ("deals"): their outcome, their way through the CRM stages and what
an extract taken on a given day shows of them.

A deal's path runs through the open stages from its type's first stage up to the
highest stage it reaches (lost deals drop out at every stage), sometimes skipping
a stage or going back one, and ends in Closed Won / Closed Lost on its close date.
A deal whose close date is after the extract's day is still open there, in the
last stage it had entered by then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.accounts import Accounts
from orchestration.demo_data.columnar import Columnar
from orchestration.demo_data.funnel import Leads
from orchestration.demo_data.fx import FxRates
from orchestration.demo_data.timeline import (
    DAY,
    SECOND,
    Timeline,
    date_of,
    quarter_start,
)

STAGE_EVENT_SPAN = 0.95  # stage entries fall in the first 95% of the sales cycle


@dataclass(frozen=True)
class Deals(Columnar):
    account: np.ndarray
    lead: np.ndarray  # the lead it came from, -1: none
    kind: np.ndarray  # co.NEW_BUSINESS, EXPANSION or RENEWAL
    created_at: np.ndarray  # [s]
    close_date: np.ndarray  # [D] actual close; expected close while open
    won: np.ndarray  # bool: the outcome once closed
    amount: np.ndarray  # annual contract value in `currency`
    currency: np.ndarray
    loss_reason: np.ndarray  # index into co.LOSS_REASONS, -1 when won
    owner: np.ndarray  # sales rep, -1: none

    def closed_by(self, day: np.datetime64) -> np.ndarray:
        return self.close_date <= day


def make_deals(
    rng: np.random.Generator,
    scale: float,
    kind: int,
    account: np.ndarray,
    created_at: np.ndarray,
    close_date: np.ndarray,
    won: np.ndarray,
    amount: np.ndarray,
    currency: np.ndarray,
    lead: np.ndarray | None = None,
) -> Deals:
    """Deals of one type; loss reasons and owners drawn here."""
    n = len(account)
    reasons = np.array(co.LOSS_REASONS_BY_TYPE[kind])
    reps = max(2, round(co.SALES_REPS * scale))
    owner = rng.integers(0, reps, n)
    return Deals(
        account=account.astype(np.int64),
        lead=np.full(n, -1, dtype=np.int64) if lead is None else lead,
        kind=np.full(n, kind, dtype=np.int8),
        created_at=created_at,
        close_date=earliest_close(created_at, close_date),
        won=won,
        amount=np.round(np.maximum(amount, 0.0), 2),
        currency=currency.astype(np.int8),
        loss_reason=np.where(won, -1, reasons[rng.integers(0, len(reasons), n)]),
        owner=np.where(rng.random(n) < co.OWNERLESS_SHARE, -1, owner),
    )


def earliest_close(created_at: np.ndarray, close_date: np.ndarray) -> np.ndarray:
    """A deal closes a day after it was created at the earliest."""
    return np.maximum(close_date, date_of(created_at) + DAY)


def sales_cycle_close(
    rng: np.random.Generator, created_at: np.ndarray, median_days: np.ndarray
) -> np.ndarray:
    """Close dates after log-normal sales cycles; deals due early in a quarter are often
    pulled into the end of the quarter before (the quarter-end push)."""
    n = len(created_at)
    cycle = np.maximum(1, np.rint(rng.lognormal(np.log(median_days), 0.5, n))).astype(np.int64)
    created = date_of(created_at)
    close = created + cycle * DAY
    quarter = quarter_start(close)
    pulled_to = quarter - (1 + rng.integers(0, 4, n)) * DAY
    pull = (
        (close - quarter < 21 * DAY)
        & (rng.random(n) < co.QUARTER_END_PULL)
        & (pulled_to > created)
    )
    return np.where(pull, pulled_to, close)


def list_price(
    rng: np.random.Generator, segment: np.ndarray, currency: np.ndarray, days: np.ndarray,
    fx: FxRates,
) -> np.ndarray:
    """A new customer's annual contract value in its currency, rounded to 100."""
    median = co.segment_array("acv_median_usd")[segment]
    usd = rng.lognormal(np.log(median), co.segment_array("acv_sigma")[segment])
    usd = np.maximum(usd, 0.3 * median)
    return np.round(fx.from_usd(usd, currency, days), -2)


def new_business_deals(
    rng: np.random.Generator,
    scale: float,
    leads: Leads,
    lead_account: np.ndarray,
    accounts: Accounts,
    fx: FxRates,
) -> Deals:
    """One deal per converted lead, created when the lead converted."""
    lead = np.flatnonzero(leads.converted)
    account = lead_account[lead]
    segment = accounts.segment[account]
    created_at = leads.converted_at[lead]
    currency = accounts.currency[account]
    close = sales_cycle_close(rng, created_at, co.segment_array("cycle_days")[segment])
    amount = list_price(rng, segment, currency, date_of(created_at), fx)
    return make_deals(
        rng, scale, co.NEW_BUSINESS, account, created_at, close, leads.wins[lead], amount,
        currency, lead=lead,
    )


# -- stage paths -----------------------------------------------------------


@dataclass(frozen=True)
class StageEvents(Columnar):
    """Every stage entry of every deal, sorted by (deal, entered_at); future ones too."""

    deal: np.ndarray
    stage: np.ndarray  # index into co.STAGE_NAMES
    entered_at: np.ndarray  # [s]
    closing: np.ndarray  # bool: Closed Won / Closed Lost


def stage_events(rng: np.random.Generator, timeline: Timeline, deals: Deals) -> StageEvents:
    """Each deal's path through the open stages, then its closing entry on its close date.
    Stages 1 and 2 carry their new names once the CRM renamed them."""
    deal, order, key = _paths(rng, deals)
    entered_at = _entry_times(rng, deals, deal, key)
    rename = timeline.at(co.STAGE_RENAME_YEARS).astype("datetime64[s]")
    stage = order - 1
    for stage_order, renamed in co.RENAMED_STAGES.items():
        stage = np.where((order == stage_order) & (entered_at >= rename), renamed, stage)
    closing_at = deals.close_date.astype("datetime64[s]") + (
        8 * 3600 + rng.integers(0, 10 * 3600, len(deals))
    ) * SECOND
    closing_stage = np.where(deals.won, co.CLOSED_WON, co.CLOSED_LOST)
    all_deal = np.concatenate([deal, np.arange(len(deals))])
    all_at = np.concatenate([entered_at, closing_at])
    order_all = np.lexsort((all_at, all_deal))
    return StageEvents(
        deal=all_deal[order_all],
        stage=np.concatenate([stage, closing_stage])[order_all],
        entered_at=all_at[order_all],
        closing=np.concatenate([np.zeros(len(deal), bool), np.ones(len(deals), bool)])[order_all],
    )


def _paths(rng: np.random.Generator, deals: Deals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The open stages each deal enters: (deal, stage order, sort key within the deal)."""
    n = len(deals)
    first = np.array([co.FIRST_STAGE[k] for k in range(len(co.OPPORTUNITY_TYPES))])[deals.kind]
    lost_reach = rng.choice(np.arange(1, co.OPEN_STAGE_COUNT + 1), n, p=co.LOST_REACH)
    skips_last = rng.random(n) < co.WON_SKIPS_LAST_STAGE
    won_reach = np.where(skips_last, co.OPEN_STAGE_COUNT - 1, co.OPEN_STAGE_COUNT)
    reach = np.maximum(np.where(deals.won, won_reach, lost_reach), first)
    orders = np.arange(1, co.OPEN_STAGE_COUNT + 1)[None, :]
    inner = (orders > first[:, None]) & (orders < reach[:, None])
    skipped = inner & (rng.random((n, co.OPEN_STAGE_COUNT)) < co.STAGE_SKIP_SHARE)
    entered = (orders >= first[:, None]) & (orders <= reach[:, None]) & ~skipped
    deal, column = np.nonzero(entered)
    order = column + 1
    back_deal, back_order, back_key = _regressions(rng, entered)
    return (
        np.concatenate([deal, back_deal]),
        np.concatenate([order, back_order]),
        np.concatenate([order.astype(np.float64), back_key]),
    )


def _regressions(
    rng: np.random.Generator, entered: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Some deals go back a stage: after entering stage r they re-enter the stage
    before it, then r again. Returns those extra entries (deal, order, sort key)."""
    n = len(entered)
    can = (entered.sum(axis=1) >= 2) & (rng.random(n) < co.STAGE_REGRESSION_SHARE)
    first_column = np.argmax(entered, axis=1)
    choice = np.where(entered, rng.random(entered.shape), -1.0)
    choice[np.arange(n), first_column] = -1.0  # never from the first stage entered
    deal = np.flatnonzero(can)
    r = np.argmax(choice[deal], axis=1)  # column of the stage gone back from
    earlier = entered[deal] & (np.arange(entered.shape[1])[None, :] < r[:, None])
    previous = entered.shape[1] - 1 - np.argmax(earlier[:, ::-1], axis=1)
    return (
        np.concatenate([deal, deal]),
        np.concatenate([previous, r]) + 1,
        np.concatenate([r + 1.3, r + 1.6]),
    )


def _entry_times(
    rng: np.random.Generator, deals: Deals, deal: np.ndarray, key: np.ndarray
) -> np.ndarray:
    """Entry times in path order: the first at creation, the rest spread over the cycle."""
    sequence = np.lexsort((key, deal))
    fraction = rng.random(len(deal)) * STAGE_EVENT_SPAN
    in_sequence = deal[sequence]
    is_first = np.ones(len(deal), bool)
    is_first[1:] = in_sequence[1:] != in_sequence[:-1]
    fraction[sequence[is_first]] = 0.0  # the first entry of each deal (in sequence order)
    by_fraction = np.lexsort((fraction, deal))
    seconds = (
        deals.close_date.astype("datetime64[s]") - deals.created_at
    ).astype(np.int64)[in_sequence]
    rank = np.arange(len(deal)) - np.maximum.accumulate(np.where(is_first, np.arange(len(deal)), 0))
    offset = np.floor(fraction[by_fraction] * seconds).astype(np.int64) + rank
    entered_at = np.empty(len(deal), dtype="datetime64[s]")
    entered_at[sequence] = deals.created_at[in_sequence] + offset * SECOND
    return entered_at


# -- what an extract shows -------------------------------------------------


def last_entry(events: StageEvents, n_deals: int, cutoff: np.datetime64) -> np.ndarray:
    """Per deal, the stage of its last open-stage entry before `cutoff` (-1: none)."""
    seen = ~events.closing & (events.entered_at < cutoff)
    position = np.full(n_deals, -1, dtype=np.int64)
    np.maximum.at(position, events.deal[seen], np.flatnonzero(seen))
    return np.where(position >= 0, events.stage[np.maximum(position, 0)], -1)


def extract_columns(
    rng: np.random.Generator,
    deals: Deals,
    events: StageEvents,
    day: np.datetime64,
    ids: dict[str, np.ndarray],
    revise_amounts: float = 0.0,
) -> dict[str, np.ndarray]:
    """The crm/opportunities extract taken on `day`: deals created by then, as they were.

    `ids` holds per-deal object arrays: opportunity_id, account_id, lead_id, owner_id.
    `revise_amounts`: share of open deals whose amount was different on that day.
    """
    cutoff = (day + DAY).astype("datetime64[s]")
    exists = deals.created_at < cutoff
    closed = deals.closed_by(day)
    stage = np.where(closed, np.where(deals.won, co.CLOSED_WON, co.CLOSED_LOST),
                     last_entry(events, len(deals), cutoff))
    revised = ~closed & (rng.random(len(deals)) < revise_amounts)
    amount = np.where(revised, np.round(deals.amount * rng.uniform(0.8, 1.2, len(deals)), -2),
                      deals.amount)
    reasons = np.array(co.LOSS_REASONS, dtype=object)[np.maximum(deals.loss_reason, 0)]
    columns = {
        "opportunity_id": ids["opportunity_id"],
        "account_id": ids["account_id"],
        "lead_id": ids["lead_id"],
        "opportunity_type": np.array(co.OPPORTUNITY_TYPES, dtype=object)[deals.kind],
        "created_at": deals.created_at,
        "close_date": deals.close_date,
        "stage": np.array(co.STAGE_NAMES, dtype=object)[stage],
        "is_closed": closed,
        "is_won": closed & deals.won,
        "amount": amount,
        "currency": np.array(co.CURRENCIES, dtype=object)[deals.currency],
        "owner_id": ids["owner_id"],
        "loss_reason": np.where(closed & ~deals.won, reasons, None),
    }
    return {name: values[exists] for name, values in columns.items()}


def history_columns(
    rng: np.random.Generator,
    timeline: Timeline,
    deals: Deals,
    events: StageEvents,
    opportunity_ids: np.ndarray,
) -> dict[str, np.ndarray]:
    """The crm/opportunity_stage_history extract: entries up to as_of, except for part of
    the oldest deals (created before the CRM tracked stage history)."""
    early = deals.created_at < (timeline.start + co.HISTORY_MISSING_DAYS * DAY).astype(
        "datetime64[s]"
    )
    untracked = early & (rng.random(len(deals)) < co.HISTORY_MISSING_SHARE)
    keep = (events.entered_at < timeline.cutoff) & ~untracked[events.deal]
    return {
        "opportunity_id": opportunity_ids[events.deal[keep]],
        "stage": np.array(co.STAGE_NAMES, dtype=object)[events.stage[keep]],
        "entered_at": events.entered_at[keep],
    }

