"""dbt test results -> audit.check_results rows, warnings and the dbt step's error
(orchestration/lib/quality/dbt_tests.py), from a hand-made manifest and run_results."""

from __future__ import annotations

import datetime as dt
from contextlib import closing

import duckdb

from orchestration.lib.quality import dbt_tests


def _test_node(name: str, test_type: str | None, attached: str | None, parents: list[str], severity: str) -> dict:
    node = {
        "unique_id": f"test.p.{name}",
        "resource_type": "test",
        "name": name,
        "attached_node": attached,
        "depends_on": {"nodes": parents},
        "config": {"severity": severity},
    }
    if test_type:  # a generic test; a singular test has no test_metadata
        node["test_metadata"] = {"name": test_type}
    return node


_TESTS = [
    _test_node("unique_stg_a_id", "unique", "model.p.stg_a", ["model.p.stg_a"], "ERROR"),
    _test_node("relationships_stg_a_b", "relationships", "model.p.stg_a", ["model.p.stg_a", "model.p.mart_b"], "warn"),
    # singular, reads two models
    _test_node("assert_a_matches_b", None, None, ["macro.p.x", "model.p.stg_a", "model.p.mart_b"], "ERROR"),
    _test_node("not_null_mart_b_x", "not_null", "model.p.mart_b", ["model.p.mart_b"], "ERROR"),
]
MANIFEST = {
    "nodes": {
        "model.p.stg_a": {"unique_id": "model.p.stg_a", "resource_type": "model", "name": "stg_a"},
        "model.p.mart_b": {"unique_id": "model.p.mart_b", "resource_type": "model", "name": "mart_b"},
        **{node["unique_id"]: node for node in _TESTS},
    }
}
RUN_RESULTS = {
    "results": [
        {"unique_id": "model.p.stg_a", "status": "success", "failures": None, "message": "OK"},
        {"unique_id": "test.p.unique_stg_a_id", "status": "pass", "failures": 0, "message": None},
        {"unique_id": "test.p.relationships_stg_a_b", "status": "warn", "failures": 3, "message": "Got 3 results"},
        {"unique_id": "test.p.assert_a_matches_b", "status": "fail", "failures": 2, "message": "Got 2 results"},
        {"unique_id": "model.p.mart_b", "status": "error", "failures": None, "message": "Runtime Error\n  boom"},
        {"unique_id": "test.p.not_null_mart_b_x", "status": "skipped", "failures": None, "message": None},
    ]
}


def _asset(node) -> str:
    return f"layer/{node['name']}"


def test_every_test_becomes_one_outcome_with_its_asset_severity_and_status():
    outcomes = dbt_tests.test_outcomes(RUN_RESULTS, MANIFEST, _asset)
    assert [(o.name, o.test_type, o.asset, o.severity, o.status, o.failures) for o in outcomes] == [
        ("unique_stg_a_id", "unique", "layer/stg_a", "error", "passed", 0),
        ("relationships_stg_a_b", "relationships", "layer/stg_a", "warn", "warned", 3),
        ("assert_a_matches_b", "singular", "layer/stg_a, layer/mart_b", "error", "failed", 2),
        ("not_null_mart_b_x", "not_null", "layer/mart_b", "error", "skipped", None),
    ]
    assert outcomes[0].message is None  # a pass carries no message
    assert outcomes[1].problem == "relationships_stg_a_b on layer/stg_a: Got 3 results"


def test_the_step_error_names_the_failed_nodes_first():
    lines = dbt_tests.failed_nodes(RUN_RESULTS, MANIFEST)
    assert lines == ["test assert_a_matches_b: Got 2 results", "model mart_b: Runtime Error boom"]
    text = dbt_tests.failure_description(lines, log_path="/w/logs/dbt_r1.log")
    first, second = text.splitlines()
    assert first == "dbt build failed: test assert_a_matches_b: Got 2 results; model mart_b: Runtime Error boom"
    assert second == "Full dbt log: /w/logs/dbt_r1.log"
    many = dbt_tests.failure_description([f"test t{i}: x" for i in range(7)], log_path="l")
    assert many.splitlines()[0].endswith("test t4: x (and 2 more)")
    assert dbt_tests.failure_description([], log_path="l") == "dbt build failed; see the dbt log: l"


def test_recorded_rows_replace_the_runs_earlier_rows_and_warnings_are_listed(tmp_path):
    db = tmp_path / "work.duckdb"
    outcomes = dbt_tests.test_outcomes(RUN_RESULTS, MANIFEST, _asset)
    at = dt.datetime(2026, 11, 27, 2, 0)
    dbt_tests.record(db, "r1", outcomes, at)
    dbt_tests.record(db, "r1", outcomes, at)  # a retried step: not counted twice
    dbt_tests.record(db, "r0", outcomes[:1], at)
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        rows = con.execute(
            "select suite, asset, expectation_type, expectation, severity, status, unexpected_count "
            "from audit.check_results where run_id = 'r1' order by expectation"
        ).fetchall()
    assert rows == [
        ("dbt", "layer/stg_a, layer/mart_b", "singular", "assert_a_matches_b", "error", "failed", 2),
        ("dbt", "layer/mart_b", "not_null", "not_null_mart_b_x", "error", "skipped", None),
        ("dbt", "layer/stg_a", "relationships", "relationships_stg_a_b", "warn", "warned", 3),
        ("dbt", "layer/stg_a", "unique", "unique_stg_a_id", "error", "passed", 0),
    ]
    assert dbt_tests.warnings(db, "r1") == ["dbt test relationships_stg_a_b on layer/stg_a: Got 3 results"]
    assert dbt_tests.warnings(db, "r0") == []
    assert dbt_tests.warnings(tmp_path / "missing.duckdb", "r1") == []


def test_audit_rows_are_written_in_statements_of_several_rows(tmp_path, monkeypatch):
    """Five rows in statements of two rows each (2 + 2 + 1): every row and value as given,
    NULLs included; a rewrite of one suite keeps the other suite's rows."""
    from orchestration.lib.quality import gate

    monkeypatch.setattr(gate, "INSERT_ROWS", 2)
    db = tmp_path / "work.duckdb"
    at = dt.datetime(2026, 11, 27, 2, 0)

    def row(suite, n, count):
        return ["r1", suite, "a/b", f"e{n}", "t", f"x{n}", "error", "passed", count, None, "[]", None, at]

    rows = [row("s1", 1, 0), row("s1", 2, None), row("s1", 3, 7), row("s2", 4, 1), row("s2", 5, None)]
    gate.write_audit_rows(db, "r1", ["s1", "s2"], rows)
    gate.write_audit_rows(db, "r1", ["s2"], [row("s2", 6, 2)])
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        stored = con.execute(
            "select suite, expectation_id, unexpected_count, observed_value, examples, evaluated_at "
            "from audit.check_results where run_id = 'r1' order by expectation_id"
        ).fetchall()
    assert stored == [
        ("s1", "e1", 0, None, "[]", at),
        ("s1", "e2", None, None, "[]", at),
        ("s1", "e3", 7, None, "[]", at),
        ("s2", "e6", 2, None, "[]", at),
    ]
