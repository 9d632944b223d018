"""One order lifecycle through every entry point: the back office's order page,
its bulk action, the store API and payment notifications move orders by the
same rules, and every change reaches a webhook receiver exactly once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from webtest import TestApp

from backoffice.config import make_app
from backoffice.models import Order, Payment, Product
from backoffice.orders import service
from backoffice.orders.enums import OrderSource
from backoffice.payments.configs import GatewaySettings
from backoffice.tasks.app import beat_schedule
from payments.registry import GatewayRegistry
from tests.backoffice.admin_fixtures import Admin
from tests.backoffice.payments.conftest import SECRET_A, checkout_for, signed
from tests.storefront.conftest import (
    PRODUCTS,
    Shop,
    add_key,
    order_body,
    record_paid,
    seed,
    store_engine,
)
from tests.storefront.test_webhooks import Receiver, add_endpoint

ALL_EVENTS = (
    "order.created",
    "order.status_changed",
    "order.paid",
    "order.refunded",
    "order.cancelled",
    "payment.failed",
)


class World:
    def __init__(self, control, tenant, app: TestApp):
        self.control, self.tenant, self.app = control, tenant, app
        self.shop = Shop(tenant, control=control)
        self.shop.keys["rw"] = add_key(control, tenant, "site", ["read", "write"])
        self.admin = Admin(app, tenant)
        self.admin.login()
        self.engine = store_engine(control, tenant)
        with Session(self.engine) as db, db.begin():
            settings = GatewaySettings(db, control.keyring, tenant.id, GatewayRegistry())
            settings.save("sandbox", {"page_url": "https://pay.test/sandbox", "secret": SECRET_A})
            settings.set_enabled("sandbox", True)

    def api_order(self) -> dict:
        return self.app.post_json("/api/v1/orders", order_body(), headers=self.shop.headers()).json

    def api_status(self, order_id: int, status: str, expect="*"):
        return self.app.post_json(
            f"/api/v1/orders/{order_id}/status",
            {"status": status},
            headers=self.shop.headers(),
            status=expect,
        )

    def order(self, order_id: int) -> Order:
        with Session(self.engine) as db:
            return db.get(Order, order_id)

    def stock(self, sku: str) -> int:
        with Session(self.engine) as db:
            return db.scalar(select(Product.stock).where(Product.sku == sku))

    def card_payment(self, order_id: int, total: int, outcome: str = "succeeded"):
        body, headers = signed(checkout_for(order_id, total), outcome=outcome)
        return self.app.post(
            f"/s/{self.tenant.slug}/payments/notify/sandbox", body, headers=headers, status="*"
        )


@pytest.fixture
def world(control, make_store, api_settings):
    tenant = make_store(owner=True)
    seed(control, tenant, products=[{**p, "stock": 100} for p in PRODUCTS])
    world = World(control, tenant, TestApp(make_app(api_settings, control=control)))
    yield world
    world.engine.dispose()


def move_through(world: World, entry: str, order_id: int, target: str) -> None:
    if entry == "api":
        world.api_status(order_id, target)
    elif entry == "page":
        world.admin.post(f"/orders/{order_id}/status", {"status": target}, status=303)
    else:
        world.admin.post("/orders/bulk", {"order": [order_id], "status": target}, status=303)


CASES = [
    # from, to, allowed by the default flow
    ("new", "confirmed", True),
    ("new", "delivered", False),
    ("new", "paid", False),  # a payment status, not a move
    ("confirmed", "shipped", True),
    ("confirmed", "new", False),
    ("shipped", "cancelled", False),
    ("shipped", "delivered", True),
    ("new", "cancelled", True),
]
PATH = {"new": [], "confirmed": ["confirmed"], "shipped": ["confirmed", "shipped"]}


@pytest.mark.parametrize("entry", ["page", "bulk", "api"])
def test_a_transition_is_refused_or_allowed_alike_from_every_entry_point(world, entry):
    for current, target, allowed in CASES:
        order_id = world.api_order()["id"]
        for step in PATH[current]:
            world.api_status(order_id, step, expect=200)
        move_through(world, entry, order_id, target)
        expected = target if allowed else current
        assert world.order(order_id).status == expected, (entry, current, target)


def test_every_change_reaches_the_receiver_once_whoever_made_it(world):
    site = Receiver()
    try:
        _id, site.secret = add_endpoint(world.control, world.shop, site.url, events=ALL_EVENTS)
        a = world.api_order()  # API: order.created
        world.api_status(a["id"], "confirmed", expect=200)  # API: status_changed
        world.admin.post(f"/orders/{a['id']}/status", {"status": "shipped"}, status=303)
        world.admin.post("/orders/bulk", {"order": [a["id"]], "status": "delivered"}, status=303)

        b = world.api_order()  # order.created
        assert world.stock("TEA-1") == 96
        assert world.card_payment(b["id"], 1, "failed").status_int == 200  # payment.failed
        world.card_payment(b["id"], b["total_minor"])  # order.paid
        world.card_payment(b["id"], b["total_minor"])  # the same notification: nothing new
        paid = world.order(b["id"])
        # A card payment changes the payment status, never the fulfilment status.
        assert (paid.status, paid.payment_status) == ("new", "paid")
        world.admin.post(f"/orders/{b['id']}/status", {"status": "cancelled"}, status=303)
        assert world.stock("TEA-1") == 98  # cancelled: its stock is back
        world.admin.post(
            f"/orders/{b['id']}/refund", {"amount": "5.00", "method": "provider"}, status=303
        )
        assert world.order(b["id"]).payment_status == "partially_refunded"
    finally:
        site.close()
    received = site.received
    assert all(r["valid"] for r in received)
    ids = [r["event_id"] for r in received]
    assert len(ids) == len(set(ids))  # one delivery per event
    assert all(r["body"]["id"] == r["event_id"] for r in received)
    assert Counter(r["body"]["type"] for r in received) == {
        "order.created": 2,
        "order.status_changed": 4,
        "payment.failed": 1,
        "order.paid": 1,
        "order.cancelled": 1,
        "order.refunded": 1,
    }
    moved = [
        (r["body"]["data"]["previous_status"], r["body"]["data"]["order"]["status"])
        for r in received
        if r["body"]["type"] == "order.status_changed"
    ]
    assert moved == [
        ("new", "confirmed"),
        ("confirmed", "shipped"),
        ("shipped", "delivered"),
        ("new", "cancelled"),
    ]
    last = received[-1]["body"]["data"]
    assert last["order"]["payment_status"] == "partially_refunded"
    assert last["refund"] == {
        "amount_minor": 500,
        "currency": "EUR",
        "method": "provider",
        "gateway": "sandbox",
    }


def test_a_cash_on_delivery_order_is_paid_and_refunded_by_hand(world):
    order = world.api_order()
    oid = order["id"]
    page = world.admin.get(f"/orders/{oid}")
    assert page.html.select_one("form[action$='/payments/record']") is not None
    assert page.html.select_one("form[action$='/refund']") is None  # nothing paid yet
    world.admin.post(f"/orders/{oid}/payments/record", {"amount": ""}, status=303)
    assert world.order(oid).payment_status == "paid"
    page = world.admin.get(f"/orders/{oid}")
    methods = [i["value"] for i in page.html.select("form[action$='/refund'] input[name=method]")]
    assert methods == ["recorded"]  # cash: no provider to refund through
    world.admin.post(
        f"/orders/{oid}/refund",
        {"amount": "30", "method": "recorded", "reason": "returned"},
        status=303,
    )
    assert world.order(oid).payment_status == "paid"  # refused: more than was paid
    world.admin.post(
        f"/orders/{oid}/refund",
        {"amount": "10", "method": "recorded", "reason": "one tin broken"},
        status=303,
    )
    res = world.admin.post(
        f"/orders/{oid}/refund", {"method": "recorded", "reason": "all returned"}, status=303
    )
    assert "Refunded" in res.follow().text
    assert world.order(oid).payment_status == "refunded"
    with Session(world.engine) as db:
        rows = db.scalars(select(Payment).where(Payment.order_id == oid)).all()
        assert [(r.kind, r.amount_minor, (r.raw or {}).get("reason")) for r in rows] == [
            ("payment.succeeded", 2500, None),
            ("refund.succeeded", 1000, "one tin broken"),
            ("refund.succeeded", 1500, "all returned"),
        ]
    api = world.app.get(f"/api/v1/orders/{oid}/refunds", headers=world.shop.headers()).json
    assert [(r["amount_minor"], r["method"]) for r in api["data"]] == [
        (1000, "recorded"),
        (1500, "recorded"),
    ]


def test_api_refunds_honour_the_idempotency_key(world):
    oid = world.api_order()["id"]
    record_paid(world.shop, oid)
    headers = world.shop.headers(**{"Idempotency-Key": "refund-1"})
    body = {"amount_minor": 700, "method": "recorded", "reason": "late"}
    first = world.app.post_json(f"/api/v1/orders/{oid}/refunds", body, headers=headers)
    again = world.app.post_json(f"/api/v1/orders/{oid}/refunds", body, headers=headers)
    assert first.status_int == again.status_int == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.body == first.body
    reused = world.app.post_json(
        f"/api/v1/orders/{oid}/refunds", {**body, "amount_minor": 1}, headers=headers, status=422
    )
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    too_much = world.app.post_json(
        f"/api/v1/orders/{oid}/refunds",
        {**body, "amount_minor": 2000},
        headers=world.shop.headers(),
        status=422,
    )
    assert too_much.json["error"]["details"] == {"refundable_minor": 1800}
    assert world.order(oid).payment_status == "partially_refunded"


def test_an_event_whose_wake_up_was_lost_is_delivered_by_the_sweep(world, api_settings):
    site = Receiver()
    try:
        _id, site.secret = add_endpoint(world.control, world.shop, site.url, events=ALL_EVENTS)
        # Committed, but no consumer was queued (as if the process died right after).
        with Session(world.engine) as db, db.begin():
            service.place_order(
                db, order_body(), actor="tests", source=OrderSource.API, message="crash"
            )
        assert site.received == []
        tasks = world.app.app.registry.celery.tasks
        tasks["webhooks.from_outbox"].apply(args=(world.tenant.id,))  # what beat's sweep queues
        tasks["webhooks.from_outbox"].apply(args=(world.tenant.id,))  # and the next sweep
    finally:
        site.close()
    assert [r["body"]["type"] for r in site.received] == ["order.created"]
    schedule = beat_schedule({**api_settings, "backoffice.outbox_sweep_seconds": "60"})
    assert schedule["outbox-sweep"] == {"task": "outbox.sweep", "schedule": 60.0}
