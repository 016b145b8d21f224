"""Put the CRM entities of the landing contract into the fake HubSpot and Salesforce servers,
as a user's CRM would hold them, with the mapping overrides that read them back.

The rows are the contract's typed rows (as in `raw.crm__*` of the work database); what has no
standard field in the CRM goes into custom fields (properties `gtm_*`, fields `*__c`), named
by the overrides returned, as a real company's CRM would need.
"""

from __future__ import annotations

import datetime as dt

from tests.support.crm_servers import FakeHubSpot, FakeSalesforce, hubspot_pipeline

MODIFIED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# demo channels onto hs_analytics_source values; the ones HubSpot's defaults do not map are overridden
HUBSPOT_SOURCES = {
    "paid_search": "PAID_SEARCH",
    "paid_social": "PAID_SOCIAL",
    "organic": "ORGANIC_SEARCH",
    "referral": "REFERRALS",
    "events": "OFFLINE",
    "content": "EMAIL_MARKETING",
    "outbound": "OTHER_CAMPAIGNS",
    "partner": "DIRECT_TRAFFIC",
}
HUBSPOT_MAPPING = ",".join(
    [
        "channel.OFFLINE=events",
        "channel.EMAIL_MARKETING=content",
        "channel.OTHER_CAMPAIGNS=outbound",
        "channel.DIRECT_TRAFFIC=partner",
        "accounts.segment=gtm_segment",
        "campaigns.channel=gtm_channel",
        "leads.campaign_id=gtm_campaign_id",
        "leads.disqualified_at=gtm_disqualified_at",
        "opportunities.lead_id=@contacts",
    ]
)
HUBSPOT_DEAL_TYPES = {"new_business": "newbusiness", "expansion": "existingbusiness", "renewal": "renewal"}

SALESFORCE_TYPES = {"new_business": "New Customer", "expansion": "Existing Customer - Upgrade", "renewal": "Renewal"}
SALESFORCE_MAPPING = ",".join(
    [
        "accounts.segment=Segment__c",
        "leads.campaign_id=Campaign__c",
        "leads.account_id=Account__c",
        "leads.mql_at=MQL_Date__c",
        "leads.sql_at=SQL_Date__c",
        "leads.converted_at=Converted_At__c",
        "leads.disqualified_at=Disqualified_At__c",
        "opportunities.lead_id=Lead__c",
        "opportunities.currency=CurrencyIsoCode",
        "opportunities.loss_reason=Loss_Reason__c",
    ]
)


def _utc(value):
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
    return value


def _when(value) -> str | None:
    """A HubSpot datetime property value."""
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def hubspot_from_contract(rows: dict[str, list[dict]], token: str) -> FakeHubSpot:
    """rows: entity name (accounts, ...) -> contract rows. Two pipelines with the same stage labels:
    new business in the default one, expansions and renewals in "Existing customers"."""
    hub = FakeHubSpot(token)
    stages = sorted(
        {(r["stage"], "won" if r["is_won"] else "lost" if r["is_closed"] else "open") for r in rows["opportunities"]}
        | {(r["stage"], "open") for r in rows["opportunity_stage_history"]}
    )
    labels = list(dict.fromkeys(label for label, _ in stages))
    outcome = {label: o for label, o in stages if o != "open"}
    pipelines = {"new_business": "default", "expansion": "77", "renewal": "77"}
    for pipeline_id, name in (("default", "Sales Pipeline"), ("77", "Existing customers")):
        hub.pipelines.append(
            hubspot_pipeline(
                pipeline_id,
                name,
                [(f"{pipeline_id}-{n}", label, outcome.get(label, "open")) for n, label in enumerate(labels)],
            )
        )
    stage_id = {(p, label): f"{p}-{n}" for p in ("default", "77") for n, label in enumerate(labels)}
    for a in rows["accounts"]:
        hub.add(
            "companies",
            a["account_id"],
            MODIFIED,
            name=a["account_name"],
            gtm_segment=a["segment"],
            industry=a["industry"],
            country=a["country"],
            createdate=_when(a["created_at"]),
        )
    hub.campaigns = [
        {
            "id": c["campaign_id"],
            "properties": {
                "hs_name": c["campaign_name"],
                "gtm_channel": c["channel"],
                "hs_start_date": c["start_date"].isoformat(),
                "hs_end_date": c["end_date"].isoformat() if c["end_date"] else None,
            },
            "createdAt": _when(c["start_date"]),
            "updatedAt": _when(c["start_date"]),
        }
        for c in rows["campaigns"]
    ]
    for lead in rows["leads"]:
        hub.add(
            "contacts",
            lead["lead_id"],
            MODIFIED,
            createdate=_when(lead["created_at"]),
            hs_lifecyclestage_lead_date=_when(lead["created_at"]),
            hs_lifecyclestage_marketingqualifiedlead_date=_when(lead["mql_at"]),
            hs_lifecyclestage_salesqualifiedlead_date=_when(lead["sql_at"]),
            hs_lifecyclestage_opportunity_date=_when(lead["converted_at"]),
            hs_analytics_source=HUBSPOT_SOURCES[lead["channel"]],
            gtm_campaign_id=lead["campaign_id"],
            gtm_disqualified_at=_when(lead["disqualified_at"]),
        )
        if lead["account_id"]:
            hub.link("contacts", lead["lead_id"], "companies", lead["account_id"], both=False)
        if lead["opportunity_id"]:
            hub.link("contacts", lead["lead_id"], "deals", lead["opportunity_id"], both=False)
    pipeline_of = {}
    for o in rows["opportunities"]:
        pipeline = pipelines[o["opportunity_type"]]
        pipeline_of[o["opportunity_id"]] = pipeline
        hub.add(
            "deals",
            o["opportunity_id"],
            MODIFIED,
            createdate=_when(o["created_at"]),
            closedate=_when(o["close_date"]),
            pipeline=pipeline,
            dealstage=stage_id[(pipeline, o["stage"])],
            hs_is_closed=str(o["is_closed"]).lower(),
            hs_is_closed_won=str(o["is_won"]).lower(),
            amount=repr(float(o["amount"])),
            deal_currency_code=o["currency"],
            dealtype=HUBSPOT_DEAL_TYPES[o["opportunity_type"]],
            hubspot_owner_id=o["owner_id"],
            closed_lost_reason=o["loss_reason"],
        )
        hub.link("deals", o["opportunity_id"], "companies", o["account_id"], both=False)
        if o["lead_id"]:
            hub.link("deals", o["opportunity_id"], "contacts", o["lead_id"], both=False)
    for h in rows["opportunity_stage_history"]:
        pipeline = pipeline_of.get(h["opportunity_id"], "default")
        hub.histories.setdefault(h["opportunity_id"], []).append(
            {"value": stage_id[(pipeline, h["stage"])], "timestamp": _when(h["entered_at"]), "sourceType": "CRM_UI"}
        )
    return hub


