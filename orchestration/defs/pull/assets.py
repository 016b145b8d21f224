"""The pull assets: per connector one dagster-dlt multi-asset (group "pull"), one asset per entity it
can land (`pull/<connector>/<entity>`), upstream of the ingest of that entity.

The definitions need no credentials: `@dlt_assets` is given a stand-in source with one empty
resource per entity (it only reads their names), and the connector's real source is built when the
step runs and handed to `DagsterDltResource.run`. So a source that is not configured still loads,
and its step materializes every asset as skipped, saying why, instead of failing the run.
"""

import tempfile
from collections.abc import Iterator

import dagster as dg
import dlt as dlt_lib
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from pydantic import Field

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.connectors import CONNECTORS, Connector
from orchestration.lib.connectors.runner import (
    PullReport,
    connector_source,
    land_staged,
    landing_pipeline,
    landing_sink,
    pipeline_name,
    pull_errors,
    skip_reason,
)
from orchestration.lib.contract import ENTITIES_BY_NAME, Entity

# The stand-in pipeline only names the destination for the asset specs and never runs; dlt writes
# a working directory when a pipeline is made, so it goes to a throwaway place, not the warehouse.
_DEFINITION_DIR = tempfile.TemporaryDirectory(prefix="gtm-pull-definitions-")


def pull_asset_key(connector: Connector, entity: Entity) -> dg.AssetKey:
    return dg.AssetKey(["pull", connector.name, entity.qualified_name])


class PullTranslator(DagsterDltTranslator):
    """Keys `pull/<connector>/<entity>` in group "pull"; no upstream (dlt's default invents one)."""

    def __init__(self, connector: Connector):
        self.connector = connector

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        entity = ENTITIES_BY_NAME[data.resource.name]
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=pull_asset_key(self.connector, entity),
                group_name="pull",
                deps=[],
                kinds={"dlt", "parquet"},
                description=(
                    f"{entity.folder} pulled from {self.connector.description} into landing-contract "
                    f"extracts under landing/{entity.folder}/; skipped when the source is not configured."
                ),
            )
        )


def _stand_in_source(connector: Connector):
    return connector_source(connector, [dlt_lib.resource([], name=e.qualified_name) for e in connector.entities])


def _stand_in_pipeline(connector: Connector):
    return dlt_lib.pipeline(
        pipeline_name=pipeline_name(connector),
        pipelines_dir=_DEFINITION_DIR.name,
        destination=landing_sink(connector, staging=None),
    )


def _finish_pandas_import() -> None:
    """The warehouse resource imports GX, and with it pandas, in a background thread when the run
    starts. dlt looks pandas up in `sys.modules` for every item it extracts, and a half-imported
    pandas fails the extraction; importing it here waits until the other thread is done."""
    import pandas  # noqa: F401


def _entity(key: dg.AssetKey) -> Entity:
    return ENTITIES_BY_NAME[key.path[-1]]


def _result(key: dg.AssetKey, report: PullReport, dlt_metadata: dict | None = None) -> dg.MaterializeResult:
    folder = _entity(key).folder
    files = [str(p) for p in report.files if p.parent.as_posix().endswith("/" + folder)]
    return dg.MaterializeResult(
        asset_key=key,
        metadata={
            **(dlt_metadata or {}),
            "skipped": report.skipped or "",
            "rows": report.rows.get(folder, 0),
            "files": dg.MetadataValue.json(files),
            "notes": dg.MetadataValue.json(report.notes),
        },
    )


class PullConfig(dg.Config):
    full: bool = Field(
        default=False, description="Ignore the incremental state and pull everything again, like `gtm pull --full`."
    )


def build_pull_assets(connector: Connector) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=_stand_in_source(connector),
        dlt_pipeline=_stand_in_pipeline(connector),
        name=f"pull__{connector.name}",
        dagster_dlt_translator=PullTranslator(connector),
    )
    def _pull(
        context: dg.AssetExecutionContext, config: PullConfig, warehouse: WarehouseResource, dlt: DagsterDltResource
    ) -> Iterator[dg.MaterializeResult]:
        settings = warehouse.settings
        selected = [key for key in context.assets_def.keys if key in context.selected_asset_keys]
        skipped = skip_reason(connector, settings)
        if skipped:
            report = PullReport(connector.name, skipped=skipped)
            dlt_metadata: dict[dg.AssetKey, dict] = {}
        else:
            _finish_pandas_import()
            # A PullError fails the step here, before ingest and publish; it never holds a secret.
            with pull_errors(connector, settings):
                extraction = connector.extraction(settings)
                events = dlt.run(
                    context,
                    dlt_source=connector_source(connector, extraction.resources),
                    dlt_pipeline=landing_pipeline(connector, settings, full=config.full),
                    dagster_dlt_translator=PullTranslator(connector),
                )
                dlt_metadata = {event.asset_key: dict(event.metadata or {}) for event in events}
            report = land_staged(connector, settings, extraction)
        for line in report.lines():
            context.log.info(line)
        # Every selected asset materializes, landed or not (an entity the SQL mapping leaves out, a
        # source not configured): ingest runs after all of them and would be skipped otherwise.
        for key in selected:
            yield _result(key, report, dlt_metadata.get(key))

    return _pull


pull_assets = [build_pull_assets(connector) for connector in CONNECTORS.values()]


def pull_keys_writing(entity: Entity) -> list[dg.AssetKey]:
    """The pull assets that write `entity`'s landing folder: its ingest asset runs after them,
    and does not run when one of them failed (nor, therefore, does publish)."""
    return [pull_asset_key(c, entity) for c in CONNECTORS.values() if entity in c.entities]
