"""Sample data for the demo store: products, customers, a month of orders."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from backoffice.models import Customer, Order, OrderEvent, OrderLine, Product, StoreSetting
from backoffice.models.base import utcnow

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
FLOW = ["new", "confirmed", "paid", "shipped", "delivered"]


def seed(conn: Connection, *, orders: int = 120, seed: int = 7) -> None:
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
        created = now - timedelta(days=rnd.randint(0, 29), minutes=rnd.randint(0, 1440))
        customer = rnd.randrange(len(NAMES))
        picks = rnd.sample(range(len(PRODUCTS)), rnd.randint(1, 3))
        lines = [(PRODUCTS[i], i + 1, rnd.randint(1, 3)) for i in picks]
        total = sum(p[2] * qty for p, _pid, qty in lines)
        status = rnd.choice(FLOW + ["delivered", "delivered", "cancelled"])
        paid = status in {"paid", "shipped", "delivered"}
        order_id = conn.execute(
            insert(Order).values(
                number=f"D-{seq:05d}",
                status=status,
                payment_status="paid" if paid else "unpaid",
                customer_id=customer + 1,
                customer_name=NAMES[customer],
                customer_email=NAMES[customer].lower().replace(" ", ".") + "@example.com",
                currency="EUR",
                subtotal_minor=total,
                total_minor=total,
                source="checkout",
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
        conn.execute(
            insert(OrderEvent).values(
                order_id=order_id,
                kind="created",
                actor="checkout",
                to_status="new",
                created_at=created,
            )
        )
