"""Fixtures of the fleet tests: two more real MariaDB servers beside the main one.

``BACKOFFICE_TEST_MYSQL_URLS`` (comma-separated admin URLs) names them, as
``.ci/run`` does after ``scripts/extra_mariadb.sh start 3307 3308``. Without
it the servers on 127.0.0.1:3307 and :3308 are used, and started by
``scripts/extra_mariadb.sh`` when they are not running (the fixture then stops
them when the last pytest process using them ends: xdist workers share them
through a lock file and a list of users). With ``BACKOFFICE_REQUIRE_MYSQL=1``
missing servers fail the tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backoffice.schema import store_schema
from tenancy.control import ControlPlane
from tenancy.migrate import init_control
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import resolve
from tests.conftest import REQUIRE_MYSQL, RUN_PREFIX, _drop_everything_of_this_run, unique_slug

PORTS = (3307, 3308)
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extra_mariadb.sh"


def _reachable(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 -- any failure means "not there"
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def _missing(urls: list[str], why: str) -> None:
    if REQUIRE_MYSQL:
        pytest.fail(f"the fleet tests need more MariaDB servers: {why}")
    pytest.skip(f"no extra MariaDB servers: {why}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"started": False, "users": []}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _local_servers(ports=PORTS) -> Iterator[list[str]]:
    """Servers on *ports*, started if needed; stopped by the last user if started here."""
    # Where scripts/extra_mariadb.sh keeps its servers.
    base = Path(
        os.environ.get("BACKOFFICE_EXTRA_MARIADB_DIR")
        or Path(tempfile.gettempdir()) / "backoffice-mariadb"
    )
    base.mkdir(parents=True, exist_ok=True)
    lock, state_file = base / "fleet-tests.lock", base / "fleet-tests.json"
    urls = [f"mysql+pymysql://root@127.0.0.1:{port}/" for port in ports]
    env = {**os.environ, "BACKOFFICE_EXTRA_MARIADB_DIR": str(base)}
    with _locked(lock):
        state = _state(state_file)
        state["users"] = [pid for pid in state["users"] if _alive(pid)]
        if any(_reachable(url) for url in urls):
            started = subprocess.run(
                [str(SCRIPT), "start", *map(str, ports)],
                check=False,
                env=env,
                capture_output=True,
                text=True,
            )
            if started.returncode:
                _missing(urls, (started.stderr.strip().splitlines() or ["start failed"])[-1])
            state["started"] = True
        state["users"].append(os.getpid())
        state_file.write_text(json.dumps(state))
    try:
        yield urls
    finally:
        with _locked(lock):
            state = _state(state_file)
            state["users"] = [p for p in state["users"] if p != os.getpid() and _alive(p)]
            if not state["users"] and state["started"]:
                subprocess.run([str(SCRIPT), "stop", *map(str, ports)], env=env, check=False)
                state["started"] = False
            state_file.write_text(json.dumps(state))


@pytest.fixture(scope="session")
def fleet_urls(mysql_admin_url) -> Iterator[list[str]]:
    """Admin URLs of two more MariaDB servers (not the main one)."""
    given = os.environ.get("BACKOFFICE_TEST_MYSQL_URLS")
    with contextlib.ExitStack() as stack:
        if given:
            urls = [u.strip() for u in given.split(",") if u.strip()]
            problems = [f"{make_url(u).port}: {p}" for u in urls if (p := _reachable(u))]
            if problems or len(urls) < 2:
                _missing(
                    urls, "; ".join(problems) or "BACKOFFICE_TEST_MYSQL_URLS names fewer than 2"
                )
        else:
            urls = stack.enter_context(_local_servers())
        yield urls
        for url in urls:
            _drop_everything_of_this_run(url)


def open_fleet(urls, admin_url, keys, here, **settings) -> ControlPlane:
    """A control plane of its own (on the main server) with ``db1`` and ``db2``."""
    control_db = f"{RUN_PREFIX}_fl{secrets.token_hex(2)}"
    engine = create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{control_db}` CHARACTER SET utf8mb4"))
    engine.dispose()
    settings = resolve(
        {
            "backoffice.control_url": str(make_url(admin_url).set(database=control_db)),
            "backoffice.keys": keys,
            "backoffice.db_prefix": f"{RUN_PREFIX}_",
            "backoffice.environment": "test",
            **settings,
        },
        here=here,
        environ={},
    )
    control = ControlPlane(settings)
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "db1", urls[0], default=True)
        control.add_server(session, "db2", urls[1])
        session.commit()
    return control


@pytest.fixture(scope="module")
def fleet(fleet_urls, mysql_admin_url, test_keys, tmp_path_factory) -> Iterator[ControlPlane]:
    control = open_fleet(
        fleet_urls, mysql_admin_url, test_keys, tmp_path_factory.mktemp("fleet-here")
    )
    yield control
    control.dispose()


@pytest.fixture
def counted_fleet(fleet_urls, mysql_admin_url, test_keys, tmp_path) -> Iterator[ControlPlane]:
    """A fleet of this test only whose placement counts stores alone (the size
    and connections of the shared servers depend on what other tests left)."""
    control = open_fleet(
        fleet_urls,
        mysql_admin_url,
        test_keys,
        tmp_path,
        **{"backoffice.placement_weights": "stores:1,size:0,connections:0"},
    )
    yield control
    control.dispose()


@pytest.fixture
def fleet_store(fleet):
    def make(server: str | None = None, *, owner: bool = False, control=None):
        request = StoreRequest(slug=unique_slug("fl"), name="Fleet Shop", server=server)
        if owner:
            request.owner_email, request.owner_password = "owner@example.com", "owner-pass-1"
        return Provisioner(control or fleet, store_schema).create(request)

    return make
