"""Damaged, foreign or undecryptable backups are refused and nothing changes;
an interrupted restore or move leaves the store serving from its old database."""

from __future__ import annotations

import errno
import io
import os
import secrets
import shutil
import struct

import pytest
from pymysql.err import OperationalError
from sqlalchemy import text

from backoffice.schema import store_schema
from tenancy.backups import service
from tenancy.backups.archive import MAGIC, ArchiveReader, ArchiveWriter, BackupError
from tenancy.backups.files import HashingWriter
from tenancy.backups.restore import STEPS, Copier
from tenancy.backups.service import backup_store, list_backups, verify_backup
from tenancy.control import ControlPlane
from tenancy.keyring import KeyRing, generate_key
from tenancy.models import Backup, BackupState, Tenant, TenantStatus
from tests.tenancy.backups.conftest import (
    database_names,
    fill,
    runtime_engine,
    snapshot_rows,
)


def split_file(data: bytes) -> tuple[bytes, list[bytes]]:
    """The file's magic+header and its sealed chunks, each with its length prefix."""
    (length,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    pos = len(MAGIC) + 4 + length
    head, chunks = data[:pos], []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos : pos + 4 + length])
        pos += 4 + length
    return head, chunks


@pytest.fixture
def backed_up(bk, new_store):
    """A store with ~3 MB of incompressible text (several chunks) and its backup."""
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=5)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, is_active, "
                "created_at, updated_at) VALUES (:s, 'x', :d, 1, 1, 1, NOW(), NOW())"
            ),
            [{"s": f"R-{i}", "d": secrets.token_urlsafe(48_000)} for i in range(50)],
        )
    before = snapshot_rows(engine)
    engine.dispose()
    backup = backup_store(bk, tenant.slug)
    with bk.session() as session:
        tenant = bk.tenant(session, tenant.slug)
    return tenant, backup, before


def assert_unchanged(bk, tenant: Tenant, before, root_url) -> None:
    with bk.session() as session:
        now = bk.tenant(session, tenant.slug)
    assert now.status == TenantStatus.ACTIVE
    assert (now.database_name, now.db_user, now.server_id) == (
        tenant.database_name,
        tenant.db_user,
        tenant.server_id,
    )
    engine = runtime_engine(bk, now)
    assert snapshot_rows(engine) == before
    engine.dispose()
    stem = tenant.database_name.rsplit("_", 1)[0] + "_"
    assert database_names(root_url, stem) == {tenant.database_name}


def rewrite(path: str, change) -> None:
    head, chunks = split_file(open(path, "rb").read())
    head, chunks = change(head, chunks)
    with open(path, "wb") as fh:
        fh.write(head + b"".join(chunks))


