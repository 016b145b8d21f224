"""One ingest asset per source entity: landed files -> raw.<source>__<entity>."""

import dagster as dg

from orchestration.defs.pull.assets import pull_keys_writing
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.contract import SOURCE_ENTITIES, STAGE_MAPPING, Entity
from orchestration.lib.dbt_translator import raw_asset_key
from orchestration.lib.ingest import IngestResult, ingest_entity, ingest_file_entity
from orchestration.lib.publish import utc_now


def _materialize_result(result: IngestResult) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.json(list(result.files)),
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            "duplicates_dropped": result.duplicates_dropped,
            "key_conflicts": result.key_conflicts,
            "dagster/row_count": result.rows_loaded,
        }
    )


def _log_result(context: dg.AssetExecutionContext, result: IngestResult) -> None:
    context.log.info(
        f"{result.entity}: {result.rows_read} rows read from {len(result.files)} file(s): "
        f"{result.rows_loaded} loaded, {result.rows_quarantined} quarantined, "
        f"{result.duplicates_dropped} duplicates dropped"
    )


def build_ingest_asset(entity: Entity) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(entity.source, entity.name),
        deps=pull_keys_writing(entity),
        group_name="ingest",
        kinds={"duckdb"},
        description=(
            f"{entity.description} Every extract under landing/{entity.folder}/ typed into "
            f"raw.{entity.qualified_name}; untypeable rows go to quarantine.{entity.qualified_name}."
        ),
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.work_db() as con:
            result = ingest_entity(con, entity, warehouse.settings.landing_dir, utc_now())
        _log_result(context, result)
        return _materialize_result(result)

    return _ingest


@dg.asset(
    key=raw_asset_key(STAGE_MAPPING.source, STAGE_MAPPING.name),
    group_name="ingest",
    kinds={"duckdb"},
    description=(
        "The stage mapping (setting stage_mapping: the shipped default or the user's CSV) "
        "typed into raw.config__stage_mapping."
    ),
)
def stage_mapping(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.work_db() as con:
        result = ingest_file_entity(
            con, STAGE_MAPPING, [warehouse.settings.stage_mapping], utc_now()
        )
    _log_result(context, result)
    return _materialize_result(result)


ingest_assets = [*(build_ingest_asset(entity) for entity in SOURCE_ENTITIES), stage_mapping]
