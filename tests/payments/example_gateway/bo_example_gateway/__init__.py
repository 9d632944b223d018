"""A minimal third-party gateway, shipped as its own distribution.

It shows the whole contract: a name matching the entry point, a config
schema with a secret, a verification that fails closed, and its tests run
through the back office's conformance kit (see ``tests/`` beside this package).
It is an example: ``example = True`` keeps it from being offered to store
owners outside the test environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments import (
    Capabilities,
    ConfigField,
    EventKind,
    Gateway,
    GatewayEvent,
    IncomingNotification,
    Money,
    PaymentRequest,
    PaymentStart,
    VerificationError,
)
from payments.signing import digests_equal, hmac_sha256_hex, require_secret

SIGNATURE_HEADER = "X-Example-Signature"


def sign(body: bytes, secret: str) -> str:
    """What the provider puts in ``X-Example-Signature`` (HMAC-SHA256 of the body)."""
    return hmac_sha256_hex(secret, body)


class ExampleGateway(Gateway):
    name = "example"
    title = "Example gateway"
    example = True  # never offered to store owners outside tests
    capabilities = Capabilities(notifications=True, currencies=frozenset({"EUR"}))
    config_schema = (
        ConfigField("checkout_url", "Checkout URL", kind="url", required=True),
        ConfigField("secret", "Shared secret", kind="secret", required=True),
    )

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        self.require_currency(request.amount.currency)
        return PaymentStart.form(
            settings["checkout_url"],
            [("order", request.order_reference), ("amount", str(request.amount.amount))],
        )

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        secret = require_secret(settings, "secret")  # fail closed
        received = notification.headers.get(SIGNATURE_HEADER, "")
        if not received or not digests_equal(sign(notification.body, secret), received):
            raise VerificationError("bad example signature")
        params = notification.params()
        try:
            txn, order, amount = params["txn"], params["order"], int(params["amount"])
        except (KeyError, ValueError):
            raise VerificationError("malformed example notification") from None
        return [
            GatewayEvent(
                gateway=self.name,
                kind=EventKind.PAYMENT_SUCCEEDED,
                provider_reference=txn,
                payment_reference=txn,
                order_reference=order,
                amount=Money(amount, "EUR"),
                occurred_at=notification.received_at,
                raw=params,
            )
        ]
