"""Operator housekeeping run by Celery beat: backup retention."""

from __future__ import annotations

import logging

from backoffice.tasks.base import plain_task
from tenancy.backups.retention import prune

log = logging.getLogger(__name__)


@plain_task("backups.prune", bind=True)
def prune_backups(task) -> dict:
    """Apply the retention settings to every store's backups (``backups prune``)."""
    result = prune(task.app.registry.control)
    log.info("backups pruned: %d deleted, %d kept", len(result.deleted), len(result.kept))
    return {"deleted": len(result.deleted), "kept": len(result.kept)}
