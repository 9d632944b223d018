"""What the saga kill tests share: a control DB of their own whose servers use a
dedicated admin account (so its connections can be killed from the server without
touching anyone else's), a 1-second lease, and the CLI run as a real process.

The process is stopped at a step boundary through the test-only hook
``BACKOFFICE_TEST_PAUSE_AT`` (``tenancy.sagas.pause_hook``): it writes
``<dir>/paused`` and waits for ``<dir>/go``. A test then SIGKILLs it, or kills its
DDL connections with ``KILL CONNECTION`` from root and lets it go on.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from backoffice.cli import cli
from backoffice.schema import store_schema
from tenancy.control import ControlPlane
from tenancy.migrate import init_control
from tenancy.models import Backup, BackupState, Job, Tenant, TenantStatus
from tenancy.repair import repair
from tenancy.sagas import LeaseHeld, stuck
from tests.tenancy.helpers import (
    AdminUser,
    create_admin_user,
    drop_admin_user,
    kill_connections,
    new_control_db,
    server_objects,
)

LEASE_SECONDS = 1
INI_KEYS = (
    "backoffice.environment",
    "backoffice.control_url",
    "backoffice.keys",
    "backoffice.db_prefix",
    "backoffice.base_domain",
    "backoffice.backup_dir",
    "backoffice.lease_seconds",
)
_runs = itertools.count(1)


@dataclass
class Kit:
    control: ControlPlane
    settings: dict
    ini: Path
    admin: AdminUser
    root: Engine
    tmp: Path

    @property
    def prefix(self) -> str:
        return self.settings["backoffice.db_prefix"]

    def row(self, slug: str) -> Tenant | None:
        with self.control.session() as session:
            return session.scalar(select(Tenant).where(Tenant.slug == slug))

    def objects(self, slug: str) -> tuple[set[str], set[str]]:
        with self.root.connect() as conn:
            return server_objects(conn, slug, self.prefix)

    def cli(self, *args: str):
        env = {name: None for name in os.environ if name.startswith("BACKOFFICE_")}
        return CliRunner(env=env).invoke(cli, ["--config", str(self.ini), *args])

    def stuck_slugs(self) -> set[str]:
        with self.control.session() as session:
            return {row.slug for row in stuck(session)}

    def wait_stuck(self, slug: str, timeout: float = 15) -> None:
        """Until the dead run's lease has expired and the store is listed as stuck."""
        deadline = time.monotonic() + timeout
        while slug not in self.stuck_slugs():
            assert time.monotonic() < deadline, f"{slug} never became stuck"
            time.sleep(0.2)

    def kill_ddl_connections(self) -> int:
        with self.root.begin() as conn:
            return kill_connections(conn, self.admin.name)

    def start(self, step: str, *args: str) -> Run:
        return Run(self, step, args)


class Run:
    """``backoffice ARGS`` in a process of its own, to stop at *step*."""

    def __init__(self, kit: Kit, step: str, args: tuple[str, ...]):
        self.dir = kit.tmp / f"run{next(_runs)}"
        self.dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
        env |= {"BACKOFFICE_TEST_PAUSE_AT": step, "BACKOFFICE_TEST_PAUSE_DIR": str(self.dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from backoffice.cli import cli; cli()"]
            + ["--config", str(kit.ini), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_paused(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not (self.dir / "paused").exists():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"exited {self.proc.returncode} before pausing: {out} {err}")
            assert time.monotonic() < deadline, "never reached the pause"
            time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()

    def go(self, timeout: float = 120) -> tuple[int, str, str]:
        (self.dir / "go").touch()
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def open_kit(root: Engine, admin_url: str, base_settings: dict, tmp: Path) -> Kit:
    admin = create_admin_user(root, admin_url)
    # The documented provisioner grants (docs/deployment.md): a live move ends the
    # old user's sessions at its write freeze, and refuses to start without these.
    with root.begin() as conn:
        conn.execute(text("GRANT PROCESS, CONNECTION ADMIN ON *.* TO :u@'%'"), {"u": admin.name})
    settings = new_control_db(root, admin_url, base_settings)
    settings["backoffice.lease_seconds"] = str(LEASE_SECONDS)
    settings["backoffice.backup_dir"] = str(tmp / "backups")
    settings["backoffice.environment"] = "test"
    control = ControlPlane(settings)
    init_control(control.engine)
    second = make_url(admin.url).set(host="localhost").render_as_string(hide_password=False)
    with control.session() as session:
        control.add_server(session, "maria", admin.url, default=True)
        control.add_server(session, "maria2", second)
        session.commit()
    ini = tmp / "saga.ini"
    lines = ["[app:main]", "use = egg:backoffice"]
    lines += [f"{key} = {settings[key].replace('%', '%%')}" for key in INI_KEYS]
    ini.write_text("\n".join(lines) + "\n")
    return Kit(control, settings, ini, admin, root, tmp)


def close_kit(kit: Kit) -> None:
    kit.control.dispose()
    drop_admin_user(kit.root, kit.admin)


@pytest.fixture(scope="module")
def kit(root_engine, mysql_admin_url, mysql_settings, tmp_path_factory):
    opened = open_kit(root_engine, mysql_admin_url, mysql_settings, tmp_path_factory.mktemp("saga"))
    yield opened
    close_kit(opened)


def assert_live_run_is_not_taken_over(kit: Kit, slug: str) -> None:
    """A paused run is alive and beating: repair refuses and names it."""
    with pytest.raises(LeaseHeld, match=r"held by .*:\d+:\w+ since .* UTC"):
        repair(kit.control, store_schema, slug)


def repair_twice(kit: Kit, slug: str, *, gone: bool = False) -> str:
    """``tenants repair`` through the CLI; the second run finds nothing to do (or, for
    a new store the first one removed, no store)."""
    first = kit.cli("tenants", "repair", slug)
    assert first.exit_code == 0, first.output
    second = kit.cli("tenants", "repair", slug)
    if gone:
        assert second.exit_code == 1 and f"no store with slug {slug!r}" in second.stderr
    else:
        assert second.exit_code == 0, second.output
        assert "nothing to repair" in second.stdout, second.stdout
    return first.stdout.strip()


def runtime_count(kit: Kit, tenant: Tenant, table: str) -> int:
    """Counted as the store's own MySQL user: proves the user and its grant exist."""
    engine = create_engine(kit.control.runtime_url(tenant), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(f"SELECT COUNT(*) FROM {table}"))
    finally:
        engine.dispose()


def assert_settled(kit: Kit, slug: str) -> Tenant:
    """Active, no lease, no running job or backup, exactly its own database and user."""
    row = kit.row(slug)
    assert row is not None and row.status == TenantStatus.ACTIVE, row and row.error
    assert row.lease_owner is None
    assert kit.objects(slug) == ({row.database_name}, {row.db_user})
    with kit.control.session() as session:
        running = session.scalars(
            select(Job.kind).where(Job.tenant_slug == slug, Job.state == "running")
        ).all()
        backups = session.scalars(
            select(Backup.id).where(Backup.tenant_slug == slug, Backup.state == BackupState.RUNNING)
        ).all()
    assert running == [] and backups == []
    return row


def count_rows(kit: Kit, tenant: Tenant, table: str, where: str = "1=1") -> int:
    engine = kit.control.backend(tenant.server).ddl_engine(tenant.database_name)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"))
    finally:
        engine.dispose()
