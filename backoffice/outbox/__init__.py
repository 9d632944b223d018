"""The store's transactional outbox: what changed, for every consumer.

``publish`` writes an ``outbox_events`` row in the caller's transaction, so an
event exists if and only if the change committed. Consumers (the webhooks
today) read the events after their own cursor and advance it in their own
transaction (``backoffice.outbox.consumers``). Each publishing transaction of
a web request also queues the consumers once, after it commits; Celery beat
sweeps every store periodically, so an event whose wake-up was lost (a crash
between commit and queueing, a broker down) is delivered all the same.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from backoffice.models import OutboxEvent
from backoffice.orders.enums import OutboxEventKind
from backoffice.outbox.consumers import WRITER, lock_cursor

# Set on a session by whoever owns it (``backoffice.binding`` for requests):
# called once per session after the first event, to queue the consumers.
WAKE = "outbox.wake"
_WOKEN = "outbox.woken"
_LOCKED = "outbox.locked"


def new_uid() -> str:
    return "evt_" + secrets.token_hex(12)


def publish(
    db: Session, kind: OutboxEventKind, payload: dict, order_id: int | None = None
) -> OutboxEvent:
    _serialize_writers(db)
    event = OutboxEvent(uid=new_uid(), kind=str(kind), order_id=order_id, payload=payload)
    db.add(event)
    db.flush()
    wake = db.info.get(WAKE)
    if wake is not None and not db.info.get(_WOKEN):
        db.info[_WOKEN] = True
        wake()
    return event


def _serialize_writers(db: Session) -> None:
    """Publishing transactions of a store take turns (the ``WRITER`` row, locked
    until commit): ids are handed out and committed in the same order, so a
    consumer that has read up to id N never sees an N - 1 commit later."""
    transaction = db.get_transaction()
    if db.info.get(_LOCKED) is not transaction:
        lock_cursor(db, WRITER)
        db.info[_LOCKED] = transaction


def includeme(config) -> None:
    config.include("backoffice.outbox.tasks")
