"""A mart with a NaN or an infinite number fails the quality gate (issue 13 item 5)."""

from contextlib import closing

import dagster as dg
import duckdb

from orchestration.defs.quality.checks import ERROR_CHECK, check_results
from orchestration.lib.quality.finite_numbers import DESCRIPTION
from orchestration.lib.quality.gate import evaluate
from orchestration.lib.quality.suites import TARGETS_BY_SUITE
from orchestration.settings import Settings


def test_a_mart_with_a_non_finite_number_fails_the_gate(tmp_path):
    settings = Settings.from_env({"GTM_WAREHOUSE_DIR": str(tmp_path), "GTM_AS_OF_DATE": "2026-11-26"})
    with closing(duckdb.connect(str(settings.work_db_path))) as con:
        con.execute("create schema marts")
        # every column of the mart; two amounts of 1e308 summed (infinity) and a 0/0 (NaN)
        con.execute(
            """create table marts.mrr_movements as select * from (values
            (date '2026-08-01', 0.0, 1e308 + 1e308, 0.0, 0.0, 0.0, 0.0, 100.0, 0, 1, 0, 0, 1),
            (date '2026-09-01', 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 1, 0, 0, 0, 1),
            (date '2026-10-01', 100.0, 0.0, 0.0, 'nan'::double, 0.0, 0.0, 100.0, 1, 0, 0, 0, 1))
            as t(month, starting_mrr, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr,
                 churned_mrr, ending_mrr, customers_start, new_customers, reactivated_customers,
                 churned_customers, customers_end)"""
        )
    target = TARGETS_BY_SUITE["marts.mrr_movements"]
    report = evaluate(settings, [target], "finite-run")
    suite = report.suite("marts.mrr_movements")
    (finite,) = [e for e in suite.expectations if e.description == DESCRIPTION]
    assert (finite.status, finite.unexpected_count) == ("failed", 2)
    assert [row["month"] for row in finite.examples] == ["2026-08-01", "2026-10-01"]
    assert [(row["new_mrr"], row["expansion_mrr"]) for row in finite.examples] == [("inf", "0.0"), ("0.0", "nan")]
    error = next(r for r in check_results(report, suite) if r.check_name == ERROR_CHECK)
    assert not error.passed and error.severity == dg.AssetCheckSeverity.ERROR
    listed = {f["expectation"]: f["unexpected_count"] for f in error.metadata["failures"].value}
    assert listed[DESCRIPTION] == 2


def test_a_mart_with_finite_numbers_passes_that_expectation(tmp_path):
    settings = Settings.from_env({"GTM_WAREHOUSE_DIR": str(tmp_path), "GTM_AS_OF_DATE": "2026-11-26"})
    with closing(duckdb.connect(str(settings.work_db_path))) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mrr_movements as select date '2026-08-01' as month, 1e308 as starting_mrr")
    report = evaluate(settings, [TARGETS_BY_SUITE["marts.mrr_movements"]], "finite-run")
    (finite,) = [e for e in report.suite("marts.mrr_movements").expectations if e.description == DESCRIPTION]
    assert (finite.status, finite.unexpected_count) == ("passed", 0)


def test_every_mart_of_a_step_is_checked_through_one_connection(tmp_path, monkeypatch):
    """Two marts in one gate step: each gets its own outcome (the infinite amount is the
    renewals mart's only), read through a single connection to the work database."""
    from orchestration.lib.quality import finite_numbers

    settings = Settings.from_env({"GTM_WAREHOUSE_DIR": str(tmp_path), "GTM_AS_OF_DATE": "2026-11-26"})
    with closing(duckdb.connect(str(settings.work_db_path))) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mrr_movements as select date '2026-08-01' as month, 100.0 as starting_mrr")
        con.execute(
            """create table marts.renewals as select * from (values
            (date '2026-08-01', 1e308 * 10, 3), (date '2026-09-01', 50.0, 1)) as t(expiry_month, arr, deals)"""
        )
    opened = []
    real_connect = duckdb.connect
    monkeypatch.setattr(finite_numbers.duckdb, "connect", lambda *a, **k: opened.append(a) or real_connect(*a, **k))
    fields = finite_numbers.outcome_fields(
        settings.work_db_path, [TARGETS_BY_SUITE["marts.mrr_movements"], TARGETS_BY_SUITE["marts.renewals"]]
    )
    assert len(opened) == 1
    assert (fields["marts.mrr_movements"]["status"], fields["marts.mrr_movements"]["unexpected_count"]) == ("passed", 0)
    assert (fields["marts.renewals"]["status"], fields["marts.renewals"]["unexpected_count"]) == ("failed", 1)
    assert fields["marts.renewals"]["examples"] == [{"expiry_month": "2026-08-01", "arr": "inf", "deals": "3"}]
    assert finite_numbers.outcome_fields(settings.work_db_path, []) == {}
