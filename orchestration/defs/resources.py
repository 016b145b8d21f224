"""Resources: the warehouse (settings, DuckDB files, refresh lock) and dbt (run in this process)."""

import contextlib
import importlib.metadata
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging import version
from pydantic import PrivateAttr

from orchestration.defs.dbt.in_process import dbt_in_this_process
from orchestration.lib.dbt_manifest import dbt_executable
from orchestration.lib.garbage_collection import tune_for_one_run
from orchestration.lib.quality.runtime import import_gx_in_background
from orchestration.lib.warehouse import open_db, refresh_lock
from orchestration.settings import DBT_PROJECT_DIR, Settings, load_settings


class WarehouseResource(dg.ConfigurableResource):
    """The work and published DuckDB files and every setting, read once per run.

    While a run uses it, the run holds the warehouse's refresh lock, so two runs never
    write the same work database at once.
    """

    _settings: Settings | None = PrivateAttr(default=None)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        self._settings = load_settings()
        with refresh_lock(self._settings.lock_path, run_id=context.run_id):
            import_gx_in_background()  # the quality gates need it; ingest comes first
            tune_for_one_run()
            yield self

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @contextlib.contextmanager
    def work_db(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_db(self.settings.work_db_path, self.settings, read_only=read_only) as con:
            yield con


# The dagster-dbt release the overrides below were read against. dagster-dbt has no
# public switch for either cost, so they override private methods; the test
# tests/test_dbt_resource.py fails, naming the method, when this is not the installed
# release or a method changed.
DAGSTER_DBT_OVERRIDES_CHECKED_WITH = "0.29.27"


class GtmDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource with dbt run inside this process (issue 18, see
    `cli`), and without two start-up costs that every `cli()` call pays before dbt even
    starts (about 4 s of a refresh, issue 8):

    - `dbt --version` in a subprocess, to learn the version of the `dbt` executable:
      it is the dbt-core installed beside dagster-dbt (`dbt_resource` picks this
      environment's `dbt`), so the version is read from the package metadata;
    - a dbt adapter opened inside the Dagster process (profile, project, every macro),
      used only by dagster-dbt's column-metadata and row-count helpers, which this
      project does not call (dagster-dbt already runs without it when it cannot open one).
    """

    @property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        """dagster-dbt's `cli()` (selection, environment, asset events), with dbt run in
        this process instead of a subprocess (orchestration/defs/dbt/in_process.py)."""
        with dbt_in_this_process():
            return super().cli(args, **kwargs)


def dbt_resource(target: str = "refresh") -> DbtCliResource:
    """`target`: the profiles.yml target (Settings.dbt_target): `refresh`, one DuckDB
    connection for the whole build, or `spark`."""
    return GtmDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        target=target,
        # dbt's own debug log file (<target>/dbt.log) takes warnings and errors only:
        # writing every debug line cost about 0.7 s a build; the info-level lines of
        # each run are kept by the dbt asset (<warehouse>/logs/dbt_<run>.log).
        global_config_flags=["--no-use-colors", "--log-level-file", "warn"],
    )
