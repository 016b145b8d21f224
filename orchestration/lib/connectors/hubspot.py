"""HubSpot (CRM v3 API) -> crm/accounts, campaigns, leads, opportunities, opportunity_stage_history.

Mapping (DEFAULT_MAPPING below; every entry can be overridden by GTM_HUBSPOT_MAPPING, see
crm_mapping.py). `id` is the record's id, `@companies` the id of its first associated company:
- accounts <- companies; campaigns <- marketing campaigns (when the portal has them; channel
  'other' unless mapped to a property); leads <- contacts, their lifecycle-stage entry dates as
  created_at / mql_at / sql_at / converted_at, `hs_analytics_source` mapped onto channels;
  opportunities <- deals, `dealstage` resolved to its label through the deal pipelines (stage ids
  are looked up within the deal's own pipeline: labels repeat across pipelines), `dealtype` mapped
  onto new_business / expansion / renewal (new_business when empty), amount 0 when empty, currency
  the reporting currency when empty; stage history <- each deal's `dealstage` history.
Incremental: companies, contacts and deals are read through the search endpoint, modified at or
after the last pull's newest modification (dlt resource state); the search endpoint stops at
10,000 results per query, so the window is split at the last modification seen and searched again.
Deleted (archived) records since the last pull are counted and listed, never landed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

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

SOURCE = "hubspot"
SETTING = "GTM_HUBSPOT_MAPPING"
SEARCH_PAGE = 200  # the search endpoint's largest page
SEARCH_CAP = 10_000  # the search endpoint answers no page beyond this many results of one query
LIST_PAGE = 100
BATCH_READ = 100  # objects per batch read
ASSOCIATIONS_BATCH = 1000  # ids per association batch read
MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}


DEFAULT_MAPPING = FieldMapping(
    columns={
        "accounts": {
            "account_id": first_of("id"),
            "account_name": first_of("name"),
            "segment": Source(),
            "industry": first_of("industry"),
            "country": first_of("country"),
            "created_at": first_of("createdate"),
        },
        "campaigns": {
            "campaign_id": first_of("id"),
            "campaign_name": first_of("hs_name"),
            "channel": Source(constant="other"),
            "start_date": first_of("hs_start_date", "createdAt"),
            "end_date": first_of("hs_end_date"),
        },
        "leads": {
            "lead_id": first_of("id"),
            "created_at": first_of("hs_lifecyclestage_lead_date", "createdate"),
            "channel": first_of("hs_analytics_source"),
            "campaign_id": Source(),
            "account_id": first_of("@companies"),
            "mql_at": first_of("hs_lifecyclestage_marketingqualifiedlead_date"),
            "sql_at": first_of("hs_lifecyclestage_salesqualifiedlead_date"),
            "converted_at": first_of("hs_lifecyclestage_opportunity_date"),
            "opportunity_id": first_of("@deals"),
            "disqualified_at": Source(),
        },
        "opportunities": {
            "opportunity_id": first_of("id"),
            "account_id": first_of("@companies"),
            "lead_id": Source(),
            "opportunity_type": first_of("dealtype"),
            "created_at": first_of("createdate"),
            "close_date": first_of("closedate"),
            "stage": first_of("dealstage"),
            "is_closed": first_of("hs_is_closed"),
            "is_won": first_of("hs_is_closed_won"),
            "amount": first_of("amount"),
            "currency": first_of("deal_currency_code"),
            "owner_id": first_of("hubspot_owner_id"),
            "loss_reason": first_of("closed_lost_reason"),
        },
        "opportunity_stage_history": {"stage": first_of("dealstage")},
    },
    channels={
        "organic_search": "organic",
        "paid_search": "paid_search",
        "paid_social": "paid_social",
        "social_media": "organic",
        "email_marketing": "email",
        "referrals": "referral",
        "ai_referrals": "referral",
        "other_campaigns": "other",
        "direct_traffic": "direct",
        "offline": "offline",
    },
    types={"newbusiness": "new_business", "existingbusiness": "expansion", "renewal": "renewal"},
)


class HubSpotClient(HttpClient):
    def __init__(self, base_url: str, token: str, **kwargs):
        super().__init__(
            SOURCE, base_url, "check GTM_HUBSPOT_TOKEN", headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    def list(self, path: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Every object of a list endpoint, paged by `after`."""
        params = {**(params or {}), "limit": LIST_PAGE}
        while True:
            page = self.get(path, params)
            if page.get("results"):
                yield page["results"]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after

    def search(
        self, object_type: str, properties: list[str], since: str | None, given_at_since: frozenset[str] = frozenset()
    ) -> Iterator[list[dict]]:
        """Every object modified at or after `since` (ISO), oldest first, but those of `given_at_since`
        (given by the last pull at that very instant). A query answers at most SEARCH_CAP results:
        past that the window restarts at the last modification seen, skipping the records already
        given at that instant."""
        modified = MODIFIED[object_type]
        lower, given_at_lower = since, set(given_at_since)
        while True:
            filters = [{"propertyName": modified, "operator": "GTE", "value": _epoch_ms(lower)}] if lower else []
            body = {
                "filterGroups": [{"filters": filters}] if filters else [],
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": sorted({*properties, modified}),
                "limit": SEARCH_PAGE,
                "after": "0",
            }
            last = None
            while True:
                page = self.post(f"/crm/v3/objects/{object_type}/search", body)
                results = page.get("results") or []
                fresh = [
                    r
                    for r in results
                    if not (r["id"] in given_at_lower and _same_instant(r["properties"].get(modified), lower))
                ]
                if fresh:
                    yield fresh
                if results:
                    last = results[-1]["properties"].get(modified)
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after or not results:
                    return
                if int(after) >= SEARCH_CAP:
                    break
                body["after"] = after
            if last is None or last == lower:
                raise PullError(
                    SOURCE,
                    f"POST /crm/v3/objects/{object_type}/search",
                    f"more than {SEARCH_CAP:,} {object_type} were modified at {lower}: the window cannot be split",
                )
            given_at_lower = {r["id"] for r in results if r["properties"].get(modified) == last}
            lower = last

    def associations(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        """id -> the ids of its associated `to_type` records (v4 batch read, paged per record)."""
        found: dict[str, list[str]] = {}
        pending = [{"id": i} for i in ids]
        while pending:
            batch, pending = pending[:ASSOCIATIONS_BATCH], pending[ASSOCIATIONS_BATCH:]
            page = self.post(f"/crm/v4/associations/{from_type}/{to_type}/batch/read", {"inputs": batch})
            for result in page.get("results") or []:
                origin = str(result["from"]["id"])
                found.setdefault(origin, []).extend(str(t["toObjectId"]) for t in result.get("to") or [])
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": origin, "after": after})
        return found

    def stage_histories(self, ids: list[str]) -> dict[str, dict]:
        """deal id -> {"pipeline": ..., "history": [{"value", "timestamp"}, ...]}."""
        found = {}
        for start in range(0, len(ids), BATCH_READ):
            page = self.post(
                "/crm/v3/objects/deals/batch/read",
                {
                    "properties": ["pipeline"],
                    "propertiesWithHistory": ["dealstage"],
                    "inputs": [{"id": i} for i in ids[start : start + BATCH_READ]],
                },
            )
            for deal in page.get("results") or []:
                found[str(deal["id"])] = {
                    "pipeline": (deal.get("properties") or {}).get("pipeline"),
                    "history": (deal.get("propertiesWithHistory") or {}).get("dealstage") or [],
                }
        return found


def _same_instant(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and _timestamp(a) == _timestamp(b)


def _epoch_ms(iso: str) -> str:
    return str(int(_timestamp(iso).timestamp() * 1000))


def _timestamp(value: object) -> dt.datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():  # some date properties come as epoch milliseconds
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _boolean(value: object) -> bool | None:
    if value in (None, ""):
        return None
    return str(value).strip().lower() in ("true", "1", "yes")


class Stages:
    """Deal stage ids -> labels and outcomes, within their pipeline (labels repeat across pipelines)."""

    def __init__(self, pipelines: list[dict]):
        self.by_pipeline: dict[tuple[str, str], tuple[str, str]] = {}
        self.by_id: dict[str, tuple[str, str]] = {}
        for pipeline in pipelines:
            for stage in pipeline.get("stages") or []:
                metadata = stage.get("metadata") or {}
                closed = _boolean(metadata.get("isClosed"))
                won = closed and float(metadata.get("probability") or 0) >= 1
                outcome = "won" if won else "lost" if closed else "open"
                entry = (stage["label"], outcome)
                self.by_pipeline[(str(pipeline["id"]), str(stage["id"]))] = entry
                self.by_id.setdefault(str(stage["id"]), entry)
        self.seen: dict[str, str] = {}  # label -> outcome, of every stage landed
        self.unresolved: set[str] = set()

    def label(self, pipeline: str | None, stage_id: str | None) -> str | None:
        if stage_id in (None, ""):
            return None
        entry = self.by_pipeline.get((str(pipeline), str(stage_id))) or self.by_id.get(str(stage_id))
        if entry is None:
            self.unresolved.add(str(stage_id))
            entry = (str(stage_id), "open")
        self.seen.setdefault(*entry)
        return entry[0]


def map_company(record: dict, mapping: FieldMapping) -> dict:
    row = {c: mapping.read("accounts", c, record) for c in ACCOUNTS.column_names}
    row["created_at"] = _timestamp(row["created_at"])
    return row


def map_campaign(record: dict, mapping: FieldMapping, values: ValueMaps) -> dict:
    row = {c: mapping.read("campaigns", c, record) for c in CAMPAIGNS.column_names}
    if mapping.source("campaigns", "channel").constant is None:
        row["channel"] = values.channel(row["channel"])
    for column in ("start_date", "end_date"):
        moment = _timestamp(row[column])
        row[column] = moment.date() if moment else None
    return row


def map_contact(record: dict, mapping: FieldMapping, values: ValueMaps) -> dict:
    row = {c: mapping.read("leads", c, record) for c in LEADS.column_names}
    row["channel"] = values.channel(row["channel"])
    for column in ("created_at", "mql_at", "sql_at", "converted_at", "disqualified_at"):
        row[column] = _timestamp(row[column])
    return row


def map_deal(record: dict, mapping: FieldMapping, values: ValueMaps, stages: Stages, currency: str) -> dict:
    row = {c: mapping.read("opportunities", c, record) for c in OPPORTUNITIES.column_names}
    stage_id = row["stage"]
    row["stage"] = stages.label(record.get("pipeline"), stage_id)
    row["opportunity_type"] = values.opportunity_type(row["opportunity_type"])
    row["created_at"] = _timestamp(row["created_at"])
    close = _timestamp(row["close_date"])
    row["close_date"] = close.date() if close else None
    outcome = stages.seen.get(row["stage"]) if row["stage"] else None
    row["is_closed"] = _boolean(row["is_closed"]) if row["is_closed"] not in (None, "") else outcome in ("won", "lost")
    row["is_won"] = _boolean(row["is_won"]) if row["is_won"] not in (None, "") else outcome == "won"
    row["amount"] = float(row["amount"]) if row["amount"] not in (None, "") else 0.0
    row["currency"] = str(row["currency"] or currency).upper()
    return row


def map_stage_history(deal_id: str, pipeline: str | None, history: list[dict], stages: Stages) -> list[dict]:
    """One row per stage the deal entered, oldest first; a repeated value (the same stage set again) is not an entry."""
    rows, previous = [], None
    for change in sorted(history, key=lambda c: _timestamp(c["timestamp"])):
        if change.get("value") in (None, "") or change["value"] == previous:
            continue
        previous = change["value"]
        rows.append(
            {
                "opportunity_id": deal_id,
                "stage": stages.label(pipeline, change["value"]),
                "entered_at": _timestamp(change["timestamp"]),
            }
        )
    return rows


def _flatten(record: dict, associations: dict[str, dict[str, list[str]]]) -> dict:
    flat = {**(record.get("properties") or {}), "id": str(record["id"])}
    flat.setdefault("createdAt", record.get("createdAt"))
    for to_type, found in associations.items():
        linked = found.get(str(record["id"])) or []
        flat[f"@{to_type}"] = linked[0] if linked else None
    return flat


def _wanted_associations(mapping: FieldMapping, entity: str) -> list[str]:
    return [f[1:] for f in mapping.fields_of(entity) if f.startswith("@")]


def _properties(mapping: FieldMapping, entity: str) -> list[str]:
    return [f for f in mapping.fields_of(entity) if not f.startswith("@") and f not in ("id", "createdAt")]


def _extraction(settings: Settings, client: HubSpotClient | None = None) -> Extraction:
    import dlt

    client = client or HubSpotClient(settings.hubspot_api_base, settings.hubspot_token or "")
    mapping = with_overrides(DEFAULT_MAPPING, settings.hubspot_mapping, SOURCE, SETTING)
    values = ValueMaps(mapping)
    extraction = Extraction(resources=[])
    deleted: dict[str, list[str]] = {}
    cache: dict[str, Stages] = {}

    def stages() -> Stages:
        if "stages" not in cache:
            cache["stages"] = Stages(client.get("/crm/v3/pipelines/deals").get("results") or [])
        return cache["stages"]

    def changed(object_type: str, entity: str, extra: tuple[str, ...] = ()) -> Iterator[list[dict]]:
        """Flattened records of `object_type` changed since the resource's cursor; moves the cursor on."""
        state = dlt.current.resource_state()
        since, given = state.get("modified_since"), frozenset(state.get("ids_at_cursor") or ())
        newest, at_newest = since, set(given)
        count_deleted(object_type, since)
        pending: list[dict] = []  # associations are read for up to ASSOCIATIONS_BATCH records at once

        def with_associations() -> list[dict]:
            ids = [str(r["id"]) for r in pending]
            links = {t: client.associations(object_type, t, ids) for t in _wanted_associations(mapping, entity)}
            flattened = [_flatten(r, links) for r in pending]
            pending.clear()
            return flattened

        for page in client.search(object_type, [*_properties(mapping, entity), *extra], since, given):
            for record in page:
                modified = record["properties"].get(MODIFIED[object_type])
                if not modified:
                    continue
                if newest is None or _timestamp(modified) > _timestamp(newest):
                    newest, at_newest = modified, set()
                if _timestamp(modified) == _timestamp(newest):
                    at_newest.add(str(record["id"]))
            pending.extend(page)
            if len(pending) >= ASSOCIATIONS_BATCH:
                yield with_associations()
        if pending:
            yield with_associations()
        state["modified_since"], state["ids_at_cursor"] = newest, sorted(at_newest)

    def count_deleted(object_type: str, since: str | None) -> None:
        ids = []
        for page in client.list(f"/crm/v3/objects/{object_type}", {"archived": "true"}):
            ids.extend(
                str(r["id"])
                for r in page
                if since is None or not r.get("archivedAt") or _timestamp(r["archivedAt"]) >= _timestamp(since)
            )
        deleted[object_type] = ids

    @dlt.resource(name=ACCOUNTS.qualified_name, max_table_nesting=0)
    def accounts():
        for page in changed("companies", "accounts"):
            yield [map_company(r, mapping) for r in page]

    @dlt.resource(name=CAMPAIGNS.qualified_name, max_table_nesting=0)
    def campaigns():
        properties = ",".join(_properties(mapping, "campaigns"))
        try:
            for page in client.list("/marketing/v3/campaigns", {"properties": properties}):
                yield [map_campaign(_flatten(r, {}), mapping, values) for r in page]
        except PullError as error:
            if not error.reason.startswith(("HTTP 403", "HTTP 404")):
                raise
            extraction.notes.append(
                f"campaigns not pulled: {error.reason} (the portal has no campaigns, or the token lacks "
                "the marketing.campaigns.read scope)"
            )

    @dlt.resource(name=LEADS.qualified_name, max_table_nesting=0)
    def leads():
        for page in changed("contacts", "leads"):
            yield [map_contact(r, mapping, values) for r in page]

    @dlt.resource(name=OPPORTUNITIES.qualified_name, max_table_nesting=0)
    def opportunities():
        for page in changed("deals", "opportunities", ("pipeline",)):
            yield [map_deal(r, mapping, values, stages(), settings.reporting_currency) for r in page]

    @dlt.resource(name=OPPORTUNITY_STAGE_HISTORY.qualified_name, max_table_nesting=0)
    def opportunity_stage_history():
        field = (mapping.source("opportunity_stage_history", "stage").fields or ("dealstage",))[0]
        for page in changed("deals", "opportunity_stage_history", ("pipeline",)):
            histories = client.stage_histories([r["id"] for r in page]) if field == "dealstage" else {}
            yield [
                row
                for r in page
                for row in map_stage_history(
                    r["id"], r.get("pipeline"), (histories.get(r["id"]) or {}).get("history") or [], stages()
                )
            ]

    extraction.resources = [accounts(), campaigns(), leads(), opportunities(), opportunity_stage_history()]

    def summary_notes() -> list[str]:
        notes = [*values.notes(SETTING), *deletion_notes(deleted)]
        if "stages" in cache:
            unresolved = ", ".join(sorted(cache["stages"].unresolved))
            if unresolved:
                notes.append(f"deal stage id(s) in no pipeline, landed as the id: {unresolved}")
            notes.extend(unknown_stage_notes(cache["stages"].seen, settings.stage_mapping))
        return notes

    extraction.summaries.append(summary_notes)

    return extraction


HUBSPOT = Connector(
    name=SOURCE,
    description="crm/accounts, campaigns, leads, opportunities and stage history from the HubSpot CRM API",
    entities=(ACCOUNTS, CAMPAIGNS, LEADS, OPPORTUNITIES, OPPORTUNITY_STAGE_HISTORY),
    required_settings=("hubspot_token",),
    extraction=_extraction,
    secrets=lambda settings: (settings.hubspot_token or "",),
)
