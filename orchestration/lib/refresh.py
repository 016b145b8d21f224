"""Run the nightly_refresh job in this process and say, in plain words, what happened.

Dagster may skip steps downstream of a failure and still finish the run; what
counts here is whether publish happened, so the outcome is read from the run's
own events.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from orchestration.lib.quality import alerts, dbt_tests
from orchestration.lib.warehouse import new_run_id, refresh_lock
from orchestration.settings import Settings

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

PUBLISH_STEP = "published__warehouse"
# Errors Dagster raises around the error of a step's own code.
_DAGSTER_WRAPPERS = ("DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError")


@dataclass
class RefreshOutcome:
    run_id: str
    published: bool
    published_path: Path
    failed_steps: list[tuple[str, str]] = field(default_factory=list)  # (step, message)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    # entity, loaded, quarantined: the entities this run ingested
    source_rows: list[tuple[str, int, int]] = field(default_factory=list)
    most_keys_from: dict[str, tuple[str, int]] = field(default_factory=dict)  # entity -> (file, keys won)
    ingest_warnings: list[str] = field(default_factory=list)  # e.g. an extract whose name is not a date
    files_read: int = 0  # extract files this run read
    files_skipped: int = 0  # extract files unchanged since an earlier run read them
    rereads: list[str] = field(default_factory=list)  # "entity: why every file of it was re-read"
    tables: list[str] = field(default_factory=list)
    data_docs: Path | None = None  # this run's validation report (Great Expectations Data Docs)
    alert: str | None = None  # what became of the alert sent when nothing was published
    report: Path | None = None  # the metrics report written after this publication

    def summary(self) -> str:
        lines = [f"Run {self.run_id}"]
        if self.source_rows:
            lines.append("Rows per source (loaded / quarantined / the file that won most keys):")
            for entity, loaded, quarantined in self.source_rows:
                line = f"  {entity:<36} {loaded:>12,} {quarantined:>8,}"
                if entity in self.most_keys_from:
                    file, keys = self.most_keys_from[entity]
                    line += f"   {file} ({keys:,})"
                lines.append(line)
        if self.files_read or self.files_skipped:
            lines.append(
                f"Extract files: {self.files_read:,} read, {self.files_skipped:,} skipped "
                "(unchanged since an earlier refresh read them)"
            )
        lines.extend(f"Re-read in full: {reread}" for reread in self.rereads)
        lines.extend(f"Warning: {warning}" for warning in self.ingest_warnings)
        lines.extend(f"Warning: {check}" for check in self.warned_checks)
        lines.extend(f"Check failed: {check}" for check in self.failed_checks)
        for step, message in self.failed_steps:
            lines.append(f"Step failed: {step}: {message}")
        if self.data_docs:
            lines.append(f"Validation report (Data Docs): {self.data_docs}")
        if self.alert:
            lines.append(f"Alert: {self.alert}")
        if self.published:
            lines.append(f"Published {len(self.tables)} tables to {self.published_path}")
            lines.append(f'  query it read-only: gtm sql --published {self.published_path} "select ..."')
            if self.report:
                lines.append(f"Metrics report: {self.report}")
        else:
            reason = "a check failed" if self.failed_checks else "a step failed"
            lines.append(
                f"NOT PUBLISHED ({reason}); the last good publication at {self.published_path} "
                "is unchanged."
            )
        return "\n".join(lines)


def run_refresh(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    run_id: str | None = None,
    full: bool = False,
) -> RefreshOutcome:
    """Run the job under the warehouse's refresh lock, and say what happened.

    The ingest reads only the extract files no earlier run read; with `full`, every file.

    Raises `RefreshAlreadyRunning` before anything runs when another refresh holds the
    lock; the outcome (rows per source included) is read while this one still holds it.
    """
    from orchestration.definitions import defs
    from orchestration.defs.ingest.assets import FULL_INGEST_TAG

    run_id = run_id or new_run_id()
    with refresh_lock(settings.lock_path, run_id=run_id):
        job = defs.resolve_job_def("nightly_refresh")
        instance = instance or dg.DagsterInstance.get()
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
            # alerted below, not by the failure sensor
            tags={alerts.ALERTED_BY_TAG: "cli", **({FULL_INGEST_TAG: "true"} if full else {})},
        )
        outcome = RefreshOutcome(
            run_id=result.run_id,
            published=_published(result),
            published_path=settings.published_db_path,
        )
        _read_events(result, outcome)
        outcome.warned_checks.extend(dbt_tests.warnings(settings.work_db_path, result.run_id))
        outcome.data_docs = _data_docs(settings, result.run_id)
        if outcome.published:
            outcome.tables = _published_tables(settings.published_db_path)
            outcome.report = _fresh_report(settings)
        else:
            # not logged: the summary printed by the caller already says all of it
            outcome.alert = str(alerts.notify(alert_text(outcome), settings.alert_webhook, log_text=False))
    return outcome


def alert_text(outcome: RefreshOutcome) -> str:
    """The alert for a refresh that published nothing: what failed, where to look."""
    lines = [f"gtm-warehouse: refresh {outcome.run_id} was NOT published."]
    lines.extend(f"- check failed: {check}" for check in outcome.failed_checks)
    lines.extend(f"- step failed: {step}: {message}" for step, message in outcome.failed_steps)
    if outcome.data_docs:
        lines.append(f"Validation report: {outcome.data_docs}")
    lines.append(f"The last good publication ({outcome.published_path}) is unchanged.")
    return "\n".join(lines)


def _data_docs(settings: Settings, run_id: str) -> Path | None:
    """The Data Docs index, if this run's quality gate wrote it."""
    from orchestration.lib.quality.gate import data_docs_index

    return data_docs_index(settings, run_id)


