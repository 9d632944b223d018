"""Fixtures for the payments tests: real HTTP servers standing in for providers.

No function is patched: each provider is a small ``http.server`` on
127.0.0.1 speaking enough of its protocol, and gateways reach it through
their ``api_base``/``postback_url`` settings like they would reach the real one.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from payments.interfaces import IncomingNotification, PaymentRequest
from payments.money import Money
from payments.testing.provider import (
    LocalProvider,
    Recorded,
    Reply,
    json_reply,
    providers,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


FakeProvider = LocalProvider  # the name these tests grew up with


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Recorded], Reply]], FakeProvider]]:
    with providers() as start:
        yield start


# --- PayPal IPN postback -----------------------------------------------------


class PayPalPostback:
    """Answers VERIFIED only for messages PayPal "sent" (registered as genuine)."""

    def __init__(self) -> None:
        self.genuine: set[bytes] = set()

    def __call__(self, req: Recorded) -> Reply:
        prefix = b"cmd=_notify-validate&"
        if req.method != "POST" or not req.body.startswith(prefix):
            return 400, {}, b"bad request"
        verdict = b"VERIFIED" if req.body[len(prefix) :] in self.genuine else b"INVALID"
        return 200, {"Content-Type": "text/plain"}, verdict


@pytest.fixture
def paypal(serve) -> tuple[PayPalPostback, FakeProvider]:
    app = PayPalPostback()
    return app, serve(app)


# --- YooKassa API v3 ----------------------------------------------------------


class YooKassaApi:
    def __init__(self, shop_id: str, secret_key: str) -> None:
        token = base64.b64encode(f"{shop_id}:{secret_key}".encode()).decode()
        self.auth = f"Basic {token}"
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.by_key: dict[str, dict] = {}

    def __call__(self, req: Recorded) -> Reply:
        if req.headers.get("Authorization") != self.auth:
            return json_reply(401, {"type": "error", "code": "invalid_credentials"})
        if req.method == "POST":
            key = req.headers.get("Idempotence-Key")
            if not key:
                return json_reply(400, {"type": "error", "code": "invalid_request"})
            if key not in self.by_key:
                self.by_key[key] = self._create(req.path, json.loads(req.body))
            return json_reply(200, self.by_key[key])
        kind, _, object_id = req.path.removeprefix("/v3/").partition("/")
        found = {"payments": self.payments, "refunds": self.refunds}[kind].get(object_id)
        return json_reply(200, found) if found else json_reply(404, {"type": "error"})

    def _create(self, path: str, payload: dict) -> dict:
        object_id = str(uuid.uuid4())
        base = {
            "id": object_id,
            "amount": payload["amount"],
            "created_at": "2024-05-01T12:00:00.000Z",
        }
        if path == "/v3/refunds":
            self.refunds[object_id] = {
                **base,
                "status": "succeeded",
                "payment_id": payload["payment_id"],
            }
            return self.refunds[object_id]
        self.payments[object_id] = {
            **base,
            "status": "pending",
            "paid": False,
            "metadata": payload.get("metadata", {}),
            "confirmation": {
                "type": "redirect",
                "confirmation_url": f"https://yoomoney.ru/checkout?orderId={object_id}",
            },
        }
        return self.payments[object_id]


@pytest.fixture
def yookassa(serve) -> tuple[YooKassaApi, FakeProvider]:
    app = YooKassaApi("123456", "test_secret")
    return app, serve(app)


# --- Stripe API -----------------------------------------------------------------


class StripeApi:
    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key
        self.sessions: dict[str, dict] = {}
        self.captured: dict[str, int] = {}  # payment intent -> amount
        self.refunded: dict[str, int] = {}

    def __call__(self, req: Recorded) -> Reply:
        if req.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return json_reply(401, {"error": {"message": "Invalid API Key provided"}})
        if not req.headers.get("Idempotency-Key"):
            return json_reply(400, {"error": {"message": "missing Idempotency-Key"}})
        form = req.form()
        if req.path == "/v1/checkout/sessions":
            return self._session(form)
        if req.path == "/v1/refunds":
            return self._refund(form)
        return json_reply(404, {"error": {"message": "Unrecognized request URL"}})

    def _session(self, form: dict[str, str]) -> Reply:
        session_id = f"cs_test_{uuid.uuid4().hex}"
        self.sessions[session_id] = form
        return json_reply(
            200,
            {
                "id": session_id,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            },
        )

    def _refund(self, form: dict[str, str]) -> Reply:
        intent = form.get("payment_intent", "")
        if intent not in self.captured:
            return json_reply(400, {"error": {"message": f"No such payment_intent: '{intent}'"}})
        amount = int(form.get("amount") or self.captured[intent])
        if self.refunded.get(intent, 0) + amount > self.captured[intent]:
            return json_reply(400, {"error": {"message": "Refund amount is greater than charge"}})
        self.refunded[intent] = self.refunded.get(intent, 0) + amount
        return json_reply(
            200,
            {
                "id": f"re_{uuid.uuid4().hex[:24]}",
                "object": "refund",
                "amount": amount,
                "currency": "usd",
                "status": "succeeded",
                "payment_intent": intent,
            },
        )


@pytest.fixture
def stripe_api(serve) -> tuple[StripeApi, FakeProvider]:
    app = StripeApi("sk_test_123")
    return app, serve(app)


# --- builders --------------------------------------------------------------------


def payment_request(amount: Money, order_reference: str = "1001", **extra) -> PaymentRequest:
    fields = {
        "order_reference": order_reference,
        "amount": amount,
        "description": f"Order {order_reference}",
        "return_url": "https://shop.example/orders/1001/return",
        "cancel_url": "https://shop.example/orders/1001/cancel",
        "notify_url": "https://shop.example/payments/notify/x",
        "idempotency_key": f"order-{order_reference}-attempt-1",
        "customer_email": "buyer@example.com",
    }
    return PaymentRequest(**{**fields, **extra})


def notification(
    body: bytes = b"",
    *,
    method: str = "POST",
    headers=None,
    query_string: str = "",
    remote_addr: str = "127.0.0.1",
    received_at: datetime = NOW,
) -> IncomingNotification:
    return IncomingNotification.from_http(
        method,
        headers or {},
        body,
        query_string=query_string,
        remote_addr=remote_addr,
        received_at=received_at,
    )


@pytest.fixture
def build_request():
    return payment_request


@pytest.fixture
def build_notification():
    return notification
