"""SQL database connector against a real PostgreSQL server: tables and queries, renames, an
incremental cursor, and errors that name the table without the password."""

import datetime as dt

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.connectors import CONNECTORS, PullError
from orchestration.lib.connectors.runner import pull
from orchestration.lib.contract import INVOICE_LINES, SUBSCRIPTIONS
from orchestration.lib.ingest import ingest_entity
from orchestration.settings import Settings
from tests.support.postgres import PASSWORD, running_postgres

SQL = CONNECTORS["sql_database"]

MAPPING = """
[[entity]]
name = "billing/subscriptions"
table = "contracts"
schema = "app"
cursor = "updated_at"
[entity.columns]
subscription_id = "id"
account_id = "crm_account"
arr = "annual_value"
currency = "ccy"

[[entity]]
name = "billing/invoice_lines"
query = '''
select l.id as invoice_line_id, i.id as invoice_id, i.crm_account as account_id, l.contract_id as subscription_id,
       i.issued_on as invoice_date, l.amount, i.ccy as currency, l.kind as line_type
from app.invoices i join app.invoice_items l on l.invoice_id = i.id
where i.status <> 'draft'
'''
"""


@pytest.fixture(scope="module")
def postgres():
    with running_postgres() as server:
        server.admin("create schema app authorization gtm_reader")
        server.admin("""
            create table app.contracts (id text primary key, crm_account text not null, product text,
              start_date date not null, end_date date, annual_value numeric(12,2) not null, ccy char(3) not null,
              updated_at timestamptz not null);
            create table app.invoices (id text primary key, crm_account text, issued_on date, ccy text, status text);
            create table app.invoice_items (id text primary key, invoice_id text, contract_id text, amount numeric(12,2), kind text);
            insert into app.contracts values
              ('c1', 'A1', 'Pro', '2026-01-01', null, 12000.00, 'USD', '2026-11-01 10:00+00'),
              ('c2', 'A2', 'Team', '2026-03-15', '2027-03-15', 2400.50, 'EUR', '2026-11-02 10:00+00'),
              ('c3', 'A3', null, '2026-06-01', null, 600.00, 'USD', '2026-11-03 10:00+00');
            insert into app.invoices values ('i1', 'A1', '2026-11-01', 'USD', 'paid'), ('i2', 'A2', '2026-11-02', 'EUR', 'draft');
            insert into app.invoice_items values ('l1', 'i1', 'c1', 1000.00, 'subscription'), ('l2', 'i1', null, 250.00, 'services'),
              ('l3', 'i2', 'c2', 200.00, 'subscription');
            grant select on all tables in schema app to gtm_reader;
        """)
        yield server


@pytest.fixture()
def settings(postgres, tmp_path):
    mapping = tmp_path / "sql_source.toml"
    mapping.write_text(MAPPING)
    return Settings.from_env(
        {
            "GTM_LANDING_DIR": str(tmp_path / "landing"),
            "GTM_WAREHOUSE_DIR": str(tmp_path / "wh"),
            "GTM_SQL_SOURCE": str(mapping),
            "GTM_SQL_URL": postgres.url,
        }
    )


def _rows(path):
    return sorted(pq.read_table(path).to_pylist(), key=lambda r: next(iter(r.values())))


def test_tables_and_queries_land_as_typed_contract_extracts(settings):
    report = pull(SQL, settings, now=dt.datetime(2026, 11, 5, 2, 0, tzinfo=dt.UTC))
    assert report.rows == {"billing/invoice_lines": 2, "billing/subscriptions": 3}
    subscriptions = settings.landing_dir / "billing" / "subscriptions" / "2026-11-05T020000Z-sql_database.parquet"
    assert _rows(subscriptions)[1] == {
        "subscription_id": "c2",
        "account_id": "A2",
        "product": "Team",
        "start_date": dt.date(2026, 3, 15),
        "end_date": dt.date(2027, 3, 15),
        "arr": 2400.5,
        "currency": "EUR",
        "opportunity_id": None,
    }
    lines = _rows(settings.landing_dir / "billing" / "invoice_lines" / "2026-11-05T020000Z-sql_database.parquet")
    assert [(r["invoice_line_id"], r["amount"], r["line_type"], r["service_start"]) for r in lines] == [
        ("l1", 1000.0, "subscription", None),
        ("l2", 250.0, "services", None),
    ]  # the draft invoice's line is not read

    # the warehouse's own ingest reads the pulled files with nothing quarantined
    con = duckdb.connect()
    for entity, loaded in ((SUBSCRIPTIONS, 3), (INVOICE_LINES, 2)):
        result = ingest_entity(con, entity, settings.landing_dir, dt.datetime(2026, 11, 5))
        assert (result.rows_loaded, result.rows_quarantined) == (loaded, 0)


