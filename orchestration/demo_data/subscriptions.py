"""Subscriptions: the life of every customer's contracts, generation by generation.

Customers start from won new-business deals (and the book the company had when the
history starts). Each term may be expanded mid-term (a replacement at a higher ARR
or a co-termed add-on), is renewed near its end (on time, early or late, flat, up
or down) or churns; some churned customers are won back after a gap. Monthly plans
are open-ended until cancelled. Every expansion, renewal and win-back is a deal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.accounts import Accounts, new_accounts
from orchestration.demo_data.columnar import Columnar
from orchestration.demo_data.fx import FxRates
from orchestration.demo_data.opportunities import (
    Deals,
    earliest_close,
    list_price,
    make_deals,
    sales_cycle_close,
)
from orchestration.demo_data.timeline import (
    DAY,
    DAYS_PER_YEAR,
    SECOND,
    SECONDS_PER_DAY,
    Timeline,
    add_months,
    at_office_time,
    days_from,
)

NAT = np.datetime64("NaT", "D")
MAX_GENERATIONS = 100


@dataclass(frozen=True)
class Terms(Columnar):
    """Subscriptions (one contract term each)."""

    account: np.ndarray
    segment: np.ndarray
    currency: np.ndarray
    start: np.ndarray  # [D]
    end: np.ndarray  # [D] exclusive; NaT: open-ended
    arr: np.ndarray  # in `currency`
    product: np.ndarray
    deal: np.ndarray  # the deal that created it, -1: none
    first: np.ndarray  # bool: a new customer's first subscription

    def columns(self, ids: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The billing/subscriptions extract; `ids` per term: subscription, account, deal."""
        return {
            "subscription_id": ids["subscription_id"],
            "account_id": ids["account_id"],
            "product": np.array(co.PRODUCTS, dtype=object)[self.product],
            "start_date": self.start,
            "end_date": self.end,
            "arr": self.arr,
            "currency": np.array(co.CURRENCIES, dtype=object)[self.currency],
            "opportunity_id": ids["opportunity_id"],
        }


