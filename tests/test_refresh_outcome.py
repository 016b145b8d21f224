"""What `gtm refresh` says about a run: only this run's rows, and each failure once, plainly
(issue 13 items 7 and 9)."""

from contextlib import closing

import dagster as dg
import duckdb
from dagster_shared.error import SerializableErrorInfo

from orchestration.lib.refresh import plain_failure, run_refresh
from orchestration.settings import load_settings

REQUIRED_BUT_MISSING = (
    "crm/campaigns",
    "crm/leads",
    "crm/opportunities",
    "crm/opportunity_stage_history",
    "billing/subscriptions",
    "billing/invoice_lines",
    "finance/spend",
)


def test_a_failed_run_shows_only_its_own_rows_and_each_failure_once(tmp_path, monkeypatch, capsys):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    accounts = landing / "crm" / "accounts"
    accounts.mkdir(parents=True)
    (accounts / "2026-11-26.csv").write_text(
        "account_id,account_name,created_at\na1,Acme,2026-01-01\na2,Bolt,2026-01-02\na3,Core,yesterday\n"
    )
    # an old copy saved under another name: it sorts after the dated extract and wins a1 and a2
    (accounts / "accounts-copy.csv").write_text(
        "account_id,account_name,created_at\na1,Acme Old,2025-01-01\na2,Bolt,2026-01-02\n"
    )
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("crm_stage,funnel_stage,stage_order,outcome\nQualify,qualify,1,open\nWon,won,,won\n")
    # the previous, complete run's log: 1,000 leads loaded
    warehouse.mkdir()
    with closing(duckdb.connect(str(warehouse / "work.duckdb"))) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw._ingest_log as select 'crm__leads' as entity, '2026-11-25.csv' as source_file, "
            "1000::bigint as rows_read, 1000::bigint as rows_loaded, 0::bigint as rows_quarantined, "
            "0::bigint as duplicates_dropped, timestamp '2026-11-25 02:00' as loaded_at"
        )
    for name, value in {
        "GTM_LANDING_DIR": landing,
        "GTM_WAREHOUSE_DIR": warehouse,
        "GTM_STAGE_MAPPING": mapping,
        "GTM_AS_OF_DATE": "2026-11-26",
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("GTM_ALERT_WEBHOOK", raising=False)

    outcome = run_refresh(load_settings(), instance=dg.DagsterInstance.ephemeral())

    assert not outcome.published
    # this run: 2 accounts loaded and 1 quarantined (created_at 'yesterday'), no fx rates
    # (optional, not landed), the 2 stages; nothing of the previous run's 1,000 leads
    assert outcome.source_rows == [
        ("crm__accounts", 2, 1),
        ("finance__fx_rates", 0, 0),
        ("config__stage_mapping", 2, 0),
    ]
    assert outcome.most_keys_from == {
        "crm__accounts": ("crm/accounts/accounts-copy.csv", 2),
        "config__stage_mapping": ("mapping.csv", 2),
    }
    summary = outcome.summary()
    assert (
        "crm__accounts                                   2        1   crm/accounts/accounts-copy.csv (2)\n" in summary
    )
    assert (
        summary.count("Warning: crm/accounts: file accounts-copy.csv: the name does not begin with an extract date")
        == 1
    )
    assert "crm__leads" not in summary.split("Step failed")[0]
    assert len(outcome.failed_steps) == 1
    step, message = outcome.failed_steps[0]
    assert step == "raw__sources"
    assert message.startswith("Ingest failed for crm__campaigns: crm/campaigns: required folder ")
    assert "dagster" not in message and "caused by" not in message
    for folder in REQUIRED_BUT_MISSING:
        assert summary.count(f"{folder}: required folder") == 1, folder
    printed = capsys.readouterr()
    assert "required folder" not in printed.out + printed.err  # the summary, printed by the caller, is the one copy


def test_a_wrapped_error_is_shown_as_the_error_itself_with_its_class():
    wrapped = SerializableErrorInfo(
        message='dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "x":\n',
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=SerializableErrorInfo(message="KeyError: '.txt'\n", stack=[], cls_name="KeyError"),
    )
    assert plain_failure(wrapped) == "KeyError: '.txt'"


def test_a_failure_is_its_description_alone():
    failure = SerializableErrorInfo(
        message="dagster._core.definitions.events.Failure: Ingest failed for crm__leads: no file\n",
        stack=[],
        cls_name="Failure",
    )
    assert plain_failure(failure) == "Ingest failed for crm__leads: no file"
