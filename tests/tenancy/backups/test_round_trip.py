"""Backup, restore, clone and move on real MariaDB (and SQLite), row for row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from backoffice.schema import store_schema
from tenancy.backups import dump as dump_module
from tenancy.backups.codec import kind_of, row_encoder
from tenancy.backups.dump import (
    canonical_blocks,
    canonical_sql,
    select_sql,
    shared_snapshot,
    store_tables,
    stream_rows,
)
from tenancy.backups.restore import Copier
from tenancy.backups.service import backup_store, list_backups, verify_backup
from tenancy.models import Backup, BackupState, Tenant, TenantStatus
from tests.tenancy.backups.conftest import (
    BIG_TEXT,
    HOSTILE,
    add_order,
    database_names,
    fill,
    runtime_engine,
    snapshot_rows,
)


def _reload(control, slug) -> Tenant:
    with control.session() as session:
        return control.tenant(session, slug)


def test_backup_restore_round_trip_row_for_row(bk, new_store, mysql_admin_url):
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine)
    before = snapshot_rows(engine)
    backup = backup_store(bk, tenant.slug)
    assert backup.state == BackupState.DONE and backup.row_counts["orders"] == 40
    assert Path(backup.path).stat().st_mode & 0o077 == 0  # readable by the owner only
    assert BIG_TEXT.encode()[:50] not in Path(backup.path).read_bytes()  # encrypted

    with engine.begin() as conn:  # changes after the backup are undone by the restore
        conn.execute(text("DELETE FROM order_lines"))
        conn.execute(text("UPDATE products SET name = 'changed'"))
    engine.dispose()

    restored = Copier(bk, store_schema).restore(tenant.slug, backup.id)
    assert restored.status == TenantStatus.ACTIVE
    assert restored.database_name != tenant.database_name
    assert restored.version > tenant.version
    engine = runtime_engine(bk, restored)
    after = snapshot_rows(engine)
    engine.dispose()
    assert after == before
    assert before["products"][0][3] == BIG_TEXT
    assert tenant.database_name not in database_names(mysql_admin_url, tenant.database_name)


def test_verify_and_list(bk, new_store):
    tenant = new_store()
    fill(runtime_engine(bk, tenant), orders=3)
    backup = backup_store(bk, tenant.slug)
    manifest = verify_backup(bk, backup.id)
    assert manifest["tables"]["order_lines"]["rows"] == 9
    assert manifest["schema_revision"] == backup.schema_revision == store_schema.head()
    assert manifest["source_dialect"] == "mysql"
    with bk.session() as session:
        assert [b.id for b in list_backups(session, tenant.slug)] == [backup.id]


def test_restore_as_new_store_and_clone_are_independent(bk, new_store):
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=5)
    before = snapshot_rows(engine)
    backup = backup_store(bk, tenant.slug)

    copy = Copier(bk, store_schema).restore(tenant.slug, backup.id, as_slug=tenant.slug + "-r")
    clone = Copier(bk, store_schema).clone(tenant.slug, tenant.slug + "-c")
    for other in (copy, clone):
        assert other.status == TenantStatus.ACTIVE and other.db_user != tenant.db_user
        other_engine = runtime_engine(bk, other)
        assert snapshot_rows(other_engine) == before
        with other_engine.begin() as conn:
            conn.execute(text("DELETE FROM order_lines"))
        other_engine.dispose()
    assert snapshot_rows(engine) == before  # the original did not change
    engine.dispose()


def test_move_to_another_server(bk, new_store, mysql_admin_url):
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=7)
    before = snapshot_rows(engine)
    engine.dispose()

    moved = Copier(bk, store_schema).move(tenant.slug, "maria2")
    assert moved.server.name == "maria2" and moved.status == TenantStatus.ACTIVE
    assert moved.version > tenant.version
    assert moved.database_name != tenant.database_name
    engine = runtime_engine(bk, moved)
    assert snapshot_rows(engine) == before
    engine.dispose()
    assert tenant.database_name not in database_names(mysql_admin_url, tenant.database_name)


@pytest.mark.parametrize("source, target", [("lite", "maria"), ("maria", "lite")])
def test_backup_restores_across_sqlite_and_mariadb(bk, new_store, source, target):
    tenant = new_store(server=source)
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=6)
    with engine.begin() as conn:  # microseconds: MariaDB's DATETIME keeps whole seconds
        conn.execute(
            text("UPDATE customers SET created_at = :t"),
            {"t": "2026-03-01 12:30:45.123456" if source == "lite" else "2026-03-01 12:30:45"},
        )
    before = snapshot_rows(engine)
    engine.dispose()
    backup = backup_store(bk, tenant.slug)
    assert backup.source_dialect == ("sqlite" if source == "lite" else "mysql")

    copy = Copier(bk, store_schema).restore(
        tenant.slug, backup.id, as_slug=tenant.slug + "-x", server=target
    )
    assert copy.server.name == target
    engine = runtime_engine(bk, copy)
    after = snapshot_rows(engine)
    engine.dispose()
    assert after.keys() == before.keys()
    for name in before:
        assert len(after[name]) == len(before[name]), name
    assert after["products"][0][3] == BIG_TEXT
    assert after["orders"] == before["orders"] and after["orders"][0][5] == "Олена Коваленко"
    assert [c[4].replace(microsecond=0) for c in after["customers"]] == [
        c[4].replace(microsecond=0) for c in before["customers"]
    ]
    assert after["order_lines"] == before["order_lines"]


def test_writes_during_a_backup_keep_every_order_whole(bk, new_store):
    """A writer adds orders with their lines while the snapshot is read."""
    import threading

    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=2000)
    stop, written = threading.Event(), []

    def writer():
        n = 100_000
        while not stop.is_set():
            with engine.begin() as conn:
                add_order(conn, n, lines=3, created="2026-03-02 00:00:00")
            written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    progress_calls = []
    try:
        backup = backup_store(
            bk, tenant.slug, on_progress=lambda done, total: progress_calls.append(done)
        )
    finally:
        stop.set()
        thread.join()
    assert len(written) > 0 and len(progress_calls) > 1
    copy = Copier(bk, store_schema).restore(tenant.slug, backup.id, as_slug=tenant.slug + "-w")
    copy_engine = runtime_engine(bk, copy)
    with copy_engine.connect() as conn:
        broken = conn.scalar(
            text(
                "SELECT COUNT(*) FROM orders o WHERE (SELECT COUNT(*) FROM order_lines l "
                "WHERE l.order_id = o.id) <> 3"
            )
        )
        events = conn.scalar(text("SELECT COUNT(*) FROM order_events"))
        orders = conn.scalar(text("SELECT COUNT(*) FROM orders"))
    copy_engine.dispose()
    engine.dispose()
    assert broken == 0 and events == orders == backup.row_counts["orders"]


def test_backup_record_survives_in_the_control_db(bk, new_store):
    tenant = new_store()
    backup = backup_store(bk, tenant.slug)
    with bk.session() as session:
        stored = session.get(Backup, backup.id)
        assert stored.tenant_id == tenant.id and stored.size == Path(stored.path).stat().st_size
        assert stored.sha256 and stored.key_id == bk.keyring.current_id


@pytest.mark.parametrize("readers", [1, 2])
def test_server_built_lines_equal_the_codec(bk, new_store, readers):
    """MariaDB builds the canonical lines of a backup itself; they must be the
    bytes ``codec`` writes for the same rows (SQLite backups and every
    restore's verification use the codec), read on one connection or dealt
    out in turns to two."""
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=3)
    with engine.begin() as conn:  # a gap in the keys: the walk jumps it
        conn.execute(
            text(
                "INSERT INTO customers (id, email, name, phone, created_at, updated_at) "
                "VALUES (1000000, 'far@example.com', 'Far', '', :t, :t)"
            ),
            {"t": "2026-03-01 12:30:45"},
        )
    built = {}
    ddl = bk.backend(tenant.server).ddl_engine(tenant.database_name)
    with ddl.connect() as conn, shared_snapshot(conn, readers) as conns:
        assert len(conns) == readers
        for table in store_tables(conn):
            kinds = [kind_of(c.type) for c in table.columns]
            template = canonical_sql(conn, table, kinds)
            if template is None:
                continue
            # Batches of 4 rows: the key ranges are walked, nothing lost or doubled.
            server = b"".join(
                block for block, _ in canonical_blocks(conn, table, template, 4, conns[1:])
            )
            encode = row_encoder(kinds)
            python = "".join(
                encode(rows) for rows in stream_rows(conn, select_sql(conn, table))
            ).encode("utf-8")
            assert server == python, table.name
            built[table.name] = server
    ddl.dispose()
    engine.dispose()
    assert {"orders", "order_lines", "order_events", "customers", "products"} <= set(built)
    assert json.dumps(HOSTILE, ensure_ascii=False).encode("utf-8") in built["customers"]
    assert (
        built["customers"].count(b"\n") == 7 and b'[1000000,"far@example.com"' in built["customers"]
    )


def test_server_built_lines_equal_the_codec_for_dates_and_decimals(bk, new_store):
    """Kinds the store schema does not use today: dates, fractional timestamps,
    fixed-scale decimals, each NULL or not, nullable or not."""
    tenant = new_store()
    ddl = bk.backend(tenant.server).ddl_engine(tenant.database_name)
    try:
        with ddl.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE kinds_probe (id BIGINT PRIMARY KEY, d DATE NULL, "
                    "dt DATETIME(6) NULL, dt0 DATETIME NOT NULL, amount DECIMAL(12,2) NULL, "
                    "exact DECIMAL(20,6) NOT NULL, label VARCHAR(20) NULL)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO kinds_probe VALUES "
                    "(1, '2026-03-01', '2026-03-01 12:30:45.123456', '2026-03-01 12:30:45', "
                    "-12.50, 0.000001, NULL), "
                    "(2, NULL, NULL, '0999-01-02 03:04:05', NULL, -99999999999999.999999, ''), "
                    "(7, '1000-01-01', '2026-12-31 23:59:59.000001', '2026-01-01 00:00:00', "
                    "0, 3, 'x\"y')"
                )
            )
        with ddl.connect() as conn:
            [table] = [t for t in store_tables(conn) if t.name == "kinds_probe"]
            kinds = [kind_of(c.type) for c in table.columns]
            assert {"date", "datetime", "numeric:2", "numeric:6"} <= set(kinds)
            template = canonical_sql(conn, table, kinds)
            server = b"".join(block for block, _ in canonical_blocks(conn, table, template, 2))
            python = "".join(
                row_encoder(kinds)(rows) for rows in stream_rows(conn, select_sql(conn, table))
            ).encode("utf-8")
    finally:
        ddl.dispose()
    assert server == python and server.count(b"\n") == 3
    assert b'"-12.50"' in server and b'"0999-01-02 03:04:05.000000"' in server


@pytest.mark.parametrize("readers", [1, 2])
def test_batches_too_long_for_the_server_are_cut_finer(bk, new_store, readers, monkeypatch):
    """A batch past ``group_concat_max_len`` comes back cut; its key range is
    halved until the blocks fit, nothing lost or doubled, on one or two readers."""
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=40)
    engine.dispose()
    monkeypatch.setattr(dump_module, "CHUNK_BYTES", 2048)
    ddl = bk.backend(tenant.server).ddl_engine(tenant.database_name)
    try:
        with ddl.connect() as conn, shared_snapshot(conn, readers) as conns:
            for table in [t for t in store_tables(conn) if t.name in ("orders", "order_lines")]:
                kinds = [kind_of(c.type) for c in table.columns]
                template = canonical_sql(conn, table, kinds)
                blocks = [
                    block for block, _ in canonical_blocks(conn, table, template, 1000, conns[1:])
                ]
                python = "".join(
                    row_encoder(kinds)(rows) for rows in stream_rows(conn, select_sql(conn, table))
                ).encode("utf-8")
                assert b"".join(blocks) == python, table.name
                assert len(blocks) > 3 and max(map(len, blocks)) <= 2048, table.name
    finally:
        ddl.dispose()
