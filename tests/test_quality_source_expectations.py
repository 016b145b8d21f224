"""Each kind of source expectation, against small hand-made raw tables.

Two work databases: a clean one (every expectation passes: no false alarms) and one
holding one fault of every kind, each in its own row, so one gate evaluation shows
every expectation failing for its own reason, with its severity.
"""

import copy
import datetime as dt
from contextlib import closing

import duckdb
import pytest

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.lib.publish import publish
from orchestration.lib.quality.gate import evaluate, expectation_counts, record
from orchestration.lib.quality.suites import MART_TARGETS, SOURCE_TARGETS, Severity
from orchestration.settings import Settings
from tests.support.dbt_fixtures import default_stage_mapping_rows, write_raw_tables

AS_OF = "2026-09-30"

CLEAN: dict[str, list[dict]] = {
    "crm__accounts": [
        {"account_id": "A1", "account_name": "Acme", "segment": "SMB", "created_at": "2025-01-01"},
        {"account_id": "A2", "account_name": "Beta", "created_at": "2025-02-01"},
    ],
    "crm__campaigns": [
        {
            "campaign_id": "C1",
            "campaign_name": "Expo",
            "channel": "events",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
        },
    ],
    "crm__leads": [
        {
            "lead_id": "L1",
            "created_at": "2026-09-28 10:00:00",
            "channel": "events",
            "campaign_id": "C1",
            "account_id": "A1",
            "mql_at": "2026-09-29 09:00:00",
        },
    ],
    "crm__opportunities": [
        {
            "opportunity_id": "O1",
            "account_id": "A1",
            "lead_id": "L1",
            "opportunity_type": "new_business",
            "created_at": "2026-09-28 12:00:00",
            "close_date": "2026-10-15",
            "stage": "Discovery Call",
            "is_closed": False,
            "is_won": False,
            "amount": 1000.0,
            "currency": "USD",
        },
    ],
    "crm__opportunity_stage_history": [
        {"opportunity_id": "O1", "stage": "Prospecting", "entered_at": "2026-09-28 12:00:00"},
        {"opportunity_id": "O1", "stage": "Discovery Call", "entered_at": "2026-09-29 08:00:00"},
    ],
    "billing__subscriptions": [
        {
            "subscription_id": "S1",
            "account_id": "A1",
            "start_date": "2025-01-01",
            "end_date": "2026-01-01",
            "arr": 12000.0,
            "currency": "USD",
        },
    ],
    "billing__invoice_lines": [
        {
            "invoice_line_id": "IL1",
            "invoice_id": "I1",
            "account_id": "A1",
            "subscription_id": "S1",
            "invoice_date": "2025-01-01",
            "service_start": "2025-01-01",
            "service_end": "2026-01-01",
            "amount": 12000.0,
            "currency": "USD",
            "line_type": "subscription",
        },
    ],
    "finance__spend": [
        {
            "spend_id": "SP1",
            "spend_date": "2026-09-29",
            "department": "marketing",
            "category": "advertising",
            "channel": "events",
            "campaign_id": "C1",
            "amount": 500.0,
            "currency": "EUR",
        },
    ],
    "finance__fx_rates": [
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.1},
        {"rate_date": "2026-09-29", "currency": "EUR", "rate_to_reporting": 1.12},
    ],
    "config__stage_mapping": default_stage_mapping_rows(),
}


