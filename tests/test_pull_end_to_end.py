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
    [extract] = sorted((landing / "crm" / "accounts").iterdir())
    table = pq.read_table(extract) if extract.suffix == ".parquet" else pacsv.read_csv(extract)
    return sorted(table.column("account_id").to_pylist())[:PAYING]


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
