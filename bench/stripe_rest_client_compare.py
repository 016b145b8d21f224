"""Could the Stripe connector page with dlt's RESTClient instead of its own client?

Pages /v1/customers, /v1/subscriptions and /v1/invoices of the local server of
bench/pull_stripe.py with both clients (Stripe's `starting_after`/`has_more` as dlt's
JSONResponseCursorPaginator), then lets a server answer 429 (Retry-After: 2) and 401 to
show how each retries and what its error says. Prints figures; asserts nothing.

    .venv/bin/python bench/stripe_rest_client_compare.py [SUBSCRIPTIONS]   # default 10,000
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests.auth import HTTPBasicAuth

from bench.pull_stripe import serve, stripe_objects
from orchestration.lib.connectors.stripe_client import STRIPE_VERSION, StripeClient

LISTS = ("/v1/customers", "/v1/subscriptions", "/v1/invoices")


def dlt_client(base_url: str, key: str) -> RESTClient:
    return RESTClient(
        base_url=base_url,
        headers={"Stripe-Version": STRIPE_VERSION},
        auth=HTTPBasicAuth(key, ""),
        paginator=JSONResponseCursorPaginator(
            cursor_path="data[-1].id", cursor_param="starting_after", has_more_path="has_more"
        ),
        data_selector="data",
    )


def with_stripe_client(base_url: str) -> tuple[dict, int]:
    client = StripeClient(base_url, "sk_test_bench")
    return {p: [o["id"] for page in client.list(p) for o in page] for p in LISTS}, client.requests


def with_dlt_client(base_url: str) -> tuple[dict, int]:
    requests = []
    hooks = {"response": [lambda response, *args, **kwargs: requests.append(response.status_code)]}
    client = dlt_client(base_url, "sk_test_bench")
    ids = {p: [o["id"] for page in client.paginate(p, params={"limit": 100}, hooks=hooks) for o in page] for p in LISTS}
    return ids, len(requests)


def paging(subscriptions: int) -> None:
    server, base_url = serve(stripe_objects(subscriptions, 10))
    try:
        reference = None
        for name, run in [("StripeClient", with_stripe_client), ("dlt RESTClient", with_dlt_client)] * 2:
            started = time.perf_counter()
            ids, requests = run(base_url)
            seconds = time.perf_counter() - started
            reference = reference or ids
            same = "same objects" if ids == reference else "DIFFERENT objects"
            objects = sum(map(len, ids.values()))
            print(f"{name:<15} {seconds:6.2f} s  {requests:4} requests  {objects:,} objects, {same}")
    finally:
        server.shutdown()


def errors() -> None:
    answered = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answered.append(self.path)
            status, headers, message = (
                (429, {"Retry-After": "2"}, "Too many requests")
                if len(answered) == 1
                else (401, {}, "Invalid API Key provided: sk_test_***cret")
            )
            body = json.dumps({"error": {"message": message}}).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    listing = {
        "StripeClient": lambda: list(StripeClient(base_url, "sk_test_secret").list("/v1/subscriptions")),
        "dlt RESTClient": lambda: list(dlt_client(base_url, "sk_test_secret").paginate("/v1/subscriptions")),
    }
    try:
        for name, run in listing.items():
            answered.clear()
            started = time.perf_counter()
            try:
                run()
            except Exception as error:  # the point is to print what each raises
                seconds = time.perf_counter() - started
                reason = f"{type(error).__name__}: {error}"
                print(f"{name:<15} 429 then 401: {len(answered)} requests in {seconds:.1f} s; {reason}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    paging(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    errors()
