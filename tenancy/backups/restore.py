"""Restore, clone and move: copy a store into a fresh database, then switch.

Every operation follows the same steps::

    claim -> database -> user -> grant -> schema -> load -> verify -> upgrade
          -> switch -> cleanup

The copy goes into a new database with a new MySQL user; the old database
keeps its data until the control-DB row points at the new one (``switch``, one
transaction that also bumps the version counter so every process drops its
cached engine). A failure before the switch drops what was created and puts
the store back to ``active`` on its old database; after the switch, a failed
clean-up only leaves the old database behind (reported, never served).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tenancy.backups.archive import ArchiveReader, BackupError
from tenancy.backups.dump import Dump, snapshot
from tenancy.backups.files import HashingReader
from tenancy.backups.load import Loader, check_manifest, check_target
from tenancy.backups.moves import LiveMove
from tenancy.backups.service import get_backup
from tenancy.control import ControlPlane
from tenancy.models import (
    BackupState,
    DatabaseServer,
    Job,
    Tenant,
    TenantStatus,
    utcnow,
)
from tenancy.names import generate_database_name, validate_slug
from tenancy.placement import place
from tenancy.provisioning import StoreSchema, new_password
from tenancy.servers import MySQLBackend

log = logging.getLogger(__name__)

STEPS = (
    "claim",
    "database",
    "user",
    "grant",
    "schema",
    "load",
    "verify",
    "upgrade",
    "switch",
    "cleanup",
)


class Source:
    """Where the rows come from: ``revision``, then ``events()``, then ``manifest``."""

    revision: str | None
    manifest: dict

    def events(self) -> Iterator[tuple[str, object]]: ...
    def close(self) -> None: ...


class BackupSource(Source):
    def __init__(self, control: ControlPlane, path: str, slug: str, backup_id: str):
        self.fh = HashingReader(path)
        try:
            self.reader = ArchiveReader(self.fh, control.keyring, tenant=slug, backup_id=backup_id)
        except Exception:
            self.fh.close()
            raise
        self.revision = self.reader.header.get("schema_revision")

    def events(self):
        yield from self.reader.events()
        self.manifest = self.reader.manifest
        if self.manifest.get("schema_revision") != self.revision:
            raise BackupError("backup header and manifest disagree on the schema revision")

    def close(self):
        self.fh.close()


class LiveSource(Source):
    """A consistent snapshot of a live store (clone and move)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.conn = engine.connect()
        self._snapshot = snapshot(self.conn)
        self._snapshot.__enter__()
        self.dump = Dump(self.conn)
        self.revision = self.dump.revision

    def events(self):
        yield from self.dump.events()
        self.manifest = {"tables": self.dump.tables}

    def close(self):
        with contextlib.suppress(Exception):
            self._snapshot.__exit__(None, None, None)
        self.conn.close()
        self.engine.dispose()


@dataclass
class Target:
    """The new home being built: server, names, password."""

    server: DatabaseServer
    database: str
    user: str
    password: str
    created: list[str] = field(default_factory=list)


Fault = Callable[[str], None]
RowProgress = Callable[[int], None]


