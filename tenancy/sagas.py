"""What the sagas on one store share: a lease on its control row, step hooks,
and the list of stores whose saga died.

Provisioning (``tenancy.provisioning``) and restore, clone and move
(``tenancy.backups.restore``) are sagas: ordered steps, each idempotent, each
recorded in the control DB before the next begins (``tenants.provisioning_step``
or the job's ``progress``). A process that dies between two steps (SIGKILL, a
lost machine) leaves the store in a busy status; the lease says whether anyone
still drives it:

* **take**: one conditional UPDATE sets ``lease_owner`` (host, pid, a random
  tag), ``lease_since`` and ``lease_expires_at`` where the lease is free (none,
  or expired) and the store is in the status the saga starts from; of two
  operators, one wins.
* **heartbeat**: while the saga runs, a thread extends ``lease_expires_at``
  every ``lease_seconds / 3`` (setting ``backoffice.lease_seconds``, default 30).
* **release**: the saga's last transaction clears the lease with its final
  status; ``release()`` is the fallback.

A fresh lease refuses any other run (``LeaseHeld`` names the holder and since
when); an expired one may be taken over by ``tenants create --resume`` or
``tenants repair``. Times are the control database's own clock, so operators'
machines need not agree on the time.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tenancy.events import announce
from tenancy.models import Job, Tenant, TenantStatus, utcnow
from tenancy.settings import as_int

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 30
# Statuses a saga leaves a store in while it runs, and the one a failed create keeps.
SAGA_STATUSES = (
    TenantStatus.PROVISIONING,
    TenantStatus.RESTORING,
    TenantStatus.MOVING,
    TenantStatus.FAILED,
)

Hook = Callable[[str], None]


class LeaseHeld(RuntimeError):
    """Another run is alive on this store; the message names it."""


class LeaseLost(RuntimeError):
    """This run's lease expired and another run took the store over: stop, touch nothing."""


def db_now(conn: Session | Connection) -> datetime:
    """The control database's clock (UTC, naive), the one every lease is measured by."""
    dialect = conn.dialect if isinstance(conn, Connection) else conn.get_bind().dialect
    if dialect.name == "mysql":
        return conn.scalar(text("SELECT UTC_TIMESTAMP(6)"))
    return utcnow()


def lease_seconds(settings) -> int:
    if not settings.get("backoffice.lease_seconds"):
        return DEFAULT_LEASE_SECONDS
    return as_int(settings, "backoffice.lease_seconds", minimum=1)


def lease_is_free(now: datetime):
    """SQL: nobody holds the store's lease, or its holder stopped beating before *now*."""
    return or_(Tenant.lease_owner.is_(None), Tenant.lease_expires_at < now)


def new_owner() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


def describe_lease(tenant: Tenant) -> str:
    return (
        f"store {tenant.slug!r} is {tenant.status}, held by {tenant.lease_owner} since "
        f"{tenant.lease_since:%Y-%m-%d %H:%M:%S} UTC (lease fresh until "
        f"{tenant.lease_expires_at:%H:%M:%S}); wait for it, or repair it once the lease expired"
    )


