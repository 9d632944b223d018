"""Restore, clone and move: copy a store into a fresh database, then switch.

Every operation follows the same steps::

    claim -> [safety] -> database -> user -> grant -> schema -> load -> verify
          -> upgrade -> switch -> cleanup

The copy goes into a new database with a new MySQL user; the old database
keeps its data until the control-DB row points at the new one (``switch``, one
transaction that also bumps the version counter so every process drops its
cached engine). A failure before the switch drops what was created and puts
the store back to ``active`` on its old database; after the switch, a failed
clean-up only leaves the old database behind (reported, never served).

A restore in place first takes a safety backup of the live database (step
``safety``), so what was written since the chosen backup can be got back.

Each run holds the store's lease (``tenancy.sagas``) from the claim to the
clean-up, and writes the names it is about to create into its job before
creating them; ``Copier.repair`` (``tenants repair``) takes over a run that
died: before the switch it drops the half-built copy and puts the store back
on its old database, after it drops the old database.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tenancy.backups.archive import ArchiveReader, BackupError
from tenancy.backups.changes import ChangeLog
from tenancy.backups.dump import Dump, snapshot
from tenancy.backups.files import HashingReader
from tenancy.backups.load import Loader, check_manifest, check_target
from tenancy.backups.moves import LiveMove
from tenancy.backups.service import backup_store, get_backup
from tenancy.control import ControlPlane
from tenancy.events import announce
from tenancy.models import (
    Backup,
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
from tenancy.sagas import Lease, LeaseLost
from tenancy.servers import MySQLBackend

log = logging.getLogger(__name__)

STEPS = (
    "claim",
    "safety",
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
COPY_KINDS = ("restore", "clone", "move")


class Copier:
    def __init__(self, control: ControlPlane, schema: StoreSchema, fault: Fault | None = None):
        self.control = control
        # The store schema migrates the copy: to the backup's revision, then to head.
        self.schema = schema
        # A test seam: called with each step's name before it runs, with
        # "load:rows" after each batch of rows is inserted, and "safety:rows" as
        # the safety backup goes.
        self.fault = fault or (lambda step: None)
        self.lease = Lease(control)
        # The backup of the live database a restore in place took before replacing it.
        self.safety_backup: Backup | None = None

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
        """Restore *slug* in place, or with *as_slug* into a new store on *server*.

        In place, the live database is first backed up (``self.safety_backup``)."""
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
            try:
                return self._copy_existing(
                    session, tenant, server_name, source_factory, kind, detail, on_rows
                )
            finally:
                self.lease.release()

    def _copy_existing(self, session, tenant, server_name, source_factory, kind, detail, on_rows):
        server = self.control.server(session, server_name) if server_name else tenant.server
        target = self._target(session, tenant.slug, server)
        old = (tenant.server, tenant.database_name, tenant.db_user)
        job = self._job(session, kind, tenant, detail, target, old)
        try:
            if kind == "restore":
                self._safety_backup(session, tenant, job)
            revision = self._build(source_factory, target, job, session, on_rows)
            self._check_step("switch")
            self._switch(tenant, target, revision)
            job.progress = "switch"
            session.commit()  # the lease stays until the old database is gone
        except Exception as exc:
            session.rollback()
            if isinstance(exc, LeaseLost):  # another run drives the store now
                raise
            self._undo(target)
            self._release(session, tenant, job, exc)
            raise self._error(kind, tenant.slug, job, exc) from exc
        self._cleanup(session, tenant, job, *old)
        return tenant

    def _claim(self, session: Session, tenant: Tenant, busy: str) -> None:
        """Only one operation at a time: the conditional UPDATE lets one claimer win,
        and a store whose last operation died must be repaired first."""
        claimed = self.lease.take(
            session,
            tenant,
            Tenant.status == TenantStatus.ACTIVE,
            Tenant.lease_owner.is_(None),
            status=busy,
            version=Tenant.version + 1,
        )
        if not claimed:
            if tenant.lease_owner:
                raise BackupError(
                    f"store {tenant.slug!r} has an interrupted operation (lease of "
                    f"{tenant.lease_owner} expired); run 'backoffice tenants repair "
                    f"{tenant.slug}' first"
                )
            raise BackupError(f"store {tenant.slug!r} is {tenant.status}; this needs active")

    def _safety_backup(self, session: Session, tenant: Tenant, job: Job) -> None:
        """Back up the live database before it is replaced: the store is already
        ``restoring`` (503), so nothing written before the switch escapes it."""
        self._step(session, job, "safety")
        self.safety_backup = backup_store(
            self.control,
            tenant.slug,
            statuses={TenantStatus.RESTORING},
            on_progress=lambda done, total: self._check_step("safety:rows"),
        )
        job.detail = {**job.detail, "safety_backup": self.safety_backup.id}
        session.commit()

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
                .values(
                    status=TenantStatus.ACTIVE,
                    version=Tenant.version + 1,
                    updated_at=utcnow(),
                    lease_owner=None,
                    lease_since=None,
                    lease_expires_at=None,
                )
            )
            announce(session, tenant.id, tenant.slug)
            session.commit()
        except Exception:  # the control DB itself may be gone
            log.exception("could not put store %s back to active", tenant.slug)

    def _fail_job(self, session: Session, job: Job, exc: Exception) -> None:
        job.state, job.error = "failed", _reason(job, exc)
        try:
            session.commit()
        except Exception:  # the control DB itself may be gone
            log.exception("could not record the failure of job %s", job.id)

    def _cleanup(
        self, session: Session, tenant: Tenant, job: Job, server, database: str, user: str
    ) -> None:
        try:
            self._check_step("cleanup")
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
        Lease.clear(tenant)
        session.commit()

    # -- into a new store (restore --as, clone) ------------------------------
    def _into_new(self, new_slug, template, source_factory, kind, detail, on_rows, server_name):
        try:
            return self._copy_new(
                new_slug, template, source_factory, kind, detail, on_rows, server_name
            )
        finally:
            self.lease.release()

    def _copy_new(self, new_slug, template, source_factory, kind, detail, on_rows, server_name):
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
            self.lease.stamp(session, tenant)
            # The row, its lease and the job with the names to be created: one commit.
            job = self._job(session, kind, tenant, {**detail, "new": True}, target, None)
            self.lease.start(tenant.id)
            try:
                revision = self._build(source_factory, target, job, session, on_rows)
                self._check_step("switch")
                self._switch(tenant, target, revision)
                Lease.clear(tenant)
                job.state, job.progress = "done", "switch"
                session.commit()
            except Exception as exc:
                session.rollback()
                if isinstance(exc, LeaseLost):
                    raise
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
    def _job(self, session: Session, kind: str, tenant: Tenant, detail: dict, target, old) -> Job:
        """The run's job, naming what it will create (and drop) before doing it, so a
        repair knows what a dead run left: names only, never a password."""
        detail = {**detail, "target": _place(target.server, target.database, target.user)}
        if old is not None:
            detail["old"] = _place(*old)
        job = Job(kind=kind, tenant_id=tenant.id, tenant_slug=tenant.slug, detail=detail)
        session.add(job)
        session.commit()
        return job

    def _target(self, session: Session, slug: str, server: DatabaseServer) -> Target:
        database = generate_database_name(slug, self.control.settings["backoffice.db_prefix"])
        return Target(server=server, database=database, user=database, password=new_password())

    def _check_step(self, step: str) -> None:
        self.lease.check()
        self.fault(step)

    def _step(self, session: Session, job: Job, step: str) -> None:
        self._check_step(step)
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

    def _undo(self, target: Target, *, strict: bool = False) -> None:
        """Drop what this attempt created; the old database was never touched."""
        try:
            backend = self.control.backend(target.server)
            if "user" in target.created:
                backend.drop_user(target.user)
            if "database" in target.created:
                backend.drop_database(target.database)
        except Exception:
            if strict:  # a repair that cannot drop the copy leaves the store stuck: say so
                raise
            log.warning("clean-up of %s failed", target.database, exc_info=True)

    # -- taking over a run that died -------------------------------------------
    def repair(self, slug: str) -> str:
        """Finish what a dead restore, clone or move left (its lease expired): before
        the switch, drop the half-built copy and serve the old database again (a new
        store is forgotten); after it, drop the old database. Safe to run twice."""
        with self.control.session() as session:
            tenant = self.control.tenant(session, slug)
            busy = Tenant.status.in_([TenantStatus.RESTORING, TenantStatus.MOVING])
            try:
                if not self.lease.take(session, tenant, or_(busy, Tenant.lease_owner.isnot(None))):
                    return f"store {slug} is {tenant.status}; nothing to repair"
                return self._repair(session, tenant)
            finally:
                self.lease.release()

    def _repair(self, session: Session, tenant: Tenant) -> str:
        job = session.scalar(
            select(Job)
            .where(Job.tenant_id == tenant.id, Job.kind.in_(COPY_KINDS), Job.state == "running")
            .order_by(Job.id.desc())
            .limit(1)
        )
        self._fail_interrupted_backups(session, tenant, job)
        if job is None:  # died between the claim and its job: nothing was created
            self._release(session, tenant, Job(), RuntimeError("interrupted"))
            return f"store {tenant.slug} is active again (the interrupted run had created nothing)"
        detail, step = job.detail or {}, job.progress or "claim"
        target = detail["target"]
        # A new store (clone, --as) is active only once switched; an existing one
        # is switched once it names the copy (a live move keeps it active while it
        # copies, so "active" alone says nothing there).
        switched = (
            tenant.status == TenantStatus.ACTIVE
            if detail.get("new")
            else tenant.database_name == target["database"]
        )
        if switched:  # only the old copy is left
            old = detail.get("old")
            if old:
                server = self.control.server(session, old["server"])
                self._cleanup(session, tenant, job, server, old["database"], old["user"])
            return f"store {tenant.slug} is active: the clean-up of its {job.kind} was finished"
        if job.kind == "move" and tenant.server.kind == "mysql":
            self._thaw(tenant)
        self._undo(
            Target(
                server=self.control.server(session, target["server"]),
                database=target["database"],
                user=target["user"],
                password="",
                created=["database", "user"],
            ),
            strict=True,
        )
        reason = BackupError(f"interrupted (the run died); repaired: {target['database']} dropped")
        if detail.get("new"):
            self._forget(session, tenant, job, reason)
            return f"store {tenant.slug} was removed: its {job.kind} died at step {step}"
        self._release(session, tenant, job, reason)
        return (
            f"store {tenant.slug} is active again on its old database: its {job.kind} "
            f"died at step {step}; run it again"
        )

    def _thaw(self, tenant: Tenant) -> None:
        """What a dead live move did to the database it left serving: its user
        unlocked (the write freeze) and its change-log triggers removed."""
        backend = self.control.backend(tenant.server)
        backend.unlock_user(tenant.db_user)
        engine = backend.ddl_engine(tenant.database_name)
        try:
            ChangeLog.remove_left_over(engine)
        finally:
            engine.dispose()

    @staticmethod
    def _fail_interrupted_backups(session: Session, tenant: Tenant, job: Job | None) -> None:
        """A safety backup cut short by the dead run: recorded failed, its part file gone."""
        query = select(Backup).where(
            Backup.tenant_id == tenant.id, Backup.state == BackupState.RUNNING
        )
        if job is not None:
            query = query.where(Backup.created_at >= job.created_at)
        for record in session.scalars(query):
            with contextlib.suppress(OSError):
                os.unlink(os.path.splitext(record.path)[0] + ".part")
            record.state, record.error = BackupState.FAILED, "interrupted (the run died)"
        session.commit()

    @staticmethod
    def _error(kind: str, slug: str, job: Job, exc: Exception) -> BackupError:
        return BackupError(f"{kind} of store {slug!r} failed: {job.error}; nothing was switched")


def _place(server: DatabaseServer, database: str, user: str) -> dict:
    return {"server": server.name, "database": database, "user": user}


def _reason(job: Job, exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else type(exc).__name__
    if not isinstance(exc, BackupError):
        detail = f"{type(exc).__name__}: {detail}"
    return f"at step {job.progress or 'claim'}: {detail}"[:500]
