"""Shared fixtures: a real MariaDB for the product path, SQLite for the embedded one.

Every test run gets its own database-name prefix (``t<3 chars>_``), so parallel
runs (pytest-xdist workers, two developers) never collide, and everything it
created is dropped at the end. Set ``BACKOFFICE_TEST_MYSQL_URL`` to use another
server; with ``BACKOFFICE_REQUIRE_MYSQL=1`` (CI) an unreachable server fails
the run instead of skipping the MariaDB tests.
"""

from __future__ import annotations

import itertools
import os
import secrets

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backoffice.schema import store_schema
from tenancy.control import ControlPlane
from tenancy.keyring import generate_key
from tenancy.migrate import init_control
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import resolve
from tests.speedups import skip_unless_on

# The gateway conformance kit (serve_provider, GatewayConformance), as a gateway
# distribution loads it.
pytest_plugins = ["payments.testing.conformance"]

# Shared state (rate limits, store-changed messages, connection leases): each
# test gets a key prefix of its own on this Redis database, deleted afterwards.
STATE_REDIS_URL = os.environ.get("BACKOFFICE_TEST_STATE_REDIS_URL", "redis://127.0.0.1:6379/11")
MYSQL_URL = os.environ.get("BACKOFFICE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
REQUIRE_MYSQL = os.environ.get("BACKOFFICE_REQUIRE_MYSQL") == "1"
RUN_PREFIX = "t" + "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(3))
_counter = itertools.count(1)


def unique_slug(stem: str = "shop") -> str:
    return f"{stem}-{RUN_PREFIX}-{next(_counter)}"


def pytest_runtest_logreport(report):
    """Count MariaDB tests that really ran, for CI's "did they run?" check."""
    log = os.environ.get("BACKOFFICE_MYSQL_TESTS_LOG")
    if log and report.when == "call" and "mysql" in report.keywords and report.passed:
        with open(log, "a") as fh:
            fh.write(report.nodeid + "\n")


@pytest.fixture(scope="session")
def mysql_admin_url():
    engine = create_engine(MYSQL_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 -- any failure means "no MariaDB here"
        if REQUIRE_MYSQL:
            pytest.fail(f"MariaDB is required but unreachable at {MYSQL_URL}: {exc}")
        pytest.skip(f"MariaDB unreachable at {MYSQL_URL}")
    finally:
        engine.dispose()
    yield MYSQL_URL
    _drop_everything_of_this_run(MYSQL_URL)


def _drop_everything_of_this_run(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        pattern = RUN_PREFIX + r"\_%"
        for (name,) in conn.execute(
            text("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :p"),
            {"p": pattern},
        ):
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        for user, host in conn.execute(
            text("SELECT User, Host FROM mysql.user WHERE User LIKE :p"), {"p": pattern}
        ):
            conn.execute(text("DROP USER IF EXISTS :u@:h"), {"u": user, "h": host})
    engine.dispose()


@pytest.fixture(scope="session")
def state_redis():
    client = redis.Redis.from_url(STATE_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_MYSQL:
            pytest.fail(f"Redis is required but unreachable at {STATE_REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {STATE_REDIS_URL}")
    yield client
    client.close()


@pytest.fixture
def shared_state(state_redis):
    """Settings that put the app's shared state in Redis under a prefix of its own."""
    prefix = f"bo-test-{RUN_PREFIX}-{next(_counter)}:"
    yield {"backoffice.redis_url": STATE_REDIS_URL, "backoffice.redis_prefix": prefix}
    for key in state_redis.scan_iter(match=prefix + "*"):
        state_redis.delete(key)


@pytest.fixture(scope="session")
def test_keys():
    return f"{generate_key()},{generate_key()}"


@pytest.fixture(scope="session")
def mysql_settings(mysql_admin_url, test_keys, tmp_path_factory):
    control_db = f"{RUN_PREFIX}_control"
    engine = create_engine(mysql_admin_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE DATABASE IF NOT EXISTS `{control_db}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        )
    engine.dispose()
    here = tmp_path_factory.mktemp("mysql-here")
    return resolve(
        {
            "backoffice.control_url": str(make_url(mysql_admin_url).set(database=control_db)),
            "backoffice.keys": test_keys,
            "backoffice.db_prefix": f"{RUN_PREFIX}_",
            "backoffice.base_domain": "shops.test",
            "backoffice.environment": "test",
            # Tests add servers to this control DB: stores go to the default one.
            "backoffice.placement": "default",
        },
        here=here,
        environ={},
    )


@pytest.fixture(scope="session")
def mysql_control(mysql_settings, mysql_admin_url):
    """A ControlPlane on MariaDB with the server ``maria`` registered as default."""
    control = ControlPlane(mysql_settings)
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "maria", mysql_admin_url, default=True)
        session.commit()
    yield control
    control.dispose()


@pytest.fixture
def control(mysql_control):
    return mysql_control


@pytest.fixture
def make_store(mysql_control):
    """Provision a store on MariaDB: ``make_store(owner=True, slug=None)``."""

    def make(
        slug: str | None = None,
        *,
        name: str = "Test Shop",
        owner: bool = False,
        control: ControlPlane | None = None,
    ):
        request = StoreRequest(slug=slug or unique_slug(), name=name)
        if owner:
            request.owner_email, request.owner_password = "owner@example.com", "owner-pass-1"
        return Provisioner(control or mysql_control, store_schema).create(request)

    return make


@pytest.fixture
def sqlite_settings(tmp_path, test_keys):
    return resolve(
        {"backoffice.keys": test_keys, "backoffice.environment": "test"}, here=tmp_path, environ={}
    )


@pytest.fixture
def sqlite_control(sqlite_settings):
    os.makedirs(os.path.join(sqlite_settings["here"], "var"), exist_ok=True)
    control = ControlPlane(sqlite_settings)
    init_control(control.engine)
    with control.session() as session:
        control.add_server(
            session, "local", f"sqlite:///{sqlite_settings['backoffice.store_dir']}", default=True
        )
        session.commit()
    yield control
    control.dispose()


def pytest_runtest_setup(item):
    """``@pytest.mark.speedup("name", ...)``: the test asserts what those speedups
    do, and is skipped when the environment turns one of them off."""
    for mark in item.iter_markers("speedup"):
        skip_unless_on(*mark.args)


def pytest_collection_modifyitems(items):
    for item in items:
        if "mysql_admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mysql)
