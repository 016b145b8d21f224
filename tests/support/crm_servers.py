"""Local stand-ins for the HubSpot CRM v3 and Salesforce REST APIs, holding records in memory.

They answer the endpoints the connectors call, shaped as the vendors document them: HubSpot's
search (POST, `after` paging, at most 10,000 results per query: a page beyond answers 400), list
(`archived=true`), v4 association batch reads, deal batch reads with `propertiesWithHistory`,
pipelines and marketing campaigns; Salesforce's OAuth token endpoint, `query`/`queryAll` with
`nextRecordsUrl` paging, and the 401 INVALID_SESSION_ID body of an expired session.
`faults` holds responses given, in turn, before the normal answer of a path (429, 500, ...).
Every request is kept in `requests` as (method, path, query, body).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Response = tuple[int, dict[str, str], object]


class FakeServer:
    def __init__(self):
        self.faults: dict[str, list[Response]] = {}
        self.requests: list[tuple[str, str, dict[str, str], object]] = []
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, query: dict[str, str], body, headers) -> Response:
        raise NotImplementedError

    def respond(self, method: str, path: str, query: dict[str, str], body, headers) -> Response:
        with self.lock:
            self.requests.append((method, path, query, body))
            if self.faults.get(path):
                return self.faults[path].pop(0)
        return self.handle(method, path, query, body, headers)


@contextlib.contextmanager
def serving(fake: FakeServer) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Content-Type", "").startswith("application/json") and raw:
                body = json.loads(raw)
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            status, headers, answer = fake.respond(method, url.path, query, body, self.headers)
            data = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _moment(value: str) -> dt.datetime:
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- HubSpot ---------------------------------------------------------------------------------

HUBSPOT_MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
SEARCH_CAP = 10_000


class FakeHubSpot(FakeServer):
    def __init__(self, token: str = "pat-na1-test-token"):
        super().__init__()
        self.token = token
        self.objects: dict[str, dict[str, dict]] = {"companies": {}, "contacts": {}, "deals": {}}
        self.archived: dict[str, list[dict]] = {"companies": [], "contacts": [], "deals": []}
        self.links: dict[tuple[str, str, str], list[str]] = {}  # (from type, id, to type) -> ids
        self.histories: dict[str, list[dict]] = {}  # deal id -> dealstage history
        self.pipelines: list[dict] = []
        self.campaigns: list[dict] | None = []  # None: the portal answers 403 (no campaigns)
        self._sorted: dict[str, list[tuple[dt.datetime, str]]] = {}

    # seeding
    def add(self, object_type: str, object_id: str, modified: dt.datetime, **properties) -> None:
        properties = {k: (iso(v) if isinstance(v, dt.datetime) else v) for k, v in properties.items()}
        properties[HUBSPOT_MODIFIED[object_type]] = iso(modified)
        properties.setdefault("createdate", iso(modified))
        properties["hs_object_id"] = object_id
        self.objects[object_type][object_id] = {
            "id": object_id,
            "properties": properties,
            "createdAt": properties["createdate"],
            "updatedAt": iso(modified),
            "archived": False,
        }
        self._sorted.pop(object_type, None)

    def link(self, from_type: str, from_id: str, to_type: str, to_id: str, both: bool = True) -> None:
        """Associate two records; `both=False` only from the first (as when seeding from contract rows,
        where each side names its own association)."""
        self.links.setdefault((from_type, from_id, to_type), []).append(to_id)
        if both:
            self.links.setdefault((to_type, to_id, from_type), []).append(from_id)

    def archive(self, object_type: str, object_id: str, at: dt.datetime) -> None:
        record = self.objects[object_type].pop(object_id)
        self.archived[object_type].append({**record, "archived": True, "archivedAt": iso(at)})
        self._sorted.pop(object_type, None)

    # answers
    def handle(self, method, path, query, body, headers) -> Response:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return (
                401,
                {},
                {
                    "status": "error",
                    "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                    "correlationId": "0c2f8b5e-0000-4000-8000-000000000000",
                    "category": "INVALID_AUTHENTICATION",
                },
            )
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)/search", path):
            return self._search(match.group(1), body)
        if path == "/crm/v3/objects/deals/batch/read":
            return self._batch_read(body)
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)", path):
            items = self.archived[match.group(1)] if query.get("archived") == "true" else []
            return self._list(items, query)
        if match := re.fullmatch(r"/crm/v4/associations/(\w+)/(\w+)/batch/read", path):
            return self._associations(match.group(1), match.group(2), body)
        if path == "/crm/v3/pipelines/deals":
            return 200, {}, {"results": self.pipelines}
        if path == "/marketing/v3/campaigns":
            if self.campaigns is None:
                return (
                    403,
                    {},
                    {
                        "status": "error",
                        "message": "This app hasn't been granted all required scopes to make this call.",
                        "category": "MISSING_SCOPES",
                    },
                )
            return self._list(self.campaigns, query)
        return 404, {}, {"status": "error", "message": f"Unknown path {path}", "category": "OBJECT_NOT_FOUND"}

    def _list(self, items: list[dict], query: dict[str, str]) -> Response:
        start = int(query.get("after") or 0)
        limit = int(query.get("limit") or 10)
        page = {"results": items[start : start + limit]}
        if start + limit < len(items):
            page["paging"] = {"next": {"after": str(start + limit), "link": "?after=" + str(start + limit)}}
        return 200, {}, page

    def _search(self, object_type: str, body: dict) -> Response:
        modified = HUBSPOT_MODIFIED[object_type]
        if object_type not in self._sorted:
            self._sorted[object_type] = sorted(
                (_moment(o["properties"][modified]), o["id"]) for o in self.objects[object_type].values()
            )
        ordered = self._sorted[object_type]
        start_index = 0
        for group in body.get("filterGroups") or []:
            for f in group["filters"]:
                assert f["propertyName"] == modified and f["operator"] == "GTE", f
                start_index = bisect.bisect_left(ordered, (_moment(str(f["value"])), ""))
        after = int(body.get("after") or 0)
        limit = min(int(body.get("limit") or 10), 200)
        if after >= SEARCH_CAP:
            return (
                400,
                {},
                {
                    "status": "error",
                    "message": "Invalid input JSON : Cannot page beyond 10000 results",
                    "category": "VALIDATION_ERROR",
                },
            )
        chosen = ordered[start_index + after : start_index + after + limit]
        matching = len(ordered) - start_index
        wanted = set(body.get("properties") or [])
        results = []
        for _, object_id in chosen:
            record = self.objects[object_type][object_id]
            properties = {k: v for k, v in record["properties"].items() if k in wanted or k == "hs_object_id"}
            results.append({**record, "properties": properties})
        page = {"total": matching, "results": results}
        if after + limit < matching:
            page["paging"] = {"next": {"after": str(after + limit)}}
        return 200, {}, page

    def _batch_read(self, body: dict) -> Response:
        results = []
        for item in body["inputs"]:
            record = self.objects["deals"].get(item["id"])
            if record is None:
                continue
            properties = {k: record["properties"].get(k) for k in body.get("properties") or []}
            history = {
                "dealstage": sorted(self.histories.get(item["id"], []), key=lambda c: c["timestamp"], reverse=True)
            }
            results.append({**record, "properties": properties, "propertiesWithHistory": history})
        return 200, {}, {"status": "COMPLETE", "results": results, "startedAt": iso(dt.datetime.now(dt.UTC))}

    def _associations(self, from_type: str, to_type: str, body: dict) -> Response:
        results = []
        for item in body["inputs"]:
            linked = self.links.get((from_type, item["id"], to_type))
            if linked:
                results.append(
                    {
                        "from": {"id": item["id"]},
                        "to": [
                            {
                                "toObjectId": int(t) if t.isdigit() else t,  # HubSpot's ids are numbers
                                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}],
                            }
                            for t in linked
                        ],
                    }
                )
        return 200, {}, {"status": "COMPLETE", "results": results, "startedAt": iso(dt.datetime.now(dt.UTC))}


def hubspot_pipeline(pipeline_id: str, label: str, stages: list[tuple[str, str, str]]) -> dict:
    """stages: (id, label, outcome open|won|lost), in order."""
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": 0,
        "archived": False,
        "stages": [
            {
                "id": stage_id,
                "label": stage_label,
                "displayOrder": n,
                "archived": False,
                "metadata": {
                    "isClosed": "true" if outcome != "open" else "false",
                    "probability": {"won": "1.0", "lost": "0.0"}.get(outcome, "0.5"),
                },
            }
            for n, (stage_id, stage_label, outcome) in enumerate(stages)
        ],
    }


# -- Salesforce ------------------------------------------------------------------------------

SOQL = re.compile(
    r"SELECT (?P<fields>.+?) FROM (?P<object>\w+)(?: WHERE (?P<where>.+?))?(?: ORDER BY (?P<order>\w+))?$"
)


class FakeSalesforce(FakeServer):
    def __init__(self, client_id: str = "3MVG9-test", client_secret: str = "sf-secret-value", page_size: int = 2000):
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.page_size = page_size
        self.records: dict[str, list[dict]] = {}  # sObject -> records (field -> value), IsDeleted among them
        self.valid_tokens: set[str] = set()
        self.issued = 0
        self.cursors: dict[str, list[dict]] = {}

    def add(self, sobject: str, modified: dt.datetime, **fields) -> None:
        fields = {k: (_sf_time(v) if isinstance(v, dt.datetime) else v) for k, v in fields.items()}
        fields.setdefault("IsDeleted", False)
        fields["SystemModstamp"] = _sf_time(modified)
        fields.setdefault("CreatedDate", fields["SystemModstamp"])
        self.records.setdefault(sobject, []).append(fields)

    def expire_sessions(self) -> None:
        self.valid_tokens.clear()

    def grant(self, token: str) -> None:
        self.valid_tokens.add(token)

    def handle(self, method, path, query, body, headers) -> Response:
        if path == "/services/oauth2/token":
            if body.get("grant_type") != "client_credentials" or (body.get("client_id"), body.get("client_secret")) != (
                self.client_id,
                self.client_secret,
            ):
                return 400, {}, {"error": "invalid_client", "error_description": "invalid client credentials"}
            self.issued += 1
            token = f"00D-token-{self.issued}"
            self.valid_tokens.add(token)
            return (
                200,
                {},
                {
                    "access_token": token,
                    "instance_url": "https://example.my.salesforce.com",
                    "id": "https://login.salesforce.com/id/00D/005",
                    "token_type": "Bearer",
                    "issued_at": "1700000000000",
                    "signature": "c2lnbmF0dXJl",
                },
            )
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return 401, {}, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        if match := re.fullmatch(r"/services/data/v[\d.]+/(query|queryAll)/(\w+)-(\d+)", path):
            return self._page(match.group(2), int(match.group(3)))
        if match := re.fullmatch(r"/services/data/v[\d.]+/(query|queryAll)", path):
            return self._query(query["q"], match.group(1) == "queryAll")
        return 404, {}, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]

    def _query(self, soql: str, include_deleted: bool) -> Response:
        match = SOQL.fullmatch(soql.strip())
        if not match:
            return 400, {}, [{"message": f"unexpected query {soql}", "errorCode": "MALFORMED_QUERY"}]
        sobject = match.group("object")
        fields = [f.strip() for f in match.group("fields").split(",")]
        rows = self.records.get(sobject, [])
        deleted_only = False
        since = None
        for condition in (match.group("where") or "").split(" AND "):
            condition = condition.strip()
            if condition == "IsDeleted = TRUE":
                deleted_only = True
            elif condition.startswith("SystemModstamp >= "):
                since = _moment(condition.removeprefix("SystemModstamp >= "))
            elif condition:
                return 400, {}, [{"message": f"unexpected condition {condition}", "errorCode": "MALFORMED_QUERY"}]
        chosen = [
            r
            for r in rows
            if (r["IsDeleted"] if deleted_only else (include_deleted or not r["IsDeleted"]))
            and (since is None or _moment(r["SystemModstamp"]) >= since)
        ]
        chosen.sort(key=lambda r: r["SystemModstamp"])
        unknown = [f for f in fields if "." not in f and f not in ("Id",) and rows and f not in rows[0]]
        if unknown:
            return (
                400,
                {},
                [{"message": f"No such column '{unknown[0]}' on entity '{sobject}'", "errorCode": "INVALID_FIELD"}],
            )
        records = [
            {"attributes": {"type": sobject, "url": f"/services/data/v62.0/sobjects/{sobject}/{r['Id']}"}}
            | {f: r.get(f) for f in fields}
            for r in chosen
        ]
        cursor = f"01g{len(self.cursors):012d}"
        self.cursors[cursor] = records
        return self._page(cursor, 0)

    def _page(self, cursor: str, start: int) -> Response:
        records = self.cursors[cursor]
        page = records[start : start + self.page_size]
        answer = {"totalSize": len(records), "done": start + self.page_size >= len(records), "records": page}
        if not answer["done"]:
            answer["nextRecordsUrl"] = f"/services/data/v62.0/query/{cursor}-{start + self.page_size}"
        return 200, {}, answer


def _sf_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