def term_end(rng: np.random.Generator, start: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Annual terms; some enterprise customers sign for two years."""
    two_years = (segment == co.ENTERPRISE) & (rng.random(len(start)) < co.TWO_YEAR_TERM_SHARE)
    return add_months(start, np.where(two_years, 24, 12))


def _rounded(amount: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(amount, -2), 100.0)


class Lifecycle:
    """Runs every customer's contracts forward to as_of, collecting terms and deals."""

    def __init__(
        self, rng: np.random.Generator, timeline: Timeline, scale: float, fx: FxRates,
        deals_before: int,
    ) -> None:
        self.rng, self.timeline, self.scale, self.fx = rng, timeline, scale, fx
        self.terms: list[Terms] = []
        self.deals: list[Deals] = []
        self.next_deal = deals_before  # index of the next deal in the final concatenation

    def run(self, first_terms: Terms) -> tuple[Terms, list[Deals]]:
        """Every term that follows from the first ones, and the deals made on the way."""
        queue = first_terms
        for _ in range(MAX_GENERATIONS):
            if not len(queue):
                break
            queue = self._advance(queue)
        return Terms.concat(first_terms.take(slice(0, 0)), *self.terms), self.deals

    def _add_deals(self, deals: Deals) -> np.ndarray:
        self.deals.append(deals)
        index = np.arange(self.next_deal, self.next_deal + len(deals))
        self.next_deal += len(deals)
        return index

    def _advance(self, terms: Terms) -> Terms:
        """Decide what happens to each term; returns the terms that follow them."""
        as_of = self.timeline.as_of
        annual = ~np.isnat(terms.end)
        life = self.rng.exponential(co.MONTHLY_PLAN_MONTHS * DAYS_PER_YEAR / 12, len(terms))
        natural_end = np.where(annual, terms.end, days_from(terms.start, np.maximum(life, 31)))
        terms, replacements, replaced, add_on_arr = self._expansions(terms, annual, natural_end)
        renewing = annual & ~replaced
        successors, churned = self._renewals(terms.take(renewing), add_on_arr[renewing])
        monthly = ~annual & ~replaced
        cancelled = np.where(natural_end <= as_of + 30 * DAY, natural_end, NAT)
        terms = replace(terms, end=np.where(monthly, cancelled, terms.end))
        lapsed = terms.take(monthly & (terms.end <= as_of))
        self.terms.append(terms)
        win_backs = self._win_backs(Terms.concat(churned, lapsed))
        return Terms.concat(replacements, successors, win_backs)

    def _expansions(
        self, terms: Terms, annual: np.ndarray, natural_end: np.ndarray
    ) -> tuple[Terms, Terms, np.ndarray, np.ndarray]:
        """Expansion deals during a term. Returns (terms, with replaced ones ended at the
        expansion; replacement terms; which terms were replaced; ARR added on per term,
        which renews with it)."""
        rng, timeline, n = self.rng, self.timeline, len(terms)
        length = (natural_end - terms.start) / DAY
        rate = np.where(annual, co.segment_array("expansions_per_year")[terms.segment],
                        co.MONTHLY_EXPANSIONS_PER_YEAR)
        offset = np.where(annual, rng.uniform(0.2, 0.85, n) * length,
                          np.maximum(rng.exponential(DAYS_PER_YEAR / rate), 30))
        when = days_from(terms.start, offset)
        created_day = np.maximum(when - rng.integers(20, 60, n) * DAY, terms.start)
        created_at = at_office_time(rng, created_day)
        happens = np.where(annual, rng.random(n) < rate * length / DAYS_PER_YEAR,
                           when < natural_end - 30 * DAY)
        happens &= created_at < timeline.cutoff
        increase = _rounded(terms.arr * rng.uniform(0.15, 0.6, n))
        won = rng.random(n) < co.EXPANSION_WIN_RATE
        index = np.full(n, -1)
        index[happens] = self._add_deals(make_deals(
            rng, self.scale, co.EXPANSION, terms.account[happens], created_at[happens],
            when[happens], won[happens], increase[happens], terms.currency[happens]))
        executed = happens & won & (when <= timeline.as_of)
        replaces = executed & (~annual | (rng.random(n) < co.EXPANSION_REPLACES_SHARE))
        add_on = executed & ~replaces
        renewable = term_end(rng, when[replaces], terms.segment[replaces])
        replacement = _following(
            terms, replaces,
            start=when[replaces],
            end=np.where(annual[replaces], renewable, NAT),
            arr=terms.arr[replaces] + increase[replaces],
            deal=index[replaces],
        )
        self.terms.append(_following(
            terms, add_on, start=when[add_on], arr=increase[add_on],
            product=np.full(add_on.sum(), co.ADD_ON, dtype=np.int8), deal=index[add_on],
        ))
        ended = replace(terms, end=np.where(replaces, when, terms.end))
        return ended, replacement, replaces, np.where(add_on, increase, 0.0)

    def _renewals(self, terms: Terms, add_on_arr: np.ndarray) -> tuple[Terms, Terms]:
        """Renewal deals near each annual term's end. Returns (successor terms, the
        terms whose customers churned, at the ARR they had)."""
        rng, timeline, n = self.rng, self.timeline, len(terms)
        created_day = np.maximum(terms.end - rng.integers(45, 100, n) * DAY, terms.start)
        created_at = at_office_time(rng, created_day)
        churns = rng.random(n) < co.segment_array("renewal_churn")[terms.segment]
        shift = _renewal_shift(rng, n)
        start = terms.end + shift * DAY
        close = np.where(
            shift > 0, start - rng.integers(0, 3, n) * DAY,
            np.minimum(start, terms.end) - rng.integers(0, 15, n) * DAY,
        )
        close = np.where(churns, terms.end + rng.integers(-20, 6, n) * DAY, close)
        close = earliest_close(created_at, close)
        base = terms.arr + add_on_arr
        arr = np.where(churns, base, _rounded(base * _renewal_change(rng, n)))
        exists = created_at < timeline.cutoff
        index = np.full(n, -1)
        index[exists] = self._add_deals(make_deals(
            rng, self.scale, co.RENEWAL, terms.account[exists], created_at[exists],
            close[exists], ~churns[exists], arr[exists], terms.currency[exists]))
        closed = exists & (close <= timeline.as_of)
        renewed = closed & ~churns
        successors = _following(
            terms, renewed,
            start=start[renewed],
            end=term_end(rng, start[renewed], terms.segment[renewed]),
            arr=arr[renewed],
            deal=index[renewed],
        )
        lost = closed & churns
        return successors, replace(terms.take(lost), arr=base[lost])

    def _win_backs(self, churned: Terms) -> Terms:
        """Some churned customers are approached again (a new-business deal, no lead)."""
        rng, timeline = self.rng, self.timeline
        chosen = churned.take(rng.random(len(churned)) < co.WIN_BACK_SHARE)
        n = len(chosen)
        created_at = at_office_time(rng, chosen.end + rng.integers(30, 200, n) * DAY)
        exists = created_at < timeline.cutoff
        chosen, created_at = chosen.take(exists), created_at[exists]
        n = len(chosen)
        close = sales_cycle_close(rng, created_at, co.segment_array("cycle_days")[chosen.segment])
        close = earliest_close(created_at, close)
        won = rng.random(n) < co.WIN_BACK_WIN_RATE
        arr = _rounded(chosen.arr * rng.uniform(0.6, 1.0, n))
        index = self._add_deals(make_deals(
            rng, self.scale, co.NEW_BUSINESS, chosen.account, created_at, close, won, arr,
            chosen.currency))
        back = won & (close <= timeline.as_of)
        start = close[back] + rng.integers(0, 10, back.sum()) * DAY
        return _following(
            chosen, back, start=start, end=term_end(rng, start, chosen.segment[back]),
            arr=arr[back], deal=index[back],
        )


def _following(terms: Terms, rows: np.ndarray, **changes: np.ndarray) -> Terms:
    """Terms that follow the selected ones: same customer and product unless changed."""
    chosen = terms.take(rows)
    return replace(chosen, first=np.zeros(len(chosen), bool), **changes)


def _renewal_shift(rng: np.random.Generator, n: int) -> np.ndarray:
    """Days from a term's end to its successor's start: mostly 0, some early, some late."""
    u = rng.random(n)
    early = -rng.integers(1, 15, n)
    late = rng.integers(1, 31, n)
    very_late = rng.integers(35, 90, n)
    cuts = np.cumsum([co.RENEWAL_EARLY_SHARE, co.RENEWAL_LATE_SHARE, co.RENEWAL_VERY_LATE_SHARE])
    return np.select([u < cuts[0], u < cuts[1], u < cuts[2]], [early, late, very_late], 0)


def _renewal_change(rng: np.random.Generator, n: int) -> np.ndarray:
    """Successor ARR over expiring ARR: price increases, growth at renewal, downgrades."""
    u = rng.random(n)
    return np.select(
        [u < 0.65, u < 0.85],
        [rng.uniform(1.0, 1.08, n), rng.uniform(1.1, 1.5, n)],
        rng.uniform(0.6, 0.9, n),
    )


def new_customer_terms(
    rng: np.random.Generator, timeline: Timeline, deals: Deals, accounts: Accounts
) -> Terms:
    """First subscriptions of customers won by new-business deals closed by as_of."""
    won = np.flatnonzero(deals.won & deals.closed_by(timeline.as_of))
    account = deals.account[won]
    segment = accounts.segment[account]
    start = deals.close_date[won] + rng.integers(0, 15, len(won)) * DAY
    monthly = rng.random(len(won)) < co.segment_array("monthly_plan_share")[segment]
    return Terms(
        account=account,
        segment=segment,
        currency=deals.currency[won],
        start=start,
        end=np.where(monthly, NAT, term_end(rng, start, segment)),
        arr=deals.amount[won],
        product=segment.astype(np.int8),
        deal=won,
        first=np.ones(len(won), bool),
    )


def initial_book(
    rng: np.random.Generator, timeline: Timeline, scale: float, fx: FxRates
) -> tuple[Accounts, Terms]:
    """The customers the company already had when the history starts: accounts created
    years before, subscriptions migrated into billing on the first day with their
    remaining term (ending on their contract anniversary)."""
    counts = rng.poisson(co.segment_array("initial_customers") * scale)
    segment = np.repeat(np.arange(len(co.SEGMENTS)), counts).astype(np.int8)
    n = len(segment)
    created_at = timeline.start.astype("datetime64[s]") - rng.integers(
        60 * SECONDS_PER_DAY, 4 * 365 * SECONDS_PER_DAY, n) * SECOND
    accounts = new_accounts(rng, segment, created_at)
    start = np.full(n, timeline.start)
    monthly = rng.random(n) < co.segment_array("monthly_plan_share")[segment]
    return accounts, Terms(
        account=np.arange(n),
        segment=segment,
        currency=accounts.currency,
        start=start,
        end=np.where(monthly, NAT, start + rng.integers(15, 366, n) * DAY),
        arr=list_price(rng, segment, accounts.currency, start, fx),
        product=segment.astype(np.int8),
        deal=np.full(n, -1),
        first=np.zeros(n, bool),
    )


def shift_accounts(terms: Terms, offset: int) -> Terms:
    return replace(terms, account=terms.account + offset)


def arr_usd_by_month(terms: Terms, fx: FxRates, timeline: Timeline) -> np.ndarray:
    """ARR in USD on each month's last day (as_of for its month), at start-date rates."""
    arr_usd = fx.to_usd(terms.arr, terms.currency, terms.start)
    months = timeline.months
    measured = np.minimum(add_months(months, 1) - DAY, timeline.as_of)
    end = np.where(np.isnat(terms.end), np.datetime64("9999-12-31"), terms.end)
    return np.array([
        arr_usd[(terms.start <= day) & (day < end)].sum() for day in measured
    ])
