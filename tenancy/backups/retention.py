"""Retention: keep the last N daily and M weekly backups of every store.

A backup is kept if it is the newest of one of the store's N most recent
days that have a backup, or the newest of one of its M most recent ISO weeks.
Failed backups older than a day are removed too. The same policy applies to
the off-site copies (``offsite.py``): a backup's object is deleted with its
file, and if the object cannot be deleted the backup stays recorded, so the
next prune tries again. ``prune`` is a plain function so Celery beat (or
cron) can call it once a day.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from tenancy.backups.offsite import OffsiteError, OffsiteStore
from tenancy.control import ControlPlane
from tenancy.models import Backup, BackupState, utcnow
from tenancy.settings import as_int

log = logging.getLogger(__name__)

DEFAULT_DAILY = 7
DEFAULT_WEEKLY = 4


@dataclass
class PruneResult:
    kept: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    offsite_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def keep_set(backups: Iterable[Backup], daily: int, weekly: int) -> set[str]:
    """Ids to keep among one store's finished backups."""
    newest = sorted(backups, key=lambda b: (b.created_at, b.id), reverse=True)
    days: dict = {}
    weeks: dict = {}
    for backup in newest:
        days.setdefault(backup.created_at.date(), backup.id)
        weeks.setdefault(backup.created_at.isocalendar()[:2], backup.id)
    return set(list(days.values())[:daily]) | set(list(weeks.values())[:weekly])


def retention_settings(settings) -> tuple[int, int]:
    settings = {
        "backoffice.backup_keep_daily": str(DEFAULT_DAILY),
        "backoffice.backup_keep_weekly": str(DEFAULT_WEEKLY),
        **settings,
    }
    return (
        as_int(settings, "backoffice.backup_keep_daily"),
        as_int(settings, "backoffice.backup_keep_weekly"),
    )


def prune(
    control: ControlPlane,
    *,
    daily: int | None = None,
    weekly: int | None = None,
    dry_run: bool = False,
) -> PruneResult:
    default_daily, default_weekly = retention_settings(control.settings)
    daily = default_daily if daily is None else daily
    weekly = default_weekly if weekly is None else weekly
    result = PruneResult()
    with control.session() as session:
        backups = list(session.scalars(select(Backup).order_by(Backup.tenant_slug)))
        by_store: dict[str, list[Backup]] = {}
        stale = utcnow() - timedelta(days=1)
        for backup in backups:
            if backup.state == BackupState.DONE:
                by_store.setdefault(backup.tenant_slug, []).append(backup)
            elif backup.created_at < stale:
                result.deleted.append(backup.id)
        for store_backups in by_store.values():
            keep = keep_set(store_backups, daily, weekly)
            for backup in store_backups:
                (result.kept if backup.id in keep else result.deleted).append(backup.id)
        if not dry_run:
            offsite = OffsiteStore.from_settings(control.settings)
            for backup in backups:
                if backup.id in result.deleted:
                    _delete(session, backup, offsite, result)
            session.commit()
    return result


def _delete(session, backup: Backup, offsite: OffsiteStore | None, result: PruneResult) -> None:
    for path in (backup.path, backup.path.removesuffix(".bobk") + ".part"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    if backup.offsite_key:
        try:
            if offsite is None:
                raise OffsiteError("no off-site storage configured (backoffice.offsite_bucket)")
            offsite.delete(backup.offsite_key)
        except OffsiteError as exc:  # keep the record: the next prune tries again
            log.warning("backup %s: off-site copy kept: %s", backup.id, exc)
            result.errors.append(f"{backup.id}: {exc}")
            return
        result.offsite_deleted.append(backup.id)
    session.delete(backup)