class Copier:
    def __init__(self, control: ControlPlane, schema: StoreSchema, fault: Fault | None = None):
        self.control = control
        # The store schema migrates the copy: to the backup's revision, then to head.
        self.schema = schema
        # A test seam: called with each step's name before it runs, and with
        # "load:rows" after each batch of rows is inserted.
        self.fault = fault or (lambda step: None)

    # -- the three operations ----------------------------------------------
    def restore(
        self,
        slug: str,
        backup_id: str,
        *,
        as_slug: str | None = None,
        server: str | None = None,
        on_rows: RowProgress | None = None,
    ) -> Tenant:
        """Restore *slug* in place, or with *as_slug* into a new store on *server*."""
        with self.control.session() as session:
            record = get_backup(session, backup_id)
            if record.state != BackupState.DONE:
                raise BackupError(f"backup {backup_id} is {record.state}")
            if record.tenant_slug != slug:
                raise BackupError(
                    f"backup {backup_id} belongs to store {record.tenant_slug!r}, not {slug!r}"
                )
            path = record.path

        def source():
            return BackupSource(self.control, path, slug, backup_id)

        # A missing, foreign or undecryptable file is refused before anything changes.
        if not os.path.exists(path):
            raise BackupError(f"backup file {path} is missing")
        source().close()

        if as_slug:
            return self._into_new(
                as_slug,
                None,
                source,
                "restore",
                {"backup": backup_id, "from": slug},
                on_rows,
                server,
            )
        if server:
            raise BackupError("--server goes with --as; use 'tenants move' to change server")
        return self._into_existing(
            slug, None, source, TenantStatus.RESTORING, "restore", {"backup": backup_id}, on_rows
        )

    def clone(self, slug: str, new_slug: str, *, on_rows: RowProgress | None = None) -> Tenant:
        with self.control.session() as session:
            tenant = self.control.tenant(session, slug)
            if tenant.status not in {TenantStatus.ACTIVE, TenantStatus.SUSPENDED}:
                raise BackupError(f"store {slug!r} is {tenant.status}; clone an active store")
            engine = self.control.backend(tenant.server).ddl_engine(tenant.database_name)
        return self._into_new(
            new_slug, tenant, lambda: LiveSource(engine), "clone", {"from": slug}, on_rows, None
        )

    def move(
        self,
        slug: str,
        server_name: str | None = None,
        *,
        on_rows: RowProgress | None = None,
        offline: bool = False,
    ) -> Tenant:
        """Move *slug* to *server_name* (default: the server with most headroom).

        A store on MySQL/MariaDB keeps serving while it is copied and is frozen
        only for the last changes and the switch (``tenancy.backups.moves``);
        elsewhere (SQLite), or *offline*, it is ``moving`` for the whole copy.
        """
        with self.control.session() as session:
            tenant = self.control.tenant(session, slug)
            if server_name and self.control.server(session, server_name).id == tenant.server_id:
                raise BackupError(f"store {slug!r} is already on server {server_name!r}")
            server = place(
                self.control,
                session,
                server_name,
                exclude=[tenant.server_id],
                kind=tenant.server.kind,
            )
            if tenant.server.kind == "mysql" and not offline:
                return LiveMove(self, session, tenant, server, LiveSource).run(on_rows)
            engine = self.control.backend(tenant.server).ddl_engine(tenant.database_name)
            detail = {"from": tenant.server.name, "to": server.name}
        return self._into_existing(
            slug,
            server.name,
            lambda: LiveSource(engine),
            TenantStatus.MOVING,
            "move",
            detail,
            on_rows,
        )

    # -- into the same store (restore, move) --------------------------------
    def _into_existing(self, slug, server_name, source_factory, busy, kind, detail, on_rows):
        with self.control.session() as session:
            tenant = self.control.tenant(session, slug)
            self.fault("claim")
            self._claim(session, tenant, busy)
            job = self._job(session, kind, tenant, detail)
            server = self.control.server(session, server_name) if server_name else tenant.server
            target = self._target(session, tenant.slug, server)
            old = (tenant.server, tenant.database_name, tenant.db_user)
            try:
                revision = self._build(source_factory, target, job, session, on_rows)
                self.fault("switch")
                self._switch(tenant, target, revision)
                job.progress = "switch"
                session.commit()
            except Exception as exc:
                session.rollback()
                self._undo(target)
                self._release(session, tenant, job, exc)
                raise self._error(kind, slug, job, exc) from exc
            self._cleanup(session, job, *old)
            return tenant

    def _claim(self, session: Session, tenant: Tenant, busy: str) -> None:
        """Only one operation at a time: the conditional UPDATE lets one claimer win."""
        claimed = session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id, Tenant.status == TenantStatus.ACTIVE)
            .values(status=busy, version=Tenant.version + 1, updated_at=utcnow())
        ).rowcount
        session.commit()
        if not claimed:
            session.refresh(tenant)
            raise BackupError(f"store {tenant.slug!r} is {tenant.status}; this needs active")
        session.refresh(tenant)

    def _switch(self, tenant: Tenant, target: Target, revision: str | None) -> None:
        tenant.server = target.server
        tenant.database_name, tenant.db_user = target.database, target.user
        tenant.db_password_encrypted = self.control.keyring.encrypt_text(
            target.password, context=tenant.password_context
        )
        tenant.schema_revision = revision
        tenant.status, tenant.error = TenantStatus.ACTIVE, None
        tenant.bump_version()

    def _release(self, session: Session, tenant: Tenant, job: Job, exc: Exception) -> None:
        """Back to active on the old database, which never stopped holding the data."""
        job.state, job.error = "failed", _reason(job, exc)
        try:
            session.execute(
                update(Tenant)
                .where(Tenant.id == tenant.id)
                .values(status=TenantStatus.ACTIVE, version=Tenant.version + 1, updated_at=utcnow())
            )
            session.commit()
        except Exception:  # the control DB itself may be gone
            log.exception("could not put store %s back to active", tenant.slug)

    def _fail_job(self, session: Session, job: Job, exc: Exception) -> None:
        job.state, job.error = "failed", _reason(job, exc)
        try:
            session.commit()
        except Exception:  # the control DB itself may be gone
            log.exception("could not record the failure of job %s", job.id)

    def _cleanup(self, session: Session, job: Job, server, database: str, user: str) -> None:
        try:
            self.fault("cleanup")
            backend = self.control.backend(server)
            backend.drop_user(user)
            backend.drop_database(database)
            if isinstance(backend, MySQLBackend):
                backend.kill_sessions(user)
            job.state, job.progress = "done", "cleanup"
        except Exception as exc:
            log.warning("old database %s was left behind", database, exc_info=True)
            job.state = "done"
            job.error = (
                f"old database {database} on {server.name} left behind "
                f"({type(exc).__name__}: {exc}); drop it by hand"
            )[:1000]
        session.commit()

    # -- into a new store (restore --as, clone) ------------------------------
    def _into_new(self, new_slug, template, source_factory, kind, detail, on_rows, server_name):
        validate_slug(new_slug)
        with self.control.session() as session:
            if session.scalar(select(Tenant.id).where(Tenant.slug == new_slug)):
                raise BackupError(f"store {new_slug!r} already exists")
            self.fault("claim")
            server = (
                place(self.control, session, server_name)
                if server_name or not template
                else template.server
            )
            target = self._target(session, new_slug, server)
            tenant = Tenant(
                slug=new_slug,
                name=template.name if template else new_slug,
                server=server,
                database_name=target.database,
                db_user=target.user,
                db_password_encrypted="-",
                status=TenantStatus.RESTORING,
                default_locale=template.default_locale if template else "en",
            )
            session.add(tenant)
            session.flush()
            tenant.db_password_encrypted = self.control.keyring.encrypt_text(
                target.password, context=tenant.password_context
            )
            job = self._job(session, kind, tenant, detail)
            try:
                revision = self._build(source_factory, target, job, session, on_rows)
                self.fault("switch")
                self._switch(tenant, target, revision)
                job.state, job.progress = "done", "switch"
                session.commit()
            except Exception as exc:
                session.rollback()
                self._undo(target)
                self._forget(session, tenant, job, exc)
                raise self._error(kind, new_slug, job, exc) from exc
            return tenant

    def _forget(self, session: Session, tenant: Tenant, job: Job, exc: Exception) -> None:
        """A new store that failed leaves nothing behind, not even its slug."""
        job.state, job.error, job.tenant_id = "failed", _reason(job, exc), None
        try:
            session.delete(tenant)
            session.commit()
        except Exception:
            log.exception("could not remove the failed store %s", tenant.slug)

    # -- the shared middle ---------------------------------------------------
    def _job(self, session: Session, kind: str, tenant: Tenant, detail: dict) -> Job:
        job = Job(kind=kind, tenant_id=tenant.id, tenant_slug=tenant.slug, detail=detail)
        session.add(job)
        session.commit()
        return job

    def _target(self, session: Session, slug: str, server: DatabaseServer) -> Target:
        database = generate_database_name(slug, self.control.settings["backoffice.db_prefix"])
        return Target(server=server, database=database, user=database, password=new_password())

    def _step(self, session: Session, job: Job, step: str) -> None:
        self.fault(step)
        job.progress = step
        session.commit()

    def _build(
        self,
        source_factory,
        target: Target,
        job: Job,
        session: Session,
        on_rows: RowProgress | None,
        *,
        upgrade: bool = True,
    ) -> str | None:
        """Every step up to (not including) the switch; returns the schema revision
        (the source's when *upgrade* is false, else the newest)."""
        backend = self.control.backend(target.server)
        self._step(session, job, "database")
        target.created.append("database")
        backend.create_database(target.database)
        self._step(session, job, "user")
        target.created.append("user")
        backend.create_user(target.user, target.password)
        self._step(session, job, "grant")
        backend.grant(target.user, target.database)
        source = source_factory()
        engine = backend.ddl_engine(target.database)
        try:
            return self._fill(source, engine, job, session, on_rows, upgrade)
        finally:
            source.close()
            engine.dispose()

    def _fill(self, source: Source, engine: Engine, job, session, on_rows, upgrade) -> str | None:
        if not source.revision:
            raise BackupError("the source has no schema revision (never migrated?)")
        self._step(session, job, "schema")
        with engine.begin() as conn:
            self.schema.upgrade(conn, source.revision)
        self._step(session, job, "load")
        with engine.connect() as conn:
            loader = Loader(conn, on_rows=self._progress(on_rows))
            loader.load(source.events())
            check_manifest(loader.stream, source.manifest)
            self._step(session, job, "verify")
            check_target(conn, loader.expected)
            conn.rollback()
        if not upgrade:
            return source.revision
        self._step(session, job, "upgrade")
        if source.revision != self.schema.head():
            with engine.begin() as conn:
                return self.schema.upgrade(conn, "head")
        return source.revision

    def _progress(self, on_rows: RowProgress | None) -> RowProgress:
        def progress(n: int) -> None:
            if on_rows:
                on_rows(n)
            self.fault("load:rows")

        return progress

    def _undo(self, target: Target) -> None:
        """Drop what this attempt created; the old database was never touched."""
        try:
            backend = self.control.backend(target.server)
            if "user" in target.created:
                backend.drop_user(target.user)
            if "database" in target.created:
                backend.drop_database(target.database)
        except Exception:
            log.warning("clean-up of %s failed", target.database, exc_info=True)

    @staticmethod
    def _error(kind: str, slug: str, job: Job, exc: Exception) -> BackupError:
        return BackupError(f"{kind} of store {slug!r} failed: {job.error}; nothing was switched")


def _reason(job: Job, exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else type(exc).__name__
    if not isinstance(exc, BackupError):
        detail = f"{type(exc).__name__}: {detail}"
    return f"at step {job.progress or 'claim'}: {detail}"[:500]
