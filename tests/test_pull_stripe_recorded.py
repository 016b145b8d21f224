"""Stripe mapping rules on recorded responses that follow Stripe's documented objects (API
version 2024-06-20) for what localstripe lacks: prices, trials, discounts, zero-decimal
currencies, credit notes, cancellations, and 429 / 401 / 500 answers. Every expected value
is worked out by hand in the comments."""

import datetime as dt

import pyarrow.parquet as pq
import pytest

from orchestration.lib.connectors import CONNECTORS, PullError
from orchestration.lib.connectors.runner import pull
from orchestration.lib.connectors.stripe_client import StripeClient
from orchestration.settings import Settings
from tests.support.recorded_http import serving

KEY = "sk_test_recorded_1234567890"
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def ts(day: str, hour: int = 0) -> int:
    return int(dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC).timestamp())


def page(objects, has_more=False, url="/v1/x"):
    return (200, {}, {"object": "list", "url": url, "has_more": has_more, "data": objects})


def price(pid, amount, currency, interval, count=1, product="prod_core"):
    return {
        "id": pid,
        "object": "price",
        "currency": currency,
        "unit_amount": amount,
        "product": product,
        "recurring": {"interval": interval, "interval_count": count},
    }


def item(p, quantity=1):
    return {"id": f"si_{p['id']}", "object": "subscription_item", "price": p, "quantity": quantity}


def sub(sid, customer, items, status="active", **fields):
    base = {
        "id": sid,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": None,
        "start_date": ts("2026-01-15"),
        "trial_end": None,
        "ended_at": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "current_period_end": ts("2026-12-15"),
        "discount": None,
        "metadata": {},
        "items": {"object": "list", "data": items, "has_more": False},
    }
    return {**base, **fields}


def coupon(duration, percent_off=None, amount_off=None, end=None):
    return {
        "object": "discount",
        "end": end,
        "coupon": {"id": f"co_{duration}", "duration": duration, "percent_off": percent_off, "amount_off": amount_off},
    }


SUB_A = sub(  # 2 x 50.00 monthly + 300.00 yearly = 1,200 + 300 = 1,500; 20% forever -> 1,200.00
    "sub_A",
    "cus_A",
    [
        item(price("price_m", 5000, "usd", "month"), 2),
        item(price("price_y", 30000, "usd", "year", product="prod_addon")),
    ],
    currency="usd",
    trial_end=ts("2026-02-01"),
    cancel_at=ts("2027-02-01"),
    discount=coupon("forever", percent_off=20),
    metadata={"opportunity_id": "OPP-9"},
)
SUB_B = (
    sub(  # JPY is zero-decimal: 10,000 a quarter x 4 = 40,000; 1,000 off each quarter, still running: 40,000 - 4,000
        "sub_B",
        "cus_B",
        [item(price("price_q", 10000, "jpy", "month", 3))],
        currency="jpy",
        discount=coupon("repeating", amount_off=1000, end=ts("2027-06-01")),
    )
)
LEGACY_PLAN = {
    "id": "plan_w",
    "object": "plan",
    "amount": 700,
    "currency": "usd",
    "interval": "week",
    "interval_count": 1,
    "product": "prod_core",
}
SUB_C = sub(  # legacy plan, 7.00 a week x 52 = 364.00; a `once` coupon does not recur
    "sub_C",
    "cus_C",
    [{"id": "si_w", "object": "subscription_item", "plan": LEGACY_PLAN, "quantity": 1}],
    discount=coupon("once", percent_off=50),
)
SUB_D = sub("sub_D", "cus_A", [item(price("price_m", 5000, "usd", "month"))], status="incomplete")  # never paid
SUB_E = sub(  # 1.00 a day x 3 x 365 = 1,095.00; its repeating coupon ended before now; ended 2026-10-01
    "sub_E",
    "cus_A",
    [item(price("price_d", 100, "eur", "day"), 3)],
    status="canceled",
    currency="eur",
    ended_at=ts("2026-10-01", 13),
    discount=coupon("repeating", percent_off=50, end=ts("2026-09-01")),
)
SUB_F = sub(  # cancelled during its trial: never paid
    "sub_F",
    "cus_C",
    [item(price("price_m", 5000, "usd", "month"))],
    status="canceled",
    trial_end=ts("2026-03-10"),
    ended_at=ts("2026-03-05"),
)
SUB_G = sub(  # cancels at period end: end date is the current period's end
    "sub_G",
    "cus_B",
    [item(price("price_y", 30000, "usd", "year"))],
    cancel_at_period_end=True,
    current_period_end=ts("2027-01-15"),
)


