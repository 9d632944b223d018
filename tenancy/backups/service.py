"""Take a backup of one store, verify one, list them.

The snapshot is read under the server's DDL identity (``ddl_engine``): it can
read every table of the store and is already the identity restores use. A
dedicated backup identity (``SELECT, SHOW VIEW, TRIGGER, LOCK TABLES``) would
be narrower; see docs/operations.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenancy.backups.archive import ArchiveReader, ArchiveWriter, BackupError
from tenancy.backups.dump import Dump, shared_snapshot
from tenancy.backups.files import HashingReader, HashingWriter, backup_path, new_backup_id
from tenancy.backups.load import check_manifest
from tenancy.backups.pipeline import Pipeline
from tenancy.control import ControlPlane, NotFound
from tenancy.models import Backup, BackupState, Tenant, TenantStatus, utcnow

log = logging.getLogger(__name__)

# (rows done, rows in total); total is counted inside the snapshot.
Progress = Callable[[int, int], None]

BACKUP_STATUSES = {TenantStatus.ACTIVE, TenantStatus.SUSPENDED}
_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def manifest_of(dump: Dump, tenant: str, backup_id: str, key_id: str, created_at: str) -> dict:
    return {
        "format": 1,
        "tenant": tenant,
        "backup_id": backup_id,
        "key_id": key_id,
        "created_at": created_at,
        "schema_revision": dump.revision,
        "source_dialect": dump.dialect,
        "table_order": [t.name for t in dump.schema],
        "tables": dump.tables,
    }


def write_backup(
    conn, fh, control: ControlPlane, slug: str, backup_id: str, on_progress: Progress | None = None
) -> dict:
    """Stream one snapshot of *conn* into *fh*; return the manifest."""
    progress = on_progress or (lambda done, total: None)
    created_at = utcnow().isoformat()
    with shared_snapshot(conn) as readers:
        dump = Dump(conn, helpers=readers[1:])
        total = dump.count_rows()
        progress(0, total)
        writer = ArchiveWriter(
            fh,
            control.keyring,
            slug,
            backup_id,
            meta={
                "schema_revision": dump.revision,
                "source_dialect": dump.dialect,
                "created_at": created_at,
            },
        )
        # The server builds the next block while the writer thread compresses,
        # encrypts and writes the last one.
        with Pipeline(writer.write) as pipe:
            for kind, payload in dump.events():
                if kind == "table":
                    pipe.put(json_line(payload))
                else:
                    pipe.put(payload)
                    progress(dump.rows_read, total)
        manifest = manifest_of(dump, slug, backup_id, writer.key_id, created_at)
        writer.close(manifest)
    return manifest


def json_line(header: dict) -> bytes:
    return (_json_encode(header) + "\n").encode("utf-8")


def backup_store(
    control: ControlPlane,
    slug: str,
    *,
    on_progress: Progress | None = None,
    statuses: set[str] = BACKUP_STATUSES,
) -> Backup:
    """Back up store *slug* into the backup directory and record it (*statuses*: the
    restore in place backs up the store it has already claimed, ``restoring``)."""
    with control.session() as session:
        tenant = control.tenant(session, slug)
        if tenant.status not in statuses:
            raise BackupError(
                f"store {slug!r} is {tenant.status}; back up an active or suspended store"
            )
        backup_id = new_backup_id()
        path = backup_path(control.settings, slug, backup_id)
        record = Backup(
            id=backup_id,
            tenant_id=tenant.id,
            tenant_slug=slug,
            path=str(path),
            key_id=control.keyring.current_id,
            source_dialect=tenant.server.kind,
            state=BackupState.RUNNING,
        )
        session.add(record)
        session.commit()
        try:
            _write_file(control, tenant, record, path, on_progress)
        except Exception as exc:
            _fail(session, record, path, exc)
            raise
        session.commit()
        return record


def _write_file(control, tenant: Tenant, record: Backup, path: Path, on_progress) -> None:
    partial = path.with_suffix(".part")
    engine = control.backend(tenant.server).ddl_engine(tenant.database_name)
    out = HashingWriter(partial)
    try:
        with engine.connect() as conn:
            manifest = write_backup(conn, out, control, tenant.slug, record.id, on_progress)
        out.flush()
    finally:
        out.close()
        engine.dispose()
    os.replace(partial, path)
    record.size, record.sha256 = out.size, out.sha256.hexdigest()
    record.schema_revision = manifest["schema_revision"]
    record.source_dialect = manifest["source_dialect"]
    record.row_counts = {name: t["rows"] for name, t in manifest["tables"].items()}
    record.state = BackupState.DONE


def _fail(session: Session, record: Backup, path: Path, exc: Exception) -> None:
    session.rollback()
    with contextlib.suppress(OSError):
        path.with_suffix(".part").unlink(missing_ok=True)
    record.state = BackupState.FAILED
    record.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
    try:
        session.commit()
    except Exception:  # the control DB may be what failed
        log.exception("could not record the failure of backup %s", record.id)


def get_backup(session: Session, backup_id: str) -> Backup:
    record = session.get(Backup, backup_id)
    if record is None:
        raise NotFound(f"no backup with id {backup_id!r}")
    return record


def list_backups(session: Session, slug: str | None = None) -> list[Backup]:
    query = select(Backup).order_by(Backup.created_at.desc(), Backup.id.desc())
    if slug:
        query = query.where(Backup.tenant_slug == slug)
    return list(session.scalars(query))


def stream_stats(events) -> dict[str, dict]:
    """Row counts and SHA-256 per table of a stream of events."""
    counts, digests, name = {}, {}, None
    for kind, payload in events:
        if kind == "table":
            name = payload["table"]
            counts[name], digests[name] = 0, hashlib.sha256()
        elif name is None:
            raise BackupError("backup stream has rows before any table")
        else:
            digests[name].update(payload)
            counts[name] += payload.count(b"\n")
    return {n: {"rows": counts[n], "sha256": digests[n].hexdigest()} for n in counts}


def verify_backup(control: ControlPlane, backup_id: str) -> dict:
    """Decrypt and check a backup end to end without restoring it; return its manifest."""
    with control.session() as session:
        record = get_backup(session, backup_id)
        if record.state != BackupState.DONE:
            raise BackupError(f"backup {backup_id} is {record.state}")
        path, slug, sha = record.path, record.tenant_slug, record.sha256
    manifest = read_and_check(control, path, slug, backup_id)
    if sha and manifest["file_sha256"] != sha:
        raise BackupError(f"backup file {path} differs from the one recorded (SHA-256)")
    return manifest


def read_and_check(control: ControlPlane, path: str, slug: str, backup_id: str) -> dict:
    if not os.path.exists(path):
        raise BackupError(f"backup file {path} is missing")
    with HashingReader(path) as fh:
        reader = ArchiveReader(fh, control.keyring, tenant=slug, backup_id=backup_id)
        stats = stream_stats(reader.events())
        check_manifest(stats, reader.manifest)
        return {**reader.manifest, "file_sha256": fh.sha256.hexdigest()}
