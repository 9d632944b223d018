"""A store with the sandbox gateway set up, orders, and helpers to post notifications."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from backoffice.models import Order, OrderEvent, Payment
from backoffice.payments.configs import GatewaySettings
from backoffice.payments.models import PaymentNotification
from payments.gateways import sandbox
from payments.registry import GatewayRegistry
from tests.backoffice.admin_fixtures import (  # noqa: F401  (fixtures by name)
    Admin,
    admin,
    owner,
    store,
    store_engine,
    web_app,
)
from tests.backoffice.test_cli_keys import keyed_control, old_key  # noqa: F401
from tests.payments.conftest import serve, stripe_api  # noqa: F401


class Shop:
    """One provisioned store seen from the outside: its DB and its URLs."""

    def __init__(self, control, tenant, app):
        self.control, self.tenant, self.app = control, tenant, app
        self.engine = store_engine(control, tenant)
        self.prefix = f"/s/{tenant.slug}"

    def configure(self, name: str, values: dict, *, enabled: bool = True) -> None:
        with Session(self.engine) as db, db.begin():
            settings = GatewaySettings(db, self.control.keyring, self.tenant.id, GatewayRegistry())
            settings.save(name, values)
            settings.set_enabled(name, enabled)

    def order(self, total_minor: int = 1500, currency: str = "EUR") -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(Order).values(
                    number=f"T-{datetime.now(UTC).timestamp()}",
                    currency=currency,
                    total_minor=total_minor,
                    subtotal_minor=total_minor,
                    status="new",
                    payment_status="unpaid",
                    status_token=f"tok{total_minor}x{currency}",
                )
            )
            return result.inserted_primary_key[0]

    def read(self, query):
        with Session(self.engine) as db:
            return list(db.scalars(query))

    def order_row(self, order_id: int) -> Order:
        return self.read(select(Order).where(Order.id == order_id))[0]

    def payments(self, order_id: int) -> list[Payment]:
        return self.read(select(Payment).where(Payment.order_id == order_id))

    def events(self, order_id: int) -> list[OrderEvent]:
        return self.read(select(OrderEvent).where(OrderEvent.order_id == order_id))

    def notifications(self) -> list[PaymentNotification]:
        return self.read(select(PaymentNotification).order_by(PaymentNotification.id))

    def count(self, model) -> int:
        with Session(self.engine) as db:
            return db.scalar(select(func.count()).select_from(model))

    def notify(self, gateway: str, body: bytes, headers: dict, status: int | str = "*"):
        return self.app.post(
            f"{self.prefix}/payments/notify/{gateway}", body, headers=headers, status=status
        )


SECRET_A = "sandbox-secret-of-store-a"


def checkout_for(
    order_id: int, amount: int = 1500, currency: str = "EUR", attempt: str = "a1"
) -> sandbox.SandboxCheckout:
    return sandbox.SandboxCheckout(
        order_reference=str(order_id),
        amount=amount,
        currency=currency,
        description="Order",
        return_url="https://shop.test/back",
        cancel_url="https://x.test/",
        notify_url="https://shop.test/notify",
        attempt=attempt,
        expires=int(datetime.now(UTC).timestamp()) + 3600,
    )


def signed(checkout, secret: str = SECRET_A, outcome: str = "succeeded", now=None):
    return sandbox.build_notification(checkout, outcome, secret, now or datetime.now(UTC))


@pytest.fixture
def shop(control, store, web_app):  # noqa: F811
    shop = Shop(control, store, web_app)
    shop.configure("sandbox", {"page_url": "https://pay.test/sandbox", "secret": SECRET_A})
    yield shop
    shop.engine.dispose()