def invoice(iid, customer, status, currency, lines, has_more=False, finalized=None):
    return {
        "id": iid,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "currency": currency,
        "created": ts("2026-01-31"),
        "status_transitions": {"finalized_at": finalized},
        "lines": {"object": "list", "data": lines, "has_more": has_more, "url": f"/v1/invoices/{iid}/lines"},
    }


LINE_1 = {
    "id": "il_1",
    "amount": 150000,
    "currency": "usd",
    "type": "subscription",
    "subscription": "sub_A",
    "period": {"start": ts("2026-02-01"), "end": ts("2026-03-01")},
    "discount_amounts": [{"amount": 30000}],
}
LINE_2 = {
    "id": "il_2",
    "amount": 25000,
    "currency": "usd",
    "type": "invoiceitem",
    "subscription": None,
    "period": {"start": ts("2026-02-01", 5), "end": ts("2026-02-01", 5)},
    "discount_amounts": [],
}
LINE_JPY = {
    "id": "il_3",
    "amount": 10000,
    "currency": "jpy",
    "discount_amounts": [{"amount": 1000}],
    "parent": {"type": "subscription_item_details", "subscription_item_details": {"subscription": "sub_B"}},
    "period": {"start": ts("2026-04-01"), "end": ts("2026-07-01")},
}
LINE_E1 = {
    "id": "il_4",
    "amount": 9300,
    "currency": "eur",
    "type": "subscription",
    "subscription": "sub_E",
    "period": {"start": ts("2026-06-01"), "end": ts("2026-07-02")},
}
LINE_E2 = {**LINE_E1, "id": "il_5", "amount": 9000, "period": {"start": ts("2026-07-02"), "end": ts("2026-08-01")}}

INVOICES = [
    invoice("in_1", "cus_A", "paid", "usd", [LINE_1, LINE_2], finalized=ts("2026-02-01", 5)),
    invoice("in_2", "cus_A", "draft", "usd", [LINE_1]),
    invoice("in_3", "cus_A", "void", "usd", [LINE_2], finalized=ts("2026-02-03")),
    invoice("in_4", "cus_B", "open", "jpy", [LINE_JPY], finalized=ts("2026-04-01", 23)),
    invoice("in_5", "cus_C", "uncollectible", "eur", [LINE_E1], has_more=True, finalized=ts("2026-06-01")),
]
CREDIT_NOTES = [
    {
        "id": "cn_1",
        "object": "credit_note",
        "customer": "cus_A",
        "invoice": "in_1",
        "currency": "usd",
        "status": "issued",
        "created": ts("2026-02-10"),
        "effective_at": ts("2026-02-10"),
        "lines": {"data": [{"id": "cnli_1", "amount": 10000, "invoice_line_item": "il_1", "discount_amounts": []}]},
    },
    {
        "id": "cn_2",
        "object": "credit_note",
        "customer": "cus_A",
        "invoice": "in_1",
        "currency": "usd",
        "status": "void",
        "created": ts("2026-02-11"),
        "lines": {"data": [{"id": "cnli_2", "amount": 5000, "invoice_line_item": "il_2"}]},
    },
]
CUSTOMERS = [
    {"id": "cus_A", "object": "customer", "metadata": {"crm_account_id": "ACC-1"}},
    {"id": "cus_B", "object": "customer", "metadata": {}},
    {"id": "cus_C", "object": "customer", "metadata": {"crm_account_id": ""}},
]
PRODUCTS = [
    {"id": "prod_core", "object": "product", "name": "Core"},
    {"id": "prod_addon", "object": "product", "name": "Add-on"},
]


