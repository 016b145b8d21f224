"""The one Dagster `Definitions` of gtm-warehouse (loaded by workspace.yaml and the CLI)."""

from __future__ import annotations

import dagster as dg
from dagster_dlt import DagsterDltResource

from orchestration.defs.dbt.assets import gtm_dbt_models
from orchestration.defs.ingest.assets import ingest_assets
from orchestration.defs.publish.assets import published_warehouse
from orchestration.defs.pull.assets import pull_assets
from orchestration.defs.quality.checks import quality_checks
from orchestration.defs.quality.resources import AlertResource
from orchestration.defs.quality.sensors import alert_on_failed_refresh
from orchestration.defs.resources import WarehouseResource, dbt_resource
from orchestration.defs.schedules import build_nightly_schedule, nightly_refresh
from orchestration.lib.progress import progress_logger

# One process runs every step: DuckDB allows a single writing process per file, and the
# warehouse resource holds the refresh lock for the whole run.
defs = dg.Definitions(
    assets=[*pull_assets, *ingest_assets, gtm_dbt_models, published_warehouse],
    asset_checks=quality_checks,
    jobs=[nightly_refresh],
    schedules=[build_nightly_schedule()],
    sensors=[alert_on_failed_refresh],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
        "alerts": AlertResource(),
        "dlt": DagsterDltResource(),
    },
    executor=dg.in_process_executor,
    loggers={"console": dg.colored_console_logger, "progress": progress_logger},
)
