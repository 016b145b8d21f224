"""How long do `gtm pull hubspot` and `gtm pull salesforce` take for 100,000 contacts (leads) and
10,000 deals (opportunities)?

Runs the real connectors (HTTP client, paging, the 10k search split, associations, stage history,
mapping, dlt pipeline, Parquet extracts) against the local HubSpot and Salesforce stand-ins of
tests/support/crm_servers.py holding that many records in memory, and prints the figures. Each
deal has three stage-history entries; every contact belongs to one of 2,000 companies, one in
ten to a deal.

    .venv/bin/python bench/pull_crm.py              # 100,000 contacts, 10,000 deals
    .venv/bin/python bench/pull_crm.py --smoke      # 1,000 and 100: does it work?

No figure is asserted anywhere: timings on a shared machine are not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.lib.connectors import CONNECTORS
from orchestration.lib.connectors.runner import pull
from orchestration.settings import Settings
from tests.support.crm_servers import FakeHubSpot, FakeSalesforce, hubspot_pipeline, serving

TOKEN = "pat-bench"
CLIENT_ID, CLIENT_SECRET = "bench-id", "bench-secret"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
STAGES = [("Prospecting", "open"), ("Negotiation", "open"), ("Closed Won", "won"), ("Closed Lost", "lost")]
COMPANIES = 2_000


def hubspot(contacts: int, deals: int) -> FakeHubSpot:
    hub = FakeHubSpot(TOKEN)
    hub.pipelines = [hubspot_pipeline("default", "Sales", [(f"s{n}", label, o) for n, (label, o) in enumerate(STAGES)])]
    companies = min(COMPANIES, contacts)
    for n in range(companies):
        hub.add("companies", str(n + 1), START + dt.timedelta(minutes=n), name=f"Company {n}", country="US")
    for n in range(deals):
        deal = str(1_000_000 + n)
        hub.add(
            "deals",
            deal,
            START + dt.timedelta(seconds=n),
            pipeline="default",
            dealstage=f"s{2 + n % 2}",
            hs_is_closed="true",
            hs_is_closed_won=str(n % 2 == 0).lower(),
            amount="1200",
            deal_currency_code="USD",
            dealtype="newbusiness",
            closedate="2025-06-30T00:00:00.000Z",
        )
        hub.link("deals", deal, "companies", str(n % companies + 1), both=False)
        hub.histories[deal] = [
            {"value": f"s{s}", "timestamp": (START + dt.timedelta(days=d)).isoformat()}
            for d, s in ((1, 0), (10, 1), (30, 2 + n % 2))
        ]
    for n in range(contacts):
        contact = str(10_000_000 + n)
        hub.add(
            "contacts",
            contact,
            START + dt.timedelta(seconds=n),
            hs_lifecyclestage_lead_date=START + dt.timedelta(seconds=n),
            hs_analytics_source="PAID_SEARCH",
        )
        hub.link("contacts", contact, "companies", str(n % companies + 1), both=False)
        if n % 10 == 0 and n // 10 < deals:
            hub.link("contacts", contact, "deals", str(1_000_000 + n // 10), both=False)
    return hub


def salesforce(leads: int, opportunities: int) -> FakeSalesforce:
    sf = FakeSalesforce(CLIENT_ID, CLIENT_SECRET)
    fields = {"Industry": None, "BillingCountry": "US"}
    for n in range(min(COMPANIES, leads)):
        sf.add("Account", START, Id=f"001{n:012d}", Name=f"Company {n}", **fields)
    sf.add("Campaign", START, Id="701000000000001", Name="Spring", Type="Webinar", StartDate="2025-03-01", EndDate=None)
    for n in range(leads):
        sf.add(
            "Lead",
            START + dt.timedelta(seconds=n),
            Id=f"00Q{n:012d}",
            LeadSource="Web",
            ConvertedDate=None,
            ConvertedAccountId=None,
            ConvertedOpportunityId=None,
        )
    for n in range(opportunities):
        opportunity = f"006{n:012d}"
        sf.add(
            "Opportunity",
            START + dt.timedelta(seconds=n),
            Id=opportunity,
            AccountId=f"001{n % COMPANIES:012d}",
            Type="New Customer",
            CloseDate="2025-06-30",
            StageName=STAGES[2 + n % 2][0],
            IsClosed=True,
            IsWon=n % 2 == 0,
            Amount=1200.0,
            OwnerId="005000000000001",
        )
        for d, stage in ((1, 0), (10, 1), (30, 2 + n % 2)):
            moment = START + dt.timedelta(days=d, seconds=n)
            sf.add(
                "OpportunityHistory",
                moment,
                Id=f"008{n:010d}{d:02d}",
                OpportunityId=opportunity,
                StageName=STAGES[stage][0],
                CreatedDate=moment,
            )
    return sf


def timed_pull(source: str, env: dict[str, str], work: Path) -> tuple[float, dict[str, int]]:
    settings = Settings.from_env(
        {"GTM_LANDING_DIR": str(work / "landing"), "GTM_WAREHOUSE_DIR": str(work / "warehouse"), **env}
    )
    started = time.perf_counter()
    report = pull(CONNECTORS[source], settings, full=True)
    return time.perf_counter() - started, report.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="1,000 contacts, 100 deals")
    args = parser.parse_args()
    if args.smoke:
        args.contacts, args.deals = 1_000, 100
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt  # noqa: F401  imported before the clock starts: its import (seconds on a busy machine) is not the pull's

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="gtm-bench-crm-") as folder:
        work = Path(folder)
        with serving(hubspot(args.contacts, args.deals)) as base_url:
            env = {"GTM_HUBSPOT_TOKEN": TOKEN, "GTM_HUBSPOT_API_BASE": base_url}
            seconds, rows = timed_pull("hubspot", env, work / "hubspot")
        print(
            f"HubSpot: {rows.get('crm/leads', 0):,} contacts, {rows.get('crm/opportunities', 0):,} deals, "
            f"{rows.get('crm/opportunity_stage_history', 0):,} stage entries, {rows.get('crm/accounts', 0):,} "
            f"companies pulled in {seconds:.1f} s"
        )
        with serving(salesforce(args.contacts, args.deals)) as base_url:
            env = {
                "GTM_SALESFORCE_INSTANCE_URL": base_url,
                "GTM_SALESFORCE_CLIENT_ID": CLIENT_ID,
                "GTM_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
            }
            seconds, rows = timed_pull("salesforce", env, work / "salesforce")
        print(
            f"Salesforce: {rows.get('crm/leads', 0):,} leads, {rows.get('crm/opportunities', 0):,} opportunities, "
            f"{rows.get('crm/opportunity_stage_history', 0):,} stage entries, {rows.get('crm/accounts', 0):,} "
            f"accounts pulled in {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
