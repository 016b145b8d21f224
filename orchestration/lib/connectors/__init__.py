"""Connectors: pull spend and revenue from where they live into landing-contract extracts.

One module per source (`general_ledger`, `sql_database`, `stripe`, `hubspot`, `salesforce`) defines a `Connector`;
`runner.pull` runs it through dlt into the landing folder. `CONNECTORS` lists them in the
order `gtm pull` and the nightly job pull them.
"""

from __future__ import annotations

from orchestration.lib.connectors.base import Connector, PullError
from orchestration.lib.connectors.general_ledger import GENERAL_LEDGER
from orchestration.lib.connectors.hubspot import HUBSPOT
from orchestration.lib.connectors.salesforce import SALESFORCE
from orchestration.lib.connectors.sql_database import SQL_DATABASE
from orchestration.lib.connectors.stripe import STRIPE

CONNECTORS: dict[str, Connector] = {c.name: c for c in (GENERAL_LEDGER, SQL_DATABASE, STRIPE, HUBSPOT, SALESFORCE)}

__all__ = ["CONNECTORS", "Connector", "PullError"]
