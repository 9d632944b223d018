"""Provisioning a store as a saga of idempotent, recorded steps.

control row -> database -> user -> grant -> schema -> owner -> active

Each finished step is written to ``tenants.provisioning_step`` before the next
starts. When a step fails, the saga compensates: it drops the user and the
database it may have created and leaves the store ``failed`` with the error,
so nothing orphaned survives and ``create --resume`` starts afresh. If even the
clean-up fails (the server went away), the store stays ``failed`` with its
last finished step, and ``--resume`` carries on from there.

A run holds a lease on the control row (``tenancy.sagas``). A run that died
(killed, machine lost) leaves the store ``provisioning`` with a lease that
expires: ``--resume`` or ``tenants repair`` take it over. A resumed run
repeats every server step from the database on (each is idempotent), so what
a half-done compensation left (a database without its user) is made whole.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.models import DatabaseServer, Job, Tenant, TenantStatus
from tenancy.names import generate_database_name, validate_slug
from tenancy.placement import place
from tenancy.sagas import Lease, LeaseLost, end_dead_jobs, last_job

log = logging.getLogger(__name__)

STEPS = ("control_row", "database", "user", "grant", "schema", "owner", "active")


class StoreSchema(Protocol):
    """What a store's schema offers the control plane (implemented in backoffice).

    It owns the tables and the Alembic scripts that migrate them: tenancy runs
    a store's migrations through it and never names the scripts itself.
    """

    def create(self, connection: Connection, *, fresh: bool) -> str:
        """Create every table and stamp the migration head; return the revision."""

    def head(self) -> str:
        """The newest revision of the store's scripts."""

    def upgrade(self, connection: Connection, target: str = "head") -> str | None:
        """Migrate the store on *connection* to *target*; return the revision reached."""

    def create_owner(self, connection: Connection, email: str, password: str) -> None:
        """Add the owner account unless that e-mail already has one."""

    def owner_problem(self, email: str, password: str) -> str | None:
        """Why this owner account could not be created (a weak password...), or None."""


class ProvisioningError(RuntimeError):
    """A create failed; the message says at which step and what was cleaned up."""


class StoreExists(ProvisioningError):
    """The slug is taken (possibly by a concurrent create)."""


@dataclass
class StoreRequest:
    slug: str
    name: str
    server: str | None = None
    owner_email: str | None = None
    owner_password: str | None = None
    locale: str = "en"


def new_password() -> str:
    return secrets.token_urlsafe(32)  # 32 random bytes