class Lease:
    """This process's lease on one store; heartbeats from a thread while held."""

    def __init__(self, control, *, owner: str | None = None):
        self.control = control
        self.owner = owner or new_owner()
        self.seconds = lease_seconds(control.settings)
        self.tenant_id: int | None = None
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    # -- taking --------------------------------------------------------------
    def stamp(self, session: Session, tenant: Tenant) -> None:
        """Hold the lease on a row this saga is inserting (committed by the caller)."""
        now = db_now(session)
        tenant.lease_owner, tenant.lease_since = self.owner, now
        tenant.lease_expires_at = now + self.ttl

    def take(self, session: Session, tenant: Tenant, *conditions, **values) -> bool:
        """Take the lease where *conditions* hold (and set *values*), in one UPDATE.

        False when the conditions do not hold (the caller says why); ``LeaseHeld``
        when a live run holds the store.
        """
        now = db_now(session)
        won = session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id, lease_is_free(now), *conditions)
            .values(
                lease_owner=self.owner,
                lease_since=now,
                lease_expires_at=now + self.ttl,
                updated_at=utcnow(),
                **values,
            )
        ).rowcount
        if won and "version" in values:  # every process drops its cached entry
            announce(session, tenant.id, tenant.slug)
        session.commit()
        session.refresh(tenant)
        if not won:
            if tenant.lease_owner and tenant.lease_expires_at >= now:
                raise LeaseHeld(describe_lease(tenant))
            return False
        self.start(tenant.id)
        return True

    def start(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.lost = False
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{tenant_id}", daemon=True)
        self._thread.start()

    # -- holding -------------------------------------------------------------
    def _beat(self) -> None:
        interval = max(self.seconds / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                with self.control.engine.begin() as conn:
                    now = db_now(conn)
                    held = conn.execute(
                        update(Tenant)
                        .where(Tenant.id == self.tenant_id, Tenant.lease_owner == self.owner)
                        .values(lease_expires_at=now + self.ttl)
                    ).rowcount
            except Exception:  # a blip of the control DB: try again next beat
                log.warning("lease heartbeat of store %s failed", self.tenant_id, exc_info=True)
                continue
            if not held:
                self.lost = True
                return

    def check(self) -> None:
        """Called at every step boundary: a run that lost its lease stops there."""
        if self.lost:
            raise LeaseLost(f"the lease on store {self.tenant_id} was taken over; stopping")

    # -- letting go ----------------------------------------------------------
    @staticmethod
    def clear(tenant: Tenant) -> None:
        """Let go in the saga's final transaction (with its final status)."""
        tenant.lease_owner = tenant.lease_since = tenant.lease_expires_at = None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def release(self) -> None:
        """Stop beating and clear the lease if this run still holds it."""
        self.stop()
        if self.tenant_id is None or self.lost:
            return
        try:
            with self.control.engine.begin() as conn:
                conn.execute(
                    update(Tenant)
                    .where(Tenant.id == self.tenant_id, Tenant.lease_owner == self.owner)
                    .values(lease_owner=None, lease_since=None, lease_expires_at=None)
                )
        except Exception:  # it expires by itself
            log.warning("could not release the lease on store %s", self.tenant_id, exc_info=True)


# -- step hooks -----------------------------------------------------------------
PAUSE_AT = "backoffice.test_pause_at"
PAUSE_DIR = "backoffice.test_pause_dir"


def pause_hook(settings) -> Hook | None:
    """TEST ONLY: ``BACKOFFICE_TEST_PAUSE_AT=<step>`` (with ``BACKOFFICE_TEST_PAUSE_DIR``)
    makes a CLI process stop at that step boundary so a test can SIGKILL it, or kill
    its connections from the server, and then let it go on.

    At the boundary it writes ``<dir>/paused`` (its pid) and waits until
    ``<dir>/go`` exists. Honoured only with ``backoffice.environment = test``:
    a production process never waits on a file.
    """
    step = settings.get(PAUSE_AT)
    if not step or settings.get("backoffice.environment") != "test":
        return None
    folder = Path(settings.get(PAUSE_DIR) or ".")

    def pause(current: str) -> None:
        if current != step:
            return
        (folder / "paused").write_text(str(os.getpid()))
        while not (folder / "go").exists():
            time.sleep(0.05)

    return pause


def hooks(*hooks: Hook | None) -> Hook:
    """One hook calling each of *hooks* (None ones skipped) in order."""
    present = [h for h in hooks if h is not None]

    def call(step: str) -> None:
        for hook in present:
            hook(step)

    return call


# -- stuck stores -----------------------------------------------------------------
@dataclass
class Stuck:
    slug: str
    status: str
    operation: str | None
    step: str | None
    error: str | None
    lease_owner: str | None
    lease_since: datetime | None
    lease_expires_at: datetime | None
    updated_at: datetime | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def last_job(session: Session, tenant: Tenant) -> Job | None:
    return session.scalar(
        select(Job).where(Job.tenant_id == tenant.id).order_by(Job.id.desc()).limit(1)
    )


def end_dead_jobs(session: Session, tenant: Tenant, note: str) -> None:
    """Jobs of the store still ``running`` belong to runs that died: say so."""
    session.execute(
        update(Job)
        .where(Job.tenant_id == tenant.id, Job.state == "running")
        .values(state="failed", error=f"the run died; {note}"[:500], updated_at=utcnow())
    )


def stuck(session: Session) -> list[Stuck]:
    """Stores in a saga's status that no live run holds, and stores whose run died
    after its switch (active, lease expired): what ``tenants repair`` is for."""
    now = db_now(session)
    died = and_(Tenant.lease_owner.isnot(None), Tenant.lease_expires_at < now)
    query = (
        select(Tenant)
        .where(or_(and_(Tenant.status.in_(SAGA_STATUSES), lease_is_free(now)), died))
        .order_by(Tenant.slug)
    )
    rows = []
    for tenant in session.scalars(query):
        job = last_job(session, tenant)
        provisioning = tenant.status in {TenantStatus.PROVISIONING, TenantStatus.FAILED}
        rows.append(
            Stuck(
                slug=tenant.slug,
                status=tenant.status,
                operation=job.kind if job else None,
                step=tenant.provisioning_step if provisioning else (job.progress if job else None),
                error=tenant.error or (job.error if job else None),
                lease_owner=tenant.lease_owner,
                lease_since=tenant.lease_since,
                lease_expires_at=tenant.lease_expires_at,
                updated_at=tenant.updated_at,
            )
        )
    return rows
