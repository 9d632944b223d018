"""Store tasks on a real worker and a real Redis, writing to real MariaDB stores."""

import uuid

from tenancy import operations
from tests.tasks.conftest import add_order, order_events, wait_for


def test_request_queues_a_task_that_writes_to_its_own_store(worker, web, control, make_store):
    a, b = make_store(), make_store()
    order_a, order_b = add_order(control, a), add_order(control, b)
    assert order_a == order_b  # the same id exists in both: a misrouted task would succeed
    message = f"paid-{uuid.uuid4().hex}"
    web.post(f"/s/{a.slug}/probe/order-event", {"order_id": order_a, "message": message})
    rows = wait_for(lambda: order_events(control, a, message))
    assert rows == [(order_a, "note", message)], worker.output()
    assert order_events(control, b) == []


def test_an_aborted_request_queues_nothing(worker, web, control, make_store):
    store = make_store()
    order_id = add_order(control, store)
    lost, kept = f"lost-{uuid.uuid4().hex}", f"kept-{uuid.uuid4().hex}"
    web.post(
        f"/s/{store.slug}/probe/order-event-fails",
        {"order_id": order_id, "message": lost},
        status=500,
    )
    web.post(f"/s/{store.slug}/probe/order-event", {"order_id": order_id, "message": kept})
    assert wait_for(lambda: order_events(control, store, kept)), worker.output()
    # The worker has drained the queue up to the later task; give a stray one a moment.
    wait_for(lambda: order_events(control, store, lost), timeout=1.5)
    assert order_events(control, store, lost) == []
    assert [m for _o, _k, m in order_events(control, store)] == [kept]


def test_task_session_is_bound_to_its_store(worker, task_registry, make_store):
    stores = [make_store() for _ in range(3)]
    celery = task_registry.celery
    results = [(s, celery.send_task("probe.whoami", args=(s.id,))) for s in stores]
    for store, result in results:
        answer = result.get(timeout=20)
        assert answer == {"store": store.slug, "database": store.database_name}


def test_task_for_suspended_store_waits_until_resume(
    worker, task_registry, redis_client, control, make_store
):
    store = make_store()
    order_id = add_order(control, store)
    with control.session() as session:
        operations.suspend(control, session, store.slug)
    message = f"later-{uuid.uuid4().hex}"
    result = task_registry.celery.send_task(
        "orders.record_event", args=(store.id, order_id, "note", message)
    )
    counter = task_registry.celery.deliveries
    # Retried (a message with retries >= 2 was delivered), and not run meanwhile.
    assert wait_for(lambda: redis_client.exists(counter.key(result.id, 2))), worker.output()
    assert order_events(control, store) == []
    with control.session() as session:
        operations.resume(control, session, store.slug)
    assert result.get(timeout=20) > 0
    assert order_events(control, store) == [(order_id, "note", message)]


def test_task_for_dropped_store_is_given_up(worker, task_registry, control, make_store):
    store = make_store()
    with control.session() as session:
        operations.drop(control, session, store.slug)
    result = task_registry.celery.send_task(
        "orders.record_event", args=(store.id, 1, "note", "never")
    )
    assert result.get(timeout=20) is None
    assert "task dropped" in worker.output()


def test_poison_task_is_run_at_most_the_cap(worker, task_registry, redis_client):
    celery = task_registry.celery
    result = celery.send_task("probe.crash")
    result.get(timeout=60, propagate=False)
    assert result.state == "FAILURE", worker.output()
    assert "DeliveryCapExceeded" in repr(result.result) or (
        "delivered 4 times" in str(result.result)
    )
    # Three deliveries killed their pool process; the fourth was refused.
    assert int(redis_client.get(celery.deliveries.key(result.id, 0))) == 4
