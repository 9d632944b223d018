"""The webhooks' outbox consumer: events -> one delivery per subscribed endpoint.

``webhooks.from_outbox`` (a store task) reads the events after the consumer's
cursor, writes a ``webhook_deliveries`` row per active endpoint that wants the
event (unique per endpoint and event id) and advances the cursor, all in one
transaction; then, committed, it queues ``webhooks.deliver`` for each row.
Rows whose message was lost (a crash between that commit and the queueing)
are queued again by the next run: every run also picks up deliveries left
``pending`` for longer than ``STALE_AFTER``.
"""

from __future__ import annotations

import calendar
import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from backoffice.models.base import utcnow
from backoffice.outbox.consumers import advance, lock_cursor, pending
from backoffice.tasks import StoreContext, store_task
from backoffice.tasks.base import task_name
from backoffice.webhooks.delivery import PENDING, deliver_webhook

CONSUMER = "webhooks"
STALE_AFTER = timedelta(seconds=60)


def event_body(event: OutboxEvent, store_slug: str) -> str:
    created = calendar.timegm(event.created_at.timetuple()) if event.created_at else 0
    return json.dumps(
        {
            "id": event.uid,
            "type": event.kind,
            "created": created,
            "store": store_slug,
            "data": event.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def deliveries_for(db: Session, events: list[OutboxEvent], store_slug: str) -> list[int]:
    endpoints = list(
        db.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.is_active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
    )
    rows = [
        WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=event.uid,
            event_type=event.kind,
            body=event_body(event, store_slug),
            state=PENDING,
            attempts=0,
            history=[],
        )
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.kind)
    ]
    db.add_all(rows)
    db.flush()
    return [row.id for row in rows]


def stale_deliveries(db: Session) -> list[int]:
    """Pending for a while: their ``webhooks.deliver`` message may never have been sent."""
    return list(
        db.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == PENDING,
                WebhookDelivery.attempts == 0,
                WebhookDelivery.created_at < utcnow() - STALE_AFTER,
            )
            .order_by(WebhookDelivery.id)
            .limit(500)
        )
    )


def consume(db: Session, store_slug: str) -> list[int]:
    """One batch: deliveries made for the events after the cursor, cursor advanced.
    Returns the new deliveries' ids (the caller commits, then queues them)."""
    cursor = lock_cursor(db, CONSUMER)
    events = pending(db, cursor)
    made = deliveries_for(db, events, store_slug) if events else []
    advance(cursor, events)
    return made


@store_task("webhooks.from_outbox", bind=True)
def webhooks_from_outbox(task, store: StoreContext) -> int:
    made = consume(store.db, store.tenant.slug)
    stale = stale_deliveries(store.db)
    store.db.commit()  # the deliveries and the cursor, before any message goes out
    deliver = task.app.tasks[task_name(deliver_webhook)]
    for delivery_id in [*made, *stale]:
        deliver.apply_async(args=(store.tenant.id, delivery_id))
    return len(made)
