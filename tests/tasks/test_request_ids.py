"""A task run by a real worker logs with the id of the request that queued it."""

import re
import uuid

from tests.tasks.conftest import add_order, order_events, wait_for


def test_the_request_id_travels_with_the_task(worker, web, control, make_store):
    store = make_store()
    order_id = add_order(control, store)
    message, request_id = uuid.uuid4().hex, f"queued-{uuid.uuid4().hex[:12]}"
    web.post(
        f"/s/{store.slug}/probe/order-event",
        {"order_id": order_id, "message": message},
        headers={"X-Request-ID": request_id},
    )
    assert wait_for(lambda: order_events(control, store, message)), worker.output()
    lines = wait_for(
        lambda: [line for line in worker.log.read_text().splitlines() if request_id in line]
    )
    assert any("orders.record_event" in line and "succeeded" in line for line in lines), lines
    # The worker's next task, queued outside any request, does not inherit it.
    result = worker_task_without_request(web, store)
    assert result is not None
    # The result is stored a moment before the success is logged.
    [own] = wait_for(
        lambda: [
            line
            for line in worker.log.read_text().splitlines()
            if result in line and "succeeded" in line
        ]
    )
    assert request_id not in own and re.search(r"\[-\]", own), own


def worker_task_without_request(web, store) -> str:
    celery = web.app.registry.celery
    result = celery.send_task("probe.whoami", args=(store.id,))
    result.get(timeout=20)
    return result.id
