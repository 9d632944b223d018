"""Sentry: the scrubber on a real event, and a real SDK posting to a local endpoint."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from backoffice.observability.sentry import FILTERED, scrub, secret_values

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = {
    "backoffice.keys": "k1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,k0-BBBBBBBBBBBBBBBBBBBBBBBBBBB",
    "backoffice.keys_file": "/srv/var/keys.txt",
    "backoffice.session_secret": "the-session-secret",
    "backoffice.control_url": "mysql+pymysql://control:control-db-pass@db1/backoffice_control",
    "backoffice.sentry_dsn": "https://public@o1.ingest.example/42",
    "backoffice.base_domain": "shops.example.com",
}

# The shape sentry-sdk gives a Pyramid error (trimmed): request, frames, breadcrumbs.
EVENT = {
    "level": "error",
    "exception": {
        "values": [
            {
                "type": "OperationalError",
                "value": "(1045) mysql+pymysql://control:control-db-pass@db1/x refused",
                "stacktrace": {
                    "frames": [
                        {
                            "function": "login",
                            "vars": {
                                "password": "'owner-pass-1'",
                                "email": "'owner@example.com'",
                                "form": {"password": "'owner-pass-1'", "remember": "'on'"},
                                "key": "'k1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'",
                                "secret_box": "'the-session-secret'",
                                "note": "'paid with 4242 4242 4242 4242, order 1234567890123'",
                            },
                        }
                    ]
                },
            }
        ]
    },
    "request": {
        "url": "https://a.shops.example.com/admin/login",
        "method": "POST",
        "query_string": "next=%2Fadmin&token=reset-token-123456",
        "headers": {
            "Authorization": "Bearer bo_live_abcdefgh_xyz",
            "Cookie": "bo_session=cookie-value",
            "X-Api-Key": "header-key-value",
            "Host": "a.shops.example.com",
        },
        "cookies": {"bo_session": "cookie-value"},
        "data": "email=owner%40example.com&password=owner-pass-1&csrf_token=csrf-value",
    },
    "breadcrumbs": {
        "values": [
            {"category": "backoffice", "message": "using key k0-BBBBBBBBBBBBBBBBBBBBBBBBBBB"},
            {"category": "httplib", "data": {"url": "https://api.example/?api_key=abc123456"}},
        ]
    },
    "extra": {"card_number": "4242424242424242", "cvc": "123", "pan": "4242424242424242"},
}


def test_the_scrubber_takes_every_secret_out_of_an_event():
    scrubbed = scrub(EVENT, secret_values(SETTINGS))
    text = json.dumps(scrubbed)
    for secret in (
        "owner-pass-1",
        "control-db-pass",
        "k1-AAAA",
        "k0-BBBB",
        "the-session-secret",
        "reset-token-123456",
        "bo_live_abcdefgh_xyz",
        "cookie-value",
        "header-key-value",
        "csrf-value",
        "abc123456",
        "4242424242424242",
        "4242 4242 4242 4242",
        '"123"',
        "owner@example.com",
        "owner%40example.com",
    ):
        assert secret not in text, secret
    # What helps find the bug stays.
    assert scrubbed["exception"]["values"][0]["type"] == "OperationalError"
    assert "1234567890123" in text  # not a card number (Luhn)
    assert scrubbed["request"]["headers"]["Host"] == "a.shops.example.com"
    assert scrubbed["request"]["headers"]["Authorization"] == FILTERED
    assert "/srv/var/keys.txt" not in secret_values(SETTINGS)
    assert EVENT["request"]["headers"]["Cookie"] == "bo_session=cookie-value"  # a copy


class Ingest(BaseHTTPRequestHandler):
    """Sentry's ingestion endpoint: keeps every envelope posted to it."""

    envelopes: ClassVar[list[bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        assert encoding in (None, "gzip"), encoding
        self.envelopes.append(gzip.decompress(body) if encoding == "gzip" else body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    Ingest.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(args, tmp_path, **env):
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_error_reaches_sentry_without_secrets(ingest, tmp_path):
    port = ingest.server_address[1]
    out = tmp_path / "secrets.json"
    dsn = f"http://publickey@127.0.0.1:{port}/1"
    result = run(["-m", "tests.observability.sentry_app", dsn, str(tmp_path), str(out)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sent = json.loads(out.read_text())
    posted = b"\n".join(Ingest.envelopes).decode("utf-8", "replace")
    assert "RuntimeError" in posted and "cannot reach" in posted, posted[:2000]
    assert sent["request_id"] in posted  # the tag that links the event to the logs
    for secret in sent["secrets"]:
        assert secret not in posted, secret
    for header in ("bo_session", "Bearer "):
        assert header not in posted, header


def test_a_dsn_without_the_sdk_is_one_warning_not_a_crash(tmp_path):
    script = (
        "import sys, logging\n"
        "sys.modules['sentry_sdk'] = None  # as if the extra were not installed\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "from backoffice.observability.sentry import init_sentry\n"
        "settings = {'backoffice.sentry_dsn': 'http://key@127.0.0.1:9/1'}\n"
        "print(init_sentry(settings), init_sentry(settings))\n"
    )
    result = run(["-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"
    assert result.stderr.count("sentry-sdk is not installed") == 1