def salesforce_from_contract(rows: dict[str, list[dict]], client_id: str, client_secret: str) -> FakeSalesforce:
    sf = FakeSalesforce(client_id, client_secret)
    for a in rows["accounts"]:
        sf.add(
            "Account",
            MODIFIED,
            Id=a["account_id"],
            Name=a["account_name"],
            Segment__c=a["segment"],
            Industry=a["industry"],
            BillingCountry=a["country"],
            CreatedDate=_utc(a["created_at"]),
        )
    for c in rows["campaigns"]:
        sf.add(
            "Campaign",
            MODIFIED,
            Id=c["campaign_id"],
            Name=c["campaign_name"],
            Type=c["channel"],
            StartDate=c["start_date"].isoformat(),
            EndDate=c["end_date"].isoformat() if c["end_date"] else None,
        )
    for lead in rows["leads"]:
        sf.add(
            "Lead",
            MODIFIED,
            Id=lead["lead_id"],
            CreatedDate=_utc(lead["created_at"]),
            LeadSource=lead["channel"],
            Campaign__c=lead["campaign_id"],
            Account__c=lead["account_id"],
            MQL_Date__c=_utc(lead["mql_at"]),
            SQL_Date__c=_utc(lead["sql_at"]),
            Converted_At__c=_utc(lead["converted_at"]),
            ConvertedDate=lead["converted_at"].date().isoformat() if lead["converted_at"] else None,
            ConvertedAccountId=lead["account_id"] if lead["converted_at"] else None,
            ConvertedOpportunityId=lead["opportunity_id"],
            Disqualified_At__c=_utc(lead["disqualified_at"]),
        )
    for o in rows["opportunities"]:
        sf.add(
            "Opportunity",
            MODIFIED,
            Id=o["opportunity_id"],
            AccountId=o["account_id"],
            Lead__c=o["lead_id"],
            Type=SALESFORCE_TYPES[o["opportunity_type"]],
            CreatedDate=_utc(o["created_at"]),
            CloseDate=o["close_date"].isoformat(),
            StageName=o["stage"],
            IsClosed=o["is_closed"],
            IsWon=o["is_won"],
            Amount=float(o["amount"]),
            CurrencyIsoCode=o["currency"],
            OwnerId=o["owner_id"],
            Loss_Reason__c=o["loss_reason"],
        )
    for n, h in enumerate(rows["opportunity_stage_history"]):
        sf.add(
            "OpportunityHistory",
            _utc(h["entered_at"]),
            Id=f"008{n:012d}",
            OpportunityId=h["opportunity_id"],
            StageName=h["stage"],
            CreatedDate=_utc(h["entered_at"]),
        )
    return sf
