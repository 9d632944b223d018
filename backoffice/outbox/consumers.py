"""Reading the outbox as one named consumer.

A consumer's cursor (``outbox_cursors``: consumer name, last event id) is
locked ``FOR UPDATE`` while it works, so two runs of one consumer take turns;
what the consumer does with the events and the cursor's advance commit
together, so after a crash the events are read again, never skipped. Each
consumer has its own cursor: the webhooks and (later) e-mail read the same
events independently.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.models import OutboxCursor, OutboxEvent

BATCH = 200
# Not a consumer: the row publishers lock (``backoffice.outbox.publish``).
WRITER = "*writer"


def lock_cursor(db: Session, consumer: str) -> OutboxCursor:
    query = (
        select(OutboxCursor)
        .where(OutboxCursor.consumer == consumer)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    cursor = db.scalar(query)
    if cursor is None:
        try:
            with db.begin_nested():
                db.add(OutboxCursor(consumer=consumer, last_event_id=0))
        except IntegrityError:
            pass  # a concurrent first run made it
        cursor = db.scalar(query)
    return cursor


def pending(db: Session, cursor: OutboxCursor, limit: int = BATCH) -> list[OutboxEvent]:
    """The next events after the cursor, oldest first."""
    return list(
        db.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.id > cursor.last_event_id)
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
    )


def advance(cursor: OutboxCursor, events: list[OutboxEvent]) -> None:
    if events:
        cursor.last_event_id = events[-1].id
