"""A provider stand-in: a threaded ``http.server`` on 127.0.0.1.

``app`` turns each request into ``(status, headers, body)``; every request is
kept in ``requests`` so a test can check what the gateway sent (keys,
idempotency headers, the exact bytes of a postback).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from payments.http import Headers

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Recorded:
    method: str
    path: str
    headers: Headers
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def json(self):
        return json.loads(self.body)


App = Callable[[Recorded], Reply]


@dataclass
class LocalProvider:
    """A provider on 127.0.0.1; ``app`` turns a request into a reply."""

    app: App
    requests: list[Recorded] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Recorded(
                    self.command, self.path, Headers(self.headers.items()), self.rfile.read(length)
                )
                provider.requests.append(seen)
                status, headers, body = provider.app(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_reply(status: int, data: object) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def text_reply(status: int, text: str, content_type: str = "text/plain") -> Reply:
    return status, {"Content-Type": content_type}, text.encode()


@contextmanager
def providers() -> Iterator[Callable[[App], LocalProvider]]:
    """``with providers() as serve: serve(app)``; all stopped on exit."""
    started: list[LocalProvider] = []

    def serve(app: App) -> LocalProvider:
        started.append(LocalProvider(app).start())
        return started[-1]

    try:
        yield serve
    finally:
        for provider in started:
            provider.stop()
