"""Sample data for the demo store: products, customers, a month of orders."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from backoffice.models import (
    Customer,
    InventoryMovement,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Product,
    StoreSetting,
)
from backoffice.models.base import utcnow
from backoffice.orders.enums import (
    FulfilmentStatus,
    MovementReason,
    OrderEventKind,
    OrderSource,
    PaymentStatus,
)
from backoffice.payments.enums import LedgerEntryKind, PaymentState

PRODUCTS = [
    ("TEA-001", "Assam breakfast tea, 250 g", 1290),
    ("TEA-002", "Darjeeling first flush, 100 g", 2450),
    ("TEA-003", "Sencha green tea, 100 g", 1590),
    ("CUP-001", "Porcelain cup with saucer", 1890),
    ("POT-001", "Cast-iron teapot, 0.8 l", 5400),
    ("HON-001", "Buckwheat honey, 500 g", 990),
    ("GIFT-01", "Gift box: three teas", 4200),
    ("STR-001", "Stainless tea strainer", 650),
]
NAMES = [
    "Olena Kovalenko",
    "Ivan Petrov",
    "Mary Smith",
    "Andriy Shevchenko",
    "Anna Ivanova",
    "John Brown",
    "Oksana Bondarenko",
    "Dmitry Sokolov",
]
FLOW = [
    FulfilmentStatus.NEW,
    FulfilmentStatus.CONFIRMED,
    FulfilmentStatus.SHIPPED,
    FulfilmentStatus.DELIVERED,
    FulfilmentStatus.DELIVERED,
    FulfilmentStatus.DELIVERED,
    FulfilmentStatus.CANCELLED,
]


def seed(conn: Connection, *, orders: int = 120, seed: int = 7) -> None:
    """Orders whose books add up: a paid order has its ledger rows (card orders
    through the sandbox gateway, the others cash on delivery), a refunded one its
    refund, and stock moved by every order has its inventory movements."""
    rnd = random.Random(seed)
    now = utcnow()
    conn.execute(
        insert(StoreSetting),
        [
            {"key": "name", "value": "Demo Tea Shop"},
            {"key": "currency", "value": "EUR"},
            {"key": "default_locale", "value": "en"},
            {"key": "timezone", "value": "Europe/Kyiv"},
            {"key": "order_number_format", "value": "D-{seq:05d}"},
        ],
    )
    conn.execute(
        insert(Product),
        [
            {
                "sku": sku,
                "name": name,
                "price_minor": price,
                "stock": rnd.randint(5, 80),
                "description": "",
                "is_active": True,
            }
            for sku, name, price in PRODUCTS
        ],
    )
    conn.execute(
        insert(Customer),
        [
            {"email": name.lower().replace(" ", ".") + "@example.com", "name": name, "phone": ""}
            for name in NAMES
        ],
    )
    for seq in range(1, orders + 1):
        _order(conn, rnd, seq, now)


def _order(conn: Connection, rnd: random.Random, seq: int, now) -> None:
    created = now - timedelta(days=rnd.randint(0, 29), minutes=rnd.randint(0, 1440))
    customer = rnd.randrange(len(NAMES))
    picks = rnd.sample(range(len(PRODUCTS)), rnd.randint(1, 3))
    lines = [(PRODUCTS[i], i + 1, rnd.randint(1, 3)) for i in picks]
    total = sum(p[2] * qty for p, _pid, qty in lines)
    status = rnd.choice(FLOW)
    card = rnd.random() < 0.6
    # Card orders are paid when placed; cash on delivery when delivered.
    paid = status != FulfilmentStatus.NEW and (card or status == FulfilmentStatus.DELIVERED)
    if status == FulfilmentStatus.CANCELLED:
        paid = card and rnd.random() < 0.5  # then refunded
    refunded = status == FulfilmentStatus.CANCELLED and paid
    payment = (
        PaymentStatus.REFUNDED if refunded else PaymentStatus.PAID if paid else PaymentStatus.UNPAID
    )
    order_id = conn.execute(
        insert(Order).values(
            number=f"D-{seq:05d}",
            status=status,
            payment_status=payment,
            customer_id=customer + 1,
            customer_name=NAMES[customer],
            customer_email=NAMES[customer].lower().replace(" ", ".") + "@example.com",
            currency="EUR",
            subtotal_minor=total,
            total_minor=total,
            source=OrderSource.CHECKOUT,
            created_at=created,
            updated_at=created,
        )
    ).inserted_primary_key[0]
    conn.execute(
        insert(OrderLine),
        [
            {
                "order_id": order_id,
                "product_id": pid,
                "sku": p[0],
                "name": p[1],
                "quantity": qty,
                "unit_price_minor": p[2],
                "total_minor": p[2] * qty,
            }
            for p, pid, qty in lines
        ],
    )
    moves = [(pid, -qty, MovementReason.ORDER_PLACED) for _p, pid, qty in lines]
    if status == FulfilmentStatus.CANCELLED:
        moves += [(pid, qty, MovementReason.ORDER_CANCELLED) for _p, pid, qty in lines]
    conn.execute(
        insert(InventoryMovement),
        [
            {
                "product_id": pid,
                "order_id": order_id,
                "delta": delta,
                "reason": reason,
                "actor": "checkout",
                "created_at": created,
            }
            for pid, delta, reason in moves
        ],
    )
    conn.execute(
        insert(OrderEvent).values(
            order_id=order_id,
            kind=OrderEventKind.CREATED,
            actor="checkout",
            to_status=FulfilmentStatus.NEW,
            created_at=created,
        )
    )
    if paid:
        _ledger(conn, order_id, seq, total, card, refunded, created)


def _ledger(conn, order_id, seq, total, card, refunded, created) -> None:
    gateway = "sandbox" if card else "cod"
    reference = f"sbx_demo{seq:05d}" if card else f"manual-demo{seq:05d}"
    rows = [(LedgerEntryKind.PAYMENT, reference, created + timedelta(minutes=2))]
    if refunded:
        rows.append((LedgerEntryKind.REFUND, f"{reference}_r", created + timedelta(hours=5)))
    conn.execute(
        insert(Payment),
        [
            {
                "order_id": order_id,
                "gateway": gateway,
                "provider_reference": ref,
                "kind": kind,
                "status": PaymentState.SUCCEEDED,
                "amount_minor": total,
                "currency": "EUR",
                "raw": {"payment_reference": reference, "demo": True},
                "created_at": at,
            }
            for kind, ref, at in rows
        ],
    )
    conn.execute(
        insert(OrderEvent).values(
            order_id=order_id,
            kind=OrderEventKind.PAYMENT_STATUS,
            actor="system",
            from_status=PaymentStatus.UNPAID,
            to_status=PaymentStatus.PAID,
            created_at=created + timedelta(minutes=2),
        )
    )
