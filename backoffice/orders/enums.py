"""The words of the order domain, one definition each.

Values are what the database and the API store and show: changing one is a
migration and an API change. ``StrEnum`` members compare equal to their text,
so rows read from the database (plain strings) compare with them directly.
"""

from __future__ import annotations

from enum import StrEnum


class FulfilmentStatus(StrEnum):
    """The built-in codes of the store's flow (``orders.status``); a store adds its own."""

    NEW = "new"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    """``orders.payment_status``: worked out from the ledger, never set by hand."""

    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# Money has come in (and not all gone back): what revenue counts.
MONEY_IN = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)


class OrderEventKind(StrEnum):
    """``order_events.kind``: the entries of an order's timeline."""

    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    PAYMENT_STATUS = "payment_status"
    NOTE = "note"
    PAYMENT_STARTED = "payment_started"
    PAYMENT_RECEIVED = "payment_received"
    PAYMENT_PENDING = "payment_pending"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_CANCELLED = "payment_cancelled"
    PAYMENT_FLAGGED = "payment_flagged"
    REFUND = "refund"
    REFUND_FAILED = "refund_failed"
    REFUND_FLAGGED = "refund_flagged"
    STOCK_RETURNED = "stock_returned"


class OutboxEventKind(StrEnum):
    """``outbox_events.kind``, and the ``type`` of a webhook event."""

    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    ORDER_CANCELLED = "order.cancelled"
    PAYMENT_FAILED = "payment.failed"


# Webhook subscriptions name the same events.
WebhookEventType = OutboxEventKind


class OrderSource(StrEnum):
    """``orders.source``: where the order came from."""

    BACKOFFICE = "backoffice"
    API = "api"
    CHECKOUT = "checkout"


class MovementReason(StrEnum):
    """``inventory_movements.reason``."""

    ORDER_PLACED = "order_placed"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUNDED = "order_refunded"
