"""How a deal looked in the CRM before its final state: the weekly opportunities extracts.

The simulation fixes each deal's final close date, outcome and amount. While a deal is
open, the CRM showed something else, in proportions a B2B CRM shows:

- slips: about 40% of deals had their expected close date pushed out once or twice,
  each push a few days after the expected date passed (so some sit overdue for days);
- pulled in: about 10% were expected to close later than they did;
- amount changes: about 35% had a different amount until some point of their cycle;
- reopened: about 3% of deals with a cycle of five weeks or more were marked Closed
  Lost for two to six weeks, then reopened (and closed as simulated);
- currency corrected: about 6% of the deals in euro or pound were first entered in the
  CRM's default currency, USD, with the same figure, and corrected some way into
  their cycle (about 2% of all deals).

`DealHistory.extract(day, ...)` gives the extract taken on `day`; on the as-of date it
shows every closed deal exactly as the final state does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.opportunities import Deals, StageEvents, extract_columns
from orchestration.demo_data.timeline import DAY, date_of

SLIP_SHARES = (0.60, 0.28, 0.12)  # no slip, one, two
SLIP_GAP_DAYS = (10, 46)  # each push moves the expected close this many days (uniform)
OVERDUE_DAYS = (0, 11)  # days an expected close may pass before it is pushed
PULLED_IN_SHARE = 0.10
PULLED_IN_DAYS = (14, 61)
AMOUNT_CHANGE_SHARE = 0.35
AMOUNT_CHANGE_RANGE = (0.7, 1.3)
REOPEN_SHARE = 0.03
REOPEN_MIN_CYCLE_DAYS = 35
REOPEN_DAYS = (14, 43)
CURRENCY_FIX_SHARE = 0.06  # of the deals not in USD
DEFAULT_CURRENCY = co.USD
EXTRACT_EVERY_DAYS = 7
EXTRACT_WEEKS = 52  # the weekly extracts before the as-of date's


@dataclass(frozen=True)
class DealHistory:
    """Per deal: the expected close dates it showed and when, its earlier amount, and a
    false loss (reopened) window. Dates are datetime64[D]."""

    first_expected: np.ndarray
    first_until: np.ndarray  # last day the first expected close was shown
    second_expected: np.ndarray
    second_until: np.ndarray
    earlier_amount: np.ndarray
    amount_until: np.ndarray  # last day the earlier amount was shown
    lost_from: np.ndarray  # first day of the false loss (NaT: none)
    lost_until: np.ndarray  # last day of it
    earlier_currency: np.ndarray  # currency code shown until currency_until
    currency_until: np.ndarray


def simulate_history(rng: np.random.Generator, deals: Deals) -> DealHistory:
    n = len(deals)
    created = date_of(deals.created_at)
    close = deals.close_date
    slips = rng.choice(3, n, p=SLIP_SHARES)
    gap1 = rng.integers(*SLIP_GAP_DAYS, n) * DAY
    gap2 = rng.integers(*SLIP_GAP_DAYS, n) * DAY
    second = np.where(slips == 2, close - gap2, close)
    first = np.where(slips >= 1, second - gap1, close)
    pulled = (slips == 0) & (rng.random(n) < PULLED_IN_SHARE)
    first = np.where(pulled, close + rng.integers(*PULLED_IN_DAYS, n) * DAY, first)
    # an expected date on or before creation is no history: fall back to the final date
    first = np.where(first > created, first, close)
    second = np.where(second > created, second, close)
    first_until = np.where(pulled, close - DAY, first + rng.integers(*OVERDUE_DAYS, n) * DAY)
    second_until = np.maximum(second + rng.integers(*OVERDUE_DAYS, n) * DAY, first_until)
    cycle = (close - created).astype(np.int64)
    changed = rng.random(n) < AMOUNT_CHANGE_SHARE
    earlier = np.round(deals.amount * rng.uniform(*AMOUNT_CHANGE_RANGE, n), -2)
    amount_until = created + np.floor(cycle * rng.uniform(0.2, 0.9, n)).astype(np.int64) * DAY
    reopen = (cycle >= REOPEN_MIN_CYCLE_DAYS) & (rng.random(n) < REOPEN_SHARE)
    lost_from = created + np.floor(cycle * rng.uniform(0.2, 0.5, n)).astype(np.int64) * DAY
    lost_until = np.minimum(lost_from + rng.integers(*REOPEN_DAYS, n) * DAY, close - 2 * DAY)
    reopen &= lost_until >= lost_from
    # drawn last: the draws above stay those of the history before currency fixes
    fixed = (deals.currency != DEFAULT_CURRENCY) & (rng.random(n) < CURRENCY_FIX_SHARE)
    currency_until = created + np.floor(cycle * rng.uniform(0.1, 0.7, n)).astype(np.int64) * DAY
    nat = np.datetime64("NaT", "D")
    return DealHistory(
        first_expected=first,
        first_until=first_until,
        second_expected=second,
        second_until=second_until,
        earlier_amount=np.where(changed, earlier, deals.amount),
        amount_until=np.where(changed, amount_until, created - DAY),
        lost_from=np.where(reopen, lost_from, nat),
        lost_until=np.where(reopen, lost_until, nat),
        earlier_currency=np.where(fixed, DEFAULT_CURRENCY, deals.currency),
        currency_until=np.where(fixed, currency_until, created - DAY),
    )


def history_extract(
    history: DealHistory,
    rng: np.random.Generator,
    deals: Deals,
    events: StageEvents,
    day: np.datetime64,
    ids: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The crm/opportunities extract taken on `day`: every deal created by then, closed
    ones as they closed, open ones as the CRM showed them on that day."""
    columns = extract_columns(rng, deals, events, day, ids)
    exists = deals.created_at < (day + DAY).astype("datetime64[s]")
    h = _subset(history, exists)
    closed = columns["is_closed"]
    open_ = ~closed
    expected = np.where(day <= h.first_until, h.first_expected,
                        np.where(day <= h.second_until, h.second_expected, columns["close_date"]))
    close_date = np.where(open_, expected, columns["close_date"])
    amount = np.where(open_ & (day <= h.amount_until), h.earlier_amount, columns["amount"])
    earlier_currency = np.array(co.CURRENCIES, dtype=object)[h.earlier_currency]
    currency = np.where(open_ & (day <= h.currency_until), earlier_currency, columns["currency"])
    falsely_lost = open_ & (h.lost_from <= day) & (day <= h.lost_until)
    stage = np.where(falsely_lost, co.STAGE_NAMES[co.CLOSED_LOST], columns["stage"])
    return {
        **columns,
        "close_date": np.where(falsely_lost, h.lost_from, close_date),
        "amount": amount,
        "currency": currency,
        "stage": stage,
        "is_closed": closed | falsely_lost,
        "loss_reason": np.where(falsely_lost, co.LOSS_REASONS[0], columns["loss_reason"]),
    }


def _subset(history: DealHistory, keep: np.ndarray) -> DealHistory:
    return DealHistory(**{name: getattr(history, name)[keep] for name in DealHistory.__dataclass_fields__})


def extract_days(as_of: np.datetime64, first_day: np.datetime64) -> list[np.datetime64]:
    """The weekly extract days of the last twelve months, oldest first, ending with as_of."""
    days = [as_of - k * EXTRACT_EVERY_DAYS * DAY for k in range(EXTRACT_WEEKS, -1, -1)]
    return [d for d in days if d >= first_day]
