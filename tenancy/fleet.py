"""Operating several database servers: mark a server, drain it.

``drain`` marks the server ``draining`` (placement skips it from then on) and
moves its stores, one live move at a time, each to the server with the most
headroom. Progress is a ``jobs`` row (kind ``drain``): ``progress`` is
``<done>/<total>``, ``detail`` lists the stores moved, skipped and failed.
One store's failure does not stop the others; running the drain again picks
up whatever is still on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from tenancy.backups.restore import Copier
from tenancy.control import ControlPlane
from tenancy.models import DatabaseServer, Job, ServerStatus, Tenant, TenantStatus
from tenancy.provisioning import StoreSchema

log = logging.getLogger(__name__)

StoreDone = Callable[[Job, str, str | None], None]


def mark(control: ControlPlane, name: str, status: str) -> DatabaseServer:
    status = ServerStatus(status)
    with control.session() as session:
        server = control.server(session, name)
        server.status = status
        session.commit()
        return server


def start_drain(control: ControlPlane, name: str) -> int:
    """Mark *name* draining and record the drain job; returns the job id."""
    with control.session() as session:
        server = control.server(session, name)
        server.status = ServerStatus.DRAINING
        job = Job(kind="drain", state="queued", progress="0/?", detail={"server": name})
        session.add(job)
        session.commit()
        return job.id


def drain(
    control: ControlPlane, schema: StoreSchema, job_id: int, on_store: StoreDone | None = None
) -> Job:
    """Move every store off the job's server; returns the finished job."""
    with control.session() as session:
        job = session.get(Job, job_id)
        server = control.server(session, job.detail["server"])
        stores = list(
            session.scalars(
                select(Tenant.slug).where(Tenant.server_id == server.id).order_by(Tenant.id)
            )
        )
        detail = {**job.detail, "total": len(stores), "moved": [], "skipped": {}, "failed": {}}
        job.state, job.progress, job.detail = "running", f"0/{len(stores)}", detail
        session.commit()
        for number, slug in enumerate(stores, 1):
            error = _move_one(Copier(control, schema), session, slug, server, detail)
            job.progress, job.detail = f"{number}/{len(stores)}", dict(detail)
            session.commit()
            if on_store:
                on_store(job, slug, error)
        job.state = "failed" if detail["failed"] else "done"
        if detail["failed"] or detail["skipped"]:
            job.error = (
                f"{len(detail['failed'])} stores failed, {len(detail['skipped'])} skipped; "
                f"run the drain again once they are active"
            )
        session.commit()
        session.expunge(job)
        return job


def _move_one(copier, session, slug: str, server: DatabaseServer, detail: dict) -> str | None:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    session.commit()  # no transaction held open across a move
    if tenant is None or tenant.server_id != server.id:
        return None  # dropped or moved by someone else meanwhile
    if tenant.status != TenantStatus.ACTIVE:
        detail["skipped"][slug] = f"store is {tenant.status}"
        return detail["skipped"][slug]
    try:
        moved = copier.move(slug)
    except Exception as exc:  # noqa: BLE001 -- one store's failure stops no other
        log.warning("drain of %s: store %s not moved: %s", server.name, slug, exc)
        detail["failed"][slug] = str(exc).splitlines()[0][:300] if str(exc) else repr(exc)
        return detail["failed"][slug]
    detail["moved"].append({"store": slug, "to": moved.server.name})
    return None
