"""The HubSpot connector against a local server shaped as HubSpot's CRM v3 API documents it.

The portal below is small enough to check by hand: two companies, three contacts (one deleted),
three deals in two pipelines whose stage labels repeat, one campaign.
"""

import datetime as dt

import pytest

from orchestration.lib.connectors import CONNECTORS, PullError
from orchestration.lib.connectors.hubspot import SEARCH_CAP, HubSpotClient
from orchestration.lib.connectors.runner import pull
from orchestration.settings import Settings
from tests.support.crm_pulled import contract_row, landed, naive, pull_settings, stage_entries
from tests.support.crm_pulled import utc as t
from tests.support.crm_servers import FakeHubSpot, hubspot_pipeline, serving

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
UTC = dt.UTC


def portal() -> FakeHubSpot:
    hub = FakeHubSpot(TOKEN)
    hub.pipelines = [
        hubspot_pipeline(
            "default",
            "Sales Pipeline",
            [
                ("appointmentscheduled", "Discovery Call", "open"),
                ("qualifiedtobuy", "Qualification", "open"),
                ("closedwon", "Closed Won", "won"),
                ("closedlost", "Closed Lost", "lost"),
            ],
        ),
        hubspot_pipeline(
            "2001",
            "Renewals",
            [
                ("2001-1", "Qualification", "open"),
                ("2001-3", "Renewal Review", "open"),
                ("2001-2", "Closed Won", "won"),
            ],
        ),
    ]
    hub.add("companies", "1", t("2026-01-02"), name="Acme", industry="COMPUTER_SOFTWARE", country="DE")
    hub.add("companies", "2", t("2026-01-03"), name="Globex", industry=None, country="US")
    hub.add(
        "contacts",
        "11",
        t("2026-02-10"),
        createdate=t("2026-01-20"),
        hs_lifecyclestage_lead_date=t("2026-02-01"),
        hs_lifecyclestage_marketingqualifiedlead_date=t("2026-02-03"),
        hs_lifecyclestage_salesqualifiedlead_date=t("2026-02-05"),
        hs_lifecyclestage_opportunity_date=t("2026-02-10"),
        hs_analytics_source="PAID_SEARCH",
    )
    hub.add("contacts", "12", t("2026-02-11"), createdate=t("2026-02-11", 8), hs_analytics_source="TRADE_FAIR")
    hub.add("contacts", "13", t("2026-02-12"), hs_analytics_source="ORGANIC_SEARCH")
    hub.archive("contacts", "13", t("2026-03-05"))
    hub.add(
        "deals",
        "21",
        t("2026-03-31"),
        createdate=t("2026-02-10"),
        closedate=t("2026-03-31"),
        pipeline="default",
        dealstage="closedwon",
        hs_is_closed="true",
        hs_is_closed_won="true",
        amount="12000.50",
        deal_currency_code="eur",
        dealtype="newbusiness",
        hubspot_owner_id="77",
    )
    hub.add(
        "deals",
        "22",
        t("2026-03-02"),
        createdate=t("2026-03-01"),
        closedate=t("2026-06-30"),
        pipeline="2001",
        dealstage="2001-1",
        hs_is_closed="false",
        hs_is_closed_won="false",
        dealtype="existingbusiness",
    )
    hub.add(
        "deals",
        "23",
        t("2026-03-03"),
        createdate=t("2026-03-03"),
        closedate=t("2026-07-31"),
        pipeline="2001",
        dealstage="2001-3",
        amount="500",
        dealtype="renewal",
        closed_lost_reason=None,
    )
    hub.histories = {
        "21": [
            {"value": "appointmentscheduled", "timestamp": "2026-02-10T09:00:00.000Z", "sourceType": "CRM_UI"},
            {"value": "qualifiedtobuy", "timestamp": "2026-02-20T09:00:00.000Z", "sourceType": "CRM_UI"},
            {"value": "qualifiedtobuy", "timestamp": "2026-02-25T09:00:00.000Z", "sourceType": "API"},
            {"value": "closedwon", "timestamp": "2026-03-31T09:00:00.000Z", "sourceType": "CRM_UI"},
        ],
        "22": [{"value": "2001-1", "timestamp": "2026-03-01T09:00:00.000Z", "sourceType": "CRM_UI"}],
        "23": [],
    }
    hub.link("contacts", "11", "companies", "1")
    hub.link("contacts", "11", "deals", "21")
    hub.link("deals", "21", "companies", "1")
    hub.link("deals", "22", "companies", "2")
    hub.link("deals", "23", "companies", "2")
    hub.campaigns = [
        {
            "id": "7c1a-spring",
            "properties": {"hs_name": "Spring launch", "hs_start_date": "2026-03-01", "hs_end_date": "2026-03-31"},
            "createdAt": "2026-02-15T10:00:00.000Z",
            "updatedAt": "2026-02-15T10:00:00.000Z",
        }
    ]
    return hub


