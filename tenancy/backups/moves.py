"""Moving a live store to another MySQL/MariaDB server with a short write freeze.

::

    track -> database -> user -> grant -> schema -> load -> verify   (store serving)
          -> catch-up                                                (store serving)
          -> freeze -> drain -> check -> switch -> cleanup           (store 503)

1. **track**: triggers log the key of every row changed from now on
   (``tenancy.backups.changes``); then a consistent snapshot is copied and
   verified exactly as a clone is, while the store keeps serving.
2. **catch-up**: the logged changes are copied in rounds until a round finds
   only a few.
3. **freeze**: one conditional UPDATE takes the store from ``active`` (at the
   version the move started from) to ``moving``: routers that re-read it
   answer 503 with ``Retry-After``. A process may still hold the old
   ``active`` entry for up to ``tenant_cache_ttl`` seconds, so the old MySQL
   user is locked (``ALTER USER ... ACCOUNT LOCK``) and its sessions killed,
   and the move waits until the server has ended them: from then on nothing
   can write the old database; a stale process gets "account locked" or a
   dropped connection, which it answers with 503 and a re-read.
4. **drain**: the log is copied until empty; the tables' row counts are
   compared; the schema is upgraded if the source was behind.
5. **switch**: one control-DB transaction points the store at the new
   database, user and server, ``active``, version bumped. Then the old
   database and user are dropped.

Any failure before the switch drops the copy, removes the triggers, unlocks
the old user and puts the store back to ``active`` on its old database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import update
from sqlalchemy.orm import Session

from tenancy.backups.archive import BackupError
from tenancy.backups.changes import ChangeLog
from tenancy.events import announce
from tenancy.models import DatabaseServer, Tenant, TenantStatus, utcnow
from tenancy.sagas import Lease

# Catch up until a round copies fewer entries than this, then freeze.
FEW_CHANGES = 200
CATCH_UP_SECONDS = 120.0

log = logging.getLogger(__name__)


# The step boundaries of a live move, in order (a kill at any one is repairable).
LIVE_STEPS = (
    "claim",
    "track",
    "database",
    "user",
    "grant",
    "schema",
    "load",
    "verify",
    "catch-up",
    "freeze",
    "check",
    "upgrade",
    "switch",
    "cleanup",
)


class LiveMove:
    def __init__(self, copier, session: Session, tenant: Tenant, server: DatabaseServer, source):
        self.copier = copier
        self.control = copier.control
        self.session = session
        self.tenant = tenant
        self.server = server
        self.source_factory = source  # LiveSource(engine): a consistent snapshot
        self.version = tenant.version
        self.old = (tenant.server, tenant.database_name, tenant.db_user)
        self.backend = self.control.backend(tenant.server)
        self.frozen = False
        self.freeze_seconds: float | None = None

    def run(self, on_rows: Callable[[int], None] | None = None) -> Tenant:
        copier, session, tenant = self.copier, self.session, self.tenant
        copier.fault("claim")
        if tenant.status != TenantStatus.ACTIVE:
            raise BackupError(f"store {tenant.slug!r} is {tenant.status}; this needs active")
        # Without these a session of the old user could outlive the freeze unseen.
        missing = self.backend.missing_session_privileges()
        if missing:
            raise BackupError(
                f"the admin identity of server {tenant.server.name!r} lacks "
                f"{' and '.join(missing)}: a live move could not end the store's sessions"
            )
        # One operation at a time (tenancy.sagas): the store stays active while it
        # is copied, but no other run may start on it, and a dead move is repaired.
        copier._claim(session, tenant, TenantStatus.ACTIVE)
        try:
            return self._run(on_rows)
        finally:
            copier.lease.release()

    def _run(self, on_rows: Callable[[int], None] | None) -> Tenant:
        copier, session, tenant = self.copier, self.session, self.tenant
        self.version = tenant.version
        target = copier._target(session, tenant.slug, self.server)
        detail = {"from": tenant.server.name, "to": self.server.name, "database": target.database}
        job = copier._job(session, "move", tenant, detail, target, self.old)
        source = self.backend.ddl_engine(tenant.database_name)
        copy = None
        changes: ChangeLog | None = None
        try:
            copier._step(session, job, "track")
            changes = ChangeLog(source)
            changes.install()
            revision = copier._build(
                lambda: self.source_factory(self.backend.ddl_engine(self.old[1])),
                target,
                job,
                session,
                on_rows,
                upgrade=False,
            )
            copy = self.control.backend(target.server).ddl_engine(target.database)
            copier._step(session, job, "catch-up")
            self._catch_up(changes, copy)
            copier._step(session, job, "freeze")
            started = time.monotonic()
            self._freeze()
            changes.drain(copy)
            copier._check_step("check")
            self._check(changes, source, copy)
            copier._check_step("upgrade")
            if revision != copier.schema.head():
                with copy.begin() as conn:
                    revision = copier.schema.upgrade(conn, "head")
            copier._check_step("switch")
            copier._switch(tenant, target, revision)
            job.progress = "switch"
            session.commit()
            self.freeze_seconds = time.monotonic() - started
            job.detail = {**(job.detail or {}), "freeze_seconds": round(self.freeze_seconds, 3)}
            session.commit()
        except Exception as exc:
            session.rollback()
            copier._undo(target)
            self._unwind(changes, job, exc)
            raise copier._error("move", tenant.slug, job, exc) from exc
        finally:
            source.dispose()
            if copy is not None:
                copy.dispose()
        copier._cleanup(session, tenant, job, *self.old)
        return tenant

    def _catch_up(self, changes: ChangeLog, copy) -> None:
        """Rounds until one finds only a few changes (or time is up: a write
        rate the copy cannot follow is then caught up frozen)."""
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while changes.apply(copy) >= FEW_CHANGES and time.monotonic() < deadline:
            pass

    def _freeze(self) -> None:
        """``moving`` if nothing else changed the store since the move began;
        then no session of the old user is left, nor can one start."""
        session, tenant = self.session, self.tenant
        claimed = session.execute(
            update(Tenant)
            .where(
                Tenant.id == tenant.id,
                Tenant.status == TenantStatus.ACTIVE,
                Tenant.version == self.version,
            )
            .values(status=TenantStatus.MOVING, version=Tenant.version + 1, updated_at=utcnow())
        ).rowcount
        if claimed:  # every process drops its cached entry and engine now
            announce(session, tenant.id, tenant.slug)
        session.commit()
        session.refresh(tenant)
        if not claimed:
            raise BackupError(
                f"store {tenant.slug!r} changed during the copy (now {tenant.status}, "
                f"version {tenant.version}, was {self.version})"
            )
        self.frozen = True
        user = self.old[2]
        self.backend.lock_user(user)
        self.backend.end_sessions(user)

    def _check(self, changes: ChangeLog, source, copy) -> None:
        def count(engine):
            with engine.connect() as conn:
                return changes.counts(conn)

        with ThreadPoolExecutor(2) as pool:
            theirs, ours = pool.map(count, (source, copy))
        wrong = [
            f"{t}: {theirs[t]} rows, copy {ours.get(t)}" for t in theirs if theirs[t] != ours.get(t)
        ]
        if wrong:
            raise BackupError("the copy differs from the store: " + "; ".join(wrong))

    def _unwind(self, changes: ChangeLog | None, job, exc: Exception) -> None:
        """The store serves from its old database again, as it was."""
        try:
            if changes is not None:
                changes.remove()
        except Exception:
            log.warning("could not remove the change log of %s", self.old[1], exc_info=True)
        if not self.frozen:
            Lease.clear(self.tenant)
            self.copier._fail_job(self.session, job, exc)
            return
        try:
            self.backend.unlock_user(self.old[2])
        except Exception:
            log.exception("could not unlock %s after a failed move", self.old[2])
        self.copier._release(self.session, self.tenant, job, exc)
