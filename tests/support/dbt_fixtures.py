"""Build the dbt project over small hand-written raw tables, for metric tests.

A metric test writes a few rows per source entity (values worked out on paper),
builds the models it needs into a DuckDB file under tmp_path, and compares the
marts with the numbers computed by hand in the test. The ingest step is bypassed:
raw tables are created straight from the contract, so these tests pin down the
dbt logic alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib.contract import DUCKDB_TYPES, ENTITIES_BY_NAME
from orchestration.lib.ingest.snapshots import SNAPSHOT_COLUMNS, SNAPSHOT_ENTITIES
from orchestration.lib.quality.dbt_tests import store_failing_rows
from orchestration.settings import DBT_PROJECT_DIR, Settings

# The settings' own defaults (one home: orchestration/settings.py), with a fixed date.
DEFAULT_VARS: dict[str, Any] = {
    "as_of_date": "2026-09-30",
    **Settings.from_env({}, as_of_date="2026-09-30").dbt_vars(),
}


def write_raw_tables(db_path: Path, rows_by_entity: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Create every raw.<source>__<entity> table of the contract and every snapshots table
    the ingest writes (empty unless given rows; the stage mapping defaults to the shipped
    one, like the setting); values may be Python objects or ISO strings, cast by DuckDB.
    A snapshots table's rows may also set `_source_file` and `_extract_date`."""
    rows_by_entity = {"config__stage_mapping": default_stage_mapping_rows(), **rows_by_entity}
    with closing(duckdb.connect(str(db_path))) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists raw")
        for name, entity in ENTITIES_BY_NAME.items():
            columns = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in entity.columns)
            con.execute(
                f"create or replace table raw.{name} ({columns}, "
                "_source_file varchar, _source_row bigint, _loaded_at timestamp)"
            )
            rows = rows_by_entity.get(name, ())
            unknown = {k for row in rows for k in row} - set(entity.column_names)
            if unknown:
                raise KeyError(f"{name} has no column(s) {sorted(unknown)}")
            if not rows:
                continue
            names = entity.column_names
            placeholders = ", ".join("?" for _ in names)
            quoted = ", ".join(f'"{n}"' for n in names)
            con.executemany(
                f"insert into raw.{name} ({quoted}) values ({placeholders})",
                [[row.get(n) for n in names] for row in rows],
            )
        for entity in SNAPSHOT_ENTITIES:
            _write_snapshots_table(con, entity, rows_by_entity.get(f"{entity.qualified_name}_snapshots", ()))


def _write_snapshots_table(con: duckdb.DuckDBPyConnection, entity: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    name = f"{entity.qualified_name}_snapshots"
    columns = [f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in entity.columns]
    columns += [f"{column} {sql_type}" for column, sql_type in SNAPSHOT_COLUMNS]
    con.execute(f"create or replace table raw.{name} ({', '.join(columns)})")
    names = [*entity.column_names, "_source_file", "_extract_date", "_source_row"]
    unknown = {k for row in rows for k in row} - set(names)
    if unknown:
        raise KeyError(f"{name} has no column(s) {sorted(unknown)}")
    if rows:
        quoted = ", ".join(f'"{n}"' for n in names)
        con.executemany(
            f"insert into raw.{name} ({quoted}) values ({', '.join('?' for _ in names)})",
            [[row.get(n) for n in names] for row in rows],
        )


def default_stage_mapping_rows() -> list[dict[str, Any]]:
    """The shipped default stage mapping, as rows for raw.config__stage_mapping."""
    import csv

    with open(DBT_PROJECT_DIR / "seeds" / "stage_mapping.csv", newline="") as handle:
        return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(handle)]


def dbt_build(
    db_path: Path,
    target_dir: Path,
    select: str | None = None,
    vars: Mapping[str, Any] | None = None,
    command: str = "build",
) -> Any:
    """Run a dbt command in-process against `db_path`; raise with dbt's messages on failure."""
    from dbt.cli.main import dbtRunner

    os.environ["GTM_WORK_DB_PATH"] = str(db_path)
    args = [
        command,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target_dir),
        "--log-path", str(target_dir),
        "--vars", json.dumps({**DEFAULT_VARS, **(vars or {})}),
        "--quiet",
    ]
    if select:
        # Only tests whose every parent is selected: a partial build must not run the
        # tests of models it did not build.
        args += ["--select", select, "--indirect-selection", "cautious"]
    result = dbtRunner().invoke(args)
    if (target_dir / "run_results.json").exists():  # failing rows kept as the refresh keeps them
        store_failing_rows(
            db_path,
            json.loads((target_dir / "run_results.json").read_text()),
            json.loads((target_dir / "manifest.json").read_text()),
        )
    if not result.success:
        failures = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) not in ("success", "pass", "warn"):
                failures.append(f"{node.node.unique_id}: {node.status}: {node.message}")
        raise AssertionError(f"dbt {command} failed: {result.exception or ''}\n" + "\n".join(failures))
    return result


def build_fixture(
    tmp_path_factory: Any,
    name: str,
    rows_by_entity: Mapping[str, Sequence[Mapping[str, Any]]],
    select: str,
    vars: Mapping[str, Any] | None = None,
) -> Path:
    """A fresh work database holding `rows_by_entity` with the `select`ed models built on it."""
    work = tmp_path_factory.mktemp(name)
    db_path = work / "work.duckdb"
    write_raw_tables(db_path, rows_by_entity)
    dbt_build(db_path, work / "target", select=select, vars=vars)
    return db_path


def query(db_path: Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts (small results only)."""
    with closing(duckdb.connect(str(db_path), read_only=True)) as con:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def assert_row_values(row: Mapping[str, Any], columns: Sequence[str], expected: Sequence[Any]) -> None:
    """Each of `columns` equals the hand-worked value (None: the cell must be NULL)."""
    for column, value in zip(columns, expected, strict=True):
        if value is None:
            assert row[column] is None, column
        else:
            assert row[column] == pytest.approx(value), column


def subscription_row(sid: str, account: str, start: str, end: str | None, arr: float, currency: str = "USD") -> dict:
    """A raw.billing__subscriptions row for the retention fixtures."""
    return {
        "subscription_id": sid,
        "account_id": account,
        "start_date": start,
        "end_date": end,
        "arr": arr,
        "currency": currency,
    }
