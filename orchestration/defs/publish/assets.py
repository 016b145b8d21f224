"""Publish: after every blocking check has passed, swap in a new published.duckdb."""


from typing import Any

import dagster as dg

from orchestration.defs.dbt.assets import gtm_dbt_models
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.contract import SOURCE_ENTITIES
from orchestration.lib.ingest.file_store import files_of_run
from orchestration.lib.publish import publish, utc_now
from orchestration.lib.quality.gate import expectation_counts
from orchestration.lib.report import render_after_publish

PUBLICATION_KEY = dg.AssetKey(["published", "warehouse"])


def check_counts(warehouse: WarehouseResource, run_id: str) -> dict[str, int]:
    """Checks passed, warned and failed in this run: every expectation of the quality
    suites and every dbt test, all recorded in audit.check_results."""
    counts = expectation_counts(warehouse.settings.work_db_path, run_id)
    return {f"checks_{k}": counts[k] for k in ("passed", "warned", "failed")}


def files_read_and_skipped(warehouse: WarehouseResource, run_id: str) -> dict[str, int]:
    """Extract files this run's ingest read, and the ones it skipped as read by an earlier run."""
    with warehouse.work_db(read_only=True) as con:
        read, skipped = files_of_run(con, run_id)
    return {"files_read": read, "files_skipped": skipped}


def source_row_counts(warehouse: WarehouseResource) -> dict[str, int]:
    """Rows loaded and quarantined per source entity, from the ingest log of the work db."""
    with warehouse.work_db(read_only=True) as con:
        rows = con.execute(
            "select entity, sum(rows_loaded), sum(rows_quarantined) "
            "from raw._ingest_log group by entity"
        ).fetchall()
    by_entity = {entity: (int(loaded), int(quarantined)) for entity, loaded, quarantined in rows}
    counts: dict[str, int] = {}
    for entity in SOURCE_ENTITIES:
        loaded, quarantined = by_entity.get(entity.qualified_name, (0, 0))
        counts[f"{entity.qualified_name}_loaded"] = loaded
        counts[f"{entity.qualified_name}_quarantined"] = quarantined
    counts["rows_loaded"] = sum(v for k, v in counts.items() if k.endswith("_loaded"))
    counts["rows_quarantined"] = sum(v for k, v in counts.items() if k.endswith("_quarantined"))
    return counts


@dg.asset(
    key=PUBLICATION_KEY,
    deps=[gtm_dbt_models],
    group_name="publish",
    kinds={"duckdb"},
    description=(
        "published.duckdb: the marts schema copied from work.duckdb into a new file and "
        "swapped in atomically, with a row appended to marts.publication."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings
    record: dict[str, Any] = {
        "published_at": utc_now(),
        "as_of_date": settings.as_of_date,
        "run_id": context.run_id,
        "reporting_currency": settings.reporting_currency,
        **source_row_counts(warehouse),
        **files_read_and_skipped(warehouse, context.run_id),
        **check_counts(warehouse, context.run.run_id),
    }
    result = publish(
        settings.work_db_path, settings.published_db_path, record, settings.published_storage_version
    )
    context.log.info(f"Published {len(result.tables)} tables to {result.path}")
    # The metrics report is a convenience: failing to render it warns, never un-publishes.
    report = render_after_publish(result.path, settings.report_path, context.log.warning)
    if report:
        context.log.info(f"Metrics report: {report.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            **({"report": dg.MetadataValue.path(str(report.path))} if report else {}),
            "tables": dg.MetadataValue.json(list(result.tables)),
            "publications": result.publications,
            **{k: v for k, v in record.items() if k.startswith(("checks_", "rows_", "files_"))},
        }
    )
