"""localstripe (a fake, stateful Stripe server from PyPI) on a free local port, and helpers that
create Stripe objects in it through its HTTP API, as a Stripe user would.

localstripe keeps its state in a fixed file (/tmp/localstripe.pickle): one runs at a time (a
file lock makes the others wait); each start here is `--from-scratch`. It serves plans (not
prices), one item per subscription, no trials, discounts on subscriptions or credit notes:
tests/test_pull_stripe_recorded.py covers those.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import requests
from filelock import FileLock

API_KEY = "sk_test_localstripe"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# localstripe's state file is fixed, so a second instance would share (and scramble) it: every
# instance started here holds this lock while it runs, whichever process or test worker starts it.
STATE_LOCK = "/tmp/localstripe.pickle.lock"


@contextlib.contextmanager
def running_localstripe() -> Iterator[str]:
    with FileLock(STATE_LOCK):
        yield from _serve()


def _serve() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base_url}/v1/customers", auth=(API_KEY, ""), timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


class StripeSeeder:
    """Creates objects in a Stripe-compatible server (form-encoded POSTs, like Stripe's API)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.auth = (API_KEY, "")

    def post(self, path: str, **form) -> dict:
        response = self.session.post(self.base_url + path, data=form, timeout=30)
        response.raise_for_status()
        return response.json()

    def product(self, name: str) -> str:
        return self.post("/v1/products", name=name, type="service")["id"]

    def plan(self, plan_id: str, product: str, amount: int, currency: str, interval: str) -> str:
        return self.post("/v1/plans", id=plan_id, product=product, amount=amount, currency=currency, interval=interval)[
            "id"
        ]

    def paying_customer(self, account_id: str | None) -> str:
        token = self.post(
            "/v1/tokens",
            **{"card[number]": "4242424242424242", "card[exp_month]": 12, "card[exp_year]": 2040, "card[cvc]": 123},
        )["id"]
        metadata = {"metadata[crm_account_id]": account_id} if account_id else {}
        return self.post("/v1/customers", source=token, **metadata)["id"]

    def subscription(self, customer: str, plan: str, quantity: int) -> dict:
        return self.post(
            "/v1/subscriptions", customer=customer, **{"items[0][plan]": plan, "items[0][quantity]": quantity}
        )
