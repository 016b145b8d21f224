"""Ingest as one step: landed files -> raw.<source>__<entity>, one asset per entity.

One multi-asset instead of one asset per entity: every Dagster step costs about a
second of overhead, and the entities are ingested one after another on one DuckDB
connection anyway. Each entity is still its own asset (the dbt sources and the
quality checks hang on it) and can be materialized alone (the step is subsettable).
"""

from collections.abc import Callable, Iterator

import dagster as dg
import duckdb

from orchestration.defs.pull.assets import pull_keys_writing
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.contract import SOURCE_ENTITIES, STAGE_MAPPING, Entity
from orchestration.lib.dbt_translator import raw_asset_key
from orchestration.lib.engine.parquet_export import export_entities
from orchestration.lib.ingest import (
    IngestResult,
    RowAccountingError,
    SourceContractError,
    ingest_entity,
    ingest_file_entity,
)
from orchestration.lib.ingest.file_store import record_run
from orchestration.lib.publish import utc_now
from orchestration.settings import Settings

# The step's name. `raw__` is how the progress lines and the benchmark recognise an
# ingest step (lib/progress.py, bench/run.py).
INGEST_STEP = "raw__sources"
# A run with this tag set to "true" re-reads every extract file (`gtm refresh --full`);
# otherwise only the files not read before are read (lib/ingest/file_store.py).
FULL_INGEST_TAG = "gtm/full_ingest"

Ingest = Callable[[duckdb.DuckDBPyConnection, Settings, bool], IngestResult]


def _from_landing(entity: Entity) -> Ingest:
    return lambda con, settings, full: ingest_entity(
        con, entity, settings.landing_dir, utc_now(), settings.plausible_years, full=full
    )


def _from_stage_mapping_setting(con: duckdb.DuckDBPyConnection, settings: Settings, full: bool) -> IngestResult:
    return ingest_file_entity(
        con, STAGE_MAPPING, [settings.stage_mapping], utc_now(), settings.plausible_years, full=full
    )


def _spec(entity: Entity, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=raw_asset_key(entity.source, entity.name),
        deps=pull_keys_writing(entity),
        group_name="ingest",
        kinds={"duckdb"},
        description=description,
        skippable=True,  # a subset run leaves the others unmaterialized
    )


_INGESTS: dict[dg.AssetKey, tuple[Entity, Ingest]] = {
    raw_asset_key(entity.source, entity.name): (entity, _from_landing(entity)) for entity in SOURCE_ENTITIES
} | {raw_asset_key(STAGE_MAPPING.source, STAGE_MAPPING.name): (STAGE_MAPPING, _from_stage_mapping_setting)}

_SPECS = [
    *(
        _spec(
            entity,
            f"{entity.description} Every extract under landing/{entity.folder}/ typed into "
            f"raw.{entity.qualified_name}; untypeable rows go to quarantine.{entity.qualified_name}.",
        )
        for entity in SOURCE_ENTITIES
    ),
    _spec(
        STAGE_MAPPING,
        "The stage mapping (setting stage_mapping: the shipped default or the user's CSV) "
        "typed into raw.config__stage_mapping.",
    ),
]


def _materialize_result(key: dg.AssetKey, result: IngestResult) -> dg.MaterializeResult:
    most = result.most_keys_from
    most_keys_from = {"file": most.source_file, "keys": most.rows_loaded} if most else {}
    return dg.MaterializeResult(
        asset_key=key,
        metadata={
            "warnings": dg.MetadataValue.json(list(result.warnings)),
            "most_keys_from": dg.MetadataValue.json(most_keys_from),
            "files": dg.MetadataValue.json(list(result.files)),
            "files_read": len(result.files_read),
            "files_skipped": result.files_skipped,
            "reread": dg.MetadataValue.json({"reason": result.reread} if result.reread else {}),
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            "duplicates_dropped": result.duplicates_dropped,
            "key_conflicts": result.key_conflicts,
            "dagster/row_count": result.rows_loaded,
        },
    )


def _log_result(context: dg.AssetExecutionContext, result: IngestResult) -> None:
    context.log.info(
        f"{result.entity}: {result.rows_read} rows read from {len(result.files)} file(s): "
        f"{result.rows_loaded} loaded, {result.rows_quarantined} quarantined, "
        f"{result.duplicates_dropped} duplicates dropped; "
        f"{len(result.files_read)} file(s) read, {result.files_skipped} unchanged file(s) skipped"
    )
    if result.reread:
        context.log.warning(f"{result.entity}: every file re-read: {result.reread}")
    for warning in result.warnings:
        context.log.warning(warning)


@dg.multi_asset(name=INGEST_STEP, specs=_SPECS, can_subset=True)
def ingest_sources(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """Ingest every selected entity, in contract order.

    An entity whose files break the contract does not stop the others: each is
    ingested (and materialized) on its own, and the step then fails naming every
    entity that could not be.
    """
    failures: list[str] = []
    full = context.run.tags.get(FULL_INGEST_TAG) == "true"
    ingested: list[Entity] = []
    with warehouse.work_db() as con:
        for key, (entity, ingest) in _INGESTS.items():
            if key not in context.selected_asset_keys:
                continue
            try:
                result = ingest(con, warehouse.settings, full)
            except (SourceContractError, RowAccountingError) as error:
                context.log.error(f"{entity.qualified_name}: {error}")
                failures.append(f"{entity.qualified_name}: {error}")
                continue
            ingested.append(entity)
            _log_result(context, result)
            record_run(con, context.run_id, result, utc_now())
            yield _materialize_result(key, result)
        if warehouse.settings.engine == "spark":  # Spark reads the sources as Parquet
            export_entities(con, ingested, warehouse.settings.parquet_dir)
    if failures:
        raise dg.Failure(description="Ingest failed for " + "; ".join(failures))


ingest_assets = [ingest_sources]
