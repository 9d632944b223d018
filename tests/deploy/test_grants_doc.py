"""The grants of docs/deployment.md are enough, as written there.

The test reads the SQL blocks marked ``<!-- grants: control -->`` and
``<!-- grants: provisioner -->`` out of the page, runs them (names, passwords
and the database prefix swapped for this run's), and then drives a store's
whole life through the CLI under those identities only: ``init`` as
``control_admin``; ``servers add``, ``tenants create``, ``migrate``, ``backup``,
``restore``, ``rotate-password`` and ``drop`` as ``control``, with the server
registered under ``provisioner``.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.migrate import CONTROL_SCRIPTS, head, upgrade
from tenancy.models import Tenant
from tenancy.settings import resolve
from tests.backoffice.conftest import run_cli
from tests.conftest import RUN_PREFIX, unique_slug
from tests.tenancy.helpers import kill_connections, like_escape

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
BLOCK = re.compile(r"<!-- grants: (\w+) -->\s*```sql\n(.*?)```", re.S)
NEXT_STEP = "next, add a database server"
_numbers = itertools.count(1)


def documented_sql() -> dict[str, str]:
    blocks = dict(BLOCK.findall(DOC.read_text()))
    assert set(blocks) == {"control", "provisioner"}, sorted(blocks)
    return blocks


@dataclass
class Deployment:
    """This run's stand-ins for the names the page uses."""

    control_db: str
    prefix: str
    users: dict[str, str]
    passwords: dict[str, str] = field(default_factory=dict)

    def adapt(self, sql: str) -> list[str]:
        sql = sql.replace(r"backoffice\_control", like_escape(self.control_db))
        sql = sql.replace("backoffice_control", self.control_db)
        sql = sql.replace(r"`bo\_%`", f"`{like_escape(self.prefix)}%`")
        for documented, actual in self.users.items():
            sql = sql.replace(f"'{documented}'@", f"'{actual}'@")
        statements = []
        for documented in filter(None, (s.strip() for s in sql.split(";"))):
            created = re.match(r"CREATE USER '([^']+)'@", documented)
            statement = documented
            if created:
                password = self.passwords.setdefault(created[1], secrets.token_urlsafe(16))
                statement = documented.replace("IDENTIFIED BY '...'", f"IDENTIFIED BY '{password}'")
            statements.append(statement)
        leftovers = ("backoffice_control", r"bo\_%", "'...'", *(f"'{u}'@" for u in self.users))
        for statement in statements:
            assert not [word for word in leftovers if word in statement], statement
        return statements

    def url(self, base: str, documented_user: str, database: str = "") -> str:
        user = self.users[documented_user]
        return (
            make_url(base)
            .set(username=user, password=self.passwords[user], database=database)
            .render_as_string(hide_password=False)
        )


