"""Resources: the warehouse (settings, DuckDB files, refresh lock) and the dbt CLI."""

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr

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
        with refresh_lock(self._settings.lock_path):
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


def dbt_resource() -> DbtCliResource:
    # The dbt of this environment, whether or not its bin folder is on PATH.
    dbt_executable = Path(sys.executable).with_name("dbt")
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(dbt_executable) if dbt_executable.exists() else "dbt",
        target="refresh",  # profiles.yml: one DuckDB connection for the whole build
    )
