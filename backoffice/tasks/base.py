"""Task bases: every task has a redelivery cap; a store task is bound to one store.

A store task's first argument is the store's (tenant's) id, nothing else: no
session, no ORM object crosses the broker. In the worker, ``StoreTask`` looks
the store up again (fresh, through ``TenantDirectory``), refuses to run while
the store is suspended or being changed, leases the store's engine from the
same ``EngineRegistry`` the web app uses (same caps), and hands the task
function a ``StoreContext`` whose ``db`` session commits if the function
returns and rolls back if it raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery import Task
from sqlalchemy.orm import Session

from tenancy.directory import TenantRef
from tenancy.models import TenantStatus
from tenancy.registry import CapacityError, EngineRegistry

log = logging.getLogger(__name__)

# The store is being changed or is switched off: try again later.
WAIT_STATUSES = frozenset(
    {
        TenantStatus.SUSPENDED,
        TenantStatus.PROVISIONING,
        TenantStatus.MIGRATING,
        TenantStatus.RESTORING,
        TenantStatus.MOVING,
    }
)


class DeliveryCapExceeded(RuntimeError):
    """One message was delivered more often than ``backoffice.task_max_deliveries``."""


class StoreBusy(RuntimeError):
    """The store cannot run tasks now (suspended, migrating, ...)."""


@dataclass(frozen=True)
class StoreContext:
    """What a store task works with: its store and a session on that store only."""

    tenant: TenantRef
    db: Session


class CappedTask(Task):
    """A task whose message is run at most ``app.max_deliveries`` times.

    Past the cap the task is not run: it fails with ``DeliveryCapExceeded``
    (logged, FAILURE in the result backend, message acknowledged), so a task
    that kills its worker cannot loop forever.
    """

    def __call__(self, *args, **kwargs):
        self.check_deliveries()
        return super().__call__(*args, **kwargs)

    def check_deliveries(self) -> None:
        counter, request = self.app.deliveries, self.request
        if counter is None or request.is_eager or not request.id:
            return
        number = counter.count(request.id, request.retries or 0)
        if number > self.app.max_deliveries:
            log.error(
                "task %s[%s] delivered %d times (cap %d): not run, marked failed",
                self.name,
                request.id,
                number,
                self.app.max_deliveries,
            )
            raise DeliveryCapExceeded(
                f"{self.name}[{request.id}] delivered {number} times, cap {self.app.max_deliveries}"
            )


class StoreTask(CappedTask):
    """Runs ``fn(store, *args, **kwargs)`` for ``task.delay(tenant_id, *args, **kwargs)``."""

    def __call__(self, tenant_id: int, *args, **kwargs):
        self.check_deliveries()
        tenant = self.runnable_store(tenant_id)
        if tenant is None:
            return None
        return self.run_in_store(tenant, args, kwargs)

    def runnable_store(self, tenant_id: int) -> TenantRef | None:
        """The store if it can run tasks now; None if it is gone; retries if busy."""
        tenant = self.app.directory.by_id(int(tenant_id))
        if tenant is None or tenant.status not in WAIT_STATUSES | {TenantStatus.ACTIVE}:
            log.warning(
                "task %s[%s]: store %s is %s; task dropped",
                self.name,
                self.request.id,
                tenant_id,
                tenant.status if tenant else "unknown",
            )
            return None
        if tenant.status in WAIT_STATUSES:
            self.wait_for_store(StoreBusy(f"store {tenant.slug} is {tenant.status}"))
        return tenant

    def wait_for_store(self, exc: Exception):
        # Eagerly (embedded default) there is no broker to hold the task for later.
        if self.request.is_eager:
            raise exc
        log.info(
            "task %s[%s]: %s; retrying in %ss",
            self.name,
            self.request.id,
            exc,
            self.app.busy_retry_seconds,
        )
        raise self.retry(
            countdown=self.app.busy_retry_seconds, max_retries=self.app.busy_max_retries, exc=exc
        )

    def run_in_store(self, tenant: TenantRef, args, kwargs):
        engines: EngineRegistry = self.app.registry.engines
        engine = engines.acquire(tenant)
        try:
            # Closing the session rolls back whatever the function left uncommitted.
            with Session(bind=engine, expire_on_commit=False) as session:
                try:
                    result = self.run(StoreContext(tenant, session), *args, **kwargs)
                except CapacityError as exc:
                    session.rollback()
                    self.wait_for_store(exc)
                session.commit()
                return result
        finally:
            engines.release(engine)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    base: type[Task]
    options: dict


def store_task(name: str, **options):
    """Mark ``fn(store, ...)`` as a store task; ``config.add_task(fn)`` registers it."""

    def mark(fn):
        fn.task_spec = TaskSpec(name, StoreTask, options)
        return fn

    return mark


def plain_task(name: str, **options):
    """Mark ``fn(...)`` as a task bound to no store (still under the delivery cap)."""

    def mark(fn):
        fn.task_spec = TaskSpec(name, CappedTask, options)
        return fn

    return mark


def task_name(task) -> str:
    """The registered name of a marked function, a task object or a name."""
    if isinstance(task, str):
        return task
    spec = getattr(task, "task_spec", None)
    return spec.name if spec is not None else task.name


def add_task(config, fn) -> None:
    """Pyramid directive: register a marked function on the registry's Celery app."""
    spec: TaskSpec = fn.task_spec
    config.registry.celery.task(name=spec.name, base=spec.base, **spec.options)(fn)
