"""Waking the outbox's consumers: after a request's commit, and swept by beat.

``config.add_outbox_consumer(task)`` names a store task that reads the outbox
(``backoffice.outbox.consumers``); a web request that published events queues
each consumer once, after it commits (``wake``). Celery beat runs
``outbox.sweep`` every ``backoffice.outbox_sweep_seconds`` (default 60): it
queues every consumer for every active store, so an event whose wake-up was
lost is delivered by the next sweep. A consumer with nothing to read costs one
indexed query.
"""

from __future__ import annotations

from sqlalchemy import select

from backoffice.tasks import plain_task
from backoffice.tasks.base import task_name
from tenancy.models import Tenant, TenantStatus


def add_outbox_consumer(config, fn) -> None:
    config.registry.outbox_consumers.append(task_name(fn))


def wake(request) -> None:
    """Queue the consumers after the request's transaction commits."""
    for name in request.registry.outbox_consumers:
        request.enqueue(name)


@plain_task("outbox.sweep", bind=True)
def sweep(task) -> int:
    """Every consumer, for every active store; returns the number of stores."""
    registry = task.app.registry
    with registry.control.session() as session:
        stores = list(
            session.scalars(
                select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.id)
            )
        )
    for tenant_id in stores:
        for name in registry.outbox_consumers:
            task.app.send_task(name, args=(tenant_id,))
    return len(stores)


def includeme(config) -> None:
    config.registry.outbox_consumers = []
    config.add_directive("add_outbox_consumer", add_outbox_consumer)
    config.add_task(sweep)
