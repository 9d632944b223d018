"""Every store safe every day: back up, verify, copy off-site; many at once; who is late.

``safe_backup`` is what ``tenants backup`` and the nightly task run for one
store: write the backup, read it back end to end (``verify_backup``), and
upload the verified file when off-site storage is configured. ``backup_many``
runs it over many stores with bounded concurrency, a result per store and
no stop on a failure. ``fetch_offsite`` brings a file back for a restore;
``stale_stores`` names the stores whose last good backup is too old.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tenancy.backups.archive import BackupError
from tenancy.backups.offsite import OffsiteStore
from tenancy.backups.service import (
    BACKUP_STATUSES,
    Progress,
    backup_store,
    get_backup,
    verify_backup,
)
from tenancy.control import ControlPlane
from tenancy.models import Backup, BackupState, Tenant, utcnow

log = logging.getLogger(__name__)


@dataclass
class StoreBackupResult:
    slug: str
    ok: bool
    backup_id: str | None = None
    rows: int = 0
    size: int = 0
    offsite_key: str | None = None
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def safe_backup(
    control: ControlPlane,
    slug: str,
    *,
    offsite: OffsiteStore | None = None,
    on_progress: Progress | None = None,
) -> Backup:
    """Back up *slug*, verify the file, then copy it off-site (if configured)."""
    record = backup_store(control, slug, on_progress=on_progress)
    try:
        verify_backup(control, record.id)
    except BackupError as exc:
        _record(control, record.id, state=BackupState.FAILED, error=f"verification: {exc}"[:500])
        raise
    offsite = offsite or OffsiteStore.from_settings(control.settings)
    if offsite is not None:
        key = offsite.key(slug, record.id)
        offsite.upload(record.path, key, record.sha256)
        _record(control, record.id, offsite_key=key)
        record.offsite_key = key
    return record


def _record(control: ControlPlane, backup_id: str, **values) -> None:
    with control.session() as session:
        record = get_backup(session, backup_id)
        for name, value in values.items():
            setattr(record, name, value)
        session.commit()


def backup_many(
    control: ControlPlane,
    slugs: Iterable[str],
    *,
    concurrency: int = 4,
    on_result: Callable[[StoreBackupResult], None] | None = None,
) -> list[StoreBackupResult]:
    """``safe_backup`` of every store, *concurrency* at a time; one failure stops none."""
    slugs = list(slugs)
    offsite = OffsiteStore.from_settings(control.settings)

    def one(slug: str) -> StoreBackupResult:
        started = time.monotonic()
        try:
            record = safe_backup(control, slug, offsite=offsite)
            result = StoreBackupResult(
                slug,
                True,
                record.id,
                sum((record.row_counts or {}).values()),
                record.size,
                record.offsite_key,
            )
        except Exception as exc:  # any store's failure is its own line, not the run's end
            log.warning("backup of store %s failed", slug, exc_info=True)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            result = StoreBackupResult(slug, False, error=reason[:500])
        result.seconds = round(time.monotonic() - started, 3)
        if on_result is not None:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, slugs))


def backup_slugs(control: ControlPlane, *, active_only: bool = False) -> list[str]:
    """Stores to back up: active ones (the nightly run) or also suspended (``--all``)."""
    statuses = {"active"} if active_only else {str(s) for s in BACKUP_STATUSES}
    with control.session() as session:
        return list(
            session.scalars(
                select(Tenant.slug).where(Tenant.status.in_(statuses)).order_by(Tenant.slug)
            )
        )


def fetch_offsite(control: ControlPlane, backup_id: str, *, force: bool = False) -> bool:
    """Download backup *backup_id* to its path if the file is missing (or *force*);
    True if it was downloaded, False if there was nothing to do (or, unforced, no
    off-site copy to get: the restore then says the file is missing)."""
    with control.session() as session:
        record = get_backup(session, backup_id)
        path, key, sha = record.path, record.offsite_key, record.sha256
    if os.path.exists(path) and not force:
        return False
    if not key:
        if not force:
            return False
        raise BackupError(f"backup {backup_id} has no off-site copy")
    offsite = OffsiteStore.from_settings(control.settings)
    if offsite is None:
        raise BackupError("no off-site storage configured (backoffice.offsite_bucket)")
    offsite.download(key, path, sha)
    return True


@dataclass
class Staleness:
    slug: str
    status: str
    last_backup_id: str | None
    last_backup_at: datetime | None
    hours: float  # since the last good backup (or since the store was created)

    def as_dict(self) -> dict:
        return asdict(self)


def stale_stores(
    control: ControlPlane, hours: float = 24.0, *, now: datetime | None = None
) -> list[Staleness]:
    """Active and suspended stores whose newest good backup is older than *hours*
    (a store with none counts from its creation)."""
    now = now or utcnow()
    limit = now - timedelta(hours=hours)
    newest = (
        select(Backup.tenant_id, func.max(Backup.created_at).label("at"))
        .where(Backup.state == BackupState.DONE)
        .group_by(Backup.tenant_id)
        .subquery()
    )
    query = (
        select(Tenant.id, Tenant.slug, Tenant.status, Tenant.created_at, newest.c.at)
        .outerjoin(newest, newest.c.tenant_id == Tenant.id)
        .where(Tenant.status.in_([str(s) for s in BACKUP_STATUSES]))
        .order_by(Tenant.slug)
    )
    late = []
    with control.session() as session:
        for tenant_id, slug, status, created_at, at in session.execute(query):
            since = at or created_at
            if since >= limit:
                continue
            last_id = None
            if at is not None:
                last_id = session.scalar(
                    select(Backup.id)
                    .where(
                        Backup.tenant_id == tenant_id,
                        Backup.state == BackupState.DONE,
                        Backup.created_at == at,
                    )
                    .order_by(Backup.id.desc())
                    .limit(1)
                )
            age = round((now - since).total_seconds() / 3600, 1)
            late.append(Staleness(slug, status, last_id, at, age))
    return late
