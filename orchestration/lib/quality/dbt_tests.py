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
EXAMPLE_ROWS = 3  # stored failing rows shown per failed test


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


def failed_nodes(run_results: Mapping[str, Any], manifest: Mapping[str, Any], work_db: Path | None = None) -> list[str]:
    """Models that errored and blocking tests that failed, one line each; a test that
    stores its failing rows (`store_failures`) shows the first few of them, read from
    `work_db`, so the line names what is wrong (the stage, the currency, the month)."""
    lines = []
    for result in run_results.get("results", []):
        if result.get("status") not in ("error", "fail"):
            continue
        node = manifest["nodes"].get(result["unique_id"], {})
        kind = node.get("resource_type", "node")
        line = f"{kind} {node.get('name', result['unique_id'])}: {_one_line(result.get('message'))}"
        relation = result.get("relation_name") if kind == "test" else None
        if work_db is not None and relation:
            examples = stored_failures(work_db, relation)
            if examples:
                line += " e.g. " + "; ".join(_row_text(row) for row in examples)
        lines.append(line)
    return lines


def stored_failures(work_db: Path, relation: str, limit: int = EXAMPLE_ROWS) -> list[dict[str, Any]]:
    """The first `limit` rows a test stored (dbt's `store_failures` table), as dicts;
    none when the table cannot be read."""
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
