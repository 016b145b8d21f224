"""What a CRM pull landed, read back and written by hand, for the HubSpot and Salesforce
connector tests.

Both connectors land the same thing: the landing contract's CRM entities
(docs/landing-contract.md). This module holds that shared side: timestamps as the tests
write them, the landed Parquet rows by key, the stage entries, and a contract row built
from hand-worked values. What each CRM's API documents (properties, fields, pipelines) stays
in its own test module and in tests/support/crm_servers.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.settings import Settings


def utc(day: str, hour: int = 9) -> dt.datetime:
    """A CRM's timestamp: `day` at `hour` o'clock UTC."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def naive(day: str, hour: int = 9) -> dt.datetime:
    """A landed timestamp: UTC without a zone, as the contract's timestamps are."""
    return dt.datetime.fromisoformat(day).replace(hour=hour)


def pull_settings(tmp_path: Path, crm_env: Mapping[str, str]) -> Settings:
    """The settings of a pull landing under tmp_path, with the CRM's own settings (GTM_HUBSPOT_*, ...)."""
    return Settings.from_env(
        {"GTM_LANDING_DIR": str(tmp_path / "landing"), "GTM_WAREHOUSE_DIR": str(tmp_path / "warehouse"), **crm_env}
    )


def _landed_file(report, folder: str):
    [path] = [p for p in report.files if f"/{folder}/" in str(p)]
    return path


def landed(report, folder: str, key: str) -> dict[str, dict]:
    """The rows the pull landed in `folder` (e.g. crm/leads), by their `key` column."""
    return {row[key]: row for row in pq.read_table(_landed_file(report, folder)).to_pylist()}


def stage_entries(report) -> list[tuple[str, dt.datetime, str]]:
    """The landed stage history as sorted (opportunity_id, entered_at, stage)."""
    rows = pq.read_table(_landed_file(report, "crm/opportunity_stage_history")).to_pylist()
    return sorted((r["opportunity_id"], r["entered_at"], r["stage"]) for r in rows)


def contract_row(entity: str, **values: Any) -> dict[str, Any]:
    """A landed row of the CRM `entity` (e.g. "opportunities"): every contract column, null
    unless given. A name the contract does not have is an error, so a typo cannot pass."""
    columns = ENTITIES_BY_NAME[f"crm__{entity}"].column_names
    unknown = sorted(set(values) - set(columns))
    if unknown:
        raise KeyError(f"crm {entity} has no column(s) {unknown}")
    return {column: values.get(column) for column in columns}
