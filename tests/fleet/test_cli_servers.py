"""``backoffice servers list|mark|drain`` and ``tenants move`` without a target."""

from __future__ import annotations

import json

import pytest

from tests.backoffice.conftest import run_cli, write_ini


@pytest.fixture
def bo(fleet, tmp_path):
    config = write_ini(tmp_path / "fleet.ini", fleet.settings)
    yield lambda *args: run_cli(config, *args)
    for name in ("db1", "db2"):
        run_cli(config, "servers", "mark", name, "active")


def listing(bo) -> dict:
    result = bo("servers", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.output)}


def test_list_mark_drain_and_move(bo, fleet_store):
    for _ in range(2):
        fleet_store("db1")
    servers = listing(bo)
    assert servers["db1"]["stores"] == 2 and servers["db2"]["stores"] == 0
    for row in servers.values():
        assert row["size_bytes"] > 0 and row["max_connections"] == 500
        assert row["connections"] >= 1 and row["status"] == "active" and row["error"] is None
    assert "admin_url" not in json.dumps(servers) and "root@" not in json.dumps(servers)
    table = bo("servers", "list")
    assert "CONNECTIONS" in table.output and "db2" in table.output

    # New stores go to the emptier server; a full one refuses even when named.
    created = bo("tenants", "create", "fl-cli-a", "--name", "A")
    assert created.exit_code == 0 and "on db2" in created.output, created.output
    assert bo("servers", "mark", "db2", "full").exit_code == 0
    refused = bo("tenants", "create", "fl-cli-b", "--name", "B", "--server", "db2")
    assert refused.exit_code == 1
    assert "'db2' is full and takes no new stores" in refused.output
    assert bo("servers", "mark", "db2", "active").exit_code == 0

    # A move without --to-server goes to the server with most headroom.
    moved = bo("tenants", "move", "fl-cli-a")
    assert moved.exit_code == 0 and "now lives on db1" in moved.output, moved.output

    # Drain: no broker, so it runs here and shows each store.
    drained = bo("servers", "drain", "db1")
    assert drained.exit_code == 0, drained.output
    assert "[3/3]" in drained.output and "3 stores moved, 0 skipped, 0 failed" in drained.output
    servers = listing(bo)
    assert servers["db1"]["stores"] == 0 and servers["db1"]["status"] == "draining"
    assert servers["db2"]["stores"] == 3
