"""A fleet on real MariaDB servers: placement, live moves under writes, drain, and
``backoffice servers list|mark|drain``. One module: the tests share two servers
whose figures (size, connections) another module could disturb."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from backoffice.schema import store_schema
from tenancy import fleet as fleet_ops
from tenancy.backups.archive import BackupError
from tenancy.backups.dump import CHANGE_LOG
from tenancy.backups.restore import Copier
from tenancy.models import Job, ServerStatus, Tenant, TenantStatus
from tenancy.placement import PlacementError, place, server_loads
from tenancy.provisioning import Provisioner, StoreRequest
from tests.backoffice.conftest import run_cli, write_ini
from tests.conftest import unique_slug
from tests.fleet.writer import Writer
from tests.tenancy.backups.conftest import fill, runtime_engine, snapshot_rows
from tests.tenancy.helpers import create_admin_user, drop_admin_user


def server_of(control, slug: str) -> str:
    with control.session() as session:
        return control.tenant(session, slug).server.name


def order_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT id FROM orders ORDER BY id")))


@pytest.fixture
def marked(fleet):
    """Set server statuses for one test; all back to active afterwards."""
    yield lambda name, status: fleet_ops.mark(fleet, name, status)
    for name in ("db1", "db2"):
        fleet_ops.mark(fleet, name, ServerStatus.ACTIVE)


def bulk_orders(control, tenant, n: int) -> None:
    """*n* orders with long addresses, made by the server; fresh table statistics."""
    engine = control.backend(tenant.server).ddl_engine(tenant.database_name)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orders (number, status, payment_status, customer_name, "
                "customer_email, customer_phone, shipping_address, currency, subtotal_minor, "
                "shipping_minor, total_minor, source, locale, created_at, updated_at) "
                "SELECT CONCAT('B-', seq), 'new', 'unpaid', 'Bulk', '', '', REPEAT('x', 500), "
                f"'EUR', 1, 0, 1, 'api', 'en', NOW(), NOW() FROM seq_1_to_{n}"
            )
        )
        conn.execute(text("ANALYZE TABLE orders"))
    engine.dispose()


def test_a_new_store_goes_to_the_server_with_more_headroom(fleet, fleet_store, marked):
    busy = [fleet_store("db1") for _ in range(3)]
    bulk_orders(fleet, busy[0], 20_000)  # ~12 MB: more than other tests leave on db2
    held = runtime_engine(fleet, busy[1])
    open_connections = [held.connect() for _ in range(12)]
    try:
        with fleet.session() as session:
            loads = {load.name: load for load in server_loads(fleet, session)}
            db1, db2 = loads["db1"], loads["db2"]
            assert db1.stores > db2.stores and db1.size_bytes > db2.size_bytes
            assert db1.connections > db2.connections and db1.max_connections == 500
            assert db1.load > db2.load
            assert place(fleet, session).name == "db2"
    finally:
        for conn in open_connections:
            conn.close()
        held.dispose()
    assert fleet_store().server.name == "db2"

    # db2 full: placement skips it, and an explicit choice of it is refused.
    marked("db2", "full")
    assert fleet_store().server.name == "db1"
    with pytest.raises(PlacementError, match="'db2' is full and takes no new stores"):
        fleet_store("db2")
    marked("db1", "draining")
    with pytest.raises(PlacementError, match="no active database server"):
        fleet_store()


def test_a_store_moves_under_continuous_writes_and_loses_nothing(fleet, fleet_store):
    tenant = fleet_store("db1", owner=True)
    engine = runtime_engine(fleet, tenant)
    fill(engine, orders=600)
    ids = order_ids(engine)
    engine.dispose()
    writer = Writer(fleet, tenant.slug, mutable=ids[::2], deletable=ids[1::2])
    frozen = {}

    def fault(step: str) -> None:
        if step == "switch":
            # Frozen and drained: the copy must be the source, row for row.
            began = time.monotonic()
            old = fleet.backend(tenant.server).ddl_engine(tenant.database_name)
            job = _running_move(fleet, tenant.slug)
            new = fleet.backend(_server(fleet, "db2")).ddl_engine(_target_db(fleet, job))
            frozen["equal"] = snapshot_rows(old) == snapshot_rows(new)
            old.dispose()
            new.dispose()
            frozen["hook"] = time.monotonic() - began

    writer.start()
    time.sleep(1.0)
    started = time.monotonic()
    moved = Copier(fleet, store_schema, fault=fault).move(tenant.slug, "db2")
    ended = time.monotonic()
    time.sleep(1.0)
    writer.stop()
    assert writer.failure is None, writer.failure

    assert moved.server.name == "db2" and moved.status == TenantStatus.ACTIVE
    assert frozen["equal"]
    acked_during = [t for t in writer.acks if started <= t <= ended]
    assert len(acked_during) > 20, "the store did not keep serving during the copy"
    new_engine = runtime_engine(fleet, moved)
    assert writer.missing(new_engine) == []
    assert writer.inserted and writer.updated and writer.deleted
    # Deleted orders took their lines with them (a cascade no trigger sees).
    with new_engine.connect() as conn:
        orphans = conn.scalar(
            text(
                "SELECT COUNT(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id "
                "WHERE o.id IS NULL"
            )
        )
        assert orphans == 0
        assert CHANGE_LOG not in {r[0] for r in conn.execute(text("SHOW TABLES"))}
    new_engine.dispose()
    # The old database is gone, and so is its user.
    old_backend = fleet.backend(tenant.server)
    assert not old_backend.database_exists(tenant.database_name)
    assert not old_backend.user_exists(tenant.db_user)
    with fleet.session() as session:
        job = session.scalar(
            select(Job)
            .where(Job.tenant_id == tenant.id, Job.kind == "move")
            .order_by(Job.id.desc())
        )
        assert job.state == "done", job.error
        freeze = job.detail["freeze_seconds"]
    assert freeze - frozen["hook"] < 2.0  # the comparison above is the test's, not the move's
    assert writer.longest_gap() < freeze + 1.5  # the freeze plus the busy entry's lifetime
    print(f"freeze {freeze:.3f} s, longest gap {writer.longest_gap():.3f} s, {writer.refused}")


def _server(control, name):
    with control.session() as session:
        server = control.server(session, name)
        session.expunge(server)
        return server


def _running_move(control, slug):
    with control.session() as session:
        return session.scalar(
            select(Job).where(Job.tenant_slug == slug, Job.kind == "move").order_by(Job.id.desc())
        )


def _target_db(control, job) -> str:
    return job.detail["database"]


@pytest.mark.parametrize("step", ["catch-up", "freeze", "check", "switch"])
def test_a_failed_move_leaves_the_store_serving_where_it_was(fleet, fleet_store, step):
    tenant = fleet_store("db1")
    engine = runtime_engine(fleet, tenant)
    fill(engine, orders=20)
    engine.dispose()

    def fault(at: str) -> None:
        if at == step:
            raise RuntimeError(f"injected at {at}")

    with pytest.raises(BackupError, match=f"at step .*injected at {step}"):
        Copier(fleet, store_schema, fault=fault).move(tenant.slug, "db2")
    with fleet.session() as session:
        again = fleet.tenant(session, tenant.slug)
        assert again.status == TenantStatus.ACTIVE and again.server.name == "db1"
        assert again.database_name == tenant.database_name
    # Writable by its own user again (unlocked), no triggers or change log left.
    engine = runtime_engine(fleet, tenant)
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET customer_name = 'after' LIMIT 1"))
        assert not conn.scalar(
            text(
                "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
            )
        )
        assert CHANGE_LOG not in {r[0] for r in conn.execute(text("SHOW TABLES"))}
    engine.dispose()
    assert _no_copy_left(fleet, tenant)


def _no_copy_left(control, tenant) -> bool:
    backend = control.backend(_server(control, "db2"))
    stem = tenant.database_name[:-5]
    rows = backend._rows(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :p",
        {"p": stem.replace("_", r"\_") + "%"},
    )
    return not rows


def test_a_live_move_needs_the_privileges_to_end_sessions(fleet, fleet_urls, fleet_store):
    """Without PROCESS a session of the old user could outlive the freeze unseen."""
    root = create_engine(fleet_urls[0])
    admin = create_admin_user(root, fleet_urls[0])  # CREATE USER + ALL on the run's databases
    try:
        with fleet.session() as session:
            fleet.add_server(session, "db1-narrow", admin.url)
            session.commit()
        tenant = fleet_store("db1-narrow")
        with pytest.raises(BackupError, match="lacks PROCESS and CONNECTION ADMIN"):
            Copier(fleet, store_schema).move(tenant.slug, "db2")
        assert server_of(fleet, tenant.slug) == "db1-narrow"
        fleet_ops.mark(fleet, "db1-narrow", "full")  # out of the other tests' placements
    finally:
        drop_admin_user(root, admin)
        root.dispose()


def test_a_store_changed_during_the_copy_is_not_switched(fleet, fleet_store):
    """A suspend (or any version bump) between the snapshot and the freeze wins."""
    tenant = fleet_store("db1")

    def fault(step: str) -> None:
        if step == "catch-up":
            with fleet.session() as session:
                row = fleet.tenant(session, tenant.slug)
                row.bump_version()
                session.commit()

    with pytest.raises(BackupError, match="changed during the copy"):
        Copier(fleet, store_schema, fault=fault).move(tenant.slug, "db2")
    assert server_of(fleet, tenant.slug) == "db1"


def test_a_stale_process_cannot_write_the_old_database_after_the_freeze(fleet, fleet_store):
    tenant = fleet_store("db1")
    stale = runtime_engine(fleet, tenant)  # as a process whose cache still says "db1"
    with stale.connect() as conn:
        conn.execute(text("SELECT 1"))
        seen = {}

        def fault(step: str) -> None:
            if step == "check":  # frozen: the old user is locked, its sessions gone
                try:
                    conn.execute(text("SELECT COUNT(*) FROM orders"))
                    seen["old session"] = "worked"
                except DBAPIError as exc:
                    seen["old session"] = exc.orig.args[0]
                try:
                    with stale.connect() as fresh:
                        fresh.execute(text("SELECT 1"))
                    seen["new session"] = "worked"
                except DBAPIError as exc:
                    seen["new session"] = exc.orig.args[0]

        Copier(fleet, store_schema, fault=fault).move(tenant.slug, "db2")
    stale.dispose()
    assert seen["old session"] in {2006, 2013}, seen
    assert seen["new session"] == 4151, seen  # account locked


def test_drain_empties_a_server(fleet, fleet_store, marked):
    stores = [fleet_store("db1") for _ in range(3)]
    for tenant in stores:
        engine = runtime_engine(fleet, tenant)
        fill(engine, orders=10)
        engine.dispose()
    job_id = fleet_ops.start_drain(fleet, "db1")
    seen = []
    job = fleet_ops.drain(
        fleet, store_schema, job_id, on_store=lambda job, slug, error: seen.append(job.progress)
    )
    assert job.state == "done", job.error
    with fleet.session() as session:
        assert fleet.server(session, "db1").status == ServerStatus.DRAINING
        left = session.scalars(
            select(Tenant.slug).where(Tenant.server_id == fleet.server(session, "db1").id)
        ).all()
    assert left == []
    assert {server_of(fleet, t.slug) for t in stores} == {"db2"}
    assert len(job.detail["moved"]) >= 3 and seen[-1] == job.progress
    # A draining server takes no new store, even when asked by name.
    with pytest.raises(PlacementError, match="'db1' is draining"):
        Provisioner(fleet, store_schema).create(
            StoreRequest(slug=unique_slug("fl"), name="x", server="db1")
        )


# -- the CLI ------------------------------------------------------------


@pytest.fixture
def bo(counted_fleet, tmp_path):
    config = write_ini(tmp_path / "fleet.ini", counted_fleet.settings)
    weights = counted_fleet.settings["backoffice.placement_weights"]
    config.write_text(config.read_text() + f"backoffice.placement_weights = {weights}\n")
    yield lambda *args: run_cli(config, *args)
    for name in ("db1", "db2"):
        run_cli(config, "servers", "mark", name, "active")


def listing(bo) -> dict:
    result = bo("servers", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.output)}


def test_list_mark_drain_and_move(bo, fleet_store, counted_fleet):
    for _ in range(2):
        fleet_store("db1", control=counted_fleet)
    servers = listing(bo)
    assert servers["db1"]["stores"] == 2 and servers["db2"]["stores"] == 0
    assert servers["db1"]["size_bytes"] > 0
    for row in servers.values():
        assert row["max_connections"] == 500
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
