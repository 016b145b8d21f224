"""Alerts: say that a nightly run failed or was blocked, in the log and on a webhook.

The webhook is optional (setting alert_webhook, `GTM_ALERT_WEBHOOK`) and Slack
compatible: a POST of `{"text": ...}` as JSON. Its URL is a secret: it is never
printed, logged or put into an exception message, here or by the caller, because
`notify` never raises and its result says only what happened (sent, HTTP status,
or the kind of error). An alert never fails the pipeline.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger("gtm.alerts")

# Tag of runs whose launcher alerts by itself (`gtm refresh`), so that the run-failure
# sensor of a running Dagster daemon does not alert them twice.
ALERTED_BY_TAG = "gtm/alerted_by"
TIMEOUT_SECONDS = 10.0
MAX_TEXT = 3500  # Slack shows up to about 4,000 characters of a message


@dataclass(frozen=True)
class Delivery:
    status: Literal["sent", "not_configured", "failed"]
    detail: str = ""  # never holds the URL

    def __str__(self) -> str:
        if self.status == "sent":
            return "alert sent to the webhook (GTM_ALERT_WEBHOOK)"
        if self.status == "not_configured":
            return "no alert webhook configured (GTM_ALERT_WEBHOOK)"
        return f"alert webhook failed: {self.detail}"


def notify(
    text: str, webhook_url: str | None, timeout: float = TIMEOUT_SECONDS, log_text: bool = True
) -> Delivery:
    """Log `text` as an error (unless the caller prints it itself) and post it to the
    webhook, if one is set."""
    if log_text:
        logger.error(text)
    if not webhook_url:
        return Delivery("not_configured")
    body = json.dumps({"text": _clip(text)}).encode()
    request = urllib.request.Request(
        webhook_url,
        data=body,
        headers={"Content-Type": "application/json", "User-Agent": "gtm-warehouse"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        delivery = Delivery("sent")
    except urllib.error.HTTPError as error:
        delivery = Delivery("failed", f"HTTP {error.code}")
    except Exception as error:  # any failure, described without the URL
        delivery = Delivery("failed", _describe(error))
    if delivery.status == "failed":
        logger.warning(str(delivery))
    return delivery


def _describe(error: Exception) -> str:
    """The kind of error, without its message (which may quote the URL or its host)."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, OSError) and reason.errno is not None:
        return f"{type(error).__name__} ({type(reason).__name__}, errno {reason.errno})"
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 20] + "\n... (cut short)"
