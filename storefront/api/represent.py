"""What the API shows of products, orders, customers and webhooks (plain dicts, then JSON)."""

from __future__ import annotations

from datetime import datetime

from backoffice.models import Customer, Order, OrderEvent, Payment, Product, WebhookEndpoint
from backoffice.payments.enums import RefundMethod


def timestamp(value: datetime | None) -> str | None:
    # Stored naive in UTC; RFC 3339 wants the offset.
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def product(p: Product, currency: str) -> dict:
    return {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "description": p.description,
        "price_minor": p.price_minor,
        "currency": currency,
        "stock": p.stock,
        "active": bool(p.is_active),
        "updated_at": timestamp(p.updated_at),
    }


def order(o: Order) -> dict:
    return {
        "id": o.id,
        "number": o.number,
        "status": o.status,
        "payment_status": o.payment_status,
        "currency": o.currency,
        "subtotal_minor": o.subtotal_minor,
        "shipping_minor": o.shipping_minor,
        "total_minor": o.total_minor,
        "external_reference": o.external_reference,
        "status_token": o.status_token,
        "source": o.source,
        "locale": o.locale,
        "customer": {
            "id": o.customer_id,
            "email": o.customer_email,
            "name": o.customer_name,
            "phone": o.customer_phone,
        },
        "shipping_address": o.shipping_address,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "total_minor": line.total_minor,
            }
            for line in o.lines
        ],
        "created_at": timestamp(o.created_at),
        "updated_at": timestamp(o.updated_at),
    }


def order_status(o: Order) -> dict:
    """Safe to show a shopper on a reseller's site: no address, e-mail or phone."""
    return {
        "number": o.number,
        "status": o.status,
        "payment_status": o.payment_status,
        "currency": o.currency,
        "total_minor": o.total_minor,
        "created_at": timestamp(o.created_at),
        "updated_at": timestamp(o.updated_at),
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity} for line in o.lines
        ],
    }


def event(e: OrderEvent) -> dict:
    return {
        "id": e.id,
        "kind": e.kind,
        "actor": e.actor,
        "message": e.message,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "created_at": timestamp(e.created_at),
    }


def refund(p: Payment) -> dict:
    raw = p.raw or {}
    return {
        "id": p.id,
        "order_id": p.order_id,
        "status": p.status,
        "amount_minor": p.amount_minor,
        "currency": p.currency,
        "gateway": p.gateway,
        "method": raw.get("method", RefundMethod.PROVIDER),
        "reason": raw.get("reason", ""),
        "provider_reference": p.provider_reference,
        "created_at": timestamp(p.created_at),
    }


def customer(c: Customer) -> dict:
    return {
        "id": c.id,
        "email": c.email,
        "name": c.name,
        "phone": c.phone,
        "created_at": timestamp(c.created_at),
        "updated_at": timestamp(c.updated_at),
    }


def webhook(w: WebhookEndpoint) -> dict:
    """An endpoint as its owner may see it: never its secret."""
    return {
        "id": w.id,
        "url": w.url,
        "description": w.description,
        "events": w.events.split(),
        "active": bool(w.is_active),
        "created_at": timestamp(w.created_at),
        "updated_at": timestamp(w.updated_at),
    }
