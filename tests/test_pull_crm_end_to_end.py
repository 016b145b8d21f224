"""Done-when of issue 15: `gtm pull hubspot` (and `gtm pull salesforce`) against a local server
holding a small company's CRM, then `gtm refresh`, publishes the lead and opportunity funnels,
win rates and channel efficiency equal to what the same records give when landed by hand.

The small company is the demo generator's (scale 0.05). Its CRM files are landed by hand and
refreshed once; the typed CRM rows of that refresh (`raw.crm__*`) are put into a local HubSpot
and a local Salesforce (tests/support/crm_seed.py, custom fields where the CRM has no standard
one); each is pulled into a landing folder holding the same billing and finance files but no CRM
files, refreshed, and its marts compared with the hand-landed ones, row for row.
"""

import datetime as dt
import os
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.contract import ACCOUNTS, CAMPAIGNS, LEADS, OPPORTUNITIES, OPPORTUNITY_STAGE_HISTORY
from tests.support.crm_seed import (
    HUBSPOT_MAPPING,
    SALESFORCE_MAPPING,
    hubspot_from_contract,
    salesforce_from_contract,
)
from tests.support.crm_servers import serving

GTM = [sys.executable, "-m", "orchestration.cli"]
CRM = (ACCOUNTS, CAMPAIGNS, LEADS, OPPORTUNITIES, OPPORTUNITY_STAGE_HISTORY)
MARTS = ("lead_funnel", "opportunity_funnel", "win_rates", "channel_efficiency")
TOKEN = "pat-na1-e2e-0000-token"
CLIENT_ID, CLIENT_SECRET = "3MVG9-e2e", "sf-e2e-secret-777"


def _env(root: Path, as_of: dt.date, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTM_")}
    env.update(
        GTM_LANDING_DIR=str(root / "landing"),
        GTM_WAREHOUSE_DIR=str(root / "warehouse"),
        GTM_AS_OF_DATE=as_of.isoformat(),
        GTM_DUCKDB_THREADS="2",
        DAGSTER_HOME=str(root / "dagster_home"),
        DAGSTER_DISABLE_TELEMETRY="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PYTHONPATH=str(Path(__file__).parents[1]),
        **settings,
    )
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*GTM, *args], env=env, capture_output=True, text=True, timeout=900)


def _marts(root: Path) -> dict[str, list[tuple]]:
    with closing(duckdb.connect(str(root / "warehouse" / "published.duckdb"), read_only=True)) as con:
        return {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in MARTS}


@pytest.fixture(scope="module")
def hand_landed(tmp_path_factory):
    root = tmp_path_factory.mktemp("crm_hand")
    as_of = dt.datetime.now(dt.UTC).date()
    env = _env(root, as_of)
    demo = _run(["demo-data", "--out", str(root / "landing"), "--scale", "0.05"], env)
    assert demo.returncode == 0, demo.stderr
    refresh = _run(["refresh"], env)
    assert refresh.returncode == 0, refresh.stdout[-4000:] + refresh.stderr[-4000:]
    with closing(duckdb.connect(str(root / "warehouse" / "work.duckdb"), read_only=True)) as con:
        rows = {}
        for entity in CRM:
            cursor = con.execute(f"select {', '.join(entity.column_names)} from raw.{entity.qualified_name}")
            names = [d[0] for d in cursor.description]
            rows[entity.name] = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return root, as_of, rows, _marts(root)


def _without_crm(hand_root: Path, root: Path) -> None:
    shutil.copytree(hand_root / "landing", root / "landing")
    shutil.rmtree(root / "landing" / "crm")


def _pull_and_refresh(fake, root: Path, env: dict[str, str], source: str):
    with serving(fake) as base_url:
        for name, value in env.items():
            env[name] = value.replace("{base_url}", base_url)
        pulled = _run(["pull", source], env)
        refresh = _run(["refresh"], env)  # the nightly job pulls again first: nothing new
    return pulled, refresh


@pytest.fixture(scope="module")
def hubspot_pulled(hand_landed, tmp_path_factory):
    hand_root, as_of, rows, _ = hand_landed
    root = tmp_path_factory.mktemp("crm_hubspot")
    _without_crm(hand_root, root)
    env = _env(
        root,
        as_of,
        GTM_HUBSPOT_TOKEN=TOKEN,
        GTM_HUBSPOT_API_BASE="{base_url}",
        GTM_HUBSPOT_MAPPING=HUBSPOT_MAPPING,
    )
    pulled, refresh = _pull_and_refresh(hubspot_from_contract(rows, TOKEN), root, env, "hubspot")
    return root, rows, pulled, refresh


@pytest.fixture(scope="module")
def salesforce_pulled(hand_landed, tmp_path_factory):
    hand_root, as_of, rows, _ = hand_landed
    root = tmp_path_factory.mktemp("crm_salesforce")
    _without_crm(hand_root, root)
    env = _env(
        root,
        as_of,
        GTM_SALESFORCE_INSTANCE_URL="{base_url}",
        GTM_SALESFORCE_CLIENT_ID=CLIENT_ID,
        GTM_SALESFORCE_CLIENT_SECRET=CLIENT_SECRET,
        GTM_SALESFORCE_MAPPING=SALESFORCE_MAPPING,
    )
    pulled, refresh = _pull_and_refresh(
        salesforce_from_contract(rows, CLIENT_ID, CLIENT_SECRET), root, env, "salesforce"
    )
    return root, rows, pulled, refresh


@pytest.mark.parametrize("pulled_fixture", ["hubspot_pulled", "salesforce_pulled"])
def test_pull_prints_every_crm_entity_and_no_secret(pulled_fixture, request):
    _, rows, pulled, _ = request.getfixturevalue(pulled_fixture)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    lines = pulled.stdout.splitlines()
    for entity in CRM:
        assert f"  {entity.folder:<28} {len(rows[entity.name]):>10,} rows" in lines, pulled.stdout
    for secret in (TOKEN, CLIENT_SECRET):
        assert secret not in pulled.stdout + pulled.stderr


@pytest.mark.parametrize("pulled_fixture", ["hubspot_pulled", "salesforce_pulled"])
def test_refresh_publishes_the_marts_the_hand_landed_records_give(pulled_fixture, request, hand_landed):
    *_, hand_marts = hand_landed
    root, _, _, refresh = request.getfixturevalue(pulled_fixture)
    assert refresh.returncode == 0, refresh.stdout[-4000:] + refresh.stderr[-4000:]
    pulled_marts = _marts(root)
    for mart in MARTS:
        assert hand_marts[mart], f"{mart} is empty: the comparison would prove nothing"
        assert pulled_marts[mart] == hand_marts[mart], mart
