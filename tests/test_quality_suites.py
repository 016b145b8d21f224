"""The suite files: one per source entity and public mart, the generator's output exactly,
loadable, every expectation with a severity."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.lib.dbt_manifest import public_marts
from orchestration.lib.quality.suites import (
    MART_TARGETS,
    RUN_PARAMETERS,
    SQL_EXPECTATION_TYPE,
    SUITES_DIR,
    TARGETS_BY_SUITE,
    Severity,
    SuiteFileError,
    load_suites,
    placeholders,
    render_query,
    severity_of,
    sql_literal,
)
from orchestration.lib.quality.suites_gen.__main__ import main as generator_main
from orchestration.lib.quality.suites_gen.suite_files import write_suites
from orchestration.settings import EXPECTATIONS_DIR, PROJECT_ROOT


def _suite_files():
    return {str(p.relative_to(SUITES_DIR).with_suffix("")).replace("/", "."): p for p in SUITES_DIR.rglob("*.json")}


def test_a_suite_file_per_source_entity_and_per_mart():
    expected = {f"raw.{name}" for name in ENTITIES_BY_NAME} | {f"marts.{m}" for m in public_marts()}
    assert set(_suite_files()) == expected == set(TARGETS_BY_SUITE)
    assert {t.key for t in MART_TARGETS} >= {("month",), ("period_grain", "period_start")}
    assert (EXPECTATIONS_DIR / "great_expectations.yml").exists()


def test_every_expectation_has_a_severity_and_a_description():
    for name, path in _suite_files().items():
        suite = json.loads(path.read_text())
        assert suite["name"] == name
        ids = [e["id"] for e in suite["expectations"]]
        assert len(ids) == len(set(ids)), name
        for expectation in suite["expectations"]:
            severity = severity_of(expectation["meta"], name)
            assert expectation["severity"] == severity.gx_severity, (name, expectation["id"])
            assert expectation["description"], (name, expectation["id"])
            if expectation["type"] == SQL_EXPECTATION_TYPE:
                query = expectation["kwargs"]["unexpected_rows_query"]
                assert "{batch}" in query
                assert placeholders(query) <= {"batch", *RUN_PARAMETERS}, (name, query)


def test_suites_load_from_the_file_data_context_with_their_severity():
    suites = load_suites()
    assert set(suites) == set(TARGETS_BY_SUITE)
    opportunities = suites["raw.crm__opportunities"]
    by_description = {e.description: e for e in opportunities.expectations}
    blocking_fk = next(e for d, e in by_description.items() if d.startswith("account_id resolves"))
    assert blocking_fk.meta["severity"] == "error" and blocking_fk.severity == "critical"
    leads = suites["raw.crm__leads"]
    order = next(e for e in leads.expectations if e.description.startswith("mql_at is on or after"))
    assert order.meta["severity"] == "warn" and order.severity == "warning"


def test_no_setting_is_frozen_into_a_suite_file():
    text = "\n".join(p.read_text() for p in _suite_files().values())
    assert "{as_of_date}" in text and "{quarantine_share}" in text
    for literal in ("2026-", "'USD'", "0.15 "):
        assert literal not in text, literal


def test_the_committed_suite_files_are_the_generators_output():
    """The drift test: a hand edit, or a contract or mart yml changed without
    regenerating, fails here naming the file."""
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.lib.quality.suites_gen", "--check"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_check_names_each_drifted_file_and_exits_non_zero(tmp_path, capsys):
    written = write_suites(tmp_path)
    assert len(written) == len(TARGETS_BY_SUITE)
    assert write_suites(tmp_path) == []  # deterministic: a second run changes nothing
    assert generator_main(["--check", "--dir", str(tmp_path)]) == 0
    edited = tmp_path / "raw" / "crm__leads.json"
    edited.write_text(edited.read_text().replace('"warn"', '"error"', 1))
    (tmp_path / "marts" / "renewals.json").unlink()
    (tmp_path / "marts" / "old_mart.json").write_text("{}")
    capsys.readouterr()
    assert generator_main(["--check", "--dir", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{tmp_path}/marts/renewals.json: missing",
        f"{tmp_path}/raw/crm__leads.json: differs from the generated suite",
        f"{tmp_path}/marts/old_mart.json: no suite target (a removed entity or mart?)",
    ]
    assert generator_main(["--dir", str(tmp_path)]) == 0
    assert generator_main(["--check", "--dir", str(tmp_path)]) == 0
    assert not (tmp_path / "marts" / "old_mart.json").exists()


def test_render_query_fills_parameters_and_keeps_batch():
    query = "select * from {batch} as b where b.d > {as_of_date} and b.c <> {reporting_currency}"
    rendered = render_query(query, {"as_of_date": dt.date(2026, 9, 30), "reporting_currency": "USD"})
    assert rendered == ("select * from {batch} as b where b.d > DATE '2026-09-30' and b.c <> 'USD'")
    assert render_query("{{literal}} {batch}", {}) == "{{literal}} {batch}"
    with pytest.raises(SuiteFileError, match=r"unknown parameter \{as_of\}"):
        render_query("select 1 from {batch} where x > {as_of}", {"as_of_date": None})


def test_sql_literals():
    assert sql_literal(None) == "NULL"
    assert sql_literal(0.15) == "0.15"
    assert sql_literal(3) == "3"
    assert sql_literal("O'Brien") == "'O''Brien'"
    assert sql_literal(dt.date(2026, 1, 2)) == "DATE '2026-01-02'"


def test_an_unknown_severity_is_refused():
    assert severity_of({"severity": "warn"}) is Severity.WARN
    with pytest.raises(SuiteFileError, match="'critical'"):
        severity_of({"severity": "critical"}, "suite x")
    with pytest.raises(SuiteFileError):
        severity_of(None)