def test_an_incremental_pull_reads_only_rows_whose_cursor_moved_on(settings, postgres):
    pull(SQL, settings, full=True, now=dt.datetime(2026, 11, 5, 2, 0, tzinfo=dt.UTC))
    postgres.admin("""
        update app.contracts set annual_value = 13200.00, updated_at = '2026-11-06 09:00+00' where id = 'c1';
        insert into app.contracts values ('c4', 'A4', 'Pro', '2026-11-06', null, 999.99, 'USD', '2026-11-06 09:30+00');
    """)
    try:
        report = pull(SQL, settings, now=dt.datetime(2026, 11, 7, 2, 0, tzinfo=dt.UTC))
        assert report.rows["billing/subscriptions"] == 2
        changed = _rows(report.files[[p.parent.name for p in report.files].index("subscriptions")])
        assert [(r["subscription_id"], r["arr"]) for r in changed] == [("c1", 13200.0), ("c4", 999.99)]

        again = pull(SQL, settings, now=dt.datetime(2026, 11, 8, 2, 0, tzinfo=dt.UTC))
        assert "billing/subscriptions" not in again.rows  # nothing moved on
        assert again.rows == {"billing/invoice_lines": 2}  # a query without a cursor is read whole

        full = pull(SQL, settings, full=True, now=dt.datetime(2026, 11, 9, 2, 0, tzinfo=dt.UTC))
        assert full.rows["billing/subscriptions"] == 4
        # every extract together gives the warehouse the current rows: last extract wins per key
        con = duckdb.connect()
        ingest_entity(con, SUBSCRIPTIONS, settings.landing_dir, dt.datetime(2026, 11, 9))
        assert con.execute("select sum(arr) from raw.billing__subscriptions").fetchone() == (
            13200 + 2400.5 + 600 + 999.99,
        )
    finally:
        postgres.admin(
            "delete from app.contracts where id = 'c4'; update app.contracts set annual_value = 12000.00 where id = 'c1'"
        )


def test_a_missing_contract_column_names_the_entity_and_the_column(settings, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[[entity]]\nname = "billing/subscriptions"\ntable = "contracts"\nschema = "app"\n')
    settings = Settings.from_env({**_env(settings), "GTM_SQL_SOURCE": str(broken)})
    with pytest.raises(
        PullError,
        match=r"billing/subscriptions from table app.contracts: no column for subscription_id, account_id, arr, currency",
    ):
        pull(SQL, settings)
    assert not settings.landing_dir.exists()


def test_a_refusing_database_or_missing_table_fails_without_showing_the_password(settings, postgres, tmp_path):
    wrong = postgres.url.replace(PASSWORD, "not-the-password")
    with pytest.raises(PullError) as refused:
        pull(SQL, Settings.from_env({**_env(settings), "GTM_SQL_URL": wrong}))
    assert "the database (GTM_SQL_URL)" in str(refused.value) and "password authentication failed" in str(refused.value)
    assert "not-the-password" not in str(refused.value)

    missing = tmp_path / "missing.toml"
    missing.write_text('[[entity]]\nname = "finance/spend"\ntable = "ledger"\n')
    with pytest.raises(
        PullError, match=r'finance/spend from table ledger: ProgrammingError: relation "ledger" does not exist'
    ):
        pull(SQL, Settings.from_env({**_env(settings), "GTM_SQL_SOURCE": str(missing)}))


def test_mapping_file_errors_name_the_problem(settings, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[entity]]\nname = "billing/subscription"\ntable = "x"\n')
    with pytest.raises(PullError, match="'billing/subscription' is not a contract folder"):
        pull(SQL, Settings.from_env({**_env(settings), "GTM_SQL_SOURCE": str(bad)}))
    bad.write_text('[[entity]]\nname = "billing/subscriptions"\ntable = "x"\n[entity.columns]\nannual = "y"\n')
    with pytest.raises(PullError, match="annual not columns of the contract"):
        pull(SQL, Settings.from_env({**_env(settings), "GTM_SQL_SOURCE": str(bad)}))


def _env(settings):
    return {
        "GTM_LANDING_DIR": str(settings.landing_dir),
        "GTM_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "GTM_SQL_SOURCE": str(settings.sql_source),
        "GTM_SQL_URL": settings.sql_url,
    }


def test_the_shipped_example_mapping_reads():
    from pathlib import Path

    from orchestration.lib.connectors.sql_database import read_mapping

    example = Path(__file__).parents[1] / "orchestration" / "lib" / "connectors" / "examples" / "sql_source.toml"
    assert [m.entity.folder for m in read_mapping(example)] == ["billing/subscriptions", "billing/invoice_lines"]
