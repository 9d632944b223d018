"""The systemd units in deploy/systemd: they parse, systemd accepts them (where
``systemd-analyze`` exists), and every ExecStart names a real CLI command with
options it knows."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backoffice.cli import cli

KIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = ("backoffice-web.service", "backoffice-worker.service", "backoffice-beat.service")
BINARY = "/opt/backoffice/bin/backoffice"
CONFIG = "/etc/backoffice/production.ini"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((KIT / name).read_text())
    return parser


def environment_file() -> dict[str, str]:
    lines = (KIT / "backoffice.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    assert all(len(pair) == 2 and pair[0].startswith("BACKOFFICE_") for pair in pairs), pairs
    return {key: value.strip("'") for key, value in pairs}


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_runs_a_real_command_as_the_service_user(name):
    service = unit(name)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[:3] == [BINARY, "--config", CONFIG]
    # --help after the unit's own arguments: click checks every option and value.
    result = CliRunner().invoke(cli, [*argv[1:], "--help"])
    assert result.exit_code == 0, result.output
    assert service["User"] == "backoffice"
    assert service["EnvironmentFile"] == "/etc/backoffice/backoffice.env"
    assert service["Restart"] == "on-failure"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert service[key] == value, key


def test_one_beat_and_workers_without_it():
    commands = {name: shlex.split(unit(name)["Service"]["ExecStart"])[3] for name in UNITS}
    assert commands == {
        "backoffice-web.service": "serve",
        "backoffice-worker.service": "worker",
        "backoffice-beat.service": "beat",
    }
    assert "--beat" not in unit("backoffice-worker.service")["Service"]["ExecStart"]
    beat = unit("backoffice-beat.service")["Service"]
    schedule = shlex.split(beat["ExecStart"])
    state = f"/var/lib/{beat['StateDirectory']}"
    assert schedule[schedule.index("--schedule-file") + 1].startswith(state + "/")


def test_metrics_directory_is_the_web_unit_s_fresh_runtime_directory():
    service = unit("backoffice-web.service")["Service"]
    name, _, value = service["Environment"].partition("=")
    assert name == "PROMETHEUS_MULTIPROC_DIR"
    assert value == f"/run/{service['RuntimeDirectory']}"


def test_the_worker_may_write_the_backup_directory_of_the_example_environment():
    env = environment_file()
    assert (
        unit("backoffice-worker.service")["Service"]["ReadWritePaths"]
        == (env["BACKOFFICE_BACKUP_DIR"])
    )
    assert env["BACKOFFICE_CONTROL_URL"].startswith("mysql+pymysql://")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` on copies whose ExecStart points at this
    installation's ``backoffice`` (it checks that the program exists)."""
    here = str(Path(sys.executable).parent / "backoffice")
    for name in UNITS:
        (tmp_path / name).write_text((KIT / name).read_text().replace(BINARY, here))
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,  # its output is asserted below
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
