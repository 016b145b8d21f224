"""The alert resource: the log always, the webhook of GTM_ALERT_WEBHOOK when set.

The URL is read from the settings when an alert is sent, never stored in the
resource's config (Dagster shows resource config in its UI).
"""

import dagster as dg

from orchestration.lib.quality import alerts
from orchestration.settings import load_settings


class AlertResource(dg.ConfigurableResource):
    """Sends alerts about failed or blocked runs (lib/quality/alerts.py)."""

    def notify(self, text: str) -> alerts.Delivery:
        return alerts.notify(text, load_settings().alert_webhook)
