"""Stripe connector against localstripe (a fake, stateful Stripe server): plans, quantities,
monthly and yearly intervals, paid invoices, and pagination over more than one page. Credit
notes, which localstripe does not serve, come from a recorded (empty) list in front of it."""

import pyarrow.parquet as pq
import pytest

from orchestration.lib.connectors import CONNECTORS
from orchestration.lib.connectors.runner import pull
from orchestration.settings import Settings
from tests.support.localstripe import API_KEY, StripeSeeder, running_localstripe
from tests.support.recorded_http import serving

CUSTOMERS = 101  # one more than a page of 100


def seed(base_url: str) -> None:
    """Customer i pays, for account ACC-i: even i 2 x 50.00 a month, odd i 1 x 1,200.00 a year."""
    stripe = StripeSeeder(base_url)
    product = stripe.product("Platform")
    monthly = stripe.plan("platform-monthly", product, 5000, "usd", "month")
    yearly = stripe.plan("platform-yearly", product, 120000, "usd", "year")
    for i in range(CUSTOMERS):
        customer = stripe.paying_customer(f"ACC-{i:03d}")
        stripe.subscription(customer, monthly if i % 2 == 0 else yearly, 2 if i % 2 == 0 else 1)


@pytest.fixture(scope="module")
def stripe_server():
    with running_localstripe() as localstripe:
        seed(localstripe)
        empty = (200, {}, {"object": "list", "data": [], "has_more": False, "url": "/v1/credit_notes"})
        with serving({"/v1/credit_notes": [empty]}, fallback=localstripe) as (base_url, recorded):
            yield base_url, recorded


def test_pull_matches_what_the_server_holds(stripe_server, tmp_path):
    base_url, recorded = stripe_server
    settings = Settings.from_env(
        {
            "GTM_LANDING_DIR": str(tmp_path / "landing"),
            "GTM_WAREHOUSE_DIR": str(tmp_path / "wh"),
            "GTM_STRIPE_API_KEY": API_KEY,
            "GTM_STRIPE_API_BASE": base_url,
        }
    )
    report = pull(CONNECTORS["stripe"], settings)
    assert report.rows == {"billing/subscriptions": CUSTOMERS, "billing/invoice_lines": CUSTOMERS}
    subs = pq.read_table(next(p for p in report.files if p.parent.name == "subscriptions")).to_pylist()
    # by hand: 2 x 50.00 x 12 = 1,200.00 and 1 x 1,200.00 x 1 = 1,200.00: every subscription is 1,200.00
    assert {(s["arr"], s["currency"], s["product"], s["end_date"]) for s in subs} == {(1200.0, "USD", "Platform", None)}
    assert sorted(s["account_id"] for s in subs) == [f"ACC-{i:03d}" for i in range(CUSTOMERS)]
    lines = pq.read_table(next(p for p in report.files if p.parent.name == "invoice_lines")).to_pylist()
    # first invoices: 51 monthly of 100.00 and 50 yearly of 1,200.00
    assert round(sum(line["amount"] for line in lines), 2) == 51 * 100 + 50 * 1200
    assert {line["line_type"] for line in lines} == {"subscription"}
    assert all(line["service_end"] > line["service_start"] for line in lines)
    pages = [query for path, query, _ in recorded.requests if path == "/v1/subscriptions"]
    assert len(pages) == 2 and "starting_after" in pages[1]
    assert "customers by account-key rule: metadata 101, mapping file 0, stripe customer id 0" in report.notes
