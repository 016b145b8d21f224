"""How dbt nodes appear in Dagster: keys by layer, groups by folder.

Sources map onto the ingest assets' keys (`raw/<source>__<entity>`), so lineage runs
unbroken from the landed files to the marts (a snapshots table, `meta: {snapshots_of:
<entity>}`, is written by its entity's ingest asset and maps onto that key); models are keyed by their layer
(`staging/stg_crm__leads`, `marts/commercial_ratio`) and grouped by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

LAYERS = ("staging", "intermediate", "marts")


def raw_asset_key(source: str, entity: str) -> dg.AssetKey:
    """The key of the ingest asset that writes `raw.<source>__<entity>`."""
    return dg.AssetKey(["raw", f"{source}__{entity}"])


def model_layer(dbt_resource_props: Mapping[str, Any]) -> str:
    """staging, intermediate or marts: the model's first folder under models/."""
    fqn = dbt_resource_props.get("fqn", [])
    folder = fqn[1] if len(fqn) > 2 else ""
    return folder if folder in LAYERS else "other"


def source_meta(dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
    """A source table's meta (dbt keeps it at the top level and under config)."""
    return dbt_resource_props.get("meta") or dbt_resource_props.get("config", {}).get("meta") or {}


class GtmDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        # dbt tests are recorded in audit.check_results, not as Dagster checks
        # (lib/quality/dbt_tests.py says why).
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=False,
                # a snapshots table is written by its entity's ingest asset: two sources, one key
                enable_duplicate_source_asset_keys=True,
            )
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            entity = source_meta(dbt_resource_props).get("snapshots_of") or dbt_resource_props["name"]
            return raw_asset_key(dbt_resource_props["source_name"], entity)
        return dg.AssetKey([model_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        return model_layer(dbt_resource_props)
