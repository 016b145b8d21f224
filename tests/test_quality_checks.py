"""The quality gate in Dagster: checks on every suite's asset, blocking where they should be."""

import datetime as dt

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.quality.checks import ERROR_CHECK, WARN_CHECK, check_results
from orchestration.lib.quality.gate import ExpectationOutcome, GateReport, SuiteOutcome, missing_table
from orchestration.lib.quality.suites import MART_TARGETS, SOURCE_TARGETS, Severity


def _check_specs() -> dict[dg.AssetCheckKey, dg.AssetCheckSpec]:
    graph = defs.resolve_asset_graph()
    return {key: graph.get_check_spec(key) for key in graph.asset_check_keys}


def test_every_suite_is_a_blocking_error_check_and_a_warning_check_on_its_asset():
    specs = _check_specs()
    for target in (*SOURCE_TARGETS, *MART_TARGETS):
        key = dg.AssetKey(list(target.asset_path))
        error = specs[dg.AssetCheckKey(key, ERROR_CHECK)]
        warn = specs[dg.AssetCheckKey(key, WARN_CHECK)]
        assert error.blocking and not warn.blocking, target.suite


def test_the_nightly_job_runs_the_checks_and_the_failure_sensor_watches_it():
    job = defs.resolve_job_def("nightly_refresh")
    check_keys = job.asset_layer.asset_graph.asset_check_keys
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "crm__opportunities"]), ERROR_CHECK) in check_keys
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "mrr_movements"]), ERROR_CHECK) in check_keys
    sensor = defs.resolve_sensor_def("alert_on_failed_refresh")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def _report(*suites: SuiteOutcome) -> GateReport:
    return GateReport("run-1", dt.datetime(2026, 9, 30), suites, None, 1.0)


def test_a_failed_suite_reports_its_failing_expectations_with_counts_and_examples():
    target = SOURCE_TARGETS[0]
    failing = ExpectationOutcome(
        suite=target.suite,
        asset="raw/x",
        expectation_id="e1",
        expectation_type="expect_no_unexpected_rows",
        description="account_id resolves to a row of crm__accounts",
        severity=Severity.ERROR,
        status="failed",
        unexpected_count=2,
        examples=[{"opportunity_id": "O9", "account_id": "A404"}],
    )
    passing = ExpectationOutcome(
        suite=target.suite,
        asset="raw/x",
        expectation_id="e2",
        expectation_type="t",
        description="fine",
        severity=Severity.WARN,
        status="passed",
    )
    error, warn = check_results(
        _report(SuiteOutcome(target, (failing, passing))), SuiteOutcome(target, (failing, passing))
    )
    assert (error.check_name, error.passed, error.severity) == (ERROR_CHECK, False, dg.AssetCheckSeverity.ERROR)
    assert "account_id resolves" in error.description and "A404" in error.description
    failures = error.metadata["failures"].value
    assert failures[0]["unexpected_count"] == 2
    assert failures[0]["examples"] == [{"opportunity_id": "O9", "account_id": "A404"}]
    assert (warn.check_name, warn.passed, warn.severity) == (WARN_CHECK, True, dg.AssetCheckSeverity.WARN)


def test_a_suite_whose_table_is_missing_fails_its_blocking_check_naming_the_table():
    target = next(t for t in MART_TARGETS if t.table == "commercial_ratio")
    suite = SuiteOutcome(target, (missing_table(target),))
    error, warn = check_results(_report(suite), suite)
    assert (error.check_name, error.passed) == (ERROR_CHECK, False)
    assert "suite marts.commercial_ratio" in error.description
    assert "table marts.commercial_ratio does not exist" in error.description
    assert warn.passed


def _failed_run(instance: dg.DagsterInstance, tags: dict | None = None):
    @dg.op
    def boom() -> None:
        raise ValueError("disk full")

    @dg.job
    def nightly() -> None:
        boom()

    return nightly.execute_in_process(instance=instance, raise_on_error=False, tags=tags or {})


def test_the_failure_sensor_alerts_naming_the_failed_step(monkeypatch):
    from orchestration.defs.quality.resources import AlertResource
    from orchestration.defs.quality.sensors import alert_on_failed_refresh
    from tests.support.webhook import LocalWebhook as _Webhook

    instance = dg.DagsterInstance.ephemeral()
    result = _failed_run(instance)
    with _Webhook() as hook:
        monkeypatch.setenv("GTM_ALERT_WEBHOOK", hook.url)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_failed_refresh",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"alerts": AlertResource()},
        ).for_run_failure()
        alert_on_failed_refresh(context)
    ((body, _),) = hook.received
    assert "NOT published" in body["text"]
    assert "step boom" in body["text"] and "disk full" in body["text"]


def test_runs_alerted_by_gtm_refresh_are_not_alerted_twice(monkeypatch):
    from orchestration.defs.quality.resources import AlertResource
    from orchestration.defs.quality.sensors import alert_on_failed_refresh
    from orchestration.lib.quality.alerts import ALERTED_BY_TAG
    from tests.support.webhook import LocalWebhook as _Webhook

    instance = dg.DagsterInstance.ephemeral()
    result = _failed_run(instance, tags={ALERTED_BY_TAG: "cli"})
    with _Webhook() as hook:
        monkeypatch.setenv("GTM_ALERT_WEBHOOK", hook.url)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_failed_refresh",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"alerts": AlertResource()},
        ).for_run_failure()
        alert_on_failed_refresh(context)
    assert hook.received == []
