"""One pull asset per connector (group "pull"), upstream of the ingest assets of what it writes."""

from collections.abc import Sequence

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.connectors import CONNECTORS, Connector
from orchestration.lib.connectors.runner import pull
from orchestration.lib.dbt_translator import raw_asset_key


def pull_asset_key(connector: Connector) -> dg.AssetKey:
    return dg.AssetKey(["pull", connector.name])


def build_pull_asset(connector: Connector) -> dg.AssetsDefinition:
    @dg.asset(
        key=pull_asset_key(connector),
        group_name="pull",
        kinds={"dlt"},
        description=(
            f"Pulls {connector.description} into landing-contract extracts "
            f"({', '.join(e.folder for e in connector.entities)}); skipped when not configured."
        ),
    )
    def _pull(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        # A PullError fails the run here, before ingest and publish; it never holds a secret.
        report = pull(connector, warehouse.settings)
        for line in report.lines():
            context.log.info(line)
        return dg.MaterializeResult(
            metadata={
                "skipped": report.skipped or "",
                "rows": dg.MetadataValue.json(report.rows),
                "files": dg.MetadataValue.json([str(p) for p in report.files]),
                "notes": dg.MetadataValue.json(report.notes),
            }
        )

    return _pull


pull_assets = [build_pull_asset(connector) for connector in CONNECTORS.values()]


def after_pulls(ingest_assets: Sequence[dg.AssetsDefinition]) -> Sequence[dg.AssetsDefinition]:
    """The ingest assets, each depending on the pull assets that write its entity's folder."""
    writers: dict[dg.AssetKey, list[dg.AssetKey]] = {}
    for connector in CONNECTORS.values():
        for entity in connector.entities:
            writers.setdefault(raw_asset_key(entity.source, entity.name), []).append(pull_asset_key(connector))

    def add_pull_deps(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.merge_attributes(deps=writers.get(spec.key, []))

    return dg.map_asset_specs(add_pull_deps, ingest_assets)
