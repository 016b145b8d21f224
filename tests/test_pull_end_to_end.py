"""Done-when of issue 14: `gtm pull stripe` against a local Stripe server, then `gtm refresh`,
publishes MRR and revenue that match the subscriptions and invoices created in that server.

The CRM, spend and the rest come from the demo generator; its billing folders are removed, so
all revenue is what the pull landed. localstripe dates every subscription and its first invoice
today (its own clock), so the reporting date is set 400 days on: every first invoice's service
period (a month, or a year) is then fully recognized.
"""

import datetime as dt
import os
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tests.support.localstripe import API_KEY, StripeSeeder, running_localstripe
from tests.support.recorded_http import serving

GTM = [sys.executable, "-m", "orchestration.cli"]
PAYING = 40  # accounts with a Stripe subscription


def _env(root: Path, base_url: str, as_of: dt.date) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTM_")}
    env.update(
        GTM_LANDING_DIR=str(root / "landing"),
        GTM_WAREHOUSE_DIR=str(root / "warehouse"),
        GTM_AS_OF_DATE=as_of.isoformat(),
        GTM_DUCKDB_THREADS="2",
        GTM_STRIPE_API_KEY=API_KEY,
        GTM_STRIPE_API_BASE=base_url,
        DAGSTER_HOME=str(root / "dagster_home"),
        DAGSTER_DISABLE_TELEMETRY="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PYTHONPATH=str(Path(__file__).parents[1]),
    )
    return env