class Provisioner:
    def __init__(
        self, control: ControlPlane, schema: StoreSchema, fault: Callable[[str], None] | None = None
    ):
        self.control = control
        self.schema = schema
        # A test seam: called with each step's name before it runs.
        self.fault = fault or (lambda step: None)

    def create(self, request: StoreRequest, *, resume: bool = False) -> Tenant:
        with self.control.session() as session:
            server = self._preflight(session, request)
            lease = Lease(self.control)
            try:
                if resume:
                    tenant, password, job = self._claim(session, request, lease, server)
                else:
                    tenant, password, job = self._insert(session, request, lease, server)
                resumed = tenant.provisioning_step != "control_row" or resume
                return self._drive(session, tenant, password, request, job, lease, resumed)
            finally:
                lease.release()

    def repair(self, slug: str) -> str:
        """Take over a create whose run died (lease expired) or failed, and finish it.

        The owner account comes from the create's job (its password encrypted,
        erased once the store is active). Says what it did; safe to run twice.
        """
        with self.control.session() as session:
            tenant = self.control.tenant(session, slug)
            lease = Lease(self.control)
            try:
                busy = Tenant.status.in_([TenantStatus.PROVISIONING, TenantStatus.FAILED])
                if not lease.take(session, tenant, busy, status=TenantStatus.PROVISIONING):
                    return f"store {slug} is {tenant.status}; nothing to repair"
                request = self._stored_request(session, tenant)
                password = self.control.password(tenant)
                job = self._job(session, tenant, request)
                session.commit()
                self._drive(session, tenant, password, request, job, lease, True)
            finally:
                lease.release()
        return f"store {slug} is active: its create was resumed"

    def _drive(self, session, tenant, password, request, job, lease, resumed) -> Tenant:
        try:
            self._run_steps(session, tenant, password, request, job, lease, resumed)
        except Exception as exc:
            session.rollback()
            if isinstance(exc, LeaseLost):  # another run drives the store now
                raise
            self._fail(session, tenant, job, exc)
            raise
        return tenant

    def _preflight(self, session: Session, request: StoreRequest) -> DatabaseServer:
        """Refuse a request that cannot succeed before anything is written: no
        control row, database or user is made for a weak owner password, an
        unknown server or keys that cannot read the server's admin URL."""
        validate_slug(request.slug)
        if not request.name or not request.name.strip():
            raise ProvisioningError("a store name is required")
        if bool(request.owner_email) != bool(request.owner_password):
            raise ProvisioningError("an owner e-mail and an owner password go together")
        if request.owner_email:
            problem = self.schema.owner_problem(request.owner_email, request.owner_password)
            if problem:
                raise ProvisioningError(f"owner account: {problem}")
        # The server the store goes to (placement: tenancy.placement); a named
        # server that is draining or full is refused. Decrypting its admin URL
        # makes wrong keys fail here, one line, nothing made.
        server = place(self.control, session, request.server)
        self.control.backend(server)
        return server

    def database_name(self, request: StoreRequest) -> str:
        """A fresh name for the store's database and its user (tests pick their own)."""
        return generate_database_name(request.slug, self.control.settings["backoffice.db_prefix"])

    # -- the control row -------------------------------------------------
    def _job(self, session: Session, tenant: Tenant, request: StoreRequest) -> Job:
        """The run's job; it keeps the owner account until the store is active, so a
        repair can finish a create whose process died."""
        end_dead_jobs(session, tenant, "taken over by a resumed create")
        job = Job(kind="provision", tenant_id=tenant.id, tenant_slug=tenant.slug)
        session.add(job)
        session.flush()
        secret = None
        if request.owner_password:
            secret = self.control.keyring.encrypt_text(
                request.owner_password, context=f"job:{job.id}:owner_password"
            )
        job.detail = {
            "name": request.name,
            "locale": request.locale,
            "owner_email": request.owner_email,
            "owner_password": secret,
        }
        return job

    def _stored_request(self, session: Session, tenant: Tenant) -> StoreRequest:
        request = StoreRequest(slug=tenant.slug, name=tenant.name, locale=tenant.default_locale)
        job = last_job(session, tenant)
        detail = (job.detail or {}) if job is not None and job.kind == "provision" else {}
        if detail.get("owner_email") and detail.get("owner_password"):
            request.owner_email = detail["owner_email"]
            request.owner_password = self.control.keyring.decrypt_text(
                detail["owner_password"], context=f"job:{job.id}:owner_password"
            )
        return request

    def _insert(
        self, session: Session, request: StoreRequest, lease: Lease, server: DatabaseServer
    ) -> tuple[Tenant, str, Job]:
        existing = session.scalar(select(Tenant).where(Tenant.slug == request.slug))
        if existing is not None:
            raise self._exists(existing)
        database = self.database_name(request)
        tenant = Tenant(
            slug=request.slug,
            name=request.name.strip(),
            server=server,
            database_name=database,
            db_user=database,
            db_password_encrypted="-",
            status=TenantStatus.PROVISIONING,
            default_locale=request.locale,
        )
        password = new_password()
        try:
            self.fault("control_row")
            session.add(tenant)
            session.flush()
            tenant.db_password_encrypted = self.control.keyring.encrypt_text(
                password, context=tenant.password_context
            )
            tenant.provisioning_step = "control_row"
            lease.stamp(session, tenant)
            job = self._job(session, tenant, request)
            session.commit()
        except IntegrityError:
            session.rollback()
            raise StoreExists(
                f"store {request.slug!r} already exists (another create won the race)"
            ) from None
        lease.start(tenant.id)
        return tenant, password, job

    def _claim(
        self, session: Session, request: StoreRequest, lease: Lease, server: DatabaseServer
    ) -> tuple[Tenant, str, Job]:
        """Take over a failed create, or one whose run died (its lease expired); the
        conditional UPDATE lets one resumer win, and a live run is never taken over."""
        tenant = session.scalar(select(Tenant).where(Tenant.slug == request.slug))
        if tenant is None:
            return self._insert(session, request, lease, server)
        resumable = Tenant.status.in_([TenantStatus.FAILED, TenantStatus.PROVISIONING])
        if not lease.take(session, tenant, resumable, status=TenantStatus.PROVISIONING):
            raise self._exists(tenant)
        job = self._job(session, tenant, request)
        session.commit()
        return tenant, self.control.password(tenant), job

    @staticmethod
    def _exists(tenant: Tenant) -> StoreExists:
        if tenant.status == TenantStatus.FAILED:
            return StoreExists(
                f"store {tenant.slug!r} exists and its creation failed "
                f"({tenant.error}); retry with --resume or drop it"
            )
        if tenant.status == TenantStatus.PROVISIONING:
            return StoreExists(
                f"store {tenant.slug!r} exists and its creation was interrupted "
                "(status provisioning); retry with --resume, or 'tenants repair'"
            )
        return StoreExists(f"store {tenant.slug!r} already exists (status {tenant.status})")

    # -- the steps -------------------------------------------------------
    def _run_steps(self, session, tenant, password, request, job, lease, resumed) -> None:
        backend = self.control.backend(tenant.server)
        actions = {
            "database": lambda: backend.create_database(tenant.database_name),
            "user": lambda: backend.create_user(tenant.db_user, password),
            "grant": lambda: backend.grant(tenant.db_user, tenant.database_name),
            "schema": lambda: self._schema(tenant, resumed=resumed),
            "owner": lambda: self._owner(tenant, password, request),
            "active": lambda: self._activate(tenant, job),
        }
        # A resumed run repeats every server step: each is idempotent, and a step
        # recorded as done may have been undone since (a compensation cut short).
        for step in STEPS[1:]:
            lease.check()
            self.fault(step)
            actions[step]()
            tenant.provisioning_step = step
            job.progress = step
            session.commit()

    def _schema(self, tenant: Tenant, *, resumed: bool) -> None:
        engine = self.control.backend(tenant.server).ddl_engine(tenant.database_name)
        try:
            with engine.begin() as conn:
                if resumed and MigrationContext.configure(conn).get_current_revision():
                    tenant.schema_revision = self.schema.upgrade(conn, "head")
                else:  # a killed run may have left some tables: a resumed one checks each
                    tenant.schema_revision = self.schema.create(conn, fresh=not resumed)
        finally:
            engine.dispose()

    def _owner(self, tenant: Tenant, password: str, request: StoreRequest) -> None:
        if not request.owner_email:
            return
        if not request.owner_password:
            raise ProvisioningError("an owner e-mail needs an owner password")
        # Runs as the store's own user: proves the grant works before going live.
        url = self.control.backend(tenant.server).runtime_url(
            tenant.database_name, tenant.db_user, password
        )
        engine = make_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                self.schema.create_owner(conn, request.owner_email, request.owner_password)
        finally:
            engine.dispose()

    @staticmethod
    def _activate(tenant: Tenant, job: Job) -> None:
        tenant.status = TenantStatus.ACTIVE
        tenant.error = None
        tenant.bump_version()
        Lease.clear(tenant)
        # The owner's password has served; it does not stay in the control DB.
        job.state, job.detail = "done", {**(job.detail or {}), "owner_password": None}

    # -- compensation ----------------------------------------------------
    def _fail(self, session: Session, tenant: Tenant, job: Job, exc: Exception) -> None:
        step = tenant.provisioning_step or "control_row"
        # Steps run in order, so the one that failed is the one after the last finished.
        failing = STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        cleaned = self._compensate(tenant)
        tenant.status = TenantStatus.FAILED
        Lease.clear(tenant)
        tenant.error = f"failed at step {failing} (after {step}): {reason}"
        if cleaned:
            tenant.provisioning_step = "control_row"
        else:
            tenant.error += " (clean-up incomplete; --resume continues)"
        job.state, job.error = "failed", tenant.error
        try:
            session.commit()
        except Exception:  # the control DB itself may be gone; nothing else to do
            log.exception("could not record the failure of store %s", tenant.slug)

    def _compensate(self, tenant: Tenant) -> bool:
        try:
            backend = self.control.backend(tenant.server)
            backend.drop_user(tenant.db_user)
            backend.drop_database(tenant.database_name)
            return True
        except Exception:
            log.warning("clean-up of store %s failed", tenant.slug, exc_info=True)
            return False
