"""Helpers and fixtures for the tenancy and CLI tests (imported by their conftests).

Everything here works on names derived from the run prefix of ``tests/conftest.py``
so that the session clean-up there also removes what these helpers create.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from tenancy.control import ControlPlane
from tenancy.migrate import init_control
from tenancy.names import generate_database_name
from tenancy.settings import resolve
from tests.conftest import RUN_PREFIX

_counter = itertools.count(1)


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("_", r"\_").replace("%", r"\%")


def stem_pattern(slug: str, prefix: str) -> str:
    """LIKE pattern matching every database/user name ever generated for *slug*."""
    stem = generate_database_name(slug, prefix, suffix="zzzz")[: -len("_zzzz")]
    return like_escape(stem) + r"\_%"


def server_objects(conn: Connection, slug: str, prefix: str) -> tuple[set[str], set[str]]:
    """Databases and MySQL users that exist on the server for *slug* (any suffix)."""
    pattern = stem_pattern(slug, prefix)
    databases = set(
        conn.scalars(
            text("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :p"),
            {"p": pattern},
        )
    )
    users = set(
        conn.scalars(text("SELECT User FROM mysql.user WHERE User LIKE :p"), {"p": pattern})
    )
    return databases, users


def kill_connections(conn: Connection, user: str) -> int:
    ids = list(
        conn.scalars(
            text("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = :u"), {"u": user}
        )
    )
    for thread_id in ids:
        # The thread may have ended between the SELECT and the KILL.
        with contextlib.suppress(DBAPIError):
            conn.execute(text(f"KILL CONNECTION {int(thread_id)}"))
    return len(ids)


def grants_of(conn: Connection, user: str, host: str = "%") -> set[str]:
    return set(conn.scalars(text("SHOW GRANTS FOR :u@:h"), {"u": user, "h": host}))


@dataclass
class AdminUser:
    """A dedicated provisioning account (not root), as an operator would create it."""

    name: str
    password: str
    url: str


def create_admin_user(root: Engine, admin_url: str) -> AdminUser:
    """The minimal privileges the provisioning saga needs, found by trial on MariaDB 10.11:

    * ``CREATE USER ON *.*``: CREATE/ALTER/DROP USER for store users (global only).
    * ``ALL ON `<prefix>\\_%`.* WITH GRANT OPTION``: create, fill and drop the store
      databases, and hand SELECT/INSERT/UPDATE/DELETE on one of them to its user.
    Not needed for provisioning: RELOAD (no FLUSH PRIVILEGES: GRANT takes effect at
    once), SUPER. ``tenants drop``/``rotate-password`` also end the store user's open
    sessions, which needs PROCESS (to see them) and CONNECTION ADMIN (to KILL them);
    without PROCESS the old sessions stay open unnoticed, with PROCESS alone a warning
    is logged (see ``test_operations_admin.py``).
    """
    name = f"{RUN_PREFIX}_adm{next(_counter)}"
    password = secrets.token_urlsafe(16)
    with root.begin() as conn:
        conn.execute(text("CREATE USER :u@'%' IDENTIFIED BY :p"), {"u": name, "p": password})
        conn.execute(text("GRANT CREATE USER ON *.* TO :u@'%'"), {"u": name})
        conn.execute(
            text(
                f"GRANT ALL PRIVILEGES ON `{like_escape(RUN_PREFIX)}\\_%`.* TO :u@'%' "
                "WITH GRANT OPTION"
            ),
            {"u": name},
        )
    url = make_url(admin_url).set(username=name, password=password)
    return AdminUser(name, password, url.render_as_string(hide_password=False))


def drop_admin_user(root: Engine, admin: AdminUser) -> None:
    with root.begin() as conn:
        kill_connections(conn, admin.name)
        conn.execute(text("DROP USER IF EXISTS :u@'%'"), {"u": admin.name})


def new_control_db(root: Engine, admin_url: str, settings: dict) -> dict:
    """Settings of a fresh, empty control database of this run (for tests that touch
    every store, such as ``keys rotate`` or ``migrate --all``)."""
    name = f"{RUN_PREFIX}_ctl{next(_counter)}"
    with root.begin() as conn:
        conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    fresh = dict(settings)
    fresh["backoffice.control_url"] = str(make_url(admin_url).set(database=name))
    return resolve(fresh, here=settings["here"], environ={})


def next_number() -> int:
    return next(_counter)


@pytest.fixture(scope="session")
def root_engine(mysql_admin_url) -> Iterator[Engine]:
    engine = create_engine(mysql_admin_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def admin_user(root_engine, mysql_admin_url) -> Iterator[AdminUser]:
    admin = create_admin_user(root_engine, mysql_admin_url)
    yield admin
    drop_admin_user(root_engine, admin)


@pytest.fixture
def own_control(mysql_control, mysql_settings) -> Iterator[ControlPlane]:
    """A ControlPlane of this test only (its own backend pools) on the run's control DB."""
    control = ControlPlane(mysql_settings)
    yield control
    control.dispose()


def open_private_control(root: Engine, admin_url: str, settings: dict) -> ControlPlane:
    """A ControlPlane on a control database of its own, server ``maria`` registered."""
    control = ControlPlane(new_control_db(root, admin_url, settings))
    init_control(control.engine)
    with control.session() as session:
        control.add_server(session, "maria", admin_url, default=True)
        session.commit()
    return control


@pytest.fixture
def private_control(root_engine, mysql_settings, mysql_admin_url) -> Iterator[ControlPlane]:
    control = open_private_control(root_engine, mysql_admin_url, mysql_settings)
    yield control
    control.dispose()
