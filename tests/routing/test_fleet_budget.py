"""The connection budget of a server holds for the whole fleet, not per process.

Two real processes (``budget_load``) each may open 5 connections to the
server (their own cap) and together 6 (the fleet's budget, in Redis): a side
thread counts the stores' sessions in the server's PROCESSLIST meanwhile.
Each store user also carries MariaDB's own ``MAX_USER_CONNECTIONS``.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pymysql
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from backoffice.cli import cli
from backoffice.schema import store_schema
from tenancy import operations
from tenancy.budget import FleetBudget
from tenancy.control import ControlPlane
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUDGET = 6
FLEET = {
    "backoffice.server_connection_cap": "5",
    "backoffice.server_connection_budget": str(BUDGET),
    "backoffice.engine_pool_size": "3",
    "backoffice.connection_wait": "30",
    "backoffice.connection_lease_seconds": "3",
}


class Sampler(threading.Thread):
    """The most sessions of these users the server listed at one moment."""

    def __init__(self, admin_url, users):
        super().__init__(daemon=True)
        self.engine = create_engine(admin_url, pool_size=1)
        self.users, self.peak, self.samples = set(users), 0, 0
        self.stop = threading.Event()

    def run(self):
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                users = conn.scalars(
                    text(
                        "SELECT USER FROM information_schema.PROCESSLIST "
                        "WHERE COMMAND NOT IN ('Killed', 'Busy', 'Quit')"
                    )
                ).all()
                count = sum(1 for user in users if user in self.users)
                self.peak, self.samples = max(self.peak, count), self.samples + 1
                time.sleep(0.002)
        self.engine.dispose()


def child(settings, code_or_module, payload, *, module=True):
    env = {**os.environ, "BUDGET_LOAD": json.dumps(payload)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    args = ["-m", code_or_module] if module else ["-c", code_or_module]
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def test_two_processes_never_exceed_the_fleet_budget(
    mysql_settings, shared_state, mysql_admin_url, make_store
):
    stores = [make_store() for _ in range(3)]
    settings = {**mysql_settings, **shared_state, **FLEET}
    sampler = Sampler(mysql_admin_url, [s.db_user for s in stores])
    sampler.start()
    payload = {"settings": settings, "slugs": [s.slug for s in stores], "threads": 6}
    procs = [
        child(settings, "tests.routing.budget_load", {**payload, "seconds": 6}) for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    sampler.stop.set()
    sampler.join()
    assert sampler.samples > 100
    assert all(r["ok"] > 20 for r in results), results  # both processes did work
    assert all(r["capacity"] == 0 for r in results), results  # waited, never refused
    # Each process alone may open 5: the budget, not the local caps, kept the
    # server at 6, and the load did reach it.
    assert BUDGET - 1 <= sampler.peak <= BUDGET, (sampler.peak, results)
    print("server peak", sampler.peak, "processes", results)
    # Every lease was given back as the connections closed.
    leases = FleetBudget(
        settings["backoffice.redis_url"], BUDGET, prefix=shared_state["backoffice.redis_prefix"]
    )
    assert leases.live("maria") == 0


DIES_HOLDING_LEASES = """
import json, os, time
from tenancy.budget import FleetBudget
job = json.loads(os.environ["BUDGET_LOAD"])
fleet = FleetBudget(job["url"], 6, lease_seconds=1.5, prefix=job["prefix"])
print([fleet.try_acquire("maria") for _ in range(4)], flush=True)
time.sleep(60)
"""


def test_the_leases_of_a_dead_process_expire(shared_state):
    url, prefix = shared_state["backoffice.redis_url"], shared_state["backoffice.redis_prefix"]
    proc = child({}, DIES_HOLDING_LEASES, {"url": url, "prefix": prefix}, module=False)
    assert proc.stdout.readline().count("'") == 8  # four lease ids
    fleet = FleetBudget(url, 6, lease_seconds=1.5, prefix=prefix)
    time.sleep(2)  # past the lease time: its heartbeat keeps them
    assert fleet.live("maria") == 4
    assert [fleet.try_acquire("maria") is not None for _ in range(3)] == [True, True, False]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(2)
    assert fleet.live("maria") == 2  # ours; the dead process' leases expired
    assert fleet.try_acquire("maria")


def test_store_users_carry_max_user_connections(mysql_settings, mysql_control, make_store):
    limited = ControlPlane({**mysql_settings, "backoffice.store_max_connections": "2"})
    try:
        tenant = Provisioner(limited, store_schema).create(
            StoreRequest(slug=unique_slug(), name="Limited")
        )
        with limited.session() as session:
            backend = limited.backend(limited.server(session))
        assert backend.user_connection_limit(tenant.db_user) == 2
        url = limited.runtime_url(tenant)
        connect = lambda: pymysql.connect(  # noqa: E731
            host=url.host, port=url.port or 3306, user=url.username, password=url.password
        )
        held = [connect(), connect()]
        with pytest.raises(pymysql.err.OperationalError) as refused:
            connect()
        assert refused.value.args[0] == 1226
        for conn in held:
            conn.close()
        # An existing store gets it with rotate-password (or tenants limit-connections).
        other = make_store()
        assert backend.user_connection_limit(other.db_user) == 0
        with limited.session() as session:
            operations.rotate_password(limited, session, other.slug)
        assert backend.user_connection_limit(other.db_user) == 2
    finally:
        limited.dispose()


def test_limit_connections_applies_the_setting_to_existing_stores(
    mysql_settings, mysql_control, make_store, tmp_path
):
    store = make_store()
    settings = {**mysql_settings, "backoffice.store_max_connections": "3"}
    env = {name: None for name in os.environ if name.startswith("BACKOFFICE_")}
    env.update(
        {
            "BACKOFFICE_" + k[len("backoffice.") :].upper(): v
            for k, v in settings.items()
            if k.startswith("backoffice.")
        }
    )
    ini = tmp_path / "limit.ini"
    ini.write_text("[app:main]\nbackoffice.environment = test\n")
    result = CliRunner(env=env).invoke(
        cli, ["--config", str(ini), "tenants", "limit-connections", store.slug]
    )
    assert result.exit_code == 0, result.output
    assert f"store {store.slug}: at most 3 connections" in result.output
    with mysql_control.session() as session:
        backend = mysql_control.backend(mysql_control.server(session))
    assert backend.user_connection_limit(store.db_user) == 3
