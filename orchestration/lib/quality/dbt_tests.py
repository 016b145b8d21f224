"""dbt's data tests, read from the build's run_results.json and recorded beside the
Great Expectations results in `audit.check_results` (suite `dbt`).

dbt tests are not Dagster asset checks: each check costs Dagster three events in its
log (planned, output, evaluation), and 295 tests made that the largest single cost of a
refresh (issue 8). They still run inside every `dbt build`, a failing one still blocks
publishing (the dbt step fails, naming it), and every result is in the audit table, the
published `marts.check_results` and the publication's check counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.quality.gate import AUDIT_TABLE, Status, write_audit_rows
from orchestration.lib.typing_rules import quote_identifier

SUITE = "dbt"
# dbt's result statuses -> the audit table's.
STATUSES: dict[str, Status] = {
    "pass": "passed",
    "warn": "warned",
    "fail": "failed",
    "error": "failed",
    "skipped": "skipped",
}
MAX_NAMED = 5
EXAMPLE_ROWS = 3  # failing rows shown per failed test
# dbt's own schema for a test's failing rows (`store_failures`), kept for the tests that failed
FAILURES_SCHEMA = "dbt_test__audit"


@dataclass(frozen=True)
class TestOutcome:
    unique_id: str
    name: str
    test_type: str  # grain, not_null_columns, relationships, ... or "singular"
    asset: str  # the tested model's Dagster asset key, e.g. "marts/commercial_ratio"
    severity: str  # "error" (blocks) or "warn"
    status: Status
    failures: int | None
    message: str | None

    @property
    def problem(self) -> str:
        text = f"{self.name} on {self.asset}"
        return f"{text}: {self.message}" if self.message else text


def test_outcomes(
    run_results: Mapping[str, Any],
    manifest: Mapping[str, Any],
    asset_of: Callable[[Mapping[str, Any]], str],
) -> list[TestOutcome]:
    """Every data test of a dbt invocation, in run order. `asset_of` names the asset
    of a model's manifest node."""
    nodes = manifest["nodes"]
    outcomes = []
    for result in run_results.get("results", []):
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "test":
            continue
        status = STATUSES.get(str(result.get("status")), "failed")
        outcomes.append(
            TestOutcome(
                unique_id=node["unique_id"],
                name=node["name"],
                test_type=(node.get("test_metadata") or {}).get("name", "singular"),
                asset=_tested_asset(node, nodes, asset_of),
                severity=str(node["config"].get("severity", "error")).lower(),
                status=status,
                failures=result.get("failures"),
                message=None if status == "passed" else result.get("message"),
            )
        )
    return outcomes


def _tested_asset(
    node: Mapping[str, Any],
    nodes: Mapping[str, Any],
    asset_of: Callable[[Mapping[str, Any]], str],
) -> str:
    """The model a test is attached to (a generic test's model; a singular test's
    models, when it reads several)."""
    attached = node.get("attached_node")
    models = [attached] if attached else [n for n in node["depends_on"]["nodes"] if n in nodes]
    return ", ".join(asset_of(nodes[m]) for m in models) or node["name"]


def store_failing_rows(work_db: Path, run_results: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[str]:
    """Keep the rows of every test of the build that failed or warned in
    `dbt_test__audit.<test>`, where dbt's `store_failures` would have written them, by
    running the test's compiled query again; the tables written.

    dbt would store every test's rows, a table created and counted per passing test too
    (measured at about 3 ms a stored test, bench/README.md): here only failures pay, after
    the build. Tables of tests that no longer fail are
    dropped, so the schema holds this build's failures only. Rows dbt did store (on
    Spark, copied in by lib/engine/spark_failures.py) are left as they are.
    """
    stored_by_dbt = {_table_of(r["relation_name"]) for r in run_results.get("results", []) if r.get("relation_name")}
    failed = [
        (manifest["nodes"][r["unique_id"]], r["compiled_code"])
        for r in run_results.get("results", [])
        if r.get("status") in ("fail", "warn") and not r.get("relation_name") and r.get("compiled_code")
        and r["unique_id"] in manifest["nodes"]
    ]
    written = []
    with contextlib.closing(duckdb.connect(str(work_db))) as con:
        con.execute(f"create schema if not exists {FAILURES_SCHEMA}")
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [FAILURES_SCHEMA]
        ).fetchall():
            if table not in stored_by_dbt:
                con.execute(f"drop table if exists {FAILURES_SCHEMA}.{quote_identifier(table)}")
        for node, compiled_code in failed:
            relation = failures_relation(node)
            try:
                con.execute(f"create table {relation} as select * from ({compiled_code}) as failing_rows")
            except duckdb.Error:  # the failure is reported all the same, without its rows
                continue
            written.append(relation)
    return written


