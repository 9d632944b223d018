"""A store with products and API keys, and the whole app (make_app) on MariaDB."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from webtest import TestApp

from backoffice.apikeys.services import ApiKeyService
from backoffice.config import make_app
from backoffice.models import Product, StoreSetting
from backoffice.payments import ledger
from payments.money import Money
from tenancy.db import make_engine

PRODUCTS = [
    {"sku": "TEA-1", "name": "Green tea", "price_minor": 1250, "stock": 10, "is_active": True},
    {"sku": "TEA-2", "name": "Black tea", "price_minor": 800, "stock": 1, "is_active": True},
    {"sku": "OLD-1", "name": "Retired tea", "price_minor": 500, "stock": 5, "is_active": False},
]
TEST_SETTINGS = {
    "backoffice.api_rate_limit": "100000",
    "backoffice.api_rate_burst": "100000",
    "backoffice.webhook_allow_private": "true",
    "backoffice.webhook_retry_base": "0",
    "backoffice.webhook_timeout": "5",
}


@dataclass
class Shop:
    tenant: object
    keys: dict[str, str] = field(default_factory=dict)
    control: object = None

    @property
    def slug(self) -> str:
        return self.tenant.slug

    @property
    def host(self) -> str:
        return f"{self.tenant.slug}.shops.test"

    def headers(self, key: str = "rw", **extra) -> dict:
        return {"Host": self.host, "Authorization": f"Bearer {self.keys[key]}", **extra}


def store_engine(control, tenant):
    return make_engine(control.runtime_url(tenant), poolclass=NullPool)


def add_key(control, tenant, name: str, scopes) -> str:
    engine = store_engine(control, tenant)
    with control.session() as control_session, Session(engine) as db:
        created = ApiKeyService(control_session, db, tenant.id).create(name, scopes, "tests")
        db.commit()
        control_session.commit()
    engine.dispose()
    return created.secret


def seed(control, tenant, products=PRODUCTS, currency="EUR") -> None:
    engine = store_engine(control, tenant)
    with engine.begin() as conn:
        conn.execute(insert(Product), [{"description": "", **p} for p in products])
        conn.execute(
            insert(StoreSetting),
            [
                {"key": "currency", "value": currency},
                {"key": "order_number_format", "value": "API-{seq:05d}"},
            ],
        )
    engine.dispose()


@pytest.fixture
def make_shop(control, make_store):
    def make(**seed_kw) -> Shop:
        tenant = make_store()
        seed(control, tenant, **seed_kw)
        shop = Shop(tenant, control=control)
        shop.keys["rw"] = add_key(control, tenant, "site", ["read", "write"])
        shop.keys["read"] = add_key(control, tenant, "reader", ["read"])
        shop.keys["write"] = add_key(control, tenant, "writer", ["write"])
        return shop

    return make


@pytest.fixture
def shop(make_shop):
    return make_shop()


@pytest.fixture
def api_settings(mysql_settings):
    return {**mysql_settings, **TEST_SETTINGS}


@pytest.fixture
def app(api_settings, control):
    return TestApp(make_app(api_settings, control=control))


def record_paid(shop: Shop, order_id: int, gateway: str = "cod", amount: int | None = None):
    """Money received for the order, recorded through the ledger (as the order page does)."""
    engine = store_engine(shop.control, shop.tenant)
    with Session(engine) as db, db.begin():
        order = ledger.lock_order(db, order_id)
        money = Money(order.total_minor if amount is None else amount, order.currency)
        ledger.record_payment(db, order, money, actor="tests", gateway=gateway)
    engine.dispose()


def order_body(**overrides) -> dict:
    body = {
        "lines": [{"sku": "TEA-1", "quantity": 2}],
        "customer": {"email": "Ann@Example.com", "name": "Ann", "phone": "+1 555"},
        "shipping_address": "1 Main St",
        "locale": "en",
    }
    body.update(overrides)
    return body
