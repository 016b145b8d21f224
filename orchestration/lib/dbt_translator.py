"""How dbt nodes appear in Dagster: keys by layer, groups by folder.

Sources map onto the ingest assets' keys (`raw/<source>__<entity>`), so lineage runs
unbroken from the landed files to the marts; models are keyed by their layer
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


class GtmDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        # dbt tests are recorded in audit.check_results, not as Dagster checks
        # (lib/quality/dbt_tests.py says why).
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return raw_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        return dg.AssetKey([model_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        return model_layer(dbt_resource_props)