def routes():
    return {
        "/v1/products": [page(PRODUCTS)],
        "/v1/customers": [page(CUSTOMERS)],
        # two pages: the second must be asked for with starting_after = the first page's last id
        "/v1/subscriptions": [page([SUB_A, SUB_B, SUB_C], has_more=True), page([SUB_D, SUB_E, SUB_F, SUB_G])],
        "/v1/invoices": [page(INVOICES)],
        "/v1/invoices/in_5/lines": [page([LINE_E2])],
        "/v1/credit_notes": [page(CREDIT_NOTES)],
    }


@pytest.fixture()
def settings(tmp_path):
    mapping = tmp_path / "customers.csv"
    mapping.write_text("stripe_customer_id,account_id\ncus_B,ACC-2\n")

    def make(base_url):
        return Settings.from_env(
            {
                "GTM_LANDING_DIR": str(tmp_path / "landing"),
                "GTM_WAREHOUSE_DIR": str(tmp_path / "wh"),
                "GTM_STRIPE_API_KEY": KEY,
                "GTM_STRIPE_API_BASE": base_url,
                "GTM_STRIPE_ACCOUNT_MAPPING": str(mapping),
            }
        )

    return make


def _pull(settings, base_url, sleeps=None):
    from orchestration.lib.connectors import stripe

    connector = CONNECTORS["stripe"]
    client = StripeClient(base_url, KEY, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    recorded = type(connector)(**{**connector.__dict__, "extraction": lambda s: stripe._extraction(s, client, NOW)})
    return pull(recorded, settings(base_url), now=NOW)


def _landed(report, folder):
    [path] = [p for p in report.files if p.parent.name == folder]
    return {row[next(iter(row))]: row for row in pq.read_table(path).to_pylist()}


def test_subscriptions_follow_every_mapping_rule(settings):
    with serving(routes()) as (base_url, server):
        report = _pull(settings, base_url)
    subs = _landed(report, "subscriptions")
    assert set(subs) == {"sub_A", "sub_B", "sub_C", "sub_E", "sub_G"}  # D incomplete, F cancelled in trial
    a = subs["sub_A"]
    assert (a["account_id"], a["product"], a["arr"], a["currency"], a["opportunity_id"]) == (
        "ACC-1",
        "Core, Add-on",
        1200.0,
        "USD",
        "OPP-9",
    )
    assert (a["start_date"], a["end_date"]) == (dt.date(2026, 2, 1), dt.date(2027, 2, 1))  # trial end; scheduled cancel
    assert (subs["sub_B"]["arr"], subs["sub_B"]["currency"], subs["sub_B"]["account_id"]) == (36000.0, "JPY", "ACC-2")
    assert (subs["sub_C"]["arr"], subs["sub_C"]["account_id"], subs["sub_C"]["product"]) == (364.0, "cus_C", "Core")
    assert (subs["sub_E"]["arr"], subs["sub_E"]["end_date"], subs["sub_E"]["start_date"]) == (
        1095.0,
        dt.date(2026, 10, 1),
        dt.date(2026, 1, 15),
    )
    assert subs["sub_G"]["end_date"] == dt.date(2027, 1, 15)
    second = [q for path, q, _ in server.requests if path == "/v1/subscriptions"][1]
    assert second["starting_after"] == ["sub_C"] and second["status"] == ["all"] and second["limit"] == ["100"]
    assert all(h.get("Stripe-Version") == "2024-06-20" for _, _, h in server.requests)
    assert "customers by account-key rule: metadata 1, mapping file 1, stripe customer id 1" in report.notes
    assert "2 subscription(s) never paid (incomplete, or cancelled in trial) left out" in report.notes


def test_invoice_lines_and_credit_notes_follow_every_mapping_rule(settings):
    with serving(routes()) as (base_url, _):
        report = _pull(settings, base_url)
    lines = _landed(report, "invoice_lines")
    assert set(lines) == {
        "il_1",
        "il_2",
        "il_3",
        "il_4",
        "il_5",
        "cnli_1",
    }  # draft in_2, void in_3 and void cn_2 left out
    assert lines["il_1"] == {
        "invoice_line_id": "il_1",
        "invoice_id": "in_1",
        "account_id": "ACC-1",
        "subscription_id": "sub_A",
        "invoice_date": dt.date(2026, 2, 1),
        "service_start": dt.date(2026, 2, 1),
        "service_end": dt.date(2026, 3, 1),
        "amount": 1200.0,
        "currency": "USD",
        "line_type": "subscription",  # 1,500.00 less its 300.00 discount
    }
    assert (lines["il_2"]["amount"], lines["il_2"]["line_type"], lines["il_2"]["service_start"]) == (
        250.0,
        "one_time",
        None,
    )
    jpy = lines["il_3"]  # 10,000 - 1,000 yen, not divided by 100; subscription from the line's parent
    assert (jpy["amount"], jpy["currency"], jpy["subscription_id"], jpy["line_type"], jpy["invoice_date"]) == (
        9000.0,
        "JPY",
        "sub_B",
        "subscription",
        dt.date(2026, 4, 1),
    )
    assert (lines["il_5"]["amount"], lines["il_5"]["service_start"]) == (
        90.0,
        dt.date(2026, 7, 2),
    )  # from the lines' second page
    credit = lines["cnli_1"]
    assert (
        credit["amount"],
        credit["line_type"],
        credit["invoice_id"],
        credit["subscription_id"],
        credit["invoice_date"],
    ) == (-100.0, "credit", "cn_1", "sub_A", dt.date(2026, 2, 10))


def test_retries_honour_retry_after_then_succeed(settings):
    answers = routes()
    answers["/v1/products"] = [(429, {"Retry-After": "3"}, {"error": {"message": "Too many requests"}}), page(PRODUCTS)]
    sleeps = []
    with serving(answers) as (base_url, _):
        report = _pull(settings, base_url, sleeps)
    assert sleeps == [3.0]
    assert report.rows == {"billing/subscriptions": 5, "billing/invoice_lines": 6}


def test_a_server_error_that_does_not_clear_fails_naming_endpoint_and_status(settings):
    answers = routes()
    answers["/v1/invoices"] = [(500, {}, {"error": {"message": "An unknown error occurred"}})]
    sleeps = []
    with serving(answers) as (base_url, _), pytest.raises(PullError) as failed:
        _pull(settings, base_url, sleeps)
    assert (
        str(failed.value)
        == "pull of stripe failed at GET /v1/invoices: HTTP 500 after 5 tries: An unknown error occurred"
    )
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # backoff without Retry-After
    assert not (settings(base_url).landing_dir / "billing").exists()  # nothing landed, not even the subscriptions


def test_bad_credentials_fail_at_once_without_showing_the_key(settings):
    answers = {
        "/v1/products": [
            (401, {}, {"error": {"message": f"Invalid API Key provided: {KEY}", "type": "invalid_request_error"}})
        ]
    }
    sleeps = []
    with serving(answers) as (base_url, _), pytest.raises(PullError) as failed:
        _pull(settings, base_url, sleeps)
    assert (
        str(failed.value)
        == "pull of stripe failed at GET /v1/products: HTTP 401: Invalid API Key provided: *** (check GTM_STRIPE_API_KEY)"
    )
    assert sleeps == []