def failures_relation(node: Mapping[str, Any]) -> str:
    """Where a test's failing rows are kept: its alias (dbt's name for the table, its
    name shortened with a hash when long) in `dbt_test__audit`."""
    return f"{FAILURES_SCHEMA}.{quote_identifier(node.get('alias') or node['name'])}"


def _table_of(relation: str) -> str:
    """`"work"."dbt_test__audit"."x"` (or Spark's `dbt_test__audit`.`x`) -> x"""
    return relation.replace("`", "").replace('"', "").rpartition(".")[2]


def failed_nodes(run_results: Mapping[str, Any], manifest: Mapping[str, Any], work_db: Path | None = None) -> list[str]:
    """Models that errored and blocking tests that failed, one line each; a failed test
    shows its first few failing rows (`store_failing_rows`, or dbt's own stored rows),
    read from `work_db`, so the line names what is wrong (the stage, the currency, the
    month)."""
    lines = []
    for result in run_results.get("results", []):
        if result.get("status") not in ("error", "fail"):
            continue
        node = manifest["nodes"].get(result["unique_id"], {})
        kind = node.get("resource_type", "node")
        line = f"{kind} {node.get('name', result['unique_id'])}: {_one_line(result.get('message'))}"
        if work_db is not None and kind == "test" and result.get("status") == "fail":
            examples = stored_failures(work_db, result.get("relation_name") or failures_relation(node))
            if examples:
                line += " e.g. " + "; ".join(_row_text(row) for row in examples)
        lines.append(line)
    return lines


def stored_failures(work_db: Path, relation: str, limit: int = EXAMPLE_ROWS) -> list[dict[str, Any]]:
    """The first `limit` failing rows kept in `relation`, as dicts; none when the table
    cannot be read."""
    if not work_db.exists():
        return []
    try:
        with contextlib.closing(duckdb.connect(str(work_db), read_only=True)) as con:
            cursor = con.execute(f"select * from {relation} limit {int(limit)}")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error:
        return []


def _row_text(row: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in row.items())


def failure_description(lines: list[str], log_path: Path) -> str:
    """The dbt step's error: what failed, first line first (the refresh summary and the
    alert show the first line)."""
    if not lines:
        return f"dbt build failed; see the dbt log: {log_path}"
    named = "; ".join(lines[:MAX_NAMED])
    more = f" (and {len(lines) - MAX_NAMED} more)" if len(lines) > MAX_NAMED else ""
    return f"dbt build failed: {named}{more}\nFull dbt log: {log_path}"


def record(work_db: Path, run_id: str, outcomes: Iterable[TestOutcome], evaluated_at: dt.datetime) -> None:
    """Write the tests' results to audit.check_results (this run's `dbt` rows replaced)."""
    rows = [
        [
            run_id,
            SUITE,
            o.asset,
            o.unique_id,
            o.test_type,
            o.name,
            o.severity,
            o.status,
            o.failures,
            None,
            "[]",
            o.message,
            evaluated_at,
        ]
        for o in outcomes
    ]
    write_audit_rows(work_db, run_id, [SUITE], rows)


def warnings(work_db: Path, run_id: str) -> list[str]:
    """The run's dbt tests that warned, one line each (the refresh summary shows them)."""
    if not work_db.exists():
        return []
    try:
        with contextlib.closing(duckdb.connect(str(work_db), read_only=True)) as con:
            rows = con.execute(
                f"select expectation, asset, error from {AUDIT_TABLE} "
                "where run_id = ? and suite = ? and status = 'warned' order by expectation",
                [run_id, SUITE],
            ).fetchall()
    except duckdb.CatalogException:  # no audit table yet: nothing was checked
        return []
    return [f"dbt test {name} on {asset}: {_one_line(message)}" for name, asset, message in rows]


def _one_line(message: str | None) -> str:
    """dbt's messages span lines ("Runtime Error\n  ..."); summaries show one."""
    return " ".join(str(message or "").split())
