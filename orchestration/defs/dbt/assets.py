"""The dbt project as Dagster assets: staging -> intermediate -> marts.

dbt's data tests run inside the same `dbt build`; their results go to
audit.check_results (lib/quality/dbt_tests.py) and a failing blocking test fails this
step, naming the test. They are not Dagster asset checks (see dbt_tests.py for why).
"""

import contextlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.resources import WarehouseResource, dbt_resource
from orchestration.lib.dbt_manifest import ensure_manifest, marts
from orchestration.lib.dbt_translator import GtmDbtTranslator
from orchestration.lib.engine.spark_failures import import_stored_failures
from orchestration.lib.engine.spark_marts import import_marts
from orchestration.lib.publish import utc_now
from orchestration.lib.quality import dbt_tests
from orchestration.settings import DBT_PROJECT_DIR, Settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


@dbt_assets(
    manifest=ensure_manifest(DBT_PROJECT_DIR),  # `dbt parse` when missing or stale
    project=dbt_project,
    dagster_dbt_translator=GtmDbtTranslator(),
)
def gtm_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    settings = warehouse.settings
    os.environ.update(settings.dbt_env())
    # Unit tests check the models' logic, not the data: they run in development and CI
    # (the metric tests build their models with them), not again every night.
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(settings.dbt_vars())]
    # dagster-dbt echoes every dbt log line to stdout; keep them in a file per run so
    # `gtm refresh` prints plain progress, and say where the file is.
    log_path = settings.warehouse_dir / "logs" / f"dbt_{context.run_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    context.log.info(f"dbt build log: {log_path}")
    target_path = settings.warehouse_dir / "dbt"
    # Removed first, so a dbt process that dies before writing it leaves no stale results.
    (target_path / "run_results.json").unlink(missing_ok=True)
    if settings.engine == "spark":
        # Spark's catalog lives for one dbt run (profiles.yml): last run's table folders
        # would block creating the tables again.
        shutil.rmtree(settings.spark_dir / "warehouse", ignore_errors=True)
    with open(log_path, "w") as log, contextlib.redirect_stdout(log):
        # One target folder per warehouse instead of dagster-dbt's new folder per run: dbt
        # then partial-parses from its previous run (when the project and vars are unchanged)
        # and dbt_project/target does not gain a folder every run.
        cli = dbt if dbt.target == settings.dbt_target else dbt_resource(target=settings.dbt_target)
        invocation = cli.cli(args, context=context, target_path=target_path, raise_on_error=False)
        for event in invocation.stream():
            # Test results arrive as observations (tests are not asset checks): they are
            # recorded from run_results.json below instead of one Dagster event each.
            if not isinstance(event, dg.AssetObservation):
                yield event
    error = invocation.get_error()
    if settings.engine == "spark":
        results_path = invocation.target_path / "run_results.json"
        with warehouse.work_db() as con:
            # A failing test's stored rows, for its error message (as on DuckDB).
            if results_path.exists():
                import_stored_failures(con, json.loads(results_path.read_text()), settings.spark_dir / "warehouse")
            if error is None:  # the gate and the publish step read the marts from the work database
                imported = import_marts(con, marts(invocation.manifest).values(), settings.spark_dir / "warehouse")
                context.log.info(f"{len(imported)} marts read from Spark into the work database")
    _record_tests(context, invocation, settings, log_path, error=error)


def _record_tests(
    context: dg.AssetExecutionContext,
    invocation: DbtCliInvocation,
    settings: Settings,
    log_path: Path,
    error: Exception | None,
) -> None:
    """Write every test result to the audit table, warn about warnings, and fail the
    step (naming what failed) when dbt did."""
    results_path = invocation.target_path / "run_results.json"
    run_results = json.loads(results_path.read_text()) if results_path.exists() else {}
    manifest = invocation.manifest
    if run_results and settings.engine == "duckdb":  # Spark stores them in the build (macros/engine/failing_rows.sql)
        dbt_tests.store_failing_rows(settings.work_db_path, run_results, manifest)
    translator = GtmDbtTranslator()
    outcomes = dbt_tests.test_outcomes(
        run_results, manifest, lambda node: translator.get_asset_key(node).to_user_string()
    )
    dbt_tests.record(settings.work_db_path, context.run.run_id, outcomes, utc_now())
    counts = Counter(o.status for o in outcomes)
    context.log.info(
        f"dbt tests: {counts['passed']} passed, {counts['warned']} warned, {counts['failed']} failed"
        + (f", {counts['skipped']} skipped" if counts["skipped"] else "")
    )
    for outcome in outcomes:
        if outcome.status == "warned":
            context.log.warning(f"dbt test warned: {outcome.problem}")
    if error is not None:
        lines = dbt_tests.failed_nodes(run_results, manifest, settings.work_db_path)
        raise dg.Failure(description=dbt_tests.failure_description(lines, log_path)) from error
