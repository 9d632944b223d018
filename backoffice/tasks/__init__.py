"""Background tasks, bound to one store like requests; see docs/tasks.md.

``config.include("backoffice.tasks")`` builds the Celery app from the settings
(``registry.celery``), adds the ``config.add_task(fn)`` directive and the
``request.enqueue(...)`` method, registers the product's tasks, then includes
the modules listed in ``backoffice.task_includes`` (plug-ins, tests).
"""

from __future__ import annotations

from pyramid.settings import aslist

from backoffice.tasks.app import DEFAULTS, make_celery
from backoffice.tasks.base import (
    CappedTask,
    DeliveryCapExceeded,
    StoreContext,
    StoreTask,
    add_task,
    plain_task,
    store_task,
)
from backoffice.tasks.enqueue import enqueue
from backoffice.tasks.maintenance import (
    back_up_every_store,
    back_up_store,
    drain_server,
    prune_backups,
)
from backoffice.tasks.orders import record_order_event
from tenancy.directory import TenantDirectory

__all__ = [
    "CappedTask",
    "DeliveryCapExceeded",
    "StoreContext",
    "StoreTask",
    "back_up_every_store",
    "back_up_store",
    "drain_server",
    "plain_task",
    "prune_backups",
    "record_order_event",
    "store_task",
]


def includeme(config) -> None:
    settings = config.registry.settings
    app = make_celery(settings)
    app.registry = config.registry
    # Tasks re-read the store's status before every run (ttl 0 by default):
    # a task may run long after it was queued.
    ttl = (
        settings.get("backoffice.task_tenant_cache_ttl")
        or DEFAULTS["backoffice.task_tenant_cache_ttl"]
    )
    app.directory = TenantDirectory(config.registry.control, ttl=float(ttl))
    config.registry.control.events.subscribe(app.directory.store_changed)
    config.registry.celery = app
    config.add_directive("add_task", add_task)
    config.add_request_method(enqueue, "enqueue")
    config.add_task(record_order_event)
    config.add_task(prune_backups)
    config.add_task(back_up_every_store)
    config.add_task(back_up_store)
    config.add_task(drain_server)
    for module in aslist(settings.get("backoffice.task_includes", "")):
        config.include(module)
