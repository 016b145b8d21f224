"""One pull asset per connector (group "pull"), upstream of the ingest assets of what it writes."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.connectors import CONNECTORS, Connector
from orchestration.lib.connectors.runner import pull
from orchestration.lib.contract import Entity


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


def pull_keys_writing(entity: Entity) -> list[dg.AssetKey]:
    """The pull assets that write `entity`'s landing folder: its ingest asset runs after them,
    and does not run when one of them failed (nor, therefore, does publish)."""
    return [pull_asset_key(c) for c in CONNECTORS.values() if entity in c.entities]
