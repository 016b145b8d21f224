"""The suite files: one per source entity and mart, loadable, every expectation with a severity."""

import datetime as dt
import json

import pytest

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.lib.quality import generate_suites
from orchestration.lib.quality.suites import (
    MART_NAMES,
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
from orchestration.settings import EXPECTATIONS_DIR


def _suite_files():
    return {str(p.relative_to(SUITES_DIR).with_suffix("")).replace("/", "."): p for p in SUITES_DIR.rglob("*.json")}


def test_a_suite_file_per_source_entity_and_per_mart():
    expected = {f"raw.{name}" for name in ENTITIES_BY_NAME} | {f"marts.{m}" for m in MART_NAMES}
    assert set(_suite_files()) == expected == set(TARGETS_BY_SUITE)
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


def test_the_generator_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    generate_suites.generate(first)
    generate_suites.generate(second)
    files = sorted(p.relative_to(first) for p in first.rglob("*.json"))
    assert len(files) == len(TARGETS_BY_SUITE)
    for relative in files:
        assert (first / relative).read_text() == (second / relative).read_text()
    # Without --force existing files are left alone (they are edited by hand).
    (first / files[0]).write_text("{}")
    assert generate_suites.generate(first) == []
    assert (first / files[0]).read_text() == "{}"
    assert generate_suites.differing(first) == [str(files[0].with_suffix("")).replace("/", ".")]


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
