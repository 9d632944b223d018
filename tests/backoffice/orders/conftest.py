"""A store on MariaDB with products, for the order domain's own tests (no HTTP)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.models import InventoryMovement, OutboxEvent, Product, StoreSetting
from backoffice.orders import service
from tenancy.db import make_engine

PRODUCTS = [
    {"sku": "TEA-1", "name": "Green tea", "price_minor": 1000, "stock": 10, "is_active": True},
    {"sku": "TEA-2", "name": "Black tea", "price_minor": 500, "stock": 3, "is_active": True},
]


class Store:
    def __init__(self, engine):
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine)

    def place(self, lines=(("TEA-1", 2), ("TEA-2", 1)), **kw) -> int:
        with self.session() as db, db.begin():
            order = service.place_order(
                db,
                {
                    "lines": [{"sku": s, "quantity": q} for s, q in lines],
                    "customer": {"email": "ann@example.com", "name": "Ann"},
                },
                actor="tests",
                **kw,
            )
            return order.id

    def stock(self) -> dict[str, int]:
        with self.session() as db:
            return dict(db.execute(select(Product.sku, Product.stock)).all())

    def movements(self, order_id: int) -> list[tuple[int, str]]:
        with self.session() as db:
            return [
                (m.delta, m.reason)
                for m in db.scalars(
                    select(InventoryMovement)
                    .where(InventoryMovement.order_id == order_id)
                    .order_by(InventoryMovement.id)
                )
            ]

    def outbox(self, order_id: int) -> list[str]:
        with self.session() as db:
            return list(
                db.scalars(
                    select(OutboxEvent.kind)
                    .where(OutboxEvent.order_id == order_id)
                    .order_by(OutboxEvent.id)
                )
            )

    def set(self, key: str, value: str) -> None:
        with self.session() as db, db.begin():
            db.merge(StoreSetting(key=key, value=value))


@pytest.fixture
def store(control, make_store):
    tenant = make_store()
    engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(insert(Product), [{"description": "", **p} for p in PRODUCTS])
        conn.execute(insert(StoreSetting), [{"key": "currency", "value": "EUR"}])
    yield Store(engine)
    engine.dispose()
