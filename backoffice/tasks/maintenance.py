"""Operator housekeeping: nightly backups and their retention (run by beat), draining a server."""

from __future__ import annotations

import logging

from sqlalchemy import select

from backoffice.schema import store_schema
from backoffice.tasks.base import StoreContext, plain_task, store_task
from tenancy import fleet
from tenancy.backups.retention import prune
from tenancy.backups.safekeeping import safe_backup
from tenancy.models import Tenant, TenantStatus

log = logging.getLogger(__name__)

DRAIN_TASK = "servers.drain"


@plain_task("backups.prune", bind=True)
def prune_backups(task) -> dict:
    """Apply the retention settings to every store's backups (``backups prune``)."""
    result = prune(task.app.registry.control)
    log.info("backups pruned: %d deleted, %d kept", len(result.deleted), len(result.kept))
    return {"deleted": len(result.deleted), "kept": len(result.kept)}


@plain_task("backups.all", bind=True)
def back_up_every_store(task) -> dict:
    """The nightly run: one ``backups.store`` task per active store, so one store's
    failure or slowness is its own and workers share the work."""
    with task.app.registry.control.session() as session:
        ids = session.scalars(
            select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.id)
        ).all()
    for tenant_id in ids:
        task.app.tasks["backups.store"].delay(tenant_id)
    log.info("nightly backups queued for %d stores", len(ids))
    return {"queued": len(ids)}


@store_task("backups.store", bind=True)
def back_up_store(task, store: StoreContext) -> dict:
    """Back up, verify and copy off-site one store (``tenants backup SLUG``)."""
    record = safe_backup(task.app.registry.control, store.tenant.slug)
    log.info("store %s backed up: %s", store.tenant.slug, record.id)
    return {"backup": record.id, "rows": sum((record.row_counts or {}).values())}


@plain_task(DRAIN_TASK, bind=True)
def drain_server(task, job_id: int) -> dict:
    """Move every store off a draining server (``backoffice servers drain``)."""
    job = fleet.drain(task.app.registry.control, store_schema, int(job_id))
    return {"state": job.state, "progress": job.progress}
