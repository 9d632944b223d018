"""Probe tasks and views for the task tests (``backoffice.task_includes``)."""

import os
import signal

from pyramid.view import view_config
from sqlalchemy import insert, text

from backoffice.models import Customer
from backoffice.tasks import plain_task, record_order_event, store_task


@store_task("probe.whoami")
def whoami(store):
    """Which database the task's session is really connected to."""
    database = store.db.execute(text("SELECT DATABASE()")).scalar()
    return {"store": store.tenant.slug, "database": database}


@plain_task("probe.crash")
def crash():
    """Kills the pool process running it: a poison message."""
    os._exit(3)


@plain_task("probe.kill_worker")
def kill_worker():
    """Kills the whole worker (parent first): the message stays unacknowledged."""
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(3)


@view_config(
    route_name="probe.order_event", renderer="json", request_method="POST", require_csrf=False
)  # a test probe, not a form
def probe_order_event(request):
    request.enqueue(
        record_order_event, int(request.params["order_id"]), "note", request.params["message"]
    )
    return {"ok": True}


@view_config(
    route_name="probe.order_event_fails", renderer="json", request_method="POST", require_csrf=False
)  # a test probe, not a form
def probe_order_event_fails(request):
    request.enqueue(
        record_order_event, int(request.params["order_id"]), "note", request.params["message"]
    )
    request.db.execute(insert(Customer).values(email=request.params["message"], name="", phone=""))
    request.db.flush()
    raise RuntimeError("the view fails after queueing: the transaction aborts")


def add_probe_views(config) -> None:
    config.add_route("probe.order_event", "/probe/order-event")
    config.add_route("probe.order_event_fails", "/probe/order-event-fails")
    config.scan(__name__)


def includeme(config) -> None:
    for task in (whoami, crash, kill_worker):
        config.add_task(task)
