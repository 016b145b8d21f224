"""The Stripe API through the shared HTTP client: list pagination by `starting_after`/`has_more`.

Requests pin `Stripe-Version` so the objects keep the shape the mapping reads (a
subscription's `discount`, invoice lines' `subscription`), whatever the account's default.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from orchestration.lib.connectors.http_client import HttpClient

STRIPE_VERSION = "2024-06-20"
PAGE_SIZE = 100


class StripeClient(HttpClient):
    def __init__(self, base_url: str, api_key: str, sleep: Callable[[float], None] = time.sleep, timeout: float = 60):
        super().__init__(
            "stripe",
            base_url,
            "check GTM_STRIPE_API_KEY",
            headers={"Stripe-Version": STRIPE_VERSION},
            auth=(api_key, ""),
            sleep=sleep,
            timeout=timeout,
        )

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
