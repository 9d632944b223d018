"""Fixtures of the CLI tests: an ini file pointing at a test control database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backoffice.cli import cli
from tests.tenancy.helpers import (  # noqa: F401  (pytest finds fixtures by name here)
    own_control,
    private_control,
    root_engine,
)

SETTING_KEYS = (
    "backoffice.environment",
    "backoffice.control_url",
    "backoffice.keys",
    "backoffice.db_prefix",
    "backoffice.base_domain",
    "backoffice.placement",
)


def write_ini(path: Path, settings: dict) -> Path:
    lines = ["[app:main]", "use = egg:backoffice"]
    # "%" would start an interpolation in the ini file.
    lines += [f"{key} = {settings[key].replace('%', '%%')}" for key in SETTING_KEYS]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(config: Path, *args: str) -> Result:
    # The developer's own BACKOFFICE_* variables must not leak into the test.
    env = {name: None for name in os.environ if name.startswith("BACKOFFICE_")}
    return CliRunner(env=env).invoke(cli, ["--config", str(config), *args])


@pytest.fixture
def ini_for(tmp_path):
    """``ini_for(settings)``: an ini file of these settings, in this test's tmp dir."""
    count = iter(range(1, 1000))

    def make(settings: dict) -> Path:
        return write_ini(tmp_path / f"test-{next(count)}.ini", settings)

    return make


@pytest.fixture
def bo(ini_for, mysql_control, mysql_settings):
    """Run ``backoffice`` against the run's MariaDB control database."""
    config = ini_for(mysql_settings)
    return lambda *args: run_cli(config, *args)
