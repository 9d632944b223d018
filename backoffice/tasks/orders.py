"""Order tasks run in the background, each in its own store's database."""

from __future__ import annotations

from backoffice.models import OrderEvent
from backoffice.tasks.base import StoreContext, store_task


@store_task("orders.record_event")
def record_order_event(
    store: StoreContext, order_id: int, kind: str, message: str = "", actor: str = "system"
) -> int:
    """Add an entry to an order's timeline; returns the entry's id."""
    event = OrderEvent(order_id=int(order_id), kind=kind, message=message, actor=actor)
    store.db.add(event)
    store.db.flush()
    return event.id
