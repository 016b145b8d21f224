"""The Salesforce connector against a local server shaped as Salesforce's REST API documents it.

The org below is small enough to check by hand: two accounts, two campaigns, three leads (one
deleted), two opportunities and their OpportunityHistory.
"""

import datetime as dt

import pytest

from orchestration.lib.connectors import CONNECTORS, PullError
from orchestration.lib.connectors.runner import pull
from orchestration.settings import Settings
from tests.support.crm_pulled import contract_row, landed, naive, pull_settings, stage_entries
from tests.support.crm_pulled import utc as t
from tests.support.crm_servers import FakeSalesforce, serving

CLIENT_ID, CLIENT_SECRET = "3MVG9-consumer-key", "sf-consumer-secret-4242"
UTC = dt.UTC


def lead(org: FakeSalesforce, lead_id: str, modified: dt.datetime, **fields) -> None:
    row = {
        "Id": lead_id,
        "CreatedDate": modified,
        "LeadSource": None,
        "ConvertedDate": None,
        "ConvertedAccountId": None,
        "ConvertedOpportunityId": None,
        "MQL__c": None,
    }
    org.add("Lead", modified, **{**row, **fields})


def org() -> FakeSalesforce:
    sf = FakeSalesforce(CLIENT_ID, CLIENT_SECRET)
    sf.add("Account", t("2026-01-02"), Id="001A", Name="Acme", Industry="Technology", BillingCountry="DE")
    sf.add("Account", t("2026-01-03"), Id="001B", Name="Globex", Industry=None, BillingCountry="US")
    sf.add(
        "Campaign",
        t("2026-02-20"),
        Id="701A",
        Name="Spring webinar",
        Type="Webinar",
        StartDate="2026-03-01",
        EndDate="2026-03-31",
    )
    sf.add(
        "Campaign", t("2026-02-21"), Id="701B", Name="Harbour fair", Type="Street Fair", StartDate=None, EndDate=None
    )
    lead(
        sf,
        "00QA",
        t("2026-02-10"),
        CreatedDate=t("2026-02-01"),
        LeadSource="Web",
        ConvertedDate="2026-02-10",
        ConvertedAccountId="001A",
        ConvertedOpportunityId="006A",
        MQL__c="2026-02-03T10:00:00.000+0000",
    )
    lead(sf, "00QB", t("2026-02-11"), LeadSource="Partner Referral")
    lead(sf, "00QC", t("2026-02-12"), LeadSource="Web", IsDeleted=True)
    opportunity = {"Amount": None, "OwnerId": None, "CurrencyIsoCode": "USD"}
    sf.add(
        "Opportunity",
        t("2026-03-31"),
        **{
            **opportunity,
            "Id": "006A",
            "AccountId": "001A",
            "Type": "New Customer",
            "CreatedDate": t("2026-02-10"),
            "CloseDate": "2026-03-31",
            "StageName": "Closed Won",
            "IsClosed": True,
            "IsWon": True,
            "Amount": 12000.5,
            "OwnerId": "005X",
            "CurrencyIsoCode": "EUR",
        },
    )
    sf.add(
        "Opportunity",
        t("2026-03-05"),
        **{
            **opportunity,
            "Id": "006B",
            "AccountId": "001B",
            "Type": "Existing Customer - Upgrade",
            "CreatedDate": t("2026-03-05"),
            "CloseDate": "2026-06-30",
            "StageName": "Value Proposition",
            "IsClosed": False,
            "IsWon": False,
        },
    )
    for opportunity_id, stage, at in [
        ("006A", "Prospecting", t("2026-02-10")),
        ("006A", "Prospecting", t("2026-02-15")),  # the amount changed, not the stage
        ("006A", "Negotiation", t("2026-03-01")),
        ("006A", "Closed Won", t("2026-03-31")),
        ("006B", "Value Proposition", t("2026-03-05")),
    ]:
        sf.add(
            "OpportunityHistory",
            at,
            Id=f"008-{opportunity_id}-{at:%m%d}",
            OpportunityId=opportunity_id,
            StageName=stage,
            CreatedDate=at,
        )
    return sf


def settings_for(tmp_path, base_url: str, **values: str) -> Settings:
    env = {
        "GTM_SALESFORCE_INSTANCE_URL": base_url,
        "GTM_SALESFORCE_CLIENT_ID": CLIENT_ID,
        "GTM_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
    }
    env.update({"GTM_SALESFORCE_" + k.upper(): v for k, v in values.items()})
    return pull_settings(tmp_path, env)


@pytest.fixture
def pulled(tmp_path):
    sf = org()
    with serving(sf) as base_url:
        report = pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url))
    return sf, report