def settings_for(tmp_path, base_url: str, token: str = TOKEN, mapping: str = "") -> Settings:
    return pull_settings(
        tmp_path, {"GTM_HUBSPOT_TOKEN": token, "GTM_HUBSPOT_API_BASE": base_url, "GTM_HUBSPOT_MAPPING": mapping}
    )


@pytest.fixture
def pulled(tmp_path):
    hub = portal()
    with serving(hub) as base_url:
        report = pull(CONNECTORS["hubspot"], settings_for(tmp_path, base_url))
    return hub, report


def test_companies_become_accounts(pulled):
    _, report = pulled
    accounts = landed(report, "crm/accounts", "account_id")
    assert accounts == {
        "1": contract_row(
            "accounts",
            account_id="1",
            account_name="Acme",
            industry="COMPUTER_SOFTWARE",
            country="DE",
            created_at=naive("2026-01-02"),
        ),
        "2": contract_row(
            "accounts", account_id="2", account_name="Globex", country="US", created_at=naive("2026-01-03")
        ),
    }


def test_contacts_become_leads_with_lifecycle_dates_associations_and_channels(pulled):
    _, report = pulled
    leads = landed(report, "crm/leads", "lead_id")
    assert set(leads) == {"11", "12"}  # 13 is deleted: counted, not landed
    assert leads["11"] == contract_row(
        "leads",
        lead_id="11",
        created_at=naive("2026-02-01"),  # the lead stage's entry date, not createdate
        channel="paid_search",
        account_id="1",
        mql_at=naive("2026-02-03"),
        sql_at=naive("2026-02-05"),
        converted_at=naive("2026-02-10"),
        opportunity_id="21",
    )
    # no lead-stage date: createdate; a source the channel map lacks: landed in lower case
    assert leads["12"]["created_at"] == naive("2026-02-11", 8)
    assert leads["12"]["channel"] == "trade_fair"
    assert leads["12"]["account_id"] is None and leads["12"]["opportunity_id"] is None


def test_deals_become_opportunities_with_stage_labels_of_their_own_pipeline(pulled):
    _, report = pulled
    deals = landed(report, "crm/opportunities", "opportunity_id")
    assert deals["21"] == contract_row(
        "opportunities",
        opportunity_id="21",
        account_id="1",
        opportunity_type="new_business",
        created_at=naive("2026-02-10"),
        close_date=dt.date(2026, 3, 31),
        stage="Closed Won",
        is_closed=True,
        is_won=True,
        amount=12000.5,
        currency="EUR",
        owner_id="77",
    )
    # pipeline 2001's stage 2001-1 is labelled Qualification, as the default pipeline's qualifiedtobuy
    assert (deals["22"]["stage"], deals["22"]["opportunity_type"]) == ("Qualification", "expansion")
    # no amount: 0; no currency: the reporting currency
    assert (deals["22"]["amount"], deals["22"]["currency"]) == (0.0, "USD")
    # hs_is_closed missing: the stage's own metadata (an open stage)
    assert (deals["23"]["stage"], deals["23"]["is_closed"], deals["23"]["is_won"]) == ("Renewal Review", False, False)
    assert deals["23"]["opportunity_type"] == "renewal"


def test_deal_stage_history_lists_each_stage_entered_once(pulled):
    _, report = pulled
    assert stage_entries(report) == [
        ("21", naive("2026-02-10"), "Discovery Call"),
        ("21", naive("2026-02-20"), "Qualification"),  # set again on 02-25: not a new entry
        ("21", naive("2026-03-31"), "Closed Won"),
        ("22", naive("2026-03-01"), "Qualification"),
    ]


def test_campaigns_are_pulled_when_the_portal_has_them(pulled):
    _, report = pulled
    campaigns = landed(report, "crm/campaigns", "campaign_id")
    assert campaigns == {
        "7c1a-spring": contract_row(
            "campaigns",
            campaign_id="7c1a-spring",
            campaign_name="Spring launch",
            channel="other",
            start_date=dt.date(2026, 3, 1),
            end_date=dt.date(2026, 3, 31),
        )
    }


