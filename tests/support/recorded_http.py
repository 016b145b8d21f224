"""A local HTTP server that answers from recorded responses, for what a fake server lacks.

`routes` maps a path to the responses it gives in turn (the last one repeats): (status,
headers, JSON body). Every request is kept in `requests` as (path, query dict, headers).
With `fallback` (a base URL), a path without recorded responses is forwarded there: a fake
server answers what it knows, the recordings fill in the rest.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Response = tuple[int, dict[str, str], object]


class RecordedServer:
    def __init__(self, routes: dict[str, list[Response]], fallback: str | None = None):
        self.routes = {path: list(responses) for path, responses in routes.items()}
        self.fallback = fallback
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []

    def answer(self, path: str, query: str = "", headers: dict[str, str] | None = None) -> Response:
        responses = self.routes.get(path)
        if not responses and self.fallback:
            import requests

            forwarded = {k: v for k, v in (headers or {}).items() if k.lower() in ("authorization", "stripe-version")}
            answer = requests.get(f"{self.fallback}{path}?{query}", headers=forwarded, timeout=60)
            return answer.status_code, {}, answer.json()
        if not responses:
            return (
                404,
                {},
                {"error": {"message": f"Unrecognized request URL (GET: {path})", "type": "invalid_request_error"}},
            )
        return responses.pop(0) if len(responses) > 1 else responses[0]


@contextlib.contextmanager
def serving(routes: dict[str, list[Response]], fallback: str | None = None) -> Iterator[tuple[str, RecordedServer]]:
    recorded = RecordedServer(routes, fallback)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            recorded.requests.append((url.path, parse_qs(url.query), dict(self.headers)))
            status, headers, body = recorded.answer(url.path, url.query, dict(self.headers))
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorded
    finally:
        server.shutdown()
        server.server_close()
