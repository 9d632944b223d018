"""``backoffice init``: an embedded server only where it belongs (the SQLite quick start)."""

from __future__ import annotations

import json

import pytest

from tests.backoffice.conftest import run_cli
from tests.tenancy.helpers import new_control_db

NEXT_STEP = "next, add a database server: backoffice servers add NAME URL --default"


def servers(config) -> list[dict]:
    result = run_cli(config, "servers", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def fresh_mysql_ini(ini_for, root_engine, mysql_admin_url, mysql_settings):
    """An ini file on an empty control database of its own on MariaDB."""
    return ini_for(new_control_db(root_engine, mysql_admin_url, mysql_settings))


def test_init_on_mariadb_registers_no_server_and_says_what_next(fresh_mysql_ini):
    first = run_cli(fresh_mysql_ini, "init")
    assert first.exit_code == 0, first.output
    assert "control database ready at revision" in first.stdout
    assert NEXT_STEP in first.stdout
    assert "embedded" not in first.stdout
    assert servers(fresh_mysql_ini) == []

    again = run_cli(fresh_mysql_ini, "init")  # idempotent: same revision, still no server
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    assert servers(fresh_mysql_ini) == []


def test_init_on_mariadb_is_quiet_once_a_server_exists(fresh_mysql_ini, mysql_admin_url):
    assert run_cli(fresh_mysql_ini, "init").exit_code == 0
    added = run_cli(fresh_mysql_ini, "servers", "add", "maria", mysql_admin_url, "--default")
    assert added.exit_code == 0, added.output
    again = run_cli(fresh_mysql_ini, "init")
    assert again.exit_code == 0, again.output
    assert NEXT_STEP not in again.stdout
    assert [s["name"] for s in servers(fresh_mysql_ini)] == ["maria"]


def test_init_on_mariadb_can_be_asked_for_the_embedded_server(fresh_mysql_ini):
    result = run_cli(fresh_mysql_ini, "init", "--embedded-server")
    assert result.exit_code == 0, result.output
    assert "embedded server 'local'" in result.stdout
    assert [(s["name"], s["kind"]) for s in servers(fresh_mysql_ini)] == [("local", "sqlite")]


def test_init_on_sqlite_registers_the_embedded_server_once(ini_for, sqlite_settings):
    config = ini_for(sqlite_settings)
    first = run_cli(config, "init")
    assert first.exit_code == 0, first.output
    assert "embedded server 'local' stores its shops in" in first.stdout
    again = run_cli(config, "init")
    assert again.exit_code == 0, again.output
    assert "embedded server" not in again.stdout
    rows = servers(config)
    assert [(s["name"], s["kind"], s["default"]) for s in rows] == [("local", "sqlite", True)]


def test_init_on_sqlite_without_the_embedded_server(ini_for, sqlite_settings):
    config = ini_for(sqlite_settings)
    result = run_cli(config, "init", "--no-embedded-server")
    assert result.exit_code == 0, result.output
    assert NEXT_STEP in result.stdout
    assert servers(config) == []
