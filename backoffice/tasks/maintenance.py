"""Operator housekeeping: backup retention (run by beat), draining a server."""

from __future__ import annotations

import logging

from backoffice.schema import store_schema
from backoffice.tasks.base import plain_task
from tenancy import fleet
from tenancy.backups.retention import prune

log = logging.getLogger(__name__)

DRAIN_TASK = "servers.drain"


@plain_task("backups.prune", bind=True)
def prune_backups(task) -> dict:
    """Apply the retention settings to every store's backups (``backups prune``)."""
    result = prune(task.app.registry.control)
    log.info("backups pruned: %d deleted, %d kept", len(result.deleted), len(result.kept))
    return {"deleted": len(result.deleted), "kept": len(result.kept)}


@plain_task(DRAIN_TASK, bind=True)
def drain_server(task, job_id: int) -> dict:
    """Move every store off a draining server (``backoffice servers drain``)."""
    job = fleet.drain(task.app.registry.control, store_schema, int(job_id))
    return {"state": job.state, "progress": job.progress}
