"""A minimal third-party gateway, shipped as its own distribution.

It shows the whole contract: a name matching the entry point, a config
schema with a secret, and a verification that fails closed.
"""

from __future__ import annotations

import hmac
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
from payments.signing import hmac_sha256_hex, require_secret


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
        secret = require_secret(settings, "secret")
        expected = hmac_sha256_hex(secret, notification.body)
        received = notification.headers.get("X-Example-Signature", "")
        if not hmac.compare_digest(expected.encode(), received.encode()):
            raise VerificationError("bad example signature")
        params = notification.params()
        return [
            GatewayEvent(
                gateway=self.name,
                kind=EventKind.PAYMENT_SUCCEEDED,
                provider_reference=params["txn"],
                payment_reference=params["txn"],
                order_reference=params["order"],
                amount=Money(int(params["amount"]), "EUR"),
                occurred_at=notification.received_at,
                raw=params,
            )
        ]