def _account_ids(landing: Path) -> list[str]:
    """The first PAYING account ids of the demo CRM (its accounts land as monthly deltas and a full extract)."""
    ids = set()
    for extract in (landing / "crm" / "accounts").iterdir():
        table = pq.read_table(extract) if extract.suffix == ".parquet" else pacsv.read_csv(extract)
        ids.update(table.column("account_id").to_pylist())
    return sorted(ids)[:PAYING]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    root = tmp_path_factory.mktemp("pull_e2e")
    (root / "dagster_home").mkdir()
    as_of = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=400)
    with running_localstripe() as localstripe:
        empty = (200, {}, {"object": "list", "data": [], "has_more": False, "url": "/v1/credit_notes"})
        with serving({"/v1/credit_notes": [empty]}, fallback=localstripe) as (base_url, _):
            env = _env(root, base_url, as_of)
            demo = subprocess.run(
                [*GTM, "demo-data", "--out", str(root / "landing"), "--scale", "0.05"],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert demo.returncode == 0, demo.stderr
            shutil.rmtree(root / "landing" / "billing")
            stripe = StripeSeeder(localstripe)
            product = stripe.product("Platform")
            monthly = stripe.plan("platform-monthly", product, 5000, "usd", "month")
            yearly = stripe.plan("platform-yearly", product, 120000, "usd", "year")
            for i, account in enumerate(_account_ids(root / "landing")):
                customer = stripe.paying_customer(account)
                stripe.subscription(customer, monthly if i % 2 == 0 else yearly, 2 if i % 2 == 0 else 1)
            pulled = subprocess.run([*GTM, "pull", "stripe"], env=env, capture_output=True, text=True, timeout=600)
            # the nightly job pulls again before ingest: the server must still answer
            refresh = subprocess.run([*GTM, "refresh"], env=env, capture_output=True, text=True, timeout=900)
    return root, as_of, pulled, refresh


def test_pull_prints_rows_and_files(refreshed):
    root, _, pulled, _ = refreshed
    assert pulled.returncode == 0, pulled.stderr
    assert f"  {'billing/subscriptions':<28} {PAYING:>10,} rows" in pulled.stdout.splitlines()
    assert f"  {'billing/invoice_lines':<28} {PAYING:>10,} rows" in pulled.stdout.splitlines()
    assert f"wrote {root / 'landing' / 'billing' / 'subscriptions'}" in pulled.stdout


def test_refresh_publishes_mrr_and_revenue_of_the_stripe_server(refreshed):
    root, as_of, _, refresh = refreshed
    assert refresh.returncode == 0, refresh.stdout[-4000:] + refresh.stderr[-4000:]
    with closing(duckdb.connect(str(root / "warehouse" / "published.duckdb"), read_only=True)) as con:
        (mrr,) = con.execute(
            "select ending_mrr from marts.mrr_movements where month = date_trunc('month', ?::date)", [as_of]
        ).fetchone()
        (revenue,) = con.execute("select sum(revenue) from marts.fct_revenue_monthly").fetchone()
    # by hand: every subscription is 1,200.00 a year (2 x 50.00 x 12, or 1 x 1,200.00): MRR 40 x 100.00
    assert mrr == pytest.approx(PAYING * 100.0, abs=0.01)
    # first invoices, fully recognized by the reporting date: 20 x 100.00 + 20 x 1,200.00
    assert revenue == pytest.approx(20 * 100.0 + 20 * 1200.0, abs=0.01)


# -- the same for a PostgreSQL billing database and a general-ledger export --------------------

GL = Path(__file__).parent / "support" / "gl"
SQL_MAPPING = """
[[entity]]
name = "billing/subscriptions"
table = "subscriptions"
cursor = "updated_at"
[entity.columns]
subscription_id = "id"
account_id = "account"

[[entity]]
name = "billing/invoice_lines"
table = "invoice_lines"
[entity.columns]
invoice_line_id = "id"
account_id = "account"
"""


@pytest.fixture(scope="module")
def refreshed_from_postgres_and_ledger(tmp_path_factory):
    from tests.support.postgres import running_postgres

    root = tmp_path_factory.mktemp("pull_e2e_sql_gl")
    (root / "dagster_home").mkdir()
    (root / "sql_source.toml").write_text(SQL_MAPPING)
    as_of = dt.date(2026, 12, 31)
    env = _env(root, "", as_of)
    del env["GTM_STRIPE_API_KEY"], env["GTM_STRIPE_API_BASE"]
    env.update(
        GTM_SQL_SOURCE=str(root / "sql_source.toml"),
        GTM_GL_EXPORT=str(GL / "xero_account_transactions.csv"),
        GTM_GL_LAYOUT="xero",
        GTM_GL_ACCOUNT_MAPPING=str(GL / "xero_mapping.csv"),
    )
    demo = subprocess.run(
        [*GTM, "demo-data", "--out", str(root / "landing"), "--scale", "0.05"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr
    shutil.rmtree(root / "landing" / "billing")
    shutil.rmtree(root / "landing" / "finance" / "spend")
    accounts = _account_ids(root / "landing")[:10]
    with running_postgres() as postgres:
        postgres.admin("""
            create table subscriptions (id text, account text, product text, start_date date, end_date date,
              arr numeric, currency text, updated_at timestamptz default now());
            create table invoice_lines (id text, invoice_id text, account text, subscription_id text, invoice_date date,
              service_start date, service_end date, amount numeric, currency text, line_type text);
            grant select on subscriptions, invoice_lines to gtm_reader;
        """)
        for n, account in enumerate(accounts):
            postgres.admin(
                f"insert into subscriptions values ('S{n}', '{account}', 'Platform', '2026-01-01', null, 12000, 'USD');"
                f"insert into invoice_lines values ('L{n}', 'I{n}', '{account}', 'S{n}', '2026-01-01', '2026-01-01',"
                f" '2027-01-01', 12000, 'USD', 'subscription')"
            )
        env["GTM_SQL_URL"] = postgres.url
        pulled = subprocess.run([*GTM, "pull"], env=env, capture_output=True, text=True, timeout=600)
        refresh = subprocess.run([*GTM, "refresh"], env=env, capture_output=True, text=True, timeout=900)
    return root, pulled, refresh


def test_postgres_and_ledger_pulls_publish_their_mrr_revenue_and_spend(refreshed_from_postgres_and_ledger):
    root, pulled, refresh = refreshed_from_postgres_and_ledger
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert "stripe: skipped, not configured (set GTM_STRIPE_API_KEY)" in pulled.stdout
    assert refresh.returncode == 0, refresh.stdout[-4000:] + refresh.stderr[-4000:]
    with closing(duckdb.connect(str(root / "warehouse" / "published.duckdb"), read_only=True)) as con:
        (mrr,) = con.execute("select ending_mrr from marts.mrr_movements where month = date '2026-12-01'").fetchone()
        (revenue,) = con.execute("select sum(revenue) from marts.fct_revenue_monthly").fetchone()
        spend = dict(
            con.execute("select department, sum(spend) from marts.fct_spend_monthly group by department").fetchall()
        )
    # by hand: ten subscriptions of 12,000 a year -> 10 x 1,000 MRR; each line's 365 days all recognized by 2026-12-31
    assert mrr == pytest.approx(10_000.0, abs=0.01)
    assert revenue == pytest.approx(120_000.0, abs=0.01)
    # the Xero fixture: marketing 1,200 + 800 - 150 + 1,500 - 500; sales 25,000 + 4,000
    assert spend == pytest.approx({"marketing": 2850.0, "sales": 29000.0})
