"""Operator actions on one store: suspend, resume, drop, rotate its password.

Every action that changes how a store is reached bumps the tenant's version
counter, which every process's router and engine registry compare against, so
no cached lookup or engine outlives the change.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenancy.control import ControlPlane
from tenancy.models import DatabaseServer, Job, Tenant, TenantStatus
from tenancy.provisioning import new_password
from tenancy.servers import MySQLBackend

log = logging.getLogger(__name__)


class OperationError(RuntimeError):
    """The action does not apply to the store as it is; the message says why."""


def _require(tenant: Tenant, *allowed: str) -> None:
    if tenant.status not in allowed:
        raise OperationError(
            f"store {tenant.slug!r} is {tenant.status}; this needs {' or '.join(allowed)}"
        )


def suspend(control: ControlPlane, session: Session, slug: str) -> Tenant:
    tenant = control.tenant(session, slug)
    _require(tenant, TenantStatus.ACTIVE)
    tenant.status = TenantStatus.SUSPENDED
    tenant.bump_version()
    session.add(Job(kind="suspend", tenant_id=tenant.id, tenant_slug=slug, state="done"))
    session.commit()
    return tenant


def resume(control: ControlPlane, session: Session, slug: str) -> Tenant:
    tenant = control.tenant(session, slug)
    _require(tenant, TenantStatus.SUSPENDED)
    tenant.status = TenantStatus.ACTIVE
    tenant.bump_version()
    session.add(Job(kind="resume", tenant_id=tenant.id, tenant_slug=slug, state="done"))
    session.commit()
    return tenant


def drop(control: ControlPlane, session: Session, slug: str) -> None:
    """Mark dropped (routers stop at once), drop database and user, forget the store."""
    tenant = control.tenant(session, slug)
    if tenant.status in {TenantStatus.RESTORING, TenantStatus.MOVING, TenantStatus.MIGRATING}:
        raise OperationError(f"store {slug!r} is {tenant.status}; wait for it to finish")
    tenant.status = TenantStatus.DROPPED
    tenant.bump_version()
    job = Job(
        kind="drop",
        tenant_id=tenant.id,
        tenant_slug=slug,
        detail={"database": tenant.database_name, "server": tenant.server.name},
    )
    session.add(job)
    session.commit()
    backend = control.backend(tenant.server)
    backend.drop_user(tenant.db_user)
    backend.drop_database(tenant.database_name)
    if isinstance(backend, MySQLBackend):
        backend.kill_sessions(tenant.db_user)
    job.state, job.tenant_id = "done", None
    session.delete(tenant)
    session.commit()


def rotate_password(control: ControlPlane, session: Session, slug: str) -> Tenant:
    """A new MySQL password; the old one stops working and open sessions end."""
    tenant = control.tenant(session, slug)
    _require(tenant, TenantStatus.ACTIVE, TenantStatus.SUSPENDED)
    backend = control.backend(tenant.server)
    old, new = control.password(tenant), new_password()
    backend.set_password(tenant.db_user, new)
    try:
        tenant.db_password_encrypted = control.keyring.encrypt_text(
            new, context=tenant.password_context
        )
        tenant.bump_version()
        session.add(
            Job(kind="rotate-password", tenant_id=tenant.id, tenant_slug=slug, state="done")
        )
        session.commit()
    except Exception:
        session.rollback()
        backend.set_password(tenant.db_user, old)  # keep server and control DB agreeing
        raise
    if isinstance(backend, MySQLBackend):
        backend.kill_sessions(tenant.db_user)
    return tenant


def rotate_keys(control: ControlPlane, session: Session) -> dict[str, int]:
    """Re-encrypt every control-DB secret under the newest key."""
    ring = control.keyring
    counts = {"servers": 0, "tenants": 0}
    for server in session.scalars(select(DatabaseServer)):
        if ring.needs_rotation(server.admin_url_encrypted):
            server.admin_url_encrypted = ring.rotate(
                server.admin_url_encrypted, context=server.secret_context
            )
            counts["servers"] += 1
    for tenant in session.scalars(select(Tenant)):
        if tenant.db_password_encrypted != "-" and ring.needs_rotation(
            tenant.db_password_encrypted
        ):
            tenant.db_password_encrypted = ring.rotate(
                tenant.db_password_encrypted, context=tenant.password_context
            )
            counts["tenants"] += 1
    session.commit()
    return counts
