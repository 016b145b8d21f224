"""The dbt project as Dagster assets: staging -> intermediate -> marts, tests as checks."""

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.resources import WarehouseResource, dbt_resource
from orchestration.lib.dbt_translator import GtmDbtTranslator
from orchestration.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject) -> None:
    """Run `dbt parse` (no database, no network) when the manifest is missing or older
    than any file of the project, so every entry point works from a fresh clone."""
    manifest = project.manifest_path
    sources = [
        p
        for folder in ("models", "macros", "tests")
        for p in (project.project_dir / folder).rglob("*")
        if p.is_file()
    ] + [project.project_dir / "dbt_project.yml"]
    if manifest.exists() and manifest.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return
    # Not project.preparer: it builds its own DbtCliResource that looks for `dbt` on PATH.
    dbt_resource().cli(["--quiet", "parse"], target_path=project.target_path).wait()


ensure_manifest(dbt_project)


@dbt_assets(
    manifest=dbt_project.manifest_path,
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
    with open(log_path, "w") as log, contextlib.redirect_stdout(log):
        # One target folder per warehouse instead of dagster-dbt's new folder per run: dbt
        # then partial-parses from its previous run (when the project and vars are unchanged)
        # and dbt_project/target does not gain a folder every run.
        yield from dbt.cli(args, context=context, target_path=settings.warehouse_dir / "dbt").stream()