def _fresh_report(settings: Settings) -> Path | None:
    """The metrics report, if publishing wrote it for this publication (not an older one)."""
    report, published = settings.report_path, settings.published_db_path
    if report.exists() and report.stat().st_mtime >= published.stat().st_mtime:
        return report
    return None


def _published(result: dg.ExecuteInProcessResult) -> bool:
    return any(
        event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        and event.step_key == PUBLISH_STEP
        for event in result.all_events
    )


def plain_failure(error: SerializableErrorInfo) -> str:
    """Why a step failed, once and in plain words: Dagster's wrappers ("Error occurred
    while executing op ...") are skipped for the error they wrap, and a `dg.Failure` is
    its description alone, without Dagster's module path. Other errors keep their class
    name (`KeyError: '.txt'` says little without it) and their first line."""
    while error.cause and error.cls_name in _DAGSTER_WRAPPERS:
        error = error.cause
    message = error.message.strip()
    if error.cls_name == "Failure":
        return message.split(": ", 1)[1] if message.startswith("dagster.") else message
    return message.splitlines()[0] if message else error.cls_name


def _read_ingest(event: dg.DagsterEvent, outcome: RefreshOutcome) -> None:
    """Rows, warnings and the file that won most keys of an ingest asset materialized in this run.

    Read from the run's own events, not from raw._ingest_log: after a failed ingest the
    log still holds the previous run's counts.
    """
    materialization = event.step_materialization_data.materialization
    metadata = materialization.metadata
    if materialization.asset_key.path[0] != "raw" or "rows_loaded" not in metadata:
        return
    entity = materialization.asset_key.path[-1]
    outcome.source_rows.append((entity, metadata["rows_loaded"].value, metadata["rows_quarantined"].value))
    most = metadata["most_keys_from"].value if "most_keys_from" in metadata else {}
    if most:
        outcome.most_keys_from[entity] = (most["file"], most["keys"])
    outcome.ingest_warnings.extend(metadata["warnings"].value if "warnings" in metadata else [])
    if "files_read" in metadata:
        outcome.files_read += metadata["files_read"].value
        outcome.files_skipped += metadata["files_skipped"].value
    reread = metadata["reread"].value if "reread" in metadata else {}
    if reread:
        outcome.rereads.append(f"{entity}: {reread['reason']}")


def _read_events(result: dg.ExecuteInProcessResult, outcome: RefreshOutcome) -> None:
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            _read_ingest(event, outcome)
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            message = plain_failure(error) if error else "unknown error"
            outcome.failed_steps.append((event.step_key or "?", message))
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed:
                continue
            name = f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
            description = evaluation.description or ""
            if description:
                name += f": {description}"
            if evaluation.severity == dg.AssetCheckSeverity.WARN:
                outcome.warned_checks.append(name)
            else:
                outcome.failed_checks.append(name)


def _published_tables(published_db: Path) -> list[str]:
    with contextlib.closing(duckdb.connect(str(published_db), read_only=True)) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name"
        ).fetchall()
    return [name for (name,) in rows]
