"""A small Stripe API client: list pagination by `starting_after`/`has_more`, retries with
backoff that honour `Retry-After`, and errors that name the endpoint and the status.

Requests pin `Stripe-Version` so the objects keep the shape the mapping reads (a
subscription's `discount`, invoice lines' `subscription`), whatever the account's default.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import requests

from orchestration.lib.connectors.base import PullError

STRIPE_VERSION = "2024-06-20"
PAGE_SIZE = 100
MAX_TRIES = 5
MAX_WAIT_SECONDS = 60.0
RETRIED_STATUSES = (429, 500, 502, 503, 504)


class StripeClient:
    def __init__(self, base_url: str, api_key: str, sleep: Callable[[float], None] = time.sleep, timeout: float = 60):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (api_key, "")
        self.session.headers["Stripe-Version"] = STRIPE_VERSION
        self.sleep = sleep
        self.timeout = timeout
        self.requests = 0

    def get(self, path: str, params: dict | None = None) -> dict:
        for attempt in range(1, MAX_TRIES + 1):
            self.requests += 1
            try:
                response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
            except requests.RequestException as error:
                if attempt == MAX_TRIES:
                    raise PullError(
                        "stripe", f"GET {path}", f"{type(error).__name__} after {MAX_TRIES} tries"
                    ) from None
                self.sleep(_backoff(attempt))
                continue
            if response.status_code == 200:
                return response.json()
            if response.status_code in RETRIED_STATUSES and attempt < MAX_TRIES:
                self.sleep(_retry_after(response) or _backoff(attempt))
                continue
            tries = f" after {attempt} tries" if response.status_code in RETRIED_STATUSES else ""
            hint = " (check GTM_STRIPE_API_KEY)" if response.status_code in (401, 403) else ""
            raise PullError("stripe", f"GET {path}", f"HTTP {response.status_code}{tries}: {_message(response)}{hint}")
        raise AssertionError("unreachable")

    def list(self, path: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Every object of a list endpoint, one page at a time."""
        params = {**(params or {}), "limit": PAGE_SIZE}
        while True:
            page = self.get(path, params)
            objects = page.get("data", [])
            if objects:
                yield objects
            if not page.get("has_more") or not objects:
                return
            params["starting_after"] = objects[-1]["id"]


def _backoff(attempt: int) -> float:
    return min(0.5 * 2 ** (attempt - 1), MAX_WAIT_SECONDS)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return min(float(response.headers["Retry-After"]), MAX_WAIT_SECONDS)
    except (KeyError, ValueError):
        return None


def _message(response: requests.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.reason or "no message"
