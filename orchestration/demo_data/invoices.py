"""Invoice lines: subscription billing (annual, quarterly or monthly, in advance, each
line paying for its service period), onboarding services and one-time fees for new
customers, and occasional credit notes. Nothing is invoiced after as_of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.columnar import Columnar
from orchestration.demo_data.ids import format_ids
from orchestration.demo_data.subscriptions import Terms
from orchestration.demo_data.timeline import DAY, Timeline, add_months, months_between

NAT = np.datetime64("NaT", "D")
LINE_TYPES = ("subscription", "services", "one_time", "credit")
SUBSCRIPTION, SERVICES, ONE_TIME, CREDIT = range(4)


@dataclass(frozen=True)
class Lines(Columnar):
    account: np.ndarray
    subscription: np.ndarray  # -1: none
    invoice_date: np.ndarray  # [D]
    service_start: np.ndarray  # [D], NaT: none
    service_end: np.ndarray
    amount: np.ndarray
    currency: np.ndarray
    line_type: np.ndarray



def invoice_lines(rng: np.random.Generator, timeline: Timeline, terms: Terms) -> Lines:
    billing = _subscription_lines(rng, timeline, terms)
    lines = Lines.concat(
        billing,
        _services_lines(rng, terms),
        _one_time_lines(rng, terms),
        _credit_lines(rng, billing),
    )
    return lines.take(lines.invoice_date <= timeline.as_of)


def _billing_months(rng: np.random.Generator, terms: Terms) -> np.ndarray:
    """Months per billing period: monthly plans monthly; annual terms mostly yearly."""
    u = rng.random(len(terms))
    annual = np.select(
        [u < co.ANNUAL_TERMS_BILLED_MONTHLY,
         u < co.ANNUAL_TERMS_BILLED_MONTHLY + co.ANNUAL_TERMS_BILLED_QUARTERLY],
        [1, 3], 12,
    )
    return np.where(np.isnat(terms.end), 1, annual)


def _subscription_lines(rng: np.random.Generator, timeline: Timeline, terms: Terms) -> Lines:
    """One line per billing period started by as_of, invoiced on the period's first day."""
    every = _billing_months(rng, terms)
    last_start = np.where(np.isnat(terms.end), timeline.as_of,
                          np.minimum(terms.end - DAY, timeline.as_of))
    billed = terms.start <= last_start
    periods = np.where(billed, months_between(terms.start, last_start) // every + 1, 0)
    term = np.repeat(np.arange(len(terms)), periods)
    k = np.arange(len(term)) - np.repeat(np.cumsum(periods) - periods, periods)
    start = add_months(terms.start[term], every[term] * k)
    keep = start <= last_start[term]
    term, k, start = term[keep], k[keep], start[keep]
    full_end = add_months(terms.start[term], every[term] * (k + 1))
    end = np.where(np.isnat(terms.end[term]), full_end, np.minimum(full_end, terms.end[term]))
    share = ((end - start) / DAY) / ((full_end - start) / DAY)
    amount = np.round(terms.arr[term] * every[term] / 12 * share, 2)
    return _lines(terms, term, start, start, end, amount, SUBSCRIPTION)


def _services_lines(rng: np.random.Generator, terms: Terms) -> Lines:
    """Onboarding for part of the new customers, mostly over a 60-90 day period."""
    share = co.segment_array("services_share")[terms.segment]
    buys = terms.first & (rng.random(len(terms)) < share)
    term = np.flatnonzero(buys)
    start = terms.start[term]
    has_period = rng.random(len(term)) < co.SERVICE_PERIOD_SHARE
    end = np.where(has_period, start + rng.choice([60, 90], len(term)) * DAY, NAT)
    amount = np.maximum(np.round(terms.arr[term] * rng.uniform(0.08, 0.25, len(term)), -2), 500.0)
    return _lines(terms, term, start, np.where(has_period, start, NAT), end, amount, SERVICES,
                  linked=rng.random(len(term)) < 0.5)


def _one_time_lines(rng: np.random.Generator, terms: Terms) -> Lines:
    """Setup fees and training, without a service period (a few cover a month)."""
    term = np.flatnonzero(terms.first & (rng.random(len(terms)) < co.ONE_TIME_SHARE))
    start = terms.start[term]
    has_period = rng.random(len(term)) < 0.2
    amount = np.round(rng.uniform(500, 5_000, len(term)) * (1 + 2 * terms.segment[term]), -1)
    return _lines(terms, term, start, np.where(has_period, start, NAT),
                  np.where(has_period, start + 30 * DAY, NAT), amount, ONE_TIME,
                  linked=np.zeros(len(term), bool))


def _credit_lines(rng: np.random.Generator, billing: Lines) -> Lines:
    """Credit notes for part of a billed period, a few weeks after the invoice."""
    credited = billing.take(rng.random(len(billing)) < co.CREDIT_SHARE)
    n = len(credited)
    keeps_period = rng.random(n) < 0.6
    return Lines(
        account=credited.account,
        subscription=credited.subscription,
        invoice_date=credited.invoice_date + rng.integers(7, 46, n) * DAY,
        service_start=np.where(keeps_period, credited.service_start, NAT),
        service_end=np.where(keeps_period, credited.service_end, NAT),
        amount=-np.round(credited.amount * rng.uniform(0.1, 1.0, n), 2),
        currency=credited.currency,
        line_type=np.full(n, CREDIT, dtype=np.int8),
    )


def _lines(
    terms: Terms,
    term: np.ndarray,
    invoice_date: np.ndarray,
    service_start: np.ndarray,
    service_end: np.ndarray,
    amount: np.ndarray,
    line_type: int,
    linked: np.ndarray | None = None,
) -> Lines:
    subscription = term if linked is None else np.where(linked, term, -1)
    return Lines(
        account=terms.account[term],
        subscription=subscription,
        invoice_date=invoice_date,
        service_start=service_start,
        service_end=service_end,
        amount=amount,
        currency=terms.currency[term],
        line_type=np.full(len(term), line_type, dtype=np.int8),
    )


def invoice_numbers(lines: Lines) -> np.ndarray:
    """Invoice number of each line (1, 2, ... by date): one invoice per account and day,
    and one credit note per credit line."""
    credit = lines.line_type == CREDIT
    keys = (np.where(credit, np.cumsum(credit), 0), lines.account, lines.invoice_date)
    order = np.lexsort(keys)
    changes = np.zeros(len(order), bool)
    for key in keys:
        ordered = key[order]
        changes[1:] |= ordered[1:] != ordered[:-1]
    changes[:1] = True
    numbers = np.empty(len(order), dtype=np.int64)
    numbers[order] = np.cumsum(changes)
    return numbers


def line_columns(lines: Lines, ids: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The billing/invoice_lines extract, in invoice order.

    `ids` per line: account_id, subscription_id (None where absent).
    """
    invoice = invoice_numbers(lines)
    order = np.lexsort((lines.line_type, invoice))
    return {
        "invoice_line_id": format_ids("IL-", np.arange(1, len(lines) + 1)),
        "invoice_id": format_ids("INV-", invoice[order]),
        "account_id": ids["account_id"][order],
        "subscription_id": ids["subscription_id"][order],
        "invoice_date": lines.invoice_date[order],
        "service_start": lines.service_start[order],
        "service_end": lines.service_end[order],
        "amount": lines.amount[order],
        "currency": np.array(co.CURRENCIES, dtype=object)[lines.currency[order]],
        "line_type": np.array(LINE_TYPES, dtype=object)[lines.line_type[order]],
    }
