"""Several connections reading one store in one snapshot (``shared_snapshot``)."""

from __future__ import annotations

import logging
import time

from sqlalchemy import text

from tenancy.backups.dump import Dump, shared_snapshot
from tests.tenancy.backups.conftest import fill, runtime_engine


def dump_bytes(conn, helpers=(), batch=4) -> tuple[bytes, dict]:
    """The whole canonical stream of a store, in batches of *batch* rows (so
    that the key ranges are dealt out to every reader many times over)."""
    dump = Dump(conn, fast_batch=batch, helpers=helpers)
    blocks = [payload for kind, payload in dump.events() if kind == "rows"]
    return b"".join(blocks), dump.tables


def change_everything(engine) -> None:
    """Commit changes spread over the whole key range of every order table."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET customer_name = 'changed', total_minor = 1"))
        conn.execute(text("UPDATE order_lines SET quantity = quantity + 1"))
        conn.execute(text("DELETE FROM order_events WHERE MOD(id, 2) = 0"))


def test_readers_share_one_snapshot(bk, new_store):
    """Writes committed after the snapshot are seen by none of the readers:
    the blocks read in turn by two connections equal a one-connection dump
    taken before the writes."""
    tenant = new_store()
    runtime = runtime_engine(bk, tenant)
    fill(runtime, orders=40)
    ddl = bk.backend(tenant.server).ddl_engine(tenant.database_name)
    try:
        with ddl.connect() as conn:
            with shared_snapshot(conn, readers=1):
                expected, expected_tables = dump_bytes(conn)
        with ddl.connect() as conn, shared_snapshot(conn, readers=2) as readers:
            assert len(readers) == 2
            change_everything(runtime)
            shared, tables = dump_bytes(conn, readers[1:])
        with ddl.connect() as conn, shared_snapshot(conn, readers=1):
            after, _ = dump_bytes(conn)
    finally:
        ddl.dispose()
        runtime.dispose()
    assert shared == expected and tables == expected_tables
    assert after != expected  # the writes happened, and would have been seen


def test_a_write_in_progress_means_one_reader_and_no_wait(bk, new_store):
    """An open write transaction on the store: the lock is not had (NOWAIT,
    the writer is never queued behind it), the backup reads on one
    connection, and the uncommitted write is not in it."""
    tenant = new_store()
    runtime = runtime_engine(bk, tenant)
    fill(runtime, orders=5)
    ddl = bk.backend(tenant.server).ddl_engine(tenant.database_name)
    try:
        with ddl.connect() as conn, shared_snapshot(conn, readers=1):
            expected, _ = dump_bytes(conn)
        with runtime.connect() as writer:
            writer.execute(text("UPDATE orders SET customer_name = 'uncommitted'"))
            started = time.perf_counter()
            with ddl.connect() as conn, shared_snapshot(conn, readers=2) as readers:
                waited = time.perf_counter() - started
                assert len(readers) == 1
                got, _ = dump_bytes(conn, readers[1:])
            writer.rollback()
    finally:
        ddl.dispose()
        runtime.dispose()
    assert got == expected
    assert waited < 1.0


def test_without_the_lock_tables_privilege_one_reader(bk, new_store, caplog):
    """The store's runtime user may not LOCK TABLES: one connection reads."""
    caplog.set_level(logging.INFO, logger="tenancy.backups.dump")
    tenant = new_store()
    runtime = runtime_engine(bk, tenant)
    fill(runtime, orders=3)
    try:
        with runtime.connect() as conn, shared_snapshot(conn, readers=2) as readers:
            assert len(readers) == 1
            _, tables = dump_bytes(conn)
    finally:
        runtime.dispose()
    assert tables["order_lines"]["rows"] == 9
    assert "reads on one connection" in caplog.text and "denied" in caplog.text
