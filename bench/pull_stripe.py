"""How long does `gtm pull stripe` take for 10,000 subscriptions and 100,000 invoice lines?

Runs the real Stripe connector (HTTP client, pagination, mapping, dlt pipeline, Parquet
extracts) against a local server that holds that many Stripe objects in memory and answers
Stripe's list endpoints (100 per page, `starting_after`/`has_more`), then prints the figures.
localstripe itself cannot hold that many: creating objects in it slows down with every one
(200 subscriptions took 36 s to create; 1,000 had not finished after 10 minutes), so
`--localstripe N` times a pull from localstripe only for a small N created through its API.

    .venv/bin/python bench/pull_stripe.py                   # 10,000 subscriptions, 100,000 lines
    .venv/bin/python bench/pull_stripe.py --smoke           # 200 and 2,000: does it work?
    .venv/bin/python bench/pull_stripe.py --localstripe 200

No figure is asserted anywhere: timings on a shared machine are not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.lib.connectors import CONNECTORS
from orchestration.lib.connectors.runner import pull
from orchestration.settings import Settings

KEY = "sk_test_bench"
START = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())


def stripe_objects(subscriptions: int, lines_per_invoice: int) -> dict[str, list[dict]]:
    """One customer, subscription and finalized invoice per subscription, in Stripe's shapes."""
    price = {
        "id": "price_m",
        "object": "price",
        "currency": "usd",
        "unit_amount": 5000,
        "product": "prod_1",
        "recurring": {"interval": "month", "interval_count": 1},
    }
    customers, subs, invoices = [], [], []
    for i in range(subscriptions):
        customers.append({"id": f"cus_{i:06d}", "object": "customer", "metadata": {"crm_account_id": f"ACC-{i:06d}"}})
        subs.append(
            {
                "id": f"sub_{i:06d}",
                "object": "subscription",
                "customer": f"cus_{i:06d}",
                "status": "active",
                "currency": "usd",
                "start_date": START,
                "trial_end": None,
                "ended_at": None,
                "cancel_at": None,
                "cancel_at_period_end": False,
                "discount": None,
                "metadata": {},
                "items": {
                    "object": "list",
                    "has_more": False,
                    "data": [{"id": f"si_{i:06d}", "object": "subscription_item", "price": price, "quantity": 2}],
                },
            }
        )
        lines = [
            {
                "id": f"il_{i:06d}_{n:02d}",
                "object": "line_item",
                "amount": 10000,
                "currency": "usd",
                "type": "subscription",
                "subscription": f"sub_{i:06d}",
                "discount_amounts": [],
                "period": {"start": START + n * 2_678_400, "end": START + (n + 1) * 2_678_400},
            }
            for n in range(lines_per_invoice)
        ]
        invoices.append(
            {
                "id": f"in_{i:06d}",
                "object": "invoice",
                "customer": f"cus_{i:06d}",
                "status": "paid",
                "currency": "usd",
                "created": START,
                "status_transitions": {"finalized_at": START},
                "lines": {"object": "list", "has_more": False, "data": lines},
            }
        )
    return {
        "/v1/customers": customers,
        "/v1/subscriptions": subs,
        "/v1/invoices": invoices,
        "/v1/products": [{"id": "prod_1", "object": "product", "name": "Platform"}],
        "/v1/credit_notes": [],
    }


def serve(objects: dict[str, list[dict]]) -> tuple[ThreadingHTTPServer, str]:
    positions = {path: {o["id"]: n for n, o in enumerate(items)} for path, items in objects.items()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            items = objects.get(url.path)
            if items is None:
                status, body = 404, {"error": {"message": f"Unrecognized request URL (GET: {url.path})"}}
            else:
                start = positions[url.path][query["starting_after"]] + 1 if "starting_after" in query else 0
                limit = int(query.get("limit", 10))
                status, body = (
                    200,
                    {
                        "object": "list",
                        "url": url.path,
                        "data": items[start : start + limit],
                        "has_more": start + limit < len(items),
                    },
                )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def timed_pull(base_url: str, work: Path) -> tuple[float, dict[str, int]]:
    settings = Settings.from_env(
        {
            "GTM_LANDING_DIR": str(work / "landing"),
            "GTM_WAREHOUSE_DIR": str(work / "warehouse"),
            "GTM_STRIPE_API_KEY": KEY,
            "GTM_STRIPE_API_BASE": base_url,
        }
    )
    started = time.perf_counter()
    report = pull(CONNECTORS["stripe"], settings, full=True)
    return time.perf_counter() - started, report.rows


def localstripe_pull(subscriptions: int, work: Path) -> tuple[float, float, dict[str, int]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.localstripe import StripeSeeder, running_localstripe
    from tests.support.recorded_http import serving

    with running_localstripe() as localstripe:
        started = time.perf_counter()
        stripe = StripeSeeder(localstripe)
        plan = stripe.plan("bench-monthly", stripe.product("Platform"), 5000, "usd", "month")
        for i in range(subscriptions):
            stripe.subscription(stripe.paying_customer(f"ACC-{i:06d}"), plan, 2)
        seeded = time.perf_counter() - started
        empty = (200, {}, {"object": "list", "data": [], "has_more": False, "url": "/v1/credit_notes"})
        with serving({"/v1/credit_notes": [empty]}, fallback=localstripe) as (base_url, _):
            seconds, rows = timed_pull(base_url, work)
    return seeded, seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--lines-per-invoice", type=int, default=10, help="one invoice per subscription")
    parser.add_argument("--smoke", action="store_true", help="200 subscriptions, 2,000 lines")
    parser.add_argument(
        "--localstripe", type=int, default=0, metavar="N", help="also time a pull of N subscriptions from localstripe"
    )
    args = parser.parse_args()
    if args.smoke:
        args.subscriptions = 200
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="gtm-bench-pull-") as folder:
        work = Path(folder)
        objects = stripe_objects(args.subscriptions, args.lines_per_invoice)
        server, base_url = serve(objects)
        try:
            seconds, rows = timed_pull(base_url, work / "synthetic")
        finally:
            server.shutdown()
        subs, lines = rows.get("billing/subscriptions", 0), rows.get("billing/invoice_lines", 0)
        print(
            f"synthetic Stripe server: {subs:,} subscriptions and {lines:,} invoice lines pulled in {seconds:.1f} s "
            f"({(subs + lines) / seconds:,.0f} rows/s)"
        )
        if args.localstripe:
            seeded, seconds, rows = localstripe_pull(args.localstripe, work / "localstripe")
            print(
                f"localstripe: {rows.get('billing/subscriptions', 0):,} subscriptions and "
                f"{rows.get('billing/invoice_lines', 0):,} invoice lines pulled in {seconds:.1f} s "
                f"(creating them through its API took {seeded:.1f} s)"
            )


if __name__ == "__main__":
    main()