@pytest.fixture
def deployment(root_engine) -> Iterator[Deployment]:
    n = next(_numbers)
    names = {"control_admin": "ca", "control": "cr", "provisioner": "pv"}
    setup = Deployment(
        control_db=f"{RUN_PREFIX}_docctl{n}",
        prefix=f"{RUN_PREFIX}_",
        users={doc: f"{RUN_PREFIX}_doc{short}{n}" for doc, short in names.items()},
    )
    try:
        raw = root_engine.raw_connection()
        try:  # verbatim: a DB-API cursor without parameters formats nothing
            with raw.cursor() as cursor:
                for sql in documented_sql().values():
                    for statement in setup.adapt(sql):
                        cursor.execute(statement)
            raw.commit()
        finally:
            raw.close()
        yield setup
    finally:
        with root_engine.begin() as conn:
            for user in setup.users.values():
                kill_connections(conn, user)
                conn.execute(text("DROP USER IF EXISTS :u@'%'"), {"u": user})
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{setup.control_db}`")


def write_ini(path: Path, settings: dict) -> Path:
    lines = ["[app:main]"] + [
        f"{key} = {value.replace('%', '%%')}" for key, value in settings.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def store_connection(settings: dict, slug: str) -> pymysql.Connection:
    """A session of the store's own MySQL user, as a web process would hold one."""
    control = ControlPlane(resolve(settings, environ={}))
    try:
        with control.session() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
            url = control.runtime_url(tenant)
    finally:
        control.dispose()
    return pymysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password,
        database=url.database,
    )


def test_the_documented_grants_run_a_store_s_whole_life(
    deployment, mysql_admin_url, test_keys, tmp_path, root_engine, caplog
):
    base = {
        "backoffice.environment": "test",
        "backoffice.keys": test_keys,
        "backoffice.db_prefix": deployment.prefix,
        "backoffice.base_domain": "shops.test",
        "backoffice.backup_dir": str(tmp_path / "backups"),
    }
    admin = {
        **base,
        "backoffice.control_url": deployment.url(
            mysql_admin_url, "control_admin", deployment.control_db
        ),
    }
    runtime = {
        **base,
        "backoffice.control_url": deployment.url(mysql_admin_url, "control", deployment.control_db),
    }
    admin_ini = write_ini(tmp_path / "admin.ini", admin)
    runtime_ini = write_ini(tmp_path / "runtime.ini", runtime)

    def ok(config: Path, *args: str) -> str:
        result = run_cli(config, *args)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    assert NEXT_STEP in ok(admin_ini, "init")
    assert "control database ready" in ok(admin_ini, "init")  # an upgrade: nothing to do

    server = deployment.url(mysql_admin_url, "provisioner")
    ok(runtime_ini, "servers", "add", "db1", server, "--default")
    slug = unique_slug("doc")
    ok(
        runtime_ini,
        "tenants",
        "create",
        slug,
        "--name",
        "Grants Shop",
        "--owner-email",
        "owner@example.com",
        "--owner-password",
        "owner-pass-1",
    )
    migrated = json.loads(ok(runtime_ini, "tenants", "migrate", "--all", "--json"))
    assert [(row["slug"], row["ok"]) for row in migrated] == [(slug, True)]

    ok(runtime_ini, "tenants", "backup", slug)
    [backup] = json.loads(ok(runtime_ini, "backups", "list", slug, "--json"))
    ok(runtime_ini, "backups", "verify", backup["id"])
    ok(runtime_ini, "tenants", "restore", slug, "--backup", backup["id"], "--yes")

    # PROCESS + CONNECTION ADMIN: the old password's open sessions end.
    caplog.set_level(logging.WARNING, logger="tenancy.servers")
    session = store_connection(runtime, slug)
    ok(runtime_ini, "tenants", "rotate-password", slug)
    with pytest.raises(pymysql.err.OperationalError):
        session.query("SELECT 1")
    assert "could not end session" not in caplog.text

    session = store_connection(runtime, slug)
    database = session.db.decode()
    ok(runtime_ini, "tenants", "drop", slug, "--yes")
    with pytest.raises(pymysql.err.OperationalError):
        session.query("SELECT 1")
    with root_engine.connect() as conn:
        gone = conn.scalar(
            text("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :d"),
            {"d": database},
        )
    assert gone == 0
    assert "could not end session" not in caplog.text


def test_init_as_control_admin_upgrades_an_older_control_schema(
    deployment, mysql_admin_url, test_keys, tmp_path, root_engine
):
    """The DDL a release's control migrations run (new tables, indexes, keys)
    is within the documented grants; ``init`` is the upgrade command."""
    older = make_url(mysql_admin_url).set(database=deployment.control_db)
    engine = make_engine(older, poolclass=NullPool)
    with engine.begin() as conn:
        upgrade(conn, CONTROL_SCRIPTS, "0001")
    engine.dispose()
    admin = write_ini(
        tmp_path / "admin.ini",
        {
            "backoffice.environment": "test",
            "backoffice.keys": test_keys,
            "backoffice.control_url": deployment.url(
                mysql_admin_url, "control_admin", deployment.control_db
            ),
        },
    )
    result = run_cli(admin, "init")
    assert result.exit_code == 0, result.output
    assert f"control database ready at revision {head(CONTROL_SCRIPTS)}" in result.stdout
