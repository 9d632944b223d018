"""One store, one app and signed-in staff shared by the tests of a module.

Creating a store costs about two seconds; the page tests share one per module
(``world`` below) and stay independent of each other by making the rows they
change themselves (``World.add_order``, unique SKUs and e-mails). Tests that
need a store of their own (throttling, sessions) use ``admin_fixtures``.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text
from webtest import TestApp

from backoffice.config import make_app
from backoffice.demo import seed
from backoffice.models import Customer, Order, OrderEvent, OrderLine
from backoffice.models.base import utcnow
from backoffice.schema import store_schema
from tenancy.provisioning import Provisioner, StoreRequest
from tests.backoffice.admin_fixtures import OWNER, Admin, add_staff, count_queries, store_engine
from tests.conftest import unique_slug

MANAGER = ("manager@example.com", "manager-pass-1")
SUPPORT = ("support@example.com", "support-pass-1")
ACCOUNTS = {"owner": OWNER, "manager": MANAGER, "support": SUPPORT}
# Tables whose checksums prove that a refused request changed nothing.
DATA_TABLES = (
    "orders",
    "order_events",
    "order_lines",
    "products",
    "customers",
    "staff_users",
    "store_settings",
    "audit_log",
    "api_keys",
    "webhook_endpoints",
    "payments",
    "gateway_configs",
)


class World:
    """A provisioned store with the demo data, its staff, and the app serving it."""

    def __init__(self, control, settings, *, demo_orders: int = 60, name: str = "Tea & Co"):
        self.control = control
        self.store = Provisioner(control, store_schema).create(
            StoreRequest(
                slug=unique_slug("adm"), name=name, owner_email=OWNER[0], owner_password=OWNER[1]
            )
        )
        self.engine = store_engine(control, self.store)
        if demo_orders:
            with self.engine.begin() as conn:
                seed(conn, orders=demo_orders)
        add_staff(control, self.store, MANAGER[0], "manager", MANAGER[1], name="Max Manager")
        add_staff(control, self.store, SUPPORT[0], "support", SUPPORT[1], name="Sue Support")
        self.wsgi = make_app(settings, control=control)
        self._seq = itertools.count(10_000)

    def client(self, role: str | None = None, **extra_environ) -> Admin:
        """A new browser (its own cookies), signed in as ``role`` unless None."""
        admin = Admin(TestApp(self.wsgi, extra_environ=extra_environ), self.store)
        if role:
            admin.login(*ACCOUNTS[role])
        return admin

    # -- rows ------------------------------------------------------------
    def add_order(
        self,
        *,
        status: str = "new",
        payment_status: str = "unpaid",
        name: str = "Test Customer",
        email: str | None = None,
        total: int = 1000,
        created_at: datetime | None = None,
        number: str | None = None,
        customer_id: int | None = None,
        lines: int = 1,
        currency: str = "EUR",
    ) -> int:
        seq = next(self._seq)
        created = created_at or utcnow() - timedelta(minutes=5)
        with self.engine.begin() as conn:
            order_id = conn.execute(
                insert(Order).values(
                    number=number or f"T-{seq}",
                    status=status,
                    payment_status=payment_status,
                    customer_id=customer_id,
                    customer_name=name,
                    customer_email=email or f"buyer{seq}@example.com",
                    currency=currency,
                    subtotal_minor=total,
                    total_minor=total,
                    source="backoffice",
                    created_at=created,
                    updated_at=created,
                )
            ).inserted_primary_key[0]
            if lines:
                conn.execute(
                    insert(OrderLine),
                    [
                        {
                            "order_id": order_id,
                            "product_id": None,
                            "sku": f"SKU-{seq}-{i}",
                            "name": f"Item {i}",
                            "quantity": 1,
                            "unit_price_minor": total // lines,
                            "total_minor": total // lines,
                        }
                        for i in range(lines)
                    ],
                )
            conn.execute(
                insert(OrderEvent).values(
                    order_id=order_id,
                    kind="created",
                    actor="checkout",
                    to_status=status,
                    created_at=created,
                )
            )
        return order_id

    def add_customer(self, name: str, email: str | None = None) -> int:
        seq = next(self._seq)
        with self.engine.begin() as conn:
            return conn.execute(
                insert(Customer).values(
                    name=name, email=email or f"customer{seq}@example.com", phone=""
                )
            ).inserted_primary_key[0]

    def scalar(self, query):
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def rows(self, query) -> list:
        with self.engine.connect() as conn:
            return conn.execute(query).all()

    def order_status(self, order_id: int) -> str:
        return self.scalar(select(Order.status).where(Order.id == order_id))

    def events(self, order_id: int) -> list:
        return self.rows(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )

    def count(self, model) -> int:
        return self.scalar(select(func.count()).select_from(model))

    def checksums(self) -> dict:
        """Live checksums of the store's data tables: equal means nothing changed."""
        with self.engine.connect() as conn:
            return dict(conn.execute(text("CHECKSUM TABLE " + ", ".join(DATA_TABLES))).all())

    # -- statements a page costs -----------------------------------------
    @contextmanager
    def queries(self):
        """The statements the app runs on this store's engine inside the block."""
        registry = self.wsgi.registry
        ref = registry.directory.by_slug(self.store.slug)
        with registry.engines.lease(ref) as engine, count_queries(engine) as statements:
            yield statements

    def dispose(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="module")
def world(mysql_control, mysql_settings):
    world = World(mysql_control, mysql_settings)
    yield world
    world.dispose()


@pytest.fixture(scope="module")
def owner_m(world):
    return world.client("owner")


@pytest.fixture(scope="module")
def manager_m(world):
    return world.client("manager")


@pytest.fixture(scope="module")
def support_m(world):
    return world.client("support")
