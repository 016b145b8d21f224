"""Salesforce (REST API, SOQL) -> crm/accounts, campaigns, leads, opportunities, opportunity_stage_history.

Mapping (DEFAULT_MAPPING below; every entry can be overridden by GTM_SALESFORCE_MAPPING, see
crm_mapping.py): accounts <- Account, campaigns <- Campaign (`Type` mapped onto channels), leads <-
Lead (`LeadSource` mapped onto channels; the MQL and SQL dates are custom fields in most orgs, so
unmapped by default; `ConvertedDate`, `ConvertedAccountId`, `ConvertedOpportunityId`),
opportunities <- Opportunity (`Type` mapped onto new_business / expansion / renewal, new_business
when empty; `IsClosed`, `IsWon`, `Amount` (0 when empty); the currency is the reporting currency
unless mapped, e.g. `opportunities.currency=CurrencyIsoCode` in a multi-currency org), stage
history <- OpportunityHistory (a row that repeats the previous stage, an amount or date change,
is not a stage entry).
Each object is read by SOQL through the query endpoint, following `nextRecordsUrl`, incrementally
by `SystemModstamp` (dlt resource state); records deleted since the last pull are read through
`queryAll` (`IsDeleted = TRUE`), counted and listed, never landed.
Authentication: OAuth client credentials (GTM_SALESFORCE_CLIENT_ID/SECRET) or an access token
(GTM_SALESFORCE_ACCESS_TOKEN). An expired session (INVALID_SESSION_ID) renews the token once
(client credentials only); REQUEST_LIMIT_EXCEEDED fails the pull, saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import quote

import requests

from orchestration.lib.connectors.base import Connector, Extraction, PullError
from orchestration.lib.connectors.crm_mapping import (
    FieldMapping,
    Source,
    ValueMaps,
    deletion_notes,
    first_of,
    unknown_stage_notes,
    with_overrides,
)
from orchestration.lib.connectors.http_client import HttpClient
from orchestration.lib.contract import ACCOUNTS, CAMPAIGNS, LEADS, OPPORTUNITIES, OPPORTUNITY_STAGE_HISTORY
from orchestration.settings import Settings

SOURCE = "salesforce"
SETTING = "GTM_SALESFORCE_MAPPING"
CURSOR = "SystemModstamp"


DEFAULT_MAPPING = FieldMapping(
    columns={
        "accounts": {
            "account_id": first_of("Id"),
            "account_name": first_of("Name"),
            "segment": Source(),
            "industry": first_of("Industry"),
            "country": first_of("BillingCountry"),
            "created_at": first_of("CreatedDate"),
        },
        "campaigns": {
            "campaign_id": first_of("Id"),
            "campaign_name": first_of("Name"),
            "channel": first_of("Type"),
            "start_date": first_of("StartDate", "CreatedDate"),
            "end_date": first_of("EndDate"),
        },
        "leads": {
            "lead_id": first_of("Id"),
            "created_at": first_of("CreatedDate"),
            "channel": first_of("LeadSource"),
            "campaign_id": Source(),
            "account_id": first_of("ConvertedAccountId"),
            "mql_at": Source(),
            "sql_at": Source(),
            "converted_at": first_of("ConvertedDate"),
            "opportunity_id": first_of("ConvertedOpportunityId"),
            "disqualified_at": Source(),
        },
        "opportunities": {
            "opportunity_id": first_of("Id"),
            "account_id": first_of("AccountId"),
            "lead_id": Source(),
            "opportunity_type": first_of("Type"),
            "created_at": first_of("CreatedDate"),
            "close_date": first_of("CloseDate"),
            "stage": first_of("StageName"),
            "is_closed": first_of("IsClosed"),
            "is_won": first_of("IsWon"),
            "amount": first_of("Amount"),
            "currency": Source(),
            "owner_id": first_of("OwnerId"),
            "loss_reason": Source(),
        },
        "opportunity_stage_history": {
            "opportunity_id": first_of("OpportunityId"),
            "stage": first_of("StageName"),
            "entered_at": first_of("CreatedDate"),
        },
    },
    channels={
        # Lead.LeadSource's standard values
        "web": "organic",
        "phone inquiry": "inbound_phone",
        "partner referral": "partner",
        "purchased list": "outbound",
        "other": "other",
        "advertisement": "paid_search",
        "employee referral": "referral",
        "external referral": "referral",
        "word of mouth": "referral",
        "trade show": "events",
        "seminar - internal": "events",
        "seminar - partner": "events",
        # Campaign.Type's standard values
        "conference": "events",
        "webinar": "events",
        "email": "email",
        "banner ads": "paid_social",
        "direct mail": "outbound",
        "telemarketing": "outbound",
        "public relations": "content",
        "partners": "partner",
        "referral program": "referral",
    },
    types={
        "new customer": "new_business",
        "new business": "new_business",
        "existing customer - upgrade": "expansion",
        "existing customer - replacement": "expansion",
        "existing customer - downgrade": "expansion",
        "renewal": "renewal",
    },
)

OBJECTS = {  # entity -> sObject
    "accounts": "Account",
    "campaigns": "Campaign",
    "leads": "Lead",
    "opportunities": "Opportunity",
    "opportunity_stage_history": "OpportunityHistory",
}


class SalesforceClient(HttpClient):
    def __init__(self, settings: Settings, **kwargs):
        self.settings = settings
        self.version = settings.salesforce_api_version
        has_client = bool(settings.salesforce_client_id and settings.salesforce_client_secret)
        if not has_client and not settings.salesforce_access_token:
            raise PullError(
                SOURCE,
                "authentication",
                "set GTM_SALESFORCE_CLIENT_ID and GTM_SALESFORCE_CLIENT_SECRET, or GTM_SALESFORCE_ACCESS_TOKEN",
            )
        hint = (
            "check GTM_SALESFORCE_CLIENT_ID and GTM_SALESFORCE_CLIENT_SECRET"
            if has_client
            else "check GTM_SALESFORCE_ACCESS_TOKEN"
        )
        self._token_kwargs = kwargs
        super().__init__(
            SOURCE,
            settings.salesforce_instance_url or "",
            hint,
            renew=self._renew if has_client else None,
            is_expired=_session_expired,
            **kwargs,
        )
        token = self._client_credentials_token() if has_client else settings.salesforce_access_token
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _client_credentials_token(self) -> str:
        hint = "check GTM_SALESFORCE_CLIENT_ID and GTM_SALESFORCE_CLIENT_SECRET"
        token_client = HttpClient(SOURCE, self.base_url, hint, **self._token_kwargs)
        try:
            answer = token_client.post(
                "/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.settings.salesforce_client_id,
                    "client_secret": self.settings.salesforce_client_secret,
                },
            )
        except PullError as error:
            reason = error.reason if hint in error.reason else f"{error.reason} ({hint})"
            raise PullError(SOURCE, error.where, reason) from None
        finally:
            self.requests += token_client.requests
        return answer["access_token"]

    def _renew(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._client_credentials_token()}"}

    def request(self, method: str, path: str, **kwargs) -> dict:
        try:
            return super().request(method, path, **kwargs)
        except PullError as error:
            if "REQUEST_LIMIT_EXCEEDED" in error.reason:
                raise PullError(
                    SOURCE,
                    error.where,
                    "REQUEST_LIMIT_EXCEEDED: the org's API request limit (rolling 24 hours) is used up; "
                    "pull again once it has reset (the incremental state is kept, nothing is skipped)",
                ) from None
            raise

    def query(self, soql: str, deleted: bool = False) -> Iterator[list[dict]]:
        """Every record of a SOQL query, a page at a time, following `nextRecordsUrl`."""
        endpoint = "queryAll" if deleted else "query"
        page = self.get(f"/services/data/{self.version}/{endpoint}?q={quote(soql)}")
        while True:
            if page.get("records"):
                yield page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            page = self.get(page["nextRecordsUrl"])


def _session_expired(response: requests.Response) -> bool:
    if response.status_code != 401:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, list) and any(e.get("errorCode") == "INVALID_SESSION_ID" for e in body)


def _soql_datetime(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: object) -> dt.datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) == 10:  # a date field (ConvertedDate): midnight UTC
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _flatten(record: dict, prefix: str = "") -> dict:
    """`{"Owner": {"Name": x}}` -> `{"Owner.Name": x}`, so relationship fields can be mapped too."""
    flat = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def soql(sobject: str, fields: list[str], since: dt.datetime | None) -> str:
    where = f" WHERE {CURSOR} >= {_soql_datetime(since)}" if since else ""
    return f"SELECT {', '.join(dict.fromkeys([*fields, CURSOR]))} FROM {sobject}{where} ORDER BY {CURSOR}"


def map_record(entity: str, record: dict, mapping: FieldMapping, values: ValueMaps, currency: str) -> dict:
    columns = {
        "accounts": ACCOUNTS,
        "campaigns": CAMPAIGNS,
        "leads": LEADS,
        "opportunities": OPPORTUNITIES,
        "opportunity_stage_history": OPPORTUNITY_STAGE_HISTORY,
    }[entity].columns
    row = {c.name: mapping.read(entity, c.name, record) for c in columns}
    for c in columns:
        if c.type == "timestamp":
            row[c.name] = _timestamp(row[c.name])
    if entity in ("leads", "campaigns") and mapping.source(entity, "channel").constant is None:
        row["channel"] = values.channel(row["channel"])
    if entity == "opportunities":
        row["opportunity_type"] = values.opportunity_type(row["opportunity_type"])
        row["amount"] = float(row["amount"]) if row["amount"] not in (None, "") else 0.0
        row["currency"] = str(row["currency"] or currency).upper()
    return row


def _extraction(settings: Settings, **client_kwargs) -> Extraction:
    import dlt

    mapping = with_overrides(DEFAULT_MAPPING, settings.salesforce_mapping, SOURCE, SETTING)
    client = SalesforceClient(settings, **client_kwargs)
    values = ValueMaps(mapping)
    extraction = Extraction(resources=[])
    deleted: dict[str, list[str]] = {}
    stages_seen: dict[str, str] = {}

    def changed(entity: str) -> Iterator[list[dict]]:
        state = dlt.current.resource_state()
        since, given = _timestamp(state.get("modified_since")), set(state.get("ids_at_cursor") or ())
        sobject = OBJECTS[entity]
        fields = list(dict.fromkeys(["Id", *mapping.fields_of(entity)]))
        newest, at_newest = since, set(given)
        for page in client.query(soql(sobject, fields, since)):
            # `>=` re-reads the records of the last pull's newest instant: those already given are skipped
            flat = [r for r in map(_flatten, page) if not (r["Id"] in given and _timestamp(r[CURSOR]) == since)]
            for record in flat:
                moment = _timestamp(record.get(CURSOR))
                if moment is None:
                    continue
                if newest is None or moment > newest:
                    newest, at_newest = moment, set()
                if moment == newest:
                    at_newest.add(record["Id"])
            yield flat
        if sobject != "OpportunityHistory":  # history rows are never deleted on their own
            ids = []
            gone_since = f" AND {CURSOR} >= {_soql_datetime(since)}" if since else ""
            for page in client.query(f"SELECT Id FROM {sobject} WHERE IsDeleted = TRUE{gone_since}", deleted=True):
                ids.extend(r["Id"] for r in page)
            deleted[sobject] = ids
        state["modified_since"] = newest.isoformat() if newest else None
        state["ids_at_cursor"] = sorted(at_newest)

    def resource(entity: str, qualified_name: str):
        @dlt.resource(name=qualified_name, max_table_nesting=0)
        def rows():
            # the last stage of each opportunity, kept between pulls: a later row repeating it is no entry
            previous: dict[str, str] = dlt.current.resource_state().setdefault("last_stage", {})
            for page in changed(entity):
                mapped = [map_record(entity, r, mapping, values, settings.reporting_currency) for r in page]
                if entity == "opportunities":
                    for row in mapped:
                        outcome = "won" if row["is_won"] else "lost" if row["is_closed"] else "open"
                        stages_seen.setdefault(row["stage"], outcome)
                if entity == "opportunity_stage_history":
                    mapped = _stage_entries(mapped, previous)
                    for row in mapped:
                        stages_seen.setdefault(row["stage"], "open")
                yield mapped

        return rows()

    extraction.resources = [
        resource(entity, f"crm__{entity}")
        for entity in ("accounts", "campaigns", "leads", "opportunities", "opportunity_stage_history")
    ]

    def summary_notes() -> list[str]:
        notes = [*values.notes(SETTING), *deletion_notes(deleted)]
        return notes + unknown_stage_notes(stages_seen, settings.stage_mapping)

    extraction.summaries.append(summary_notes)
    return extraction


def _stage_entries(rows: list[dict], previous: dict[str, str]) -> list[dict]:
    """History rows in order of SystemModstamp; keeps those that change the opportunity's stage."""
    entries = []
    for row in sorted(rows, key=lambda r: (r["opportunity_id"], r["entered_at"])):
        if row["stage"] and previous.get(row["opportunity_id"]) != row["stage"]:
            entries.append(row)
        previous[row["opportunity_id"]] = row["stage"]
    return entries


SALESFORCE = Connector(
    name=SOURCE,
    description="crm/accounts, campaigns, leads, opportunities and stage history from the Salesforce REST API",
    entities=(ACCOUNTS, CAMPAIGNS, LEADS, OPPORTUNITIES, OPPORTUNITY_STAGE_HISTORY),
    required_settings=("salesforce_instance_url",),
    extraction=_extraction,
    secrets=lambda settings: (
        settings.salesforce_client_secret or "",
        settings.salesforce_access_token or "",
    ),
)