def flip_byte(head, chunks):
    damaged = bytearray(chunks[1])
    damaged[len(damaged) // 2] ^= 0x01
    return head, [chunks[0], bytes(damaged), *chunks[2:]]


def cut_last_chunk(head, chunks):
    return head, chunks[:-1]


def cut_mid_chunk(head, chunks):
    return head, [*chunks[:-1], chunks[-1][: len(chunks[-1]) // 2]]


def swap_chunks(head, chunks):
    return head, [chunks[1], chunks[0], *chunks[2:]]


def drop_a_chunk(head, chunks):
    return head, [chunks[0], *chunks[2:]]


@pytest.mark.parametrize(
    "damage", [flip_byte, cut_last_chunk, cut_mid_chunk, swap_chunks, drop_a_chunk]
)
def test_damaged_backup_is_refused_and_nothing_changes(bk, backed_up, mysql_admin_url, damage):
    tenant, backup, before = backed_up
    _head, chunks = split_file(open(backup.path, "rb").read())
    assert len(chunks) >= 4  # three data chunks and the manifest
    rewrite(backup.path, damage)
    with pytest.raises(BackupError, match=r"truncated|authentication"):
        verify_backup(bk, backup.id)
    with pytest.raises(BackupError, match=r"truncated|authentication"):
        Copier(bk, store_schema).restore(tenant.slug, backup.id)
    assert_unchanged(bk, tenant, before, mysql_admin_url)


def test_backup_of_another_store_is_refused(bk, backed_up, new_store, mysql_admin_url):
    tenant, backup, before = backed_up
    other = new_store()
    with pytest.raises(BackupError, match="belongs to store"):
        Copier(bk, store_schema).restore(other.slug, backup.id)
    # The file of one store planted under another store's backup record.
    own = backup_store(bk, other.slug)
    shutil.copyfile(backup.path, own.path)
    with pytest.raises(BackupError, match="belongs to store"):
        Copier(bk, store_schema).restore(other.slug, own.id)
    # ... even with the header rewritten to name the other store.
    data = open(backup.path, "rb").read().replace(tenant.slug.encode(), other.slug.encode())
    data = data.replace(backup.id.encode(), own.id.encode())
    with open(own.path, "wb") as fh:
        fh.write(_fix_header_length(data))
    with pytest.raises(BackupError, match=r"cannot be unwrapped|authentication"):
        Copier(bk, store_schema).restore(other.slug, own.id)
    assert_unchanged(bk, tenant, before, mysql_admin_url)


def _fix_header_length(data: bytes) -> bytes:
    start = len(MAGIC) + 4
    end = data.index(b"}", start) + 1
    return MAGIC + struct.pack(">I", end - start) + data[start:]


def test_wrong_key_is_refused(bk, backed_up, bk_settings):
    _tenant, backup, _before = backed_up
    stranger = ControlPlane({**bk_settings, "backoffice.keys": generate_key()})
    try:
        with pytest.raises(BackupError, match="unknown key"):
            verify_backup(stranger, backup.id)
    finally:
        stranger.dispose()


def test_chunks_are_bound_to_their_backup():
    ring = KeyRing.from_text(generate_key())
    files = []
    for backup_id in ("one", "two"):
        out = io.BytesIO()
        writer = ArchiveWriter(out, ring, "shop", backup_id, chunk_size=64)
        writer.write(b'{"table":"t","columns":["a"],"kinds":["plain"]}\n')
        writer.write(b"".join(b'["%d"]\n' % i for i in range(100)))
        writer.close({"tenant": "shop", "backup_id": backup_id, "tables": {}})
        files.append(split_file(out.getvalue()))
    (head_one, chunks_one), (_head_two, chunks_two) = files
    mixed = head_one + chunks_one[0] + chunks_two[1] + b"".join(chunks_one[2:])
    reader = ArchiveReader(io.BytesIO(mixed), ring, tenant="shop", backup_id="one")
    with pytest.raises(BackupError, match="chunk 1 fails authentication"):
        list(reader.events())


@pytest.mark.parametrize("step", [s for s in STEPS if s != "cleanup"] + ["load:rows"])
def test_interrupted_restore_leaves_the_old_database_serving(bk, backed_up, mysql_admin_url, step):
    tenant, backup, before = backed_up

    def fault(at):
        if at == step:
            raise RuntimeError(f"injected failure at {at}")

    with pytest.raises((BackupError, RuntimeError), match="injected failure"):
        Copier(bk, store_schema, fault=fault).restore(tenant.slug, backup.id)
    assert_unchanged(bk, tenant, before, mysql_admin_url)


def test_killed_connection_during_restore(bk, backed_up, mysql_admin_url, root_engine):
    tenant, backup, before = backed_up
    stem = tenant.database_name.rsplit("_", 1)[0] + "_"
    killed = []

    def fault(at):
        if at == "load:rows" and not killed:
            with root_engine.connect() as conn:
                ids = conn.scalars(
                    text(
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB LIKE :p "
                        "AND DB <> :old AND ID <> CONNECTION_ID()"
                    ),
                    {"p": stem.replace("_", r"\_") + "%", "old": tenant.database_name},
                ).all()
                for thread_id in ids:
                    conn.execute(text(f"KILL CONNECTION {int(thread_id)}"))
                killed.extend(ids)

    with pytest.raises(BackupError, match="failed"):
        Copier(bk, store_schema, fault=fault).restore(tenant.slug, backup.id)
    assert killed
    assert_unchanged(bk, tenant, before, mysql_admin_url)


@pytest.mark.parametrize("step", ["claim", "database", "schema", "load:rows", "verify", "switch"])
def test_interrupted_move_leaves_the_store_where_it_was(bk, new_store, mysql_admin_url, step):
    tenant = new_store()
    engine = runtime_engine(bk, tenant)
    fill(engine, orders=3)
    before = snapshot_rows(engine)
    engine.dispose()

    def fault(at):
        if at == step:
            raise RuntimeError(f"injected failure at {at}")

    with pytest.raises((BackupError, RuntimeError), match="injected failure"):
        Copier(bk, store_schema, fault=fault).move(tenant.slug, "maria2")
    assert_unchanged(bk, tenant, before, mysql_admin_url)


def test_a_busy_store_is_not_restored(bk, backed_up):
    tenant, backup, _before = backed_up
    with bk.session() as session:
        session.get(Tenant, tenant.id).status = TenantStatus.MIGRATING
        session.commit()
    try:
        with pytest.raises(BackupError, match="is migrating"):
            Copier(bk, store_schema).restore(tenant.slug, backup.id)
    finally:
        with bk.session() as session:
            session.get(Tenant, tenant.id).status = TenantStatus.ACTIVE
            session.commit()


def test_missing_file_is_a_clear_error(bk, backed_up):
    _tenant, backup, _before = backed_up
    with bk.session() as session:
        session.get(Backup, backup.id).path = backup.path + ".gone"
        session.commit()
    with pytest.raises(BackupError, match="missing"):
        verify_backup(bk, backup.id)


def assert_failed_and_gone(bk, slug: str, earlier: Backup, error: str) -> None:
    """The store's one backup after *earlier* is recorded failed with *error*;
    no file is left."""
    with bk.session() as session:
        [newest] = [b for b in list_backups(session, slug) if b.id != earlier.id]
        assert newest.state == BackupState.FAILED and error in newest.error
        path = newest.path
    assert not os.path.exists(path) and not os.path.exists(path[: -len(".bobk")] + ".part")
    with pytest.raises(BackupError, match="is failed"):
        verify_backup(bk, newest.id)


class FullDisk(HashingWriter):
    """A backup file that runs out of space after 1.5 MB."""

    def write(self, data: bytes) -> int:
        if self.size + len(data) > 1_500_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def test_a_failing_write_mid_backup_fails_the_backup(bk, backed_up, monkeypatch):
    """The file is written by the writer thread; its error reaches the caller."""
    tenant, backup, _before = backed_up
    monkeypatch.setattr(service, "HashingWriter", FullDisk)
    progress = []
    with pytest.raises(BackupError, match="No space left on device") as caught:
        backup_store(bk, tenant.slug, on_progress=lambda done, total: progress.append(done))
    assert isinstance(caught.value.__cause__, OSError)
    assert 0 < max(progress) < sum(backup.row_counts.values())  # stopped midway
    assert_failed_and_gone(bk, tenant.slug, backup, "No space left on device")


def test_a_killed_connection_mid_backup_fails_the_backup(bk, backed_up, root_engine):
    """The snapshot's connection dies after the first block: the read error is
    raised (the writer thread is stopped first) and nothing is recorded done."""
    tenant, backup, _before = backed_up
    killed = []

    def kill_after_first_block(done, total):
        if done and not killed:
            with root_engine.connect() as conn:
                ids = conn.scalars(
                    text(
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :db "
                        "AND ID <> CONNECTION_ID()"
                    ),
                    {"db": tenant.database_name},
                ).all()
                for thread_id in ids:
                    conn.execute(text(f"KILL CONNECTION {int(thread_id)}"))
                killed.extend(ids)

    with pytest.raises(OperationalError, match="Lost connection"):
        backup_store(bk, tenant.slug, on_progress=kill_after_first_block)
    assert killed
    assert_failed_and_gone(bk, tenant.slug, backup, "Lost connection")


HEADER_SHAPES = [
    b"[]",
    b'"text"',
    b"42",
    b"null",
    b"true",
    b'{"tenant": "shop"}',
    b'{"tenant": 1, "backup_id": "one", "wrapped_key": "x"}',
    b'{"tenant": "shop", "backup_id": ["one"], "wrapped_key": "x"}',
    b'{"tenant": "shop", "backup_id": "one", "wrapped_key": {"k": 1}}',
    b'{"tenant": "shop", "backup_id": "one", "wrapped_key": "x", "key_id": 7}',
    b"\xff\xfe not json",
]


@pytest.mark.parametrize("header", HEADER_SHAPES)
def test_a_header_of_the_wrong_shape_is_refused_in_one_line(header):
    """The header is read before anything is authenticated: valid JSON of the wrong
    shape is as damaged as no JSON at all (it raised AttributeError/TypeError before)."""
    ring = KeyRing.from_text(generate_key())
    data = MAGIC + struct.pack(">I", len(header)) + header
    with pytest.raises(BackupError, match="backup header is damaged"):
        ArchiveReader(io.BytesIO(data), ring)


def test_a_header_with_a_wrong_key_is_still_a_key_error():
    ring = KeyRing.from_text(generate_key())
    out = io.BytesIO()
    writer = ArchiveWriter(out, ring, "shop", "one", chunk_size=64)
    writer.close({"tenant": "shop", "backup_id": "one", "tables": {}})
    stranger = KeyRing.from_text(generate_key())
    with pytest.raises(BackupError, match="cannot be unwrapped"):
        ArchiveReader(io.BytesIO(out.getvalue()), stranger)