def _faulty() -> dict[str, list[dict]]:
    rows = copy.deepcopy(CLEAN)
    rows["crm__accounts"].append({"account_id": "A3", "account_name": None, "created_at": "2025-03-01"})
    rows["crm__campaigns"].append(dict(rows["crm__campaigns"][0], campaign_name="Expo again"))
    rows["crm__leads"] += [
        {
            "lead_id": "L2",
            "created_at": "2026-09-20 10:00:00",
            "channel": "events",
            "campaign_id": "C404",
            "mql_at": "2026-09-19 10:00:00",
        },
        {"lead_id": "L3", "created_at": "2026-10-05 10:00:00", "channel": "events"},
    ]
    rows["crm__opportunities"].append(
        {
            "opportunity_id": "O2",
            "account_id": "A404",
            "opportunity_type": "upsell",
            "created_at": "2026-09-01 12:00:00",
            "close_date": "2026-10-15",
            "stage": "Legal Review",
            "is_closed": False,
            "is_won": False,
            "amount": -5.0,
            "currency": "USD",
        }
    )
    rows["crm__opportunity_stage_history"].append(
        {"opportunity_id": "O2", "stage": "Legal Review", "entered_at": "2026-09-02 12:00:00"}
    )
    rows["billing__subscriptions"].append(
        {
            "subscription_id": "S2",
            "account_id": "A1",
            "start_date": "2026-01-01",
            "end_date": "2026-01-01",
            "arr": -1.0,
            "currency": "USD",
        }
    )
    rows["billing__invoice_lines"].append(
        {
            "invoice_line_id": "IL2",
            "invoice_id": "I2",
            "account_id": "A404",
            "invoice_date": "2026-02-01",
            "service_start": "2026-02-01",
            "service_end": "2026-01-01",
            "amount": 10.0,
            "currency": "USD",
            "line_type": "refund",
        }
    )
    rows["finance__spend"] += [
        {
            "spend_id": "SP2",
            "spend_date": "2026-09-01",
            "department": "finance",
            "category": "tools",
            "campaign_id": "C404",
            "amount": 20.0,
            "currency": "CHF",
        },
        {
            "spend_id": "SP3",
            "spend_date": "2025-12-01",
            "department": "sales",
            "category": "travel",
            "amount": 30.0,
            "currency": "EUR",
        },  # before the first EUR rate
    ]
    rows["finance__fx_rates"] = [
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.1},
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.2},  # key twice
    ]  # and no rate in the last freshness_days
    rows["config__stage_mapping"].append(
        {"crm_stage": "Odd", "funnel_stage": "Odd", "stage_order": None, "outcome": "pending"}
    )
    return rows


def _ingest_tables(db, quarantined: dict[str, int] | None = None, conflicts=()) -> None:
    """The tables ingestion writes beside raw: quarantine.*, raw._key_conflicts, _ingest_log."""
    with closing(duckdb.connect(str(db))) as con:
        con.execute("create schema if not exists quarantine")
        for name, entity in ENTITIES_BY_NAME.items():
            columns = ", ".join(f'"{c.name}" varchar' for c in entity.columns)
            con.execute(
                f"create or replace table quarantine.{name} ({columns}, _source_file varchar, "
                "_source_row bigint, _column varchar, _reason varchar, _loaded_at timestamp)"
            )
        for name, count in (quarantined or {}).items():
            con.execute(
                f"insert into quarantine.{name} (_source_file, _source_row, _column, _reason) "
                "select 'crm/leads/2026-09-30.csv', i, 'created_at', "
                "'created_at: ''yesterday'' is not an ISO 8601 timestamp' from range(1, ?) t(i)",
                [count + 1],
            )
        con.execute(
            "create or replace table raw._key_conflicts "
            "(entity varchar, key_value varchar, source_file varchar, rows bigint)"
        )
        if conflicts:
            con.executemany("insert into raw._key_conflicts values (?, ?, ?, ?)", list(conflicts))


def _settings(warehouse) -> Settings:
    return Settings.from_env(
        env={"GTM_WAREHOUSE_DIR": str(warehouse), "GTM_AS_OF_DATE": AS_OF, "GTM_DUCKDB_THREADS": "2"}
    )


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("clean")
    settings = _settings(warehouse)
    write_raw_tables(settings.work_db_path, CLEAN)
    _ingest_tables(settings.work_db_path)
    return evaluate(settings, SOURCE_TARGETS, "clean-run")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("faulty")
    settings = _settings(warehouse)
    db = settings.work_db_path
    write_raw_tables(db, _faulty())
    _ingest_tables(
        db,
        quarantined={"crm__leads": 5},
        conflicts=[("crm__accounts", "A1", "crm/accounts/2026-09-30.csv", 2)],
    )
    with closing(duckdb.connect(str(db))) as con:  # a column of the wrong type
        con.execute("alter table raw.config__stage_mapping alter stage_order type varchar")
    # The last publication loaded 1,000 accounts: 3 now is a drop in volume.
    last = warehouse / "last_publication.duckdb"
    with closing(duckdb.connect(str(last))) as con:
        con.execute("create schema marts")
        con.execute("create table marts.metric as select 1 as x")
    publish(
        last,
        settings.published_db_path,
        {
            "published_at": dt.datetime(2026, 9, 29, 2),
            "run_id": "previous",
            "crm__accounts_loaded": 1000,
            "crm__leads_loaded": 3,
        },
    )
    report = evaluate(settings, SOURCE_TARGETS, "faulty-run")
    return settings, report