def test_accounts_and_campaigns(pulled):
    _, report = pulled
    assert landed(report, "crm/accounts", "account_id")["001A"] == contract_row(
        "accounts",
        account_id="001A",
        account_name="Acme",
        industry="Technology",
        country="DE",
        created_at=naive("2026-01-02"),
    )
    campaigns = landed(report, "crm/campaigns", "campaign_id")
    assert campaigns["701A"] == contract_row(
        "campaigns",
        campaign_id="701A",
        campaign_name="Spring webinar",
        channel="events",  # Campaign Type Webinar
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 3, 31),
    )
    # a Type the channel map lacks lands in lower case; no StartDate: the CreatedDate
    assert (campaigns["701B"]["channel"], campaigns["701B"]["start_date"]) == ("street_fair", dt.date(2026, 2, 21))


def test_leads(pulled):
    _, report = pulled
    leads = landed(report, "crm/leads", "lead_id")
    assert set(leads) == {"00QA", "00QB"}  # 00QC is deleted: counted, not landed
    # mql_at and sql_at stay null: custom fields in most orgs, unmapped by default
    assert leads["00QA"] == contract_row(
        "leads",
        lead_id="00QA",
        created_at=naive("2026-02-01"),
        channel="organic",  # LeadSource Web
        account_id="001A",
        converted_at=naive("2026-02-10", 0),  # ConvertedDate is a date: midnight UTC
        opportunity_id="006A",
    )
    assert leads["00QB"]["channel"] == "partner"


def test_opportunities_and_their_stage_entries(pulled):
    _, report = pulled
    opportunities = landed(report, "crm/opportunities", "opportunity_id")
    assert opportunities["006A"] == contract_row(
        "opportunities",
        opportunity_id="006A",
        account_id="001A",
        opportunity_type="new_business",
        created_at=naive("2026-02-10"),
        close_date=dt.date(2026, 3, 31),
        stage="Closed Won",
        is_closed=True,
        is_won=True,
        amount=12000.5,
        currency="USD",  # single-currency by default: the reporting currency
        owner_id="005X",
    )
    assert (opportunities["006B"]["opportunity_type"], opportunities["006B"]["amount"]) == ("expansion", 0.0)
    assert stage_entries(report) == [
        ("006A", naive("2026-02-10"), "Prospecting"),
        ("006A", naive("2026-03-01"), "Negotiation"),
        ("006A", naive("2026-03-31"), "Closed Won"),
        ("006B", naive("2026-03-05"), "Value Proposition"),
    ]


def test_the_pull_lists_unknown_stages_values_and_deleted_records(pulled):
    _, report = pulled
    assert "  Value Proposition,<funnel stage>,<order>,open" in report.notes
    assert "  channel.Street Fair=<channel>   (1 record(s))" in report.notes
    deleted = [n for n in report.notes if "deleted in the CRM" in n]
    assert deleted == [
        "1 Lead deleted in the CRM (kept in the warehouse; docs/landing-contract.md, 'Deleted CRM records'): 00QC"
    ]


def test_overrides_read_custom_fields_and_the_currency_of_a_multi_currency_org(tmp_path):
    sf = org()
    mapping = "leads.mql_at=MQL__c,opportunities.currency=CurrencyIsoCode,channel.Street Fair=events"
    with serving(sf) as base_url:
        report = pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url, mapping=mapping))
        soql = [q["q"] for _, path, q, _ in sf.requests if path.endswith("/query") and "FROM Lead" in q["q"]]
    assert landed(report, "crm/leads", "lead_id")["00QA"]["mql_at"] == naive("2026-02-03", 10)
    assert landed(report, "crm/opportunities", "opportunity_id")["006A"]["currency"] == "EUR"
    assert landed(report, "crm/campaigns", "campaign_id")["701B"]["channel"] == "events"
    assert soql == [
        "SELECT Id, CreatedDate, LeadSource, ConvertedAccountId, MQL__c, ConvertedDate, ConvertedOpportunityId, "
        "SystemModstamp FROM Lead ORDER BY SystemModstamp"
    ]


@pytest.mark.parametrize(("page_size", "pages"), [(1, [1, 1]), (2, [2]), (5, [2])])
def test_next_records_url_paging(tmp_path, page_size, pages):
    """Two leads: a page each; exactly one full page (done, no nextRecordsUrl); a page not full."""
    sf = org()
    sf.page_size = page_size
    with serving(sf) as base_url:
        report = pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url))
    assert report.rows["crm/leads"] == 2
    follow_ups = [path.rsplit("/", 1)[1].rsplit("-", 1)[0] for _, path, _, _ in sf.requests if "/query/" in path]
    lead_follow_ups = [c for c in follow_ups if sf.cursors[c][0]["attributes"]["type"] == "Lead"]
    assert len(lead_follow_ups) == len(pages) - 1


