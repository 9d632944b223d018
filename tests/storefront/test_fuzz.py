"""Fuzzing the API from its OpenAPI document (schemathesis) against waitress: no 5xx,
and every response as documented (status, content type, headers, schema)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import waitress

from backoffice.config import make_app

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
SCHEMATHESIS = Path(sys.executable).parent / "st"


@pytest.fixture
def served(api_settings, control):
    # The fuzzer subscribes made-up URLs and the embedded default delivers in the
    # web process: private addresses refused as in production, one quick attempt each.
    settings = {
        **api_settings,
        "backoffice.webhook_allow_private": "false",
        "backoffice.webhook_max_attempts": "1",
        "backoffice.webhook_timeout": "1",
    }
    server = waitress.create_server(
        make_app(settings, control=control), host="127.0.0.1", port=0, threads=4
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
def test_fuzzing_finds_no_server_error(served, shop):
    url = f"{served}/s/{shop.slug}/api/v1/openapi.json"
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            url,
            "--checks",
            CHECKS,
            "--max-examples",
            "20",
            "--seed",
            "20261122",
            "--header",
            f"Authorization: Bearer {shop.keys['rw']}",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,  # its exit status is read below, with its output
    )
    output = result.stdout + result.stderr
    print(output[-4000:])
    assert result.returncode == 0, output[-6000:]
    assert "server error" not in output.lower() or "0 server" in output.lower()