def _failures(report, suite: str) -> dict[str, object]:
    return {e.description: e for e in report.suite(suite).expectations if e.status != "passed"}


def _failed(report, suite: str, starts_with: str):
    matches = [e for d, e in _failures(report, suite).items() if d.startswith(starts_with)]
    assert matches, f"{suite}: nothing failed starting {starts_with!r}: {list(_failures(report, suite))}"
    return matches[0]


def test_clean_tables_pass_every_source_expectation(clean_report):
    problems = [e.problem for s in clean_report.suites for e in s.expectations if e.status != "passed"]
    assert problems == []
    assert clean_report.counts()["passed"] > 100
    assert clean_report.data_docs_index and clean_report.data_docs_index.exists()


# (suite, expectation description starts with, severity, something the examples hold)
CASES = [
    (
        "raw.config__stage_mapping",
        "Every contract column of stage_mapping exists with its type",
        Severity.ERROR,
        "stage_order",
    ),
    ("raw.crm__accounts", "account_name is present", Severity.ERROR, None),
    ("raw.crm__campaigns", "campaign_id (primary key) is unique", Severity.ERROR, "C1"),
    ("raw.finance__fx_rates", "(rate_date, currency) (stated key) is unique", Severity.ERROR, "EUR"),
    ("raw.crm__opportunities", "opportunity_type is one of", Severity.ERROR, "upsell"),
    ("raw.billing__invoice_lines", "line_type is one of", Severity.ERROR, "refund"),
    ("raw.finance__spend", "department is one of", Severity.ERROR, "finance"),
    ("raw.config__stage_mapping", "outcome is one of", Severity.ERROR, "pending"),
    ("raw.crm__opportunities", "account_id resolves to a row of crm__accounts", Severity.ERROR, "A404"),
    ("raw.billing__invoice_lines", "account_id resolves to a row of crm__accounts", Severity.ERROR, "A404"),
    ("raw.crm__leads", "campaign_id resolves to a row of crm__campaigns", Severity.WARN, "C404"),
    ("raw.finance__spend", "campaign_id resolves to a row of crm__campaigns", Severity.WARN, "C404"),
    ("raw.crm__leads", "mql_at is on or after created_at", Severity.WARN, None),
    ("raw.billing__subscriptions", "end_date is after start_date", Severity.ERROR, None),
    ("raw.billing__invoice_lines", "service_end is after service_start", Severity.ERROR, None),
    ("raw.crm__opportunities", "amount is not negative", Severity.ERROR, "-5"),
    ("raw.billing__subscriptions", "arr is not negative", Severity.ERROR, "-1"),
    ("raw.crm__leads", "No row is dated (created_at) after as_of_date", Severity.WARN, "L3"),
    (
        "raw.finance__fx_rates",
        "The newest fx_rates row (rate_date) is within freshness_days",
        Severity.WARN,
        "2026-01-01",
    ),
    ("raw.crm__accounts", "accounts has not shrunk by more than volume_drop_share", Severity.WARN, "1000"),
    ("raw.crm__leads", "At most quarantine_share of the leads rows", Severity.ERROR, "is not an ISO 8601 timestamp"),
    ("raw.crm__accounts", "No extract file holds a accounts key", Severity.ERROR, "crm/accounts/2026-09-30.csv"),
]