def test_an_empty_object_gives_no_extract(tmp_path):
    sf = org()
    sf.records["Campaign"] = []
    with serving(sf) as base_url:
        report = pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url))
    assert "crm/campaigns" not in report.rows and report.rows["crm/leads"] == 2


def test_incremental_pull_picks_up_only_changed_records(tmp_path):
    sf = org()
    with serving(sf) as base_url:
        settings = settings_for(tmp_path, base_url)
        pull(CONNECTORS["salesforce"], settings)
        [b] = [r for r in sf.records["Lead"] if r["Id"] == "00QB"]
        b.update(LeadSource="Trade Show", SystemModstamp="2026-04-01T09:00:00.000+0000")
        lead(sf, "00QD", t("2026-04-02"), LeadSource="Advertisement")
        # an amount change of a won deal: a history row repeating its stage, no stage entry
        sf.add("OpportunityHistory", t("2026-04-03"), Id="008-006A-0403", OpportunityId="006A", StageName="Closed Won")
        second = pull(CONNECTORS["salesforce"], settings, now=dt.datetime(2030, 1, 1, tzinfo=UTC))
        third = pull(CONNECTORS["salesforce"], settings, now=dt.datetime(2030, 1, 2, tzinfo=UTC))
        full = pull(CONNECTORS["salesforce"], settings, full=True, now=dt.datetime(2030, 1, 3, tzinfo=UTC))
    leads = landed(second, "crm/leads", "lead_id")
    assert {k: v["channel"] for k, v in leads.items()} == {"00QB": "events", "00QD": "paid_search"}
    assert second.rows == {"crm/leads": 2}
    assert third.rows == {}
    assert full.rows["crm/leads"] == 3 and full.rows["crm/opportunity_stage_history"] == 4


def test_an_expired_session_renews_the_token_once(tmp_path):
    sf = org()
    with serving(sf) as base_url:
        settings = settings_for(tmp_path, base_url)
        sf.faults["/services/data/v62.0/query"] = [
            (401, {}, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        ]
        report = pull(CONNECTORS["salesforce"], settings)
    assert report.rows["crm/accounts"] == 2
    assert [path for _, path, _, _ in sf.requests].count("/services/oauth2/token") == 2  # first token, one renewal


def test_a_session_that_stays_invalid_fails_naming_the_settings(tmp_path):
    sf = org()
    invalid = (401, {}, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    sf.faults["/services/data/v62.0/query"] = [invalid, invalid]
    with serving(sf) as base_url, pytest.raises(PullError) as failure:
        pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url))
    assert str(failure.value) == (
        "pull of salesforce failed at GET /services/data/v62.0/query: HTTP 401: INVALID_SESSION_ID: "
        "Session expired or invalid (check GTM_SALESFORCE_CLIENT_ID and GTM_SALESFORCE_CLIENT_SECRET)"
    )


def test_an_access_token_that_expired_fails_naming_its_setting_and_never_shows_it(tmp_path):
    sf = org()
    token = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog"
    with serving(sf) as base_url, pytest.raises(PullError) as failure:
        pull(
            CONNECTORS["salesforce"],
            settings_for(tmp_path, base_url, client_id="", client_secret="", access_token=token),
        )
    assert "HTTP 401" in str(failure.value) and "check GTM_SALESFORCE_ACCESS_TOKEN" in str(failure.value)
    assert token not in str(failure.value)
    assert not (tmp_path / "landing").exists()


def test_a_wrong_client_secret_fails_naming_the_settings_and_never_shows_it(tmp_path):
    sf = org()
    with serving(sf) as base_url, pytest.raises(PullError) as failure:
        pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url, client_secret="wrong-secret-123"))
    assert str(failure.value) == (
        "pull of salesforce failed at POST /services/oauth2/token: HTTP 400: invalid_client: invalid client "
        "credentials (check GTM_SALESFORCE_CLIENT_ID and GTM_SALESFORCE_CLIENT_SECRET)"
    )


def test_request_limit_exceeded_fails_clearly(tmp_path):
    sf = org()
    sf.faults["/services/data/v62.0/query"] = [
        (403, {}, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    ]
    with serving(sf) as base_url, pytest.raises(PullError) as failure:
        pull(CONNECTORS["salesforce"], settings_for(tmp_path, base_url))
    assert str(failure.value).startswith(
        "pull of salesforce failed at GET /services/data/v62.0/query: REQUEST_LIMIT_EXCEEDED: the org's API "
        "request limit (rolling 24 hours) is used up"
    )


def test_no_credentials_fail_naming_the_settings(tmp_path):
    with pytest.raises(PullError, match="set GTM_SALESFORCE_CLIENT_ID and GTM_SALESFORCE_CLIENT_SECRET, or"):
        pull(CONNECTORS["salesforce"], settings_for(tmp_path, "http://127.0.0.1:9", client_id="", client_secret=""))
