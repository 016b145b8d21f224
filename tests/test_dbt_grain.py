"""The project's `grain` generic test (dbt_project/tests/generic/grain.sql): a model's key
columns identify every row, present and unique, in one test. It must fail with one row
per problem: each key held by more than one row (with how many), each key column
holding nulls (with how many); check_nulls=false checks uniqueness alone.

The test runs in a throwaway dbt project over hand-made DuckDB tables (declared as
sources, so no model is built), the project's own grain.sql copied in. By hand:
- clean (account_id, month): (A1, Jan), (A1, Feb), (A2, Jan): no problem.
- repeated: the clean rows, (A1, Jan) twice more, (A2, Jan) once more: (A1, Jan) is held
  by 3 rows, (A2, Jan) by 2; no nulls.
- nulls: (A1, Jan), (A1, Feb), (A3, null), (null, Mar), (null, null): every key once;
  account_id null on 2 rows, month null on 2 rows. With check_nulls=false: passes.
- one column lead_id: L1, L1, null, null, L2: null on 2 rows; L1 held by 2 rows, and
  the null key by 2 (a null groups like any value).
"""

from __future__ import annotations

import json
import shutil
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.quality.dbt_tests import failed_nodes
from orchestration.settings import DBT_PROJECT_DIR

JAN, FEB, MAR = "2026-01-01", "2026-02-01", "2026-03-01"
CLEAN = [("A1", JAN), ("A1", FEB), ("A2", JAN)]
TABLES: dict[str, tuple[str, list[tuple]]] = {
    "clean": ("account_id varchar, month date", CLEAN),
    "repeated": ("account_id varchar, month date", [*CLEAN, ("A1", JAN), ("A1", JAN), ("A2", JAN)]),
    "nulls": ("account_id varchar, month date", [("A1", JAN), ("A1", FEB), ("A3", None), (None, MAR), (None, None)]),
    "leads": ("lead_id varchar", [("L1",), ("L1",), (None,), (None,), ("L2",)]),
}
# (table, the grain test's arguments)
TESTS: dict[str, tuple[str, dict]] = {
    "clean": ("clean", {"columns": ["account_id", "month"]}),
    "repeated": ("repeated", {"columns": ["account_id", "month"]}),
    "nulls": ("nulls", {"columns": ["account_id", "month"]}),
    "nulls_unchecked": ("nulls", {"columns": ["account_id", "month"], "check_nulls": False}),
    "leads": ("leads", {"columns": ["lead_id"]}),
}


def _write_project(project: Path, db: Path) -> None:
    (project / "tests" / "generic").mkdir(parents=True)
    shutil.copy(DBT_PROJECT_DIR / "tests" / "generic" / "grain.sql", project / "tests" / "generic" / "grain.sql")
    (project / "macros").mkdir()
    shutil.copy(DBT_PROJECT_DIR / "macros" / "engine" / "failing_rows.sql", project / "macros" / "failing_rows.sql")
    (project / "dbt_project.yml").write_text(
        "name: grain_test\nversion: '1.0'\nconfig-version: 2\nprofile: grain_test\n"
        "test-paths: [tests]\nflags: {send_anonymous_usage_stats: false}\n"
    )
    (project / "profiles.yml").write_text(
        f"grain_test:\n  target: t\n  outputs:\n    t: {{type: duckdb, path: '{db}', schema: main, keep_open: false}}\n"
    )
    # One source table per test, so each test's name (and stored failures) is its own.
    tables = [
        {"name": name, "identifier": table, "data_tests": [{"grain": {"arguments": arguments}}]}
        for name, (table, arguments) in TESTS.items()
    ]
    sources = {"version": 2, "sources": [{"name": "hand", "schema": "main", "tables": tables}]}
    (project / "models").mkdir()
    (project / "models" / "sources.yml").write_text(json.dumps(sources))


@pytest.fixture(scope="module")
def tested(tmp_path_factory):
    """Every grain test run once: (work db, {test: (status, stored rows)}, run results, manifest)."""
    from dbt.cli.main import dbtRunner

    work = tmp_path_factory.mktemp("grain")
    db = work / "work.duckdb"
    with closing(duckdb.connect(str(db))) as con:
        for name, (columns, rows) in TABLES.items():
            con.execute(f"create table {name} ({columns})")
            if rows:
                con.executemany(f"insert into {name} values ({', '.join('?' for _ in rows[0])})", rows)
    project = work / "project"
    _write_project(project, db)
    target = project / "target"
    result = dbtRunner().invoke(
        ["test", "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(target),
         "--log-path", str(target), "--quiet", "--store-failures"]  # every test's rows, the passing ones' too
    )  # fmt: skip
    assert result.exception is None, result.exception
    outcomes = {}
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        for node in result.result.results:
            ((_, name),) = node.node.sources
            rows = con.execute(f"select problem, row_count from {node.node.relation_name}").fetchall()
            outcomes[name] = (str(node.status), rows)
    run_results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    return db, outcomes, run_results, manifest


def test_a_clean_key_passes(tested):
    _, outcomes, _, _ = tested
    assert outcomes["clean"] == ("pass", [])


def test_each_repeated_key_fails_with_its_rows(tested):
    _, outcomes, _, _ = tested
    assert outcomes["repeated"] == (
        "fail",
        [
            ("duplicate (account_id, month) = (A1, 2026-01-01)", 3),
            ("duplicate (account_id, month) = (A2, 2026-01-01)", 2),
        ],
    )


def test_each_key_column_with_nulls_fails_with_how_many(tested):
    """No key repeats here: only the null half can fail it."""
    _, outcomes, _, _ = tested
    assert outcomes["nulls"] == ("fail", [("null account_id", 2), ("null month", 2)])


def test_check_nulls_false_checks_uniqueness_alone(tested):
    _, outcomes, _, _ = tested
    assert outcomes["nulls_unchecked"] == ("pass", [])


def test_one_column_nulls_first_then_repeated_keys(tested):
    _, outcomes, _, _ = tested
    assert outcomes["leads"] == (
        "fail",
        [("null lead_id", 2), ("duplicate lead_id = L1", 2), ("duplicate lead_id = null", 2)],
    )


def test_the_refresh_names_the_stored_problems(tested):
    """The dbt step's error line shows the first stored rows (orchestration/lib/quality/dbt_tests.py)."""
    db, _, run_results, manifest = tested
    lines = failed_nodes(run_results, manifest, db)
    (nulls,) = [line for line in lines if line.startswith("test source_grain_hand_nulls_account_id")]
    assert nulls.endswith("e.g. problem=null account_id, row_count=2; problem=null month, row_count=2")