def test_a_portal_without_campaigns_is_pulled_without_them(tmp_path):
    hub = portal()
    hub.campaigns = None  # 403 MISSING_SCOPES
    with serving(hub) as base_url:
        report = pull(CONNECTORS["hubspot"], settings_for(tmp_path, base_url))
    assert "crm/campaigns" not in report.rows
    assert report.rows["crm/leads"] == 2
    assert any(n.startswith("campaigns not pulled: HTTP 403") for n in report.notes)


def test_the_pull_lists_unknown_stages_channels_and_deleted_records(pulled):
    _, report = pulled
    notes = "\n".join(report.notes)
    # the default stage mapping lacks Renewal Review: a line ready to paste into it
    assert "  Renewal Review,<funnel stage>,<order>,open" in report.notes
    assert "Discovery Call" not in notes.split("stage mapping")[-1]
    assert "  channel.TRADE_FAIR=<channel>   (1 record(s))" in report.notes
    assert "1 contacts deleted in the CRM" in notes and ": 13" in notes


def test_overrides_read_custom_properties_constants_and_value_maps(tmp_path):
    hub = portal()
    hub.objects["contacts"]["12"]["properties"]["mql_date__custom"] = "2026-02-12T10:00:00.000Z"
    mapping = (
        "leads.mql_at=mql_date__custom|hs_lifecyclestage_marketingqualifiedlead_date,"
        "accounts.segment='SMB', channel.TRADE_FAIR=events, type.existingbusiness=renewal"
    )
    with serving(hub) as base_url:
        report = pull(CONNECTORS["hubspot"], settings_for(tmp_path, base_url, mapping=mapping))
        search_bodies = [body for method, path, _, body in hub.requests if path.endswith("/contacts/search")]
    leads = landed(report, "crm/leads", "lead_id")
    assert leads["12"]["mql_at"] == naive("2026-02-12", 10)
    assert leads["11"]["mql_at"] == naive("2026-02-03")  # the fallback property
    assert leads["12"]["channel"] == "events"
    assert {a["segment"] for a in landed(report, "crm/accounts", "account_id").values()} == {"SMB"}
    assert landed(report, "crm/opportunities", "opportunity_id")["22"]["opportunity_type"] == "renewal"
    assert "mql_date__custom" in search_bodies[0]["properties"]


def test_a_bad_override_names_the_setting_and_entry(tmp_path):
    with pytest.raises(PullError, match=r"GTM_HUBSPOT_MAPPING: entry 'leads\.mql=x': leads has no column 'mql'"):
        pull(CONNECTORS["hubspot"], settings_for(tmp_path, "http://127.0.0.1:9", mapping="leads.mql=x"))


def test_incremental_pull_picks_up_only_changed_records_and_full_pulls_all(tmp_path):
    hub = portal()
    with serving(hub) as base_url:
        settings = settings_for(tmp_path, base_url)
        pull(CONNECTORS["hubspot"], settings)
        hub.add("contacts", "12", t("2026-04-01"), createdate=t("2026-02-11", 8), hs_analytics_source="PAID_SOCIAL")
        hub.add("contacts", "14", t("2026-04-02"), hs_analytics_source="REFERRALS")
        second = pull(CONNECTORS["hubspot"], settings, now=dt.datetime(2030, 1, 1, tzinfo=UTC))
        third = pull(CONNECTORS["hubspot"], settings, now=dt.datetime(2030, 1, 2, tzinfo=UTC))
        full = pull(CONNECTORS["hubspot"], settings, full=True, now=dt.datetime(2030, 1, 3, tzinfo=UTC))
    leads = landed(second, "crm/leads", "lead_id")
    assert {k: v["channel"] for k, v in leads.items()} == {"12": "paid_social", "14": "referral"}
    assert second.rows == {"crm/campaigns": 1, "crm/leads": 2}  # campaigns are read whole every time
    assert third.rows == {"crm/campaigns": 1}  # nothing changed: not even the newest record again
    assert full.rows["crm/leads"] == 3 and full.rows["crm/opportunities"] == 3


# -- paging and limits, on the client itself ---------------------------------------------------


