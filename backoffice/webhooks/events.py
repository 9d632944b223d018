"""Order events for reseller sites: one delivery row per endpoint, sent after commit.

``emit`` writes the event's exact body into ``webhook_deliveries`` in the
caller's transaction (an outbox: an event exists iff the change committed) and
returns the rows; the caller queues ``webhooks.deliver`` for each after commit.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.models import Order, WebhookDelivery, WebhookEndpoint

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
EVENT_TYPES = (ORDER_CREATED, ORDER_STATUS_CHANGED)


def _time(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def order_payload(order: Order) -> dict:
    """What a reseller site needs to update its copy; no e-mail, phone or address."""
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "external_reference": order.external_reference,
        "status_token": order.status_token,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
    }


def event_body(event_id: str, event_type: str, store_slug: str, data: dict) -> str:
    return json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "created": int(time.time()),
            "store": store_slug,
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def emit(db: Session, store_slug: str, event_type: str, data: dict) -> list[WebhookDelivery]:
    endpoints = [
        e
        for e in db.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.is_active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
        if e.wants(event_type)
    ]
    if not endpoints:
        return []
    event_id = "evt_" + secrets.token_hex(12)
    body = event_body(event_id, event_type, store_slug, data)
    deliveries = [
        WebhookDelivery(
            endpoint_id=e.id,
            event_id=event_id,
            event_type=event_type,
            body=body,
            state="pending",
            attempts=0,
            history=[],
        )
        for e in endpoints
    ]
    db.add_all(deliveries)
    db.flush()
    return deliveries


def emit_for_order(request, event_type: str, order: Order, **extra) -> None:
    """From a web request: record the event now, queue its deliveries after commit."""
    data = {"order": order_payload(order), **extra}
    for delivery in emit(request.db, request.tenant.slug, event_type, data):
        request.enqueue("webhooks.deliver", delivery.id)
