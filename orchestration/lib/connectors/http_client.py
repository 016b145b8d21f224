"""The one HTTP client of every REST connector: retries with backoff that honour `Retry-After`,
one renewal of an expired session, and errors that name the source, the endpoint and the status.

A connector gives its source name, its base URL, the headers or basic auth that authenticate,
and the setting to blame for a 401/403; paging is the connector's own (each API pages differently).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from orchestration.lib.connectors.base import PullError

MAX_TRIES = 5
MAX_WAIT_SECONDS = 60.0
RETRIED_STATUSES = (429, 500, 502, 503, 504)


class HttpClient:
    def __init__(
        self,
        source: str,
        base_url: str,
        credential_hint: str,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        renew: Callable[[], dict[str, str]] | None = None,
        is_expired: Callable[[requests.Response], bool] | None = None,
    ):
        """`renew` returns fresh auth headers; it is called once when `is_expired(response)` says the
        session ran out (a 401 by default), then the request is tried again."""
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.credential_hint = credential_hint  # e.g. "check GTM_HUBSPOT_TOKEN"
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        if auth:
            self.session.auth = auth
        self.sleep = sleep
        self.timeout = timeout
        self.renew = renew
        self.is_expired = is_expired or (lambda response: response.status_code == 401)
        self.requests = 0

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def get(self, path: str, params: dict | None = None) -> dict:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict | None = None, data: dict | None = None) -> dict:
        return self.request("POST", path, json=body, data=data)

    def request(self, method: str, path: str, **kwargs) -> dict:
        where = f"{method} {path.split('?')[0]}"
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self.session.request(method, self.url(path), timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                if attempt >= MAX_TRIES:
                    raise PullError(self.source, where, f"{type(error).__name__} after {MAX_TRIES} tries") from None
                self.sleep(backoff(attempt))
                continue
            if response.status_code < 300:
                return response.json() if response.content else {}
            if self.renew and not renewed and self.is_expired(response):
                self.session.headers.update(self.renew())
                renewed = True
                attempt -= 1  # the renewal is not a retry
                continue
            if response.status_code in RETRIED_STATUSES and attempt < MAX_TRIES:
                self.sleep(retry_after(response) or backoff(attempt))
                continue
            tries = f" after {attempt} tries" if response.status_code in RETRIED_STATUSES else ""
            hint = f" ({self.credential_hint})" if response.status_code in (401, 403) else ""
            raise PullError(
                self.source, where, f"HTTP {response.status_code}{tries}: {error_message(response)}{hint}"
            )


def backoff(attempt: int) -> float:
    return min(0.5 * 2 ** (attempt - 1), MAX_WAIT_SECONDS)


def retry_after(response: requests.Response) -> float | None:
    try:
        return min(float(response.headers["Retry-After"]), MAX_WAIT_SECONDS)
    except (KeyError, ValueError):
        return None


def error_message(response: requests.Response) -> str:
    """The message of Stripe's `{"error": {"message"}}`, HubSpot's `{"message", "category"}`
    or Salesforce's `[{"errorCode", "message"}]` bodies."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no message"
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        return response.reason or "no message"
    if isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"])
    code = body.get("errorCode") or body.get("category") or body.get("error")
    message = body.get("message") or body.get("error_description") or response.reason or "no message"
    return f"{code}: {message}" if code else str(message)
