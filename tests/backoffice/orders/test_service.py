"""The order service on MariaDB, without HTTP: placing, the state machine, cancel, stock."""

from __future__ import annotations

import threading

import pytest

from backoffice.models import Order
from backoffice.orders import service
from backoffice.orders.enums import FulfilmentStatus, OutboxEventKind
from backoffice.orders.errors import OutOfStock, TransitionRefused, UnknownProducts


def test_placing_takes_stock_with_movements_and_announces_it(store):
    order_id = store.place()
    assert store.stock() == {"TEA-1": 8, "TEA-2": 2}
    assert store.movements(order_id) == [(-2, "order_placed"), (-1, "order_placed")]
    assert store.outbox(order_id) == [OutboxEventKind.ORDER_CREATED]


@pytest.mark.parametrize(
    "lines, error", [((("TEA-2", 4),), OutOfStock), ((("NOPE", 1),), UnknownProducts)]
)
def test_a_refused_order_changes_nothing(store, lines, error):
    with pytest.raises(error):
        store.place(lines)
    assert store.stock() == {"TEA-1": 10, "TEA-2": 3}


def test_the_state_machine_refuses_and_allows_and_announces(store):
    order_id = store.place()
    with store.session() as db, db.begin():
        order = service.lock_order(db, order_id)
        with pytest.raises(TransitionRefused) as refused:
            service.change_status(db, order, "delivered", actor="tests")
        assert refused.value.details == {
            "from": "new",
            "to": "delivered",
            "allowed": ["confirmed", "cancelled"],
        }
        with pytest.raises(TransitionRefused):
            service.change_status(db, order, "paid", actor="tests")  # not a fulfilment status
        service.change_status(db, order, FulfilmentStatus.CONFIRMED, actor="tests")
    assert store.outbox(order_id) == ["order.created", "order.status_changed"]


def test_a_custom_flow_is_the_flow_of_every_caller(store):
    flow = (
        '[{"code": "new", "name": "New", "next": ["packed"]},'
        ' {"code": "packed", "name": "Packed", "next": ["cancelled"]},'
        ' {"code": "cancelled", "name": "Cancelled", "next": []}]'
    )
    store.set("order_statuses", flow)
    order_id = store.place()
    with store.session() as db, db.begin():
        order = service.lock_order(db, order_id)
        with pytest.raises(TransitionRefused):
            service.change_status(db, order, "confirmed", actor="tests")
        service.change_status(db, order, "packed", actor="tests")


def test_cancel_returns_stock_once_under_two_concurrent_cancels(store):
    order_id = store.place()
    barrier, outcomes = threading.Barrier(2), []

    def cancel():
        with store.session() as db:
            try:
                with db.begin():
                    barrier.wait()
                    order = service.lock_order(db, order_id)
                    service.cancel(db, order, actor="tests")
                outcomes.append("cancelled")
            except TransitionRefused:
                outcomes.append("refused")

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["cancelled", "refused"]
    assert store.stock() == {"TEA-1": 10, "TEA-2": 3}
    assert store.movements(order_id) == [
        (-2, "order_placed"),
        (-1, "order_placed"),
        (2, "order_cancelled"),
        (1, "order_cancelled"),
    ]
    assert store.outbox(order_id).count("order.cancelled") == 1
    # Stock that is not held any more is not returned again, whatever asks.
    with store.session() as db, db.begin():
        order = db.get(Order, order_id)
        assert service.return_stock(db, order, "order_cancelled", "tests") == 0
    assert store.stock() == {"TEA-1": 10, "TEA-2": 3}
