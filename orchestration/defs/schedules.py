"""The nightly refresh job and its schedule."""

import dagster as dg

from orchestration.settings import load_settings

nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest every landed source, build the dbt project (staging, intermediate, marts "
        "and their tests), run the quality gate, and publish published.duckdb."
    ),
    tags={"gtm/warehouse": "work"},
)


def build_nightly_schedule() -> dg.ScheduleDefinition:
    settings = load_settings()
    return dg.ScheduleDefinition(
        name="nightly_refresh_schedule",
        job=nightly_refresh,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refreshes every metric unattended (GTM_SCHEDULE_CRON, GTM_SCHEDULE_TIMEZONE).",
    )