def client_for(base_url: str, sleeps: list | None = None) -> HubSpotClient:
    return HubSpotClient(base_url, TOKEN, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def searched(hub: FakeHubSpot) -> list[dict]:
    return [body for method, path, _, body in hub.requests if path.endswith("/search")]


def test_search_of_nothing_changed_is_one_empty_page(tmp_path):
    hub = FakeHubSpot(TOKEN)
    with serving(hub) as base_url:
        pages = list(client_for(base_url).search("companies", ["name"], "2026-01-01T00:00:00Z"))
    assert pages == []
    assert len(searched(hub)) == 1


def test_search_of_exactly_one_full_page_asks_once():
    hub = FakeHubSpot(TOKEN)
    start = t("2026-01-01")
    for n in range(200):
        hub.add("contacts", str(1000 + n), start + dt.timedelta(minutes=n))
    with serving(hub) as base_url:
        pages = list(client_for(base_url).search("contacts", [], None))
    assert [len(p) for p in pages] == [200]
    assert len(searched(hub)) == 1  # no paging.next: no second request


def test_search_splits_its_window_at_the_10k_cap_without_losing_or_repeating_records():
    hub = FakeHubSpot(TOKEN)
    start = t("2026-01-01")
    total = SEARCH_CAP + 250
    for n in range(total):
        # pairs share a modification instant, so the split falls inside a tie
        hub.add("contacts", str(100_000 + n), start + dt.timedelta(seconds=n // 2))
    with serving(hub) as base_url:
        ids = [r["id"] for page in client_for(base_url).search("contacts", [], None) for r in page]
    assert len(ids) == total and len(set(ids)) == total
    bodies = searched(hub)
    assert max(int(b["after"]) for b in bodies) < SEARCH_CAP  # never asked for a page HubSpot refuses
    restarts = [b for b in bodies if b["after"] == "0"]
    # by hand: the first query gives 10,000 (50 pages); the last of them, 109999, was modified at
    # start + 4999 s, shared with 109998: the second query starts there and skips both
    assert len(restarts) == 2
    second_filter = restarts[1]["filterGroups"][0]["filters"][0]
    assert second_filter["value"] == str(int((start + dt.timedelta(seconds=4999)).timestamp() * 1000))


def test_list_pages_by_after():
    hub = FakeHubSpot(TOKEN)
    for n in range(250):
        hub.add("contacts", str(n), t("2026-01-01"))
        hub.archive("contacts", str(n), t("2026-02-01"))
    with serving(hub) as base_url:
        pages = list(client_for(base_url).list("/crm/v3/objects/contacts", {"archived": "true"}))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [q.get("after") for _, _, q, _ in hub.requests] == [None, "100", "200"]


def test_429_waits_as_retry_after_says_then_succeeds():
    hub = FakeHubSpot(TOKEN)
    hub.add("companies", "1", t("2026-01-01"), name="Acme")
    limited = {"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"}
    hub.faults["/crm/v3/objects/companies/search"] = [(429, {"Retry-After": "7"}, limited)] * 2
    sleeps = []
    with serving(hub) as base_url:
        pages = list(client_for(base_url, sleeps).search("companies", ["name"], None))
    assert sleeps == [7.0, 7.0]
    assert [r["id"] for r in pages[0]] == ["1"]


def test_429_that_does_not_clear_fails_naming_endpoint_and_status():
    hub = FakeHubSpot(TOKEN)
    limited = {"status": "error", "message": "You have reached your daily limit.", "category": "RATE_LIMITS"}
    hub.faults["/crm/v3/pipelines/deals"] = [(429, {"Retry-After": "1"}, limited)] * 5
    with serving(hub) as base_url, pytest.raises(PullError) as failure:
        client_for(base_url).get("/crm/v3/pipelines/deals")
    assert str(failure.value) == (
        "pull of hubspot failed at GET /crm/v3/pipelines/deals: "
        "HTTP 429 after 5 tries: RATE_LIMITS: You have reached your daily limit."
    )


def test_a_bad_token_fails_naming_the_setting_and_never_shows_the_token(tmp_path):
    hub = portal()
    wrong = "pat-na1-99999999-wrong-token"
    with serving(hub) as base_url, pytest.raises(PullError) as failure:
        pull(CONNECTORS["hubspot"], settings_for(tmp_path, base_url, token=wrong))
    assert "HTTP 401" in str(failure.value) and "check GTM_HUBSPOT_TOKEN" in str(failure.value)
    assert wrong not in str(failure.value) and TOKEN not in str(failure.value)
    assert not (tmp_path / "landing").exists()  # nothing landed


def test_the_token_never_appears_in_the_report_or_the_settings_display(pulled, tmp_path):
    _, report = pulled
    assert TOKEN not in "\n".join(report.lines())
    shown = dict((v, s) for v, s, _ in settings_for(tmp_path, "http://127.0.0.1:9").as_display())
    assert shown["GTM_HUBSPOT_TOKEN"] == "<set>"
