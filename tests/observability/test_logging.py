"""Log formats: text or JSON, set up from the settings or from the ini files.

Each case runs in a fresh interpreter: logging set-up is process-wide.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.observability.logs import log_format
from tenancy.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]

IN_A_REQUEST = """
import logging
from backoffice.observability.context import bind_request_id
{setup}
logging.getLogger("backoffice.access").info("GET / 200", extra={{"status": 200}})
bind_request_id("req-12345678")
logging.getLogger("backoffice.views").warning("inside %s", "a request")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("backoffice.views").exception("failed")
"""


def stderr_of(setup: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", IN_A_REQUEST.format(setup=setup)],
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def test_json_logs_from_the_settings():
    lines = stderr_of(
        "from backoffice.observability.logs import configure_logging\n"
        "configure_logging({'backoffice.log_format': 'json'})"
    )
    records = [json.loads(line) for line in lines]
    access, inside, failed = records
    assert access["logger"] == "backoffice.access" and access["status"] == 200
    assert access["request_id"] == "-"
    assert inside["message"] == "inside a request" and inside["request_id"] == "req-12345678"
    assert inside["level"] == "WARNING" and inside["time"].endswith("+00:00")
    assert "ZeroDivisionError" in failed["exception"]


def test_text_logs_from_the_settings():
    lines = stderr_of(
        "from backoffice.observability.logs import configure_logging\nconfigure_logging({})"
    )
    assert lines[0].endswith("INFO  [backoffice.access] [-] GET / 200")
    assert lines[1].endswith("WARNI [backoffice.views] [req-12345678] inside a request")


@pytest.mark.parametrize("ini", ["development.ini", "production.ini"])
def test_the_ini_files_logging_sections_carry_the_request_id(ini):
    lines = stderr_of(f"import logging.config\nlogging.config.fileConfig({ini!r})")
    assert "[backoffice.access]" in lines[0] and "[-] GET / 200" in lines[0]
    assert "[req-12345678] inside a request" in lines[1]


def test_pserve_switches_the_ini_handlers_to_json_when_asked():
    lines = stderr_of(
        "import logging.config\n"
        "from backoffice.observability.logs import apply_log_format\n"
        "logging.config.fileConfig('production.ini')\n"
        "apply_log_format({'backoffice.log_format': 'json'})"
    )
    assert json.loads(lines[1])["request_id"] == "req-12345678"


def test_an_unknown_format_is_refused():
    assert log_format({"backoffice.log_format": " JSON "}) == "json"
    with pytest.raises(SettingsError, match=r"backoffice\.log_format"):
        log_format({"backoffice.log_format": "xml"})