@pytest.mark.parametrize(
    ("suite", "description", "severity", "example"), CASES, ids=[f"{c[0]}: {c[1][:40]}" for c in CASES]
)
def test_each_kind_of_source_expectation_fails_with_its_severity(faulty, suite, description, severity, example):
    _, report = faulty
    outcome = _failed(report, suite, description)
    assert outcome.severity is severity
    assert outcome.status == ("failed" if severity is Severity.ERROR else "warned")
    assert outcome.error is None, outcome.error
    if example is not None:
        assert example in str(outcome.examples) or example in str(outcome.observed_value), outcome


def test_currency_and_stage_mapping_coverage_are_left_to_dbt(faulty):
    """CHF without a rate and the unmapped 'Legal Review' are in the faulty tables; their
    one home is dbt (assert_every_amount_converts, assert_every_crm_stage_mapped)."""
    _, report = faulty
    descriptions = [e.description for s in report.suites for e in s.expectations]
    assert not [d for d in descriptions if "converts" in d or "stage mapping" in d]


def test_a_failed_row_check_names_the_key_of_each_example_row(faulty):
    _, report = faulty
    order = _failed(report, "raw.crm__leads", "mql_at is on or after created_at")
    assert order.examples == [{"lead_id": "L2", "mql_at": "2026-09-19 10:00:00", "created_at": "2026-09-20 10:00:00"}]
    assert "L2" in order.problem
    negative = _failed(report, "raw.crm__opportunities", "amount is not negative")
    assert negative.examples == [{"opportunity_id": "O2", "amount": -5.0}]
    missing = _failed(report, "raw.crm__accounts", "account_name is present")
    assert missing.examples == [{"account_id": "A3", "account_name": None}]


def test_results_are_recorded_and_counted(faulty):
    settings, report = faulty
    record(settings.work_db_path, report)
    record(settings.work_db_path, report)  # a retried step replaces, never doubles
    counts = expectation_counts(settings.work_db_path, "faulty-run")
    assert counts == {k: report.counts()[k] for k in ("passed", "warned", "failed")}
    assert counts["failed"] >= 15 and counts["warned"] >= 5
    with closing(duckdb.connect(str(settings.work_db_path), read_only=True)) as con:
        row = con.execute(
            "select severity, status, unexpected_count, examples->>'$[0].key_value' "
            "from audit.check_results where run_id = 'faulty-run' and suite = 'raw.crm__accounts' "
            "and expectation like 'No extract file holds%'"
        ).fetchone()
    assert row == ("error", "failed", 1, "A1")


def test_a_suite_whose_table_does_not_exist_fails_naming_suite_and_table(tmp_path):
    settings = _settings(tmp_path)
    write_raw_tables(settings.work_db_path, CLEAN)
    with closing(duckdb.connect(str(settings.work_db_path))) as con:
        con.execute("create schema marts")
        # mrr_movements alone (the other marts "renamed"), a positive churn in 2026-09.
        con.execute(
            """create table marts.mrr_movements as select month,
                 columns('mrr$')::double, columns('customers')::bigint from (values
            (date '2026-08-01', 0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0, 1, 0, 0, 1),
            (date '2026-09-01', 100.0, 0.0, 0.0, 0.0, 0.0, 25.0, 125.0, 1, 0, 0, 0, 1))
            as t(month, starting_mrr, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr,
                 churned_mrr, ending_mrr, customers_start, new_customers, reactivated_customers,
                 churned_customers, customers_end)"""
        )
    report = evaluate(settings, MART_TARGETS, "marts-run")
    missing = {s.target.table: s.expectations for s in report.suites if s.target.table != "mrr_movements"}
    assert missing and set(missing) == {t.table for t in MART_TARGETS} - {"mrr_movements"}
    for table, (outcome,) in missing.items():
        assert outcome.status == "failed" and outcome.severity is Severity.ERROR
        assert f"suite marts.{table}" in outcome.problem
        assert f"table marts.{table} does not exist" in outcome.problem
    churn = _failed(report, "marts.mrr_movements", "churned_mrr is not positive")
    assert churn.severity is Severity.ERROR
    # The grain (month) names the row.
    assert churn.examples == [{"month": "2026-09-01", "churned_mrr": 25.0}]
    assert report.counts()["failed"] == len(missing) + 1
