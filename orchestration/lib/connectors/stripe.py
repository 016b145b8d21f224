"""Stripe -> billing/subscriptions and billing/invoice_lines.

Mapping rules (issue 14), each tested with hand-worked values in tests/test_pull_stripe*.py:
- account_id: the customer's metadata field GTM_STRIPE_ACCOUNT_KEY, else the mapping file
  GTM_STRIPE_ACCOUNT_MAPPING (stripe_customer_id,account_id), else the Stripe customer id
  (which the quality gate then blocks as an unknown account, naming it). The pull reports
  how many customers fell through to each rule.
- subscriptions: `start_date` is the trial's end when there was a trial; `end_date` (exclusive)
  when it ended or is scheduled to cancel; `arr` = sum over items of unit amount x quantity x
  billing periods per year (day 365, week 52, month 12, year 1, divided by interval_count),
  less recurring discounts (coupons `forever`, or `repeating` and not yet ended: percent off,
  or amount off per billing period), in major units (zero-decimal currencies are not divided
  by 100). Items carry a `price` or a legacy `plan`: both are read. Subscriptions never paid
  (`incomplete`, `incomplete_expired`), and ones cancelled before their trial ended, are left out.
- invoice lines of finalized invoices (open, paid, uncollectible; never draft or void):
  `invoice_date` = finalization date, service period from the line's period (none when it is
  empty), `amount` after the line's discounts, `line_type` subscription or one_time. Credit
  notes (issued, not void): one negative `credit` row per credit-note line, dated when issued.
Every pull reads everything again (a full extract; the contract's last-extract-wins applies it):
subscriptions change state long after they are created, which a `created` cursor would miss.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from orchestration.lib.connectors.base import Connector, Extraction, PullError
from orchestration.lib.connectors.stripe_client import StripeClient
from orchestration.lib.contract import INVOICE_LINES, SUBSCRIPTIONS
from orchestration.settings import Settings

SOURCE = "stripe"
# Stripe's zero-decimal currencies: amounts are already in major units.
ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
PERIODS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}
NOT_REVENUE = frozenset({"incomplete", "incomplete_expired"})
FINALIZED = frozenset({"open", "paid", "uncollectible"})


def major_units(amount: float, currency: str) -> float:
    return float(amount) if currency.upper() in ZERO_DECIMAL else amount / 100


def utc_date(epoch: int | None) -> dt.date | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC).date()


def _price(item: dict) -> dict:
    return item.get("price") or item.get("plan") or {}


def _recurrence(price: dict) -> tuple[str, int]:
    recurring = price.get("recurring") or price  # a price nests it; a plan has it at the top
    return recurring["interval"], int(recurring.get("interval_count") or 1)


def periods_per_year(price: dict) -> float:
    interval, count = _recurrence(price)
    return PERIODS_PER_YEAR[interval] / count


def item_annual_amount(item: dict) -> float:
    """Minor units (or zero-decimal units) a year: unit amount x quantity x periods per year."""
    price = _price(item)
    unit = price.get("unit_amount", price.get("amount"))
    if unit is None:
        unit = float(price.get("unit_amount_decimal") or 0)
    return unit * int(item.get("quantity") or 1) * periods_per_year(price)


def recurring_discounts(subscription: dict, now: dt.datetime) -> list[dict]:
    """The coupons that reduce every invoice: `forever`, or `repeating` and not yet ended."""
    found = [subscription.get("discount"), *(subscription.get("discounts") or [])]
    coupons = []
    for discount in found:
        if not isinstance(discount, dict):
            continue  # an id, not expanded: the legacy `discount` of the pinned API version has the coupon
        coupon = discount.get("coupon") or {}
        ended = discount.get("end") is not None and discount["end"] <= now.timestamp()
        if coupon.get("duration") == "forever" or (coupon.get("duration") == "repeating" and not ended):
            coupons.append(coupon)
    return coupons


def subscription_arr(subscription: dict, now: dt.datetime) -> float:
    """ARR in major units, after recurring discounts."""
    items = subscription["items"]["data"]
    annual = sum(item_annual_amount(item) for item in items)
    yearly_periods = periods_per_year(_price(items[0])) if items else 0
    for coupon in recurring_discounts(subscription, now):
        if coupon.get("percent_off"):
            annual *= 1 - float(coupon["percent_off"]) / 100
        elif coupon.get("amount_off"):
            annual -= coupon["amount_off"] * yearly_periods
    return round(major_units(max(annual, 0.0), _currency(subscription)), 2)


def _currency(subscription: dict) -> str:
    items = subscription["items"]["data"]
    return (subscription.get("currency") or (_price(items[0]).get("currency") if items else "") or "").upper()


def map_subscription(
    subscription: dict, account_of: Callable[[str], str], product_names: dict[str, str], now: dt.datetime
) -> dict | None:
    if subscription["status"] in NOT_REVENUE:
        return None
    start = utc_date(subscription.get("trial_end") or subscription.get("start_date"))
    ends_at = subscription.get("ended_at") or subscription.get("cancel_at")
    if ends_at is None and subscription.get("cancel_at_period_end"):
        ends_at = subscription.get("current_period_end")
    end = utc_date(ends_at)
    if end is not None and end <= start:
        return None  # cancelled before the trial ended: never paid
    names = []
    for item in subscription["items"]["data"]:
        product = _price(item).get("product")
        product_id = product.get("id") if isinstance(product, dict) else product
        name = product.get("name") if isinstance(product, dict) else product_names.get(product_id, product_id)
        if name and name not in names:
            names.append(name)
    return {
        "subscription_id": subscription["id"],
        "account_id": account_of(subscription["customer"]),
        "product": ", ".join(names) or None,
        "start_date": start,
        "end_date": end,
        "arr": subscription_arr(subscription, now),
        "currency": _currency(subscription),
        "opportunity_id": (subscription.get("metadata") or {}).get("opportunity_id"),
    }


def _line_subscription(line: dict) -> str | None:
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or {}
    return line.get("subscription") or details.get("subscription")


def map_invoice_line(invoice: dict, line: dict, account_id: str) -> dict:
    currency = (line.get("currency") or invoice["currency"]).upper()
    discounts = sum(d.get("amount", 0) for d in line.get("discount_amounts") or [])
    period = line.get("period") or {}
    start, end = utc_date(period.get("start")), utc_date(period.get("end"))
    if start is None or end is None or end <= start:
        start = end = None
    subscription_id = _line_subscription(line)
    is_subscription = (
        line.get("type") == "subscription" or (line.get("parent") or {}).get("type") == "subscription_item_details"
    )
    finalized = (invoice.get("status_transitions") or {}).get("finalized_at") or invoice["created"]
    return {
        "invoice_line_id": line["id"],
        "invoice_id": invoice["id"],
        "account_id": account_id,
        "subscription_id": subscription_id,
        "invoice_date": utc_date(finalized),
        "service_start": start,
        "service_end": end,
        "amount": round(major_units(line["amount"] - discounts, currency), 2),
        "currency": currency,
        "line_type": "subscription" if is_subscription else "one_time",
    }


def map_credit_note_line(note: dict, line: dict, account_id: str, subscription_of_line: dict[str, str]) -> dict:
    currency = note["currency"].upper()
    discounts = sum(d.get("amount", 0) for d in line.get("discount_amounts") or [])
    return {
        "invoice_line_id": line["id"],
        "invoice_id": note["id"],
        "account_id": account_id,
        "subscription_id": subscription_of_line.get(line.get("invoice_line_item") or ""),
        "invoice_date": utc_date(note.get("effective_at") or note["created"]),
        "service_start": None,
        "service_end": None,
        "amount": -round(major_units(line["amount"] - discounts, currency), 2),
        "currency": currency,
        "line_type": "credit",
    }


class AccountKeys:
    """Customer id -> CRM account id by the three rules, counting customers per rule."""

    RULES = ("metadata", "mapping file", "stripe customer id")

    def __init__(self, metadata_key: str, mapping: dict[str, str]):
        self.metadata_key, self.mapping = metadata_key, mapping
        self.metadata: dict[str, dict] = {}
        self.rule_of: dict[str, str] = {}

    def __call__(self, customer_id: str) -> str:
        value = (self.metadata.get(customer_id) or {}).get(self.metadata_key)
        if value:
            rule, account = "metadata", str(value)
        elif customer_id in self.mapping:
            rule, account = "mapping file", self.mapping[customer_id]
        else:
            rule, account = "stripe customer id", customer_id
        self.rule_of[customer_id] = rule
        return account

    def note(self) -> str:
        counts = Counter(self.rule_of.values())
        return "customers by account-key rule: " + ", ".join(f"{rule} {counts[rule]}" for rule in self.RULES)


def read_customer_mapping(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"stripe_customer_id", "account_id"} <= set(reader.fieldnames or []):
            raise PullError(
                SOURCE, f"{path} (GTM_STRIPE_ACCOUNT_MAPPING)", "needs the columns stripe_customer_id,account_id"
            )
        return {row["stripe_customer_id"].strip(): row["account_id"].strip() for row in reader}


def _invoice_lines(client: StripeClient, invoice: dict) -> Iterator[dict]:
    lines = invoice.get("lines") or {}
    yield from lines.get("data", [])
    if lines.get("has_more") and lines.get("data"):
        params = {"starting_after": lines["data"][-1]["id"]}
        for page in client.list(f"/v1/invoices/{invoice['id']}/lines", params):
            yield from page


def _extraction(settings: Settings, client: StripeClient | None = None, now: dt.datetime | None = None) -> Extraction:
    import dlt

    client = client or StripeClient(settings.stripe_api_base, settings.stripe_api_key or "")
    accounts = AccountKeys(settings.stripe_account_key, read_customer_mapping(settings.stripe_account_mapping))
    extraction = Extraction(resources=[])
    lookups: dict[str, dict] = {}
    subscription_of_line: dict[str, str] = {}

    def load_lookups() -> None:
        if not lookups:
            lookups["products"] = {p["id"]: p.get("name") for page in client.list("/v1/products") for p in page}
            for page in client.list("/v1/customers"):
                accounts.metadata.update({c["id"]: c.get("metadata") or {} for c in page})
            lookups["done"] = {}

    @dlt.resource(name=SUBSCRIPTIONS.qualified_name, max_table_nesting=0)
    def subscriptions():
        load_lookups()
        moment = now or dt.datetime.now(dt.UTC)
        left_out = 0
        for page in client.list("/v1/subscriptions", {"status": "all"}):
            rows = [map_subscription(s, accounts, lookups["products"], moment) for s in page]
            left_out += sum(r is None for r in rows)
            yield [r for r in rows if r is not None]
        extraction.notes.append(f"{left_out} subscription(s) never paid (incomplete, or cancelled in trial) left out")

    @dlt.resource(name=INVOICE_LINES.qualified_name, max_table_nesting=0)
    def invoice_lines():
        load_lookups()
        skipped = 0
        for page in client.list("/v1/invoices"):
            rows = []
            for invoice in page:
                if invoice["status"] not in FINALIZED:
                    skipped += 1
                    continue
                account = accounts(invoice["customer"])
                for line in _invoice_lines(client, invoice):
                    row = map_invoice_line(invoice, line, account)
                    if row["subscription_id"]:
                        subscription_of_line[line["id"]] = row["subscription_id"]
                    rows.append(row)
            yield rows
        extraction.notes.append(f"{skipped} draft or void invoice(s) left out")
        for page in client.list("/v1/credit_notes"):
            yield [
                map_credit_note_line(note, line, accounts(note["customer"]), subscription_of_line)
                for note in page
                if note.get("status") != "void"
                for line in (note.get("lines") or {}).get("data", [])
            ]

    extraction.resources = [subscriptions(), invoice_lines()]
    extraction.summaries.append(accounts.note)
    return extraction


STRIPE = Connector(
    name=SOURCE,
    description="billing/subscriptions and billing/invoice_lines from the Stripe API",
    entities=(SUBSCRIPTIONS, INVOICE_LINES),
    required_settings=("stripe_api_key",),
    extraction=_extraction,
    secrets=lambda settings: (settings.stripe_api_key or "",),
)
