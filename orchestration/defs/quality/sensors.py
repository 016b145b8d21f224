"""Alert when a nightly refresh fails or is blocked by a failed check.

A blocked run is a failed run (the blocking check's step fails), so one run-failure
sensor covers both. The alert names the failed steps and the failed blocking checks
with their descriptions, goes to the sensor's log (Dagster UI) and, when
GTM_ALERT_WEBHOOK is set, to the webhook. `gtm refresh` alerts by itself and tags its
runs, so they are not alerted twice when a daemon is running too.
"""

import dagster as dg

from orchestration.defs.quality.resources import AlertResource
from orchestration.defs.schedules import nightly_refresh
from orchestration.lib.quality.alerts import ALERTED_BY_TAG


def failure_text(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str) -> str:
    """What went wrong in a run: failed steps, failed checks, the run's own message."""
    lines = [f"gtm-warehouse: nightly refresh {run.run_id} was NOT published ({run.job_name})."]
    for record in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error if event else None
        first = error.message.strip().splitlines()[0] if error and error.message else "failed"
        if error and error.cause and error.cause.message:
            first += " | caused by: " + error.cause.message.strip().splitlines()[0]
        lines.append(f"- step {event.step_key if event else '?'}: {first}")
    for record in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        lines.append(
            f"- check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}: "
            f"{evaluation.description or 'failed'}"
        )
    if len(lines) == 1 and message:
        lines.append(f"- {message}")
    lines.append("The last good publication is unchanged.")
    return "\n".join(lines)


@dg.run_failure_sensor(
    name="alert_on_failed_refresh",
    monitored_jobs=[nightly_refresh],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Alerts (log, Dagster UI and the optional GTM_ALERT_WEBHOOK) when a nightly refresh "
        "fails or a blocking check stops it from publishing."
    ),
)
def alert_on_failed_refresh(context: dg.RunFailureSensorContext, alerts: AlertResource) -> None:
    run = context.dagster_run
    if run.tags.get(ALERTED_BY_TAG) == "cli":
        context.log.info(f"Run {run.run_id} was alerted by gtm refresh itself.")
        return
    text = failure_text(context.instance, run, context.failure_event.message or "")
    context.log.error(text)
    context.log.info(str(alerts.notify(text)))
