"""A local Slack-compatible webhook on 127.0.0.1 that records what it receives."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = "T0000/B0000/very-secret-token"


class LocalWebhook:
    """A local webhook on 127.0.0.1 that records what it receives."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[dict, str]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((json.loads(body), self.headers["Content-Type"]))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/{SECRET}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalWebhook":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
